//! FT.AGGREGATE arguments after the query string: the query options, then the pipeline of
//! steps in order (LOAD, GROUPBY + REDUCE, APPLY, FILTER, SORTBY / LIMIT), cursor settings,
//! PARAMS / DIALECT / TIMEOUT — parsed as RediSearch's `AREQ_Compile` does.
//!
//! Query options (VERBATIM, SLOP, INKEYS...) are only accepted before the first pipeline
//! step, as in RediSearch. SORTBY and LIMIT form one "arrange" step: a SORTBY or LIMIT joins
//! the last arrange step unless a GROUPBY came after it; a second SORTBY in the same arrange
//! step is an error. APPLY / FILTER expressions are parsed here, so their syntax errors are
//! reported at argument-parsing time.

use crate::args::{ArgError, Cursor, lossy};
use crate::expr::ast::Expr;
use crate::expr::parse::parse_expr;
use crate::search_args::{
    ArgLimits, CommonArgs, QueryFlags, parse_common, parse_limit, parse_query_flag, unknown_arg,
};

/// Most sort keys in one SORTBY.
pub const MAX_SORT_KEYS: usize = 64;

/// `LOAD n @f [AS a]...` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadField {
    /// Field name without `@`, or a JSON path (`$.a.b`).
    pub path: String,
    /// Output name (`AS`), defaulting to the path.
    pub name: String,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// Property name without `@`.
    pub field: String,
    pub descending: bool,
}

/// The reducers of GROUPBY.
#[derive(Debug, Clone, PartialEq)]
pub enum ReducerFn {
    Count,
    CountDistinct(String),
    CountDistinctish(String),
    Sum(String),
    Min(String),
    Max(String),
    Avg(String),
    StdDev(String),
    /// Property and quantile in [0, 1].
    Quantile(String, f64),
    ToList(String),
    /// `FIRST_VALUE @f [BY @g [ASC|DESC]]`.
    FirstValue {
        field: String,
        by: Option<SortKey>,
    },
    /// Property and sample size.
    RandomSample(String, u64),
}

/// `REDUCE name nargs args... [AS alias]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reducer {
    pub func: ReducerFn,
    /// The output name: `AS`, or RediSearch's generated `__generated_alias<fn><args>`.
    pub alias: String,
}

/// A pipeline step.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `LOAD *` is `Load(None)`.
    Load(Option<Vec<LoadField>>),
    GroupBy {
        fields: Vec<String>,
        reducers: Vec<Reducer>,
    },
    Apply {
        expr: Expr,
        raw: String,
        alias: String,
    },
    Filter {
        expr: Expr,
        raw: String,
    },
    /// SORTBY and/or LIMIT.
    Arrange {
        sort: Vec<SortKey>,
        max: Option<u64>,
        limit: Option<(u64, u64)>,
    },
}

/// `WITHCURSOR [COUNT n] [MAXIDLE ms]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CursorArgs {
    pub count: Option<u64>,
    pub max_idle_ms: Option<u64>,
}

/// Everything FT.AGGREGATE accepts after the query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AggregateArgs {
    pub query: QueryFlags,
    pub common: CommonArgs,
    pub steps: Vec<Step>,
    pub cursor: Option<CursorArgs>,
}

impl AggregateArgs {
    /// The dialect in effect (2 unless DIALECT was given).
    pub fn dialect(&self) -> u32 {
        self.common.dialect.unwrap_or(2)
    }
}

/// Parses FT.AGGREGATE's arguments after the query string with default limits.
pub fn parse_aggregate_args(args: &[&[u8]]) -> Result<AggregateArgs, ArgError> {
    parse_aggregate_args_with(args, &ArgLimits::default())
}

