//! Text → AST: the pest parser, a linear nesting pre-scan, and the mapping of
//! pest failures to FalkorDB-style syntax errors. The pair → AST conversion
//! lives in `build_expr` / `build_clause`.
//!
//! Invariant: pest is only run on text whose bracket nesting is at most
//! [`MAX_NESTING_DEPTH`], so its recursion is bounded.

use pest::Parser;
use pest::error::{ErrorVariant, InputLocation};
use pest_derive::Parser;

use crate::ast::Query;
use crate::build_clause::build_query;
use crate::error::{CypherError, ErrorDetail};
use crate::limits::{
    FRESH_STACK_BYTES, MAX_NESTING_DEPTH, MAX_PARSER_CALLS, MAX_QUERY_BYTES, STACK_RED_ZONE_BYTES,
};

#[derive(Parser)]
#[grammar = "cypher.pest"]
pub(crate) struct CypherParser;

/// Parse a query text (optionally starting with `CYPHER k=v ...`).
pub fn parse(text: &str) -> Result<Query, CypherError> {
    if text.len() > MAX_QUERY_BYTES {
        return Err(CypherError::new(
            ErrorDetail::Unsupported,
            0,
            format!("Query too long (limit {MAX_QUERY_BYTES} bytes)"),
        ));
    }
    if text.trim().is_empty() {
        return Err(CypherError::new(
            ErrorDetail::UnexpectedSyntax,
            0,
            "Error: empty query.",
        ));
    }
    check_nesting(text)?;
    stacker::maybe_grow(STACK_RED_ZONE_BYTES, FRESH_STACK_BYTES, || {
        parse_nested(text)
    })
}

/// The `CYPHER name=value ...` prefix's parameters and the byte offset where the statement
/// after it starts (0 without a prefix). The statement text does not depend on the values, so
/// a server can cache compiled plans by it. An error here is reported by [`parse`] too, with
/// the same text, so callers fall back to a full compile on `Err`.
pub fn split_prefix(
    text: &str,
) -> Result<(Vec<(String, crate::ast::ConstValue)>, usize), CypherError> {
    if text.len() > MAX_QUERY_BYTES {
        return Err(CypherError::new(
            ErrorDetail::Unsupported,
            0,
            "Query too long",
        ));
    }
    check_nesting(text)?;
    if let Some(fast) = crate::prefix_fast::split(text) {
        return Ok(fast);
    }
    split_prefix_pest(text)
}

/// [`split_prefix`] with the values converted as by [`crate::lower::const_to_value`]: what a
/// server needs per call when it caches plans by statement text. Common literal prefixes are
/// scanned straight to values (see `prefix_fast`).
pub fn split_prefix_values(
    text: &str,
) -> Result<(Vec<(String, moon_graph::Value)>, usize), CypherError> {
    if text.len() > MAX_QUERY_BYTES {
        return split_prefix(text).map(|(p, at)| (values(&p), at));
    }
    check_nesting(text)?;
    if let Some(fast) = crate::prefix_fast::split_values(text) {
        return Ok(fast);
    }
    split_prefix(text).map(|(p, at)| (values(&p), at))
}

fn values(p: &[(String, crate::ast::ConstValue)]) -> Vec<(String, moon_graph::Value)> {
    p.iter()
        .map(|(n, v)| (n.clone(), crate::lower::const_to_value(v)))
        .collect()
}

/// [`split_prefix`] by the grammar alone (the fast path's reference).
pub(crate) fn split_prefix_pest(
    text: &str,
) -> Result<(Vec<(String, crate::ast::ConstValue)>, usize), CypherError> {
    stacker::maybe_grow(STACK_RED_ZONE_BYTES, FRESH_STACK_BYTES, || {
        let mut pairs =
            CypherParser::parse(Rule::prefix_only, text).map_err(|e| map_error(text, e))?;
        let top = pairs
            .next()
            .ok_or_else(|| CypherError::syntax(text, 0, "Invalid input"))?;
        let end = top.as_span().end();
        let mut params = Vec::new();
        for c in top.into_inner() {
            if c.as_rule() == Rule::cypher_prefix {
                params = crate::build_schema::prefix(c)?;
            }
        }
        Ok((params, end))
    })
}

