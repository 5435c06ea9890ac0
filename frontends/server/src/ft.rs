//! Server glue of the FT admin commands (`Op::Search`): definition writes run on every shard
//! atomically (the freeze protocol, as FUNCTION LOAD), reads gather every shard's part and
//! merge it (`moon_engine::search::merge_read`), FT.CONFIG is answered here from a
//! process-wide parameter table.
//!
//! Invariants: definitions are identical on every shard because every definition write goes
//! through `run_atomic` over all shards (each applies and logs it); FT.CONFIG values are
//! process-wide, kept behind a mutex touched only by FT.CONFIG (never on a hot path).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use moon_engine::ir::ops::SearchOp;
use moon_engine::ir::{ExecCtx, Op, OpError, Reply};
use moon_engine::search::query::{SearchPart, SearchPlan};
use moon_engine::search::text::Stats;
use moon_resp::codec::Proto;

use crate::conn::{Conn, Finish, Part};
use crate::mailbox::{CallFn, Msg, ReplyTo};
use crate::worker::Worker;

fn err(text: impl Into<String>) -> Reply {
    Reply::Err(OpError::Other(text.into()))
}

impl Worker {
    /// Runs one FT admin op for `conn`; returns true if it failed at once.
    pub(crate) fn search_op(&mut self, conn: &mut Conn, op: Op) -> bool {
        let Op::Search(sop) = op else {
            conn.reply(err("ERR not an FT command"));
            return true;
        };
        let ctx = ExecCtx {
            db: moon_engine::search::INDEXED_DB,
            now_ms: self.now_ms,
            no_touch: false,
        };
        let shards = self.shared.shards();
        let reply = match &sop {
            SearchOp::ConfigGet { pattern } => config_get(pattern),
            SearchOp::ConfigSet { name, value } => config_set(name, value),
            // One shard: run and merge inline (no plan copy, deferred reply or boxed part).
            SearchOp::Search(plan) if shards == 1 => {
                let part = self.shard.search_part(plan, self.now_ms);
                moon_engine::search::query::merge(plan, vec![part], conn.proto == Proto::Resp3)
            }
            SearchOp::Search(plan) => {
                self.search_query(conn, (**plan).clone());
                return false;
            }
            SearchOp::Aggregate(_)
            | SearchOp::CursorRead { .. }
            | SearchOp::CursorDel { .. }
            | SearchOp::SpellCheck(_) => {
                return self.aggregate_op(conn, sop);
            }
            // Every shard holds the same dictionaries and synonyms: this one answers.
            SearchOp::DictDump { .. } | SearchOp::SynDump { .. } => {
                self.shard.apply(&ctx, &Op::Search(sop))
            }
            SearchOp::Profile(p) => {
                self.search_profile(conn, (**p).clone());
                return false;
            }
            _ if shards == 1 => self.shard.apply(&ctx, &Op::Search(sop)),
            _ if sop.is_write() => {
                let all = (0..shards).collect();
                self.run_atomic(ctx, Op::Search(sop), all)
            }
            _ => {
                self.search_read(conn, sop);
                return false;
            }
        };
        let failed = reply.is_err();
        conn.reply(reply);
        failed
    }

    /// A read over every shard: each computes its part, the last one merges.
    fn search_read(&mut self, conn: &mut Conn, sop: SearchOp) {
        let make_op = sop.clone();
        self.broadcast(
            conn,
            move || {
                let op = make_op.clone();
                Box::new(move |w: &mut Worker| {
                    let part = moon_engine::search::read(w.shard.search(), &op);
                    Box::new(part) as Box<dyn std::any::Any + Send>
                })
            },
            Box::new(move |parts| {
                let mut all = Vec::with_capacity(parts.len());
                for p in parts {
                    match p {
                        Part::Any(b) => {
                            match b.downcast::<Result<moon_engine::search::ReadPart, String>>() {
                                Ok(r) => all.push(*r),
                                Err(_) => all.push(Err("ERR a shard did not respond".into())),
                            }
                        }
                        _ => all.push(Err("ERR a shard did not respond".into())),
                    }
                }
                moon_engine::search::merge_read(&sop, all)
            }),
        );
    }
}

