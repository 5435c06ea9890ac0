//! Property values and openCypher's three ways of comparing them.
//!
//! `Value` is what a node or relationship property can hold. Graph entities (nodes,
//! relationships, paths) are deliberately NOT variants: properties cannot hold them, so the
//! Cypher executor defines its own runtime value type that wraps `Value` and adds them. To let it
//! order everything consistently, [`Value::order_rank`] exposes the type ranks and the `RANK_*`
//! constants give the ranks of the executor-only types.
//!
//! The three comparisons (openCypher 9):
//! - *orderability* ([`Value::order_cmp`]): a total order across all types, used by ORDER BY;
//!   ranks are map < node < relationship < list < vecf32 < path < point < string < bool <
//!   number < null; numbers compare numerically across Int/Float (exactly, no rounding) and
//!   NaN sorts above every other number.
//! - *equality* ([`Value::cypher_eq`]) and *comparison* ([`Value::cypher_cmp`]): three-valued
//!   (`None` = null) as in `WHERE a = b` / `a < b`; `1 = 1.0` is true, `NaN = NaN` is false,
//!   values of different types are unequal and incomparable.
//! - *equivalence* ([`Equiv`]): what DISTINCT and grouping use; like equality but null is
//!   equivalent to null and NaN to NaN. It coincides with `order_cmp(..) == Equal`, and `Equiv`'s
//!   `Hash` agrees with it (an integral float hashes as the integer).
//!
//! Maps keep their insertion order (for output); comparisons treat them by sorted key.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A property value.
#[derive(Clone, Debug)]
pub enum Value {
    /// Absent / unknown. Never stored as a property: setting Null removes the property.
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(Arc<str>),
    List(Vec<Value>),
    /// Entries in insertion order; keys are unique.
    Map(Vec<(Arc<str>, Value)>),
    /// A WGS-84 point.
    Point {
        lat: f64,
        lon: f64,
    },
    /// FalkorDB's `vecf32(...)` vector.
    VecF32(Box<[f32]>),
}

/// Order rank of maps.
pub const RANK_MAP: u8 = 0;
/// Order rank of nodes (executor-only type).
pub const RANK_NODE: u8 = 1;
/// Order rank of relationships (executor-only type).
pub const RANK_REL: u8 = 2;
/// Order rank of lists.
pub const RANK_LIST: u8 = 3;
/// Order rank of vectors.
pub const RANK_VECF32: u8 = 4;
/// Order rank of paths (executor-only type).
pub const RANK_PATH: u8 = 5;
/// Order rank of points.
pub const RANK_POINT: u8 = 6;
/// Order rank of strings.
pub const RANK_STRING: u8 = 7;
/// Order rank of booleans.
pub const RANK_BOOL: u8 = 8;
/// Order rank of numbers (Int and Float together).
pub const RANK_NUMBER: u8 = 9;
/// Order rank of null (sorts last ascending).
pub const RANK_NULL: u8 = 10;

