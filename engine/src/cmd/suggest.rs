//! Execution of FT.SUGADD / FT.SUGGET / FT.SUGDEL / FT.SUGLEN against a suggestion dictionary
//! key (`LargeValue::Suggest`), following RediSearch's `suggest.c`: a missing key reads as an
//! empty dictionary, another type answers WRONGTYPE, SUGADD creates the key, SUGDEL deletes
//! it when it empties. RediSearch raises no keyspace events for these commands; neither does
//! Moon.
//!
//! Invariants: a stored dictionary is never empty (an SUGADD that inserts nothing into a
//! missing key creates no key); a dictionary is only mutated inside `Db::update`, so memory
//! accounting stays exact.

use bytes::Bytes;
use moon_text::Suggestions;
use moon_text::suggest::MAX_PREFIX_BYTES;

use super::Exec;
use crate::ir::ops::SuggestOp;
use crate::ir::{OpError, Reply};
use crate::keyspace::{Entry, LargeValue};

pub(crate) fn execute(x: &mut Exec<'_>, op: &SuggestOp) -> Reply {
    match op {
        SuggestOp::Add {
            key,
            text,
            score,
            incr,
            payload,
        } => add(x, key, text, *score, *incr, payload.as_deref()),
        SuggestOp::Get {
            key,
            prefix,
            fuzzy,
            max,
            with_scores,
            with_payloads,
        } => get(x, key, prefix, *fuzzy, *max, *with_scores, *with_payloads),
        SuggestOp::Del { key, text } => del(x, key, text),
        SuggestOp::Len { key } => match read(x, key) {
            Ok(s) => Reply::Int(s.map_or(0, Suggestions::len) as i64),
            Err(e) => e.into(),
        },
    }
}

fn as_sug(e: &Entry) -> Option<&Suggestions> {
    match e.value() {
        Some(LargeValue::Suggest(s)) => Some(s),
        _ => None,
    }
}

fn read<'a>(x: &'a mut Exec<'_>, key: &[u8]) -> Result<Option<&'a Suggestions>, OpError> {
    match x.read(key) {
        None => Ok(None),
        Some(e) => as_sug(e).map(Some).ok_or(OpError::WrongType),
    }
}

/// Runs `f` on the stored dictionary; `None` if the key is missing.
fn write<R>(
    x: &mut Exec<'_>,
    key: &[u8],
    f: impl FnOnce(&mut Suggestions) -> R,
) -> Option<Result<(R, bool), OpError>> {
    let touch = x.touch_secs();
    let now = x.now_ms;
    x.db().update(key, now, |e| {
        if let Some(t) = touch {
            e.touch(t);
        }
        match e.value_mut() {
            Some(LargeValue::Suggest(s)) => {
                let r = f(s);
                Ok((r, s.is_empty()))
            }
            _ => Err(OpError::WrongType),
        }
    })
}

fn add(
    x: &mut Exec<'_>,
    key: &[u8],
    text: &[u8],
    score: Option<f64>,
    incr: bool,
    payload: Option<&[u8]>,
) -> Reply {
    if let Some(e) = x.write_lookup(key)
        && as_sug(e).is_none()
    {
        return OpError::WrongType.into();
    }
    let Some(score) = score else {
        return OpError::Other("ERR invalid score".into()).into();
    };
    let text = String::from_utf8_lossy(text);
    match write(x, key, |s| {
        s.add(&text, score, incr, payload);
        s.len()
    }) {
        Some(Ok((n, _))) => Reply::Int(n as i64),
        Some(Err(e)) => e.into(),
        None => {
            let mut s = Suggestions::new();
            if !s.add(&text, score, incr, payload) {
                return Reply::Int(0);
            }
            let now_secs = x.now_secs;
            let entry = Entry::new_value(key, LargeValue::Suggest(Box::new(s)), None, now_secs);
            x.db().insert(entry);
            Reply::Int(1)
        }
    }
}

fn del(x: &mut Exec<'_>, key: &[u8], text: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(text);
    match write(x, key, |s| s.del(&text)) {
        None => Reply::Int(0),
        Some(Err(e)) => e.into(),
        Some(Ok((deleted, empty))) => {
            if empty {
                let now = x.now_ms;
                x.db().remove(key, now);
            }
            Reply::Int(i64::from(deleted))
        }
    }
}