/// Parses FT.AGGREGATE's arguments after the query string.
pub fn parse_aggregate_args_with(
    args: &[&[u8]],
    limits: &ArgLimits,
) -> Result<AggregateArgs, ArgError> {
    let mut c = Cursor::new(args);
    let mut a = AggregateArgs::default();
    let mut query_phase = true;
    while !c.is_end() {
        if query_phase {
            if parse_query_flag(&mut c, &mut a.query)? {
                continue;
            }
            if c.advance_if("ADDSCORES") {
                a.query.addscores = true;
                continue;
            }
        }
        if parse_common(&mut c, &mut a.common)? {
            continue;
        }
        if c.advance_if("LIMIT") {
            let lim = parse_limit(
                &mut c,
                limits.max_aggregate_results,
                limits.max_search_results,
            )?;
            if let Step::Arrange { limit, .. } = arrange(&mut a.steps) {
                *limit = Some(lim);
            }
        } else if c.advance_if("SORTBY") {
            if let Step::Arrange { sort, max, .. } = arrange(&mut a.steps) {
                if !sort.is_empty() {
                    return Err(ArgError::new(
                        "Multiple SORTBY steps are not allowed. Sort multiple fields in a single step",
                    ));
                }
                let (keys, m) = parse_sortby(&mut c)?;
                *sort = keys;
                if m.is_some() {
                    *max = m;
                }
            }
        } else if c.advance_if("WITHCURSOR") {
            a.cursor = Some(parse_cursor(&mut c)?);
        } else if c.advance_if("GROUPBY") {
            query_phase = false;
            a.steps.push(parse_groupby(&mut c)?);
        } else if c.advance_if("APPLY") {
            query_phase = false;
            let raw = lossy(c.get_str().map_err(|e| ArgError::bad("APPLY/FILTER", e))?);
            let expr = parse_expr(raw.as_bytes()).map_err(|e| ArgError::new(e.message))?;
            let alias = if c.advance_if("AS") {
                lossy(
                    c.get_str()
                        .map_err(|_| ArgError::new("AS needs argument"))?,
                )
            } else {
                raw.clone()
            };
            a.steps.push(Step::Apply { expr, raw, alias });
        } else if c.advance_if("FILTER") {
            query_phase = false;
            let raw = lossy(c.get_str().map_err(|e| ArgError::bad("APPLY/FILTER", e))?);
            let expr = parse_expr(raw.as_bytes()).map_err(|e| ArgError::new(e.message))?;
            a.steps.push(Step::Filter { expr, raw });
        } else if c.advance_if("LOAD") {
            query_phase = false;
            a.steps.push(parse_load(&mut c)?);
        } else {
            return Err(unknown_arg(&c));
        }
    }
    Ok(a)
}

/// The arrange step SORTBY / LIMIT apply to: the last one not followed by a GROUPBY, or a
/// new one.
fn arrange(steps: &mut Vec<Step>) -> &mut Step {
    let pos = steps
        .iter()
        .rposition(|s| matches!(s, Step::GroupBy { .. } | Step::Arrange { .. }))
        .filter(|&i| matches!(steps.get(i), Some(Step::Arrange { .. })));
    let idx = match pos {
        Some(i) => i,
        None => {
            steps.push(Step::Arrange {
                sort: Vec::new(),
                max: None,
                limit: None,
            });
            steps.len() - 1
        }
    };
    &mut steps[idx]
}

fn parse_sortby(c: &mut Cursor<'_>) -> Result<(Vec<SortKey>, Option<u64>), ArgError> {
    let list = c.get_var_args().map_err(|e| ArgError::bad("SORTBY", e))?;
    let mut keys: Vec<SortKey> = Vec::new();
    for arg in list {
        if let Some(name) = arg.strip_prefix(b"@") {
            if keys.len() >= MAX_SORT_KEYS {
                return Err(ArgError::new(format!(
                    "Cannot sort by more than {MAX_SORT_KEYS} fields"
                )));
            }
            keys.push(SortKey {
                field: lossy(name),
                descending: false,
            });
            continue;
        }
        let desc = if arg.eq_ignore_ascii_case(b"ASC") {
            false
        } else if arg.eq_ignore_ascii_case(b"DESC") {
            true
        } else {
            return Err(ArgError::new(format!(
                "MISSING ASC or DESC after sort field ({})",
                lossy(arg)
            )));
        };
        match keys.last_mut() {
            Some(k) => k.descending = desc,
            None => {
                return Err(ArgError::new(format!(
                    "MISSING ASC or DESC after sort field ({})",
                    lossy(arg)
                )));
            }
        }
    }
    let max = if c.advance_if("MAX") {
        Some(c.get_u64(0).map_err(|e| ArgError::bad("MAX", e))?)
    } else {
        None
    };
    Ok((keys, max))
}

