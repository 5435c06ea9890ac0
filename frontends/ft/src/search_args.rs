//! FT.SEARCH arguments after the query string, parsed into [`SearchArgs`] the way
//! RediSearch's `AREQ_Compile` / `parseQueryArgs` / `handleCommonArgs` do: keywords are
//! case-insensitive and may come in any order; counted lists (`RETURN 2 a b`) are
//! checked; errors carry RediSearch's texts.
//!
//! `LIMIT 0 0` means "count only": no rows, just the total ([`SearchArgs::count_only`]).
//! WITHPAYLOADS / EXPLAINSCORE / EXPANDER / SCORER are parsed; whether they are supported is
//! the executor's decision.

use crate::args::{ArgError, Cursor, lossy};
use crate::params::Params;
use crate::query::ast::GeoUnit;

/// `MAXSEARCHRESULTS` default.
pub const DEFAULT_MAX_SEARCH_RESULTS: u64 = 1_000_000;
/// Highest dialect accepted.
pub const MAX_DIALECT: u32 = 4;

/// Limits from the server configuration that argument checks depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgLimits {
    /// `MAXSEARCHRESULTS` (FT.SEARCH LIMIT num and any OFFSET).
    pub max_search_results: u64,
    /// `MAXAGGREGATERESULTS` (FT.AGGREGATE LIMIT num).
    pub max_aggregate_results: u64,
}

impl Default for ArgLimits {
    fn default() -> Self {
        Self {
            max_search_results: DEFAULT_MAX_SEARCH_RESULTS,
            max_aggregate_results: u64::MAX,
        }
    }
}

/// Query-level options FT.SEARCH and FT.AGGREGATE share.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryFlags {
    pub verbatim: bool,
    pub nostopwords: bool,
    pub inorder: bool,
    pub slop: Option<i64>,
    pub language: Option<String>,
    pub expander: Option<String>,
    pub scorer: Option<String>,
    pub inkeys: Option<Vec<Vec<u8>>>,
    pub infields: Option<Vec<String>>,
    pub payload: Option<Vec<u8>>,
    /// FT.AGGREGATE `ADDSCORES` (RediSearch 2.10).
    pub addscores: bool,
}

/// Options every command accepts (`handleCommonArgs`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommonArgs {
    pub params: Params,
    /// Whether PARAMS was given (an empty set is not allowed, so this is `!params.is_empty()`
    /// in practice; kept explicit for "Multiple PARAMS").
    pub has_params: bool,
    pub dialect: Option<u32>,
    pub timeout_ms: Option<u64>,
}

/// `RETURN n path [AS name]...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnField {
    pub path: String,
    pub name: String,
}

/// `SUMMARIZE ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summarize {
    /// Empty = all returned fields.
    pub fields: Vec<String>,
    pub frags: u64,
    pub len: u64,
    pub separator: String,
}

/// `HIGHLIGHT ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    /// Empty = all returned fields.
    pub fields: Vec<String>,
    pub open_tag: String,
    pub close_tag: String,
}

/// Legacy `FILTER field min max` (`(` exclusive, `-inf`/`+inf`).
#[derive(Debug, Clone, PartialEq)]
pub struct NumericFilterArg {
    pub field: String,
    pub min: f64,
    pub max: f64,
    pub min_inclusive: bool,
    pub max_inclusive: bool,
}

/// Legacy `GEOFILTER field lon lat radius unit`.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoFilterArg {
    pub field: String,
    pub lon: f64,
    pub lat: f64,
    pub radius: f64,
    pub unit: GeoUnit,
}

/// `SORTBY field [ASC|DESC]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortBy {
    pub field: String,
    pub descending: bool,
}

/// Moon's `HYBRID RRF [constant] [WINDOW n]`: fuse the text query's BM25 ranking with the
/// KNN clause's vector ranking by Reciprocal Rank Fusion (a Moon extension; RRF is the only
/// method).
#[derive(Debug, Clone, PartialEq)]
pub struct HybridArg {
    /// The RRF constant `k` in `1 / (k + rank)`; default [`DEFAULT_RRF_CONSTANT`].
    pub constant: f64,
    /// WINDOW: how many candidates each ranking contributes (`None`: the executor's default).
    pub window: Option<u64>,
}