fn get(
    x: &mut Exec<'_>,
    key: &[u8],
    prefix: &[u8],
    fuzzy: bool,
    max: usize,
    with_scores: bool,
    with_payloads: bool,
) -> Reply {
    // RediSearch checks the length before the options and the key.
    if prefix.len() >= MAX_PREFIX_BYTES {
        return OpError::Other("Invalid query length".into()).into();
    }
    let s = match read(x, key) {
        Ok(Some(s)) => s,
        Ok(None) => return Reply::Array(Vec::new()),
        Err(e) => return e.into(),
    };
    let Some(hits) = s.get(&String::from_utf8_lossy(prefix), fuzzy, max) else {
        return OpError::Other("Invalid query".into()).into();
    };
    let mut out = Vec::with_capacity(
        hits.len() * (1 + usize::from(with_scores) + usize::from(with_payloads)),
    );
    for h in hits {
        out.push(Reply::Bulk(Bytes::from(h.text)));
        if with_scores {
            out.push(Reply::Double(h.score));
        }
        if with_payloads {
            out.push(
                h.payload
                    .map_or(Reply::Nil, |p| Reply::Bulk(Bytes::from(p))),
            );
        }
    }
    Reply::Array(out)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use crate::ir::ops::SuggestOp;
    use crate::ir::{ExecCtx, Op, OpError, Reply};
    use crate::shard::{Shard, ShardConfig};

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn run(s: &mut Shard, op: SuggestOp) -> Reply {
        let ctx = ExecCtx {
            db: 0,
            now_ms: 1_700_000_000_000,
            no_touch: false,
        };
        s.apply(&ctx, &Op::Suggest(op))
    }

    fn add(key: &str, text: &str, score: f64) -> SuggestOp {
        SuggestOp::Add {
            key: b(key),
            text: b(text),
            score: Some(score),
            incr: false,
            payload: None,
        }
    }

    fn get(key: &str, prefix: &str) -> SuggestOp {
        SuggestOp::Get {
            key: b(key),
            prefix: b(prefix),
            fuzzy: false,
            max: 5,
            with_scores: false,
            with_payloads: true,
        }
    }

    #[test]
    fn add_get_del_and_types() {
        let mut s = Shard::new(0, ShardConfig::default());
        assert_eq!(run(&mut s, add("ac", "hello", 1.0)), Reply::Int(1));
        assert_eq!(run(&mut s, add("ac", "help", 2.0)), Reply::Int(2));
        assert_eq!(run(&mut s, add("ac", "", 2.0)), Reply::Int(2));
        assert_eq!(run(&mut s, add("none", "", 2.0)), Reply::Int(0));
        assert_eq!(
            run(&mut s, SuggestOp::Len { key: b("none") }),
            Reply::Int(0)
        );
        assert_eq!(
            run(&mut s, get("ac", "hel")),
            Reply::Array(vec![
                Reply::bulk(b"help"),
                Reply::Nil,
                Reply::bulk(b"hello"),
                Reply::Nil
            ])
        );
        let invalid = SuggestOp::Add {
            key: b("ac"),
            text: b("x"),
            score: None,
            incr: false,
            payload: None,
        };
        assert_eq!(
            run(&mut s, invalid),
            Reply::Err(OpError::Other("ERR invalid score".into()))
        );
        let del = |t: &str| SuggestOp::Del {
            key: b("ac"),
            text: b(t),
        };
        assert_eq!(run(&mut s, del("hello")), Reply::Int(1));
        assert_eq!(run(&mut s, del("hello")), Reply::Int(0));
        assert_eq!(run(&mut s, del("help")), Reply::Int(1));
        assert_eq!(run(&mut s, SuggestOp::Len { key: b("ac") }), Reply::Int(0));
        assert_eq!(run(&mut s, get("ac", "h")), Reply::Array(vec![]));
        // another type
        s.apply(
            &ExecCtx {
                db: 0,
                now_ms: 1_700_000_000_000,
                no_touch: false,
            },
            &Op::Set {
                key: b("str"),
                value: b("v"),
                cond: crate::ir::SetCond::Always,
                expire: crate::ir::ExpireSpec::Clear,
                get: false,
            },
        );
        assert_eq!(
            run(&mut s, add("str", "x", 1.0)),
            Reply::Err(OpError::WrongType)
        );
        assert_eq!(run(&mut s, get("str", "x")), Reply::Err(OpError::WrongType));
    }
}
