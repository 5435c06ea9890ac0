//! Table entries and parsers of sets (SADD ... SSCAN).

use super::table::CommandSpec;

/// Every command of the family (consulted after the core registry).
pub static COMMANDS: &[&CommandSpec] = &[];