/// The usual RRF constant (Cormack et al., 2009).
pub const DEFAULT_RRF_CONSTANT: f64 = 60.0;

/// Everything FT.SEARCH accepts after the query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchArgs {
    pub query: QueryFlags,
    pub common: CommonArgs,
    pub nocontent: bool,
    pub withscores: bool,
    pub withpayloads: bool,
    pub withsortkeys: bool,
    pub explainscore: bool,
    pub filters: Vec<NumericFilterArg>,
    pub geofilter: Option<GeoFilterArg>,
    /// `Some(vec![])` for `RETURN 0` (same as NOCONTENT).
    pub return_fields: Option<Vec<ReturnField>>,
    pub summarize: Option<Summarize>,
    pub highlight: Option<Highlight>,
    pub sortby: Option<SortBy>,
    /// `WITHCOUNT` (true) / `WITHOUTCOUNT` (false).
    pub withcount: Option<bool>,
    /// `(offset, num)`; default (0, 10).
    pub limit: Option<(u64, u64)>,
    /// `HYBRID RRF ...` (Moon extension).
    pub hybrid: Option<HybridArg>,
}

impl SearchArgs {
    /// `LIMIT 0 0`: reply with the count only.
    pub fn count_only(&self) -> bool {
        matches!(self.limit, Some((_, 0)))
    }

    /// The effective `(offset, num)`.
    pub fn offset_num(&self) -> (u64, u64) {
        self.limit.unwrap_or((0, 10))
    }

    /// The dialect in effect (2 unless DIALECT was given).
    pub fn dialect(&self) -> u32 {
        self.common.dialect.unwrap_or(2)
    }
}

/// RediSearch's languages (`LANGUAGE`): the analyzer's list.
pub use moon_text::REDISEARCH_LANGUAGES as LANGUAGES;

/// The query-level options (`parseQueryArgs`' spec table). Returns whether one was consumed.
pub(crate) fn parse_query_flag(c: &mut Cursor<'_>, q: &mut QueryFlags) -> Result<bool, ArgError> {
    let string = |c: &mut Cursor<'_>, name: &str| -> Result<String, ArgError> {
        c.get_str().map(lossy).map_err(|e| ArgError::bad(name, e))
    };
    let list = |c: &mut Cursor<'_>, name: &str| -> Result<Vec<Vec<u8>>, ArgError> {
        Ok(c.get_var_args()
            .map_err(|e| ArgError::bad(name, e))?
            .iter()
            .map(|a| a.to_vec())
            .collect())
    };
    if c.advance_if("VERBATIM") {
        q.verbatim = true;
    } else if c.advance_if("NOSTOPWORDS") {
        q.nostopwords = true;
    } else if c.advance_if("INORDER") {
        q.inorder = true;
    } else if c.advance_if("SLOP") {
        q.slop = Some(c.get_i64().map_err(|e| ArgError::bad("SLOP", e))?);
    } else if c.advance_if("LANGUAGE") {
        let l = string(c, "LANGUAGE")?;
        if !LANGUAGES.contains(&l.to_ascii_lowercase().as_str()) {
            return Err(ArgError::new(format!("No such language {l}")));
        }
        q.language = Some(l);
    } else if c.advance_if("EXPANDER") {
        q.expander = Some(string(c, "EXPANDER")?);
    } else if c.advance_if("SCORER") {
        q.scorer = Some(string(c, "SCORER")?);
    } else if c.advance_if("INKEYS") {
        q.inkeys = Some(list(c, "INKEYS")?);
    } else if c.advance_if("INFIELDS") {
        q.infields = Some(list(c, "INFIELDS")?.iter().map(|f| lossy(f)).collect());
    } else if c.advance_if("PAYLOAD") {
        q.payload = Some(
            c.get_str()
                .map_err(|e| ArgError::bad("PAYLOAD", e))?
                .to_vec(),
        );
    } else {
        return Ok(false);
    }
    Ok(true)
}

