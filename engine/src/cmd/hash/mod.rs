//! Execution of hashes, including per-field TTL.

use super::Exec;
use crate::ir::Reply;
use crate::ir::ops::HashOp;

/// Executes one op of the family.
pub(crate) fn execute(_x: &mut Exec<'_>, op: &HashOp) -> Reply {
    match *op {}
}
