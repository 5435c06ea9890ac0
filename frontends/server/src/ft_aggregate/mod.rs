//! Server side of FT.AGGREGATE and FT.CURSOR: the parsed command (moon-ft's steps) is split
//! into the shards' op (`SearchOp::Aggregate`: the lowered query and the load requests, engine
//! types only) and the pipeline ([`pipeline`]) the server runs itself. Every shard returns the
//! rows of its matching docs (`moon_engine::search::aggregate::execute`), the last one to
//! answer runs the pipeline over all of them (`pipeline::merge`) and replies, or, with
//! WITHCURSOR, parks the result in the process-wide cursor table and replies with the first
//! chunk and the cursor id.
//!
//! Invariants: a cursor holds the pipeline's finished rows (no shard state), so reading it
//! needs no shard and cannot see later writes (RediSearch's cursors see writes between
//! reads; results here are a snapshot of the first call). A cursor is removed when its last
//! row is read (the reply then carries id 0), by FT.CURSOR DEL, or once idle longer than its
//! MAXIDLE (checked whenever the table is touched). The table's mutex is taken only by these
//! commands, never on a hot path.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use moon_engine::ir::ops::SearchOp;
use moon_engine::ir::{OpError, Reply};
use moon_engine::search::aggregate::{self, AggPart, AggregatePlan};
use moon_engine::search::spellcheck::{self, SpellPart, SpellPlan};
use moon_resp::codec::Proto;
use moon_resp::commands::FtAggregate;

use crate::conn::Conn;
use crate::worker::Worker;

mod pipeline;

use pipeline::Row;

/// Rows per cursor read without COUNT (RediSearch's default chunk).
const DEFAULT_CURSOR_COUNT: u64 = 1000;
/// The longest MAXIDLE (RediSearch's CURSOR_MAX_IDLE default, ms).
const MAX_IDLE_MS: u64 = 300_000;

/// A parked FT.AGGREGATE result.
struct Cursor {
    index: Bytes,
    total: u64,
    rows: VecDeque<Row>,
    count: u64,
    max_idle: Duration,
    last_used: Instant,
}

static CURSORS: Mutex<Option<HashMap<u64, Cursor>>> = Mutex::new(None);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn err(text: impl Into<String>) -> Reply {
    Reply::Err(OpError::Other(text.into()))
}

/// Runs `f` on the cursor table after dropping the cursors idle past their MAXIDLE.
fn with_cursors<R>(f: impl FnOnce(&mut HashMap<u64, Cursor>) -> R) -> R {
    let mut guard = CURSORS.lock().unwrap_or_else(|p| p.into_inner());
    let table = guard.get_or_insert_with(HashMap::new);
    let now = Instant::now();
    table.retain(|_, c| now.duration_since(c.last_used) <= c.max_idle);
    f(table)
}

/// A fresh cursor id: positive as a RESP integer, never 0 (0 means "exhausted").
fn new_id(table: &HashMap<u64, Cursor>) -> u64 {
    loop {
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        // Spread the counter so ids are not guessable neighbours (as RediSearch's random ids).
        let id = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (n >> 7)) & (i64::MAX as u64);
        if id != 0 && !table.contains_key(&id) {
            return id;
        }
    }
}

/// Takes up to `count` rows of cursor `id` and replies `[chunk, next id]` (0 when done).
fn read_chunk(table: &mut HashMap<u64, Cursor>, id: u64, count: Option<u64>, resp3: bool) -> Reply {
    let Some(c) = table.get_mut(&id) else {
        return err("Cursor not found");
    };
    let n = usize::try_from(count.unwrap_or(c.count).max(1)).unwrap_or(usize::MAX);
    let take = n.min(c.rows.len());
    let rows: Vec<Row> = c.rows.drain(..take).collect();
    let total = c.total;
    c.last_used = Instant::now();
    let next = if c.rows.is_empty() {
        table.remove(&id);
        0
    } else {
        id
    };
    Reply::Array(vec![
        pipeline::reply(total, rows.into_iter(), resp3),
        Reply::Int(i64::try_from(next).unwrap_or(0)),
    ])
}

impl Worker {
    /// FT.AGGREGATE for `conn`: splits it and runs it (module docs); never fails at once.
    pub(crate) fn ft_aggregate(&mut self, conn: &mut Conn, cmd: FtAggregate) -> bool {
        let plan = AggregatePlan {
            load: pipeline::load_reqs(&cmd.args.steps),
            search: cmd.search,
        };
        self.aggregate_query(conn, plan, cmd.args);
        false
    }