/// `PARAMS`, `DIALECT`, `TIMEOUT` (the stateless common arguments; LIMIT, SORTBY and
/// WITHCURSOR are handled by each command). Returns whether one was consumed.
pub(crate) fn parse_common(c: &mut Cursor<'_>, common: &mut CommonArgs) -> Result<bool, ArgError> {
    if c.advance_if("PARAMS") {
        let args = c.get_var_args().map_err(|e| ArgError::bad("PARAMS", e))?;
        if common.has_params {
            return Err(ArgError::new(
                "Multiple PARAMS are not allowed. Parameters can be defined only once",
            ));
        }
        if args.is_empty() || args.len() % 2 != 0 {
            return Err(ArgError::new(
                "Parameters must be specified in PARAM VALUE pairs",
            ));
        }
        for pair in args.chunks_exact(2) {
            common
                .params
                .insert(&lossy(pair[0]), pair[1])
                .map_err(ArgError::new)?;
        }
        common.has_params = true;
    } else if c.advance_if("DIALECT") {
        if c.is_end() {
            return Err(ArgError::new("Need an argument for DIALECT"));
        }
        match c.get_u64(1) {
            Ok(d) if d <= u64::from(MAX_DIALECT) => common.dialect = u32::try_from(d).ok(),
            _ => {
                return Err(ArgError::new(format!(
                    "DIALECT requires a non negative integer >=1 and <= {MAX_DIALECT}"
                )));
            }
        }
    } else if c.advance_if("TIMEOUT") {
        if c.is_end() {
            return Err(ArgError::new("Need argument for TIMEOUT"));
        }
        common.timeout_ms = Some(
            c.get_u64(0)
                .map_err(|_| ArgError::new("TIMEOUT requires a non negative integer"))?,
        );
    } else {
        return Ok(false);
    }
    Ok(true)
}

/// `LIMIT offset num` with RediSearch's checks; `max_num` is the command's result cap.
pub(crate) fn parse_limit(
    c: &mut Cursor<'_>,
    max_num: u64,
    max_offset: u64,
) -> Result<(u64, u64), ArgError> {
    if c.remaining() < 2 {
        return Err(ArgError::new("LIMIT requires two arguments"));
    }
    let (Ok(offset), Ok(num)) = (c.get_u64(0), c.get_u64(0)) else {
        return Err(ArgError::new("LIMIT needs two numeric arguments"));
    };
    if num == 0 && offset != 0 {
        return Err(ArgError::new(
            "The `offset` of the LIMIT must be 0 when `num` is 0",
        ));
    }
    if num != 0 && num > max_num {
        return Err(ArgError::new(format!("LIMIT exceeds maximum of {max_num}")));
    }
    if offset > max_offset {
        return Err(ArgError::new(format!(
            "OFFSET exceeds maximum of {max_offset}"
        )));
    }
    Ok((offset, num))
}

/// `Unknown argument `X` at position N for <main>` (position counts the query as 0).
pub(crate) fn unknown_arg(c: &Cursor<'_>) -> ArgError {
    let a = c.peek().map(lossy).unwrap_or_default();
    ArgError::new(format!(
        "Unknown argument `{a}` at position {} for <main>",
        c.pos() + 1
    ))
}

/// RediSearch's `parseDoubleRange`: `(` prefix = exclusive; `inf` allowed.
fn parse_range_bound(s: &[u8], is_min: bool) -> Result<(f64, bool), ArgError> {
    let text = lossy(s);
    let (body, inclusive) = match text.strip_prefix('(') {
        Some(r) => (r, false),
        None => (text.as_str(), true),
    };
    crate::query::parse::parse_double(body)
        .map(|v| (v, inclusive))
        .ok_or_else(|| {
            ArgError::new(format!(
                "Bad {} range: {text}",
                if is_min { "lower" } else { "upper" }
            ))
        })
}

