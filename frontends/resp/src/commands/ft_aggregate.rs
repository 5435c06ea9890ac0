//! Table entries and parsers of FT.AGGREGATE, FT.CURSOR, FT.DICTADD/DICTDEL/DICTDUMP and
//! FT.SYNUPDATE/SYNDUMP. FT.AGGREGATE lowers to [`ConnCmd::FtAggregate`] (the server splits
//! it into the shards' `SearchOp::Aggregate` and the pipeline it runs itself, so the engine
//! never sees a moon-ft type); the others lower to `Op::Search`.
//!
//! Invariants: FT.AGGREGATE's arguments are parsed by moon-ft (`parse_aggregate_args`, which
//! also parses the APPLY/FILTER expressions, so their syntax errors come back at once) and
//! its query is lowered by FT.SEARCH's own lowering (`ft::search_plan`), so a query means the
//! same in both commands. Dictionary and synonym writes have a canonical command
//! (`search::unparse`) that parses back to the same op (the WAL relies on it). Error texts
//! are RediSearch's.

use bytes::Bytes;
use moon_engine::ir::ops::SearchOp;
use moon_engine::ir::{Op, OpError};
use moon_engine::search::query::SearchPlan;

use super::args::is;
use super::table::{CommandSpec, DENYOOM, READONLY, WRITE, doc};
use super::{Command, ConnCmd};

const G: &str = "module";

fn op(s: SearchOp) -> Result<Command, OpError> {
    Ok(Command::Op(Op::Search(s)))
}

fn fail(text: impl Into<String>) -> Result<Command, OpError> {
    Err(OpError::Other(text.into()))
}

/// A parsed FT.AGGREGATE: the lowered query and the parsed options and steps.
#[derive(Debug, Clone, PartialEq)]
pub struct FtAggregate {
    /// The index and query as FT.SEARCH lowers them (paging and return fields unused).
    pub search: SearchPlan,
    /// Options, steps and cursor arguments.
    pub args: moon_ft::AggregateArgs,
}

pub static FT_AGGREGATE: CommandSpec = CommandSpec::new(
    "ft.aggregate",
    -3,
    READONLY,
    0,
    &[],
    doc(
        G,
        "1.1.0",
        "Run a search query on an index and perform aggregate transformations on the results",
        "O(1)",
    ),
    ft_aggregate,
);

pub static FT_CURSOR: CommandSpec = CommandSpec::new(
    "ft.cursor",
    -4,
    READONLY,
    0,
    &[],
    doc(
        G,
        "1.1.0",
        "Reads from or deletes a cursor of FT.AGGREGATE (READ, DEL)",
        "O(1)",
    ),
    ft_cursor,
);

pub static FT_DICTADD: CommandSpec = CommandSpec::new(
    "ft.dictadd",
    -3,
    WRITE | DENYOOM,
    0,
    &[],
    doc(G, "1.4.0", "Adds terms to a dictionary", "O(1)"),
    ft_dictadd,
);

pub static FT_DICTDEL: CommandSpec = CommandSpec::new(
    "ft.dictdel",
    -3,
    WRITE,
    0,
    &[],
    doc(G, "1.4.0", "Deletes terms from a dictionary", "O(1)"),
    ft_dictdel,
);

pub static FT_DICTDUMP: CommandSpec = CommandSpec::new(
    "ft.dictdump",
    2,
    READONLY,
    0,
    &[],
    doc(
        G,
        "1.4.0",
        "Dumps all terms in the given dictionary",
        "O(N)",
    ),
    ft_dictdump,
);

pub static FT_SYNUPDATE: CommandSpec = CommandSpec::new(
    "ft.synupdate",
    -4,
    WRITE | DENYOOM,
    0,
    &[],
    doc(
        G,
        "1.2.0",
        "Creates or updates a synonym group with additional terms",
        "O(1)",
    ),
    ft_synupdate,
);

