//! `=~` support: compiled regular expressions, cached per thread.
//!
//! The `regex` crate matches in time linear in the input (no backtracking), and compilation is
//! bounded by `SIZE_LIMIT`, so a pattern from the network can cost neither exponential time
//! nor unbounded memory. The pattern is anchored (`^(?:p)$`): openCypher's `=~` matches the
//! whole string. The cache holds at most `CACHE_MAX` patterns and is cleared when full.

use std::cell::RefCell;
use std::collections::HashMap;

use super::ExecError;

const SIZE_LIMIT: usize = 1 << 20;
const CACHE_MAX: usize = 64;

thread_local! {
    static CACHE: RefCell<HashMap<String, regex::Regex>> = RefCell::new(HashMap::new());
}

/// Whether all of `s` matches `pattern`; an invalid pattern is an error.
pub(crate) fn full_match(pattern: &str, s: &str) -> Result<bool, ExecError> {
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if let Some(re) = cache.get(pattern) {
            return Ok(re.is_match(s));
        }
        let re = regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
            .size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| ExecError::Invalid(format!("Invalid regex: {e}")))?;
        let hit = re.is_match(s);
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(pattern.to_string(), re);
        Ok(hit)
    })
}

/// An unanchored compiled `pattern` (for `string.matchRegEx` / `string.replaceRegEx`),
/// cached beside the anchored ones under a distinct key.
pub(crate) fn search_regex(pattern: &str) -> Result<regex::Regex, ExecError> {
    CACHE.with(|c| {
        let key = format!("\u{0}search:{pattern}");
        let mut cache = c.borrow_mut();
        if let Some(re) = cache.get(&key) {
            return Ok(re.clone());
        }
        let re = regex::RegexBuilder::new(pattern)
            .size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| ExecError::Invalid(format!("Invalid regex: {e}")))?;
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(key, re.clone());
        Ok(re)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_whole_string_match() {
        assert_eq!(full_match("a.c", "abc"), Ok(true));
        assert_eq!(full_match("a.c", "xabcx"), Ok(false));
        assert_eq!(full_match("b|abc", "abc"), Ok(true));
        assert_eq!(full_match("(?i)ABC", "abc"), Ok(true));
        assert!(full_match("(", "x").is_err());
        // Cached second use gives the same answer.
        assert_eq!(full_match("a.c", "abd"), Ok(false));
    }
}