fn parse_summarize(c: &mut Cursor<'_>) -> Option<Summarize> {
    let mut s = Summarize {
        fields: Vec::new(),
        frags: 3,
        len: 20,
        separator: "... ".into(),
    };
    loop {
        if c.advance_if("FIELDS") {
            s.fields = c.get_var_args().ok()?.iter().map(|f| lossy(f)).collect();
        } else if c.advance_if("FRAGS") {
            s.frags = c.get_u64(0).ok()?;
        } else if c.advance_if("LEN") {
            s.len = c.get_u64(0).ok()?;
        } else if c.advance_if("SEPARATOR") {
            s.separator = lossy(c.get_str().ok()?);
        } else {
            return Some(s);
        }
    }
}

/// After `HYBRID`: `RRF [constant] [WINDOW n]`. The constant is optional: every other
/// FT.SEARCH option starts with a keyword, so a number after `RRF` can only be it.
fn parse_hybrid(c: &mut Cursor<'_>, max_window: u64) -> Result<HybridArg, ArgError> {
    let method = c.get_str().map_err(|e| ArgError::bad("HYBRID", e))?;
    if !method.eq_ignore_ascii_case(b"RRF") {
        return Err(ArgError::new(format!(
            "Unknown HYBRID method `{}` (only RRF is supported)",
            lossy(method)
        )));
    }
    let mut h = HybridArg {
        constant: DEFAULT_RRF_CONSTANT,
        window: None,
    };
    if let Ok(k) = c.get_f64() {
        if !k.is_finite() || k < 0.0 {
            return Err(ArgError::new(
                "HYBRID RRF constant must be a non-negative number",
            ));
        }
        h.constant = k;
    }
    if c.advance_if("WINDOW") {
        let w = c.get_u64(1).map_err(|e| ArgError::bad("WINDOW", e))?;
        if w > max_window {
            return Err(ArgError::new(format!(
                "WINDOW exceeds maximum of {max_window}"
            )));
        }
        h.window = Some(w);
    }
    Ok(h)
}

fn parse_highlight(c: &mut Cursor<'_>) -> Option<Highlight> {
    let mut h = Highlight {
        fields: Vec::new(),
        open_tag: "<b>".into(),
        close_tag: "</b>".into(),
    };
    loop {
        if c.advance_if("FIELDS") {
            h.fields = c.get_var_args().ok()?.iter().map(|f| lossy(f)).collect();
        } else if c.advance_if("TAGS") {
            h.open_tag = lossy(c.get_str().ok()?);
            h.close_tag = lossy(c.get_str().ok()?);
        } else {
            return Some(h);
        }
    }
}

/// Parses FT.SEARCH's arguments after the query string with default limits.
pub fn parse_search_args(args: &[&[u8]]) -> Result<SearchArgs, ArgError> {
    parse_search_args_with(args, &ArgLimits::default())
}

