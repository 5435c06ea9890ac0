//! The op-IR variants of the FT commands (FT.CREATE, FT.ALTER, FT.DROPINDEX, FT.ALIAS*,
//! FT.INFO, FT._LIST, FT.TAGVALS, FT.DEBUG, FT.CONFIG, FT.SEARCH as a lowered
//! `search::query::SearchPlan`). They name no key: index definitions
//! exist on every shard, so the server applies each definition write on all shards
//! atomically, and answers reads by merging every shard's part (`crate::search::merge_read`).
//!
//! Invariant: the writes are exactly the variants [`SearchOp::is_write`] says; each has a
//! canonical FT command (`ir::unparse`) that parses back to the same op, which is what the WAL
//! logs. FT.DROPINDEX DD deletes the index's keys on each shard as part of the op (replay
//! deletes the same keys, as the state it replays on is the same).

use bytes::Bytes;

use crate::ir::{KeyRouting, MergeKind};
use crate::search::query::SearchPlan;
use crate::search::schema::{FieldDef, IndexDef};

/// The expansions of one lowercased query term, as FT.EXPLAIN prints them after the term
/// (`~group`, `+stem`, `stem`), each followed by `(expanded)`.
pub type TermExpansions<'a> = &'a dyn Fn(&str) -> Vec<String>;

/// FT.EXPLAIN's parsed query, rendered by the shard once it knows the index's expansions
/// (the front-end owns the query AST; the engine never depends on moon-ft). Compares by
/// identity.
#[derive(Clone)]
pub struct ExplainRender(
    pub std::sync::Arc<dyn Fn(TermExpansions<'_>) -> Vec<String> + Send + Sync>,
);

impl std::fmt::Debug for ExplainRender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExplainRender")
    }
}

impl PartialEq for ExplainRender {
    fn eq(&self, other: &ExplainRender) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// An FT admin command.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchOp {
    /// FT.CREATE.
    Create(Box<IndexDef>),
    /// FT.ALTER index [SKIPINITIALSCAN] SCHEMA ADD fields...
    Alter {
        index: Bytes,
        skip_initial_scan: bool,
        fields: Vec<FieldDef>,
    },
    /// FT.DROPINDEX index [DD].
    DropIndex { index: Bytes, dd: bool },
    /// FT.ALIASADD (`update: false`) / FT.ALIASUPDATE (`update: true`).
    AliasSet {
        alias: Bytes,
        index: Bytes,
        update: bool,
    },
    /// FT.ALIASDEL.
    AliasDel { alias: Bytes },
    /// FT.INFO index.
    Info { index: Bytes },
    /// FT._LIST.
    List,
    /// FT.TAGVALS index field.
    TagVals { index: Bytes, field: Bytes },
    /// FT.DEBUG DUMP_TAGIDX index field.
    DumpTagIdx { index: Bytes, field: Bytes },
    /// FT.DEBUG DUMP_NUMIDX index field.
    DumpNumIdx { index: Bytes, field: Bytes },
    /// FT.CONFIG GET pattern (answered by the server: the parameters are process-wide).
    ConfigGet { pattern: Bytes },
    /// FT.CONFIG SET name value (answered by the server).
    ConfigSet { name: Bytes, value: Bytes },
    /// FT.SEARCH: every shard runs the plan over its docs, the server merges.
    Search(Box<SearchPlan>),
    /// FT.AGGREGATE: every shard returns its rows, the server runs the pipeline.
    Aggregate(Box<crate::search::aggregate::AggregatePlan>),
    /// FT.CURSOR READ index id [COUNT n] (answered by the server's cursor table).
    CursorRead {
        index: Bytes,
        id: u64,
        count: Option<u64>,
    },
    /// FT.CURSOR DEL index id.
    CursorDel { index: Bytes, id: u64 },
    /// FT.DICTADD dict term...
    DictAdd { dict: Bytes, terms: Vec<Bytes> },
    /// FT.DICTDEL dict term...
    DictDel { dict: Bytes, terms: Vec<Bytes> },
    /// FT.DICTDUMP dict.
    DictDump { dict: Bytes },
    /// FT.SYNUPDATE index group [SKIPINITIALSCAN] term...
    SynUpdate {
        index: Bytes,
        group: Bytes,
        skip_initial_scan: bool,
        terms: Vec<Bytes>,
    },
    /// FT.SYNDUMP index.
    SynDump { index: Bytes },
    /// FT.SPELLCHECK: every shard checks the terms against its index, the server merges.
    SpellCheck(Box<crate::search::spellcheck::SpellPlan>),
    /// FT.EXPLAIN (`cli: false`) / FT.EXPLAINCLI: the front-end parses the query into a
    /// renderer; a shard checks that the index exists and renders with the index's term
    /// expansions (synonym groups, then stems), replying the text.
    Explain {
        index: Bytes,
        render: ExplainRender,
        cli: bool,
    },
    /// FT.PROFILE index SEARCH [LIMITED] QUERY ...: an FT.SEARCH with measurements
    /// (`crate::search::profile`).
    Profile(Box<crate::search::profile::ProfileOp>),
}

impl SearchOp {
    /// None: definitions are not keys.
    pub fn keys(&self) -> Vec<&Bytes> {
        Vec::new()
    }

    /// Every shard.
    pub fn routing(&self) -> KeyRouting {
        match self {
            // Every shard answers alike: any one's reply is the reply.
            SearchOp::DictAdd { .. } | SearchOp::DictDel { .. } => {
                KeyRouting::AllShards(MergeKind::AnyNonNil)
            }
            _ => KeyRouting::AllShards(MergeKind::AllOk),
        }
    }

    /// Definition changes (logged and applied on every shard).
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            SearchOp::Create(_)
                | SearchOp::Alter { .. }
                | SearchOp::DropIndex { .. }
                | SearchOp::AliasSet { .. }
                | SearchOp::AliasDel { .. }
                | SearchOp::DictAdd { .. }
                | SearchOp::DictDel { .. }
                | SearchOp::SynUpdate { .. }
        )
    }
}
