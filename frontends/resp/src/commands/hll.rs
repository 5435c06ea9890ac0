//! Table entries and parsers of HyperLogLog (PFADD/PFCOUNT/PFMERGE), stored as strings.

use super::table::CommandSpec;

/// Every command of the family (consulted after the core registry).
pub static COMMANDS: &[&CommandSpec] = &[];
