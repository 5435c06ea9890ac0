//! Key → slot → shard. A key's slot is CRC16(key) mod 16384 exactly as Redis Cluster computes it
//! (XMODEM CRC16, honouring `{hash tags}`), so `{user1}.a` and `{user1}.b` share a slot. Slots map
//! to shards through a table, so the shard count can change between restarts without rewriting
//! data, and a later cluster mode can use the same rule.

/// Number of hash slots, as in Redis Cluster.
pub const SLOTS: usize = 16384;

/// CRC16/XMODEM (poly 0x1021, init 0), the variant Redis Cluster uses.
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in bytes {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The part of the key that is hashed: the content of the first `{...}` if it is non-empty,
/// else the whole key (Redis Cluster's rule).
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        let rest = &key[open + 1..];
        if let Some(close) = rest.iter().position(|&b| b == b'}')
            && close > 0
        {
            return &rest[..close];
        }
    }
    key
}

/// The slot of a key.
pub fn key_slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) & (SLOTS as u16 - 1)
}

/// Slot → shard assignment. Contiguous ranges of slots per shard, like a fresh Redis Cluster.
#[derive(Debug, Clone)]
pub struct SlotTable {
    owner: Vec<u16>,
    shards: usize,
}

impl SlotTable {
    /// Spread the slots evenly over `shards` shards (at least 1).
    pub fn new(shards: usize) -> SlotTable {
        let shards = shards.clamp(1, SLOTS);
        let owner = (0..SLOTS)
            .map(|slot| (slot * shards / SLOTS) as u16)
            .collect();
        SlotTable { owner, shards }
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.shards
    }

    /// The shard that owns a slot.
    pub fn shard_of_slot(&self, slot: u16) -> usize {
        self.owner.get(slot as usize).copied().unwrap_or(0) as usize
    }

    /// The shard that owns a key.
    pub fn shard_of(&self, key: &[u8]) -> usize {
        if self.shards == 1 {
            return 0;
        }
        self.shard_of_slot(key_slot(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_matches_redis_cluster_reference() {
        // The reference value from the Redis Cluster specification.
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
    }

    #[test]
    fn hash_tags_share_a_slot() {
        assert_eq!(key_slot(b"{user1}.a"), key_slot(b"{user1}.b"));
        assert_eq!(key_slot(b"{user1}.a"), key_slot(b"user1"));
        // Empty tag: whole key hashed.
        assert_eq!(hash_tag(b"{}.a"), b"{}.a");
        assert_eq!(hash_tag(b"a{b}{c}"), b"b");
        assert_eq!(hash_tag(b"a{b"), b"a{b");
    }

    #[test]
    fn slot_table_covers_every_shard() {
        let t = SlotTable::new(4);
        assert_eq!(t.shard_of_slot(0), 0);
        assert_eq!(t.shard_of_slot(16383), 3);
        let t1 = SlotTable::new(1);
        assert_eq!(t1.shard_of(b"anything"), 0);
    }
}
