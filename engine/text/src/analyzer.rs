//! Text analysis shared by indexing, querying and highlighting: RediSearch-like tokenization,
//! lowercasing, stop-word removal and Snowball stemming.
//!
//! Rules (see SPEC.md §9.5):
//! - A word is a maximal Unicode word (UAX #29, `unicode-segmentation`), further split on
//!   RediSearch's separator characters; `_` is not a separator. For ASCII input this is exactly
//!   "maximal runs of `[A-Za-z0-9_]`", which is the fast path.
//! - Words are lowercased (`str::to_lowercase`, i.e. Unicode default lowercase mapping).
//! - Stop words are dropped and do NOT consume a position, as in RediSearch; positions of kept
//!   tokens start at 1 and are per field.
//! - Stemming: the surface form is always indexed; when a field stems and the Snowball stem
//!   differs from the surface form, the stem is also indexed under the key `+stem` at the same
//!   position. A non-verbatim query term `w` expands to `{w, +stem(w), stem(w)}`; a verbatim
//!   one to `{w}` only. `+` is a separator, so no surface token can start with it.

use std::ops::Range;

use hashbrown::HashSet;
use rust_stemmers::{Algorithm, Stemmer};
use unicode_segmentation::UnicodeSegmentation;

use crate::error::TextError;

/// Prefix byte of stem keys in the term dictionary.
pub const STEM_PREFIX: char = '+';

/// RediSearch's separator characters (besides whitespace).
const SEPARATORS: &str = ",.<>{}[]\"':;!@#$%^&*()-+=~/\\|?`";

/// RediSearch's default English stop-word list.
pub const DEFAULT_STOPWORDS: &[&str] = &[
    "a", "is", "the", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into",
    "it", "no", "not", "of", "on", "or", "such", "that", "their", "then", "there", "these", "they",
    "this", "to", "was", "will", "with",
];

fn is_separator(c: char) -> bool {
    c.is_whitespace() || SEPARATORS.contains(c)
}

/// Snowball languages accepted by `LANGUAGE` (RediSearch names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Arabic,
    Danish,
    Dutch,
    English,
    Finnish,
    French,
    German,
    Greek,
    Hungarian,
    Italian,
    Norwegian,
    Portuguese,
    Romanian,
    Russian,
    Spanish,
    Swedish,
    Tamil,
    Turkish,
}

/// Every name RediSearch accepts for `LANGUAGE` (FT.CREATE, FT.SEARCH); the stemmer knows
/// the subset [`Language::from_name`] accepts.
pub const REDISEARCH_LANGUAGES: &[&str] = &[
    "arabic",
    "armenian",
    "basque",
    "catalan",
    "chinese",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "greek",
    "hindi",
    "hungarian",
    "indonesian",
    "irish",
    "italian",
    "lithuanian",
    "nepali",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "serbian",
    "spanish",
    "swedish",
    "tamil",
    "turkish",
    "yiddish",
];

const LANGUAGES: [(Language, &str); 18] = [
    (Language::Arabic, "arabic"),
    (Language::Danish, "danish"),
    (Language::Dutch, "dutch"),
    (Language::English, "english"),
    (Language::Finnish, "finnish"),
    (Language::French, "french"),
    (Language::German, "german"),
    (Language::Greek, "greek"),
    (Language::Hungarian, "hungarian"),
    (Language::Italian, "italian"),
    (Language::Norwegian, "norwegian"),
    (Language::Portuguese, "portuguese"),
    (Language::Romanian, "romanian"),
    (Language::Russian, "russian"),
    (Language::Spanish, "spanish"),
    (Language::Swedish, "swedish"),
    (Language::Tamil, "tamil"),
    (Language::Turkish, "turkish"),
];

impl Language {
    /// Parses a RediSearch `LANGUAGE` name, case-insensitively.
    pub fn from_name(name: &str) -> Result<Language, TextError> {
        LANGUAGES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(l, _)| *l)
            .ok_or_else(|| TextError::UnknownLanguage(name.to_string()))
    }

    pub fn name(self) -> &'static str {
        LANGUAGES
            .iter()
            .find(|(l, _)| *l == self)
            .map(|(_, n)| *n)
            .unwrap_or("english")
    }

    /// Stable numeric code used by the snapshot format (index into the table above).
    pub fn code(self) -> u8 {
        LANGUAGES.iter().position(|(l, _)| *l == self).unwrap_or(3) as u8
    }

    pub fn from_code(code: u8) -> Option<Language> {
        LANGUAGES.get(code as usize).map(|(l, _)| *l)
    }

    fn algorithm(self) -> Algorithm {
        match self {
            Language::Arabic => Algorithm::Arabic,
            Language::Danish => Algorithm::Danish,
            Language::Dutch => Algorithm::Dutch,
            Language::English => Algorithm::English,
            Language::Finnish => Algorithm::Finnish,
            Language::French => Algorithm::French,
            Language::German => Algorithm::German,
            Language::Greek => Algorithm::Greek,
            Language::Hungarian => Algorithm::Hungarian,
            Language::Italian => Algorithm::Italian,
            Language::Norwegian => Algorithm::Norwegian,
            Language::Portuguese => Algorithm::Portuguese,
            Language::Romanian => Algorithm::Romanian,
            Language::Russian => Algorithm::Russian,
            Language::Spanish => Algorithm::Spanish,
            Language::Swedish => Algorithm::Swedish,
            Language::Tamil => Algorithm::Tamil,
            Language::Turkish => Algorithm::Turkish,
        }
    }
}

