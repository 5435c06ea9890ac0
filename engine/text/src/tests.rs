//! Cross-module tests: query primitives against a brute-force model over random corpora,
//! hand-computed scores, deletes/updates/GC, snapshot round trips and spell checking.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use roaring::RoaringBitmap;

use crate::analyzer::{Analyzer, Language, StopWords};
use crate::index::{FieldSpec, QueryTerm, TextIndex, within_inorder, within_unordered};
use crate::scoring::{Scorer, bm25_idf, tfidf_idf};
use crate::spell::{Dictionaries, spellcheck_term};
use crate::term_dict::levenshtein;

const VOCAB: &[&str] = &[
    "run", "runs", "running", "ran", "runner", "apple", "apples", "bat", "cat", "car", "cart",
    "carts", "the", "a", "über", "ÜBER", "b_c", "x1",
];

fn schema() -> Vec<FieldSpec> {
    vec![
        FieldSpec::new("title").weight(2.0),
        FieldSpec::new("body").nostem(),
    ]
}

fn index() -> TextIndex {
    TextIndex::new(Analyzer::default(), schema()).unwrap()
}

type Doc = Vec<(u8, String)>;

/// Tokens of the model: (field, lowercased surface, position).
fn model_tokens(a: &Analyzer, doc: &Doc) -> Vec<(u8, String, u32)> {
    let mut out = Vec::new();
    let mut base = [0u32; 2];
    for (f, text) in doc {
        let toks = a.tokens_with(text, false);
        let b = base[*f as usize];
        for t in &toks {
            out.push((*f, t.term.clone(), b + t.pos));
        }
        base[*f as usize] += toks.len() as u32;
    }
    out
}

fn model_match(a: &Analyzer, f: u8, tok: &str, word: &str, verbatim: bool) -> bool {
    let w = word.to_lowercase();
    if a.is_stopword(&w) {
        return false;
    }
    if verbatim {
        return tok == w;
    }
    let s = a.stem(&w).into_owned();
    let stemmed_field = f == 0;
    tok == w || tok == s || (stemmed_field && a.stem(tok) == s)
}

fn model_docs(
    a: &Analyzer,
    corpus: &BTreeMap<u32, Doc>,
    mask: u64,
    pred: impl Fn(u8, &str) -> bool,
) -> RoaringBitmap {
    corpus
        .iter()
        .filter(|(_, d)| {
            model_tokens(a, d)
                .iter()
                .any(|(f, t, _)| mask & (1 << f) != 0 && pred(*f, t))
        })
        .map(|(id, _)| *id)
        .collect()
}

fn doc_strategy() -> impl Strategy<Value = Doc> {
    proptest::collection::vec(
        (
            0u8..2,
            proptest::collection::vec(proptest::sample::select(VOCAB), 0..8),
        ),
        1..3,
    )
    .prop_map(|v| v.into_iter().map(|(f, ws)| (f, ws.join(" "))).collect())
}

#[derive(Debug, Clone)]
enum Op {
    Add(u32, Doc),
    Remove(u32),
    Maintain(usize),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u32..12, doc_strategy()).prop_map(|(d, doc)| Op::Add(d, doc)),
        1 => (0u32..12).prop_map(Op::Remove),
        1 => (0usize..4).prop_map(Op::Maintain),
    ]
}

fn build(ops: &[Op]) -> (TextIndex, BTreeMap<u32, Doc>) {
    let mut idx = index();
    let mut model = BTreeMap::new();
    for op in ops {
        match op {
            Op::Add(d, doc) => {
                let fields: Vec<(u8, &str)> = doc.iter().map(|(f, s)| (*f, s.as_str())).collect();
                idx.add_document(*d, &fields).unwrap();
                model.insert(*d, doc.clone());
            }
            Op::Remove(d) => {
                assert_eq!(idx.remove_document(*d), model.remove(d).is_some());
            }
            Op::Maintain(n) => {
                idx.maintain(*n);
            }
        }
    }
    (idx, model)
}

