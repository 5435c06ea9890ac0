//! The canonical Redis command of a write op ([`Op::to_command`]): the argv the WAL logs and
//! replay parses back (with moon-resp's command table) into an op of the same effect.
//!
//! Invariants:
//! - Every write variant of [`Op`] and of each family enum is matched by name (no catch-all
//!   arm), so a new op does not compile until it has its command.
//! - Relative times are made absolute against the `now_ms` the op executed with (EX/PX →
//!   PXAT, EXPIRE → PEXPIREAT, HEXPIRE → HPEXPIREAT, RESTORE ttl → ABSTTL, XCLAIM IDLE → TIME),
//!   so the command means the same thing whenever it is replayed.
//! - Numbers are spelled so that the parsers read back the identical value: integers in
//!   decimal, floats in their shortest round-trip form (`inf`/`-inf` for infinities), blocking
//!   timeouts as seconds whose `ceil(secs * 1000)` is the original millisecond count.
//! - Option spellings are exactly those the moon-resp parsers accept; keywords are uppercase.
//! - Ops that carry an argument error which always makes them fail (a `deferred` option error,
//!   an invalid XCLAIM argument ...) are never logged; their command is best effort. Where it is
//!   cheap, the faulty argument is reproduced so that the parse round trip is exact anyway.

mod bitmap;
pub(crate) mod direct;
mod geo;
mod hash;
mod list;
mod misc;
mod sets;
mod stream;
mod suggest;
mod zset;

use bytes::Bytes;

use super::{ExpireCond, ExpireSpec, GetExSpec, Op, SetCond};

/// An argv under construction. Keys and values are `Bytes` clones (reference counts, no copy).
pub(super) struct Argv(Vec<Bytes>);

impl Argv {
    /// A command named `name` (uppercase, static).
    fn new(name: &'static str) -> Argv {
        let mut v = Vec::with_capacity(4);
        v.push(Bytes::from_static(name.as_bytes()));
        Argv(v)
    }

    /// A static keyword.
    fn kw(&mut self, kw: &'static str) -> &mut Argv {
        self.0.push(Bytes::from_static(kw.as_bytes()));
        self
    }

    /// A key or value.
    fn arg(&mut self, b: &Bytes) -> &mut Argv {
        self.0.push(b.clone());
        self
    }

    /// Several keys or values.
    fn args<'a>(&mut self, items: impl IntoIterator<Item = &'a Bytes>) -> &mut Argv {
        self.0.extend(items.into_iter().cloned());
        self
    }

    /// An integer (or any value whose `Display` is what the parser reads).
    fn num(&mut self, v: impl std::fmt::Display) -> &mut Argv {
        self.0.push(Bytes::from(v.to_string()));
        self
    }

    /// A float that parses back to exactly `v`.
    fn float(&mut self, v: f64) -> &mut Argv {
        self.0.push(Bytes::from(fmt_f64(v)));
        self
    }

    /// Owned text (a score bound, a type name ...).
    fn text(&mut self, s: String) -> &mut Argv {
        self.0.push(Bytes::from(s));
        self
    }

    /// `FIELDS numfields field ...` (the hash-field TTL commands).
    fn fields(&mut self, fields: &[Bytes]) -> &mut Argv {
        self.kw("FIELDS").num(fields.len()).args(fields)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn done(self) -> Option<Vec<Bytes>> {
        Some(self.0)
    }
}

/// Text that Rust's `str::parse` and C's `strtod` both read back as exactly `v`: the shortest
/// round-trip digits, in plain notation unless that is long (tiny or huge magnitudes), then in
/// exponent notation; `inf`/`-inf` for infinities.
pub(crate) fn fmt_f64(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let plain = format!("{v}");
    if plain.len() <= 24 {
        return plain;
    }
    let sci = format!("{v:e}");
    if sci.len() < plain.len() { sci } else { plain }
}