/// Which stop words an analyzer drops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopWords {
    /// RediSearch's default list ([`DEFAULT_STOPWORDS`]).
    Default,
    /// `STOPWORDS 0`.
    None,
    /// A custom list (stored lowercased).
    Custom(Vec<String>),
}

/// One analyzed token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Lowercased surface form.
    pub term: String,
    /// Snowball stem when stemming is on and it differs from `term`.
    pub stem: Option<String>,
    /// 1-based position among the kept tokens of the text.
    pub pos: u32,
    /// Byte range of the word in the original text.
    pub span: Range<usize>,
}

/// Tokenizer + normalizer for one index (one language, one stop-word list).
pub struct Analyzer {
    language: Language,
    stemmer: Stemmer,
    stop_mode: StopWords,
    stopwords: HashSet<Box<str>>,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("language", &self.language)
            .field("stopwords", &self.stop_mode)
            .finish()
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer::new(Language::English, StopWords::Default)
    }
}

/// Splits `text` into raw words (RediSearch separators + UAX #29), calling `f(word, span)`.
/// Words are not lowercased and include stop words.
pub fn split_words(text: &str, mut f: impl FnMut(&str, Range<usize>)) {
    if text.is_ascii() {
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            while i < b.len() && !(b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            if i > start {
                f(&text[start..i], start..i);
            }
        }
        return;
    }
    for (off, word) in text.unicode_word_indices() {
        let mut start = 0;
        for (i, c) in word.char_indices() {
            if is_separator(c) {
                if i > start {
                    f(&word[start..i], off + start..off + i);
                }
                start = i + c.len_utf8();
            }
        }
        if start < word.len() {
            f(&word[start..], off + start..off + word.len());
        }
    }
}

/// Lowercases `word` into `buf` (ASCII fast path).
pub fn lowercase_into(word: &str, buf: &mut String) {
    buf.clear();
    if word.is_ascii() {
        buf.push_str(word);
        buf.make_ascii_lowercase();
    } else {
        for c in word.chars() {
            buf.extend(c.to_lowercase());
        }
    }
}

impl Analyzer {
    pub fn new(language: Language, stopwords: StopWords) -> Analyzer {
        let set: HashSet<Box<str>> = match &stopwords {
            StopWords::Default => DEFAULT_STOPWORDS.iter().map(|s| (*s).into()).collect(),
            StopWords::None => HashSet::new(),
            StopWords::Custom(list) => list.iter().map(|s| s.to_lowercase().into()).collect(),
        };
        Analyzer {
            language,
            stemmer: Stemmer::create(language.algorithm()),
            stop_mode: stopwords,
            stopwords: set,
        }
    }

    pub fn language(&self) -> Language {
        self.language
    }

    pub fn stopwords(&self) -> &StopWords {
        &self.stop_mode
    }

    /// True when the lowercased `word` is a stop word of this analyzer.
    pub fn is_stopword(&self, lowered: &str) -> bool {
        self.stopwords.contains(lowered)
    }

