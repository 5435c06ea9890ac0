//! FT.SPELLCHECK building blocks and the FT.DICTADD / DICTDEL / DICTDUMP custom dictionaries.
//!
//! RediSearch semantics implemented: a query term is lowercased; a term found in an EXCLUDE
//! dictionary or present in the index is not checked (no suggestions); otherwise candidates
//! are index terms (stem keys excluded) within Levenshtein `distance` (1..=4), scored
//! `df / N`, plus terms of INCLUDE dictionaries within the distance, scored 0 (an index score
//! wins over a dictionary 0). Candidates found in an EXCLUDE dictionary are dropped. Results
//! are sorted by score descending, then term.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::TextError;
use crate::index::TextIndex;
use crate::term_dict::levenshtein;

/// Named custom dictionaries (one set of terms per name).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dictionaries {
    dicts: BTreeMap<String, BTreeSet<String>>,
}

impl Dictionaries {
    /// FT.DICTADD: returns how many terms were new.
    pub fn add(&mut self, dict: &str, terms: &[&str]) -> usize {
        let d = self.dicts.entry(dict.to_string()).or_default();
        terms.iter().filter(|t| d.insert((**t).to_string())).count()
    }

    /// FT.DICTDEL: returns how many terms were removed; an emptied dictionary disappears.
    pub fn del(&mut self, dict: &str, terms: &[&str]) -> usize {
        let Some(d) = self.dicts.get_mut(dict) else {
            return 0;
        };
        let n = terms.iter().filter(|t| d.remove(**t)).count();
        if d.is_empty() {
            self.dicts.remove(dict);
        }
        n
    }

    /// FT.DICTDUMP: terms in lexicographic order (empty if the dictionary does not exist).
    pub fn dump(&self, dict: &str) -> Vec<&str> {
        self.dicts
            .get(dict)
            .map(|d| d.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    pub fn get(&self, dict: &str) -> Option<&BTreeSet<String>> {
        self.dicts.get(dict)
    }
}

/// Suggestions for one query term; `Ok(None)` when the term needs no correction (it exists in
/// the index or is excluded).
pub fn spellcheck_term(
    index: &TextIndex,
    term: &str,
    distance: u32,
    include: &[&BTreeSet<String>],
    exclude: &[&BTreeSet<String>],
) -> Result<Option<Vec<(String, f64)>>, TextError> {
    if !(1..=4).contains(&distance) {
        return Err(TextError::BadDistance(distance));
    }
    let t = term.to_lowercase();
    if exclude.iter().any(|d| d.contains(&t)) {
        return Ok(None);
    }
    let mask = index.all_fields_mask();
    let own = index.term(mask, &t, true);
    if !own.docs.is_empty() {
        return Ok(None);
    }
    let n = index.num_docs().max(1) as f64;
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    for id in index.dict().fuzzy(&t, distance, usize::MAX)? {
        let cand = index.dict().term(id).to_string();
        let df = index.docs_of(&[id], mask).len();
        if df == 0 || exclude.iter().any(|d| d.contains(&cand)) {
            continue;
        }
        out.insert(cand, df as f64 / n);
    }
    for d in include {
        for cand in d.iter() {
            if levenshtein(&t, cand) <= distance as usize
                && !exclude.iter().any(|x| x.contains(cand))
            {
                out.entry(cand.clone()).or_insert(0.0);
            }
        }
    }
    let mut v: Vec<(String, f64)> = out.into_iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(Some(v))
}