/// Parses FT.SEARCH's arguments after the query string.
pub fn parse_search_args_with(args: &[&[u8]], limits: &ArgLimits) -> Result<SearchArgs, ArgError> {
    let mut c = Cursor::new(args);
    let mut s = SearchArgs::default();
    while !c.is_end() {
        if parse_query_flag(&mut c, &mut s.query)? || parse_common(&mut c, &mut s.common)? {
            continue;
        }
        if c.advance_if("NOCONTENT") {
            s.nocontent = true;
        } else if c.advance_if("WITHSCORES") {
            s.withscores = true;
        } else if c.advance_if("WITHPAYLOADS") {
            s.withpayloads = true;
        } else if c.advance_if("WITHSORTKEYS") {
            s.withsortkeys = true;
        } else if c.advance_if("EXPLAINSCORE") {
            s.explainscore = true;
        } else if c.advance_if("WITHCOUNT") {
            s.withcount = Some(true);
        } else if c.advance_if("WITHOUTCOUNT") {
            s.withcount = Some(false);
        } else if c.advance_if("RETURN") {
            let list = c.get_var_args().map_err(|e| ArgError::bad("RETURN", e))?;
            s.return_fields = Some(parse_return(list)?);
        } else if c.advance_if("SUMMARIZE") {
            s.summarize = Some(
                parse_summarize(&mut c)
                    .ok_or_else(|| ArgError::new("Bad arguments for SUMMARIZE"))?,
            );
        } else if c.advance_if("HIGHLIGHT") {
            s.highlight = Some(
                parse_highlight(&mut c)
                    .ok_or_else(|| ArgError::new("Bad arguments for HIGHLIGHT"))?,
            );
        } else if c.advance_if("FILTER") {
            if c.remaining() < 3 {
                return Err(ArgError::new("FILTER requires 3 arguments"));
            }
            let field = lossy(c.get_str().map_err(|e| ArgError::bad("FILTER", e))?);
            let (min, min_inclusive) = parse_range_bound(c.get_str().unwrap_or_default(), true)?;
            let (max, max_inclusive) = parse_range_bound(c.get_str().unwrap_or_default(), false)?;
            s.filters.push(NumericFilterArg {
                field,
                min,
                max,
                min_inclusive,
                max_inclusive,
            });
        } else if c.advance_if("GEOFILTER") {
            if c.remaining() < 5 {
                return Err(ArgError::new("GEOFILTER requires 5 arguments"));
            }
            let field = lossy(c.get_str().map_err(|e| ArgError::bad("GEOFILTER", e))?);
            let lon = c
                .get_f64()
                .map_err(|e| ArgError::bad("<geo longitude>", e))?;
            let lat = c
                .get_f64()
                .map_err(|e| ArgError::bad("<geo latitude>", e))?;
            let radius = c.get_f64().map_err(|e| ArgError::bad("<geo radius>", e))?;
            let u = lossy(c.get_str().unwrap_or_default());
            let unit = GeoUnit::parse(&u)
                .ok_or_else(|| ArgError::new(format!("Unknown distance unit {u}")))?;
            s.geofilter = Some(GeoFilterArg {
                field,
                lon,
                lat,
                radius,
                unit,
            });
        } else if c.advance_if("SORTBY") {
            if s.sortby.is_some() {
                return Err(ArgError::new("Multiple SORTBY steps are not allowed"));
            }
            let f = c
                .get_str()
                .map_err(|_| ArgError::new("Bad SORTBY arguments"))?;
            let field = lossy(f.strip_prefix(b"@").unwrap_or(f));
            let descending = if c.advance_if("DESC") {
                true
            } else {
                c.advance_if("ASC");
                false
            };
            s.sortby = Some(SortBy { field, descending });
        } else if c.advance_if("LIMIT") {
            s.limit = Some(parse_limit(
                &mut c,
                limits.max_search_results,
                limits.max_search_results,
            )?);
        } else if c.advance_if("GROUPBY") {
            return Err(ArgError::new(
                "option `GROUPBY` is mutually exclusive with simple (i.e. search) options",
            ));
        } else if c.advance_if("HYBRID") {
            if s.hybrid.is_some() {
                return Err(ArgError::new("Multiple HYBRID options are not allowed"));
            }
            s.hybrid = Some(parse_hybrid(&mut c, limits.max_search_results)?);
        } else {
            return Err(unknown_arg(&c));
        }
    }
    if s.explainscore && !s.withscores {
        return Err(ArgError::new(
            "EXPLAINSCORE must be accompanied with WITHSCORES",
        ));
    }
    if s.hybrid.is_some() {
        // The fused rank is the order and the score: another order or a BM25 breakdown
        // would contradict it.
        if s.sortby.is_some() {
            return Err(ArgError::new(
                "SORTBY is not allowed with HYBRID (results are ordered by fused rank)",
            ));
        }
        if s.explainscore {
            return Err(ArgError::new("EXPLAINSCORE is not supported with HYBRID"));
        }
    }
    Ok(s)
}