pub static FT_SYNDUMP: CommandSpec = CommandSpec::new(
    "ft.syndump",
    2,
    READONLY,
    0,
    &[],
    doc(G, "1.2.0", "Dumps the contents of a synonym group", "O(1)"),
    ft_syndump,
);

pub static FT_SPELLCHECK: CommandSpec = CommandSpec::new(
    "ft.spellcheck",
    -3,
    READONLY,
    0,
    &[],
    doc(
        G,
        "1.4.0",
        "Performs spelling correction on a query, returning suggestions for misspelled terms",
        "O(1)",
    ),
    ft_spellcheck,
);

/// The table entries of this module.
pub static COMMANDS: &[&CommandSpec] = &[
    &FT_SPELLCHECK,
    &FT_AGGREGATE,
    &FT_CURSOR,
    &FT_DICTADD,
    &FT_DICTDEL,
    &FT_DICTDUMP,
    &FT_SYNUPDATE,
    &FT_SYNDUMP,
];

/// FT.AGGREGATE index query [options and steps].
fn ft_aggregate(args: &[Bytes]) -> Result<Command, OpError> {
    let rest: Vec<&[u8]> = args[3..].iter().map(|a| &a[..]).collect();
    let aargs = match moon_ft::parse_aggregate_args(&rest) {
        Ok(a) => a,
        Err(e) => return fail(e.to_string()),
    };
    // Stop words are the index's (the engine drops them), as in FT.SEARCH.
    let none = moon_ft::Stopwords::none();
    let opts = moon_ft::QueryOptions {
        params: &aargs.common.params,
        dialect: aargs.dialect(),
        stopwords: &none,
    };
    let tree = match moon_ft::parse_query_with(&args[2], &opts) {
        Ok(t) => t,
        Err(e) => return fail(e.to_string()),
    };
    if matches!(tree.kind, moon_ft::NodeKind::VectorKnn(_)) {
        return fail("ERR KNN queries in FT.AGGREGATE are not supported yet");
    }
    let sargs = moon_ft::SearchArgs {
        query: aargs.query.clone(),
        common: aargs.common.clone(),
        ..Default::default()
    };
    match super::ft::search_plan(args[1].clone(), &tree, &sargs) {
        Ok(search) => Ok(Command::Conn(ConnCmd::FtAggregate(Box::new(FtAggregate {
            search,
            args: aargs,
        })))),
        Err(e) => fail(e),
    }
}

fn cursor_id(arg: &[u8]) -> Option<u64> {
    std::str::from_utf8(arg).ok()?.parse().ok()
}

/// FT.CURSOR READ index id [COUNT n] | FT.CURSOR DEL index id.
fn ft_cursor(args: &[Bytes]) -> Result<Command, OpError> {
    let sub = &args[1];
    let index = args[2].clone();
    let Some(id) = cursor_id(&args[3]) else {
        return fail("Bad cursor ID");
    };
    if is(sub, "read") {
        let count = match &args[4..] {
            [] => None,
            [c, n] if is(c, "count") => match cursor_id(n) {
                Some(n) => Some(n),
                None => return fail("Bad value for COUNT"),
            },
            _ => return fail("Bad arguments for READ"),
        };
        op(SearchOp::CursorRead { index, id, count })
    } else if is(sub, "del") {
        if args.len() > 4 {
            return fail("Bad arguments for DEL");
        }
        op(SearchOp::CursorDel { index, id })
    } else if is(sub, "gc") {
        fail("ERR FT.CURSOR GC is not supported")
    } else {
        fail("Unknown subcommand")
    }
}

fn ft_dictadd(args: &[Bytes]) -> Result<Command, OpError> {
    op(SearchOp::DictAdd {
        dict: args[1].clone(),
        terms: args[2..].to_vec(),
    })
}

fn ft_dictdel(args: &[Bytes]) -> Result<Command, OpError> {
    op(SearchOp::DictDel {
        dict: args[1].clone(),
        terms: args[2..].to_vec(),
    })
}

