//! Which keys an op touches, so the server can route it to the owning shard(s) without
//! executing it, and how the replies of a split multi-key op are merged back.

use bytes::Bytes;

use super::{Op, Reply};

/// How an op is routed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRouting {
    /// Touches exactly one key: runs on its owner.
    Single,
    /// Touches these keys; may be split per owner (non-atomic fan-out whose replies merge).
    Split(MergeKind),
    /// Touches several keys and must be atomic across owners (MSET, MSETNX, RENAME, COPY).
    Atomic,
    /// Touches no named key: runs on every shard, replies merged by the kind.
    AllShards(MergeKind),
}

/// How the per-shard replies of a split or fanned-out op combine into one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeKind {
    /// Sum the integer replies (DEL, EXISTS, TOUCH, DBSIZE).
    SumInt,
    /// Put array elements back in the op's key order (MGET).
    ByPosition,
    /// Concatenate array replies (KEYS).
    Concat,
    /// Every shard must answer OK; the first error wins (FLUSHDB, FLUSHALL, SWAPDB).
    AllOk,
    /// Pick a non-nil reply (RANDOMKEY).
    AnyNonNil,
}

impl Op {
    /// Every key the op names, in argument order (duplicates kept).
    pub fn keys(&self) -> Vec<&Bytes> {
        use Op::*;
        match self {
            Get { key }
            | Set { key, .. }
            | SetNx { key, .. }
            | GetDel { key }
            | GetEx { key, .. }
            | Append { key, .. }
            | StrLen { key }
            | IncrBy { key, .. }
            | IncrByFloat { key, .. }
            | GetRange { key, .. }
            | SetRange { key, .. }
            | Expire { key, .. }
            | Ttl { key, .. }
            | ExpireTime { key, .. }
            | Persist { key }
            | Type { key }
            | Move { key, .. }
            | ObjectEncoding { key }
            | ObjectRefcount { key }
            | ObjectIdletime { key }
            | ObjectFreq { key }
            | MemoryUsage { key } => vec![key],
            Lcs { key_a, key_b, .. } => vec![key_a, key_b],
            Rename { src, dst, .. } | Copy { src, dst, .. } => vec![src, dst],
            MGet { keys } | Del { keys } | Exists { keys } | Touch { keys } => {
                keys.iter().collect()
            }
            MSet { pairs } | MSetNx { pairs } => pairs.iter().map(|(k, _)| k).collect(),
            Keys { .. } | Scan { .. } | RandomKey | DbSize | FlushDb | FlushAll | SwapDb { .. } => {
                Vec::new()
            }
            Lists(op) => op.keys(),
            Hashes(op) => op.keys(),
            Sets(op) => op.keys(),
            ZSets(op) => op.keys(),
            Streams(op) => op.keys(),
            Bitmaps(op) => op.keys(),
            Hll(op) => op.keys(),
            Geo(op) => op.keys(),
            Dump(op) => op.keys(),
            Sort(op) => op.keys(),
            Functions(op) => op.keys(),
            Search(op) => op.keys(),
            Graph(op) => op.keys(),
            Suggest(op) => op.keys(),
        }
    }

