//! Streams ⇄ `STREAM_LISTPACKS*` RDB objects. Not implemented yet: DUMP of a stream answers an
//! error and RESTORE of a stream payload answers "Bad data format".

use moon_formats::rdb::{Reader, Writer};

use crate::keyspace::entry::LargeValue;
use crate::shard::TypeLimits;
use crate::types::stream::StreamValue;

/// Writes a stream object; `None` when it cannot be written.
pub fn encode(_w: &mut Writer, _s: &StreamValue) -> Option<()> {
    None
}

/// Reads a stream object of type `ty`; `None` means "Bad data format".
pub fn decode(_r: &mut Reader<'_>, _ty: u8, _limits: &TypeLimits) -> Option<LargeValue> {
    None
}
