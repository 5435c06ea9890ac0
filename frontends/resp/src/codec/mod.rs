//! The RESP codec: request bytes → command arguments ([`parse`]), replies → RESP2/RESP3 bytes
//! ([`encode`]).
//!
//! Invariants: parsing never panics and never allocates in proportion to a length a client only
//! claimed; every protocol error carries the exact text redis-server 7 sends before it closes the
//! connection. Encoding is total over [`moon_engine::ir::Reply`].

mod double;
pub mod encode;
mod inline;
pub mod parse;

#[cfg(test)]
mod roundtrip_tests;

pub use double::format_double;
pub use encode::{Proto, encode, encode_error_text, encode_protocol_error};
pub use parse::{CommandParser, ProtocolError, parse_command};
