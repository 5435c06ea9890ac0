//! Tests of the list value: listpack entry sizes against Redis's, encoding conversions exactly
//! at the thresholds, quicklist node layout, and a model-based proptest against `VecDeque`.

use std::collections::VecDeque;

use proptest::prelude::*;

use super::*;

fn s(v: &str) -> Vec<u8> {
    v.as_bytes().to_vec()
}

fn contents(l: &ListValue) -> Vec<Vec<u8>> {
    l.iter_from(0).map(|e| e.to_vec()).collect()
}

fn contents_rev(l: &ListValue) -> Vec<Vec<u8>> {
    l.iter_rev_from(l.len().saturating_sub(1))
        .map(|e| e.to_vec())
        .collect()
}

/// Entry sizes measured on redis-server 7 with DEBUG LISTPACK (total bytes minus the header,
/// the end marker and a 1-byte field entry).
#[test]
fn entry_sizes_match_redis_listpack() {
    let x = |n: usize| "x".repeat(n);
    let cases: Vec<(String, usize)> = vec![
        ("0".into(), 2),
        ("127".into(), 2),
        ("128".into(), 3),
        ("-1".into(), 3),
        ("4095".into(), 3),
        ("4096".into(), 4),
        ("-4096".into(), 3),
        ("-4097".into(), 4),
        ("32767".into(), 4),
        ("32768".into(), 5),
        ("-32768".into(), 4),
        ("-32769".into(), 5),
        ("8388607".into(), 5),
        ("8388608".into(), 6),
        ("-8388608".into(), 5),
        ("-8388609".into(), 6),
        ("2147483647".into(), 6),
        ("2147483648".into(), 10),
        ("-2147483648".into(), 6),
        ("-2147483649".into(), 10),
        ("9223372036854775807".into(), 10),
        ("-9223372036854775808".into(), 10),
        ("-0".into(), 4),
        ("01".into(), 4),
        ("abc".into(), 5),
        (x(63), 65),
        (x(64), 67),
        (x(127), 131),
        (x(128), 132),
        (x(4095), 4099),
        (x(4096), 4103),
        (x(16380), 16388),
        (x(16381), 16389),
    ];
    for (v, size) in cases {
        let mut p = Pack::new();
        p.push_back(v.as_bytes());
        assert_eq!(p.lp_bytes(), 7 + size, "entry size of {v:.20}");
        assert_eq!(p.front().map(|e| e.to_vec()), Some(v.clone().into_bytes()));
        assert_eq!(p.back().map(|e| e.to_vec()), Some(v.into_bytes()));
    }
}

#[test]
fn integers_round_trip_at_every_width() {
    let values = [
        0,
        1,
        127,
        128,
        -1,
        4095,
        -4096,
        4096,
        -4097,
        i64::from(i16::MAX),
        i64::from(i16::MIN),
        8_388_607,
        -8_388_608,
        8_388_608,
        i64::from(i32::MAX),
        i64::from(i32::MIN),
        i64::MAX,
        i64::MIN,
    ];
    let mut p = Pack::new();
    for v in values {
        p.push_back(v.to_string().as_bytes());
        p.push_front(v.to_string().as_bytes());
    }
    let fwd: Vec<Elem<'_>> = p.iter().collect();
    let mut expect: Vec<Elem<'_>> = values.iter().rev().map(|&v| Elem::Int(v)).collect();
    expect.extend(values.iter().map(|&v| Elem::Int(v)));
    assert_eq!(fwd, expect);
    let back: Vec<Elem<'_>> = p.iter_rev().collect();
    expect.reverse();
    assert_eq!(back, expect);
}

#[test]
fn grows_to_quicklist_exactly_at_the_entry_limit() {
    for fill in [1i64, 3, 128] {
        let limit = fill as usize;
        let mut l = ListValue::new();
        for i in 0..limit {
            l.grow(fill, 1, 1);
            l.push(End::Tail, b"v");
            assert_eq!(l.encoding_name(), "listpack", "fill {fill}, {i} elements");
        }
        l.grow(fill, 1, 1);
        l.push(End::Tail, b"v");
        assert_eq!(l.encoding_name(), "quicklist", "fill {fill}");
        assert_eq!(l.len(), limit + 1);
    }
}

#[test]
fn grows_to_quicklist_exactly_at_the_byte_limit() {
    // fill -1 = 4096 bytes: 6 header + n entries of (1 + 61 + 1) + 1 end.
    let v = vec![b'a'; 61];
    let mut l = ListValue::new();
    let mut n = 0;
    loop {
        let before = l.encoding_name();
        let lp_before = 7 + n * 63;
        l.grow(-1, v.len(), 1);
        if l.encoding_name() == "quicklist" {
            assert_eq!(before, "listpack");
            // Redis's estimate: current bytes + the raw length of the new element.
            assert!(lp_before + 61 > 4096 && lp_before - 63 + 61 <= 4096);
            break;
        }
        l.push(End::Tail, &v);
        n += 1;
    }
    assert_eq!(n, (4096 - 7 - 61) / 63 + 1);
}

