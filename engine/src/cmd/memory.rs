//! MEMORY USAGE: the bytes a key and its value occupy — the entry's heap bytes plus its
//! 16-byte table slot. Moon sizes every value exactly (no sampling), so SAMPLES is ignored.

use super::Exec;
use crate::ir::Reply;

/// Bytes of the DashTable slot holding an entry.
const SLOT_BYTES: usize = 16;

pub(super) fn usage(x: &mut Exec<'_>, key: &[u8]) -> Reply {
    x.read_notouch(key).map_or(Reply::Nil, |e| {
        Reply::Int(i64::try_from(e.mem_bytes() + SLOT_BYTES).unwrap_or(i64::MAX))
    })
}

#[cfg(test)]
mod tests {
    use crate::cmd::testutil::*;
    use crate::ir::{Op, Reply};

    #[test]
    fn usage_grows_with_the_value() {
        let mut t = T::new();
        assert_eq!(t.run(Op::MemoryUsage { key: b("k") }), Reply::Nil);
        t.set("k", "v");
        let Reply::Int(small) = t.run(Op::MemoryUsage { key: b("k") }) else {
            panic!("int")
        };
        t.set("k", &"v".repeat(1000));
        let Reply::Int(big) = t.run(Op::MemoryUsage { key: b("k") }) else {
            panic!("int")
        };
        assert!(small > 16 && big >= small + 999, "{small} {big}");
    }
}
