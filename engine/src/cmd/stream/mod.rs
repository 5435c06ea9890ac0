//! Execution of streams and consumer groups.

use super::Exec;
use crate::ir::Reply;
use crate::ir::ops::StreamOp;

/// Executes one op of the family.
pub(crate) fn execute(_x: &mut Exec<'_>, op: &StreamOp) -> Reply {
    match *op {}
}

/// Before a blocking read parks: rewrite `$` IDs to the stream's current last ID, so the
/// re-executed op sees only entries added after it blocked.
pub(crate) fn prepare_block(_x: &mut Exec<'_>, op: &mut StreamOp) {
    match *op {}
}