#[test]
fn shrinks_back_at_half_the_limit_with_one_node() {
    let fill = 4;
    let mut l = ListValue::new();
    for i in 0..5 {
        l.grow(fill, 1, 1);
        l.push(End::Tail, i.to_string().as_bytes());
    }
    assert_eq!(l.encoding_name(), "quicklist");
    assert_eq!(l.node_lens(), vec![4, 1]);
    // Two nodes: never converts, whatever the size.
    l.pop(End::Head);
    l.pop(End::Head);
    l.pop(End::Head);
    l.shrink(fill);
    assert_eq!(l.node_lens(), vec![1, 1]);
    assert_eq!(l.encoding_name(), "quicklist");
    l.pop(End::Tail);
    l.shrink(fill);
    // One node of 1 element <= 4 / 2.
    assert_eq!(l.encoding_name(), "listpack");
    assert_eq!(contents(&l), vec![s("3")]);

    // Three elements in one node stay a quicklist (3 > 4 / 2).
    let mut l = ListValue::new();
    for i in 0..5 {
        l.grow(fill, 1, 1);
        l.push(End::Head, i.to_string().as_bytes());
    }
    assert_eq!(l.node_lens(), vec![1, 4]);
    l.pop(End::Head);
    l.pop(End::Tail);
    l.shrink(fill);
    assert_eq!(l.encoding_name(), "quicklist");
    l.pop(End::Tail);
    l.shrink(fill);
    assert_eq!(l.encoding_name(), "listpack");
    assert_eq!(contents(&l), vec![s("3"), s("2")]);
}

#[test]
fn quicklist_push_follows_node_limits() {
    let mut l = ListValue::new();
    l.grow(3, 0, 10);
    for i in 0..10 {
        l.push(End::Tail, i.to_string().as_bytes());
    }
    assert_eq!(l.node_lens(), vec![3, 3, 3, 1]);
    for i in 10..12 {
        l.push(End::Head, i.to_string().as_bytes());
    }
    assert_eq!(l.node_lens(), vec![2, 3, 3, 3, 1]);
    assert_eq!(l.get(0).map(|e| e.to_vec()), Some(s("11")));
    assert_eq!(l.get(11).map(|e| e.to_vec()), Some(s("9")));
    assert_eq!(l.get(12), None);
}

#[test]
fn linsert_splits_full_nodes_and_merges() {
    let mut l = ListValue::new();
    l.grow(4, 0, 8);
    for v in ["a", "b", "c", "d", "e", "f", "g", "h"] {
        l.push(End::Tail, v.as_bytes());
    }
    assert_eq!(l.node_lens(), vec![4, 4]);
    // Middle of a full node: split [a b] [X c d] then merge attempts (none fit).
    assert!(l.insert(b"b", b"X", true));
    assert_eq!(
        contents(&l),
        ["a", "b", "X", "c", "d", "e", "f", "g", "h"]
            .iter()
            .map(|v| s(v))
            .collect::<Vec<_>>()
    );
    assert_eq!(l.node_lens(), vec![2, 3, 4]);
    // Inside a full node, before: the new node takes [e f g] + Y; the node keeps [h].
    assert!(l.insert(b"h", b"Y", false));
    assert_eq!(l.node_lens(), vec![2, 3, 4, 1]);
    // After the tail of a full node whose next node has room: head of the next node.
    assert!(l.insert(b"Y", b"W", true));
    assert_eq!(l.node_lens(), vec![2, 3, 4, 2]);
    // Before the head of a full node whose previous node has room: tail of the previous.
    assert!(l.insert(b"e", b"V", false));
    assert_eq!(l.node_lens(), vec![2, 4, 4, 2]);
    assert_eq!(
        contents(&l),
        ["a", "b", "X", "c", "d", "V", "e", "f", "g", "Y", "W", "h"]
            .iter()
            .map(|v| s(v))
            .collect::<Vec<_>>()
    );
    assert!(!l.insert(b"nope", b"Z", true));
    assert_eq!(contents_rev(&l).first().map(Vec::as_slice), Some(&b"h"[..]));
}

#[test]
fn listpack_replace_insert_remove() {
    let mut l = ListValue::new();
    for v in ["1", "x", "1", "yy", "1", "300"] {
        l.push(End::Tail, v.as_bytes());
    }
    assert!(l.set(1, b"a-much-longer-value-than-before"));
    assert!(l.set(3, b"7"));
    assert!(!l.set(6, b"z"));
    assert!(l.insert(b"300", b"end", true));
    assert!(l.insert(b"1", b"start", false));
    assert_eq!(l.remove(b"1", 2, true), 2);
    assert_eq!(
        contents(&l),
        [
            "start",
            "1",
            "a-much-longer-value-than-before",
            "7",
            "300",
            "end"
        ]
        .iter()
        .map(|v| s(v))
        .collect::<Vec<_>>()
    );
    assert_eq!(l.remove(b"1", 0, false), 1);
    l.delete_range(1, 2);
    assert_eq!(
        contents(&l),
        ["start", "300", "end"]
            .iter()
            .map(|v| s(v))
            .collect::<Vec<_>>()
    );
}

