//! RediSearch-compatible front-end: parses FT.SEARCH / FT.AGGREGATE query strings and
//! arguments into typed structures (pure parsing, no storage), renders FT.EXPLAIN, and
//! parses and evaluates the APPLY / FILTER expression language.
//!
//! Reference semantics: RediSearch 2.8/2.10, DIALECT 2 (see SPEC.md §9.6). Nothing in
//! this crate panics on untrusted input; errors carry RediSearch's wording.

pub mod aggregate;
pub mod args;
pub mod cfmt;
pub mod expr;
pub mod params;
pub mod query;
pub mod search_args;

pub use aggregate::{AggregateArgs, Step, parse_aggregate_args, parse_aggregate_args_with};
pub use args::ArgError;
pub use expr::ast::{BinOp, CmpOp, Expr, Value};
pub use expr::eval::{EvalError, Row, eval};
pub use expr::parse::{ExprError, parse_expr};
pub use params::Params;
pub use query::ast::{
    Attributes, GeoFilter, GeoUnit, NodeKind, NumericRange, QueryNode, TagValue, Term, VectorKnn,
    VectorRange,
};
pub use query::error::{QueryError, QueryErrorKind};
pub use query::explain::{NoExpansion, TermExpander, explain_cli};
pub use query::parse::{QueryOptions, Stopwords};
pub use search_args::{
    ArgLimits, HybridArg, SearchArgs, parse_search_args, parse_search_args_with,
};

/// Parses a query string with RediSearch's default stopwords.
pub fn parse_query(text: &[u8], params: &Params, dialect: u32) -> Result<QueryNode, QueryError> {
    let stopwords = Stopwords::default_ref();
    query::parse::parse_with(
        text,
        &QueryOptions {
            params,
            dialect,
            stopwords,
        },
    )
}

/// Parses a query string with explicit options (stopword list, `NOSTOPWORDS`).
pub fn parse_query_with(text: &[u8], opts: &QueryOptions<'_>) -> Result<QueryNode, QueryError> {
    query::parse::parse_with(text, opts)
}

/// FT.EXPLAIN's text for a parsed query; `expand` supplies term expansions (stemming).
pub fn explain(root: &QueryNode, expand: &dyn TermExpander) -> String {
    query::explain::explain(root, expand)
}
