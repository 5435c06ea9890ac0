//! Redis's CRC-64 (`crc64.c`: the Jones polynomial 0xad93d23594c935a9, reflected input and
//! output, initial value 0, no final xor), the checksum of DUMP payloads and RDB files.

/// The polynomial in reflected (LSB-first) form.
const REV_POLY: u64 = 0x95ac_9329_ac4b_c9b5;

const TABLE: [u64; 256] = build_table();

const fn build_table() -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ REV_POLY
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// Continues the CRC-64 `crc` over `bytes` (`crc64(crc, bytes, len)` in Redis); start at 0.
pub fn crc64(mut crc: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        // The index is masked to 0..=255, so it is always in bounds.
        crc = TABLE[((crc ^ u64::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn check_value_matches_redis() {
        // The test vector of Redis's crc64.c.
        assert_eq!(super::crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(super::crc64(0, b""), 0);
    }
}