impl Worker {
    /// FT.SEARCH over every shard: each runs the plan over its docs, the last one merges
    /// (`moon_engine::search::query::merge`).
    fn search_query(&mut self, conn: &mut Conn, plan: SearchPlan) {
        if self.shared.shards() > 1 && plan.text.stats.is_none() && plan.has_text() {
            return self.search_two_phase(conn, plan);
        }
        let resp3 = conn.proto == Proto::Resp3;
        let plan = std::sync::Arc::new(plan);
        let make_plan = plan.clone();
        self.broadcast(
            conn,
            move || {
                let plan = make_plan.clone();
                Box::new(move |w: &mut Worker| {
                    let part = w.shard.search_part(&plan, w.now_ms);
                    Box::new(part) as Box<dyn std::any::Any + Send>
                })
            },
            Box::new(move |parts| {
                let all = crate::ft::shard_parts::<SearchPart>(parts);
                moon_engine::search::query::merge(&plan, all, resp3)
            }),
        );
    }
}

/// Phase 1 of a multi-shard text search: the statistics gathered so far.
struct StatsGather {
    stats: Stats,
    remaining: usize,
}

impl Worker {
    /// A text search over several shards in two phases, so that scores use collection
    /// statistics summed over every shard (a doc scores the same on any shard):
    /// 1. every shard computes its `local_stats` for the plan and adds them to a shared
    ///    accumulator; the shard that completes it starts phase 2 itself (no round trip
    ///    through the connection's shard);
    /// 2. every shard runs the plan with the merged statistics and answers the connection's
    ///    deferred reply (part = shard), merged as a one-phase search.
    ///
    /// Phase 1 never fails the query: a shard's error (an unknown index, ...) contributes
    /// nothing and phase 2 reports it. A panic while computing statistics is contained so
    /// that the count always reaches zero.
    fn search_two_phase(&mut self, conn: &mut Conn, plan: SearchPlan) {
        let shards = self.shared.shards();
        let resp3 = conn.proto == Proto::Resp3;
        let merge_plan = Arc::new(plan.clone());
        let seq = conn.defer(
            shards,
            Finish::Custom(Box::new(move |parts| {
                let all = crate::ft::shard_parts::<SearchPart>(parts);
                moon_engine::search::query::merge(&merge_plan, all, resp3)
            })),
        );
        let (home, client) = (self.id, conn.id);
        let plan = Arc::new(plan);
        let gather = Arc::new(Mutex::new(StatsGather {
            stats: Stats::default(),
            remaining: shards,
        }));
        for s in 0..shards {
            let (plan, gather) = (plan.clone(), gather.clone());
            let f: CallFn = Box::new(move |w: &mut Worker| {
                let local = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    moon_engine::search::query::local_stats(w.shard.search(), &plan)
                }));
                let done = {
                    let mut g = gather.lock().unwrap_or_else(|p| p.into_inner());
                    if let Ok(Ok(st)) = &local {
                        g.stats.merge(st);
                    }
                    g.remaining -= 1;
                    (g.remaining == 0).then(|| std::mem::take(&mut g.stats))
                };
                if let Some(stats) = done {
                    let mut p = (*plan).clone();
                    p.text.stats = Some(stats);
                    let p = Arc::new(p);
                    for t in 0..w.shared.shards() {
                        let p = p.clone();
                        let to = ReplyTo {
                            shard: home,
                            client,
                            seq,
                            part: t,
                        };
                        let f: CallFn = Box::new(move |w: &mut Worker| {
                            let part = w.shard.search_part(&p, w.now_ms);
                            Box::new(part) as Box<dyn std::any::Any + Send>
                        });
                        w.outboxes[t].send(Msg::Call { to, f });
                    }
                }
                Box::new(()) as Box<dyn std::any::Any + Send>
            });
            if s == self.id {
                f(self);
            } else {
                self.post(s, f);
            }
        }
    }
}

/// How a parameter may be set.
#[derive(Clone, Copy)]
enum Kind {
    /// An integer within bounds.
    Int(i64, i64),
    /// One of these words (stored lowercase).
    Word(&'static [&'static str]),
    /// `true`/`false`.
    Bool,
    /// Only at load time: FT.CONFIG SET refuses it.
    LoadOnly,
}