    /// Snowball stem of an already lowercased word.
    pub fn stem<'a>(&self, lowered: &'a str) -> std::borrow::Cow<'a, str> {
        self.stemmer.stem(lowered)
    }

    /// Calls `f(lowered, pos, span)` for every kept token, without stemming (the index
    /// stems through its per-term cache).
    pub fn for_each_term(&self, text: &str, mut f: impl FnMut(&str, u32, Range<usize>)) {
        let mut buf = String::new();
        let mut pos = 0u32;
        split_words(text, |word, span| {
            lowercase_into(word, &mut buf);
            if self.stopwords.contains(buf.as_str()) {
                return;
            }
            pos = pos.saturating_add(1);
            f(&buf, pos, span);
        });
    }

    /// The tokenizer with stemming: calls `f(lowered, stem, pos, span)` for every kept token.
    /// `stem` is `Some` only when `stem_on` and the stem differs from the surface form.
    pub fn for_each_token(
        &self,
        text: &str,
        stem_on: bool,
        mut f: impl FnMut(&str, Option<&str>, u32, Range<usize>),
    ) {
        let mut buf = String::new();
        let mut pos = 0u32;
        split_words(text, |word, span| {
            lowercase_into(word, &mut buf);
            if self.stopwords.contains(buf.as_str()) {
                return;
            }
            pos = pos.saturating_add(1);
            if stem_on {
                let stem = self.stemmer.stem(&buf);
                if stem.as_ref() != buf.as_str() && !stem.is_empty() {
                    f(&buf, Some(stem.as_ref()), pos, span);
                    return;
                }
            }
            f(&buf, None, pos, span);
        });
    }

    /// All kept tokens of `text` with stems (stemming on).
    pub fn tokens(&self, text: &str) -> Vec<Token> {
        self.tokens_with(text, true)
    }

    /// All kept tokens of `text`; `stem_on = false` for NOSTEM fields.
    pub fn tokens_with(&self, text: &str, stem_on: bool) -> Vec<Token> {
        let mut out = Vec::new();
        self.for_each_token(text, stem_on, |t, s, pos, span| {
            out.push(Token {
                term: t.to_string(),
                stem: s.map(str::to_string),
                pos,
                span,
            });
        });
        out
    }

    /// Query-side analysis of one query word: the dictionary keys it matches.
    /// Returns an empty list for a stop word (RediSearch drops them from queries).
    /// Verbatim → `[w]`; otherwise `[w, +stem(w)]` plus `stem(w)` when it differs from `w`.
    pub fn query_keys(&self, word: &str, verbatim: bool) -> Vec<String> {
        let mut lowered = String::new();
        lowercase_into(word, &mut lowered);
        if lowered.is_empty() || self.is_stopword(&lowered) {
            return Vec::new();
        }
        if verbatim {
            return vec![lowered];
        }
        let stem = self.stem(&lowered).into_owned();
        let mut keys = vec![lowered.clone()];
        if !stem.is_empty() {
            keys.push(format!("{STEM_PREFIX}{stem}"));
            if stem != lowered {
                keys.push(stem);
            }
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(a: &Analyzer, s: &str) -> Vec<(String, u32)> {
        a.tokens(s).into_iter().map(|t| (t.term, t.pos)).collect()
    }

    #[test]
    fn separators_and_underscore() {
        let a = Analyzer::new(Language::English, StopWords::None);
        let t: Vec<String> = a
            .tokens("foo-bar.baz...bag hello_world x/y a|b c?d don't")
            .into_iter()
            .map(|t| t.term)
            .collect();
        assert_eq!(
            t,
            [
                "foo",
                "bar",
                "baz",
                "bag",
                "hello_world",
                "x",
                "y",
                "a",
                "b",
                "c",
                "d",
                "don",
                "t"
            ]
        );
    }

    #[test]
    fn stopwords_do_not_consume_positions() {
        let a = Analyzer::default();
        assert_eq!(
            terms(&a, "The quick fox is in the house"),
            [
                ("quick".to_string(), 1),
                ("fox".to_string(), 2),
                ("house".to_string(), 3)
            ]
        );
        let none = Analyzer::new(Language::English, StopWords::None);
        assert_eq!(none.tokens("the a").len(), 2);
        let custom = Analyzer::new(Language::English, StopWords::Custom(vec!["Foo".into()]));
        assert_eq!(terms(&custom, "foo the"), [("the".to_string(), 1)]);
    }

    #[test]
    fn stemming_and_spans() {
        let a = Analyzer::default();
        let t = a.tokens("Running RUNS run");
        assert_eq!(t[0].term, "running");
        assert_eq!(t[0].stem.as_deref(), Some("run"));
        assert_eq!(t[1].stem.as_deref(), Some("run"));
        assert_eq!(t[2].stem, None);
        assert_eq!(t[1].span, 8..12);
        assert!(a.tokens_with("running", false)[0].stem.is_none());
    }

    #[test]
    fn unicode_words() {
        let a = Analyzer::new(Language::German, StopWords::None);
        let t = a.tokens("Straße—Äpfel, ÉCOLE 東京 naïve's");
        let terms: Vec<&str> = t.iter().map(|t| t.term.as_str()).collect();
        assert_eq!(
            terms,
            ["straße", "äpfel", "école", "東", "京", "naïve", "s"]
        );
        assert_eq!(
            &"Straße—Äpfel, ÉCOLE 東京 naïve's"[t[1].span.clone()],
            "Äpfel"
        );
        let ru = Analyzer::new(Language::Russian, StopWords::None);
        assert_eq!(ru.tokens("Москва")[0].term, "москва");
    }

    #[test]
    fn languages() {
        assert_eq!(Language::from_name("ENGLISH").unwrap(), Language::English);
        assert!(matches!(
            Language::from_name("klingon"),
            Err(TextError::UnknownLanguage(_))
        ));
        for (l, n) in LANGUAGES {
            assert_eq!(Language::from_name(n).unwrap(), l);
            assert_eq!(Language::from_code(l.code()), Some(l));
        }
        let fr = Analyzer::new(Language::French, StopWords::None);
        assert_eq!(fr.stem("continuellement"), "continuel");
    }

    #[test]
    fn query_keys_expansion() {
        let a = Analyzer::default();
        assert_eq!(a.query_keys("Running", false), ["running", "+run", "run"]);
        assert_eq!(a.query_keys("run", false), ["run", "+run"]);
        assert_eq!(a.query_keys("Running", true), ["running"]);
        assert!(a.query_keys("the", false).is_empty());
    }
}