    /// FT.AGGREGATE's op (never built by the parser, which yields `ConnCmd::FtAggregate`:
    /// run without steps) / FT.CURSOR for `conn`; returns true if it failed at once.
    pub(crate) fn aggregate_op(&mut self, conn: &mut Conn, sop: SearchOp) -> bool {
        let resp3 = conn.proto == Proto::Resp3;
        let reply = match sop {
            SearchOp::Aggregate(plan) => {
                self.aggregate_query(conn, *plan, moon_ft::AggregateArgs::default());
                return false;
            }
            SearchOp::CursorRead { index, id, count } => with_cursors(|t| {
                if t.get(&id).is_some_and(|c| c.index != index) {
                    return err("Cursor not found");
                }
                read_chunk(t, id, count, resp3)
            }),
            SearchOp::CursorDel { index, id } => with_cursors(|t| match t.get(&id) {
                Some(c) if c.index == index => {
                    t.remove(&id);
                    Reply::Ok
                }
                _ => err("Cursor does not exist"),
            }),
            SearchOp::SpellCheck(plan) => {
                self.spellcheck(conn, *plan);
                return false;
            }
            _ => err("ERR not an aggregate command"),
        };
        let failed = reply.is_err();
        conn.reply(reply);
        failed
    }

    /// FT.AGGREGATE over every shard: each returns its rows, the last one runs the pipeline.
    fn aggregate_query(
        &mut self,
        conn: &mut Conn,
        plan: AggregatePlan,
        args: moon_ft::AggregateArgs,
    ) {
        let resp3 = conn.proto == Proto::Resp3;
        let index = plan.search.index.clone();
        let plan = std::sync::Arc::new(plan);
        let make_plan = plan.clone();
        self.broadcast(
            conn,
            move || {
                let plan = make_plan.clone();
                Box::new(move |w: &mut Worker| {
                    let part = match w.shard.db(moon_engine::search::INDEXED_DB) {
                        Some(db) => aggregate::execute(w.shard.search(), db, &plan, w.now_ms),
                        None => Err("ERR no indexed database".to_string()),
                    };
                    Box::new(part) as Box<dyn std::any::Any + Send>
                })
            },
            Box::new(move |parts| {
                let all = crate::ft::shard_parts::<AggPart>(parts);
                let out = match pipeline::merge(&args.steps, all) {
                    Ok(o) => o,
                    Err(e) => return err(e),
                };
                let Some(cargs) = &args.cursor else {
                    return pipeline::reply(out.total, out.rows.into_iter(), resp3);
                };
                let max_idle = cargs.max_idle_ms.unwrap_or(MAX_IDLE_MS).min(MAX_IDLE_MS);
                with_cursors(|t| {
                    let id = new_id(t);
                    t.insert(
                        id,
                        Cursor {
                            index: index.clone(),
                            total: out.total,
                            rows: out.rows.into(),
                            count: cargs.count.unwrap_or(DEFAULT_CURSOR_COUNT),
                            max_idle: Duration::from_millis(max_idle),
                            last_used: Instant::now(),
                        },
                    );
                    read_chunk(t, id, None, resp3)
                })
            }),
        );
    }
}

impl Worker {
    /// FT.SPELLCHECK over every shard: each checks the terms against its own index, the
    /// last one merges with collection-wide counts.
    fn spellcheck(&mut self, conn: &mut Conn, plan: SpellPlan) {
        let resp3 = conn.proto == Proto::Resp3;
        let plan = std::sync::Arc::new(plan);
        let make_plan = plan.clone();
        self.broadcast(
            conn,
            move || {
                let plan = make_plan.clone();
                Box::new(move |w: &mut Worker| {
                    let part = spellcheck::execute(w.shard.search(), &plan);
                    Box::new(part) as Box<dyn std::any::Any + Send>
                })
            },
            Box::new(move |parts| {
                let all = crate::ft::shard_parts::<SpellPart>(parts);
                spellcheck::merge(&plan, all, resp3)
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: usize) -> Row {
        Row {
            key: Bytes::from(format!("k{i}")),
            fields: Vec::new(),
        }
    }

    #[test]
    fn cursor_chunks_until_exhausted() {
        with_cursors(|t| {
            let id = new_id(t);
            assert_ne!(id, 0);
            t.insert(
                id,
                Cursor {
                    index: Bytes::from_static(b"i"),
                    total: 5,
                    rows: (0..5).map(rec).collect(),
                    count: 2,
                    max_idle: Duration::from_secs(60),
                    last_used: Instant::now(),
                },
            );
            let next = |r: &Reply| match r {
                Reply::Array(v) => match v.get(1) {
                    Some(Reply::Int(n)) => *n,
                    _ => -1,
                },
                _ => -1,
            };
            let r = read_chunk(t, id, None, false);
            assert_eq!(next(&r), id as i64);
            let r = read_chunk(t, id, Some(10), false);
            assert_eq!(next(&r), 0);
            assert!(read_chunk(t, id, None, false).is_err());
        });
    }
}