fn parse_cursor(c: &mut Cursor<'_>) -> Result<CursorArgs, ArgError> {
    let mut ca = CursorArgs::default();
    loop {
        if c.advance_if("COUNT") {
            ca.count = Some(c.get_u64(1).map_err(|e| ArgError::bad("COUNT", e))?);
        } else if c.advance_if("MAXIDLE") {
            ca.max_idle_ms = Some(c.get_u64(1).map_err(|e| ArgError::bad("MAXIDLE", e))?);
        } else {
            return Ok(ca);
        }
    }
}

fn parse_load(c: &mut Cursor<'_>) -> Result<Step, ArgError> {
    if c.peek() == Some(b"*") {
        c.next_arg();
        return Ok(Step::Load(None));
    }
    let list = c.get_var_args().map_err(|e| ArgError::bad("LOAD", e))?;
    let mut lc = Cursor::new(list);
    let mut fields = Vec::new();
    while let Some(p) = lc.next_arg() {
        let path = lossy(p.strip_prefix(b"@").unwrap_or(p));
        let name = if lc.advance_if("AS") {
            lossy(lc.get_str().map_err(|e| ArgError::bad("LOAD", e))?)
        } else {
            path.clone()
        };
        fields.push(LoadField { path, name });
    }
    Ok(Step::Load(Some(fields)))
}

fn parse_groupby(c: &mut Cursor<'_>) -> Result<Step, ArgError> {
    let list = c.get_var_args().map_err(|e| ArgError::bad("GROUPBY", e))?;
    let mut fields = Vec::with_capacity(list.len());
    for f in list {
        match f.strip_prefix(b"@") {
            Some(name) => fields.push(lossy(name)),
            None => {
                let s = lossy(f);
                return Err(ArgError::new(format!(
                    "Bad arguments for GROUPBY: Unknown property `{s}`. Did you mean `@{s}`?"
                )));
            }
        }
    }
    let mut reducers = Vec::new();
    while c.advance_if("REDUCE") {
        let name = lossy(c.get_str().map_err(|e| ArgError::bad("REDUCE", e))?);
        let rargs = c.get_var_args().map_err(|e| ArgError::bad(&name, e))?;
        let func = parse_reducer(&name, rargs)?;
        let alias = if c.advance_if("AS") {
            lossy(c.get_str().map_err(|e| ArgError::bad("AS", e))?)
        } else {
            generated_alias(&name, rargs)
        };
        reducers.push(Reducer { func, alias });
    }
    Ok(Step::GroupBy { fields, reducers })
}

/// RediSearch's `getReducerAlias`: `__generated_alias<fn><arg>,<arg>...`, lowercased, `@`s
/// dropped.
fn generated_alias(name: &str, args: &[&[u8]]) -> String {
    let mut out = format!("__generated_alias{name}");
    let parts: Vec<String> = args
        .iter()
        .map(|a| lossy(a).trim_start_matches('@').to_owned())
        .collect();
    out.push_str(&parts.join(","));
    out.to_lowercase()
}

fn property(reducer: &str, arg: &[u8]) -> Result<String, ArgError> {
    match arg.strip_prefix(b"@") {
        Some(n) => Ok(lossy(n)),
        None => Err(ArgError::new(format!(
            "Missing prefix: name requires '@' prefix, JSON path require '$' prefix, got: {} in {reducer}",
            lossy(arg)
        ))),
    }
}