/// RediSearch 2.8's FT.CONFIG parameters with their defaults (None = null).
const PARAMS: &[(&str, Option<&str>, Kind)] = &[
    ("EXTLOAD", None, Kind::LoadOnly),
    ("SAFEMODE", Some("true"), Kind::LoadOnly),
    ("CONCURRENT_WRITE_MODE", Some("false"), Kind::LoadOnly),
    ("NOGC", Some("false"), Kind::LoadOnly),
    ("MINPREFIX", Some("2"), Kind::Int(1, i64::MAX)),
    (
        "FORKGC_SLEEP_BEFORE_EXIT",
        Some("0"),
        Kind::Int(0, i64::MAX),
    ),
    ("MAXDOCTABLESIZE", Some("1000000"), Kind::LoadOnly),
    ("MAXSEARCHRESULTS", Some("1000000"), Kind::Int(0, i64::MAX)),
    (
        "MAXAGGREGATERESULTS",
        Some("unlimited"),
        Kind::Int(0, i64::MAX),
    ),
    ("MAXEXPANSIONS", Some("200"), Kind::Int(1, i64::MAX)),
    ("MAXPREFIXEXPANSIONS", Some("200"), Kind::Int(1, i64::MAX)),
    ("TIMEOUT", Some("500"), Kind::Int(0, i64::MAX)),
    ("INDEX_THREADS", Some("8"), Kind::LoadOnly),
    ("SEARCH_THREADS", Some("20"), Kind::LoadOnly),
    ("WORKER_THREADS", Some("0"), Kind::LoadOnly),
    ("MT_MODE", Some("MT_MODE_OFF"), Kind::LoadOnly),
    ("FRISOINI", None, Kind::LoadOnly),
    (
        "ON_TIMEOUT",
        Some("return"),
        Kind::Word(&["return", "fail"]),
    ),
    ("GCSCANSIZE", Some("100"), Kind::Int(1, i64::MAX)),
    ("MIN_PHONETIC_TERM_LEN", Some("3"), Kind::Int(1, i64::MAX)),
    ("GC_POLICY", Some("fork"), Kind::LoadOnly),
    ("FORK_GC_RUN_INTERVAL", Some("30"), Kind::Int(1, i64::MAX)),
    (
        "FORK_GC_CLEAN_THRESHOLD",
        Some("100"),
        Kind::Int(0, i64::MAX),
    ),
    ("FORK_GC_RETRY_INTERVAL", Some("5"), Kind::Int(1, i64::MAX)),
    (
        "FORK_GC_CLEAN_NUMERIC_EMPTY_NODES",
        Some("true"),
        Kind::Bool,
    ),
    (
        "_FORK_GC_CLEAN_NUMERIC_EMPTY_NODES",
        Some("true"),
        Kind::Bool,
    ),
    (
        "_MAX_RESULTS_TO_UNSORTED_MODE",
        Some("1000"),
        Kind::Int(1, i64::MAX),
    ),
    ("UNION_ITERATOR_HEAP", Some("20"), Kind::Int(1, i64::MAX)),
    ("CURSOR_MAX_IDLE", Some("300000"), Kind::Int(1, i64::MAX)),
    ("NO_MEM_POOLS", Some("false"), Kind::LoadOnly),
    ("PARTIAL_INDEXED_DOCS", Some("false"), Kind::LoadOnly),
    (
        "UPGRADE_INDEX",
        Some("Upgrade config for upgrading"),
        Kind::LoadOnly,
    ),
    ("_NUMERIC_COMPRESS", Some("false"), Kind::Bool),
    ("_FREE_RESOURCE_ON_THREAD", Some("true"), Kind::Bool),
    ("_PRINT_PROFILE_CLOCK", Some("true"), Kind::Bool),
    ("RAW_DOCID_ENCODING", Some("false"), Kind::LoadOnly),
    ("_NUMERIC_RANGES_PARENTS", Some("0"), Kind::Int(0, 2)),
    ("DEFAULT_DIALECT", Some("1"), Kind::Int(1, 4)),
    ("VSS_MAX_RESIZE", Some("0"), Kind::Int(0, i64::MAX)),
];

/// Current values, by position in [`PARAMS`] (filled with the defaults on first use).
static VALUES: Mutex<Vec<Option<String>>> = Mutex::new(Vec::new());

fn with_values<R>(f: impl FnOnce(&mut Vec<Option<String>>) -> R) -> R {
    let mut v = VALUES.lock().unwrap_or_else(|p| p.into_inner());
    if v.len() != PARAMS.len() {
        *v = PARAMS
            .iter()
            .map(|(_, d, _)| d.map(str::to_string))
            .collect();
    }
    f(&mut v)
}

