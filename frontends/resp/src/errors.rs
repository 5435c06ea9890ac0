//! The exact redis-server 7 error texts for the engine's typed [`OpError`]s.
//!
//! Texts are returned without the leading `-`; the encoder adds it. Clients match on the first
//! word (`ERR`, `WRONGTYPE`, ...) and often on the whole sentence, so every string here is
//! byte-for-byte what Redis 7 sends.

use moon_engine::ir::OpError;

/// The full error text (no leading `-`, no CRLF) Redis sends for `e`.
pub fn error_text(e: &OpError) -> String {
    match e {
        OpError::InvalidExpireTime(cmd) => format!("ERR invalid expire time in '{cmd}' command"),
        OpError::Other(s) => s.clone(),
        fixed => static_text(fixed).to_owned(),
    }
}

/// Texts of the variants that carry no data. Data-carrying variants map to an empty string here;
/// [`error_text`] handles them before calling this.
fn static_text(e: &OpError) -> &'static str {
    match e {
        OpError::WrongType => "WRONGTYPE Operation against a key holding the wrong kind of value",
        OpError::NotInteger => "ERR value is not an integer or out of range",
        OpError::NotFloat => "ERR value is not a valid float",
        OpError::Overflow => "ERR increment or decrement would overflow",
        OpError::NanOrInfinity => "ERR increment would produce NaN or Infinity",
        OpError::Syntax => "ERR syntax error",
        OpError::NoSuchKey => "ERR no such key",
        OpError::DbIndexOutOfRange => "ERR DB index is out of range",
        OpError::SameObject => "ERR source and destination objects are the same",
        OpError::StringTooLong => "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        OpError::OffsetOutOfRange => "ERR offset is out of range",
        // Redis's object.c sends the whole two-sentence text; clients surface it verbatim.
        OpError::LfuNotSelected => {
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
             Please note that when switching between policies at runtime LRU and LFU data \
             will take some time to adjust."
        }
        OpError::InvalidExpireTime(_) | OpError::Other(_) => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_match_redis() {
        let cases = [
            (
                OpError::WrongType,
                "WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                OpError::NotInteger,
                "ERR value is not an integer or out of range",
            ),
            (OpError::NotFloat, "ERR value is not a valid float"),
            (
                OpError::Overflow,
                "ERR increment or decrement would overflow",
            ),
            (
                OpError::NanOrInfinity,
                "ERR increment would produce NaN or Infinity",
            ),
            (OpError::Syntax, "ERR syntax error"),
            (OpError::NoSuchKey, "ERR no such key"),
            (OpError::DbIndexOutOfRange, "ERR DB index is out of range"),
            (
                OpError::SameObject,
                "ERR source and destination objects are the same",
            ),
            (
                OpError::StringTooLong,
                "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
            ),
            (
                OpError::InvalidExpireTime("set"),
                "ERR invalid expire time in 'set' command",
            ),
            (OpError::OffsetOutOfRange, "ERR offset is out of range"),
            (
                OpError::LfuNotSelected,
                "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
                 Please note that when switching between policies at runtime LRU and LFU data \
                 will take some time to adjust.",
            ),
            (
                OpError::Other("NOAUTH Authentication required.".into()),
                "NOAUTH Authentication required.",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(error_text(&e), want, "{e:?}");
        }
    }
}