    /// The first key of [`Op::keys`], without building the list for the common one-key ops:
    /// the server's routing and its prefetch of forwarded ops run this per command.
    pub fn first_key(&self) -> Option<&Bytes> {
        use super::ops::{ListOp as L, SetOp as S, StreamOp as X, ZSetOp as Z};
        use Op::*;
        match self {
            Get { key }
            | Set { key, .. }
            | SetNx { key, .. }
            | GetDel { key }
            | GetEx { key, .. }
            | Append { key, .. }
            | StrLen { key }
            | IncrBy { key, .. }
            | IncrByFloat { key, .. }
            | GetRange { key, .. }
            | SetRange { key, .. }
            | Expire { key, .. }
            | Ttl { key, .. }
            | ExpireTime { key, .. }
            | Persist { key }
            | Type { key } => Some(key),
            Hashes(op) => Some(op.key()),
            Lists(
                L::Push { key, .. }
                | L::Pop { key, .. }
                | L::Len { key, .. }
                | L::Range { key, .. }
                | L::Index { key, .. }
                | L::Set { key, .. }
                | L::Insert { key, .. }
                | L::Rem { key, .. }
                | L::Trim { key, .. }
                | L::Pos { key, .. },
            )
            | Sets(
                S::Add { key, .. }
                | S::Rem { key, .. }
                | S::Card { key, .. }
                | S::IsMember { key, .. }
                | S::MIsMember { key, .. }
                | S::Members { key, .. }
                | S::RandMember { key, .. }
                | S::Pop { key, .. },
            )
            | ZSets(
                Z::Add { key, .. }
                | Z::Rem { key, .. }
                | Z::Card { key, .. }
                | Z::Score { key, .. }
                | Z::Rank { key, .. }
                | Z::Range { key, .. }
                | Z::RemRange { key, .. },
            )
            | Streams(X::Add { key, .. } | X::Len { key, .. } | X::Range { key, .. }) => Some(key),
            _ => self.keys().into_iter().next(),
        }
    }

    /// How this op is routed across shards.
    pub fn routing(&self) -> KeyRouting {
        use Op::*;
        match self {
            Del { .. } | Exists { .. } | Touch { .. } => KeyRouting::Split(MergeKind::SumInt),
            // MGET is atomic in Redis: a reader must never see half of a concurrent MSET.
            MGet { .. }
            | MSet { .. }
            | MSetNx { .. }
            | Rename { .. }
            | Copy { .. }
            | Lcs { .. } => KeyRouting::Atomic,
            Keys { .. } => KeyRouting::AllShards(MergeKind::Concat),
            DbSize => KeyRouting::AllShards(MergeKind::SumInt),
            FlushDb | FlushAll | SwapDb { .. } => KeyRouting::AllShards(MergeKind::AllOk),
            RandomKey => KeyRouting::AllShards(MergeKind::AnyNonNil),
            // SCAN is driven shard by shard by the server; routed explicitly.
            Scan { .. } => KeyRouting::AllShards(MergeKind::Concat),
            Lists(op) => op.routing(),
            Hashes(op) => op.routing(),
            Sets(op) => op.routing(),
            ZSets(op) => op.routing(),
            Streams(op) => op.routing(),
            Bitmaps(op) => op.routing(),
            Hll(op) => op.routing(),
            Geo(op) => op.routing(),
            Dump(op) => op.routing(),
            Sort(op) => op.routing(),
            Functions(op) => op.routing(),
            Search(op) => op.routing(),
            Graph(op) => op.routing(),
            Suggest(op) => op.routing(),
            _ => KeyRouting::Single,
        }
    }

    /// For blocking ops (see [`super::ops::Blocking`]): how long to wait for data.
    pub fn blocking(&self) -> Option<super::ops::Blocking> {
        match self {
            Op::Lists(op) => op.blocking(),
            Op::ZSets(op) => op.blocking(),
            Op::Streams(op) => op.blocking(),
            _ => None,
        }
    }

    /// True if the op may modify the keyspace (used for stats now, the WAL later).
    pub fn is_write(&self) -> bool {
        use Op::*;
        match self {
            Lists(op) => return op.is_write(),
            Hashes(op) => return op.is_write(),
            Sets(op) => return op.is_write(),
            ZSets(op) => return op.is_write(),
            Streams(op) => return op.is_write(),
            Bitmaps(op) => return op.is_write(),
            Hll(op) => return op.is_write(),
            Geo(op) => return op.is_write(),
            Dump(op) => return op.is_write(),
            Sort(op) => return op.is_write(),
            Functions(op) => return op.is_write(),
            Search(op) => return op.is_write(),
            Graph(op) => return op.is_write(),
            Suggest(op) => return op.is_write(),
            _ => {}
        }
        !matches!(
            self,
            Get { .. }
                | MGet { .. }
                | StrLen { .. }
                | GetRange { .. }
                | Lcs { .. }
                | Exists { .. }
                | Touch { .. }
                | Ttl { .. }
                | ExpireTime { .. }
                | Type { .. }
                | Keys { .. }
                | Scan { .. }
                | RandomKey
                | DbSize
                | ObjectEncoding { .. }
                | ObjectRefcount { .. }
                | ObjectIdletime { .. }
                | ObjectFreq { .. }
                | MemoryUsage { .. }
        )
    }

