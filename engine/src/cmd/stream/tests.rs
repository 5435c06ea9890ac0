//! Unit tests of the stream commands on a shard with an injected clock: ID generation from
//! `now_ms`, error precedence, consumer-group state (PEL, last-delivered ID, entries-read,
//! idle times), and `prepare_block`.

use bytes::Bytes;

use crate::cmd::testutil::{NOW, T, b, bulk};
use crate::ir::ops::StreamOp;
use crate::ir::ops::stream::{AddId, ClaimArgs, GroupStart, ReadGroup, ReadId};
use crate::ir::{ExecCtx, Op, OpError, Reply};
use crate::types::stream::StreamId;

fn s(op: StreamOp) -> Op {
    Op::Streams(op)
}

fn xadd(key: &str, id: AddId, fields: &[(&str, &str)]) -> Op {
    s(StreamOp::Add {
        key: b(key),
        nomkstream: false,
        id,
        fields: fields.iter().map(|(f, v)| (b(f), b(v))).collect(),
        trim: None,
    })
}

fn explicit(ms: u64, seq: u64) -> AddId {
    AddId::Explicit(StreamId::new(ms, seq))
}

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

fn entry(id: &str, fields: &[&str]) -> Reply {
    Reply::Array(vec![
        bulk(id),
        Reply::Array(fields.iter().map(|f| bulk(f)).collect()),
    ])
}

fn group_read(key: &str, consumer: &str, rid: ReadId, count: u64) -> Op {
    s(StreamOp::Read {
        keys: vec![b(key)],
        ids: vec![rid],
        count,
        block: None,
        group: Some(ReadGroup {
            group: b("g"),
            consumer: b(consumer),
            noack: false,
        }),
    })
}

