//! moon-resp: the RESP front-end. The codec turns bytes into command arguments and replies into
//! RESP2/RESP3 bytes; the command table parses each command's arguments (rejecting malformed
//! ones with Redis's exact error texts) and lowers it to the engine's op IR or to a
//! connection/server command. It never touches storage structures.

pub mod codec;
pub mod commands;
pub mod errors;
pub mod limits;
