//! Streams ⇄ `STREAM_LISTPACKS*` RDB objects (`rdbSaveObject` / `rdbLoadObject` in Redis's
//! rdb.c). Moon's DUMP writes `STREAM_LISTPACKS_2` (Redis 7.0, RDB 10); its own files write
//! `STREAM_LISTPACKS_3` (7.2, RDB 11) when the 7.0 layout would lose consumers' active times
//! ([`needs_v3`]); it reads all three versions.
//!
//! Layout of the object after the type byte:
//!
//! - node count, then per node: the master ID as a 16-byte big-endian string and the node as a
//!   listpack string in Redis's stream-node layout (`t_stream.c`): the master entry `count,
//!   deleted, n, field×n, 0`, then per entry `flags, ms-delta, seq-delta, [n, (field, value)×n
//!   | value×n with SAMEFIELDS], lp-count`; deltas are wrapping differences to the master ID;
//! - length, last ID (ms, seq); since v2 first ID, max deleted ID, entries added;
//! - group count, then per group: name, last ID, (v2+) entries read (−1 as 2^64−1), the PEL
//!   (count, then 16-byte ID, delivery time ms u64 LE, delivery count), the consumers (count,
//!   then name, seen time ms u64 LE, (v3) active time, PEL count and 16-byte IDs).
//!
//! Moon's nodes keep the same master IDs and master fields as Redis's, so the node structure
//! (XINFO's `radix-tree-keys`) survives the trip; Moon holds no tombstones, so it writes
//! `deleted` 0 and loading drops entries flagged deleted. Decoding checks every bound and every
//! invariant the stream and its groups rely on, and answers `None` instead of panicking.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use moon_formats::rdb::listpack::{self, LpEntry};
use moon_formats::rdb::{Reader, Writer, types};

use crate::keyspace::entry::LargeValue;
use crate::shard::TypeLimits;
use crate::types::stream::{Consumer, PendingEntry, StreamId, StreamValue};

/// Entry flag: deleted (a tombstone).
const FLAG_DELETED: i64 = 1;
/// Entry flag: the entry's fields are the master fields (names omitted).
const FLAG_SAMEFIELDS: i64 = 2;

fn raw_id(id: StreamId) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&id.ms.to_be_bytes());
    k[8..].copy_from_slice(&id.seq.to_be_bytes());
    k
}

fn parse_raw_id(b: &[u8]) -> Option<StreamId> {
    if b.len() != 16 {
        return None;
    }
    let ms = u64::from_be_bytes(b.get(..8)?.try_into().ok()?);
    let seq = u64::from_be_bytes(b.get(8..)?.try_into().ok()?);
    Some(StreamId::new(ms, seq))
}

fn write_id(w: &mut Writer, id: StreamId) {
    w.len(id.ms);
    w.len(id.seq);
}

fn read_id(r: &mut Reader<'_>) -> Option<StreamId> {
    let ms = r.length()?;
    let seq = r.length()?;
    Some(StreamId::new(ms, seq))
}

/// True if `STREAM_LISTPACKS_2` would lose something of `s`: a consumer whose active time is
/// not its seen time (7.0's layout has only the seen time; reading it back sets both to it).
pub fn needs_v3(s: &StreamValue) -> bool {
    s.groups().any(|(_, cg)| {
        cg.consumers
            .values()
            .any(|c| c.active_time != Some(c.seen_time))
    })
}

