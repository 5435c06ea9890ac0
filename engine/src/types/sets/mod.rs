//! The set value: a collection of distinct byte strings in one of Redis 7.2's three
//! encodings, with Redis's conversion rules between them.
//!
//! - `intset` ([`intset::IntSet`]): every member is a canonical i64 (Redis's `string2ll`) and
//!   there are at most `set-max-intset-entries`; a sorted array packed at 2, 4 or 8 bytes per
//!   member.
//! - `listpack` ([`pack::Pack`]): at most `set-max-listpack-entries` members of at most
//!   `set-max-listpack-value` bytes each; one buffer of length-prefixed members in insertion
//!   order.
//! - `hashtable` ([`big::Big`]): anything larger; an arena of members plus a dense position
//!   array and a hashbrown index, for O(1) add/remove/lookup and O(1) uniform random picks.
//!
//! Conversions follow `t_set.c` exactly ([`SetValue::create`], [`SetValue::maybe_convert`],
//! [`SetValue::insert`]): an intset that receives a non-integer becomes a listpack if that
//! stays within the listpack limits (counting the integers' decimal lengths) and a hashtable
//! otherwise; growing past a limit converts to hashtable. Removing members never converts
//! back; building a fresh set (SINTERSTORE, SPOP's keep-the-rest strategy) may pick a smaller
//! encoding, as Redis does.
//!
//! Invariants: members are distinct; the encoding in use can hold every member (an intset
//! holds only integers). `mem_bytes` is O(1). Equality is set equality, whatever the encodings.

mod big;
mod intset;
mod pack;
#[cfg(test)]
mod tests;

use bytes::Bytes;

use crate::keyspace::entry::parse_canonical_i64;
use big::Big;
use intset::IntSet;
use pack::Pack;

/// The encoding thresholds a set obeys (Redis's `set-max-*` parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetLimits {
    /// `set-max-intset-entries` (capped at 2^30 as in Redis).
    pub intset_entries: usize,
    /// `set-max-listpack-entries`.
    pub listpack_entries: usize,
    /// `set-max-listpack-value` (bytes per member).
    pub listpack_value: usize,
}

impl SetLimits {
    fn intset_max(&self) -> usize {
        self.intset_entries.min(1 << 30)
    }
}

impl Default for SetLimits {
    fn default() -> Self {
        SetLimits {
            intset_entries: 512,
            listpack_entries: 128,
            listpack_value: 64,
        }
    }
}

/// A member as an encoding yields it: an integer (intset) or bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member<'a> {
    /// A member of an intset.
    Int(i64),
    /// A member stored as bytes.
    Str(&'a [u8]),
}

/// Decimal digits of `v` into `buf`; returns the used tail.
fn fmt_i64(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    &buf[at..]
}

/// Length of `v` in decimal, sign included (Redis's `sdigits10`).
fn digits(v: i64) -> usize {
    let mut buf = [0u8; 20];
    fmt_i64(v, &mut buf).len()
}

impl Member<'_> {
    /// Runs `f` on the member's string form, without allocating.
    pub fn with_str<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Member::Str(s) => f(s),
            Member::Int(v) => {
                let mut buf = [0u8; 20];
                f(fmt_i64(*v, &mut buf))
            }
        }
    }

    /// The string form as `Bytes`.
    pub fn to_bytes(&self) -> Bytes {
        self.with_str(Bytes::copy_from_slice)
    }

    /// The integer value if the member is a canonical integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Member::Int(v) => Some(*v),
            Member::Str(s) => parse_canonical_i64(s),
        }
    }
}

#[derive(Debug, Clone)]
enum Repr {
    Int(IntSet),
    Pack(Pack),
    Big(Box<Big>),
}

/// A set. See the module docs.
#[derive(Debug, Clone)]
pub struct SetValue {
    repr: Repr,
}

impl Default for SetValue {
    fn default() -> Self {
        SetValue::empty_intset()
    }
}

impl PartialEq for SetValue {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|m| other.contains_member(m))
    }
}

impl Eq for SetValue {}

impl SetValue {
    /// An empty intset (the start of every union/difference result, as in Redis).
    pub fn empty_intset() -> SetValue {
        SetValue {
            repr: Repr::Int(IntSet::default()),
        }
    }