/// A blocking timeout of `ms` milliseconds as the seconds argument BLPOP & co. read
/// (`ceil(secs * 1000)` in f64 must give back `ms`): the exact decimal when it round-trips
/// through that arithmetic, else the nearest float that does.
pub(crate) fn fmt_timeout_secs(ms: u64) -> String {
    let reads_back = |s: &str| {
        s.parse::<f64>()
            .is_ok_and(|v| (v * 1000.0).ceil() as u64 == ms)
    };
    let (secs, frac) = (ms / 1000, ms % 1000);
    let decimal = if frac == 0 {
        secs.to_string()
    } else {
        let s = format!("{secs}.{frac:03}");
        s.trim_end_matches('0').to_string()
    };
    if reads_back(&decimal) {
        return decimal;
    }
    let x = ms as f64 / 1000.0;
    let bits = x.to_bits();
    (0..=8u64)
        .flat_map(|k| [bits.saturating_sub(k), bits.saturating_add(k)])
        .map(|b| fmt_f64(f64::from_bits(b)))
        .find(|s| reads_back(s))
        .unwrap_or(decimal)
}

/// `now + ms`, saturated (an op whose sum overflows fails, so it is never logged).
fn absolute(now_ms: u64, ms: u64) -> u64 {
    now_ms.saturating_add(ms)
}

/// NX/XX/GT/LT of the EXPIRE family.
fn expire_cond(a: &mut Argv, cond: ExpireCond) {
    match cond {
        ExpireCond::Always => {}
        ExpireCond::Nx => {
            a.kw("NX");
        }
        ExpireCond::Xx => {
            a.kw("XX");
        }
        ExpireCond::Gt => {
            a.kw("GT");
        }
        ExpireCond::Lt => {
            a.kw("LT");
        }
        ExpireCond::XxLt => {
            a.kw("XX").kw("LT");
        }
    }
}

/// The command name an EXPIRE-family `cmd` field stands for.
fn expire_name(cmd: &str) -> &'static str {
    match cmd {
        "expire" => "EXPIRE",
        "pexpire" => "PEXPIRE",
        "expireat" => "EXPIREAT",
        _ => "PEXPIREAT",
    }
}

