//! Bookkeeping shared by both drivers: the receive-buffer pool and the connection slab.
//!
//! Invariants:
//! - Pool buffers are empty (`len == 0`) with at least [`RECV_BUF_SIZE`] capacity; the pool
//!   never holds more than [`POOL_MAX`] spares, so a burst does not pin memory forever.
//! - A slab slot freed with [`Slab::release`] is not handed out again before the next
//!   [`Slab::recycle_released`] call. Drivers call that at the start of `poll`, so one batch
//!   of events never names the same token for two different connections (a `Closed(t)`
//!   followed by an `Accepted(t)` in one batch would confuse a caller that reacts to the
//!   first by calling `close(t)`).

/// Size of each receive buffer.
pub const RECV_BUF_SIZE: usize = 16 * 1024;

/// Largest buffer the pool keeps.
const MAX_POOLED_CAPACITY: usize = 4 * RECV_BUF_SIZE;

/// Most spare buffers kept; beyond this, recycled buffers are freed.
const POOL_MAX: usize = 4096;

/// A free list of receive buffers.
#[derive(Debug, Default)]
pub struct BufPool {
    spare: Vec<Vec<u8>>,
}

impl BufPool {
    /// An empty buffer with room for one receive.
    pub fn get(&mut self) -> Vec<u8> {
        self.spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(RECV_BUF_SIZE))
    }

    /// Take a buffer back. Undersized buffers are dropped, so every pooled buffer can hold a
    /// full receive; so are oversized ones (grown send buffers), so that an idle connection
    /// does not pin a large block as its receive buffer.
    pub fn put(&mut self, mut buf: Vec<u8>) {
        let fits = (RECV_BUF_SIZE..=MAX_POOLED_CAPACITY).contains(&buf.capacity());
        if !fits || self.spare.len() >= POOL_MAX {
            return;
        }
        buf.clear();
        self.spare.push(buf);
    }

    /// Number of spare buffers (for tests and stats).
    #[cfg(test)]
    pub fn spare_len(&self) -> usize {
        self.spare.len()
    }
}

/// Connection storage indexed by token, with generation counters and deferred reuse.
#[derive(Debug)]
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<usize>,
    released: Vec<usize>,
}

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            released: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    /// Store `value` in a free slot; returns its token and the slot's new generation.
    pub fn insert(&mut self, value: T) -> (usize, u32) {
        let idx = match self.free.pop() {
            Some(idx) => idx,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    value: None,
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[idx];
        debug_assert!(slot.value.is_none(), "free slot {idx} still occupied");
        slot.generation = slot.generation.wrapping_add(1);
        slot.value = Some(value);
        (idx, slot.generation)
    }

    /// The live value at `idx`, if any.
    pub fn get(&self, idx: usize) -> Option<&T> {
        self.slots.get(idx).and_then(|s| s.value.as_ref())
    }

    /// The live value at `idx`, if any.
    pub fn get_mut(&mut self, idx: usize) -> Option<&mut T> {
        self.slots.get_mut(idx).and_then(|s| s.value.as_mut())
    }

    /// Current generation of slot `idx` (0 if it never existed).
    pub fn generation(&self, idx: usize) -> u32 {
        self.slots.get(idx).map_or(0, |s| s.generation)
    }

    /// Empty slot `idx`, returning its value; the slot becomes reusable only after the next
    /// [`Slab::recycle_released`].
    pub fn release(&mut self, idx: usize) -> Option<T> {
        let value = self.slots.get_mut(idx)?.value.take()?;
        self.released.push(idx);
        Some(value)
    }

    /// Make slots released since the last call available to [`Slab::insert`].
    pub fn recycle_released(&mut self) {
        self.free.append(&mut self.released);
    }

    /// Iterate over live values with their tokens.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &mut T)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| s.value.as_mut().map(|v| (i, v)))
    }

    /// Number of live values.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.value.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_reuses_and_bounds() {
        let mut pool = BufPool::default();
        let mut b = pool.get();
        assert!(b.capacity() >= RECV_BUF_SIZE);
        b.extend_from_slice(b"abc");
        pool.put(b);
        assert_eq!(pool.spare_len(), 1);
        assert!(pool.get().is_empty());
        pool.put(Vec::with_capacity(10));
        pool.put(Vec::with_capacity(MAX_POOLED_CAPACITY + 1));
        assert_eq!(pool.spare_len(), 0);
    }

    #[test]
    fn slab_defers_reuse_and_bumps_generation() {
        let mut slab = Slab::default();
        let (a, ga) = slab.insert("a");
        assert_eq!(slab.release(a), Some("a"));
        let (b, _) = slab.insert("b");
        assert_ne!(a, b, "released slot reused before recycle_released");
        slab.recycle_released();
        let (c, gc) = slab.insert("c");
        assert_eq!(c, a);
        assert_ne!(gc, ga);
        assert_eq!(slab.generation(c), gc);
        assert_eq!(slab.get_mut(c), Some(&mut "c"));
        assert_eq!(slab.len(), 2);
        assert_eq!(slab.release(a), Some("c"));
        assert_eq!(slab.release(a), None);
    }
}
