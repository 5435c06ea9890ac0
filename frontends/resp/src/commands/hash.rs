//! Table entries and parsers of hashes, including per-field TTL.

use super::table::CommandSpec;

/// Every command of the family (consulted after the core registry).
pub static COMMANDS: &[&CommandSpec] = &[];
