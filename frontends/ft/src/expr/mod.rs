//! The APPLY / FILTER expression language of FT.AGGREGATE: [`parse`] text to an [`ast::Expr`],
//! [`eval`] it over a row of [`ast::Value`]s with the [`functions`] RediSearch provides.

pub mod ast;
pub mod eval;
pub mod functions;
pub mod parse;

#[cfg(test)]
mod tests;
