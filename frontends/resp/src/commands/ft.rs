//! Table entries and parsers of the FT admin commands (RediSearch's FT.CREATE, FT.ALTER,
//! FT.DROPINDEX, FT.ALIASADD/ALIASUPDATE/ALIASDEL, FT.INFO, FT._LIST, FT.TAGVALS, FT.DEBUG
//! DUMP_TAGIDX/DUMP_NUMIDX, FT.CONFIG GET/SET, and FT.SEARCH, whose query moon-ft parses and
//! [`search_plan`] lowers into the engine's plan). They lower to `Op::Search`.
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
use moon_engine::search::query::{
    HighlightPlan, Knn, Query, SearchPlan, SummarizePlan, TagMatch, TextKind, TextOpts, TextQuery,
};
use moon_engine::search::schema::parse_fields_args;
use moon_engine::search::text::Scorer;
use moon_ft::{NodeKind, TagValue};

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

pub static FT_SEARCH: CommandSpec = CommandSpec::new(
    "ft.search",
    -3,
    READONLY,
    0,
    &[],
    doc(
        G,
        "1.0.0",
        "Searches the index with a textual query, returning either documents or just ids",
        "O(N)",
    ),
    ft_search,
);

pub static FT_EXPLAIN: CommandSpec = CommandSpec::new(
    "ft.explain",
    -3,
    READONLY,
    0,
    &[],
    doc(
        G,
        "1.0.0",
        "Returns the execution plan for a complex query",
        "O(1)",
    ),
    ft_explain,
);

pub static FT_EXPLAINCLI: CommandSpec = CommandSpec::new(
    "ft.explaincli",
    -3,
    READONLY,
    0,
    &[],
    doc(
        G,
        "1.0.0",
        "Returns the execution plan for a complex query",
        "O(1)",
    ),
    ft_explaincli,
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
    &FT_SEARCH,
    &FT_EXPLAIN,
    &FT_EXPLAINCLI,
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

/// FT.SEARCH index query [options]: parsed by moon-ft, lowered into the engine's plan.
fn ft_search(args: &[Bytes]) -> Result<Command, OpError> {
    let rest: Vec<&[u8]> = args[3..].iter().map(|a| &a[..]).collect();
    let sargs = match moon_ft::parse_search_args(&rest) {
        Ok(a) => a,
        Err(e) => return fail(e.to_string()),
    };
    // Stop words are the index's (the engine drops them), so the parser keeps every word.
    let none = moon_ft::Stopwords::none();
    let opts = moon_ft::QueryOptions {
        params: &sargs.common.params,
        dialect: sargs.dialect(),
        stopwords: &none,
    };
    let tree = match moon_ft::parse_query_with(&args[2], &opts) {
        Ok(t) => t,
        Err(e) => return fail(e.to_string()),
    };
    match search_plan(args[1].clone(), &tree, &sargs) {
        Ok(plan) => op(SearchOp::Search(Box::new(plan))),
        Err(e) => fail(e),
    }
}

fn ft_explain(args: &[Bytes]) -> Result<Command, OpError> {
    explain_cmd(args, false)
}

fn ft_explaincli(args: &[Bytes]) -> Result<Command, OpError> {
    explain_cmd(args, true)
}

/// FT.EXPLAIN / FT.EXPLAINCLI index query [DIALECT n] [PARAMS ...]: moon-ft parses (default
/// stop words) and renders with English stem expansion; a shard checks the index.
fn explain_cmd(args: &[Bytes], cli: bool) -> Result<Command, OpError> {
    let rest: Vec<&[u8]> = args[3..].iter().map(|a| &a[..]).collect();
    let sargs = match moon_ft::parse_search_args(&rest) {
        Ok(a) => a,
        Err(e) => return fail(e.to_string()),
    };
    let tree = match moon_ft::parse_query(&args[2], &sargs.common.params, sargs.dialect()) {
        Ok(t) => t,
        Err(e) => return fail(e.to_string()),
    };
    // The shard renders: it knows the index's synonym groups (printed before the stems, as
    // RediSearch's default expander adds them first). VERBATIM expands nothing.
    let verbatim = sargs.query.verbatim;
    let render = move |ex: moon_engine::ir::ops::search::TermExpansions<'_>| {
        if verbatim {
            moon_ft::explain_cli(&tree, &moon_ft::NoExpansion)
        } else {
            moon_ft::explain_cli(&tree, &|t: &str| ex(t))
        }
    };
    op(SearchOp::Explain {
        index: args[1].clone(),
        render: moon_engine::ir::ops::search::ExplainRender(std::sync::Arc::new(render)),
        cli,
    })
}