fn ft_dictdump(args: &[Bytes]) -> Result<Command, OpError> {
    op(SearchOp::DictDump {
        dict: args[1].clone(),
    })
}

/// FT.SYNUPDATE index group [SKIPINITIALSCAN] term...
fn ft_synupdate(args: &[Bytes]) -> Result<Command, OpError> {
    let mut rest = &args[3..];
    let mut skip = false;
    if rest.first().is_some_and(|a| is(a, "skipinitialscan")) {
        skip = true;
        rest = &rest[1..];
    }
    if rest.is_empty() {
        return fail("ERR wrong number of arguments for 'ft.synupdate' command");
    }
    op(SearchOp::SynUpdate {
        index: args[1].clone(),
        group: args[2].clone(),
        skip_initial_scan: skip,
        terms: rest.to_vec(),
    })
}

/// The text terms of a query in order (those under a NOT are not checked).
fn query_terms(n: &moon_ft::QueryNode, out: &mut Vec<String>) {
    use moon_ft::NodeKind as K;
    match &n.kind {
        K::Term(t) => out.push(t.text.clone()),
        K::And(v) | K::Or(v) | K::Phrase(v) => v.iter().for_each(|c| query_terms(c, out)),
        K::Optional(c) => query_terms(c, out),
        K::VectorKnn(k) => {
            if let Some(f) = &k.filter {
                query_terms(f, out);
            }
        }
        _ => {}
    }
}

/// FT.SPELLCHECK index query [DISTANCE d] [TERMS INCLUDE|EXCLUDE dict]... [DIALECT d].
fn ft_spellcheck(args: &[Bytes]) -> Result<Command, OpError> {
    let mut distance = 1u32;
    let mut dicts = Vec::new();
    let mut dialect = 2u32;
    let mut rest = &args[3..];
    while let Some((a, tail)) = rest.split_first() {
        if is(a, "distance") {
            let Some((d, tail)) = tail.split_first() else {
                return fail("DISTANCE arg is given but no DISTANCE comes after");
            };
            distance = match std::str::from_utf8(d).ok().and_then(|d| d.parse().ok()) {
                Some(d @ 1..=4) => d,
                _ => {
                    return fail(
                        "bad distance given, distance must be a natural number between 1 to 4",
                    );
                }
            };
            rest = tail;
        } else if is(a, "terms") {
            let [kind, dict, tail @ ..] = tail else {
                return fail("TERM arg is given but no TERM params comes after");
            };
            let include = if is(kind, "include") {
                true
            } else if is(kind, "exclude") {
                false
            } else {
                return fail("bad format, exlude/include operation was not given");
            };
            dicts.push((include, dict.clone()));
            rest = tail;
        } else if is(a, "dialect") {
            let Some((d, tail)) = tail.split_first() else {
                return fail("Need an argument for DIALECT");
            };
            dialect = match std::str::from_utf8(d).ok().and_then(|d| d.parse().ok()) {
                Some(d @ 1..=4) => d,
                _ => return fail("DIALECT requires a non negative integer >=1 and <= 4"),
            };
            rest = tail;
        } else {
            return fail(format!(
                "Unknown argument `{}` for FT.SPELLCHECK",
                String::from_utf8_lossy(a)
            ));
        }
    }
    let tree = match moon_ft::parse_query(&args[2], &moon_ft::Params::default(), dialect) {
        Ok(t) => t,
        Err(e) => return fail(e.to_string()),
    };
    let mut terms = Vec::new();
    query_terms(&tree, &mut terms);
    op(SearchOp::SpellCheck(Box::new(
        moon_engine::search::spellcheck::SpellPlan {
            index: args[1].clone(),
            terms,
            distance,
            dicts,
        },
    )))
}

