//! Unit and property tests of the bit primitives against a bit-vector model.
use super::*;
use proptest::prelude::*;

/// Bit `i` of a model bit vector (MSB-first within bytes, like the bitmap).
fn model_bits(bytes: &[u8]) -> Vec<bool> {
    (0..bytes.len() * 8)
        .map(|i| bytes[i / 8] & (0x80 >> (i % 8)) != 0)
        .collect()
}

#[test]
fn popcount_and_first_bit() {
    assert_eq!(popcount(b""), 0);
    assert_eq!(popcount(b"foobar"), 26);
    assert_eq!(popcount(&[0xff; 33]), 264);
    assert_eq!(first_bit(&[0x00, 0x0f], true), 12);
    assert_eq!(first_bit(&[0xff, 0xf0], false), 12);
    assert_eq!(first_bit(&[0x00; 20], true), -1);
    assert_eq!(first_bit(&[0xff; 20], false), 160);
    assert_eq!(first_bit(&[], false), 0);
    assert_eq!(first_bit(&[], true), -1);
}

#[test]
fn bitfield_layout_matches_redis_example() {
    // bitops.c: a 5-bit unsigned 23 at offset 7 gives 00000001|01110000.
    let mut v = vec![0u8; 2];
    set_field(&mut v, 7, 5, 23);
    assert_eq!(v, [0b0000_0001, 0b0111_0000]);
    assert_eq!(get_unsigned(&v, 7, 5), 23);
    assert_eq!(get_signed(&v, 7, 5), -9);
    // Reads past the end are zero.
    assert_eq!(get_unsigned(&v, 12, 16), 0);
    assert_eq!(get_unsigned(&[0xff], 0, 64), 0xff00_0000_0000_0000);
    assert_eq!(get_signed(&[0xff; 8], 0, 64), -1);
}

#[test]
fn overflow_rules() {
    use Overflow::*;
    assert_eq!(check_unsigned(250, 10, 8, Wrap), (1, Some(4)));
    assert_eq!(check_unsigned(250, 10, 8, Sat), (1, Some(255)));
    assert_eq!(check_unsigned(250, 10, 8, Fail), (1, None));
    assert_eq!(check_unsigned(5, -10, 8, Wrap), (-1, Some(251)));
    assert_eq!(check_unsigned(5, -10, 8, Sat), (-1, Some(0)));
    assert_eq!(check_unsigned(5, 250, 8, Wrap), (0, None));
    // SET of a negative value into an unsigned field wraps (it is a huge u64).
    assert_eq!(check_unsigned(-1i64 as u64, 0, 8, Wrap), (1, Some(255)));
    assert_eq!(check_signed(120, 10, 8, Wrap), (1, Some(-126)));
    assert_eq!(check_signed(120, 10, 8, Sat), (1, Some(127)));
    assert_eq!(check_signed(-120, -10, 8, Wrap), (-1, Some(126)));
    assert_eq!(check_signed(-120, -10, 8, Sat), (-1, Some(-128)));
    assert_eq!(check_signed(i64::MAX, 1, 64, Wrap), (1, Some(i64::MIN)));
    assert_eq!(check_signed(i64::MIN, -1, 64, Sat), (-1, Some(i64::MIN)));
    assert_eq!(check_signed(300, 0, 8, Wrap), (1, Some(44)));
    assert_eq!(check_signed(-1, 1, 1, Wrap), (0, None));
    assert_eq!(check_signed(0, 1, 1, Sat), (1, Some(0)));
}

