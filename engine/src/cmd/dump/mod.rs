//! DUMP and RESTORE (Redis's `dumpCommand` / `restoreCommand` in cluster.c): a key's value as a
//! DUMP payload and back. The byte codecs live in `moon_formats::rdb`; [`codec`] converts
//! between them and Moon's values.
//!
//! RESTORE checks in Redis's order: options (parsed in the front-end), BUSYKEY, the TTL
//! argument, the payload footer, the object; then it replaces the old key, drops a value
//! whose TTL is already in the past (answering OK, with a `del` event if it replaced a key),
//! sets IDLETIME/FREQ and raises the `restore` event.

pub mod codec;
pub mod graph;
mod stream;
pub mod suggest;
#[cfg(test)]
pub(crate) mod tests;

use bytes::Bytes;

use super::Exec;
use crate::ir::ops::DumpOp;
use crate::ir::{OpError, Reply};
use crate::keyspace::entry::Entry;
use crate::keyspace::lfu;
use crate::notify::class;
use codec::Decoded;

pub(crate) fn execute(x: &mut Exec<'_>, op: &DumpOp) -> Reply {
    match op {
        DumpOp::Dump { key } => dump(x, key),
        DumpOp::Restore {
            key,
            ttl,
            payload,
            replace,
            abs_ttl,
            idle_secs,
            freq,
        } => restore(
            x,
            key,
            Restore {
                ttl: *ttl,
                payload,
                replace: *replace,
                abs_ttl: *abs_ttl,
                idle_secs: *idle_secs,
                freq: *freq,
            },
        ),
    }
}

fn dump(x: &mut Exec<'_>, key: &[u8]) -> Reply {
    match x.read(key) {
        None => Reply::Nil,
        Some(e) => match codec::dump_payload(e) {
            Some(payload) => Reply::Bulk(Bytes::from(payload)),
            None => OpError::Other("ERR DUMP of this value is not supported".into()).into(),
        },
    }
}

struct Restore<'a> {
    ttl: Option<i64>,
    payload: &'a [u8],
    replace: bool,
    abs_ttl: bool,
    idle_secs: Option<u64>,
    freq: Option<u8>,
}

fn restore(x: &mut Exec<'_>, key: &[u8], r: Restore<'_>) -> Reply {
    if !r.replace && x.write_lookup(key).is_some() {
        return OpError::Other("BUSYKEY Target key name already exists.".into()).into();
    }
    let ttl = match r.ttl {
        None => return OpError::NotInteger.into(),
        Some(t) if t < 0 => {
            return OpError::Other("ERR Invalid TTL value, must be >= 0".into()).into();
        }
        Some(t) => t as u64,
    };
    let Some(object) = codec::open_payload(r.payload) else {
        return OpError::Other("ERR DUMP payload version or checksum are wrong".into()).into();
    };
    let Some(value) = codec::decode_object(object, &x.config.limits) else {
        return OpError::Other("ERR Bad data format".into()).into();
    };
    let now = x.now_ms;
    let deleted = r.replace && x.db().remove(key, now).is_some();
    let expire_at = match (ttl, r.abs_ttl) {
        (0, _) => None,
        (t, true) => Some(t),
        (t, false) => Some(now.saturating_add(t)),
    };
    if let Some(at) = expire_at
        && at <= now
    {
        if deleted {
            x.notify(class::GENERIC, "del", key);
        }
        return Reply::Ok;
    }
    let now_secs = x.now_secs;
    let entry = match value {
        Decoded::Str(s) => Entry::new_string(key, &s, expire_at, now_secs),
        Decoded::Value(v) => Entry::new_value(key, v, expire_at, now_secs),
    };
    x.db().insert(entry);
    let access = if x.db().lfu().is_some() {
        r.freq.map(|f| lfu::with_counter(now_secs, f))
    } else {
        r.idle_secs
            .map(|idle| now_secs.saturating_sub(u32::try_from(idle).unwrap_or(u32::MAX)))
    };
    if let Some(access) = access {
        x.db().update(key, now, |e| e.touch(access));
    }
    x.notify(class::GENERIC, "restore", key);
    Reply::Ok
}
