//! FT.SPELLCHECK: each shard looks the query's terms up in its text index's term dictionary
//! ([`execute`]); the server merges the parts ([`merge`]) into RediSearch's reply.
//!
//! Invariants: a term present in any shard's index (or in an EXCLUDE dictionary) needs no
//! correction and is left out of the reply; otherwise every candidate within the Levenshtein
//! distance is scored with collection-wide counts — (docs holding it on all shards) / (docs on
//! all shards) — so the scores do not depend on the number of shards. INCLUDE dictionary terms
//! within the distance are candidates scored 0 unless the index scores them; EXCLUDE terms
//! are never candidates. Candidates are sorted by score (descending), then term.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use moon_text::term_dict::levenshtein;

use super::query::no_such_index;
use super::registry::Registry;
use crate::ir::{OpError, Reply};

/// One FT.SPELLCHECK.
#[derive(Debug, Clone, PartialEq)]
pub struct SpellPlan {
    pub index: Bytes,
    /// The query's text terms, in query order.
    pub terms: Vec<String>,
    /// Levenshtein distance, 1..=4.
    pub distance: u32,
    /// `TERMS INCLUDE|EXCLUDE dict`: `(include, dictionary)` in order.
    pub dicts: Vec<(bool, Bytes)>,
}

/// One term's part on one shard.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TermPart {
    /// The term is in this shard's index (or excluded).
    pub skip: bool,
    /// Candidates and the number of this shard's docs holding each.
    pub candidates: Vec<(String, u64)>,
}

/// One shard's answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpellPart {
    pub num_docs: u64,
    pub terms: Vec<TermPart>,
    pub include: Vec<BTreeSet<String>>,
    pub exclude: Vec<BTreeSet<String>>,
}

/// This shard's part of `plan`.
pub fn execute(reg: &Registry, plan: &SpellPlan) -> Result<SpellPart, String> {
    let idx = reg
        .get(&plan.index)
        .ok_or_else(|| no_such_index(&plan.index))?;
    let mut part = SpellPart::default();
    for (include, name) in &plan.dicts {
        let set = reg
            .dicts
            .as_strings(name)
            .ok_or_else(|| format!("Dict does not exist: {}", String::from_utf8_lossy(name)))?;
        if *include {
            part.include.push(set);
        } else {
            part.exclude.push(set);
        }
    }
    let Some(text) = idx.text.as_ref().map(|t| &t.index) else {
        part.terms = vec![TermPart::default(); plan.terms.len()];
        return Ok(part);
    };
    part.num_docs = text.num_docs();
    let mask = text.all_fields_mask();
    for t in &plan.terms {
        let t = t.to_lowercase();
        let excluded = |w: &str| part.exclude.iter().any(|d| d.contains(w));
        if excluded(&t) || !text.term(mask, &t, true).docs.is_empty() {
            part.terms.push(TermPart {
                skip: true,
                candidates: Vec::new(),
            });
            continue;
        }
        let ids = text
            .dict()
            .fuzzy(&t, plan.distance, usize::MAX)
            .map_err(|e| e.to_string())?;
        let mut candidates = Vec::new();
        for id in ids {
            let cand = text.dict().term(id);
            // Stem keys (`+stem`) are not words anyone typed.
            if cand.starts_with('+') || excluded(cand) {
                continue;
            }
            let df = text.term(mask, cand, true).docs.len();
            if df > 0 {
                candidates.push((cand.to_string(), df));
            }
        }
        part.terms.push(TermPart {
            skip: false,
            candidates,
        });
    }
    Ok(part)
}

/// Merges every shard's part into the reply: RESP2 `[["TERM", term, [[score, cand]...]]...]`,
/// RESP3 `{"results": {term: [{cand: score}...]}}`.
pub fn merge(plan: &SpellPlan, parts: Vec<Result<SpellPart, String>>, resp3: bool) -> Reply {
    let mut ok = Vec::with_capacity(parts.len());
    for p in parts {
        match p {
            Ok(p) => ok.push(p),
            Err(e) => return Reply::Err(OpError::Other(e)),
        }
    }
    let n: u64 = ok.iter().map(|p| p.num_docs).sum();
    let (include, exclude) = ok
        .first()
        .map(|p| (p.include.clone(), p.exclude.clone()))
        .unwrap_or_default();
    let mut out = Vec::new();
    for (i, term) in plan.terms.iter().enumerate() {
        let t = term.to_lowercase();
        let parts: Vec<&TermPart> = ok.iter().filter_map(|p| p.terms.get(i)).collect();
        if parts.iter().any(|p| p.skip) || exclude.iter().any(|d| d.contains(&t)) {
            continue;
        }
        let mut df: BTreeMap<String, u64> = BTreeMap::new();
        for p in &parts {
            for (c, d) in &p.candidates {
                *df.entry(c.clone()).or_default() += d;
            }
        }
        let mut scored: Vec<(String, f64)> = df
            .into_iter()
            .filter(|(c, _)| !exclude.iter().any(|x| x.contains(c)))
            .map(|(c, d)| (c, d as f64 / n.max(1) as f64))
            .collect();
        for d in &include {
            for c in d {
                if levenshtein(&t, c) <= plan.distance as usize
                    && !exclude.iter().any(|x| x.contains(c))
                    && !scored.iter().any(|(s, _)| s == c)
                {
                    scored.push((c.clone(), 0.0));
                }
            }
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out.push((t, scored));
    }
    let bulk = |s: &str| Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()));
    if resp3 {
        let results = out
            .into_iter()
            .map(|(t, sc)| {
                let list = sc
                    .into_iter()
                    .map(|(c, s)| Reply::Map(vec![(bulk(&c), Reply::Double(s))]))
                    .collect();
                (bulk(&t), Reply::Array(list))
            })
            .collect();
        return Reply::Map(vec![(bulk("results"), Reply::Map(results))]);
    }
    Reply::Array(
        out.into_iter()
            .map(|(t, sc)| {
                Reply::Array(vec![
                    bulk("TERM"),
                    bulk(&t),
                    Reply::Array(
                        sc.into_iter()
                            .map(|(c, s)| Reply::Array(vec![Reply::Double(s), bulk(&c)]))
                            .collect(),
                    ),
                ])
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_sums_counts_and_skips_known_terms() {
        let plan = SpellPlan {
            index: Bytes::from_static(b"i"),
            terms: vec!["helo".into(), "world".into()],
            distance: 1,
            dicts: Vec::new(),
        };
        let part = |df: u64, known: bool| SpellPart {
            num_docs: 2,
            terms: vec![
                TermPart {
                    skip: false,
                    candidates: vec![("hello".into(), df), ("help".into(), 1)],
                },
                TermPart {
                    skip: known,
                    candidates: Vec::new(),
                },
            ],
            include: vec![
                ["held".to_string(), "zzz".to_string()]
                    .into_iter()
                    .collect(),
            ],
            exclude: vec![["help".to_string()].into_iter().collect()],
        };
        let r = merge(&plan, vec![Ok(part(2, true)), Ok(part(1, false))], false);
        let b = |s: &str| Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()));
        assert_eq!(
            r,
            Reply::Array(vec![Reply::Array(vec![
                b("TERM"),
                b("helo"),
                Reply::Array(vec![
                    Reply::Array(vec![Reply::Double(0.75), b("hello")]),
                    Reply::Array(vec![Reply::Double(0.0), b("held")]),
                ])
            ])])
        );
    }
}
