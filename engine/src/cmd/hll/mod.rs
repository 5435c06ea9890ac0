//! Execution of HyperLogLog (PFADD/PFCOUNT/PFMERGE), stored as strings.

use super::Exec;
use crate::ir::Reply;
use crate::ir::ops::HllOp;

/// Executes one op of the family.
pub(crate) fn execute(_x: &mut Exec<'_>, op: &HllOp) -> Reply {
    match *op {}
}
