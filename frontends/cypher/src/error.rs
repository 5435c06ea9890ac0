//! Compile-time errors: a TCK classification + detail code, the byte offset
//! where the problem is, and a FalkorDB-style message.
//!
//! `Display` gives the message clients see; `class`/`detail` are what the TCK
//! runner compares (`SyntaxError` / `UndefinedVariable` ...).

use std::fmt;

/// The TCK error type (`Then a <class> should be raised`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    SyntaxError,
    TypeError,
    SemanticError,
    ArgumentError,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::SyntaxError => "SyntaxError",
            ErrorClass::TypeError => "TypeError",
            ErrorClass::SemanticError => "SemanticError",
            ErrorClass::ArgumentError => "ArgumentError",
        }
    }
}

macro_rules! details {
    ($($name:ident),* $(,)?) => {
        /// The TCK detail code (the text after `compile time:`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorDetail { $($name),* }

        impl ErrorDetail {
            /// The TCK spelling of the code.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorDetail::$name => stringify!($name)),* }
            }

            /// Every code, for documentation and tests.
            pub const ALL: &'static [ErrorDetail] = &[$(ErrorDetail::$name),*];
        }
    };
}

details!(
    UnexpectedSyntax,
    UndefinedVariable,
    VariableAlreadyBound,
    VariableTypeConflict,
    InvalidArgumentType,
    NoSingleRelationshipType,
    RequiresDirectedRelationship,
    InvalidRelationshipPattern,
    InvalidParameterUse,
    NegativeIntegerArgument,
    IntegerOverflow,
    FloatingPointOverflow,
    UnknownFunction,
    NonConstantExpression,
    InvalidNumberLiteral,
    InvalidDelete,
    NestedAggregation,
    InvalidAggregation,
    AmbiguousAggregationExpression,
    ColumnNameConflict,
    NoExpressionAlias,
    DifferentColumnsInUnion,
    InvalidClauseComposition,
    InvalidUnicodeLiteral,
    CreatingVarLength,
    InvalidNumberOfArguments,
    NoVariablesInScope,
    InvalidArgumentValue,
    // Moon-specific: nesting deeper than `crate::limits`, and valid Cypher
    // that Moon (like FalkorDB) does not support.
    NestingTooDeep,
    Unsupported,
);

/// A compile-time error with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CypherError {
    pub class: ErrorClass,
    pub detail: ErrorDetail,
    /// Byte offset into the query text.
    pub offset: usize,
    /// The client-facing text (FalkorDB style).
    pub message: String,
}

impl fmt::Display for CypherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl CypherError {
    pub fn new(detail: ErrorDetail, offset: usize, message: impl Into<String>) -> Self {
        CypherError {
            class: ErrorClass::SyntaxError,
            detail,
            offset,
            message: message.into(),
        }
    }

    pub fn with_class(mut self, class: ErrorClass) -> Self {
        self.class = class;
        self
    }

    /// A FalkorDB-shaped syntax error:
    /// `errMsg: <what> line: L, column: C, offset: O errCtx: <line text> errCtxOffset: K`.
    pub fn syntax(query: &str, offset: usize, what: &str) -> Self {
        let offset = offset.min(query.len());
        let (line_no, line_start) = line_of(query, offset);
        let line_end = query
            .get(line_start..)
            .and_then(|rest| rest.find('\n').map(|i| line_start + i))
            .unwrap_or(query.len());
        let ctx = query.get(line_start..line_end).unwrap_or("");
        let column = query
            .get(line_start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        let message = format!(
            "errMsg: {what} line: {line_no}, column: {column}, offset: {offset} errCtx: {ctx} errCtxOffset: {}",
            column - 1
        );
        CypherError::new(ErrorDetail::UnexpectedSyntax, offset, message)
    }
}

/// 1-based line number and the byte offset where that line starts.
fn line_of(query: &str, offset: usize) -> (usize, usize) {
    let before = query.get(..offset).unwrap_or(query);
    let line_no = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line_no, line_start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_message_matches_falkordb_shape() {
        let e = CypherError::syntax(
            "MATCH (n RETURN n",
            9,
            "Invalid input 'R': expected a label, '{', a parameter or ')'",
        );
        assert_eq!(
            e.message,
            "errMsg: Invalid input 'R': expected a label, '{', a parameter or ')' line: 1, column: 10, offset: 9 errCtx: MATCH (n RETURN n errCtxOffset: 9"
        );
        assert_eq!(e.detail, ErrorDetail::UnexpectedSyntax);
    }

    #[test]
    fn syntax_on_second_line_reports_line_and_column() {
        let e = CypherError::syntax("MATCH (n)\nRETURN )", 17, "Invalid input ')'");
        assert!(
            e.message.contains("line: 2, column: 8, offset: 17"),
            "{}",
            e.message
        );
        assert!(e.message.contains("errCtx: RETURN ) errCtxOffset: 7"));
    }

    #[test]
    fn detail_names_are_tck_spelling() {
        assert_eq!(
            ErrorDetail::VariableAlreadyBound.as_str(),
            "VariableAlreadyBound"
        );
        assert!(ErrorDetail::ALL.len() > 25);
    }
}
