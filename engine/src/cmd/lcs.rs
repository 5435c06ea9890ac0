//! LCS: the longest common subsequence of two strings, with Redis 7's reply shapes (the string,
//! LEN, or the IDX map of `matches`/`len`). [`lcs`] works on plain byte slices so the server
//! can also run it on values fetched from two different shards.
//!
//! The dynamic-programming table is (|a|+1)×(|b|+1) u32 cells; like Redis, a table larger than
//! `proto_max_bulk_len` bytes is refused instead of allocated.

use bytes::Bytes;

use super::Exec;
use crate::ir::{LcsMode, OpError, Reply};

/// Runs LCS on two values. `max_alloc` is the table-size limit in bytes (`proto_max_bulk_len`).
pub fn lcs(a: &[u8], b: &[u8], mode: LcsMode, max_alloc: u64) -> Reply {
    if a.len() as u64 >= u64::from(u32::MAX - 1) || b.len() as u64 >= u64::from(u32::MAX - 1) {
        return Reply::Err(OpError::Other("ERR String too long for LCS".into()));
    }
    let cells = (a.len() as u64 + 1).saturating_mul(b.len() as u64 + 1);
    if cells.saturating_mul(4) > max_alloc || usize::try_from(cells).is_err() {
        return Reply::Err(OpError::Other(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len".into(),
        ));
    }
    let width = b.len() + 1;
    let mut table = vec![0u32; cells as usize];
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            table[i * width + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    let total = table[a.len() * width + b.len()];
    match mode {
        LcsMode::Len => Reply::Int(i64::from(total)),
        LcsMode::String => Reply::Bulk(Bytes::from(walk(a, b, &table, total, None).0)),
        LcsMode::Idx {
            min_match_len,
            with_match_len,
        } => {
            let (_, matches) = walk(a, b, &table, total, Some((min_match_len, with_match_len)));
            Reply::Map(vec![
                (Reply::bulk(b"matches"), Reply::Array(matches)),
                (Reply::bulk(b"len"), Reply::Int(i64::from(total))),
            ])
        }
    }
}

fn pair(x: usize, y: usize) -> Reply {
    Reply::Array(vec![Reply::Int(x as i64), Reply::Int(y as i64)])
}

/// Walks the table back from the end, building the subsequence and, when `idx` is given
/// (`min_match_len`, `with_match_len`), the matching ranges from last to first, exactly in
/// Redis's order.
fn walk(
    a: &[u8],
    b: &[u8],
    table: &[u32],
    total: u32,
    idx: Option<(u64, bool)>,
) -> (Vec<u8>, Vec<Reply>) {
    let width = b.len() + 1;
    let mut result = vec![0u8; total as usize];
    let mut pos = total as usize;
    let mut matches = Vec::new();
    // Current range in a and b; `None` means no range is open.
    let mut range: Option<(usize, usize, usize, usize)> = None;
    let (mut i, mut j) = (a.len(), b.len());
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            pos -= 1;
            result[pos] = a[i - 1];
            range = match range {
                None => Some((i - 1, i - 1, j - 1, j - 1)),
                Some((a_start, a_end, b_start, b_end)) if a_start == i && b_start == j => {
                    Some((a_start - 1, a_end, b_start - 1, b_end))
                }
                Some(r) => {
                    emit = true;
                    Some(r)
                }
            };
            if range.is_some_and(|(a_start, _, b_start, _)| a_start == 0 || b_start == 0) {
                emit = true;
            }
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * width + j] > table[i * width + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            emit = range.is_some();
        }
        if emit {
            if let (Some((a_start, a_end, b_start, b_end)), Some((min_len, with_len))) =
                (range, idx)
            {
                let match_len = (a_end - a_start + 1) as u64;
                if min_len == 0 || match_len >= min_len {
                    let mut item = vec![pair(a_start, a_end), pair(b_start, b_end)];
                    if with_len {
                        item.push(Reply::Int(match_len as i64));
                    }
                    matches.push(Reply::Array(item));
                }
            }
            range = None;
        }
    }
    (result, matches)
}

pub(super) fn lcs_keys(x: &mut Exec<'_>, key_a: &[u8], key_b: &[u8], mode: LcsMode) -> Reply {
    let mut fetch = |key: &[u8]| -> Result<Vec<u8>, ()> {
        match x.read(key) {
            None => Ok(Vec::new()),
            Some(e) => e.string_value().map(|v| v.to_vec()).ok_or(()),
        }
    };
    let (a, b) = (fetch(key_a), fetch(key_b));
    match (a, b) {
        (Ok(a), Ok(b)) => lcs(&a, &b, mode, x.config.proto_max_bulk_len),
        _ => Reply::Err(OpError::Other(
            "ERR The specified keys must contain string values".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::lcs;
    use crate::cmd::testutil::*;
    use crate::ir::{LcsMode, Op, Reply};

    const LIMIT: u64 = 512 << 20;

    fn range(a: (i64, i64), b: (i64, i64), len: Option<i64>) -> Reply {
        let mut v = vec![
            Reply::Array(vec![Reply::Int(a.0), Reply::Int(a.1)]),
            Reply::Array(vec![Reply::Int(b.0), Reply::Int(b.1)]),
        ];
        v.extend(len.map(Reply::Int));
        Reply::Array(v)
    }

    #[test]
    fn string_and_len() {
        assert_eq!(
            lcs(b"ohmytext", b"mynewtext", LcsMode::String, LIMIT),
            bulk("mytext")
        );
        assert_eq!(
            lcs(b"ohmytext", b"mynewtext", LcsMode::Len, LIMIT),
            Reply::Int(6)
        );
        assert_eq!(lcs(b"", b"abc", LcsMode::String, LIMIT), bulk(""));
    }

    #[test]
    fn idx_matches_redis_example() {
        let r = lcs(
            b"ohmytext",
            b"mynewtext",
            LcsMode::Idx {
                min_match_len: 0,
                with_match_len: false,
            },
            LIMIT,
        );
        let expected = Reply::Map(vec![
            (
                bulk("matches"),
                Reply::Array(vec![
                    range((4, 7), (5, 8), None),
                    range((2, 3), (0, 1), None),
                ]),
            ),
            (bulk("len"), Reply::Int(6)),
        ]);
        assert_eq!(r, expected);
        let r = lcs(
            b"ohmytext",
            b"mynewtext",
            LcsMode::Idx {
                min_match_len: 4,
                with_match_len: true,
            },
            LIMIT,
        );
        let expected = Reply::Map(vec![
            (
                bulk("matches"),
                Reply::Array(vec![range((4, 7), (5, 8), Some(4))]),
            ),
            (bulk("len"), Reply::Int(6)),
        ]);
        assert_eq!(r, expected);
    }

    #[test]
    fn limits_and_keys() {
        assert!(lcs(b"abcd", b"abcd", LcsMode::Len, 10).is_err());
        let mut t = T::new();
        t.set("a", "ohmytext");
        t.set("b", "mynewtext");
        assert_eq!(
            t.run(Op::Lcs {
                key_a: b("a"),
                key_b: b("b"),
                mode: LcsMode::String
            }),
            bulk("mytext")
        );
        assert_eq!(
            t.run(Op::Lcs {
                key_a: b("a"),
                key_b: b("zz"),
                mode: LcsMode::Len
            }),
            Reply::Int(0)
        );
        t.put_non_string("h");
        assert!(
            t.run(Op::Lcs {
                key_a: b("a"),
                key_b: b("h"),
                mode: LcsMode::Len
            })
            .is_err()
        );
    }
}
