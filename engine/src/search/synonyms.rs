//! FT.SYNUPDATE / FT.SYNDUMP: an index's synonym groups (group id → terms), kept in the
//! index on every shard and persisted with its definition.
//!
//! Invariants: terms are stored lowercased (RediSearch lowercases them); `by_term` is the
//! exact inverse of `groups` (a term lists every group holding it, in the order it joined
//! them). Query expansion is query-time: [`Synonyms::synonyms_of`] gives the terms sharing a
//! group with a term, which the text query ORs with it (RediSearch adds `~group` tokens at
//! indexing time instead; the matches are the same).

use std::collections::BTreeMap;

/// See the module docs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Synonyms {
    /// Group id → its terms in insertion order.
    groups: BTreeMap<String, Vec<String>>,
    /// Term → the group ids holding it, in the order it joined them.
    by_term: BTreeMap<String, Vec<String>>,
}

impl Synonyms {
    /// True without any group.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// FT.SYNUPDATE: adds `terms` to group `group` (created if new).
    pub fn update(&mut self, group: &str, terms: &[String]) {
        let members = self.groups.entry(group.to_string()).or_default();
        for t in terms {
            let t = t.to_lowercase();
            if members.contains(&t) {
                continue;
            }
            members.push(t.clone());
            let gs = self.by_term.entry(t).or_default();
            if !gs.iter().any(|g| g == group) {
                gs.push(group.to_string());
            }
        }
    }

    /// FT.SYNDUMP: every term with its group ids, terms sorted.
    pub fn dump(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.by_term.iter().map(|(t, g)| (t.as_str(), g.as_slice()))
    }

    /// Every group as `(id, terms)` (snapshot encoding), ids sorted.
    pub fn groups(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.groups.iter().map(|(g, t)| (g.as_str(), t.as_slice()))
    }

    /// The group ids holding `term` (any case).
    pub fn groups_of(&self, term: &str) -> &[String] {
        self.by_term
            .get(&term.to_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// The other terms sharing a group with `term` (any case), lowercased, each once, in
    /// group order then insertion order. Empty when the term has no synonyms.
    pub fn synonyms_of(&self, term: &str) -> Vec<String> {
        let me = term.to_lowercase();
        let mut out: Vec<String> = Vec::new();
        for g in self.groups_of(&me) {
            for t in self.groups.get(g).into_iter().flatten() {
                if *t != me && !out.contains(t) {
                    out.push(t.clone());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn groups_and_expansion() {
        let mut syn = Synonyms::default();
        syn.update("g1", &s(&["Boy", "child", "boy"]));
        syn.update("g2", &s(&["child", "kid"]));
        assert_eq!(syn.groups_of("CHILD"), &s(&["g1", "g2"])[..]);
        assert_eq!(syn.synonyms_of("child"), s(&["boy", "kid"]));
        assert_eq!(syn.synonyms_of("boy"), s(&["child"]));
        assert!(syn.synonyms_of("none").is_empty());
        let dump: Vec<(&str, Vec<String>)> = syn.dump().map(|(t, g)| (t, g.to_vec())).collect();
        assert_eq!(
            dump,
            vec![
                ("boy", s(&["g1"])),
                ("child", s(&["g1", "g2"])),
                ("kid", s(&["g2"]))
            ]
        );
    }
}