impl Op {
    /// The Redis command (argv) whose parse yields an op with the same effect as `self`
    /// executed at `now_ms`, with every relative time made absolute against `now_ms` (SET
    /// EX/PX → PXAT, SETEX/PSETEX → SET .. PXAT, GETEX EX/PX → GETEX PXAT, EXPIRE/PEXPIRE →
    /// PEXPIREAT (keeping NX/XX/GT/LT), HEXPIRE/HPEXPIRE → HPEXPIREAT, HSETEX/HGETEX EX/PX →
    /// PXAT, RESTORE with a relative TTL → ABSTTL, XCLAIM IDLE → TIME). Blocking ops keep
    /// their blocking command: replay applies ops without blocking, so it is deterministic.
    /// `None` for ops that are not writes (`!self.is_write()`).
    pub fn to_command(&self, now_ms: u64) -> Option<Vec<Bytes>> {
        if !self.is_write() {
            return None;
        }
        use Op::*;
        let mut a;
        match self {
            Set {
                key,
                value,
                cond,
                expire,
                get,
            } => {
                a = Argv::new("SET");
                a.arg(key).arg(value);
                match cond {
                    SetCond::Always => {}
                    SetCond::IfAbsent => {
                        a.kw("NX");
                    }
                    SetCond::IfPresent => {
                        a.kw("XX");
                    }
                }
                if *get {
                    a.kw("GET");
                }
                match expire {
                    ExpireSpec::Clear => {}
                    ExpireSpec::Keep => {
                        a.kw("KEEPTTL");
                    }
                    ExpireSpec::In(ms) => {
                        a.kw("PXAT").num(absolute(now_ms, *ms));
                    }
                    ExpireSpec::At(ms) => {
                        a.kw("PXAT").num(ms);
                    }
                }
            }
            SetNx { key, value } => {
                a = Argv::new("SETNX");
                a.arg(key).arg(value);
            }
            GetDel { key } => {
                a = Argv::new("GETDEL");
                a.arg(key);
            }
            GetEx { key, spec } => {
                a = Argv::new("GETEX");
                a.arg(key);
                match spec {
                    // Keeping the TTL is what GETEX without an option does.
                    GetExSpec::Unchanged | GetExSpec::Set(ExpireSpec::Keep) => {}
                    // Clearing it is PERSIST.
                    GetExSpec::Persist | GetExSpec::Set(ExpireSpec::Clear) => {
                        a.kw("PERSIST");
                    }
                    GetExSpec::Set(ExpireSpec::In(ms)) => {
                        a.kw("PXAT").num(absolute(now_ms, *ms));
                    }
                    GetExSpec::Set(ExpireSpec::At(ms)) => {
                        a.kw("PXAT").num(ms);
                    }
                }
            }
            MSet { pairs } | MSetNx { pairs } => {
                a = Argv::new(if matches!(self, MSet { .. }) {
                    "MSET"
                } else {
                    "MSETNX"
                });
                for (k, v) in pairs {
                    a.arg(k).arg(v);
                }
            }
            Append { key, value } => {
                a = Argv::new("APPEND");
                a.arg(key).arg(value);
            }
            IncrBy { key, delta } => {
                a = Argv::new("INCRBY");
                a.arg(key).num(delta);
            }
            IncrByFloat { key, delta } => {
                a = Argv::new("INCRBYFLOAT");
                a.arg(key).float(*delta);
            }
            SetRange { key, offset, value } => {
                a = Argv::new("SETRANGE");
                a.arg(key).num(offset).arg(value);
            }
            Del { keys } => {
                a = Argv::new("DEL");
                a.args(keys);
            }
            Expire { key, at, cond, cmd } => {
                let (name, when) = match at {
                    // Every EXPIRE-family command reads 0 (or less) as "already expired".
                    ExpireSpec::At(0) => (expire_name(cmd), 0),
                    ExpireSpec::At(ms) if *cmd == "expireat" && ms % 1000 == 0 => {
                        ("EXPIREAT", ms / 1000)
                    }
                    ExpireSpec::At(ms) => ("PEXPIREAT", *ms),
                    ExpireSpec::In(ms) => ("PEXPIREAT", absolute(now_ms, *ms)),
                    // Never built by a parser; the engine answers a syntax error, so this op
                    // is never logged. An empty time keeps it failing on replay.
                    ExpireSpec::Clear | ExpireSpec::Keep => {
                        a = Argv::new("PEXPIREAT");
                        a.arg(key).kw("");
                        return a.done();
                    }
                };
                a = Argv::new(name);
                a.arg(key).num(when);
                expire_cond(&mut a, *cond);
            }
            Persist { key } => {
                a = Argv::new("PERSIST");
                a.arg(key);
            }
            Rename { src, dst, nx } => {
                a = Argv::new(if *nx { "RENAMENX" } else { "RENAME" });
                a.arg(src).arg(dst);
            }
            Copy {
                src,
                dst,
                dst_db,
                replace,
            } => {
                a = Argv::new("COPY");
                a.arg(src).arg(dst);
                if let Some(db) = dst_db {
                    a.kw("DB").num(db);
                }
                if *replace {
                    a.kw("REPLACE");
                }
            }
            Move { key, db } => {
                a = Argv::new("MOVE");
                a.arg(key).num(db);
            }
            FlushDb => a = Argv::new("FLUSHDB"),
            FlushAll => a = Argv::new("FLUSHALL"),
            SwapDb { a: x, b: y } => {
                a = Argv::new("SWAPDB");
                a.num(x).num(y);
            }
            Lists(op) => return list::command(op),
            Hashes(op) => return hash::command(op, now_ms),
            Sets(op) => return sets::command(op),
            ZSets(op) => return zset::command(op),
            Streams(op) => return stream::command(op, now_ms),
            Bitmaps(op) => return bitmap::command(op),
            Hll(op) => return misc::hll(op),
            Geo(op) => return geo::command(op),
            Dump(op) => return misc::dump(op, now_ms),
            Sort(op) => return misc::sort(op),
            Functions(op) => return misc::functions(op),
            Search(op) => return crate::search::unparse(op),
            Graph(op) => return crate::graph::unparse(op),
            Suggest(op) => return suggest::command(op),
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
            | MemoryUsage { .. } => return None,
        }
        a.done()
    }
}

#[cfg(test)]
mod tests;
