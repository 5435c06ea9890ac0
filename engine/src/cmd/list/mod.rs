//! Execution of lists (LPUSH ... BLMPOP).

use super::Exec;
use crate::ir::Reply;
use crate::ir::ops::ListOp;

/// Executes one op of the family.
pub(crate) fn execute(_x: &mut Exec<'_>, op: &ListOp) -> Reply {
    match *op {}
}