fn err_text(r: &Reply) -> String {
    match r {
        Reply::Err(OpError::Other(t)) => t.clone(),
        Reply::Err(e) => format!("{e:?}"),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn xadd_generates_ids_from_the_injected_clock() {
    let mut t = T::new();
    let now = format!("{NOW}-0");
    assert_eq!(t.run(xadd("s", AddId::Auto, &[("f", "v")])), bulk(&now));
    assert_eq!(
        t.run(xadd("s", AddId::Auto, &[("f", "v")])),
        bulk(&format!("{NOW}-1"))
    );
    t.advance(5);
    assert_eq!(
        t.run(xadd("s", AddId::Auto, &[("f", "v")])),
        bulk(&format!("{}-0", NOW + 5))
    );
    assert_eq!(
        t.run(xadd("s", AddId::AutoSeq(NOW + 5), &[("f", "v")])),
        bulk(&format!("{}-1", NOW + 5))
    );
    let small = t.run(xadd("s", explicit(1, 1), &[("f", "v")]));
    assert_eq!(
        err_text(&small),
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    );
    assert_eq!(t.run(s(StreamOp::Len { key: b("s") })), Reply::Int(4));
}

#[test]
fn xadd_exhausted_and_wrongtype_and_nomkstream() {
    let mut t = T::new();
    assert_eq!(
        t.run(xadd("s", explicit(u64::MAX, u64::MAX), &[("f", "v")])),
        bulk("18446744073709551615-18446744073709551615")
    );
    assert_eq!(
        err_text(&t.run(xadd("s", AddId::Auto, &[("f", "v")]))),
        "ERR The stream has exhausted the last possible ID, unable to add more items"
    );
    t.set("str", "x");
    assert_eq!(
        t.run(xadd("str", AddId::Auto, &[("f", "v")])),
        Reply::Err(OpError::WrongType)
    );
    let op = s(StreamOp::Add {
        key: b("none"),
        nomkstream: true,
        id: AddId::Auto,
        fields: vec![(b("f"), b("v"))],
        trim: None,
    });
    assert_eq!(t.run(op), Reply::Nil);
    assert_eq!(t.run(s(StreamOp::Len { key: b("none") })), Reply::Int(0));
}

#[test]
fn groups_deliver_track_and_claim() {
    let mut t = T::new();
    for i in 1..=3 {
        t.run(xadd("s", explicit(i, 0), &[("n", &i.to_string())]));
    }
    let create = s(StreamOp::GroupCreate {
        key: b("s"),
        group: b("g"),
        start: GroupStart::Id(Ok(StreamId::MIN)),
        mkstream: false,
        entries_read: -1,
        late_err: None,
    });
    assert_eq!(t.run(create.clone()), Reply::Ok);
    assert_eq!(
        err_text(&t.run(create)),
        "BUSYGROUP Consumer Group name already exists"
    );
    let got = t.run(group_read("s", "alice", ReadId::New, 2));
    assert_eq!(
        got,
        Reply::MapArrays(vec![(
            bulk("s"),
            Reply::Array(vec![entry("1-0", &["n", "1"]), entry("2-0", &["n", "2"])])
        )])
    );
    // History replay of alice's PEL; bob has none.
    let hist = t.run(group_read("s", "alice", ReadId::After(StreamId::MIN), 0));
    assert!(
        matches!(&hist, Reply::MapArrays(v) if matches!(&v[0].1, Reply::Array(e) if e.len() == 2))
    );
    let bob = t.run(group_read("s", "bob", ReadId::After(StreamId::MIN), 0));
    assert_eq!(
        bob,
        Reply::MapArrays(vec![(bulk("s"), Reply::Array(vec![]))])
    );
    t.advance(1000);
    let claim = s(StreamOp::Claim {
        key: b("s"),
        group: b("g"),
        consumer: b("bob"),
        args: Ok(ClaimArgs {
            min_idle: 500,
            ids: vec![id(1, 0), id(3, 0)],
            delivery: None,
            retry_count: None,
            force: false,
            justid: true,
            last_id: None,
        }),
    });
    assert_eq!(t.run(claim), Reply::Array(vec![bulk("1-0")]));
    let ack = s(StreamOp::Ack {
        key: b("s"),
        group: b("g"),
        ids: Ok(vec![id(1, 0), id(1, 0), id(9, 0)]),
    });
    assert_eq!(t.run(ack), Reply::Int(1));
    let summary = t.run(s(StreamOp::Pending {
        key: b("s"),
        group: b("g"),
        range: None,
    }));
    assert_eq!(
        summary,
        Reply::Array(vec![
            Reply::Int(1),
            bulk("2-0"),
            bulk("2-0"),
            Reply::Array(vec![Reply::Array(vec![bulk("alice"), bulk("1")])])
        ])
    );
    // Deleted entries vanish from the PEL on XAUTOCLAIM and are reported.
    t.run(s(StreamOp::Del {
        key: b("s"),
        ids: Ok(vec![id(2, 0)]),
    }));
    let auto = t.run(s(StreamOp::AutoClaim {
        key: b("s"),
        group: b("g"),
        consumer: b("bob"),
        min_idle: 0,
        start: StreamId::MIN,
        count: 10,
        justid: false,
    }));
    assert_eq!(
        auto,
        Reply::Array(vec![
            bulk("0-0"),
            Reply::Array(vec![]),
            Reply::Array(vec![bulk("2-0")])
        ])
    );
}

#[test]
fn xreadgroup_errors_come_in_redis_order() {
    let mut t = T::new();
    t.run(xadd("s", explicit(1, 0), &[("f", "v")]));
    let r = t.run(group_read("s", "c", ReadId::New, 0));
    assert_eq!(
        err_text(&r),
        "NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option"
    );
    t.set("str", "x");
    let op = s(StreamOp::Read {
        keys: vec![b("str"), b("s")],
        ids: vec![ReadId::Last, ReadId::Invalid(OpError::Syntax)],
        count: 0,
        block: None,
        group: None,
    });
    assert_eq!(t.run(op), Reply::Err(OpError::WrongType));
}

#[test]
fn prepare_block_pins_dollar_to_the_last_id() {
    let mut t = T::new();
    t.run(xadd("s", explicit(7, 3), &[("f", "v")]));
    let mut op = s(StreamOp::Read {
        keys: vec![b("s"), b("missing")],
        ids: vec![ReadId::Last, ReadId::Last],
        count: 0,
        block: Some(0),
        group: None,
    });
    assert_eq!(t.run(op.clone()), Reply::NilArray);
    let ctx = ExecCtx {
        db: 0,
        now_ms: t.now,
        no_touch: false,
    };
    t.shard.prepare_block(&ctx, &mut op);
    let Op::Streams(StreamOp::Read { ids, .. }) = &op else {
        panic!("{op:?}");
    };
    assert_eq!(
        ids,
        &vec![ReadId::After(id(7, 3)), ReadId::After(StreamId::MIN)]
    );
    t.run(xadd("s", explicit(8, 0), &[("f", "w")]));
    assert_eq!(
        t.run(op),
        Reply::MapArrays(vec![(
            bulk("s"),
            Reply::Array(vec![entry("8-0", &["f", "w"])])
        )])
    );
}

#[test]
fn xinfo_stream_counts() {
    let mut t = T::new();
    for i in 1..=3 {
        t.run(xadd("s", explicit(i, 0), &[("f", "v")]));
    }
    t.run(s(StreamOp::Del {
        key: b("s"),
        ids: Ok(vec![id(2, 0)]),
    }));
    let Reply::Map(info) = t.run(s(StreamOp::InfoStream {
        key: b("s"),
        full: Ok(None),
    })) else {
        panic!("not a map");
    };
    let get = |k: &str| {
        info.iter()
            .find(|(n, _)| *n == Reply::Bulk(Bytes::copy_from_slice(k.as_bytes())))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("length"), Some(Reply::Int(2)));
    assert_eq!(get("entries-added"), Some(Reply::Int(3)));
    assert_eq!(get("max-deleted-entry-id"), Some(bulk("2-0")));
    assert_eq!(get("first-entry"), Some(entry("1-0", &["f", "v"])));
    assert_eq!(get("last-entry"), Some(entry("3-0", &["f", "v"])));
    assert_eq!(
        t.run(s(StreamOp::InfoStream {
            key: b("nokey"),
            full: Ok(None)
        })),
        Reply::Err(OpError::NoSuchKey)
    );
}
