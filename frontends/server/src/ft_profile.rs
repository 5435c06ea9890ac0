//! FT.PROFILE's server glue: runs the FT.SEARCH plan on every shard as FT.SEARCH does, timing
//! each shard's execution, then merges with FT.SEARCH's own merge and wraps the result with
//! the measurements (`moon_engine::search::profile::reply`).
//!
//! Invariant: the results part is built by `moon_engine::search::query::merge`, the function
//! FT.SEARCH replies with, so a profiled search returns what the plain search would. A text
//! query over several shards is scored with each shard's own term statistics here (no
//! statistics phase), so its scores may differ from FT.SEARCH's.

use std::sync::Arc;
use std::time::Instant;

use moon_engine::search::profile::{ProfileOp, ShardProfile, Timings};
use moon_engine::search::query::SearchPart;
use moon_resp::codec::Proto;

use crate::conn::{Conn, Part};
use crate::worker::Worker;

type ShardResult = (Result<SearchPart, String>, ShardProfile);

impl Worker {
    /// FT.PROFILE ... SEARCH over every shard.
    pub(crate) fn search_profile(&mut self, conn: &mut Conn, op: ProfileOp) {
        let start = Instant::now();
        let resp3 = conn.proto == Proto::Resp3;
        let op = Arc::new(op);
        let make_op = op.clone();
        let pipeline_us = start.elapsed().as_micros() as u64;
        self.broadcast(
            conn,
            move || {
                let op = make_op.clone();
                Box::new(move |w: &mut Worker| {
                    let t = Instant::now();
                    let part = w.shard.search_part(&op.plan, w.now_ms);
                    let exec_us = t.elapsed().as_micros() as u64;
                    let prof = match &part {
                        Ok(p) => ShardProfile {
                            exec_us,
                            total: p.total,
                            returned: p.hits.len() as u64,
                        },
                        Err(_) => ShardProfile {
                            exec_us,
                            ..ShardProfile::default()
                        },
                    };
                    Box::new((part, prof)) as Box<dyn std::any::Any + Send>
                })
            },
            Box::new(move |parts| {
                let merge_start = Instant::now();
                let mut results = Vec::with_capacity(parts.len());
                let mut profiles = Vec::with_capacity(parts.len());
                for p in parts {
                    let r = match p {
                        Part::Any(b) => b.downcast::<ShardResult>().ok().map(|b| *b),
                        _ => None,
                    };
                    match r {
                        Some((part, prof)) => {
                            results.push(part);
                            profiles.push(prof);
                        }
                        None => results.push(Err("ERR a shard did not respond".into())),
                    }
                }
                let merged = moon_engine::search::query::merge(&op.plan, results, resp3);
                let merge_us = merge_start.elapsed().as_micros() as u64;
                let timings = Timings {
                    parse_us: op.parse_us,
                    pipeline_us,
                    merge_us,
                    total_us: op.parse_us + start.elapsed().as_micros() as u64,
                };
                moon_engine::search::profile::reply(&op, merged, &profiles, timings, resp3)
            }),
        );
    }
}