#[test]
fn bitop_kinds() {
    let a: &[u8] = &[0b1100_1010, 0xff];
    let b: &[u8] = &[0b1010_0110];
    let c: &[u8] = &[0b0110_0011, 0x0f, 0x01];
    use BitOpKind::*;
    assert_eq!(bitop(And, &[a, b]), vec![0b1000_0010, 0]);
    assert_eq!(bitop(Or, &[a, b]), vec![0b1110_1110, 0xff]);
    assert_eq!(bitop(Xor, &[a, b]), vec![0b0110_1100, 0xff]);
    assert_eq!(bitop(Not, &[b]), vec![0b0101_1001]);
    assert_eq!(bitop(Diff, &[a, b, c]), vec![0b0000_1000, 0xf0, 0]);
    assert_eq!(bitop(Diff1, &[a, b, c]), vec![0b0010_0101, 0, 1]);
    assert_eq!(bitop(AndOr, &[a, b, c]), vec![0b1100_0010, 0x0f, 0]);
    assert_eq!(bitop(One, &[a, b, c]), vec![0b0000_1101, 0xf0, 1]);
    assert_eq!(bitop(And, &[a, &[]]), vec![0, 0]);
    assert!(bitop(Or, &[&[], &[]]).is_empty());
}

proptest! {
    #[test]
    fn bitfields_match_a_bit_model(
        ops in proptest::collection::vec((0u64..200, 1u32..=64, any::<u64>()), 1..40)
    ) {
        let mut v = vec![0u8; 40];
        let mut model = vec![false; 320];
        for (offset, bits, value) in ops {
            set_field(&mut v, offset, bits, value);
            for j in 0..u64::from(bits) {
                model[(offset + j) as usize] = value & (1u64 << (u64::from(bits) - 1 - j)) != 0;
            }
            prop_assert_eq!(model_bits(&v), model.clone());
            let expected = (0..u64::from(bits))
                .fold(0u64, |acc, j| (acc << 1) | u64::from(model[(offset + j) as usize]));
            prop_assert_eq!(get_unsigned(&v, offset, bits), expected);
            if bits < 64 {
                let mask = (1u64 << bits) - 1;
                prop_assert_eq!(get_unsigned(&v, offset, bits), value & mask);
            }
        }
    }

    #[test]
    fn bitop_matches_a_bit_model(
        srcs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..12), 1..5),
        which in 0usize..8,
    ) {
        let kinds = [
            BitOpKind::And, BitOpKind::Or, BitOpKind::Xor, BitOpKind::Not,
            BitOpKind::Diff, BitOpKind::Diff1, BitOpKind::AndOr, BitOpKind::One,
        ];
        let kind = kinds[which];
        let srcs: Vec<&[u8]> = match kind {
            BitOpKind::Not => srcs.iter().take(1).map(Vec::as_slice).collect(),
            _ => srcs.iter().map(Vec::as_slice).collect(),
        };
        let out = bitop(kind, &srcs);
        let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
        prop_assert_eq!(out.len(), maxlen);
        for i in 0..maxlen * 8 {
            let bit = |s: &[u8]| s.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0);
            let xs: Vec<bool> = srcs.iter().map(|s| bit(s)).collect();
            let rest_any = xs[1..].iter().any(|&b| b);
            let want = match kind {
                BitOpKind::And => xs.iter().all(|&b| b),
                BitOpKind::Or => xs.iter().any(|&b| b),
                BitOpKind::Xor => xs.iter().filter(|&&b| b).count() % 2 == 1,
                BitOpKind::Not => !xs[0],
                BitOpKind::Diff => xs[0] && !rest_any,
                BitOpKind::Diff1 => !xs[0] && rest_any,
                BitOpKind::AndOr => xs[0] && rest_any,
                BitOpKind::One => xs.iter().filter(|&&b| b).count() == 1,
            };
            prop_assert_eq!(bit(&out), want, "bit {}", i);
        }
    }

    #[test]
    fn first_bit_matches_a_scan(bytes in proptest::collection::vec(
        prop_oneof![Just(0u8), Just(0xffu8), any::<u8>()], 0..24), bit: bool) {
        let bits = model_bits(&bytes);
        let want = match bits.iter().position(|&b| b == bit) {
            Some(i) => i as i64,
            None if bit => -1,
            None => bits.len() as i64,
        };
        prop_assert_eq!(first_bit(&bytes, bit), want);
        prop_assert_eq!(popcount(&bytes), bits.iter().filter(|&&b| b).count() as u64);
    }
}