    /// Split a `KeyRouting::Split` op by key owner. Returns `(shard, sub_op, positions)` where
    /// `positions[i]` is the index in the original key list of the sub-op's i-th key. Ops that
    /// are not splittable come back whole, owned by the owner of their first key (or shard 0).
    pub fn split_by_owner(self, owner: &dyn Fn(&[u8]) -> usize) -> Vec<(usize, Op, Vec<usize>)> {
        fn group(
            keys: Vec<Bytes>,
            owner: &dyn Fn(&[u8]) -> usize,
        ) -> Vec<(usize, Vec<Bytes>, Vec<usize>)> {
            let mut groups: Vec<(usize, Vec<Bytes>, Vec<usize>)> = Vec::new();
            for (pos, key) in keys.into_iter().enumerate() {
                let shard = owner(&key);
                match groups.iter_mut().find(|g| g.0 == shard) {
                    Some(g) => {
                        g.1.push(key);
                        g.2.push(pos);
                    }
                    None => groups.push((shard, vec![key], vec![pos])),
                }
            }
            groups
        }
        let rebuild = |keys: Vec<Bytes>, ctor: fn(Vec<Bytes>) -> Op| {
            group(keys, owner)
                .into_iter()
                .map(|(s, k, p)| (s, ctor(k), p))
                .collect()
        };
        match self {
            Op::MGet { keys } => rebuild(keys, |keys| Op::MGet { keys }),
            Op::Del { keys } => rebuild(keys, |keys| Op::Del { keys }),
            Op::Exists { keys } => rebuild(keys, |keys| Op::Exists { keys }),
            Op::Touch { keys } => rebuild(keys, |keys| Op::Touch { keys }),
            other => {
                let shard = other.keys().first().map(|k| owner(k)).unwrap_or(0);
                let n = other.keys().len();
                vec![(shard, other, (0..n).collect())]
            }
        }
    }
}

/// Merge the replies of a split or fanned-out op. `parts` holds `(positions, reply)` per
/// shard; `total` is the number of keys of the original op (for `ByPosition`). An error reply
/// from any part is returned as is.
pub fn merge_replies(kind: MergeKind, total: usize, parts: Vec<(Vec<usize>, Reply)>) -> Reply {
    if let Some((_, err)) = parts.iter().find(|(_, r)| r.is_err()) {
        return err.clone();
    }
    match kind {
        MergeKind::SumInt => Reply::Int(
            parts
                .iter()
                .map(|(_, r)| if let Reply::Int(n) = r { *n } else { 0 })
                .sum(),
        ),
        MergeKind::ByPosition => {
            let mut out = vec![Reply::Nil; total];
            for (positions, reply) in parts {
                if let Reply::Array(items) = reply {
                    for (pos, item) in positions.into_iter().zip(items) {
                        if let Some(slot) = out.get_mut(pos) {
                            *slot = item;
                        }
                    }
                }
            }
            Reply::Array(out)
        }
        MergeKind::Concat => Reply::Array(
            parts
                .into_iter()
                .flat_map(|(_, r)| {
                    if let Reply::Array(items) = r {
                        items
                    } else {
                        Vec::new()
                    }
                })
                .collect(),
        ),
        MergeKind::AllOk => Reply::Ok,
        MergeKind::AnyNonNil => parts
            .into_iter()
            .map(|(_, r)| r)
            .find(|r| !matches!(r, Reply::Nil))
            .unwrap_or(Reply::Nil),
    }
}
