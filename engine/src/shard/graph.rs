//! Shard-side execution of the `GRAPH.*` ops (`Op::Graph`): queries against the graph stored
//! under a key, their FalkorDB replies (`crate::graph::reply`), and their WAL effects.
//!
//! WAL: a write query runs with the graph's mutation recorder on (only while this shard's WAL
//! is on) and logs `GRAPH.EFFECT key <batch>` itself, after logging the DELs of keys found
//! expired (so replay never deletes what the query created); its `Op` has no canonical command
//! (`crate::graph::unparse` answers `None`), so `wal_after_write` adds nothing. A failed query
//! changes nothing (the executor restores the graph) and logs nothing, except that a graph
//! GRAPH.QUERY created for it stays (as in FalkorDB) and its creation is logged.
//!
//! GRAPH.CONSTRAINT (`graph_constraint`) is logged the same way: the schema names it
//! interned and its constraint record (with the status it was built with).
//!
//! Timeouts: a query's deadline comes from its `timeout` argument and GRAPH.CONFIG's TIMEOUT*
//! (`config::query_timeout`); the executor aborts past it with `Query timed out`.
//!
//! Per-graph slow logs: `crate::graph::slowlog`. Timing uses the monotonic clock for the
//! reply's `Query internal execution time` and the slow log only: it never changes state, so
//! replay stays deterministic.

use std::time::{Duration, Instant};

use bytes::Bytes;
use moon_graph::Mutation;
use moon_graph::exec::{self, ResultSet};
use moon_graph::plan::Plan;

use super::Shard;
use crate::graph::{GraphValue, config, release, reply, slowlog};
use crate::ir::ops::{GraphConstraint, GraphOp, GraphQuery};
use crate::ir::{ExecCtx, OpError, Reply};
use crate::keyspace::Entry;
use crate::keyspace::entry::{LargeValue, clock_secs};

fn err(text: impl Into<String>) -> Reply {
    Reply::Err(OpError::Other(text.into()))
}

fn empty_key() -> Reply {
    err("ERR Invalid graph operation on empty key")
}

/// Units of compaction work (≈ adjacency entries copied) per idle tick: about a millisecond.
const GRAPH_TICK_BUDGET: usize = 256 * 1024;

/// What a graph key holds.
enum Found {
    Missing,
    Graph,
    Other,
}

/// Applies `RESULTSET_SIZE` (FalkorDB drops the rows past it).
fn cap_rows(rs: &mut ResultSet) {
    let cap = config::int("RESULTSET_SIZE");
    if let Ok(cap) = usize::try_from(cap) {
        rs.rows.truncate(cap);
    }
}

impl Shard {
    fn graph_found(&mut self, db: usize, key: &[u8], now_ms: u64) -> Found {
        let touch = Some(clock_secs(now_ms));
        match self.dbs[db].lookup(key, now_ms, touch) {
            None => Found::Missing,
            Some(e) if matches!(e.value(), Some(LargeValue::Graph(_))) => Found::Graph,
            Some(_) => Found::Other,
        }
    }

    /// The graph at `key`, created empty when missing and `create` allows it: `Ok(true)` when
    /// it was created, `Err` with the reply for another type or a missing key left missing.
    fn graph_or_create(
        &mut self,
        db: usize,
        key: &[u8],
        now_ms: u64,
        create: bool,
    ) -> Result<bool, Reply> {
        match self.graph_found(db, key, now_ms) {
            Found::Other => Err(OpError::WrongType.into()),
            Found::Missing if !create => Err(empty_key()),
            Found::Missing => {
                let entry = Entry::new_value(
                    key,
                    LargeValue::Graph(Box::new(GraphValue::new())),
                    None,
                    clock_secs(now_ms),
                );
                self.dbs[db].insert(entry);
                Ok(true)
            }
            Found::Graph => Ok(false),
        }
    }

    fn graph_ref(&self, db: usize, key: &[u8], now_ms: u64) -> Option<&GraphValue> {
        match self.dbs[db].peek(key, now_ms)?.value()? {
            LargeValue::Graph(g) => Some(g),
            _ => None,
        }
    }