fn parse_reducer(name: &str, args: &[&[u8]]) -> Result<ReducerFn, ArgError> {
    let upper = name.to_ascii_uppercase();
    let bad = |why: &str| ArgError::new(format!("Bad arguments for {upper}: {why}"));
    let one = |args: &[&[u8]]| -> Result<String, ArgError> {
        match args {
            [a] => property(&upper, a),
            [] => Err(ArgError::new(format!("Missing arguments for {upper}"))),
            _ => Err(bad("Unknown argument")),
        }
    };
    Ok(match upper.as_str() {
        "COUNT" => {
            if !args.is_empty() {
                return Err(ArgError::new("Count accepts 0 values only"));
            }
            ReducerFn::Count
        }
        "COUNT_DISTINCT" => ReducerFn::CountDistinct(one(args)?),
        "COUNT_DISTINCTISH" => ReducerFn::CountDistinctish(one(args)?),
        "SUM" => ReducerFn::Sum(one(args)?),
        "MIN" => ReducerFn::Min(one(args)?),
        "MAX" => ReducerFn::Max(one(args)?),
        "AVG" => ReducerFn::Avg(one(args)?),
        "STDDEV" => ReducerFn::StdDev(one(args)?),
        "TOLIST" => ReducerFn::ToList(one(args)?),
        "QUANTILE" => {
            let [f, q] = args else {
                return Err(bad("QUANTILE requires 2 arguments"));
            };
            let field = property(&upper, f)?;
            let q = lossy(q)
                .parse::<f64>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))
                .ok_or_else(|| ArgError::new("Quantile must be between 0 and 1"))?;
            ReducerFn::Quantile(field, q)
        }
        "RANDOM_SAMPLE" => {
            let [f, n] = args else {
                return Err(bad("RANDOM_SAMPLE requires 2 arguments"));
            };
            let field = property(&upper, f)?;
            let n = lossy(n)
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| ArgError::new("Sample size must be between 1 and 1000"))?;
            ReducerFn::RandomSample(field, n)
        }
        "FIRST_VALUE" => {
            let Some((f, rest)) = args.split_first() else {
                return Err(ArgError::new(format!("Missing arguments for {upper}")));
            };
            let field = property(&upper, f)?;
            let by = match rest {
                [] => None,
                [by, g] | [by, g, _] if by.eq_ignore_ascii_case(b"BY") => {
                    let descending = match rest.get(2) {
                        None => false,
                        Some(d) if d.eq_ignore_ascii_case(b"ASC") => false,
                        Some(d) if d.eq_ignore_ascii_case(b"DESC") => true,
                        Some(d) => return Err(bad(&format!("Unknown argument {}", lossy(d)))),
                    };
                    Some(SortKey {
                        field: property(&upper, g)?,
                        descending,
                    })
                }
                _ => return Err(bad("Unknown argument")),
            };
            ReducerFn::FirstValue { field, by }
        }
        _ => return Err(ArgError::new(format!("No such reducer `{name}`"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn split(s: &str) -> Vec<String> {
        // Arguments are space-separated; `'...'` groups one argument with spaces.
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut quoted = false;
        for ch in s.chars() {
            match ch {
                '\'' if !quoted => quoted = true,
                '\'' if quoted => quoted = false,
                ' ' if !quoted => {
                    if !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                }
                c => cur.push(c),
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    }

    fn p(s: &str) -> Result<AggregateArgs, String> {
        let owned = split(s);
        let args: Vec<&[u8]> = owned.iter().map(|a| a.as_bytes()).collect();
        parse_aggregate_args(&args).map_err(|e| e.message)
    }

    #[test]
    fn full_pipeline() {
        let a = p(
            "VERBATIM LOAD 3 @title AS t GROUPBY 1 @brand REDUCE COUNT 0 AS n \
                   REDUCE SUM 1 @price REDUCE QUANTILE 2 @price 0.5 AS med \
                   APPLY '@n * 2' AS dbl FILTER '@dbl > 2' SORTBY 4 @n DESC @brand ASC MAX 10 \
                   LIMIT 0 5 WITHCURSOR COUNT 100 MAXIDLE 5000 PARAMS 2 x 1 DIALECT 3 TIMEOUT 50",
        )
        .unwrap();
        assert!(a.query.verbatim);
        assert_eq!(a.dialect(), 3);
        assert_eq!(a.common.timeout_ms, Some(50));
        assert_eq!(
            a.cursor,
            Some(CursorArgs {
                count: Some(100),
                max_idle_ms: Some(5000)
            })
        );
        assert_eq!(a.steps.len(), 5);
        assert_eq!(
            a.steps[0],
            Step::Load(Some(vec![LoadField {
                path: "title".into(),
                name: "t".into()
            }]))
        );
        let Step::GroupBy { fields, reducers } = &a.steps[1] else {
            panic!()
        };
        assert_eq!(fields, &vec!["brand".to_string()]);
        assert_eq!(
            reducers[0],
            Reducer {
                func: ReducerFn::Count,
                alias: "n".into()
            }
        );
        assert_eq!(
            reducers[1],
            Reducer {
                func: ReducerFn::Sum("price".into()),
                alias: "__generated_aliassumprice".into()
            }
        );
        assert_eq!(reducers[2].func, ReducerFn::Quantile("price".into(), 0.5));
        let Step::Apply { alias, raw, .. } = &a.steps[2] else {
            panic!()
        };
        assert_eq!((alias.as_str(), raw.as_str()), ("dbl", "@n * 2"));
        assert!(matches!(a.steps[3], Step::Filter { .. }));
        assert_eq!(
            a.steps[4],
            Step::Arrange {
                sort: vec![
                    SortKey {
                        field: "n".into(),
                        descending: true
                    },
                    SortKey {
                        field: "brand".into(),
                        descending: false
                    }
                ],
                max: Some(10),
                limit: Some((0, 5)),
            }
        );
    }

    #[test]
    fn load_star_reducers_and_aliases() {
        let a = p(
            "LOAD * GROUPBY 0 REDUCE COUNT_DISTINCT 1 @u REDUCE FIRST_VALUE 4 @t BY @ts DESC \
                   REDUCE RANDOM_SAMPLE 2 @t 5 REDUCE TOLIST 1 @t REDUCE COUNT 0",
        )
        .unwrap();
        assert_eq!(a.steps[0], Step::Load(None));
        let Step::GroupBy { fields, reducers } = &a.steps[1] else {
            panic!()
        };
        assert!(fields.is_empty());
        assert_eq!(reducers[0].alias, "__generated_aliascount_distinctu");
        assert_eq!(
            reducers[1].func,
            ReducerFn::FirstValue {
                field: "t".into(),
                by: Some(SortKey {
                    field: "ts".into(),
                    descending: true
                })
            }
        );
        assert_eq!(
            reducers[1].alias,
            "__generated_aliasfirst_valuet,by,ts,desc"
        );
        assert_eq!(reducers[2].func, ReducerFn::RandomSample("t".into(), 5));
        assert_eq!(reducers[4].alias, "__generated_aliascount");
        let a = p("APPLY upper(@x)").unwrap();
        let Step::Apply { alias, .. } = &a.steps[0] else {
            panic!()
        };
        assert_eq!(alias, "upper(@x)");
    }

    #[test]
    fn arrange_steps_merge_until_groupby() {
        let a = p("LIMIT 0 10 SORTBY 1 @a").unwrap();
        assert_eq!(a.steps.len(), 1);
        let a = p("SORTBY 1 @a GROUPBY 1 @a SORTBY 1 @b").unwrap();
        assert_eq!(a.steps.len(), 3);
        assert_eq!(
            p("SORTBY 1 @a APPLY 1 SORTBY 1 @b").unwrap_err(),
            "Multiple SORTBY steps are not allowed. Sort multiple fields in a single step"
        );
    }

    #[test]
    fn query_options_only_before_steps() {
        assert!(p("VERBATIM SLOP 1 INKEYS 1 k LOAD 1 @a").is_ok());
        assert_eq!(
            p("LOAD 1 @a VERBATIM").unwrap_err(),
            "Unknown argument `VERBATIM` at position 4 for <main>"
        );
        assert!(
            p("ADDSCORES SORTBY 2 @__score DESC")
                .unwrap()
                .query
                .addscores
        );
    }

    #[test]
    fn errors_use_redisearch_texts() {
        let cases: &[(&str, &str)] = &[
            (
                "GROUPBY 1 brand",
                "Bad arguments for GROUPBY: Unknown property `brand`. Did you mean `@brand`?",
            ),
            (
                "GROUPBY 2 @a",
                "Bad arguments for GROUPBY: Expected an argument, but none provided",
            ),
            ("GROUPBY 1 @a REDUCE NOPE 0", "No such reducer `NOPE`"),
            (
                "GROUPBY 1 @a REDUCE COUNT 1 @x",
                "Count accepts 0 values only",
            ),
            ("GROUPBY 1 @a REDUCE SUM 0", "Missing arguments for SUM"),
            (
                "GROUPBY 1 @a REDUCE SUM 1 x",
                "Missing prefix: name requires '@' prefix, JSON path require '$' prefix, got: x in SUM",
            ),
            (
                "GROUPBY 1 @a REDUCE QUANTILE 2 @x 2",
                "Quantile must be between 0 and 1",
            ),
            (
                "GROUPBY 1 @a REDUCE SUM x",
                "Bad arguments for SUM: Could not convert argument to expected type",
            ),
            (
                "SORTBY 2 @a UP",
                "MISSING ASC or DESC after sort field (UP)",
            ),
            (
                "SORTBY 1 DESC",
                "MISSING ASC or DESC after sort field (DESC)",
            ),
            (
                "SORTBY 1 @a MAX x",
                "Bad arguments for MAX: Could not convert argument to expected type",
            ),
            (
                "APPLY",
                "Bad arguments for APPLY/FILTER: Expected an argument, but none provided",
            ),
            ("APPLY '1 +'", "Syntax error at offset 2 near '1'"),
            ("APPLY 'nofn(1)'", "Unknown function name 'nofn'"),
            ("APPLY 1 AS", "AS needs argument"),
            ("FILTER '@a =='", "Syntax error at offset 3 near 'a'"),
            (
                "LOAD x",
                "Bad arguments for LOAD: Could not convert argument to expected type",
            ),
            (
                "WITHCURSOR COUNT 0",
                "Bad arguments for COUNT: Value is outside acceptable bounds",
            ),
            (
                "LIMIT 0 0 LIMIT 3 0",
                "The `offset` of the LIMIT must be 0 when `num` is 0",
            ),
            ("BOGUS", "Unknown argument `BOGUS` at position 1 for <main>"),
        ];
        for (args, want) in cases {
            assert_eq!(p(args).unwrap_err(), *want, "args {args:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn arbitrary_args_never_panic(words in prop::collection::vec(
            prop::sample::select(vec!["LOAD", "*", "1", "2", "0", "@a", "AS", "x", "GROUPBY",
                "REDUCE", "COUNT", "SUM", "FIRST_VALUE", "BY", "DESC", "QUANTILE", "0.5",
                "APPLY", "@a+1", "FILTER", "SORTBY", "MAX", "LIMIT", "WITHCURSOR", "MAXIDLE",
                "PARAMS", "DIALECT", "VERBATIM"]),
            0..14)) {
            let owned: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
            match parse_aggregate_args(&owned) {
                Ok(a) => {
                    for s in &a.steps {
                        if let Step::Arrange { sort, .. } = s {
                            prop_assert!(sort.len() <= MAX_SORT_KEYS);
                        }
                    }
                }
                Err(e) => prop_assert!(!e.message.is_empty()),
            }
        }
    }
}
