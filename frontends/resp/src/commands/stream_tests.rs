//! Unit tests of `stream.rs`: ID parsing (Redis's `string2ull` rules), lowering to the expected
//! ops, deferred errors, and Redis's exact error texts for bad arguments.
use super::*;
use crate::commands::tests::{err_text, p};
use proptest::prelude::*;

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

fn stream_op(parts: &[&str]) -> StreamOp {
    match p(parts) {
        Ok(Command::Op(Op::Streams(op))) => op,
        other => panic!("{parts:?}: {other:?}"),
    }
}

const INVALID: &str = "ERR Invalid stream ID specified as stream command argument";

#[test]
fn ids_follow_string2ull() {
    assert_eq!(parse_id(b"1-2", 0, false, false), Ok((id(1, 2), true)));
    assert_eq!(parse_id(b"7", 9, false, false), Ok((id(7, 9), true)));
    assert_eq!(parse_id(b"-", 0, false, false), Ok((StreamId::MIN, true)));
    assert_eq!(parse_id(b"+", 0, false, false), Ok((StreamId::MAX, true)));
    assert_eq!(parse_id(b"5-*", 0, true, true), Ok((id(5, 0), false)));
    assert_eq!(
        parse_id(b"18446744073709551615-18446744073709551615", 0, true, false),
        Ok((StreamId::MAX, true))
    );
    // strtoull leniency: leading zeros and spaces.
    assert_eq!(parse_id(b"007-01", 0, true, false), Ok((id(7, 1), true)));
    for bad in [
        &b"-"[..],
        b"+",
        b"",
        b"x",
        b"1-x",
        b"1--1",
        b"-1",
        b"5-*",
        b"18446744073709551616-0",
        b"1-2-3",
    ] {
        assert!(parse_id(bad, 0, true, false).is_err(), "{bad:?}");
    }
    assert!(parse_id(&[b'1'; 128], 0, false, false).is_err());
}

#[test]
fn xadd_lowering() {
    let StreamOp::Add {
        id,
        fields,
        trim,
        nomkstream,
        ..
    } = stream_op(&[
        "xadd",
        "s",
        "MAXLEN",
        "~",
        "10",
        "LIMIT",
        "5",
        "NOMKSTREAM",
        "*",
        "f",
        "v",
    ])
    else {
        panic!()
    };
    assert_eq!(id, AddId::Auto);
    assert!(nomkstream);
    assert_eq!(fields.len(), 1);
    assert_eq!(
        trim,
        Some(TrimSpec {
            strategy: TrimStrategy::MaxLen(10),
            approx: true,
            limit: Some(5)
        })
    );
    let StreamOp::Add { id, trim, .. } =
        stream_op(&["xadd", "s", "minid", "=", "3-1", "4-*", "f", "v"])
    else {
        panic!()
    };
    assert_eq!(id, AddId::AutoSeq(4));
    assert_eq!(
        trim,
        Some(TrimSpec {
            strategy: TrimStrategy::MinId(id_of(3, 1)),
            approx: false,
            limit: None
        })
    );
    let StreamOp::Add { id, .. } = stream_op(&["xadd", "s", "9-9", "f", "v", "g", "w"]) else {
        panic!()
    };
    assert_eq!(id, AddId::Explicit(id_of(9, 9)));
}

fn id_of(ms: u64, seq: u64) -> StreamId {
    id(ms, seq)
}