    /// Executes one graph op (called by `Shard::execute`).
    pub(super) fn graph_execute(&mut self, ctx: &ExecCtx, op: &GraphOp) -> Reply {
        let (db, now) = (ctx.db, ctx.now_ms);
        match op {
            GraphOp::Query(q) => self.graph_query(ctx, q, false),
            GraphOp::Profile(q) => self.graph_query(ctx, q, true),
            GraphOp::Explain { key, plan } => match self.graph_found(db, key, now) {
                Found::Other => OpError::WrongType.into(),
                _ => {
                    let g = self.graph_ref(db, key, now).map(|gv| &gv.graph);
                    lines_reply(moon_graph::explain::explain_lines_for(plan, g))
                }
            },
            GraphOp::Delete { key } => match self.graph_found(db, key, now) {
                Found::Graph => {
                    self.dbs[db].remove(key, now);
                    slowlog::forget(db, key);
                    Reply::Ok
                }
                _ => empty_key(),
            },
            GraphOp::List => {
                let keys = self.dbs[db]
                    .iter()
                    .filter(|e| {
                        !e.is_expired(now) && matches!(e.value(), Some(LargeValue::Graph(_)))
                    })
                    .map(|e| Reply::bulk(e.key()))
                    .collect();
                Reply::Array(keys)
            }
            GraphOp::MemoryUsage { key } => match self.graph_found(db, key, now) {
                Found::Graph => self
                    .graph_ref(db, key, now)
                    .map_or_else(empty_key, memory_reply),
                Found::Other => OpError::WrongType.into(),
                Found::Missing => empty_key(),
            },
            GraphOp::Copy { src, dst } => self.graph_copy(ctx, src, dst),
            GraphOp::Effect { key, blob } => self.graph_effect(ctx, key, blob),
            GraphOp::Slowlog { key, reset } => match self.graph_found(db, key, now) {
                Found::Graph => {
                    if *reset {
                        slowlog::forget(db, key);
                        return Reply::Ok;
                    }
                    slowlog::reply(db, key)
                }
                Found::Other => OpError::WrongType.into(),
                Found::Missing => empty_key(),
            },
            GraphOp::Info => Reply::Array(vec![
                Reply::bulk(b"# Running queries"),
                Reply::Array(Vec::new()),
                Reply::bulk(b"# Waiting queries"),
                Reply::Array(Vec::new()),
                Reply::bulk(b"Object Pool"),
                Reply::Array(vec![
                    Reply::Array(vec![Reply::bulk(b"Unique Objects in Pool"), Reply::Int(0)]),
                    Reply::Array(vec![
                        Reply::bulk(b"Average References per Object"),
                        Reply::bulk(b"0"),
                    ]),
                ]),
            ]),
            GraphOp::ConfigGet { name } => config::get(name),
            GraphOp::ConfigSet { name, value } => config::set(name, value),
            GraphOp::Constraint(c) => self.graph_constraint(ctx, c),
        }
    }

    /// Idle compaction, one bounded step per server tick: writes pace compaction only while
    /// they last (`Graph::maintain`), so a graph whose writes stopped would keep its delta,
    /// and every read would keep paying for it. Works on one listed graph at a time until its
    /// debt is below the idle policy's threshold (`Graph::compact_idle`); keys that vanished
    /// or changed type are dropped. Compaction changes no data, so nothing is logged.
    pub fn graph_tick(&mut self, now_ms: u64) {
        let Some((db, key)) = self.graph_debt.last().cloned() else {
            return;
        };
        // `peek` first: `update` would expire a due key, which only expiry may do.
        let live = self.dbs[db]
            .peek(&key, now_ms)
            .is_some_and(|e| matches!(e.value(), Some(LargeValue::Graph(_))));
        let more = live
            && self.dbs[db]
                .update(&key, now_ms, |e| match e.value_mut() {
                    Some(LargeValue::Graph(gv)) => gv.graph.compact_idle(GRAPH_TICK_BUDGET),
                    _ => false,
                })
                .unwrap_or(false);
        if !more {
            self.graph_debt.pop();
            if live {
                release::release_freed_memory();
            }
        }
    }