fn brute_phrase(lists: &[Vec<u32>], slop: u32, inorder: bool) -> bool {
    fn rec(lists: &[Vec<u32>], chosen: &mut Vec<u32>, slop: u32, inorder: bool) -> bool {
        if chosen.len() == lists.len() {
            let n = chosen.len() as i64;
            if inorder && chosen.windows(2).any(|w| w[0] >= w[1]) {
                return false;
            }
            let mx = *chosen.iter().max().unwrap_or(&0) as i64;
            let mn = *chosen.iter().min().unwrap_or(&0) as i64;
            return mx - mn - (n - 1) <= slop as i64;
        }
        for &p in &lists[chosen.len()] {
            chosen.push(p);
            if rec(lists, chosen, slop, inorder) {
                return true;
            }
            chosen.pop();
        }
        false
    }
    rec(lists, &mut Vec::new(), slop, inorder)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn term_prefix_fuzzy_match_model(
        ops in proptest::collection::vec(op_strategy(), 1..30),
        word in proptest::sample::select(VOCAB),
        verbatim in any::<bool>(),
        mask in 1u64..4,
        plen in 1usize..4,
        dist in 1u32..3,
    ) {
        let (idx, model) = build(&ops);
        let a = Analyzer::default();
        prop_assert_eq!(idx.num_docs(), model.len() as u64);
        let live: RoaringBitmap = model.keys().copied().collect();
        prop_assert_eq!(idx.live_docs(), &live);

        let got = idx.term(mask, word, verbatim).docs;
        let want = model_docs(&a, &model, mask, |f, t| model_match(&a, f, t, word, verbatim));
        prop_assert_eq!(got, want, "term {} verbatim {}", word, verbatim);

        // Scoring counts every matching token once (stem keys overlap surface keys).
        let term = idx.term(mask, word, verbatim);
        let st = idx.local_stats(std::slice::from_ref(&term));
        for (id, doc) in &model {
            let want: f64 = model_tokens(&a, doc)
                .iter()
                .filter(|(f, t, _)| mask & (1 << f) != 0 && model_match(&a, *f, t, word, verbatim))
                .map(|(f, _, _)| if *f == 0 { 2.0 } else { 1.0 })
                .sum();
            prop_assert_eq!(idx.score(*id, std::slice::from_ref(&term), &st, Scorer::DisMax), want);
        }

        // top_k (cursor fast path) equals a full ranking by score().
        for scorer in [Scorer::Bm25, Scorer::TfIdf] {
            let mut all: Vec<(u32, f64)> =
                term.docs.iter().map(|d| (d, idx.score(d, std::slice::from_ref(&term), &st, scorer))).collect();
            all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            all.truncate(3);
            let top = idx.top_k(&term.docs, std::slice::from_ref(&term), &st, scorer, 3);
            prop_assert_eq!(top.len(), all.len());
            for (x, y) in top.iter().zip(&all) {
                prop_assert_eq!(x.0, y.0);
                prop_assert!((x.1 - y.1).abs() < 1e-9);
            }
        }

        let p: String = word.to_lowercase().chars().take(plen).collect();
        let got = idx.prefix(mask, &p, usize::MAX).docs;
        let want = model_docs(&a, &model, mask, |_, t| !a.is_stopword(t) && t.starts_with(&p));
        prop_assert_eq!(got, want, "prefix {}", p);

        let w = word.to_lowercase();
        let got = idx.fuzzy(mask, &w, dist, usize::MAX).unwrap().docs;
        let want = model_docs(&a, &model, mask, |_, t| !a.is_stopword(t) && levenshtein(t, &w) <= dist as usize);
        prop_assert_eq!(got, want, "fuzzy {} {}", w, dist);
    }

    #[test]
    fn phrase_matches_model(
        ops in proptest::collection::vec(op_strategy(), 1..25),
        words in proptest::collection::vec(proptest::sample::select(&VOCAB[..12]), 2..4),
        slop in 0u32..3,
        inorder in any::<bool>(),
    ) {
        let (idx, model) = build(&ops);
        let a = Analyzer::default();
        let terms: Vec<QueryTerm> = words.iter().map(|w| idx.term(3, w, true)).collect();
        let got = idx.phrase(&terms, slop, inorder);
        let mut want = RoaringBitmap::new();
        for (id, doc) in &model {
            let toks = model_tokens(&a, doc);
            let hit = (0u8..2).any(|f| {
                let lists: Vec<Vec<u32>> = words
                    .iter()
                    .map(|w| toks.iter().filter(|(tf, t, _)| *tf == f && model_match(&a, f, t, w, true)).map(|x| x.2).collect())
                    .collect();
                lists.iter().all(|l| !l.is_empty()) && brute_phrase(&lists, slop, inorder)
            });
            if hit {
                want.insert(*id);
            }
        }
        prop_assert_eq!(got, want);
    }

    #[test]
    fn window_algorithms_match_brute_force(
        lists in proptest::collection::vec(proptest::collection::btree_set(1u32..20, 1..5), 2..4),
        slop in 0u32..4,
    ) {
        let lists: Vec<Vec<u32>> = lists.into_iter().map(|s| s.into_iter().collect()).collect();
        prop_assert_eq!(within_inorder(&lists, slop), brute_phrase(&lists, slop, true));
        prop_assert_eq!(within_unordered(&lists, slop), brute_phrase(&lists, slop, false));
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn snapshot_round_trip(ops in proptest::collection::vec(op_strategy(), 0..25), word in proptest::sample::select(VOCAB)) {
        let (idx, _) = build(&ops);
        let mut b = Vec::new();
        idx.encode(&mut b);
        let back = TextIndex::decode(&b).unwrap();
        let mut b2 = Vec::new();
        back.encode(&mut b2);
        prop_assert_eq!(&b, &b2);
        prop_assert_eq!(back.live_docs(), idx.live_docs());
        prop_assert_eq!(back.term(3, word, false).docs, idx.term(3, word, false).docs);
        prop_assert_eq!(back.prefix(3, "ca", 100).docs, idx.prefix(3, "ca", 100).docs);
        let t = vec![idx.term(3, word, false)];
        let t2 = vec![back.term(3, word, false)];
        let s = idx.local_stats(&t);
        prop_assert_eq!(&s, &back.local_stats(&t2));
        for d in idx.live_docs() {
            prop_assert_eq!(idx.doc_info(d).map(|i| (&i.lens, i.max_freq)), back.doc_info(d).map(|i| (&i.lens, i.max_freq)));
            prop_assert!((idx.score(d, &t, &s, Scorer::Bm25) - back.score(d, &t2, &s, Scorer::Bm25)).abs() < 1e-12);
        }
        // Every strict prefix and a flipped byte must fail or decode, never panic.
        let step = (b.len() / 48).max(1);
        for cut in (0..b.len()).step_by(step) {
            prop_assert!(TextIndex::decode(&b[..cut]).is_err());
        }
        for i in (0..b.len()).step_by(step) {
            let mut m = b.clone();
            m[i] ^= 0x5a;
            let _ = TextIndex::decode(&m);
        }
    }

    #[test]
    fn decode_arbitrary_bytes_never_panics(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = TextIndex::decode(&b);
        let mut v = vec![1u8, 0, 3, 0, 1];
        v.extend_from_slice(&b);
        let _ = TextIndex::decode(&v);
    }
}

fn add(idx: &mut TextIndex, d: u32, title: &str, body: &str) {
    idx.add_document(d, &[(0, title), (1, body)]).unwrap();
}

#[test]
fn stemming_expansion_and_verbatim() {
    let mut idx = index();
    add(&mut idx, 1, "runs fast", "");
    add(&mut idx, 2, "run", "");
    add(&mut idx, 3, "", "running"); // body is NOSTEM
    add(&mut idx, 4, "running", "");
    let all = idx.all_fields_mask();
    let bits = |t: QueryTerm| t.docs.iter().collect::<Vec<_>>();
    assert_eq!(bits(idx.term(all, "running", false)), [1, 2, 3, 4]);
    assert_eq!(bits(idx.term(all, "running", true)), [3, 4]);
    assert_eq!(bits(idx.term(all, "runs", false)), [1, 2, 4]);
    assert_eq!(bits(idx.term(0b10, "running", false)), [3]);
    assert_eq!(bits(idx.term(all, "RUN", false)), [1, 2, 4]);
    assert!(idx.term(all, "the", false).docs.is_empty());
    // Prefix and fuzzy never return stem keys.
    assert_eq!(idx.prefix(all, "ru", 10).ids.len(), 3);
    assert!(
        idx.fuzzy(all, "run", 1, 100)
            .unwrap()
            .ids
            .iter()
            .all(|&i| !idx.dict().term(i).starts_with('+'))
    );
    assert!(idx.fuzzy(all, "run", 0, 10).is_err());
}

#[test]
fn field_errors_and_limits() {
    let mut idx = index();
    assert!(idx.add_document(1, &[(2, "x")]).is_err());
    assert_eq!(idx.num_docs(), 0);
    assert!(
        TextIndex::new(
            Analyzer::default(),
            vec![FieldSpec::new("a"), FieldSpec::new("a")]
        )
        .is_err()
    );
    let many: Vec<FieldSpec> = (0..65).map(|i| FieldSpec::new(&format!("f{i}"))).collect();
    assert!(TextIndex::new(Analyzer::default(), many).is_err());
    let id = idx.add_field(FieldSpec::new("extra")).unwrap();
    assert_eq!(id, 2);
    idx.add_document(5, &[(2, "hello")]).unwrap();
    assert_eq!(idx.term(1 << 2, "hello", false).docs.len(), 1);
    assert_eq!(idx.term(0b11, "hello", false).docs.len(), 0);
}

#[test]
fn deletes_updates_and_gc() {
    let mut idx = index();
    for d in 0..10 {
        add(&mut idx, d, "alpha beta", &format!("gamma{d}"));
    }
    assert_eq!(idx.total_len(0), 20);
    assert!(idx.remove_document(3));
    assert!(!idx.remove_document(3));
    assert_eq!(idx.term(3, "alpha", false).docs.len(), 9);
    assert_eq!(idx.total_len(0), 18);
    assert_eq!(idx.pending_deletes(), 1);
    // Re-add while pending GC: old postings must not leak back.
    add(&mut idx, 3, "delta", "");
    assert!(!idx.term(3, "alpha", false).docs.contains(3));
    assert!(idx.term(3, "delta", false).docs.contains(3));
    assert_eq!(idx.pending_deletes(), 0);
    // Update of a live doc replaces it.
    add(&mut idx, 4, "epsilon", "");
    assert!(!idx.term(3, "beta", false).docs.contains(4));
    assert_eq!(idx.total_len(0), 16 + 1 + 1);
    // Bounded GC.
    for d in 5..10 {
        idx.remove_document(d);
    }
    let r = idx.maintain(2);
    assert_eq!((r.terms_cleaned, r.docs_reclaimed), (2, 0));
    assert!(r.pending_terms > 0);
    // Re-add a doc in the middle of a GC batch.
    add(&mut idx, 7, "alpha", "");
    idx.maintain_all();
    assert_eq!(idx.pending_deletes(), 0);
    let alpha = idx.term(3, "alpha", false);
    assert_eq!(alpha.docs.iter().collect::<Vec<_>>(), [0, 1, 2, 7]);
    let alpha_id = idx.dict().get("alpha").unwrap();
    assert_eq!(idx.postings[alpha_id as usize].docs(), [0, 1, 2, 7]);
    assert_eq!(idx.num_docs(), 6);
}

#[test]
fn fst_tail_merge_keeps_queries_correct() {
    let mut idx = index();
    for d in 0..5000u32 {
        add(&mut idx, d, &format!("w{d} common"), "");
    }
    assert!(idx.dict().merges() >= 1);
    assert!(idx.dict().tail_len() > 0);
    assert_eq!(idx.prefix(1, "w12", usize::MAX).docs.len(), 1 + 10 + 100);
    let r = idx.maintain(10);
    assert!(r.tail_merged);
    assert_eq!(idx.dict().tail_len(), 0);
    assert_eq!(idx.prefix(1, "w12", usize::MAX).docs.len(), 111);
    let want = (0..5000)
        .filter(|d| levenshtein(&format!("w{d}"), "w4999") <= 1)
        .count() as u64;
    assert_eq!(
        idx.fuzzy(1, "w4999", 1, usize::MAX).unwrap().docs.len(),
        want
    );
    assert_eq!(idx.prefix(1, "w", 7).ids.len(), 7);
}

#[test]
fn bm25_hand_computed() {
    let a = Analyzer::new(Language::English, StopWords::None);
    let mut idx = TextIndex::new(a, vec![FieldSpec::new("t").nostem()]).unwrap();
    idx.add_document(1, &[(0, "cat cat dog")]).unwrap();
    idx.add_document(2, &[(0, "dog bird")]).unwrap();
    idx.add_document(3, &[(0, "bird bird bird fish")]).unwrap();
    let q = vec![idx.term(1, "cat", true), idx.term(1, "bird", true)];
    let st = idx.local_stats(&q);
    assert_eq!(
        (st.num_docs, st.doc_freq.clone(), st.total_len.clone()),
        (3, vec![1, 2], vec![9])
    );
    let avg = 3.0;
    let idf_cat = (1.0f64 + (3.0 - 1.0 + 0.5) / 1.5).ln();
    let s1 = idf_cat * 2.0 * 2.2 / (2.0 + 1.2 * (0.25 + 0.75 * 3.0 / avg));
    assert!((idx.score(1, &q, &st, Scorer::Bm25) - s1).abs() < 1e-12);
    let idf_bird = (1.0f64 + (3.0 - 2.0 + 0.5) / 2.5).ln();
    let s3 = idf_bird * 3.0 * 2.2 / (3.0 + 1.2 * (0.25 + 0.75 * 4.0 / avg));
    assert!((idx.score(3, &q, &st, Scorer::Bm25) - s3).abs() < 1e-12);
    assert_eq!(bm25_idf(3, 1), idf_cat);
    // top_k (fast path) agrees with score().
    let cand = &q[0].docs | &q[1].docs;
    let top = idx.top_k(&cand, &q, &st, Scorer::Bm25, 2);
    assert_eq!(top.len(), 2);
    assert_eq!(top[0].0, 1);
    assert!((top[0].1 - s1).abs() < 1e-12);
    // Global stats change the score (another shard's docs).
    let mut g = st.clone();
    g.merge(&crate::Stats {
        num_docs: 7,
        total_len: vec![21],
        doc_freq: vec![0, 5],
    });
    let idf_g = (1.0f64 + (10.0 - 1.0 + 0.5) / 1.5).ln();
    let sg = idf_g * 2.0 * 2.2 / (2.0 + 1.2 * (0.25 + 0.75 * 3.0 / 3.0));
    assert!((idx.score(1, &q, &g, Scorer::Bm25) - sg).abs() < 1e-12);
    // TFIDF: idf = floor(log2(1 + 3/1)) = 2, tf 2, maxfreq 2, slop 1 → 2.
    assert_eq!(tfidf_idf(3, 1), 2.0);
    assert!((idx.score(1, &q, &st, Scorer::TfIdf) - 2.0).abs() < 1e-12);
    // DOCNORM: 4 / len 3.
    assert!((idx.score(1, &q, &st, Scorer::TfIdfDocNorm) - 4.0 / 3.0).abs() < 1e-12);
    assert_eq!(idx.score(3, &q, &st, Scorer::DisMax), 3.0);
    assert_eq!(idx.score(3, &q, &st, Scorer::DocScore), 1.0);
    let e = idx.explain_score(1, &q, &st, Scorer::Bm25);
    assert!((e.score - s1).abs() < 1e-12);
    assert_eq!(e.children.len(), 2);
    assert!(e.render().starts_with("Final BM25STD"));
    assert!(e.render().contains("IDF"));
}

#[test]
fn field_weights_and_doc_score() {
    let mut idx = index();
    idx.add_document_scored(1, 0.5, &[(0, "apple"), (1, "apple")])
        .unwrap();
    let q = vec![idx.term(3, "apple", true)];
    let st = idx.local_stats(&q);
    // weighted tf = 2.0·1 + 1.0·1 = 3; one doc of length 2 = avg.
    let idf = bm25_idf(1, 1);
    let want = 0.5 * idf * 3.0 * 2.2 / (3.0 + 1.2);
    assert!((idx.score(1, &q, &st, Scorer::Bm25) - want).abs() < 1e-12);
    assert_eq!(idx.score(1, &q, &st, Scorer::DisMax), 3.0);
    // Multi-key (stem) term counts distinct positions once: "runs running" in title.
    idx.add_document(2, &[(0, "runs running")]).unwrap();
    let q = vec![idx.term(1, "running", false)];
    assert_eq!(idx.score(2, &q, &idx.local_stats(&q), Scorer::DisMax), 4.0);
    let st = idx.local_stats(&q);
    let top = idx.top_k(&q[0].docs, &q, &st, Scorer::Bm25, 10);
    assert!((top[0].1 - idx.score(2, &q, &st, Scorer::Bm25)).abs() < 1e-12);
}

#[test]
fn spellcheck_and_dicts() {
    let mut idx = index();
    add(&mut idx, 1, "hello world", "");
    add(&mut idx, 2, "hello help", "");
    let mut d = Dictionaries::default();
    assert_eq!(d.add("custom", &["hellp", "yellow", "hellp"]), 2);
    assert_eq!(d.dump("custom"), ["hellp", "yellow"]);
    let inc = d.get("custom").unwrap();
    let r = spellcheck_term(&idx, "helo", 1, &[inc], &[])
        .unwrap()
        .unwrap();
    assert_eq!(
        r,
        vec![("hello".to_string(), 1.0), ("help".to_string(), 0.5)]
    );
    let r = spellcheck_term(&idx, "hellq", 1, &[inc], &[])
        .unwrap()
        .unwrap();
    assert_eq!(
        r,
        vec![("hello".to_string(), 1.0), ("hellp".to_string(), 0.0)]
    );
    assert_eq!(spellcheck_term(&idx, "hello", 1, &[], &[]).unwrap(), None);
    let ex: BTreeSet<String> = ["help".to_string()].into();
    let r = spellcheck_term(&idx, "helo", 1, &[], &[&ex])
        .unwrap()
        .unwrap();
    assert_eq!(r, vec![("hello".to_string(), 1.0)]);
    assert_eq!(spellcheck_term(&idx, "help", 1, &[], &[&ex]).unwrap(), None);
    assert!(spellcheck_term(&idx, "x", 5, &[], &[]).is_err());
    assert_eq!(d.del("custom", &["hellp", "nope"]), 1);
    assert_eq!(d.del("custom", &["yellow"]), 1);
    assert!(d.dump("custom").is_empty());
}

#[test]
fn decode_rejects_bad_version_with_offset() {
    let idx = index();
    let mut b = Vec::new();
    idx.encode(&mut b);
    assert!(TextIndex::decode(&b).is_ok());
    b[0] = 9;
    let e = TextIndex::decode(&b).unwrap_err();
    assert_eq!(e.offset, 0);
    let mut b = Vec::new();
    idx.encode(&mut b);
    b.push(0);
    assert_eq!(TextIndex::decode(&b).unwrap_err().what, "trailing bytes");
}

#[test]
fn decode_rejects_sparse_doc_ids() {
    let mut idx = TextIndex::new(Analyzer::default(), vec![FieldSpec::new("t")]).unwrap();
    idx.add_document(5, &[(0, "hello")]).unwrap();
    let mut b = Vec::new();
    idx.encode(&mut b);
    // version 2 + language 1 + stop mode 1 + nfields 1 + field (4 + 1 + 8 + 1) + ndocs 4.
    let at = 2 + 1 + 1 + 1 + 14 + 4;
    assert_eq!(&b[at..at + 4], &5u32.to_le_bytes());
    assert!(TextIndex::decode(&b).is_ok());
    b[at..at + 4].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let e = TextIndex::decode(&b).unwrap_err();
    assert_eq!((e.offset, e.what), (at, "doc ids too sparse"));
}

/// The byte layout documented in SPEC.md §9.5, built by hand.
fn spec_example_bytes() -> Vec<u8> {
    let mut b = vec![1, 0, 3, 0, 1];
    b.extend_from_slice(&4u32.to_le_bytes());
    b.extend_from_slice(b"body");
    b.extend_from_slice(&1.0f64.to_le_bytes());
    b.push(0);
    b.extend_from_slice(&1u32.to_le_bytes()); // one doc
    b.extend_from_slice(&1u32.to_le_bytes()); // doc id 1
    b.extend_from_slice(&1.0f64.to_le_bytes()); // score
    b.extend_from_slice(&[1, 2]); // max_freq 1, length of field 0 = 2
    b.extend_from_slice(&2u32.to_le_bytes()); // two terms
    for (t, pos) in [("hello", 1u8), ("world", 2)] {
        b.extend_from_slice(&(t.len() as u32).to_le_bytes());
        b.extend_from_slice(t.as_bytes());
        // 1 posting: doc 1, entry of 5 bytes: 1 field, field 0, tf 1, 1 byte of deltas.
        b.extend_from_slice(&[1, 1, 5, 1, 0, 1, 1, pos]);
    }
    b
}

#[test]
fn snapshot_layout_matches_spec() {
    let b = spec_example_bytes();
    let idx = TextIndex::decode(&b).unwrap();
    assert_eq!(
        idx.term(1, "world", true).docs.iter().collect::<Vec<_>>(),
        [1]
    );
    let mut built = TextIndex::new(Analyzer::default(), vec![FieldSpec::new("body")]).unwrap();
    built.add_document(1, &[(0, "Hello, world!")]).unwrap();
    let mut enc = Vec::new();
    built.encode(&mut enc);
    assert_eq!(enc, b);
    let phrase = [idx.term(1, "hello", true), idx.term(1, "world", true)];
    assert_eq!(idx.phrase(&phrase, 0, true).len(), 1);
}

#[test]
#[ignore = "writes the fuzz seed: cargo test -p moon-text -- --ignored write_fuzz_seed"]
fn write_fuzz_seed() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/text_decode");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(format!("{dir}/spec_example"), spec_example_bytes()).unwrap();
    let mut idx = TextIndex::new(Analyzer::default(), schema()).unwrap();
    add(&mut idx, 3, "Running runners run", "the quick brown fox");
    add(&mut idx, 9, "apples and carts", "über b_c x1 running");
    let mut b = Vec::new();
    idx.encode(&mut b);
    std::fs::write(format!("{dir}/two_fields"), b).unwrap();
}