/// Writes a stream object; `None` when it cannot be written. `v3`: Redis 7.2's
/// `STREAM_LISTPACKS_3`, which also carries each consumer's active time (-1 = never), else
/// 7.0's `STREAM_LISTPACKS_2`.
pub fn encode(w: &mut Writer, s: &StreamValue, v3: bool) -> Option<()> {
    w.u8(if v3 {
        types::STREAM_LISTPACKS_3
    } else {
        types::STREAM_LISTPACKS_2
    });
    w.len(s.node_count() as u64);
    for (master, mfields, entries) in s.nodes() {
        w.string(&raw_id(master));
        let mut b = listpack::Builder::new();
        b.push_int(i64::try_from(entries.len()).ok()?);
        b.push_int(0);
        b.push_int(i64::try_from(mfields.len()).ok()?);
        for f in &mfields {
            b.push_str(f);
        }
        b.push_int(0);
        for e in &entries {
            let n = i64::try_from(e.len()).ok()?;
            let same =
                e.len() == mfields.len() && e.fields().zip(&mfields).all(|((f, _), m)| f == *m);
            b.push_int(if same { FLAG_SAMEFIELDS } else { 0 });
            b.push_int(e.id.ms.wrapping_sub(master.ms) as i64);
            b.push_int(e.id.seq.wrapping_sub(master.seq) as i64);
            if same {
                for (_, v) in e.fields() {
                    b.push_str(v);
                }
                b.push_int(n + 3);
            } else {
                b.push_int(n);
                for (f, v) in e.fields() {
                    b.push_str(f);
                    b.push_str(v);
                }
                b.push_int(2 * n + 4);
            }
        }
        w.string(&b.finish());
    }
    w.len(s.len());
    write_id(w, s.last_id());
    write_id(w, s.first_id());
    write_id(w, s.max_deleted_id());
    w.len(s.entries_added());
    w.len(s.group_count() as u64);
    for (name, cg) in s.groups() {
        w.string(name);
        write_id(w, cg.last_id);
        w.len(cg.entries_read as u64);
        w.len(cg.pel.len() as u64);
        for (id, p) in &cg.pel {
            w.raw(&raw_id(*id));
            w.raw(&p.delivery_time.to_le_bytes());
            w.len(p.delivery_count);
        }
        w.len(cg.consumers.len() as u64);
        for (cname, c) in &cg.consumers {
            w.string(cname);
            w.raw(&c.seen_time.to_le_bytes());
            if v3 {
                // `rdbSaveMillisecondTime` of an `mstime_t`: -1 for a consumer never active.
                let active = c
                    .active_time
                    .and_then(|t| i64::try_from(t).ok())
                    .unwrap_or(-1);
                w.raw(&active.to_le_bytes());
            }
            w.len(c.pel.len() as u64);
            for id in &c.pel {
                w.raw(&raw_id(*id));
            }
        }
    }
    Some(())
}

fn lp_int(e: &LpEntry<'_>) -> Option<i64> {
    match e {
        LpEntry::Int(i) => Some(*i),
        LpEntry::Str(s) => listpack::canonical_i64(s),
    }
}

type Fields = Vec<(Vec<u8>, Vec<u8>)>;
/// A decoded node: its master field names and its live entries.
type LoadedNode = (Vec<Vec<u8>>, Vec<(StreamId, Fields)>);

/// One node listpack: its master fields and live entries.
fn decode_node(master: StreamId, lp: &[u8]) -> Option<LoadedNode> {
    let items = listpack::parse(lp)?;
    let mut it = items.iter();
    let int = |it: &mut std::slice::Iter<'_, LpEntry<'_>>| it.next().and_then(lp_int);
    let count = usize::try_from(int(&mut it)?).ok()?;
    let _deleted = int(&mut it)?;
    let nmaster = usize::try_from(int(&mut it)?).ok()?;
    if nmaster > items.len() {
        return None;
    }
    let mut mfields = Vec::with_capacity(nmaster);
    for _ in 0..nmaster {
        mfields.push(it.next()?.to_vec());
    }
    if int(&mut it)? != 0 {
        return None;
    }
    let mut entries = Vec::new();
    while let Some(flags) = it.next() {
        let flags = lp_int(flags)?;
        let ms_delta = int(&mut it)?;
        let seq_delta = int(&mut it)?;
        let id = StreamId::new(
            master.ms.wrapping_add(ms_delta as u64),
            master.seq.wrapping_add(seq_delta as u64),
        );
        let mut fields = Vec::new();
        if flags & FLAG_SAMEFIELDS != 0 {
            for f in &mfields {
                fields.push((f.clone(), it.next()?.to_vec()));
            }
        } else {
            let n = usize::try_from(int(&mut it)?).ok()?;
            if n > items.len() {
                return None;
            }
            for _ in 0..n {
                let f = it.next()?.to_vec();
                let v = it.next()?.to_vec();
                fields.push((f, v));
            }
        }
        let _lp_count = int(&mut it)?;
        if flags & FLAG_DELETED == 0 {
            entries.push((id, fields));
        }
    }
    (entries.len() == count).then_some((mfields, entries))
}