impl Value {
    /// Convenience constructor for string values.
    pub fn str(s: &str) -> Value {
        Value::String(Arc::from(s))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The type's position in the orderability order (see the module doc).
    pub fn order_rank(&self) -> u8 {
        match self {
            Value::Map(_) => RANK_MAP,
            Value::List(_) => RANK_LIST,
            Value::VecF32(_) => RANK_VECF32,
            Value::Point { .. } => RANK_POINT,
            Value::String(_) => RANK_STRING,
            Value::Bool(_) => RANK_BOOL,
            Value::Int(_) | Value::Float(_) => RANK_NUMBER,
            Value::Null => RANK_NULL,
        }
    }

    /// openCypher orderability: a total order over all values (ORDER BY ascending).
    pub fn order_cmp(&self, other: &Value) -> Ordering {
        let (ra, rb) = (self.order_rank(), other.order_rank());
        if ra != rb {
            return ra.cmp(&rb);
        }
        match (self, other) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::String(a), Value::String(b)) => a.cmp(b),
            (Value::Point { lat: a1, lon: o1 }, Value::Point { lat: a2, lon: o2 }) => {
                float_total(*a1, *a2).then_with(|| float_total(*o1, *o2))
            }
            (Value::VecF32(a), Value::VecF32(b)) => {
                for (x, y) in a.iter().zip(b.iter()) {
                    let o = float_total(f64::from(*x), f64::from(*y));
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Value::List(a), Value::List(b)) => {
                for (x, y) in a.iter().zip(b.iter()) {
                    let o = x.order_cmp(y);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Value::Map(a), Value::Map(b)) => {
                let (sa, sb) = (sorted_entries(a), sorted_entries(b));
                for ((ka, va), (kb, vb)) in sa.iter().zip(sb.iter()) {
                    let o = ka.cmp(kb).then_with(|| va.order_cmp(vb));
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                sa.len().cmp(&sb.len())
            }
            (a, b) => match (a.as_number(), b.as_number()) {
                (Some(x), Some(y)) => num_total(x, y),
                // Unreachable: equal ranks with different variants only happens for numbers.
                _ => Ordering::Equal,
            },
        }
    }

    /// openCypher `=`: `None` when the answer is null (a null operand, or a null inside lists or
    /// maps that decides the result).
    pub fn cypher_eq(&self, other: &Value) -> Option<bool> {
        match (self, other) {
            (Value::Null, _) | (_, Value::Null) => None,
            (Value::Bool(a), Value::Bool(b)) => Some(a == b),
            (Value::String(a), Value::String(b)) => Some(a == b),
            (Value::Point { lat: a1, lon: o1 }, Value::Point { lat: a2, lon: o2 }) => {
                Some(a1 == a2 && o1 == o2)
            }
            (Value::VecF32(a), Value::VecF32(b)) => Some(a == b),
            (Value::List(a), Value::List(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                all_eq(a.iter().zip(b.iter()))
            }
            (Value::Map(a), Value::Map(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                let (sa, sb) = (sorted_entries(a), sorted_entries(b));
                if sa.iter().zip(sb.iter()).any(|((ka, _), (kb, _))| ka != kb) {
                    return Some(false);
                }
                all_eq(
                    sa.iter()
                        .zip(sb.iter())
                        .map(|((_, va), (_, vb))| (*va, *vb)),
                )
            }
            (a, b) => match (a.as_number(), b.as_number()) {
                (Some(x), Some(y)) => Some(num_cmp(x, y) == Some(Ordering::Equal)),
                _ => Some(false),
            },
        }
    }

    /// openCypher `<`/`>` comparison: `None` for null operands, NaN, and values of different
    /// (or unordered) types.
    pub fn cypher_cmp(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
            (Value::List(a), Value::List(b)) => {
                for (x, y) in a.iter().zip(b.iter()) {
                    match x.cypher_cmp(y)? {
                        Ordering::Equal => {}
                        o => return Some(o),
                    }
                }
                Some(a.len().cmp(&b.len()))
            }
            (a, b) => num_cmp(a.as_number()?, b.as_number()?),
        }
    }

    fn as_number(&self) -> Option<Num> {
        match self {
            Value::Int(i) => Some(Num::Int(*i)),
            Value::Float(f) => Some(Num::Float(*f)),
            _ => None,
        }
    }

    /// Approximate heap bytes owned by this value (for memory accounting).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::String(s) => s.len() + 16,
            Value::List(l) => {
                l.capacity() * std::mem::size_of::<Value>()
                    + l.iter().map(Value::heap_size).sum::<usize>()
            }
            Value::Map(m) => {
                m.capacity() * std::mem::size_of::<(Arc<str>, Value)>()
                    + m.iter()
                        .map(|(k, v)| k.len() + 16 + v.heap_size())
                        .sum::<usize>()
            }
            Value::VecF32(v) => v.len() * 4,
            _ => 0,
        }
    }
}

/// `Value`'s `PartialEq` is *equivalence* (see [`Equiv`]), so tests and models can compare
/// values directly; use [`Value::cypher_eq`] for Cypher's `=`.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.order_cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

fn all_eq<'a>(pairs: impl Iterator<Item = (&'a Value, &'a Value)>) -> Option<bool> {
    let mut unknown = false;
    for (x, y) in pairs {
        match x.cypher_eq(y) {
            Some(false) => return Some(false),
            None => unknown = true,
            Some(true) => {}
        }
    }
    if unknown { None } else { Some(true) }
}

