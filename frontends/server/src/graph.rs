//! Server glue of the `GRAPH.*` commands that span shards. Everything else about graphs runs
//! on the key's owner through the ordinary op routing (`Op::Graph`, see
//! `moon_engine::shard::graph`); GRAPH.LIST is an all-shards op whose parts concatenate.
//!
//! GRAPH.COPY is routed as an atomic op: while both owners are frozen, the source owner deep-
//! copies the graph and the destination owner stores it (`Shard::graph_put`, which logs the
//! copy as the mutations that rebuild it, so replay does not depend on the source shard).

use bytes::Bytes;
use moon_engine::ir::ops::GraphOp;
use moon_engine::ir::{ExecCtx, Op, OpError, Reply};

use crate::atomic::Access;

fn gone() -> Reply {
    Reply::Err(OpError::Other("ERR a shard did not respond".into()))
}

/// GRAPH.COPY src dst, both owners frozen by the caller.
pub(crate) fn copy(
    access: &mut Access<'_>,
    owner_of: &dyn Fn(&[u8]) -> usize,
    ctx: ExecCtx,
    src: Bytes,
    dst: Bytes,
) -> Reply {
    let (so, dof) = (owner_of(&src), owner_of(&dst));
    if so == dof {
        let op = Op::Graph(GraphOp::Copy { src, dst });
        return access
            .on(so, move |s| s.apply(&ctx, &op))
            .unwrap_or_else(gone);
    }
    let dst2 = dst.clone();
    match access.on(dof, move |s| s.exists(ctx.db, &dst2, ctx.now_ms)) {
        None => return gone(),
        Some(true) => {
            return Reply::Err(OpError::Other("ERR destination key already exists".into()));
        }
        Some(false) => {}
    }
    let graph = match access.on(so, move |s| s.graph_clone(ctx.db, &src, ctx.now_ms)) {
        None => return gone(),
        Some(Err(reply)) => return reply,
        Some(Ok(g)) => g,
    };
    access
        .on(dof, move |s| s.graph_put(ctx.db, &dst, graph, ctx.now_ms))
        .unwrap_or_else(gone)
}
