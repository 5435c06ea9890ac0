//! Table entries and parsers of streams and consumer groups.

use super::table::CommandSpec;

/// Every command of the family (consulted after the core registry).
pub static COMMANDS: &[&CommandSpec] = &[];