    /// An empty listpack with room for `bytes` bytes.
    pub fn empty_listpack(bytes: usize) -> SetValue {
        SetValue {
            repr: Repr::Pack(Pack::with_capacity(bytes)),
        }
    }

    /// An empty set able to hold `first` (an intset for an integer, else a listpack), as
    /// SPOP's rebuild starts one.
    pub fn empty_for(first: Member<'_>) -> SetValue {
        match first.as_int() {
            Some(_) => SetValue::empty_intset(),
            None => SetValue::empty_listpack(0),
        }
    }

    /// Redis's `setTypeCreate`: an empty set that can hold `first`, sized for about
    /// `size_hint` members.
    pub fn create(first: &[u8], size_hint: usize, lim: &SetLimits) -> SetValue {
        if parse_canonical_i64(first).is_some() && size_hint <= lim.intset_entries {
            return SetValue::empty_intset();
        }
        if size_hint <= lim.listpack_entries {
            return SetValue::empty_listpack(0);
        }
        SetValue {
            repr: Repr::Big(Box::new(Big::with_capacity(size_hint, first.len()))),
        }
    }

    /// Redis's `setTypeMaybeConvert`: converts to hashtable up front when `size_hint` new
    /// members would overflow the current compact encoding.
    pub fn maybe_convert(&mut self, size_hint: usize, lim: &SetLimits) {
        let over = match &self.repr {
            Repr::Pack(_) => size_hint > lim.listpack_entries,
            Repr::Int(_) => size_hint > lim.intset_entries,
            Repr::Big(_) => false,
        };
        if over {
            self.convert_to_hashtable(size_hint);
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Int(s) => s.len(),
            Repr::Pack(p) => p.len(),
            Repr::Big(b) => b.len(),
        }
    }

