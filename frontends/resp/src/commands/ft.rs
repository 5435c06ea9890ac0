//! Table entries and parsers of the FT admin commands (RediSearch's FT.CREATE, FT.ALTER,
//! FT.DROPINDEX, FT.ALIASADD/ALIASUPDATE/ALIASDEL, FT.INFO, FT._LIST, FT.TAGVALS, FT.DEBUG
//! DUMP_TAGIDX/DUMP_NUMIDX, FT.CONFIG GET/SET). They lower to `Op::Search`.
//!
//! Invariants: the schema syntax is parsed by `moon_engine::search::schema` (the engine needs
//! the same parser to load snapshots), so this module only splits the outer arguments;
//! errors keep RediSearch's texts (no `ERR` prefix where RediSearch has none).
//!
//! Table entries: RediSearch registers module commands, which redis-server's COMMAND INFO
//! shows with the flags given at registration and no key specs (the index name is not a
//! key). Moon uses `write denyoom` for definition writes and `readonly` for the rest, no key
//! specs, and the `module` group in COMMAND DOCS.

use bytes::Bytes;
use moon_engine::ir::ops::SearchOp;
use moon_engine::ir::{Op, OpError};
use moon_engine::search::IndexDef;
use moon_engine::search::schema::parse_fields_args;

use super::Command;
use super::args::is;
use super::table::{CommandSpec, DENYOOM, READONLY, WRITE, doc};

const G: &str = "module";

fn op(s: SearchOp) -> Result<Command, OpError> {
    Ok(Command::Op(Op::Search(s)))
}

fn fail(text: impl Into<String>) -> Result<Command, OpError> {
    Err(OpError::Other(text.into()))
}