fn ft_syndump(args: &[Bytes]) -> Result<Command, OpError> {
    op(SearchOp::SynDump {
        index: args[1].clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::ft::tests::{bs, perr, sop};
    use crate::commands::parse;

    #[test]
    fn aggregate_lowers_into_a_plan() {
        let Ok(Command::Conn(ConnCmd::FtAggregate(p))) = parse(&bs(
            "FT.AGGREGATE i @t:{a} GROUPBY 1 @t REDUCE COUNT 0 AS n WITHCURSOR COUNT 5",
        )) else {
            panic!("not an aggregate")
        };
        assert_eq!(p.search.index, Bytes::from_static(b"i"));
        assert_eq!(p.args.steps.len(), 1);
        assert_eq!(p.args.cursor.as_ref().and_then(|c| c.count), Some(5));
        assert_eq!(
            perr("FT.AGGREGATE i * GROUPBY 1 t"),
            "Bad arguments for GROUPBY: Unknown property `t`. Did you mean `@t`?"
        );
        assert_eq!(
            perr("FT.AGGREGATE i * REDUCE"),
            "Unknown argument `REDUCE` at position 1 for <main>"
        );
        assert!(perr("FT.AGGREGATE i").contains("wrong number of arguments"));
    }

    #[test]
    fn cursor_dict_syn_commands() {
        assert_eq!(
            sop("FT.CURSOR READ i 12 COUNT 3"),
            SearchOp::CursorRead {
                index: Bytes::from_static(b"i"),
                id: 12,
                count: Some(3)
            }
        );
        assert!(matches!(
            sop("ft.cursor del i 7"),
            SearchOp::CursorDel { id: 7, .. }
        ));
        assert_eq!(perr("FT.CURSOR READ i x"), "Bad cursor ID");
        assert_eq!(perr("FT.CURSOR NOPE i 1"), "Unknown subcommand");
        assert!(matches!(
            sop("FT.SYNUPDATE i g SKIPINITIALSCAN a b"),
            SearchOp::SynUpdate {
                skip_initial_scan: true,
                ..
            }
        ));
        assert!(perr("FT.SYNUPDATE i g SKIPINITIALSCAN").contains("wrong number"));
        assert!(perr("FT.DICTADD d").contains("wrong number"));
    }

    #[test]
    fn spellcheck_collects_terms() {
        let SearchOp::SpellCheck(p) =
            sop("FT.SPELLCHECK i hello|wrld|-nope DISTANCE 2 TERMS INCLUDE d TERMS EXCLUDE e")
        else {
            panic!("not a spellcheck")
        };
        assert_eq!(p.terms, vec!["hello".to_string(), "wrld".to_string()]);
        assert_eq!(p.distance, 2);
        assert_eq!(p.dicts.len(), 2);
        assert!(p.dicts[0].0 && !p.dicts[1].0);
        assert_eq!(
            perr("FT.SPELLCHECK i x DISTANCE 5"),
            "bad distance given, distance must be a natural number between 1 to 4"
        );
        assert_eq!(
            perr("FT.SPELLCHECK i x TERMS BOTH d"),
            "bad format, exlude/include operation was not given"
        );
    }

    #[test]
    fn writes_round_trip_through_the_wal_command() {
        for s in [
            "FT.DICTADD d a b",
            "FT.DICTDEL d a",
            "FT.SYNUPDATE i g a b",
            "FT.SYNUPDATE i g SKIPINITIALSCAN a",
        ] {
            let o = Op::Search(sop(s));
            assert!(o.is_write(), "{s}");
            let cmd = o.to_command(0).expect("a write has a command");
            match parse(&cmd) {
                Ok(Command::Op(back)) => assert_eq!(back, o, "{s}"),
                other => panic!("{s}: {other:?}"),
            }
        }
        assert!(!Op::Search(sop("FT.DICTDUMP d")).is_write());
        assert_eq!(Op::Search(sop("FT.SYNDUMP i")).to_command(0), None);
    }
}