#[test]
fn memory_is_bounded_for_queues() {
    let mut l = ListValue::new();
    for i in 0..100 {
        l.push(End::Tail, format!("v{i}").as_bytes());
    }
    let steady = l.mem_bytes();
    for i in 0..100_000 {
        l.push(End::Tail, format!("v{i}").as_bytes());
        l.pop(End::Head);
        l.push(End::Head, format!("w{i}").as_bytes());
        l.pop(End::Tail);
    }
    assert_eq!(l.len(), 100);
    assert!(l.mem_bytes() <= steady * 3, "{} vs {steady}", l.mem_bytes());
}

#[derive(Debug, Clone)]
enum Step {
    Push(bool, Vec<u8>),
    Pop(bool),
    Set(usize, Vec<u8>),
    Insert(usize, bool, Vec<u8>),
    Remove(Vec<u8>, usize, bool),
    Delete(usize, usize),
    Shrink,
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (-5000i64..5000).prop_map(|v| v.to_string().into_bytes()),
        prop::sample::select(vec![
            s("a"),
            s("b"),
            s(""),
            s("-0"),
            s("9223372036854775807"),
        ]),
        prop::collection::vec(b'a'..=b'c', 0..90),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (any::<bool>(), value()).prop_map(|(h, v)| Step::Push(h, v)),
        2 => any::<bool>().prop_map(Step::Pop),
        1 => (0usize..40, value()).prop_map(|(i, v)| Step::Set(i, v)),
        1 => (0usize..40, any::<bool>(), value()).prop_map(|(i, a, v)| Step::Insert(i, a, v)),
        1 => (value(), 0usize..3, any::<bool>()).prop_map(|(v, n, b)| Step::Remove(v, n, b)),
        1 => (0usize..40, 0usize..6).prop_map(|(a, n)| Step::Delete(a, n)),
        1 => Just(Step::Shrink),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn behaves_like_a_deque(
        fill in prop::sample::select(vec![1i64, 2, 3, 5, -1, 0]),
        steps in prop::collection::vec(step(), 0..120),
    ) {
        let mut l = ListValue::new();
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        for st in steps {
            match st {
                Step::Push(head, v) => {
                    l.grow(fill, v.len(), 1);
                    if head {
                        l.push(End::Head, &v);
                        model.push_front(v);
                    } else {
                        l.push(End::Tail, &v);
                        model.push_back(v);
                    }
                }
                Step::Pop(head) => {
                    let (got, want) = if head {
                        (l.pop(End::Head), model.pop_front())
                    } else {
                        (l.pop(End::Tail), model.pop_back())
                    };
                    prop_assert_eq!(got.map(|b| b.to_vec()), want);
                }
                Step::Set(i, v) => {
                    l.grow(fill, v.len(), 1);
                    let ok = l.set(i, &v);
                    prop_assert_eq!(ok, i < model.len());
                    if ok {
                        model[i] = v;
                    }
                }
                Step::Insert(i, after, v) => {
                    l.grow(fill, v.len(), 1);
                    let pivot = model.get(i).cloned().unwrap_or_else(|| s("absent!"));
                    let ok = l.insert(&pivot, &v, after);
                    let at = model.iter().position(|e| *e == pivot);
                    prop_assert_eq!(ok, at.is_some());
                    if let Some(at) = at {
                        model.insert(if after { at + 1 } else { at }, v);
                    }
                }
                Step::Remove(v, n, from_tail) => {
                    let got = l.remove(&v, n, from_tail);
                    let mut want = 0;
                    if from_tail {
                        let mut i = model.len();
                        while i > 0 && (n == 0 || want < n) {
                            i -= 1;
                            if model[i] == v {
                                model.remove(i);
                                want += 1;
                            }
                        }
                    } else {
                        let mut i = 0;
                        while i < model.len() && (n == 0 || want < n) {
                            if model[i] == v {
                                model.remove(i);
                                want += 1;
                            } else {
                                i += 1;
                            }
                        }
                    }
                    prop_assert_eq!(got, want);
                }
                Step::Delete(a, n) => {
                    l.delete_range(a, n);
                    if a < model.len() {
                        let end = (a + n).min(model.len());
                        model.drain(a..end);
                    }
                }
                Step::Shrink => l.shrink(fill),
            }
            prop_assert_eq!(l.len(), model.len());
            let fwd = contents(&l);
            prop_assert_eq!(&fwd, &model.iter().cloned().collect::<Vec<_>>());
            let mut back = contents_rev(&l);
            back.reverse();
            prop_assert_eq!(&back, &fwd);
            if l.encoding_name() == "quicklist" {
                prop_assert!(l.node_lens().iter().all(|&n| n > 0));
                prop_assert_eq!(l.node_lens().iter().sum::<usize>(), l.len());
            }
            for (i, want) in model.iter().enumerate().step_by(7) {
                let got = l.get(i).map(|e| e.to_vec());
                prop_assert_eq!(got.as_ref(), Some(want));
                let from: Vec<Vec<u8>> = l.iter_from(i).map(|e| e.to_vec()).collect();
                prop_assert_eq!(&from[..], &fwd[i..]);
            }
        }
    }
}
