//! Stopword lists: RediSearch's default list, none (`NOSTOPWORDS`), or an index's own
//! (`STOPWORDS n w...`). Matching is case-insensitive; the lists hold lowercase words.

use std::collections::HashSet;

/// Stopwords dropped from queries (plain terms only; quoted single terms and parameters are
/// kept, as in RediSearch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopwords {
    words: HashSet<String>,
}

/// RediSearch's default stopword list.
pub const DEFAULT_STOPWORDS: &[&str] = &[
    "a", "is", "the", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into",
    "it", "no", "not", "of", "on", "or", "such", "that", "their", "then", "there", "these", "they",
    "this", "to", "was", "will", "with",
];

impl Stopwords {
    /// RediSearch's default list.
    pub fn redisearch_default() -> Self {
        Self::from_list(DEFAULT_STOPWORDS.iter().copied())
    }

    /// No stopwords (`NOSTOPWORDS`, or an index created with `STOPWORDS 0`).
    pub fn none() -> Self {
        Self {
            words: HashSet::new(),
        }
    }

    /// A custom list (matched case-insensitively).
    pub fn from_list<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            words: words.into_iter().map(str::to_lowercase).collect(),
        }
    }

    /// True if `word` is a stopword.
    pub fn contains(&self, word: &str) -> bool {
        if self.words.is_empty() {
            return false;
        }
        if word.chars().any(char::is_uppercase) {
            self.words.contains(&word.to_lowercase())
        } else {
            self.words.contains(word)
        }
    }

    /// A shared instance of RediSearch's default list.
    pub fn default_ref() -> &'static Stopwords {
        static DEFAULT: std::sync::OnceLock<Stopwords> = std::sync::OnceLock::new();
        DEFAULT.get_or_init(Stopwords::redisearch_default)
    }
}

impl Default for Stopwords {
    fn default() -> Self {
        Self::redisearch_default()
    }
}
