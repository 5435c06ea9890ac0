//! Fuzzes moon-text's snapshot decoders (`TextIndex::decode`, `Suggestions::decode`) with
//! arbitrary bytes, both raw and behind a valid version/header prefix.
//!
//! Checks, beyond "never panics": an accepted index re-encodes to bytes that decode to an
//! index encoding to the same bytes; its per-term doc sets are subsets of the live docs; it
//! answers term / prefix / fuzzy / phrase queries and scores without panicking; and it
//! accepts a new document and a maintenance pass afterwards.

#![no_main]

use libfuzzer_sys::fuzz_target;
use moon_text::{Scorer, Suggestions, TextIndex};

fuzz_target!(|data: &[u8]| {
    check(data);
    // Version 1, English, default stop words, then the fuzzer's schema/body.
    let mut v = vec![1u8, 0, 3, 0];
    v.extend_from_slice(data);
    check(&v);
    if let Ok(s) = Suggestions::decode(data) {
        let mut out = Vec::new();
        s.encode(&mut out);
        assert_eq!(Suggestions::decode(&out).ok(), Some(s.clone()));
        let _ = s.get("ab", true, 5);
        let _ = s.get("", false, 3);
    }
});

fn check(bytes: &[u8]) {
    let Ok(mut idx) = TextIndex::decode(bytes) else {
        return;
    };
    let mut enc = Vec::new();
    idx.encode(&mut enc);
    let Ok(back) = TextIndex::decode(&enc) else {
        panic!("re-encoded index does not decode")
    };
    let mut enc2 = Vec::new();
    back.encode(&mut enc2);
    assert_eq!(enc, enc2, "encode/decode not stable");
    let all = idx.all_fields_mask();
    let words: Vec<String> = idx
        .dict()
        .sorted_ids()
        .iter()
        .take(8)
        .map(|&i| idx.dict().term(i).to_string())
        .collect();
    let mut terms = Vec::new();
    for w in &words {
        let t = idx.term(all, w, true);
        assert!(t.docs.is_subset(idx.live_docs()));
        let _ = idx.prefix(all, w, 16);
        let _ = idx.fuzzy(all, w, 1, 16);
        terms.push(t);
    }
    let _ = idx.phrase(&terms, 1, true);
    let st = idx.local_stats(&terms);
    for s in [
        Scorer::Bm25,
        Scorer::TfIdf,
        Scorer::TfIdfDocNorm,
        Scorer::DisMax,
        Scorer::DocScore,
    ] {
        let _ = idx.top_k(idx.live_docs(), &terms, &st, s, 5);
    }
    if let Some(d) = idx.live_docs().iter().next() {
        let _ = idx.explain_score(d, &terms, &st, Scorer::Bm25);
        idx.remove_document(d);
    }
    if !idx.fields().is_empty() {
        assert!(idx.add_document(7, &[(0, "hello fuzzing world")]).is_ok());
    }
    idx.maintain_all();
}
