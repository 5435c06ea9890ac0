//! Query parameters (`PARAMS n name value ...`): the name → value map `$name` references in a
//! query resolve against. Values are binary-safe (vector blobs), names are case-sensitive and
//! unique (RediSearch rejects duplicates with "Duplicate parameter `x`").

use std::collections::HashMap;

/// Parameter values by name, as given to `PARAMS`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    values: HashMap<String, Vec<u8>>,
}

impl Params {
    /// An empty parameter set (a query without `PARAMS`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `name = value`; errors with RediSearch's text if the name is already present.
    pub fn insert(&mut self, name: &str, value: &[u8]) -> Result<(), String> {
        if self.values.contains_key(name) {
            return Err(format!("Duplicate parameter `{name}`"));
        }
        self.values.insert(name.to_owned(), value.to_vec());
        Ok(())
    }

    /// The raw value of `name`, if defined.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.values.get(name).map(Vec::as_slice)
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True if no parameter is defined.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Builds a set from `(name, value)` pairs (test and embedding convenience).
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<Self, String> {
        let mut p = Self::new();
        for (n, v) in pairs {
            p.insert(n, v)?;
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_is_rejected_with_redisearch_text() {
        let mut p = Params::new();
        p.insert("a", b"1").unwrap();
        assert_eq!(p.insert("a", b"2").unwrap_err(), "Duplicate parameter `a`");
        assert_eq!(p.get("a"), Some(&b"1"[..]));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.len(), 1);
    }
}
