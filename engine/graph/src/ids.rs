//! Identifier newtypes of the graph and the expansion direction.
//!
//! `NodeId` and `EdgeId` are dense slot numbers (`u64` in the API and on the wire; the store
//! keeps them as `u32` internally, so a graph holds at most `MAX_ENTITIES` of each). Schema ids
//! (`LabelId`, `RelTypeId`, `PropKeyId`) are dense `u32` indices into the schema's name lists,
//! assigned in first-use order and never reused.

use std::fmt;

/// Largest number of node (or edge) slots one graph may have: ids are stored as `u32` and
/// `u32::MAX` is kept free as a sentinel.
pub const MAX_ENTITIES: u64 = u32::MAX as u64;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $inner:ty) => {
        $(#[$doc])*
        #[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub $inner);

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// A node's slot number; deleted slots are reused lowest-first.
    NodeId,
    u64
);
id_type!(
    /// A relationship's slot number; deleted slots are reused lowest-first.
    EdgeId,
    u64
);
id_type!(
    /// Index of a label name in the schema.
    LabelId,
    u32
);
id_type!(
    /// Index of a relationship type name in the schema.
    RelTypeId,
    u32
);
id_type!(
    /// Index of a property key name in the schema.
    PropKeyId,
    u32
);

impl NodeId {
    /// The internal `u32` slot, if the id is in the storable range.
    pub(crate) fn slot(self) -> Option<u32> {
        u32::try_from(self.0).ok().filter(|&s| s != u32::MAX)
    }
}

impl EdgeId {
    /// The internal `u32` slot, if the id is in the storable range.
    pub(crate) fn slot(self) -> Option<u32> {
        u32::try_from(self.0).ok().filter(|&s| s != u32::MAX)
    }
}

/// Which edges of a node an expansion follows.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub enum Direction {
    /// Edges whose source is the node: `(n)-[]->(m)`.
    Out,
    /// Edges whose destination is the node: `(n)<-[]-(m)`.
    In,
    /// Both; a self-loop is reported once.
    Both,
}

impl Direction {
    /// The direction seen from the other endpoint.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::Out => Direction::In,
            Direction::In => Direction::Out,
            Direction::Both => Direction::Both,
        }
    }
}