fn arity(name: &str) -> Result<Command, OpError> {
    fail(format!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}

pub static FT_CREATE: CommandSpec = CommandSpec::new(
    "ft.create",
    -2,
    WRITE | DENYOOM,
    0,
    &[],
    doc(
        G,
        "1.0.0",
        "Creates an index with the given spec",
        "O(K) at creation where K is the number of fields, O(N) if scanning the keyspace is triggered, where N is the number of keys in the keyspace",
    ),
    ft_create,
);

pub static FT_ALTER: CommandSpec = CommandSpec::new(
    "ft.alter",
    -3,
    WRITE | DENYOOM,
    0,
    &[],
    doc(
        G,
        "1.0.0",
        "Adds a new field to the index",
        "O(N) where N is the number of keys in the keyspace",
    ),
    ft_alter,
);

pub static FT_DROPINDEX: CommandSpec = CommandSpec::new(
    "ft.dropindex",
    -2,
    WRITE,
    0,
    &[],
    doc(
        G,
        "2.0.0",
        "Deletes the index",
        "O(1) or O(N) if documents are deleted, where N is the number of keys in the keyspace",
    ),
    ft_dropindex,
);

pub static FT_ALIASADD: CommandSpec = CommandSpec::new(
    "ft.aliasadd",
    3,
    WRITE,
    0,
    &[],
    doc(G, "1.0.0", "Adds an alias to the index", "O(1)"),
    ft_aliasadd,
);

pub static FT_ALIASUPDATE: CommandSpec = CommandSpec::new(
    "ft.aliasupdate",
    3,
    WRITE,
    0,
    &[],
    doc(G, "1.0.0", "Adds or updates an alias to the index", "O(1)"),
    ft_aliasupdate,
);

pub static FT_ALIASDEL: CommandSpec = CommandSpec::new(
    "ft.aliasdel",
    2,
    WRITE,
    0,
    &[],
    doc(G, "1.0.0", "Deletes an alias from the index", "O(1)"),
    ft_aliasdel,
);

pub static FT_INFO: CommandSpec = CommandSpec::new(
    "ft.info",
    2,
    READONLY,
    0,
    &[],
    doc(
        G,
        "1.0.0",
        "Returns information and statistics on the index",
        "O(1)",
    ),
    ft_info,
);

pub static FT_LIST: CommandSpec = CommandSpec::new(
    "ft._list",
    1,
    READONLY,
    0,
    &[],
    doc(G, "2.0.0", "Returns a list of all existing indexes", "O(1)"),
    ft_list,
);

pub static FT_TAGVALS: CommandSpec = CommandSpec::new(
    "ft.tagvals",
    3,
    READONLY,
    0,
    &[],
    doc(
        G,
        "1.0.0",
        "Returns the distinct tags indexed in a Tag field",
        "O(N)",
    ),
    ft_tagvals,
);

pub static FT_DEBUG: CommandSpec = CommandSpec::new(
    "ft.debug",
    -2,
    READONLY,
    0,
    &[],
    doc(
        G,
        "1.0.0",
        "Debug subcommands of the search indexes (DUMP_TAGIDX, DUMP_NUMIDX)",
        "O(N)",
    ),
    ft_debug,
);

pub static FT_CONFIG: CommandSpec = CommandSpec::new(
    "ft.config",
    -2,
    READONLY,
    0,
    &[],
    doc(
        G,
        "1.0.0",
        "Gets or sets runtime configuration options of the search engine",
        "O(1)",
    ),
    ft_config,
);

/// The FT family's table.
pub static COMMANDS: &[&CommandSpec] = &[
    &FT_CREATE,
    &FT_ALTER,
    &FT_DROPINDEX,
    &FT_ALIASADD,
    &FT_ALIASUPDATE,
    &FT_ALIASDEL,
    &FT_INFO,
    &FT_LIST,
    &FT_TAGVALS,
    &FT_DEBUG,
    &FT_CONFIG,
];

fn ft_create(args: &[Bytes]) -> Result<Command, OpError> {
    match IndexDef::parse(&args[1..]) {
        Ok(def) => op(SearchOp::Create(Box::new(def))),
        Err(e) => fail(e),
    }
}

fn ft_alter(args: &[Bytes]) -> Result<Command, OpError> {
    let index = args[1].clone();
    let mut rest = &args[2..];
    let mut skip = false;
    if rest.first().is_some_and(|a| is(a, "skipinitialscan")) {
        skip = true;
        rest = &rest[1..];
    }
    match rest {
        [s, ..] if !is(s, "schema") => fail("ALTER must be followed by SCHEMA"),
        [] => fail("ALTER must be followed by SCHEMA"),
        [_, add, ..] if !is(add, "add") => fail("Unknown action passed to ALTER SCHEMA"),
        [_] => fail("Unknown action passed to ALTER SCHEMA"),
        [_, _] => fail("No fields provided"),
        [_, _, fields @ ..] => match parse_fields_args(fields, &[]) {
            Ok(fields) => op(SearchOp::Alter {
                index,
                skip_initial_scan: skip,
                fields,
            }),
            Err(e) => fail(e),
        },
    }
}

fn ft_dropindex(args: &[Bytes]) -> Result<Command, OpError> {
    if args.len() > 3 {
        return arity("FT.DROPINDEX");
    }
    op(SearchOp::DropIndex {
        index: args[1].clone(),
        dd: args.get(2).is_some_and(|a| is(a, "dd")),
    })
}

fn ft_aliasadd(args: &[Bytes]) -> Result<Command, OpError> {
    op(SearchOp::AliasSet {
        alias: args[1].clone(),
        index: args[2].clone(),
        update: false,
    })
}

fn ft_aliasupdate(args: &[Bytes]) -> Result<Command, OpError> {
    op(SearchOp::AliasSet {
        alias: args[1].clone(),
        index: args[2].clone(),
        update: true,
    })
}

fn ft_aliasdel(args: &[Bytes]) -> Result<Command, OpError> {
    op(SearchOp::AliasDel {
        alias: args[1].clone(),
    })
}

fn ft_info(args: &[Bytes]) -> Result<Command, OpError> {
    op(SearchOp::Info {
        index: args[1].clone(),
    })
}

fn ft_list(_: &[Bytes]) -> Result<Command, OpError> {
    op(SearchOp::List)
}

fn ft_tagvals(args: &[Bytes]) -> Result<Command, OpError> {
    op(SearchOp::TagVals {
        index: args[1].clone(),
        field: args[2].clone(),
    })
}

fn ft_debug(args: &[Bytes]) -> Result<Command, OpError> {
    let sub = &args[1];
    let pair = |args: &[Bytes]| match args {
        [_, _, index, field] => Some((index.clone(), field.clone())),
        _ => None,
    };
    if is(sub, "dump_tagidx") {
        match pair(args) {
            Some((index, field)) => op(SearchOp::DumpTagIdx { index, field }),
            None => arity("FT.DEBUG"),
        }
    } else if is(sub, "dump_numidx") {
        match pair(args) {
            Some((index, field)) => op(SearchOp::DumpNumIdx { index, field }),
            None => arity("FT.DEBUG"),
        }
    } else {
        fail("subcommand was not found")
    }
}

fn ft_config(args: &[Bytes]) -> Result<Command, OpError> {
    let sub = &args[1];
    if is(sub, "get") {
        match args {
            [_, _, pattern] => op(SearchOp::ConfigGet {
                pattern: pattern.clone(),
            }),
            _ => arity("FT.CONFIG"),
        }
    } else if is(sub, "set") {
        match args {
            [_, _, name, value] => op(SearchOp::ConfigSet {
                name: name.clone(),
                value: value.clone(),
            }),
            _ => arity("FT.CONFIG"),
        }
    } else {
        fail("No such configuration action")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::parse;

    fn bs(s: &str) -> Vec<Bytes> {
        s.split_whitespace()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    fn sop(s: &str) -> SearchOp {
        match parse(&bs(s)) {
            Ok(Command::Op(Op::Search(o))) => o,
            other => panic!("{s}: {other:?}"),
        }
    }

    fn perr(s: &str) -> String {
        match parse(&bs(s)) {
            Err(OpError::Other(t)) => t,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn lowers_to_search_ops() {
        assert!(matches!(
            sop("FT.CREATE i SCHEMA t TAG"),
            SearchOp::Create(_)
        ));
        assert_eq!(
            sop("ft.dropindex i dd"),
            SearchOp::DropIndex {
                index: Bytes::from_static(b"i"),
                dd: true
            }
        );
        assert!(matches!(
            sop("FT.ALTER i SKIPINITIALSCAN SCHEMA ADD n NUMERIC"),
            SearchOp::Alter {
                skip_initial_scan: true,
                ..
            }
        ));
        assert_eq!(sop("FT._LIST"), SearchOp::List);
        assert!(matches!(
            sop("FT.DEBUG dump_tagidx i t"),
            SearchOp::DumpTagIdx { .. }
        ));
        assert!(matches!(sop("FT.CONFIG GET *"), SearchOp::ConfigGet { .. }));
        assert!(!Op::Search(SearchOp::List).is_write());
        assert!(Op::Search(sop("FT.ALIASADD a i")).is_write());
    }

    #[test]
    fn errors() {
        assert_eq!(perr("FT.CREATE i"), "No schema found");
        assert_eq!(perr("FT.ALTER i ADD"), "ALTER must be followed by SCHEMA");
        assert_eq!(
            perr("FT.ALTER i SCHEMA DEL x"),
            "Unknown action passed to ALTER SCHEMA"
        );
        assert_eq!(perr("FT.ALTER i SCHEMA ADD"), "No fields provided");
        assert_eq!(perr("FT.DEBUG nope"), "subcommand was not found");
        assert!(perr("FT.INFO").contains("wrong number of arguments"));
    }

    #[test]
    fn definition_writes_round_trip_through_the_wal_command() {
        for s in [
            "FT.CREATE i PREFIX 1 d: SCORE 0.5 SCHEMA t TAG SEPARATOR ; n AS m NUMERIC SORTABLE",
            "FT.ALTER i SCHEMA ADD g GEO",
            "FT.DROPINDEX i DD",
            "FT.ALIASADD a i",
            "FT.ALIASUPDATE a i",
            "FT.ALIASDEL a",
        ] {
            let o = Op::Search(sop(s));
            let cmd = o.to_command(0).expect("a write has a command");
            match parse(&cmd) {
                Ok(Command::Op(back)) => assert_eq!(back, o, "{s}"),
                other => panic!("{s}: {other:?}"),
            }
        }
        assert_eq!(Op::Search(SearchOp::List).to_command(0), None);
    }
}
