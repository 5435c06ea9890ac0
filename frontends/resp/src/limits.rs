//! Named bounds on untrusted client input, with redis-server 7's defaults.
//!
//! Every size the codec derives from bytes a client sent is checked against one of these before it
//! is trusted (allocation, slicing). Invariant: the parser never allocates in proportion to a length
//! the client merely *claimed*; it only grows with bytes that actually arrived.

/// Limits applied to one connection's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest bulk argument accepted (`proto-max-bulk-len`, default 512 MiB). A `$<len>` header
    /// above it is refused with "Protocol error: invalid bulk length".
    pub proto_max_bulk_len: i64,
    /// Largest multibulk argument count accepted. Redis 7 refuses `*<n>` with `n > INT_MAX` with
    /// "Protocol error: invalid multibulk length"; counts are not otherwise capped for
    /// authenticated clients (the argument vector grows as arguments arrive).
    pub max_multibulk_len: i64,
    /// How many bytes may sit in the buffer without the line terminator of an inline command or of
    /// a `*`/`$` header line (`PROTO_INLINE_MAX_SIZE`, 64 KiB). Past it the connection gets
    /// "too big inline request" / "too big mbulk count string" / "too big bulk count string".
    pub max_inline_len: usize,
    /// Largest query buffer a client may accumulate (`client-query-buffer-limit`, 1 GiB). The
    /// server enforces it on read; Redis closes such a client without a reply.
    pub client_query_buffer_limit: usize,
}

/// `proto-max-bulk-len` default: 512 MiB.
pub const PROTO_MAX_BULK_LEN: i64 = 512 * 1024 * 1024;
/// Redis 7's multibulk count ceiling (`INT_MAX`).
pub const MAX_MULTIBULK_LEN: i64 = i32::MAX as i64;
/// `PROTO_INLINE_MAX_SIZE`: 64 KiB.
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
/// `client-query-buffer-limit` default: 1 GiB.
pub const CLIENT_QUERY_BUFFER_LIMIT: usize = 1024 * 1024 * 1024;
/// While authentication is required, a multibulk count above this is refused with
/// "Protocol error: unauthenticated multibulk length" (Redis 7 `processMultibulkBuffer`).
pub const UNAUTH_MAX_MULTIBULK_LEN: i64 = 10;
/// While authentication is required, a bulk length above this is refused with
/// "Protocol error: unauthenticated bulk length".
pub const UNAUTH_MAX_BULK_LEN: i64 = 16 * 1024;
/// While authentication is required, the query buffer may not exceed 1 MiB (Redis 7.2
/// `readQueryFromClient`); Redis closes such a client without a reply.
pub const UNAUTH_QUERY_BUFFER_LIMIT: usize = 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            proto_max_bulk_len: PROTO_MAX_BULK_LEN,
            max_multibulk_len: MAX_MULTIBULK_LEN,
            max_inline_len: PROTO_INLINE_MAX_SIZE,
            client_query_buffer_limit: CLIENT_QUERY_BUFFER_LIMIT,
        }
    }
}

impl Limits {
    /// True when a query buffer of `len` bytes must make the server drop the client.
    /// `auth_required` applies Redis's tighter 1 MiB bound for clients that have not authenticated.
    pub fn query_buffer_exceeded(&self, len: usize, auth_required: bool) -> bool {
        len > self.client_query_buffer_limit || (auth_required && len > UNAUTH_QUERY_BUFFER_LIMIT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_redis() {
        let l = Limits::default();
        assert_eq!(l.proto_max_bulk_len, 536_870_912);
        assert_eq!(l.max_multibulk_len, 2_147_483_647);
        assert_eq!(l.max_inline_len, 65_536);
        assert_eq!(l.client_query_buffer_limit, 1_073_741_824);
    }

    #[test]
    fn query_buffer_bound() {
        let l = Limits::default();
        assert!(!l.query_buffer_exceeded(CLIENT_QUERY_BUFFER_LIMIT, false));
        assert!(l.query_buffer_exceeded(CLIENT_QUERY_BUFFER_LIMIT + 1, false));
        assert!(!l.query_buffer_exceeded(UNAUTH_QUERY_BUFFER_LIMIT, true));
        assert!(l.query_buffer_exceeded(UNAUTH_QUERY_BUFFER_LIMIT + 1, true));
    }
}
