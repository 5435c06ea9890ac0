//! Fuzz the vector index snapshot decoder and the vector blob parser.
//!
//! Byte 0 picks the target: odd = blob parser (byte 1 = element type, byte 2 = dim), even =
//! index snapshot decoder on the rest. Beyond "never panics": a decoded index passes its graph
//! invariants, answers a KNN and a range query with sorted results, and re-encodes to bytes
//! that decode to an index that re-encodes identically; an accepted blob has `dim` elements.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moon_vector::{ElementType, VectorIndex, parse_blob};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 1 {
        let (Some(&ty), Some(&dim)) = (rest.first(), rest.get(1)) else {
            return;
        };
        let ty = match ty % 3 {
            0 => ElementType::Float32,
            1 => ElementType::Float16,
            _ => ElementType::BFloat16,
        };
        let blob = &rest[2..];
        match parse_blob(ty, dim as usize, blob) {
            Ok(v) => assert_eq!(v.len(), dim as usize),
            Err(_) => assert_ne!(blob.len(), dim as usize * ty.size()),
        }
        return;
    }
    let Ok(index) = VectorIndex::decode(rest) else {
        return;
    };
    if let Some(h) = index.as_hnsw() {
        assert!(h.check_invariants().is_ok());
    }
    let q = vec![0.5f32; index.params().dim];
    let got = index.knn(&q, 5, Some(16), None).expect("dimension matches");
    assert!(got.len() <= 5 && got.len() <= index.len());
    assert!(got.windows(2).all(|w| w[0].1.total_cmp(&w[1].1).is_le()));
    let _ = index.range(&q, 1.0, None, None);
    let mut again = Vec::new();
    index.encode(&mut again);
    let back = VectorIndex::decode(&again).expect("re-encoded snapshot decodes");
    let mut third = Vec::new();
    back.encode(&mut third);
    assert_eq!(again, third);
});
