//! Execution of geo commands, stored as sorted sets.

use super::Exec;
use crate::ir::Reply;
use crate::ir::ops::GeoOp;

/// Executes one op of the family.
pub(crate) fn execute(_x: &mut Exec<'_>, op: &GeoOp) -> Reply {
    match *op {}
}