#[test]
fn xadd_and_xtrim_errors() {
    let arity = "ERR wrong number of arguments for 'xadd' command";
    assert_eq!(err_text(&["xadd", "s", "*", "f"]), arity);
    assert_eq!(err_text(&["xadd", "s", "*", "f", "v", "g"]), arity);
    assert_eq!(err_text(&["xadd", "s", "nomkstream", "maxlen", "1"]), arity);
    assert_eq!(err_text(&["xadd", "s", "f", "v", "maxlen"]), INVALID);
    assert_eq!(
        err_text(&["xadd", "s", "0-0", "f", "v"]),
        "ERR The ID specified in XADD must be greater than 0-0"
    );
    assert_eq!(
        err_text(&["xadd", "s", "maxlen", "~", "*", "f", "v"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err_text(&["xadd", "s", "minid", "+", "*", "f", "v"]),
        INVALID
    );
    assert_eq!(
        err_text(&["xtrim", "s", "limit", "1", "x"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["xtrim", "s", "limit", "0"]),
        "ERR syntax error, XTRIM must be called with a trimming strategy"
    );
    assert_eq!(
        err_text(&["xtrim", "s", "maxlen", "1", "limit", "0"]),
        "ERR syntax error, LIMIT cannot be used without the special ~ option"
    );
}

#[test]
fn ranges_and_counts() {
    let StreamOp::Range {
        start,
        end,
        count,
        rev,
        ..
    } = stream_op(&["xrevrange", "s", "(5-0", "(2", "COUNT", "-4"])
    else {
        panic!()
    };
    assert_eq!(
        (start, end, count, rev),
        (id(2, 1), id(4, u64::MAX), Some(0), true)
    );
    assert_eq!(err_text(&["xrange", "s", "(+", "+"]), INVALID);
    assert_eq!(
        err_text(&["xrange", "s", "-", "+", "count", "1", "x"]),
        "ERR syntax error"
    );
}

#[test]
fn xread_lowering_and_errors() {
    let StreamOp::Read {
        keys,
        ids,
        count,
        block,
        group,
    } = stream_op(&[
        "xread", "COUNT", "2", "BLOCK", "0", "STREAMS", "a", "b", "$", "1-1",
    ])
    else {
        panic!()
    };
    assert_eq!(keys.len(), 2);
    assert_eq!(ids, vec![ReadId::Last, ReadId::After(id(1, 1))]);
    assert_eq!((count, block, group), (2, Some(0), None));
    let StreamOp::Read { ids, group, .. } = stream_op(&[
        "xreadgroup",
        "GROUP",
        "g",
        "c",
        "NOACK",
        "STREAMS",
        "a",
        ">",
    ]) else {
        panic!()
    };
    assert_eq!(ids, vec![ReadId::New]);
    assert!(group.is_some_and(|g| g.noack));
    // Per-stream ID errors are deferred to the engine.
    let StreamOp::Read { ids, .. } = stream_op(&["xread", "STREAMS", "a", ">"]) else {
        panic!()
    };
    assert!(matches!(ids[0], ReadId::Invalid(_)));
    assert_eq!(
        err_text(&[
            "xreadgroup",
            "COUNT",
            "1",
            "BLOCK",
            "1",
            "STREAMS",
            "a",
            ">"
        ]),
        "ERR Missing GROUP option for XREADGROUP"
    );
    assert_eq!(
        err_text(&["xread", "BLOCK", "-1", "STREAMS", "a", "0"]),
        "ERR timeout is negative"
    );
    assert_eq!(
        err_text(&["xread", "STREAMS", "a", "b", "0"]),
        "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
    );
    assert_eq!(
        err_text(&["xread", "COUNT", "1", "BLOCK", "1"]),
        "ERR syntax error"
    );
}

#[test]
fn group_and_claim_lowering() {
    let StreamOp::GroupCreate {
        start,
        mkstream,
        entries_read,
        late_err,
        ..
    } = stream_op(&[
        "xgroup",
        "create",
        "s",
        "g",
        "$",
        "MKSTREAM",
        "ENTRIESREAD",
        "5",
    ])
    else {
        panic!()
    };
    assert_eq!(
        (start, mkstream, entries_read, late_err),
        (GroupStart::Last, true, 5, None)
    );
    let StreamOp::GroupCreate { start, .. } = stream_op(&["xgroup", "create", "s", "g", "bad"])
    else {
        panic!()
    };
    assert!(matches!(start, GroupStart::Id(Err(_))));
    assert_eq!(
        err_text(&["xgroup", "setid", "s", "g", "0", "mkstream"]),
        "ERR unknown subcommand or wrong number of arguments for 'setid'. Try XGROUP HELP."
    );
    let StreamOp::Claim { args, .. } = stream_op(&[
        "xclaim",
        "s",
        "g",
        "c",
        "10",
        "1-1",
        "2-2",
        "IDLE",
        "5",
        "TIME",
        "7",
        "RETRYCOUNT",
        "3",
        "FORCE",
        "JUSTID",
        "LASTID",
        "9-9",
    ]) else {
        panic!()
    };
    assert_eq!(
        args,
        Ok(ClaimArgs {
            min_idle: 10,
            ids: vec![id(1, 1), id(2, 2)],
            delivery: Some(Delivery::Time(7)),
            retry_count: Some(3),
            force: true,
            justid: true,
            last_id: Some(id(9, 9)),
        })
    );
    let StreamOp::Claim { args, .. } = stream_op(&["xclaim", "s", "g", "c", "0", "1-1", "bad"])
    else {
        panic!()
    };
    assert_eq!(
        args,
        Err(OpError::Other(
            "ERR Unrecognized XCLAIM option 'bad'".into()
        ))
    );
    let StreamOp::AutoClaim {
        start,
        count,
        justid,
        ..
    } = stream_op(&[
        "xautoclaim",
        "s",
        "g",
        "c",
        "0",
        "(1-1",
        "COUNT",
        "3",
        "JUSTID",
    ])
    else {
        panic!()
    };
    assert_eq!((start, count, justid), (id(1, 2), 3, true));
    assert_eq!(
        err_text(&["xautoclaim", "s", "g", "c", "0", "0", "count", "x"]),
        "ERR COUNT must be > 0"
    );
    let StreamOp::Pending { range, .. } =
        stream_op(&["xpending", "s", "g", "IDLE", "100", "-", "+", "5", "alice"])
    else {
        panic!()
    };
    let r = range.expect("extended form");
    assert_eq!((r.min_idle, r.count, r.consumer.is_some()), (100, 5, true));
    assert_eq!(err_text(&["xpending", "s", "g", "-"]), "ERR syntax error");
    assert_eq!(
        err_text(&["xpending", "s", "g", "idle", "1", "-", "+"]),
        "ERR syntax error"
    );
}

#[test]
fn setid_and_info_lowering() {
    let StreamOp::SetId {
        id: i,
        entries_added,
        max_deleted,
        ..
    } = stream_op(&[
        "xsetid",
        "s",
        "5-5",
        "ENTRIESADDED",
        "9",
        "MAXDELETEDID",
        "3-3",
    ])
    else {
        panic!()
    };
    assert_eq!(
        (i, entries_added, max_deleted),
        (id(5, 5), Some(9), Some(id(3, 3)))
    );
    assert_eq!(
        err_text(&["xsetid", "s", "5-5", "entriesadded"]),
        "ERR syntax error"
    );
    let StreamOp::InfoStream { full, .. } =
        stream_op(&["xinfo", "stream", "s", "full", "count", "-1"])
    else {
        panic!()
    };
    assert_eq!(full, Ok(Some(10)));
    let StreamOp::InfoStream { full, .. } = stream_op(&["xinfo", "stream", "s", "full", "x"])
    else {
        panic!()
    };
    assert!(full.is_err());
    assert!(matches!(
        stream_op(&["xinfo", "help"]),
        StreamOp::Help { cmd: "XINFO", .. }
    ));
}

proptest! {
    #[test]
    fn parsers_never_panic(args in proptest::collection::vec("[-+*$>(~=0-9a-zA-Z]{0,6}", 0..12)) {
        for cmd in ["xadd", "xtrim", "xrange", "xread", "xreadgroup", "xclaim", "xautoclaim",
                    "xpending", "xsetid", "xack", "xdel"] {
            let mut parts = vec![cmd, "k"];
            parts.extend(args.iter().map(String::as_str));
            let _ = p(&parts);
        }
        let mut parts = vec!["xgroup", "create", "k", "g"];
        parts.extend(args.iter().map(String::as_str));
        let _ = p(&parts);
        let _ = parse_id(args.concat().as_bytes(), 0, false, true);
    }
}