    /// Returns freed heap pages to the OS if a big graph write asked for it since the last
    /// call (see `release`); the server loop calls it once per iteration, after the commands
    /// of the iteration are done and their replies flushed, when their transients are free.
    pub fn release_if_requested(&mut self) {
        if std::mem::take(&mut self.release_requested) {
            release::release_freed_memory();
        }
    }

    /// Lists the graph at `key` for idle compaction if it has debt (after a write to it).
    fn note_graph_debt(&mut self, db: usize, key: &Bytes, now_ms: u64) {
        let debt = self
            .graph_ref(db, key, now_ms)
            .is_some_and(|gv| gv.graph.has_idle_debt());
        if debt && !self.graph_debt.iter().any(|(d, k)| *d == db && k == key) {
            self.graph_debt.push((db, Bytes::copy_from_slice(key)));
        }
    }

    fn graph_query(&mut self, ctx: &ExecCtx, q: &GraphQuery, profile: bool) -> Reply {
        let (db, now) = (ctx.db, ctx.now_ms);
        // The deadline only ever aborts (a write is rolled back and logs nothing), so the
        // monotonic clock never leaks into replayed state.
        let deadline = match config::query_timeout(q.timeout_ms, q.writes) {
            Ok(ms) => ms.map(|ms| Instant::now() + Duration::from_millis(ms)),
            Err(text) => return err(text),
        };
        let created = match self.graph_or_create(db, &q.key, now, !q.read_only) {
            Ok(created) => created,
            Err(reply) => return reply,
        };
        let started = Instant::now();
        let cmd = if profile {
            "GRAPH.PROFILE"
        } else if q.read_only {
            "GRAPH.RO_QUERY"
        } else {
            "GRAPH.QUERY"
        };
        let mut mutations: Vec<Mutation> = Vec::new();
        let mut churned = 0u64;
        let reply = if q.writes {
            let record = self.wal_enabled();
            let plan = q.plan.clone();
            let params = &q.params;
            let (version, compact) = (q.version, q.compact);
            let out = self.dbs[db].update(&q.key, now, |e| {
                let Some(LargeValue::Graph(gv)) = e.value_mut() else {
                    return (OpError::WrongType.into(), Vec::new(), 0);
                };
                let g = &mut gv.graph;
                if let Some(mismatch) = version_check(g.schema_version(), version) {
                    return (mismatch, Vec::new(), 0);
                }
                g.set_recording(record);
                let labels_before = g.schema().labels.len() as u64;
                let run = exec::execute_until(g, &plan, params, deadline, profile);
                let result = run.map(|(mut rs, prof)| {
                    // FalkorDB counts labels new to the schema for CREATE/MERGE, but label
                    // assignments for SET/REMOVE (the executor counts assignments).
                    if !sets_labels(&plan.ops) {
                        rs.stats.labels_added =
                            (g.schema().labels.len() as u64).saturating_sub(labels_before);
                    }
                    (rs, prof)
                });
                let logged = g.take_mutations();
                g.set_recording(false);
                match result {
                    Ok((mut rs, prof)) => {
                        cap_rows(&mut rs);
                        let ms = started.elapsed().as_secs_f64() * 1000.0;
                        let r = if profile {
                            profile_reply(g, &plan, &rs, &prof)
                        } else {
                            reply::result_reply(g, &rs, compact, ms)
                        };
                        account_write(gv, &rs.stats);
                        let st = &rs.stats;
                        let churned = st.nodes_created
                            + st.nodes_deleted
                            + st.relationships_created
                            + st.relationships_deleted;
                        (r, logged, churned)
                    }
                    Err(e) => (err(e.to_string()), Vec::new(), 0),
                }
            });
            match out {
                Some((r, logged, n)) => {
                    mutations = logged;
                    churned = n;
                    r
                }
                None => empty_key(),
            }
        } else {
            match self.graph_ref(db, &q.key, now) {
                None => empty_key(),
                Some(gv) => {
                    let g = &gv.graph;
                    match version_check(g.schema_version(), q.version) {
                        Some(mismatch) => mismatch,
                        None if profile => {
                            match exec::execute_read_until(g, &q.plan, &q.params, deadline, true) {
                                Ok((mut rs, prof)) => {
                                    cap_rows(&mut rs);
                                    profile_reply(g, &q.plan, &rs, &prof)
                                }
                                Err(e) => err(e.to_string()),
                            }
                        }
                        None => {
                            match exec::execute_read_until(g, &q.plan, &q.params, deadline, false) {
                                Ok((mut rs, _)) => {
                                    cap_rows(&mut rs);
                                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                                    reply::result_reply(g, &rs, q.compact, ms)
                                }
                                Err(e) => err(e.to_string()),
                            }
                        }
                    }
                }
            }
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        slowlog::record(db, &q.key, now, cmd, &q.text, ms);
        if q.writes {
            self.note_graph_debt(db, &q.key, now);
            if churned >= release::BIG_WRITE || q.text.len() >= release::BIG_TEXT {
                // Not now: the query's parameters and effect records are still alive.
                self.release_requested = true;
            }
        }
        if (created || !mutations.is_empty()) && self.wal_enabled() {
            self.log_expired(now);
            self.log_command(db, now, crate::graph::effect_command(&q.key, &mutations));
        }
        reply
    }

    /// GRAPH.EFFECT: replays a mutation batch (creating the graph if missing).
    fn graph_effect(&mut self, ctx: &ExecCtx, key: &Bytes, blob: &[u8]) -> Reply {
        let (db, now) = (ctx.db, ctx.now_ms);
        let batch = match Mutation::decode_batch(blob) {
            Ok(b) => b,
            Err(e) => return err(format!("ERR invalid graph effect: {e}")),
        };
        if let Err(reply) = self.graph_or_create(db, key, now, true) {
            return reply;
        }
        let out = self.dbs[db].update(key, now, |e| {
            let Some(LargeValue::Graph(g)) = e.value_mut() else {
                return Err("WRONGTYPE".to_string());
            };
            // All or nothing, like the query that produced the batch.
            g.graph.apply_batch(&batch).map_err(|why| why.to_string())?;
            g.graph.maintain(batch.len() as u64);
            if batch.iter().any(|m| {
                matches!(
                    m,
                    Mutation::CreateIndex { .. } | Mutation::CreateVectorIndex { .. }
                )
            }) {
                g.remeasure();
            } else {
                g.after_write(batch.len() as u64);
            }
            Ok(())
        });
        if matches!(out, Some(Ok(()))) {
            self.note_graph_debt(db, key, now);
        }
        match out {
            Some(Ok(())) => Reply::Ok,
            Some(Err(why)) => err(format!("ERR invalid graph effect: {why}")),
            None => empty_key(),
        }
    }

    /// GRAPH.CONSTRAINT CREATE|DROP: FalkorDB answers `PENDING` and builds the constraint in
    /// the background; Moon builds it before answering (status OPERATIONAL or FAILED, see
    /// `moon_graph::constraint`) and still answers `PENDING`. CREATE on a missing key creates
    /// the graph, as FalkorDB. Logged like a write query: `GRAPH.EFFECT key <mutations>`
    /// (schema names it interned, then the constraint record with its status).
    fn graph_constraint(&mut self, ctx: &ExecCtx, c: &GraphConstraint) -> Reply {
        let (db, now) = (ctx.db, ctx.now_ms);
        let created = match self.graph_or_create(db, &c.key, now, !c.drop) {
            Ok(created) => created,
            Err(reply) => return reply,
        };
        let record = self.wal_enabled();
        let out = self.dbs[db].update(&c.key, now, |e| {
            let Some(LargeValue::Graph(g)) = e.value_mut() else {
                return (OpError::WrongType.into(), Vec::new());
            };
            let g = &mut g.graph;
            g.set_recording(record);
            let reply = constraint_on(g, c);
            let logged = g.take_mutations();
            g.set_recording(false);
            (reply, logged)
        });
        let Some((reply, mutations)) = out else {
            return empty_key();
        };
        if (created || !mutations.is_empty()) && self.wal_enabled() {
            self.log_expired(now);
            self.log_command(db, now, crate::graph::effect_command(&c.key, &mutations));
        }
        reply
    }

    /// GRAPH.COPY with both keys on this shard.
    fn graph_copy(&mut self, ctx: &ExecCtx, src: &Bytes, dst: &Bytes) -> Reply {
        let (db, now) = (ctx.db, ctx.now_ms);
        match self.graph_found(db, src, now) {
            Found::Graph => {}
            Found::Other => return OpError::WrongType.into(),
            Found::Missing => return empty_key(),
        }
        if self.dbs[db].contains(dst, now) {
            return err("ERR destination key already exists");
        }
        let Some(copy) = self.graph_ref(db, src, now).map(|g| g.graph.copy()) else {
            return empty_key();
        };
        self.graph_put(db, dst, copy, now)
    }

    /// Stores `graph` under `key` (GRAPH.COPY's destination, possibly coming from another
    /// shard) and logs it as the mutations that rebuild it, so replay does not depend on the
    /// source. Refuses to overwrite an existing key.
    pub fn graph_put(
        &mut self,
        db: usize,
        key: &[u8],
        graph: moon_graph::Graph,
        now: u64,
    ) -> Reply {
        if db >= self.dbs.len() {
            return OpError::DbIndexOutOfRange.into();
        }
        if self.dbs[db].contains(key, now) {
            return err("ERR destination key already exists");
        }
        let image = if self.wal_enabled() {
            Some(crate::graph::image_mutations(&graph))
        } else {
            None
        };
        let entry = Entry::new_value(
            key,
            LargeValue::Graph(Box::new(GraphValue::from_graph(graph))),
            None,
            clock_secs(now),
        );
        self.dbs[db].insert(entry);
        if let Some(image) = image {
            self.log_expired(now);
            self.log_command(db, now, crate::graph::effect_command(key, &image));
        }
        Reply::Bulk(Bytes::from_static(b"OK"))
    }

    /// A deep copy of the graph under `key` (GRAPH.COPY across shards): `Err` is the reply.
    pub fn graph_clone(
        &mut self,
        db: usize,
        key: &[u8],
        now: u64,
    ) -> Result<moon_graph::Graph, Reply> {
        if db >= self.dbs.len() {
            return Err(OpError::DbIndexOutOfRange.into());
        }
        match self.graph_found(db, key, now) {
            Found::Graph => self
                .graph_ref(db, key, now)
                .map(|g| g.graph.copy())
                .ok_or_else(empty_key),
            Found::Other => Err(OpError::WrongType.into()),
            Found::Missing => Err(empty_key()),
        }
    }
}

/// Resolves a GRAPH.CONSTRAINT's names and creates or drops it on `g`; the reply. CREATE
/// interns the label/type and properties (FalkorDB adds them to the schema), except for a
/// UNIQUE constraint lacking its index, which is refused first.
fn constraint_on(g: &mut moon_graph::Graph, c: &GraphConstraint) -> Reply {
    use moon_graph::{GraphError, IndexEntity, PropKeyId};
    let entity_of = |g: &moon_graph::Graph| {
        if c.relationship {
            g.rel_type_id(&c.label).map(IndexEntity::RelType)
        } else {
            g.label_id(&c.label).map(IndexEntity::Label)
        }
    };
    let known_keys = |g: &moon_graph::Graph| -> Option<Vec<PropKeyId>> {
        c.props.iter().map(|p| g.prop_key_id(p)).collect()
    };
    let result = if c.drop {
        match (entity_of(g), known_keys(g)) {
            (Some(entity), Some(keys)) => {
                g.drop_constraint(c.kind, entity, &keys).map(|_| Reply::Ok)
            }
            _ => Err(GraphError::ConstraintNotFound),
        }
    } else {
        let indexed = match (entity_of(g), known_keys(g)) {
            (Some(entity), Some(keys)) => keys.iter().all(|&k| g.has_index(entity, k)),
            _ => false,
        };
        if c.kind == moon_graph::ConstraintKind::Unique && !indexed {
            Err(GraphError::MissingConstraintIndex)
        } else {
            let entity = if c.relationship {
                IndexEntity::RelType(g.intern_rel_type(&c.label))
            } else {
                IndexEntity::Label(g.intern_label(&c.label))
            };
            let keys: Vec<PropKeyId> = c.props.iter().map(|p| g.intern_prop_key(p)).collect();
            g.create_constraint(c.kind, entity, &keys)
                .map(|_| Reply::Simple(Bytes::from_static(b"PENDING")))
        }
    };
    result.unwrap_or_else(|e| err(e.to_string()))
}

/// Whether any operator (at any depth) is `SET n:L` / `REMOVE n:L`.
/// Updates the graph's memory estimate after a write query (an index build re-measures: it
/// costs as much as the build).
fn account_write(gv: &mut GraphValue, st: &moon_graph::exec::Stats) {
    // Merges adjacency deltas into the CSRs at the pace of the writes (bounded work).
    gv.graph
        .maintain(st.relationships_created + st.relationships_deleted + st.nodes_deleted);
    if st.indices_created > 0 || st.indices_deleted > 0 {
        gv.remeasure();
        return;
    }
    let changes = st.nodes_created
        + st.nodes_deleted
        + st.relationships_created
        + st.relationships_deleted
        + st.properties_set
        + st.properties_removed
        + st.labels_added
        + st.labels_removed;
    gv.after_write(changes);
}

fn sets_labels(ops: &[moon_graph::plan::Op]) -> bool {
    use moon_graph::plan::Op;
    ops.iter().any(|op| match op {
        Op::SetLabels { .. } => true,
        Op::Optional { ops, .. } | Op::Foreach { body: ops, .. } => sets_labels(ops),
        Op::Merge {
            pattern,
            on_match,
            on_create,
            ..
        } => sets_labels(pattern) || sets_labels(on_match) || sets_labels(on_create),
        Op::Union(branches) => branches.iter().any(|b| sets_labels(b)),
        _ => false,
    })
}

/// `[-version mismatch, :current]` when the client's schema version is stale.
fn version_check(current: u64, asked: Option<u64>) -> Option<Reply> {
    match asked {
        Some(v) if v != current => Some(Reply::Array(vec![
            err("version mismatch"),
            Reply::Int(current as i64),
        ])),
        _ => None,
    }
}

fn lines_reply(lines: Vec<String>) -> Reply {
    Reply::Array(
        lines
            .into_iter()
            .map(|l| Reply::Bulk(Bytes::from(l)))
            .collect(),
    )
}

/// PROFILE's lines: per-top-level-operator records and times from the executor (see
/// `moon_graph::explain::profile_lines`).
fn profile_reply(
    g: &moon_graph::Graph,
    plan: &Plan,
    rs: &ResultSet,
    prof: &[exec::OpProfile],
) -> Reply {
    lines_reply(moon_graph::explain::profile_lines(
        plan,
        Some(g),
        prof,
        rs.rows.len(),
    ))
}

fn mb(bytes: usize) -> Reply {
    Reply::Int((bytes / (1024 * 1024)) as i64)
}

/// GRAPH.MEMORY USAGE's flat map. Moon has one figure per graph (`Graph::memory_usage`):
/// it is the total, and the node/edge blocks; per-label/type figures are not kept (0).
fn memory_reply(gv: &GraphValue) -> Reply {
    let g = &gv.graph;
    let total = g.memory_usage();
    let s = g.schema();
    let labels = s
        .labels
        .names()
        .flat_map(|n| [Reply::bulk(n.as_bytes()), Reply::Int(0)])
        .collect();
    let types = s
        .rel_types
        .names()
        .flat_map(|n| [Reply::bulk(n.as_bytes()), Reply::Int(0)])
        .collect();
    Reply::Array(vec![
        Reply::bulk(b"total_graph_sz_mb"),
        mb(total),
        Reply::bulk(b"label_matrices_sz_mb"),
        Reply::Int(0),
        Reply::bulk(b"relation_matrices_sz_mb"),
        Reply::Int(0),
        Reply::bulk(b"amortized_node_block_sz_mb"),
        mb(total),
        Reply::bulk(b"amortized_node_attributes_by_label_sz_mb"),
        Reply::Array(labels),
        Reply::bulk(b"amortized_unlabeled_nodes_attributes_sz_mb"),
        Reply::Int(0),
        Reply::bulk(b"amortized_edge_block_sz_mb"),
        Reply::Int(0),
        Reply::bulk(b"amortized_edge_attributes_by_type_sz_mb"),
        Reply::Array(types),
        Reply::bulk(b"indices_sz_mb"),
        Reply::Int(0),
    ])
}
