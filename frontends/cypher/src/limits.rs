//! Named bounds on untrusted query text. Listed in SPEC.md §9.2.
//!
//! The parser (pest) and the AST passes recurse, so nesting must be bounded
//! before recursion starts: brackets are counted by a linear pre-scan
//! ([`crate::parser::check_nesting`]), expression depth while building.

/// Deepest allowed nesting of `(`, `[` and `{` (outside strings/comments).
/// Beyond it `parse` fails with `NestingTooDeep` instead of risking the stack.
pub const MAX_NESTING_DEPTH: usize = 100;

/// Deepest allowed expression tree (each operator / access adds one level;
/// AND/OR/XOR chains are balanced so they add only log2(n)).
pub const MAX_EXPR_DEPTH: usize = 800;

/// Largest accepted query text in bytes.
pub const MAX_QUERY_BYTES: usize = 16 * 1024 * 1024;

/// `parse` and `check` need at most about this much stack at the limits
/// above (measured: ~9 KiB per bracket level in pest with opt-level 1, plus
/// the AST passes). When less remains on the calling thread they run on a
/// fresh stack of [`FRESH_STACK_BYTES`] (via `stacker`), so callers with
/// small thread stacks stay safe.
pub const STACK_RED_ZONE_BYTES: usize = 4 * 1024 * 1024;

/// Size of the fresh stack used when [`STACK_RED_ZONE_BYTES`] is not left.
pub const FRESH_STACK_BYTES: usize = 8 * 1024 * 1024;

/// Upper bound on pest rule calls per parse (`pest::set_call_limit`, a
/// process-wide setting only this crate uses). The grammar is linear for
/// every construct we know of (see the bomb tests in `depth_tests.rs`); this
/// is only a backstop so that an input we did not foresee fails with
/// `NestingTooDeep` after a few seconds of CPU instead of wedging a worker.
/// Flat queries need roughly 10-20 calls per byte; a 3 MB list literal stays
/// well under it (tested).
pub const MAX_PARSER_CALLS: usize = 100_000_000;
