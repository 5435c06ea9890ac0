//! Values of the non-string Redis types, one module per type. Each value knows its OBJECT
//! ENCODING name and its heap size; the commands that work on it live in `crate::cmd`.

pub mod hash;
pub mod list;
pub mod sets;
pub mod stream;
pub mod zset;

pub use hash::{HashRef, HashValue};
pub use list::ListValue;
pub use sets::SetValue;
pub use stream::StreamValue;
pub use zset::ZSetValue;