/// Reads a stream object of type `ty`; `None` means "Bad data format".
pub fn decode(r: &mut Reader<'_>, ty: u8, _limits: &TypeLimits) -> Option<LargeValue> {
    let v2 = ty >= types::STREAM_LISTPACKS_2;
    let v3 = ty >= types::STREAM_LISTPACKS_3;
    let mut s = StreamValue::new();
    let nodes = r.count(2)?;
    for _ in 0..nodes {
        let master = parse_raw_id(&r.string()?)?;
        let lp = r.string()?;
        let (mfields, entries) = decode_node(master, &lp)?;
        if !s.load_node(master, &mfields, &entries) {
            return None;
        }
    }
    let length = r.length()?;
    let last_id = read_id(r)?;
    let (first_id, max_deleted, entries_added) = if v2 {
        (read_id(r)?, read_id(r)?, r.length()?)
    } else {
        (
            s.first_entry_id().unwrap_or(StreamId::MIN),
            StreamId::MIN,
            length,
        )
    };
    if !s.load_meta(length, last_id, first_id, max_deleted, entries_added) {
        return None;
    }
    let groups = r.count(3)?;
    for _ in 0..groups {
        let name = Bytes::from(r.string()?);
        let cg_last = read_id(r)?;
        let entries_read = if v2 {
            r.length()? as i64
        } else {
            s.estimate_distance(cg_last)
        };
        // The group PEL: ID → (delivery time, count, owner).
        let npel = r.count(17)?;
        let mut pel: BTreeMap<StreamId, (u64, u64, Option<Bytes>)> = BTreeMap::new();
        for _ in 0..npel {
            let id = parse_raw_id(r.bytes(16)?)?;
            let time = r.u64_le()?;
            let count = r.length()?;
            if pel.insert(id, (time, count, None)).is_some() {
                return None;
            }
        }
        let nconsumers = r.count(10)?;
        let mut consumers = BTreeMap::new();
        for _ in 0..nconsumers {
            let cname = Bytes::from(r.string()?);
            let seen_time = r.u64_le()?;
            let active_time = if v3 {
                r.u64_le()? as i64
            } else {
                seen_time as i64
            };
            let n = r.count(16)?;
            let mut ids = BTreeSet::new();
            for _ in 0..n {
                let id = parse_raw_id(r.bytes(16)?)?;
                let slot = pel.get_mut(&id)?;
                if slot.2.is_some() {
                    return None;
                }
                slot.2 = Some(cname.clone());
                ids.insert(id);
            }
            let c = Consumer {
                seen_time,
                active_time: u64::try_from(active_time).ok(),
                pel: ids,
            };
            if consumers.insert(cname, c).is_some() {
                return None;
            }
        }
        if !s.create_group(&name, cg_last, entries_read) {
            return None;
        }
        let cg = s.group_mut(&name)?;
        cg.consumers = consumers;
        for (id, (time, count, owner)) in pel {
            let pe = PendingEntry {
                consumer: owner?,
                delivery_time: time,
                delivery_count: count,
            };
            cg.pel.insert(id, pe);
        }
    }
    Some(LargeValue::Stream(Box::new(s)))
}