/// A corpus large enough for several score-bound blocks per frequent term: Zipf-like picks
/// from words whose stem is themselves (so terms resolve to one key), two stemming fields
/// with different weights, random doc scores, deletes, re-adds (out-of-order postings) and GC.
fn pruning_corpus(seed: u64, n: u32, neg_score: bool) -> TextIndex {
    const WORDS: &[&str] = &[
        "bam", "kol", "zed", "mip", "tor", "lun", "vex", "gah", "dov", "rik", "sul", "pem", "wob",
        "fip", "jat", "nox",
    ];
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let fields = vec![
        FieldSpec::new("title").weight(2.5),
        FieldSpec::new("body").weight(0.5),
    ];
    let mut idx = TextIndex::new(Analyzer::default(), fields).unwrap();
    let text = |next: &mut dyn FnMut() -> u64, len: u64| -> String {
        (0..len)
            .map(|_| {
                let r = (next() % 1000) as f64 / 1000.0;
                WORDS[((r * r * r) * WORDS.len() as f64) as usize]
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    for round in 0..2 {
        for d in 0..n {
            if round == 1 && next() % 5 != 0 {
                continue;
            }
            let (tl, bl) = (next() % 4, 1 + next() % 40);
            let title = text(&mut next, tl);
            let body = text(&mut next, bl);
            let score = match next() % 4 {
                0 => (next() % 100) as f64 / 100.0,
                1 if neg_score => -0.5,
                _ => 1.0,
            };
            idx.add_document_scored(d, score, &[(0, &title), (1, &body)])
                .unwrap();
        }
    }
    for d in 0..n {
        if next() % 7 == 0 {
            idx.remove_document(d);
        }
    }
    idx.maintain((next() % 8) as usize);
    idx
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Block-max pruned top-k of a single term == exhaustive top-k (ids and bit-identical
    /// scores), with local and with foreign (multi-shard-like) statistics, before and after
    /// a snapshot round trip.
    #[test]
    fn pruned_top_k_equals_exhaustive(
        seed in any::<u64>(),
        n in 100u32..700,
        neg_score in proptest::bool::weighted(0.2),
        k in 1usize..25,
        weight in proptest::sample::select(&[1.0f64, 0.5, 3.0, 0.0][..]),
        extra in 0u64..5000,
    ) {
        let idx = pruning_corpus(seed, n, neg_score);
        let mut b = Vec::new();
        idx.encode(&mut b);
        let back = TextIndex::decode(&b).unwrap();
        for ix in [&idx, &back] {
            for w in ["bam", "kol", "zed", "tor", "nox", "absent"] {
                let mut t = ix.term_keys(3, w, false);
                t.weight = weight;
                let count = ix.direct_count(&t);
                prop_assert!(count.is_some(), "{} resolves to one key", w);
                let mut full = t.clone();
                ix.fill_docs(&mut full);
                prop_assert_eq!(count, Some(full.docs.len()));
                let local = ix.stats_with(vec![full.docs.len()]);
                let mut foreign = local.clone();
                foreign.num_docs += extra;
                foreign.doc_freq[0] += extra / 3;
                for l in &mut foreign.total_len {
                    *l += extra * 7;
                }
                for st in [&local, &foreign] {
                    let want = ix.top_k(&full.docs, std::slice::from_ref(&full), st, Scorer::Bm25, k);
                    let got = ix.top_k_direct(&t, st, k);
                    prop_assert_eq!(got.len(), want.len());
                    for (g, e) in got.iter().zip(&want) {
                        prop_assert_eq!(g.0, e.0, "term {}", w);
                        prop_assert_eq!(g.1.to_bits(), e.1.to_bits(), "term {}", w);
                    }
                }
            }
        }
    }
}

/// A field restriction or several keys are not served directly (the general path handles
/// them); a frequent term's pruned top-k skips blocks yet agrees with exhaustive scoring.
#[test]
fn direct_path_scope() {
    let idx = pruning_corpus(7, 600, false);
    assert_eq!(idx.direct_count(&idx.term_keys(1, "bam", false)), None);
    let mut t = idx.term_keys(3, "bam", false);
    assert!(idx.postings[t.ids[0] as usize].blocks().len() > 2);
    idx.fill_docs(&mut t);
    let st = idx.stats_with(vec![t.docs.len()]);
    assert_eq!(
        idx.top_k_direct(&t, &st, 10),
        idx.top_k(&t.docs, std::slice::from_ref(&t), &st, Scorer::Bm25, 10)
    );
    // "running" has `+run` and (once "run" is indexed) the surface key "run".
    let mut two = TextIndex::new(Analyzer::default(), vec![FieldSpec::new("b")]).unwrap();
    two.add_document(1, &[(0, "running")]).unwrap();
    two.add_document(2, &[(0, "run")]).unwrap();
    assert_eq!(two.direct_count(&two.term_keys(1, "running", false)), None);
}
