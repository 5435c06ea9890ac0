//! Execution of sets (SADD ... SSCAN).

use super::Exec;
use crate::ir::Reply;
use crate::ir::ops::SetOp;

/// Executes one op of the family.
pub(crate) fn execute(_x: &mut Exec<'_>, op: &SetOp) -> Reply {
    match *op {}
}
