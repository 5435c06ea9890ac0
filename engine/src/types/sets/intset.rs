//! The `intset` encoding: a sorted array of distinct i64 packed at the narrowest width (2, 4 or
//! 8 bytes, little endian) that holds every member, exactly like Redis's `intset.c`.
//!
//! Invariants: `data.len()` is a multiple of `width`; values are strictly increasing; `width`
//! is 2, 4 or 8 and every value fits it. The width only grows (as Redis: removing the one
//! wide value does not narrow the array again).

/// A sorted, packed set of integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct IntSet {
    data: Vec<u8>,
    width: u8,
}

impl Default for IntSet {
    fn default() -> Self {
        IntSet {
            data: Vec::new(),
            width: 2,
        }
    }
}

/// The narrowest width (in bytes) that holds `v`.
fn width_for(v: i64) -> u8 {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

/// Reads the `width`-byte little-endian signed value at `at` (0 if out of bounds, which the
/// invariants rule out).
fn read(data: &[u8], width: u8, at: usize) -> i64 {
    let w = usize::from(width);
    let Some(b) = data.get(at * w..at * w + w) else {
        debug_assert!(false, "intset read out of bounds");
        return 0;
    };
    match b {
        [a, b] => i64::from(i16::from_le_bytes([*a, *b])),
        [a, b, c, d] => i64::from(i32::from_le_bytes([*a, *b, *c, *d])),
        _ => <[u8; 8]>::try_from(b).map_or(0, i64::from_le_bytes),
    }
}

/// Appends `v` at `width` bytes.
fn put(out: &mut Vec<u8>, width: u8, v: i64) {
    match width {
        2 => out.extend_from_slice(&(v as i16).to_le_bytes()),
        4 => out.extend_from_slice(&(v as i32).to_le_bytes()),
        _ => out.extend_from_slice(&v.to_le_bytes()),
    }
}

impl IntSet {
    /// Number of members.
    pub fn len(&self) -> usize {
        self.data.len() / usize::from(self.width)
    }

    /// The `i`-th smallest member.
    pub fn get(&self, i: usize) -> i64 {
        read(&self.data, self.width, i)
    }

    /// Smallest and largest member, or `None` when empty.
    pub fn min_max(&self) -> Option<(i64, i64)> {
        let n = self.len();
        (n > 0).then(|| (self.get(0), self.get(n - 1)))
    }

    /// Position of `v`, or where it would be inserted.
    fn search(&self, v: i64) -> Result<usize, usize> {
        // A value wider than the array cannot be in it.
        if width_for(v) > self.width {
            return Err(if v < 0 { 0 } else { self.len() });
        }
        let (mut lo, mut hi) = (0usize, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// True if `v` is a member.
    pub fn contains(&self, v: i64) -> bool {
        self.search(v).is_ok()
    }

    /// Re-packs every value at `width` (which must be wider).
    fn upgrade(&mut self, width: u8) {
        debug_assert!(width > self.width);
        let n = self.len();
        let mut out = Vec::with_capacity((n + 1) * usize::from(width));
        for i in 0..n {
            put(&mut out, width, self.get(i));
        }
        self.data = out;
        self.width = width;
    }

    /// Adds `v`; false if it was already a member. Grows the buffer by exactly one value
    /// (Redis resizes an intset on every insert too: the array stays exactly sized).
    pub fn insert(&mut self, v: i64) -> bool {
        let w = width_for(v);
        if w > self.width {
            self.upgrade(w);
        }
        let pos = match self.search(v) {
            Ok(_) => return false,
            Err(pos) => pos,
        };
        let width = usize::from(self.width);
        let mut bytes = Vec::with_capacity(8);
        put(&mut bytes, self.width, v);
        self.data.reserve_exact(width);
        let at = pos * width;
        self.data.splice(at..at, bytes);
        debug_assert!(self.is_sorted());
        true
    }

    /// Removes `v`; false if it was not a member.
    pub fn remove(&mut self, v: i64) -> bool {
        match self.search(v) {
            Ok(pos) => {
                self.remove_at(pos);
                true
            }
            Err(_) => false,
        }
    }

    /// Removes and returns the member at `pos` (which must be `< len()`).
    pub fn remove_at(&mut self, pos: usize) -> i64 {
        let v = self.get(pos);
        let width = usize::from(self.width);
        let at = pos * width;
        if at + width <= self.data.len() {
            self.data.drain(at..at + width);
        }
        v
    }

    /// Every member, ascending.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Heap bytes owned.
    pub fn mem_bytes(&self) -> usize {
        self.data.capacity()
    }

    /// Frees spare capacity.
    pub fn shrink(&mut self) {
        self.data.shrink_to_fit();
    }

    /// The element width in bytes (2, 4 or 8), for tests and OBJECT-style introspection.
    #[cfg(test)]
    pub fn width(&self) -> u8 {
        self.width
    }

    fn is_sorted(&self) -> bool {
        (1..self.len()).all(|i| self.get(i - 1) < self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_upgrade_and_stay_sorted() {
        let mut s = IntSet::default();
        assert!(s.insert(5));
        assert!(s.insert(-3));
        assert!(!s.insert(5));
        assert_eq!(s.width(), 2);
        assert!(s.insert(i64::from(i16::MAX) + 1));
        assert_eq!(s.width(), 4);
        assert!(s.insert(i64::MIN));
        assert_eq!(s.width(), 8);
        assert!(s.insert(i64::MAX));
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![i64::MIN, -3, 5, 32768, i64::MAX]
        );
        assert!(s.contains(i64::MIN) && s.contains(-3) && !s.contains(4));
        assert!(s.remove(i64::MIN));
        assert!(!s.remove(i64::MIN));
        assert_eq!(s.width(), 8, "width never narrows");
        assert_eq!(s.min_max(), Some((-3, i64::MAX)));
        assert!(s.mem_bytes() >= 4 * 8);
    }

    #[test]
    fn wide_lookups_on_narrow_arrays() {
        let mut s = IntSet::default();
        s.insert(1);
        assert!(!s.contains(i64::MAX));
        assert!(!s.contains(i64::MIN));
        assert!(!s.remove(1 << 40));
        assert_eq!(s.len(), 1);
        assert_eq!(s.remove_at(0), 1);
        assert_eq!(s.min_max(), None);
    }
}
