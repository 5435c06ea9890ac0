//! Execution of sorted sets.

use super::Exec;
use crate::ir::Reply;
use crate::ir::ops::ZSetOp;

/// Executes one op of the family.
pub(crate) fn execute(_x: &mut Exec<'_>, op: &ZSetOp) -> Reply {
    match *op {}
}
