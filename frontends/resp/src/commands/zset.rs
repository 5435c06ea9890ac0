//! Table entries and parsers of sorted sets.

use super::table::CommandSpec;

/// Every command of the family (consulted after the core registry).
pub static COMMANDS: &[&CommandSpec] = &[];