    /// True if there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding_name(&self) -> &'static str {
        match &self.repr {
            Repr::Int(_) => "intset",
            Repr::Pack(_) => "listpack",
            Repr::Big(_) => "hashtable",
        }
    }

    /// True for the hashtable encoding.
    pub fn is_hashtable(&self) -> bool {
        matches!(self.repr, Repr::Big(_))
    }

    /// True for the intset encoding.
    pub fn is_intset(&self) -> bool {
        matches!(self.repr, Repr::Int(_))
    }

    /// True for the listpack encoding.
    pub fn is_listpack(&self) -> bool {
        matches!(self.repr, Repr::Pack(_))
    }

    /// Heap bytes owned (O(1)).
    pub fn mem_bytes(&self) -> usize {
        match &self.repr {
            Repr::Int(s) => s.mem_bytes(),
            Repr::Pack(p) => p.mem_bytes(),
            Repr::Big(b) => b.mem_bytes(),
        }
    }

    /// Frees spare capacity after bulk building.
    pub fn shrink(&mut self) {
        match &mut self.repr {
            Repr::Int(s) => s.shrink(),
            Repr::Pack(p) => p.shrink(),
            Repr::Big(b) => b.shrink(),
        }
    }

    /// True if `member` is in the set.
    pub fn contains(&self, member: &[u8]) -> bool {
        match &self.repr {
            Repr::Int(s) => parse_canonical_i64(member).is_some_and(|v| s.contains(v)),
            Repr::Pack(p) => p.contains(member),
            Repr::Big(b) => b.contains(member),
        }
    }

    /// Prefetch stage `stage` (0, 1, 2) of a lookup of `member`, for batches (see
    /// `Big::prefetch`); the compact encodings are one allocation, in cache after the key's.
    pub fn prefetch(&self, member: &[u8], stage: u8) {
        if let Repr::Big(b) = &self.repr {
            b.prefetch(member, stage);
        }
    }

    /// True if `member` (as another set yields it) is in the set.
    pub fn contains_member(&self, member: Member<'_>) -> bool {
        match (member, &self.repr) {
            (Member::Int(v), Repr::Int(s)) => s.contains(v),
            (m, _) => m.with_str(|s| self.contains(s)),
        }
    }

    /// Converts to hashtable, pre-sized for `cap` members.
    fn convert_to_hashtable(&mut self, cap: usize) {
        let avg = match &self.repr {
            Repr::Int(_) => 8,
            Repr::Pack(p) => p.mem_bytes() / p.len().max(1),
            Repr::Big(_) => return,
        };
        let mut big = Big::with_capacity(cap.max(self.len()), avg);
        for m in self.iter() {
            m.with_str(|s| big.insert(s));
        }
        self.repr = Repr::Big(Box::new(big));
    }

    /// Converts an intset to listpack, pre-sized for `cap` members.
    fn intset_to_listpack(&mut self, cap: usize) {
        let Repr::Int(s) = &self.repr else { return };
        let width = s
            .min_max()
            .map_or(2, |(lo, hi)| digits(lo).max(digits(hi)) + 1);
        let mut p = Pack::with_capacity(cap * width);
        for v in s.iter() {
            Member::Int(v).with_str(|m| p.push_bulk(m));
        }
        self.repr = Repr::Pack(p);
    }

    /// Redis's `maybeConvertToIntset`: when every member is an integer, re-encodes as intset
    /// if there are few enough members.
    pub fn convert_to_intset_if_fits(&mut self, lim: &SetLimits) {
        if self.is_intset() || self.len() > lim.intset_max() {
            return;
        }
        let mut s = IntSet::default();
        for m in self.iter() {
            match m.as_int() {
                Some(v) => {
                    s.insert(v);
                }
                None => return,
            }
        }
        s.shrink();
        self.repr = Repr::Int(s);
    }

    /// Redis's `setTypeAdd`: adds `member`, converting the encoding when a limit is crossed.
    /// False if it was already a member.
    pub fn insert(&mut self, member: &[u8], lim: &SetLimits) -> bool {
        match &mut self.repr {
            Repr::Big(b) => b.insert(member),
            Repr::Pack(p) => {
                if p.contains(member) {
                    return false;
                }
                let n = p.len();
                if n < lim.listpack_entries && member.len() <= lim.listpack_value {
                    p.push_new(member);
                } else {
                    self.convert_to_hashtable(n + 1);
                    self.insert_big(member);
                }
                true
            }
            Repr::Int(s) => match parse_canonical_i64(member) {
                Some(v) => {
                    if !s.insert(v) {
                        return false;
                    }
                    if s.len() > lim.intset_max() {
                        self.convert_to_hashtable(self.len());
                    }
                    true
                }
                None => {
                    let n = s.len();
                    let widest = s.min_max().map_or(0, |(lo, hi)| digits(lo).max(digits(hi)));
                    if n < lim.listpack_entries
                        && member.len() <= lim.listpack_value
                        && widest <= lim.listpack_value
                    {
                        self.intset_to_listpack(n + 1);
                        if let Repr::Pack(p) = &mut self.repr {
                            p.push_bulk(member);
                            p.shrink();
                        }
                    } else {
                        self.convert_to_hashtable(n + 1);
                        self.insert_big(member);
                    }
                    true
                }
            },
        }
    }

    fn insert_big(&mut self, member: &[u8]) {
        if let Repr::Big(b) = &mut self.repr {
            b.insert(member);
        }
    }

    /// Adds a member as another set yields it (integers go straight into an intset).
    pub fn insert_member(&mut self, member: Member<'_>, lim: &SetLimits) -> bool {
        match (member, &mut self.repr) {
            (Member::Int(v), Repr::Int(s)) => {
                if !s.insert(v) {
                    return false;
                }
                if s.len() > lim.intset_max() {
                    self.convert_to_hashtable(self.len());
                }
                true
            }
            (m, _) => m.with_str(|s| self.insert(s, lim)),
        }
    }

    /// Removes `member`; false if it was not a member.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Int(s) => parse_canonical_i64(member).is_some_and(|v| s.remove(v)),
            Repr::Pack(p) => p.remove(member),
            Repr::Big(b) => b.remove(member),
        }
    }

    /// Removes a member as another set yields it.
    pub fn remove_member(&mut self, member: Member<'_>) -> bool {
        match (member, &mut self.repr) {
            (Member::Int(v), Repr::Int(s)) => s.remove(v),
            (m, _) => m.with_str(|s| self.remove(s)),
        }
    }

    /// The member at position `i` of the encoding's order (`i < len()`). O(1) except for a
    /// listpack (a walk of at most `set-max-listpack-entries` records).
    pub fn nth(&self, i: usize) -> Option<Member<'_>> {
        if i >= self.len() {
            return None;
        }
        Some(match &self.repr {
            Repr::Int(s) => Member::Int(s.get(i)),
            Repr::Pack(p) => Member::Str(p.nth(i)?),
            Repr::Big(b) => Member::Str(b.get(i)),
        })
    }

    /// A uniformly random member (`None` when empty); `rand` supplies random numbers.
    pub fn random(&self, rand: &mut impl FnMut() -> u64) -> Option<Member<'_>> {
        let n = self.len() as u64;
        if n == 0 {
            return None;
        }
        self.nth((rand() % n) as usize)
    }

    /// Removes and returns a uniformly random member.
    pub fn pop_random(&mut self, rand: &mut impl FnMut() -> u64) -> Option<Bytes> {
        let n = self.len() as u64;
        if n == 0 {
            return None;
        }
        let i = (rand() % n) as usize;
        Some(match &mut self.repr {
            Repr::Int(s) => Member::Int(s.remove_at(i)).to_bytes(),
            Repr::Pack(p) => Bytes::from(p.remove_nth(i)?),
            Repr::Big(b) => Bytes::from(b.remove_at(i)),
        })
    }

    /// Keeps only the members at the positions for which `keep` answers true (a compact
    /// encoding is rebuilt in one pass).
    pub fn retain_positions(&mut self, mut keep: impl FnMut(usize) -> bool) {
        match &mut self.repr {
            Repr::Pack(p) => p.retain(|i, _| keep(i)),
            Repr::Int(s) => {
                let mut out = IntSet::default();
                for (i, v) in s.iter().enumerate() {
                    if keep(i) {
                        out.insert(v);
                    }
                }
                out.shrink();
                *s = out;
            }
            Repr::Big(b) => {
                // Walk downwards: removing position i only moves the last position, which has
                // already been decided.
                for i in (0..b.len()).rev() {
                    if !keep(i) {
                        b.remove_at(i);
                    }
                }
            }
        }
    }

    /// Every member, in the encoding's order (ascending for intset, insertion order for
    /// listpack, position order for hashtable).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: match &self.repr {
                Repr::Int(s) => Inner::Int(s, 0),
                Repr::Pack(p) => Inner::Pack(p.iter()),
                Repr::Big(b) => Inner::Big(b, 0),
            },
        }
    }

    /// One SSCAN step from `cursor`, visiting about `count` members; returns the next cursor
    /// (0 = done). Compact encodings are returned whole in one step with cursor 0, as Redis
    /// does. A hashtable is walked by descending position: removals only move the last
    /// position downwards, so a member present for the whole scan is never skipped.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(Member<'_>)) -> u64 {
        let Repr::Big(b) = &self.repr else {
            self.iter().for_each(f);
            return 0;
        };
        let len = b.len();
        let start = if cursor == 0 {
            len
        } else {
            usize::try_from(cursor).unwrap_or(usize::MAX).min(len)
        };
        let stop = start.saturating_sub(count.max(1));
        for i in (stop..start).rev() {
            f(Member::Str(b.get(i)));
        }
        stop as u64
    }

    /// Checks the internal invariants (tests).
    #[cfg(test)]
    pub fn check(&self, lim: &SetLimits) {
        match &self.repr {
            Repr::Big(b) => b.check(),
            Repr::Pack(p) => {
                assert_eq!(p.iter().count(), p.len());
                assert!(p.len() <= lim.listpack_entries.max(1));
            }
            Repr::Int(s) => assert!(s.len() <= lim.intset_max()),
        }
        let mut all: Vec<Vec<u8>> = self.iter().map(|m| m.to_bytes().to_vec()).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), self.len(), "members are distinct");
    }
}

/// Iterator over a set's members.
pub struct Iter<'a> {
    inner: Inner<'a>,
}

enum Inner<'a> {
    Int(&'a IntSet, usize),
    Pack(pack::Records<'a>),
    Big(&'a Big, usize),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        match &mut self.inner {
            Inner::Int(s, i) => {
                if *i >= s.len() {
                    return None;
                }
                *i += 1;
                Some(Member::Int(s.get(*i - 1)))
            }
            Inner::Pack(r) => r.next().map(Member::Str),
            Inner::Big(b, i) => {
                if *i >= b.len() {
                    return None;
                }
                *i += 1;
                Some(Member::Str(b.get(*i - 1)))
            }
        }
    }
}