fn parse_nested(text: &str) -> Result<Query, CypherError> {
    static CALL_LIMIT: std::sync::Once = std::sync::Once::new();
    CALL_LIMIT.call_once(|| pest::set_call_limit(std::num::NonZeroUsize::new(MAX_PARSER_CALLS)));
    let mut pairs = CypherParser::parse(Rule::query_text, text).map_err(|e| map_error(text, e))?;
    let top = pairs
        .next()
        .ok_or_else(|| CypherError::syntax(text, 0, "Invalid input"))?;
    build_query(text, top)
}

/// Reject nesting of `(`, `[`, `{` and `CASE ... END` deeper than [`MAX_NESTING_DEPTH`] in one
/// linear pass that skips strings, back-quoted names and comments.
pub fn check_nesting(text: &str) -> Result<(), CypherError> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING_DEPTH {
                    return Err(too_deep(i));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            // CASE ... END nests without brackets.
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while bytes
                    .get(i + 1)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    i += 1;
                }
                let word = bytes.get(start..=i).unwrap_or(&[]);
                if word.eq_ignore_ascii_case(b"case") {
                    depth += 1;
                    if depth > MAX_NESTING_DEPTH {
                        return Err(too_deep(start));
                    }
                } else if word.eq_ignore_ascii_case(b"end") {
                    depth = depth.saturating_sub(1);
                }
            }
            b'\'' | b'"' | b'`' => i = skip_quoted(bytes, i, b),
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while bytes.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while bytes.get(i).is_some()
                    && !(bytes.get(i) == Some(&b'*') && bytes.get(i + 1) == Some(&b'/'))
                {
                    i += 1;
                }
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

fn too_deep(offset: usize) -> CypherError {
    CypherError::new(
        ErrorDetail::NestingTooDeep,
        offset,
        format!("Query nesting too deep (limit {MAX_NESTING_DEPTH}) at offset {offset}"),
    )
}

/// Index of the closing quote (or the end) of a quoted token starting at `start`.
fn skip_quoted(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while let Some(&c) = bytes.get(i) {
        if c == b'\\' && quote != b'`' {
            i += 2;
            continue;
        }
        if c == quote {
            return i;
        }
        i += 1;
    }
    i
}

fn map_error(text: &str, e: pest::error::Error<Rule>) -> CypherError {
    let offset = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let found = text
        .get(offset..)
        .and_then(|s| s.chars().next())
        .map_or_else(|| "end of input".to_string(), |c| format!("'{c}'"));
    let expected = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => describe_expected(positives),
        ErrorVariant::CustomError { message } => {
            if message.contains("call limit") {
                return CypherError::new(
                    ErrorDetail::NestingTooDeep,
                    offset,
                    format!(
                        "Query too complex to parse (more than {MAX_PARSER_CALLS} parser steps)"
                    ),
                );
            }
            message.clone()
        }
    };
    let what = if expected.is_empty() {
        format!("Invalid input {found}")
    } else {
        format!("Invalid input {found}: expected {expected}")
    };
    CypherError::syntax(text, offset, &what)
}

fn describe_expected(rules: &[Rule]) -> String {
    let mut names: Vec<String> = Vec::new();
    for r in rules {
        let name = match r {
            Rule::node_labels => "a label".to_string(),
            Rule::map_literal => "'{'".to_string(),
            Rule::parameter => "a parameter".to_string(),
            Rule::close_paren => "')'".to_string(),
            Rule::variable | Rule::symbolic_name => "an identifier".to_string(),
            Rule::expression | Rule::xor_expr | Rule::and_expr | Rule::not_expr => {
                "an expression".to_string()
            }
            Rule::EOI => "end of input".to_string(),
            other => {
                let n = format!("{other:?}");
                match n.strip_prefix("kw_") {
                    Some(k) => k.to_ascii_uppercase(),
                    None => n.replace('_', " "),
                }
            }
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    // FalkorDB lists the closing token last ("a label, '{', a parameter or ')'").
    if let Some(i) = names.iter().position(|n| n == "')'") {
        let close = names.remove(i);
        names.push(close);
    }
    match names.len() {
        0 => String::new(),
        1 => names.remove(0),
        _ => {
            let last = names.pop().unwrap_or_default();
            format!("{} or {last}", names.join(", "))
        }
    }
}