fn bs(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// Lowers a parsed FT.SEARCH into the engine's plan; `Err` for what Moon cannot run yet.
pub fn search_plan(
    index: Bytes,
    tree: &moon_ft::QueryNode,
    a: &moon_ft::SearchArgs,
) -> Result<SearchPlan, String> {
    if a.withpayloads || a.withsortkeys {
        return Err("ERR WITHPAYLOADS and WITHSORTKEYS are not supported yet".into());
    }
    let lw = Lower {
        slop: a.query.slop,
        inorder: a.query.inorder,
    };
    let (mut query, knn) = match &tree.kind {
        NodeKind::VectorKnn(k) => {
            let filter = match &k.filter {
                Some(f) => lw.lower(f, None, 1.0)?,
                None => Query::All,
            };
            let mut ef_runtime = None;
            for (name, value) in &k.params {
                if name.eq_ignore_ascii_case("EF_RUNTIME") {
                    ef_runtime = Some(value.parse::<usize>().ok().filter(|v| *v > 0).ok_or_else(
                        || format!("Error parsing vector similarity parameters: Invalid value `{value}` for EF_RUNTIME"),
                    )?);
                }
            }
            let knn = Knn {
                field: bs(&k.field),
                k: k.k,
                blob: Bytes::copy_from_slice(&k.blob),
                ef_runtime,
                score_field: bs(&k.score_field),
            };
            (filter, Some(knn))
        }
        _ => (lw.lower(tree, None, 1.0)?, None),
    };
    let and = |query: Query, n: Query| match query {
        Query::All => n,
        Query::And(mut v) => {
            v.push(n);
            Query::And(v)
        }
        q => Query::And(vec![q, n]),
    };
    if let Some(g) = &a.geofilter {
        query = and(
            query,
            Query::Geo {
                field: bs(&g.field),
                lon: g.lon,
                lat: g.lat,
                radius_m: g.radius * g.unit.meters(),
            },
        );
    }
    for f in &a.filters {
        let n = Query::Numeric {
            field: bs(&f.field),
            min: f.min,
            max: f.max,
            min_inclusive: f.min_inclusive,
            max_inclusive: f.max_inclusive,
        };
        query = and(query, n);
    }
    let (offset, num) = a.offset_num();
    let scorer = match &a.query.scorer {
        None => None,
        Some(name) => {
            Some(Scorer::from_name(name).ok_or_else(|| format!("No such scorer {name}"))?)
        }
    };
    let names = |v: &[String]| v.iter().map(|f| bs(f)).collect::<Vec<_>>();
    let highlight = a.highlight.as_ref().map(|h| HighlightPlan {
        fields: names(&h.fields),
        open: h.open_tag.clone(),
        close: h.close_tag.clone(),
    });
    let summarize = a.summarize.as_ref().map(|s| SummarizePlan {
        fields: names(&s.fields),
        frags: usize::try_from(s.frags).unwrap_or(usize::MAX),
        len: usize::try_from(s.len).unwrap_or(usize::MAX),
        separator: s.separator.clone(),
    });
    let mut return_fields: Option<Vec<(Bytes, Bytes)>> = a
        .return_fields
        .as_ref()
        .map(|v| v.iter().map(|r| (bs(&r.path), bs(&r.name))).collect());
    // Fields named by HIGHLIGHT / SUMMARIZE are returned even when RETURN omits them (as
    // RediSearch adds them to its output field list).
    if let Some(list) = return_fields.as_mut().filter(|l| !l.is_empty()) {
        let extra = highlight
            .iter()
            .flat_map(|h| h.fields.iter())
            .chain(summarize.iter().flat_map(|s| s.fields.iter()));
        for f in extra {
            if !list.iter().any(|(p, n)| p == f || n == f) {
                list.push((f.clone(), f.clone()));
            }
        }
    }
    let text = TextOpts {
        scorer,
        explainscore: a.explainscore,
        verbatim: a.query.verbatim,
        nostopwords: a.query.nostopwords,
        infields: a.query.infields.as_deref().map(names),
        inkeys: a
            .query
            .inkeys
            .as_ref()
            .map(|k| k.iter().map(|k| Bytes::copy_from_slice(k)).collect()),
        highlight,
        summarize,
        stats: None,
    };
    let hybrid = match (&a.hybrid, &knn) {
        (None, _) => None,
        (Some(_), None) => return Err("HYBRID requires a KNN clause (`(text)=>[KNN ...]`)".into()),
        (Some(h), Some(k)) => {
            if !moon_engine::search::hybrid::has_text_leaf(&query) {
                return Err("HYBRID requires text terms before `=>[KNN ...]`".into());
            }
            Some(moon_engine::search::hybrid::Hybrid {
                constant: h.constant,
                window: h.window.unwrap_or_else(|| {
                    moon_engine::search::hybrid::default_window(k.k, offset, num)
                }),
                vector_filter: moon_engine::search::hybrid::vector_filter(&query),
            })
        }
    };
    Ok(SearchPlan {
        index,
        query,
        knn,
        nocontent: a.nocontent || a.return_fields.as_ref().is_some_and(Vec::is_empty),
        withscores: a.withscores,
        return_fields,
        sortby: a.sortby.as_ref().map(|s| (bs(&s.field), s.descending)),
        offset,
        num,
        text,
        hybrid,
    })
}

/// Lowering context: the global SLOP / INORDER options.
struct Lower {
    slop: Option<i64>,
    inorder: bool,
}

fn text_leaf(fields: Option<&[String]>, kind: TextKind, weight: f64) -> Query {
    Query::Text(Box::new(TextQuery {
        fields: fields.map(|f| f.iter().map(|f| bs(f)).collect()),
        kind,
        weight,
    }))
}

/// A slop attribute or option as the engine's (negative = unlimited).
fn slop_of(s: Option<i64>) -> Option<u32> {
    s.and_then(|s| u32::try_from(s).ok())
}

impl Lower {
    /// A query node as an engine filter; `scope` is the field scope inherited from an
    /// enclosing `@f:( ... )`, `weight` the product of the enclosing `$weight`s.
    fn lower(
        &self,
        n: &moon_ft::QueryNode,
        scope: Option<&[String]>,
        weight: f64,
    ) -> Result<Query, String> {
        let scope = n.fields.as_deref().or(scope);
        let weight = weight * n.attrs.weight;
        let all = |v: &[moon_ft::QueryNode]| {
            v.iter()
                .map(|c| self.lower(c, scope, weight))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(match &n.kind {
            NodeKind::Wildcard => Query::All,
            NodeKind::Null => Query::Nothing,
            NodeKind::And(v) => {
                let qs = all(v)?;
                let slop = n.attrs.slop.or(self.slop);
                let inorder = n.attrs.inorder.unwrap_or(self.inorder);
                if slop.is_some() || inorder {
                    Query::Near {
                        qs,
                        slop: slop_of(slop),
                        inorder,
                    }
                } else {
                    Query::And(qs)
                }
            }
            NodeKind::Or(v) => Query::Or(all(v)?),
            NodeKind::Not(c) => Query::Not(Box::new(self.lower(c, scope, weight)?)),
            NodeKind::Optional(c) => Query::Optional(Box::new(self.lower(c, scope, weight)?)),
            NodeKind::Term(t) => text_leaf(
                scope,
                TextKind::Term {
                    word: t.text.clone(),
                    verbatim: t.verbatim,
                },
                weight,
            ),
            NodeKind::Phrase(words) => {
                let words = words
                    .iter()
                    .filter_map(|w| match &w.kind {
                        NodeKind::Term(t) => Some((t.text.clone(), t.verbatim)),
                        _ => None,
                    })
                    .collect();
                // An exact phrase; `$slop` / `$inorder` attributes loosen it.
                let slop = match n.attrs.slop {
                    None => 0,
                    Some(s) => slop_of(Some(s)).unwrap_or(u32::MAX / 2),
                };
                let inorder = n.attrs.inorder.unwrap_or(n.attrs.slop.is_none());
                text_leaf(
                    scope,
                    TextKind::Phrase {
                        words,
                        slop,
                        inorder,
                    },
                    weight,
                )
            }
            NodeKind::Prefix(t) => text_leaf(scope, TextKind::Prefix(t.text.clone()), weight),
            NodeKind::Suffix(t) => text_leaf(scope, TextKind::Suffix(t.text.clone()), weight),
            NodeKind::Infix(t) => text_leaf(scope, TextKind::Infix(t.text.clone()), weight),
            NodeKind::Pattern(p) => text_leaf(scope, TextKind::Wildcard(p.clone()), weight),
            NodeKind::Fuzzy { term, distance } => text_leaf(
                scope,
                TextKind::Fuzzy {
                    word: term.text.clone(),
                    distance: u32::from(*distance),
                },
                weight,
            ),
            NodeKind::Tag { field, values } => Query::Tag {
                field: bs(field),
                values: values
                    .iter()
                    .map(|v| match v {
                        TagValue::Exact(s) => Ok(TagMatch::Exact(bs(s))),
                        TagValue::Words(w) => Ok(TagMatch::Exact(bs(&w.join(" ")))),
                        TagValue::Prefix(s) => Ok(TagMatch::Prefix(bs(s))),
                        TagValue::Suffix(s) => Ok(TagMatch::Suffix(bs(s))),
                        TagValue::Infix(s) => Ok(TagMatch::Infix(bs(s))),
                        TagValue::Pattern(_) => {
                            Err("ERR tag wildcard patterns are not supported yet".to_string())
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            },
            NodeKind::Numeric(r) => Query::Numeric {
                field: bs(&r.field),
                min: r.min,
                max: r.max,
                min_inclusive: r.min_inclusive,
                max_inclusive: r.max_inclusive,
            },
            NodeKind::Geo(g) => Query::Geo {
                field: bs(&g.field),
                lon: g.lon,
                lat: g.lat,
                radius_m: g.radius * g.unit.meters(),
            },
            NodeKind::VectorRange(r) => {
                let mut epsilon = None;
                for (name, value) in &r.params {
                    if name.trim_start_matches('$').eq_ignore_ascii_case("EPSILON") {
                        epsilon = Some(value.parse::<f64>().ok().filter(|e| *e > 0.0).ok_or_else(
                            || format!("Error parsing vector similarity parameters: Invalid value `{value}` for EPSILON"),
                        )?);
                    }
                }
                Query::Range {
                    field: bs(&r.field),
                    radius: r.radius,
                    blob: Bytes::copy_from_slice(&r.blob),
                    epsilon,
                    yield_as: r.yield_distance_as.as_deref().map(bs),
                }
            }
            NodeKind::VectorKnn(_) => {
                return Err("ERR a KNN clause is only supported at the top of the query".into());
            }
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::commands::parse;

    pub(crate) fn bs(s: &str) -> Vec<Bytes> {
        s.split_whitespace()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    pub(crate) fn sop(s: &str) -> SearchOp {
        match parse(&bs(s)) {
            Ok(Command::Op(Op::Search(o))) => o,
            other => panic!("{s}: {other:?}"),
        }
    }

    pub(crate) fn perr(s: &str) -> String {
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

    #[test]
    fn ft_search_lowers_into_a_plan() {
        let query = "@t:{a|B}=>[KNN 3 @v $B EF_RUNTIME 50 AS d]";
        let mut args = bs("FT.SEARCH i");
        args.push(Bytes::copy_from_slice(query.as_bytes()));
        args.extend(bs(
            "PARAMS 2 B xxxxxxxx RETURN 3 n AS m SORTBY n DESC LIMIT 2 5",
        ));
        let Ok(Command::Op(Op::Search(SearchOp::Search(p)))) = parse(&args) else {
            panic!("not a search")
        };
        assert_eq!(
            p.query,
            Query::Tag {
                field: Bytes::from_static(b"t"),
                values: vec![
                    TagMatch::Exact(Bytes::from_static(b"a")),
                    TagMatch::Exact(Bytes::from_static(b"B"))
                ],
            }
        );
        let knn = p.knn.expect("knn");
        assert_eq!((knn.k, knn.ef_runtime), (3, Some(50)));
        assert_eq!(knn.score_field, Bytes::from_static(b"d"));
        assert_eq!(knn.blob, Bytes::from_static(b"xxxxxxxx"));
        assert_eq!(
            p.return_fields,
            Some(vec![(Bytes::from_static(b"n"), Bytes::from_static(b"m"))])
        );
        assert_eq!(p.sortby, Some((Bytes::from_static(b"n"), true)));
        assert_eq!((p.offset, p.num), (2, 5));
        let SearchOp::Search(p) = sop("FT.SEARCH i * NOCONTENT FILTER n 1 (2") else {
            panic!("not a search")
        };
        assert!(p.nocontent && p.knn.is_none());
        assert!(matches!(
            p.query,
            Query::Numeric {
                min_inclusive: true,
                max_inclusive: false,
                ..
            }
        ));
        let SearchOp::Search(p) = sop("FT.SEARCH i @t:hel* SCORER TFIDF VERBATIM") else {
            panic!("not a search")
        };
        assert_eq!(
            p.query,
            Query::Text(Box::new(TextQuery {
                fields: Some(vec![Bytes::from_static(b"t")]),
                kind: TextKind::Prefix("hel".into()),
                weight: 1.0,
            }))
        );
        assert_eq!(p.text.scorer, Some(Scorer::TfIdf));
        assert!(p.text.verbatim);
        assert_eq!(perr("FT.SEARCH i x SCORER nope"), "No such scorer nope");
        assert!(perr("FT.SEARCH i @t:{a").starts_with("Syntax error"));
        assert_eq!(
            perr("FT.SEARCH i"),
            "ERR wrong number of arguments for 'ft.search' command"
        );
    }
}