fn sorted_entries(m: &[(Arc<str>, Value)]) -> Vec<(&str, &Value)> {
    let mut v: Vec<(&str, &Value)> = m.iter().map(|(k, v)| (&**k, v)).collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

#[derive(Copy, Clone, Debug)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
}

/// Total order on f64 for orderability: -0.0 == 0.0, NaN above everything (and equal to NaN).
fn float_total(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// Exact comparison of an integer with a non-NaN float.
pub(crate) fn cmp_int_float(i: i64, f: f64) -> Ordering {
    debug_assert!(!f.is_nan());
    // 2^63 is exactly representable; every i64 is below it and at or above -2^63.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO_63 {
        return Ordering::Less;
    }
    if f < -TWO_63 {
        return Ordering::Greater;
    }
    let t = f.trunc();
    // In range: the conversion is exact.
    let ti = t as i64;
    match i.cmp(&ti) {
        Ordering::Equal => {
            if f > t {
                Ordering::Less
            } else if f < t {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        o => o,
    }
}

/// Total numeric order (orderability): exact across Int/Float, NaN greatest.
pub(crate) fn num_total(a: Num, b: Num) -> Ordering {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => x.cmp(&y),
        (Num::Float(x), Num::Float(y)) => float_total(x, y),
        (Num::Int(x), Num::Float(y)) => {
            if y.is_nan() {
                Ordering::Less
            } else {
                cmp_int_float(x, y)
            }
        }
        (Num::Float(x), Num::Int(y)) => {
            if x.is_nan() {
                Ordering::Greater
            } else {
                cmp_int_float(y, x).reverse()
            }
        }
    }
}

/// Cypher numeric comparison: None if either side is NaN.
fn num_cmp(a: Num, b: Num) -> Option<Ordering> {
    let nan = |n: Num| matches!(n, Num::Float(f) if f.is_nan());
    if nan(a) || nan(b) {
        None
    } else {
        Some(num_total(a, b))
    }
}

/// Hashes `v` consistently with equivalence.
fn hash_equiv<H: Hasher>(v: &Value, h: &mut H) {
    h.write_u8(v.order_rank());
    match v {
        Value::Null => {}
        Value::Bool(b) => b.hash(h),
        Value::Int(i) => i.hash(h),
        Value::Float(f) => {
            const TWO_63: f64 = 9_223_372_036_854_775_808.0;
            if f.is_nan() {
                h.write_u8(0xFF);
            } else if f.fract() == 0.0 && *f >= -TWO_63 && *f < TWO_63 {
                // Integral and representable: hash as the equal integer (covers -0.0 too).
                (*f as i64).hash(h);
            } else {
                f.to_bits().hash(h);
            }
        }
        Value::String(s) => s.hash(h),
        Value::List(l) => {
            l.len().hash(h);
            for x in l {
                hash_equiv(x, h);
            }
        }
        Value::Map(m) => {
            m.len().hash(h);
            for (k, x) in sorted_entries(m) {
                k.hash(h);
                hash_equiv(x, h);
            }
        }
        Value::Point { lat, lon } => {
            norm_bits(*lat).hash(h);
            norm_bits(*lon).hash(h);
        }
        Value::VecF32(xs) => {
            xs.len().hash(h);
            for x in xs.iter() {
                norm_bits(f64::from(*x)).hash(h);
            }
        }
    }
}

fn norm_bits(f: f64) -> u64 {
    if f.is_nan() {
        u64::MAX
    } else if f == 0.0 {
        0
    } else {
        f.to_bits()
    }
}

/// A value under *equivalence*, for DISTINCT / grouping keys in hash maps:
/// `Equiv(Int(1)) == Equiv(Float(1.0))`, null ≡ null, NaN ≡ NaN.
#[derive(Clone, Debug)]
pub struct Equiv(pub Value);

impl PartialEq for Equiv {
    fn eq(&self, other: &Equiv) -> bool {
        self.0.order_cmp(&other.0) == Ordering::Equal
    }
}

impl Eq for Equiv {}

impl Hash for Equiv {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_equiv(&self.0, state);
    }
}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_equiv(self, state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn h(v: &Value) -> u64 {
        let mut s = DefaultHasher::new();
        Equiv(v.clone()).hash(&mut s);
        s.finish()
    }

    #[test]
    fn equality_is_three_valued() {
        assert_eq!(Value::Int(1).cypher_eq(&Value::Float(1.0)), Some(true));
        assert_eq!(Value::Int(1).cypher_eq(&Value::Null), None);
        assert_eq!(Value::Int(1).cypher_eq(&Value::str("1")), Some(false));
        let nan = Value::Float(f64::NAN);
        assert_eq!(nan.cypher_eq(&nan), Some(false));
        let l1 = Value::List(vec![Value::Int(1), Value::Null]);
        let l2 = Value::List(vec![Value::Int(2), Value::Null]);
        assert_eq!(l1.cypher_eq(&l2), Some(false));
        assert_eq!(l1.cypher_eq(&l1), None);
    }

    #[test]
    fn comparison() {
        assert_eq!(
            Value::Int(1).cypher_cmp(&Value::Float(1.5)),
            Some(Ordering::Less)
        );
        assert_eq!(Value::str("a").cypher_cmp(&Value::Int(1)), None);
        assert_eq!(Value::Float(f64::NAN).cypher_cmp(&Value::Int(1)), None);
        assert_eq!(
            Value::Bool(false).cypher_cmp(&Value::Bool(true)),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn orderability_across_types() {
        let ordered = [
            Value::Map(vec![]),
            Value::List(vec![]),
            Value::VecF32(Box::new([1.0])),
            Value::Point { lat: 1.0, lon: 2.0 },
            Value::str("a"),
            Value::Bool(false),
            Value::Bool(true),
            Value::Float(f64::NEG_INFINITY),
            Value::Int(-1),
            Value::Float(0.5),
            Value::Int(1),
            Value::Float(f64::INFINITY),
            Value::Float(f64::NAN),
            Value::Null,
        ];
        for w in ordered.windows(2) {
            assert_eq!(
                w[0].order_cmp(&w[1]),
                Ordering::Less,
                "{:?} < {:?}",
                w[0],
                w[1]
            );
            assert_eq!(w[1].order_cmp(&w[0]), Ordering::Greater);
        }
    }

    #[test]
    fn exact_int_float() {
        let big = 1i64 << 53;
        assert_eq!(cmp_int_float(big + 1, big as f64), Ordering::Greater);
        assert_eq!(cmp_int_float(i64::MAX, 2f64.powi(63)), Ordering::Less);
        assert_eq!(cmp_int_float(i64::MIN, -(2f64.powi(63))), Ordering::Equal);
        assert_eq!(cmp_int_float(-1, -0.5), Ordering::Less);
        assert_eq!(cmp_int_float(0, -0.0), Ordering::Equal);
    }

    #[test]
    fn equivalence_hash_agrees() {
        assert_eq!(Equiv(Value::Int(1)), Equiv(Value::Float(1.0)));
        assert_eq!(h(&Value::Int(1)), h(&Value::Float(1.0)));
        assert_eq!(h(&Value::Float(0.0)), h(&Value::Float(-0.0)));
        assert_eq!(Equiv(Value::Null), Equiv(Value::Null));
        assert_eq!(Equiv(Value::Float(f64::NAN)), Equiv(Value::Float(f64::NAN)));
        let m1 = Value::Map(vec![
            (Arc::from("a"), Value::Int(1)),
            (Arc::from("b"), Value::Null),
        ]);
        let m2 = Value::Map(vec![
            (Arc::from("b"), Value::Null),
            (Arc::from("a"), Value::Float(1.0)),
        ]);
        assert_eq!(Equiv(m1.clone()), Equiv(m2.clone()));
        assert_eq!(h(&m1), h(&m2));
        assert_ne!(Equiv(Value::Int(1)), Equiv(Value::str("1")));
    }
}
