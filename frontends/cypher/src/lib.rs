//! Cypher front-end: pest grammar, AST with byte positions, semantic checks.
//!
//! `parse(text)` turns a `GRAPH.QUERY` text (with an optional
//! `CYPHER name=value ...` prefix) into an [`ast::Query`]; `check` runs the
//! compile-time semantic rules (scoping, aggregation, pattern rules ...);
//! `compile` does both. Errors carry the TCK error code, a byte offset and a
//! FalkorDB-style message.
//!
//! Module map: `cypher.pest` (grammar), `parser` (pest entry, nesting
//! pre-scan, syntax errors), `build_*` (pairs → `ast`), `literals` (number /
//! string decoding), `semantic` (checks), `functions` (known function names),
//! `visit` (expression traversal), `limits` (every bound on untrusted input),
//! `lower` (checked AST → `moon_graph::plan::Plan`).
//! See SPEC.md §9.2 for the grammar scope, AST shape and error codes.

pub mod ast;
mod build_clause;
mod build_expr;
mod build_pattern;
mod build_schema;
mod build_shared;
pub mod error;
mod functions;
pub mod limits;
mod literals;
pub mod lower;
mod lower_index;
mod lower_vector;
mod parser;
mod prefix_fast;
mod semantic;
pub mod visit;

pub use ast::Query;
pub use build_schema::const_value;
pub use error::{CypherError, ErrorClass, ErrorDetail};
pub use parser::{parse, split_prefix, split_prefix_values};
pub use semantic::check;

/// Parse then check.
pub fn compile(text: &str) -> Result<Query, CypherError> {
    let q = parse(text)?;
    check(&q)?;
    Ok(q)
}

#[cfg(test)]
mod depth_tests;
#[cfg(test)]
mod test_util;