fn parse_return(list: &[&[u8]]) -> Result<Vec<ReturnField>, ArgError> {
    let mut c = Cursor::new(list);
    let mut out: Vec<ReturnField> = Vec::new();
    while let Some(p) = c.next_arg() {
        let path = lossy(p);
        let mut name = path.clone();
        if c.advance_if("AS") {
            let a = c.get_str().map_err(|_| {
                ArgError::new("RETURN path AS name - must be accompanied with NAME")
            })?;
            if a.eq_ignore_ascii_case(b"AS") {
                return Err(ArgError::new("Alias for RETURN cannot be `AS`"));
            }
            name = lossy(a);
        }
        // RediSearch keeps one entry per output name.
        if !out.iter().any(|f| f.name == name) {
            out.push(ReturnField { path, name });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Result<SearchArgs, String> {
        let owned: Vec<Vec<u8>> = s
            .split_whitespace()
            .map(|a| a.as_bytes().to_vec())
            .collect();
        let args: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        parse_search_args(&args).map_err(|e| e.message)
    }

    #[test]
    fn flags_case_insensitive() {
        let s = p("nocontent Verbatim NOSTOPWORDS withscores WITHPAYLOADS withsortkeys INORDER EXPLAINSCORE").unwrap();
        assert!(s.nocontent && s.query.verbatim && s.query.nostopwords && s.withscores);
        assert!(s.withpayloads && s.withsortkeys && s.query.inorder && s.explainscore);
    }

    #[test]
    fn valued_options() {
        let s = p(
            "SLOP 2 TIMEOUT 100 LANGUAGE french EXPANDER SYNONYM SCORER BM25 PAYLOAD xyz DIALECT 3",
        )
        .unwrap();
        assert_eq!(s.query.slop, Some(2));
        assert_eq!(s.common.timeout_ms, Some(100));
        assert_eq!(s.query.language.as_deref(), Some("french"));
        assert_eq!(s.query.expander.as_deref(), Some("SYNONYM"));
        assert_eq!(s.query.scorer.as_deref(), Some("BM25"));
        assert_eq!(s.query.payload.as_deref(), Some(&b"xyz"[..]));
        assert_eq!(s.dialect(), 3);
        assert_eq!(p("").unwrap().dialect(), 2);
    }

    #[test]
    fn lists() {
        let s = p("INKEYS 2 k1 k2 INFIELDS 1 title RETURN 6 $.a AS a b AS c").unwrap();
        assert_eq!(s.query.inkeys, Some(vec![b"k1".to_vec(), b"k2".to_vec()]));
        assert_eq!(s.query.infields, Some(vec!["title".to_string()]));
        assert_eq!(
            s.return_fields,
            Some(vec![
                ReturnField {
                    path: "$.a".into(),
                    name: "a".into()
                },
                ReturnField {
                    path: "b".into(),
                    name: "c".into()
                }
            ])
        );
        assert_eq!(p("RETURN 0").unwrap().return_fields, Some(vec![]));
    }

    #[test]
    fn summarize_highlight() {
        let s = p("SUMMARIZE FIELDS 1 body FRAGS 2 LEN 10 SEPARATOR ;; HIGHLIGHT FIELDS 2 a b TAGS <i> </i>").unwrap();
        assert_eq!(
            s.summarize,
            Some(Summarize {
                fields: vec!["body".into()],
                frags: 2,
                len: 10,
                separator: ";;".into()
            })
        );
        assert_eq!(
            s.highlight,
            Some(Highlight {
                fields: vec!["a".into(), "b".into()],
                open_tag: "<i>".into(),
                close_tag: "</i>".into()
            })
        );
        let s = p("SUMMARIZE HIGHLIGHT").unwrap();
        assert_eq!(s.summarize.unwrap().frags, 3);
        assert_eq!(s.highlight.unwrap().open_tag, "<b>");
        assert_eq!(
            p("SUMMARIZE FRAGS x").unwrap_err(),
            "Bad arguments for SUMMARIZE"
        );
        assert_eq!(
            p("HIGHLIGHT TAGS <b>").unwrap_err(),
            "Bad arguments for HIGHLIGHT"
        );
    }

    #[test]
    fn filters_sort_limit_params() {
        let s = p("FILTER price (10 +inf GEOFILTER loc 1.5 2.5 10 km SORTBY @price DESC WITHCOUNT LIMIT 5 20 PARAMS 4 a 1 b 2").unwrap();
        assert_eq!(
            s.filters,
            vec![NumericFilterArg {
                field: "price".into(),
                min: 10.0,
                max: f64::INFINITY,
                min_inclusive: false,
                max_inclusive: true
            }]
        );
        assert_eq!(s.geofilter.as_ref().unwrap().unit, GeoUnit::Km);
        assert_eq!(
            s.sortby,
            Some(SortBy {
                field: "price".into(),
                descending: true
            })
        );
        assert_eq!(s.withcount, Some(true));
        assert_eq!(s.offset_num(), (5, 20));
        assert_eq!(s.common.params.get("b"), Some(&b"2"[..]));
        assert!(p("LIMIT 0 0").unwrap().count_only());
        assert!(!p("LIMIT 0 1").unwrap().count_only());
    }

    #[test]
    fn errors_use_redisearch_texts() {
        let cases: &[(&str, &str)] = &[
            ("LIMIT 1", "LIMIT requires two arguments"),
            ("LIMIT a b", "LIMIT needs two numeric arguments"),
            (
                "LIMIT 5 0",
                "The `offset` of the LIMIT must be 0 when `num` is 0",
            ),
            ("LIMIT 0 1000001", "LIMIT exceeds maximum of 1000000"),
            ("LIMIT 1000001 1", "OFFSET exceeds maximum of 1000000"),
            (
                "SLOP",
                "Bad arguments for SLOP: Expected an argument, but none provided",
            ),
            (
                "SLOP x",
                "Bad arguments for SLOP: Could not convert argument to expected type",
            ),
            (
                "RETURN 3 a",
                "Bad arguments for RETURN: Expected an argument, but none provided",
            ),
            (
                "RETURN x",
                "Bad arguments for RETURN: Could not convert argument to expected type",
            ),
            (
                "RETURN 2 a AS",
                "RETURN path AS name - must be accompanied with NAME",
            ),
            ("RETURN 3 a AS as", "Alias for RETURN cannot be `AS`"),
            (
                "INKEYS -1",
                "Bad arguments for INKEYS: Value is outside acceptable bounds",
            ),
            (
                "PARAMS 1 a",
                "Parameters must be specified in PARAM VALUE pairs",
            ),
            (
                "PARAMS 0",
                "Parameters must be specified in PARAM VALUE pairs",
            ),
            (
                "PARAMS 2 a 1 PARAMS 2 b 1",
                "Multiple PARAMS are not allowed. Parameters can be defined only once",
            ),
            ("PARAMS 4 a 1 a 2", "Duplicate parameter `a`"),
            ("DIALECT", "Need an argument for DIALECT"),
            (
                "DIALECT 5",
                "DIALECT requires a non negative integer >=1 and <= 4",
            ),
            (
                "DIALECT 0",
                "DIALECT requires a non negative integer >=1 and <= 4",
            ),
            ("TIMEOUT", "Need argument for TIMEOUT"),
            ("TIMEOUT -1", "TIMEOUT requires a non negative integer"),
            (
                "EXPLAINSCORE",
                "EXPLAINSCORE must be accompanied with WITHSCORES",
            ),
            ("SORTBY", "Bad SORTBY arguments"),
            ("SORTBY a SORTBY b", "Multiple SORTBY steps are not allowed"),
            ("FILTER a 1", "FILTER requires 3 arguments"),
            ("FILTER a x 2", "Bad lower range: x"),
            ("FILTER a 1 (y", "Bad upper range: (y"),
            ("GEOFILTER g 1 2 3", "GEOFILTER requires 5 arguments"),
            (
                "GEOFILTER g x 2 3 km",
                "Bad arguments for <geo longitude>: Could not convert argument to expected type",
            ),
            ("GEOFILTER g 1 2 3 parsec", "Unknown distance unit parsec"),
            ("LANGUAGE klingon", "No such language klingon"),
            (
                "NOCONTENT BOGUS",
                "Unknown argument `BOGUS` at position 2 for <main>",
            ),
            (
                "GROUPBY 1 @a",
                "option `GROUPBY` is mutually exclusive with simple (i.e. search) options",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(p(args).unwrap_err(), *want, "args {args:?}");
        }
    }

    #[test]
    fn hybrid_options() {
        let h = |s: &str| p(s).unwrap().hybrid.unwrap();
        assert_eq!(
            h("HYBRID RRF"),
            HybridArg {
                constant: 60.0,
                window: None
            }
        );
        assert_eq!(
            h("hybrid rrf 10 window 25"),
            HybridArg {
                constant: 10.0,
                window: Some(25)
            }
        );
        assert_eq!(h("HYBRID RRF 0.5").constant, 0.5);
        assert_eq!(h("HYBRID RRF WINDOW 3").window, Some(3));
        // Anywhere among the other options.
        let s = p("WITHSCORES HYBRID RRF 1 LIMIT 0 5 NOCONTENT").unwrap();
        assert!(s.withscores && s.nocontent);
        assert_eq!(s.offset_num(), (0, 5));
        assert_eq!(s.hybrid.unwrap().constant, 1.0);
        assert_eq!(p("").unwrap().hybrid, None);
    }

    #[test]
    fn hybrid_errors() {
        let cases: &[(&str, &str)] = &[
            (
                "HYBRID",
                "Bad arguments for HYBRID: Expected an argument, but none provided",
            ),
            (
                "HYBRID LINEAR",
                "Unknown HYBRID method `LINEAR` (only RRF is supported)",
            ),
            (
                "HYBRID RRF -1",
                "HYBRID RRF constant must be a non-negative number",
            ),
            (
                "HYBRID RRF inf",
                "HYBRID RRF constant must be a non-negative number",
            ),
            (
                "HYBRID RRF abc",
                "Unknown argument `abc` at position 3 for <main>",
            ),
            (
                "HYBRID RRF WINDOW",
                "Bad arguments for WINDOW: Expected an argument, but none provided",
            ),
            (
                "HYBRID RRF WINDOW 0",
                "Bad arguments for WINDOW: Value is outside acceptable bounds",
            ),
            (
                "HYBRID RRF WINDOW x",
                "Bad arguments for WINDOW: Could not convert argument to expected type",
            ),
            (
                "HYBRID RRF 60 WINDOW 1000001",
                "WINDOW exceeds maximum of 1000000",
            ),
            (
                "HYBRID RRF HYBRID RRF",
                "Multiple HYBRID options are not allowed",
            ),
            (
                "HYBRID RRF SORTBY a",
                "SORTBY is not allowed with HYBRID (results are ordered by fused rank)",
            ),
            (
                "WITHSCORES EXPLAINSCORE HYBRID RRF",
                "EXPLAINSCORE is not supported with HYBRID",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(p(args).unwrap_err(), *want, "args {args:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn arbitrary_args_never_panic(words in prop::collection::vec(
            prop::sample::select(vec!["LIMIT", "0", "10", "-1", "x", "RETURN", "2", "AS", "SUMMARIZE",
                "FIELDS", "HIGHLIGHT", "TAGS", "PARAMS", "SORTBY", "DESC", "FILTER", "(1", "inf",
                "GEOFILTER", "km", "DIALECT", "TIMEOUT", "INKEYS", "SLOP", "WITHSCORES", "EXPLAINSCORE",
                "HYBRID", "RRF", "WINDOW", "0.5"]),
            0..12)) {
            let owned: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
            match parse_search_args(&owned) {
                Ok(s) => prop_assert!(s.offset_num().1 <= DEFAULT_MAX_SEARCH_RESULTS),
                Err(e) => prop_assert!(!e.message.is_empty()),
            }
        }
    }
}
