//! Unit and property tests of the HYLL format: byte-exact values and counts recorded from
//! redis-server 7.0.15, sparse/dense equivalence against a register-array model, and decoding
//! of arbitrary bytes without panics.
use super::*;
use proptest::prelude::*;

const DEFAULT_MAX: usize = 3000;

fn hll_of(elements: impl IntoIterator<Item = String>, sparse_max: usize) -> Vec<u8> {
    let mut v = new_sparse();
    for e in elements {
        add(&mut v, e.as_bytes(), sparse_max).expect("valid hll");
    }
    invalidate_cache(&mut v);
    v
}

fn numbered(n: usize) -> impl Iterator<Item = String> {
    (0..n).map(|i| format!("e{i}"))
}

/// All registers of a validated value.
fn registers(v: &[u8]) -> [u8; REGISTERS] {
    let mut max = [0u8; REGISTERS];
    merge_into(&mut max, v).expect("valid hll");
    max
}

#[test]
fn empty_hll_layout() {
    let v = new_sparse();
    assert_eq!(v, b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff");
    assert!(is_valid(&v));
    assert_eq!(cached_card(&v), Some(0));
    assert_eq!(count(&v), Ok(0));
    assert_eq!(DENSE_SIZE, 12304);
}

#[test]
fn matches_redis_bytes_for_small_sets() {
    // redis-server 7.0.15: PFADD h a b c; GET h.
    let v = hll_of(["a", "b", "c"].map(String::from), DEFAULT_MAX);
    assert_eq!(
        v,
        b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80`\xf3\x80P\xb1\x84K\xfb\x80BZ".to_vec()
    );
    assert_eq!(cached_card(&v), None);
    assert_eq!(count(&v), Ok(3));
}

#[test]
fn matches_redis_counts_and_sizes() {
    // Recorded from redis-server 7.0.15 with the default hll-sparse-max-bytes (3000).
    let v = hll_of(numbered(1000), DEFAULT_MAX);
    assert_eq!((count(&v), v.len()), (Ok(1008), 1906));
    assert!(!is_dense(&v));
    let v5 = hll_of(numbered(5000), DEFAULT_MAX);
    assert_eq!((count(&v5), v5.len()), (Ok(4968), DENSE_SIZE));
    assert!(is_dense(&v5));
    // hll-sparse-max-bytes 100 converts early.
    let small = hll_of(numbered(100), 100);
    assert_eq!((count(&small), small.len()), (Ok(100), DENSE_SIZE));
    // PFMERGE m big h, then PFCOUNT m.
    let abc = hll_of(["a", "b", "c"].map(String::from), DEFAULT_MAX);
    let mut max = [0u8; REGISTERS];
    merge_into(&mut max, &v).expect("valid");
    merge_into(&mut max, &abc).expect("valid");
    assert_eq!(count_raw(&max), 1012);
    let mut m = new_sparse();
    store_merged(&mut m, &max, false, DEFAULT_MAX).expect("valid");
    assert_eq!((count(&m), m.len()), (Ok(1012), 1912));
}

#[test]
fn conversion_happens_exactly_at_the_limit() {
    // Grow one element at a time: the value stays sparse while it fits the limit and turns
    // dense on the first insert that would exceed it.
    let limit = 200;
    let mut v = new_sparse();
    for e in numbered(400) {
        let before = v.clone();
        add(&mut v, e.as_bytes(), limit).expect("valid");
        if is_dense(&v) {
            assert!(!is_dense(&before));
            assert!(before.len() <= limit);
            // The same insert without a limit would have needed more than `limit` bytes.
            let mut unlimited = before.clone();
            add(&mut unlimited, e.as_bytes(), usize::MAX).expect("valid");
            assert!(unlimited.len() > limit, "{} <= {limit}", unlimited.len());
            assert_eq!(registers(&unlimited), registers(&v));
            return;
        }
        assert!(v.len() <= limit);
    }
    panic!("never converted");
}

#[test]
fn large_register_values_force_dense() {
    let mut v = new_sparse();
    assert_eq!(set_register(&mut v, 5, 32, DEFAULT_MAX), Ok(true));
    assert!(!is_dense(&v));
    assert_eq!(set_register(&mut v, 6, 33, DEFAULT_MAX), Ok(true));
    assert!(is_dense(&v));
    let regs = registers(&v);
    assert_eq!((regs[5], regs[6], regs[7]), (32, 33, 0));
    assert_eq!(set_register(&mut v, 6, 10, DEFAULT_MAX), Ok(false));
}

#[test]
fn murmur_and_pattern() {
    // The pattern length is bounded by Q + 1 and the index by the register count.
    for e in numbered(2000) {
        let (index, len) = pat_len(e.as_bytes());
        assert!(index < REGISTERS);
        assert!((1..=51).contains(&len));
    }
    assert_ne!(murmur64a(b"a", 0), murmur64a(b"b", 0));
    assert_eq!(murmur64a(b"", 0), 0);
}

#[test]
fn validation_and_corruption() {
    assert!(!is_valid(b"HYLL"));
    assert!(!is_valid(b"HYLX\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff"));
    assert!(!is_valid(b"HYLL\x02\0\0\0\0\0\0\0\0\0\0\0\x7f\xff"));
    // Dense must have the exact size.
    assert!(!is_valid(b"HYLL\x00\0\0\0\0\0\0\0\0\0\0\0\x7f\xff"));
    // A sparse value covering too few registers.
    let short = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x00".to_vec();
    assert!(is_valid(&short));
    assert_eq!(count(&short), Err(Corrupt));
    let mut max = [0u8; REGISTERS];
    assert_eq!(merge_into(&mut max, &short), Err(Corrupt));
    let mut s = short.clone();
    assert_eq!(sparse_to_dense(&mut s), Err(Corrupt));
    let mut s = short.clone();
    assert_eq!(set_register(&mut s, 100, 3, DEFAULT_MAX), Err(Corrupt));
    // Too many registers: the sparse set still works on the prefix, counting fails.
    let mut long = new_sparse();
    long.extend_from_slice(&[0x7f, 0xff]);
    assert_eq!(count(&long), Err(Corrupt));
    assert_eq!(set_register(&mut long, 3, 2, DEFAULT_MAX), Ok(true));
}

/// Applies (index, count) raises to a sparse value and to a plain register model.
fn check_against_model(ops: &[(usize, u8)], sparse_max: usize) -> Result<(), TestCaseError> {
    let mut v = new_sparse();
    let mut model = [0u8; REGISTERS];
    for &(index, value) in ops {
        let changed = set_register(&mut v, index, value, sparse_max).expect("valid");
        prop_assert_eq!(changed, value > model[index]);
        model[index] = model[index].max(value);
        prop_assert!(is_dense(&v) || v.len() <= sparse_max.max(HDR + 2));
    }
    prop_assert_eq!(registers(&v), model);
    let mut dense = v.clone();
    sparse_to_dense(&mut dense).expect("valid");
    prop_assert_eq!(registers(&dense), model);
    prop_assert_eq!(count(&v), Ok(count_raw(&model)));
    prop_assert_eq!(count(&dense), Ok(count_raw(&model)));
    Ok(())
}

proptest! {
    #[test]
    fn sparse_matches_register_model(
        ops in proptest::collection::vec((0usize..REGISTERS, 1u8..=40), 0..300)
    ) {
        check_against_model(&ops, usize::MAX)?;
    }

    #[test]
    fn clustered_registers_merge_runs(
        ops in proptest::collection::vec((0usize..64, 1u8..=4), 0..200)
    ) {
        // Neighbouring registers with equal values exercise the VAL run merging.
        check_against_model(&ops, usize::MAX)?;
    }

    #[test]
    fn conversion_keeps_registers(
        ops in proptest::collection::vec((0usize..REGISTERS, 1u8..=20), 0..300),
        limit in 20usize..400,
    ) {
        check_against_model(&ops, limit)?;
    }

    #[test]
    fn arbitrary_payloads_never_panic(
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        dense in any::<bool>(),
        element in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut v = b"HYLL".to_vec();
        v.push(u8::from(!dense));
        v.extend_from_slice(&[0; 11]);
        v.extend_from_slice(&payload);
        if dense {
            v.resize(DENSE_SIZE, 0x5a);
        }
        prop_assert!(is_valid(&v));
        let _ = count(&v);
        let mut max = [0u8; REGISTERS];
        let _ = merge_into(&mut max, &v);
        let _ = count_raw(&max);
        let mut w = v.clone();
        let _ = add(&mut w, &element, 200);
        let _ = add(&mut w, &element, DEFAULT_MAX);
        let mut w = v.clone();
        let _ = sparse_to_dense(&mut w);
        let mut w = v.clone();
        let _ = store_merged(&mut w, &max, !dense, 100);
    }
}
