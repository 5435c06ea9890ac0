//! Execution of bitmaps (SETBIT ... BITFIELD), stored as strings.

use super::Exec;
use crate::ir::Reply;
use crate::ir::ops::BitmapOp;

/// Executes one op of the family.
pub(crate) fn execute(_x: &mut Exec<'_>, op: &BitmapOp) -> Reply {
    match *op {}
}