/// FT.CONFIG GET: `*` for every parameter, else one name (any case); `[[name, value], ...]`.
fn config_get(pattern: &Bytes) -> Reply {
    with_values(|values| {
        let all = pattern.as_ref() == b"*";
        Reply::Array(
            PARAMS
                .iter()
                .zip(values.iter())
                .filter(|((name, _, _), _)| all || name.as_bytes().eq_ignore_ascii_case(pattern))
                .map(|((name, _, _), v)| {
                    Reply::Array(vec![
                        Reply::bulk(name.as_bytes()),
                        v.as_ref().map_or(Reply::Nil, |v| Reply::bulk(v.as_bytes())),
                    ])
                })
                .collect(),
        )
    })
}

/// FT.CONFIG SET name value.
fn config_set(name: &Bytes, value: &Bytes) -> Reply {
    let Some(pos) = PARAMS
        .iter()
        .position(|(n, _, _)| n.as_bytes().eq_ignore_ascii_case(name))
    else {
        return err("Unknown option");
    };
    let (pname, _, kind) = PARAMS[pos];
    let text = String::from_utf8_lossy(value).into_owned();
    let stored = match kind {
        Kind::LoadOnly => return err("Not modifiable at runtime"),
        Kind::Int(lo, hi) => match text.parse::<i64>() {
            Ok(v) if (lo..=hi).contains(&v) => v.to_string(),
            Ok(_) => {
                return err(format!(
                    "Bad arguments for {pname}: Value is outside acceptable bounds"
                ));
            }
            Err(_) if pname == "MAXAGGREGATERESULTS" && text.eq_ignore_ascii_case("unlimited") => {
                "unlimited".to_string()
            }
            Err(_) => {
                return err(format!(
                    "Bad arguments for {pname}: Could not convert argument to expected type"
                ));
            }
        },
        Kind::Word(words) => match words.iter().find(|w| w.eq_ignore_ascii_case(&text)) {
            Some(w) => w.to_string(),
            None => return err(format!("Invalid {pname} value")),
        },
        Kind::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "false" => text.to_ascii_lowercase(),
            _ => {
                return err(format!(
                    "Bad arguments for {pname}: Could not convert argument to expected type"
                ));
            }
        },
    };
    with_values(|values| {
        if let Some(slot) = values.get_mut(pos) {
            *slot = Some(stored);
        }
    });
    Reply::Ok
}

/// Each shard's `Result<T, String>` out of a broadcast's parts; a part that is missing or of
/// another type is the error a client sees when a shard did not answer.
pub(crate) fn shard_parts<T: 'static>(parts: Vec<Part>) -> Vec<Result<T, String>> {
    parts
        .into_iter()
        .map(|p| match p {
            Part::Any(b) => b
                .downcast::<Result<T, String>>()
                .map_or_else(|_| Err("ERR a shard did not respond".into()), |r| *r),
            _ => Err("ERR a shard did not respond".into()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn config_get_and_set() {
        let got = config_get(&b("minprefix"));
        assert_eq!(
            got,
            Reply::Array(vec![Reply::Array(vec![
                Reply::bulk(b"MINPREFIX"),
                Reply::bulk(b"2")
            ])])
        );
        assert_eq!(config_get(&b("nope")), Reply::Array(vec![]));
        let Reply::Array(all) = config_get(&b("*")) else {
            panic!("array")
        };
        assert_eq!(all.len(), PARAMS.len());
        assert_eq!(config_set(&b("TIMEOUT"), &b("100")), Reply::Ok);
        assert_eq!(
            config_get(&b("TIMEOUT")),
            Reply::Array(vec![Reply::Array(vec![
                Reply::bulk(b"TIMEOUT"),
                Reply::bulk(b"100")
            ])])
        );
        assert_eq!(config_set(&b("TIMEOUT"), &b("500")), Reply::Ok);
        assert!(config_set(&b("TIMEOUT"), &b("x")).is_err());
        assert!(config_set(&b("GC_POLICY"), &b("x")).is_err());
        assert!(config_set(&b("BOGUS"), &b("1")).is_err());
        assert!(config_set(&b("DEFAULT_DIALECT"), &b("5")).is_err());
    }
}
