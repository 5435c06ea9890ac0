//! The RediSearch query language: tokenizer ([`lexer`]), parser ([`parse`], with
//! [`stopwords`] and the `=> {...}` attribute rules) to the tree in [`ast`], and FT.EXPLAIN
//! rendering ([`explain`]).

pub mod ast;
mod attributes;
pub mod error;
pub mod explain;
pub mod lexer;
pub mod parse;
pub mod stopwords;

#[cfg(test)]
mod tests;
