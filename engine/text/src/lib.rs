//! Full-text index for Moon's RediSearch-compatible FT commands: analyzer, fst term
//! dictionary, postings with positions, query primitives (term / prefix / fuzzy / phrase),
//! scoring (BM25, TFIDF, TFIDF.DOCNORM, DISMAX, DOCSCORE), suggestions, spell checking,
//! highlighting/summarization and a versioned snapshot codec.
//!
//! One [`TextIndex`] serves one FT index on one shard and is used single-threaded. Documents
//! are dense `u32` ids assigned by the shard. Boolean composition of query results (AND / OR /
//! NOT, TAG, NUMERIC) is the executor's job: primitives return roaring bitmaps inside
//! [`QueryTerm`]s, and scoring takes the query's terms plus globally summed [`GlobalStats`].

pub mod analyzer;
mod codec;
pub mod error;
pub mod highlight;
pub mod index;
pub mod postings;
pub mod scoring;
pub mod snapshot;
pub mod spell;
pub mod suggest;
pub mod term_dict;

pub use analyzer::{Analyzer, Language, REDISEARCH_LANGUAGES, StopWords, Token};
pub use error::{DecodeError, TextError};
pub use index::{DocInfo, FieldSpec, MaintainReport, QueryTerm, TextIndex};
pub use scoring::{GlobalStats, LocalStats, ScoreExplain, Scorer, Stats};
pub use suggest::{Suggestion, Suggestions};

#[cfg(test)]
mod tests;
