//! Recursive-descent parser of the RediSearch query language (DIALECT 2 grammar of
//! `query_parser/v2/parser.y`), producing a [`QueryNode`] tree.
//!
//! Precedence, loosest first: `|` (union), juxtaposition (intersection), unary `-` / `~`,
//! postfix `=> { attributes }`, then atoms. A field modifier `@f:` scopes the single atom
//! after it (dialect 2), which must be text (terms, phrases, affixes, fuzzy, and groups of
//! those). A vector clause `=>[KNN ...]` may only follow the whole query.
//!
//! Errors follow RediSearch: syntax errors stop at the first token that cannot continue the
//! query; parameter errors are found after a successful parse (RediSearch resolves
//! parameters in a second pass), so a syntax error later in the text wins over a missing
//! parameter earlier. Recursion depth is bounded by [`MAX_DEPTH`], so no input can overflow
//! the stack.

use super::ast::*;
use super::attributes::apply_attributes;
use super::error::{QueryError, QueryErrorKind};
use super::lexer::{Tok, Token, tokenize};
pub use super::stopwords::{DEFAULT_STOPWORDS, Stopwords};
use crate::params::Params;

/// Maximal nesting of parentheses, unary operators and field modifiers.
pub const MAX_DEPTH: usize = 128;

/// Everything parsing depends on besides the text.
#[derive(Debug, Clone, Copy)]
pub struct QueryOptions<'a> {
    pub params: &'a Params,
    /// 1..=4. Dialects 2–4 share the query grammar; dialect 1 is parsed with it too (see
    /// SPEC.md §9.6 for the differences not modelled).
    pub dialect: u32,
    pub stopwords: &'a Stopwords,
}

/// Parses `text` into a query tree. An empty (or all-stopword) query is [`NodeKind::Null`].
pub fn parse_with(text: &[u8], opts: &QueryOptions<'_>) -> Result<QueryNode, QueryError> {
    if !(1..=4).contains(&opts.dialect) {
        return Err(QueryError::new(
            QueryErrorKind::Dialect,
            "DIALECT requires a non negative integer >=1 and <= 4".into(),
            None,
        ));
    }
    let mut p = Parser {
        src: text,
        toks: tokenize(text),
        i: 0,
        opts,
        depth: 0,
        deferred: None,
    };
    let root = p.parse_query()?;
    if let Some(e) = p.deferred {
        return Err(e);
    }
    Ok(root.unwrap_or_else(|| QueryNode::new(NodeKind::Null, 0)))
}

/// Parsing context flags.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    /// Only text constructs allowed (inside `@f:( ... )`).
    text_only: bool,
    /// This atom is the first of the whole query: `=>[KNN` may follow it.
    at_start: bool,
    /// We are the right side of `@f:`; `=>[` ends us without error (the modifier's caller
    /// decides).
    stop_at_vector: bool,
}

const TOP: Ctx = Ctx {
    text_only: false,
    at_start: true,
    stop_at_vector: false,
};

impl Ctx {
    fn inner(self) -> Self {
        Self {
            at_start: false,
            stop_at_vector: false,
            ..self
        }
    }
}

/// A numeric operand of a range or geo filter before resolution.
#[derive(Debug, Clone)]
enum NumArg {
    Lit(f64),
    Param { name: String, pos: usize },
}

struct Parser<'a> {
    src: &'a [u8],
    toks: Vec<Token>,
    i: usize,
    opts: &'a QueryOptions<'a>,
    depth: usize,
    /// The first parameter / validation error, reported if the syntax is valid.
    deferred: Option<QueryError>,
}

type PResult<T> = Result<T, QueryError>;

fn unescape(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if b == b'\\'
            && raw
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_punctuation() || n.is_ascii_whitespace())
        {
            i += 1;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// RediSearch's `ParseDouble`: the whole string must be a number (`inf` allowed).
pub(crate) fn parse_double(s: &str) -> Option<f64> {
    if s.is_empty() || s.starts_with(char::is_whitespace) {
        return None;
    }
    s.parse::<f64>().ok()
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Token {
        // `tokenize` always ends with Eof and `i` never passes it.
        self.toks
            .get(self.i)
            .or(self.toks.last())
            .copied()
            .unwrap_or(Token {
                kind: Tok::Eof,
                pos: 0,
                start: 0,
                end: 0,
                num: 0.0,
                param: false,
            })
    }

    fn peek_at(&self, ahead: usize) -> Tok {
        self.toks.get(self.i + ahead).map_or(Tok::Eof, |t| t.kind)
    }

    fn kind(&self) -> Tok {
        self.peek().kind
    }

    fn advance(&mut self) -> Token {
        let t = self.peek();
        if t.kind != Tok::Eof {
            self.i += 1;
        }
        t
    }

    fn raw(&self, t: &Token) -> &'a [u8] {
        let end = t.end.min(self.src.len());
        self.src.get(t.start.min(end)..end).unwrap_or_default()
    }

    fn text(&self, t: &Token) -> String {
        String::from_utf8_lossy(self.raw(t)).into_owned()
    }

    fn syntax_error(&self, t: &Token) -> QueryError {
        QueryError::new(
            QueryErrorKind::Syntax,
            format!("Syntax error at offset {} near {}", t.pos, self.text(t)),
            Some(t.pos),
        )
    }

    fn syntax_msg(&self, msg: &str, t: &Token) -> QueryError {
        let near = match t.kind {
            Tok::Size | Tok::Number => format!(" near {}", crate::cfmt::fmt_f(t.num)),
            _ => format!(" near {}", self.text(t)),
        };
        QueryError::new(
            QueryErrorKind::Syntax,
            format!("{msg} at offset {}{near}", t.pos),
            Some(t.pos),
        )
    }

    fn expect(&mut self, k: Tok) -> PResult<Token> {
        let t = self.peek();
        if t.kind == k {
            self.advance();
            Ok(t)
        } else {
            Err(self.syntax_error(&t))
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let t = self.peek();
            return Err(QueryError::new(
                QueryErrorKind::Syntax,
                "Parser stack overflow. Try moving nested parentheses more to the left".into(),
                Some(t.pos),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        debug_assert!(self.depth > 0);
        self.depth = self.depth.saturating_sub(1);
    }

    fn defer(&mut self, e: QueryError) {
        if self.deferred.is_none() {
            self.deferred = Some(e);
        }
    }

    /// The value of `$name`, or a deferred "No such parameter" (and an empty value).
    fn param_value(&mut self, name: &str, pos: usize) -> Vec<u8> {
        match self.opts.params.get(name) {
            Some(v) => v.to_vec(),
            None => {
                self.defer(QueryError::new(
                    QueryErrorKind::NoParam,
                    format!("No such parameter `{name}`"),
                    Some(pos),
                ));
                Vec::new()
            }
        }
    }

    fn bad_param_value(&mut self, value: &[u8], name: &str, pos: usize) {
        self.defer(QueryError::new(
            QueryErrorKind::BadParamValue,
            format!(
                "Invalid numeric value ({}) for parameter `{name}`",
                String::from_utf8_lossy(value)
            ),
            Some(pos),
        ));
    }

    // ----- top level -------------------------------------------------------------------

    fn parse_query(&mut self) -> PResult<Option<QueryNode>> {
        if self.kind() == Tok::Eof {
            return Ok(None);
        }
        if let Some(after) = self.star_query_end() {
            let star_pos = self.peek().pos;
            self.i = after;
            return match self.kind() {
                Tok::Eof => Ok(Some(QueryNode::new(NodeKind::Wildcard, star_pos))),
                Tok::Arrow if self.peek_at(1) == Tok::Lsqb => {
                    self.parse_vector(None, star_pos).map(Some)
                }
                _ => Err(self.syntax_error(&self.peek())),
            };
        }
        let first_pos = self.peek().pos;
        let root = self.parse_union(TOP)?;
        match self.kind() {
            Tok::Eof => Ok(root),
            Tok::Arrow if self.peek_at(1) == Tok::Lsqb => {
                let at = root.as_ref().map_or(first_pos, |n| n.offset);
                self.parse_vector(root, at).map(Some)
            }
            _ => Err(self.syntax_error(&self.peek())),
        }
    }

    /// If the query starts with `*` (possibly in balanced parentheses), the token index after it.
    fn star_query_end(&self) -> Option<usize> {
        let mut j = self.i;
        let mut open = 0;
        while self.toks.get(j)?.kind == Tok::Lp {
            open += 1;
            j += 1;
        }
        if self.toks.get(j)?.kind != Tok::Star {
            return None;
        }
        j += 1;
        for _ in 0..open {
            if self.toks.get(j)?.kind != Tok::Rp {
                return None;
            }
            j += 1;
        }
        Some(j)
    }

    // ----- boolean structure -----------------------------------------------------------

    fn parse_union(&mut self, ctx: Ctx) -> PResult<Option<QueryNode>> {
        let mut acc = self.parse_and(ctx)?;
        while self.kind() == Tok::Or {
            self.advance();
            let next = self.parse_and(ctx.inner())?;
            acc = match (acc, next) {
                (None, n) | (n, None) => n,
                (Some(a), Some(b)) => Some(make_union(a, b)),
            };
        }
        Ok(acc)
    }

    fn starts_atom(&self, ctx: Ctx) -> bool {
        match self.kind() {
            Tok::Term
            | Tok::Size
            | Tok::Number
            | Tok::As
            | Tok::Attribute
            | Tok::Prefix
            | Tok::Suffix
            | Tok::Contains
            | Tok::Wildcard
            | Tok::Quote
            | Tok::Lp
            | Tok::Minus
            | Tok::Tilde
            | Tok::Percent => true,
            Tok::Modifier => !ctx.text_only,
            _ => false,
        }
    }

    fn parse_and(&mut self, ctx: Ctx) -> PResult<Option<QueryNode>> {
        let mut acc = self.parse_unary(ctx)?;
        let inner = ctx.inner();
        while self.starts_atom(inner) {
            let next = self.parse_unary(inner)?;
            acc = match (acc, next) {
                (None, n) | (n, None) => n,
                (Some(a), Some(b)) => Some(make_and(a, b)),
            };
        }
        Ok(acc)
    }

    fn parse_unary(&mut self, ctx: Ctx) -> PResult<Option<QueryNode>> {
        match self.kind() {
            k @ (Tok::Minus | Tok::Tilde) => {
                let t = self.advance();
                self.enter()?;
                let inner = self.parse_unary(Ctx {
                    at_start: false,
                    ..ctx
                })?;
                self.leave();
                Ok(inner.map(|c| {
                    let kind = if k == Tok::Minus {
                        NodeKind::Not(Box::new(c))
                    } else {
                        NodeKind::Optional(Box::new(c))
                    };
                    QueryNode::new(kind, t.pos)
                }))
            }
            _ => self.parse_postfix(ctx),
        }
    }

    fn parse_postfix(&mut self, ctx: Ctx) -> PResult<Option<QueryNode>> {
        let mut node = self.parse_atom(ctx)?;
        while self.kind() == Tok::Arrow {
            match self.peek_at(1) {
                Tok::Lsqb => {
                    if ctx.stop_at_vector || (ctx.at_start && !ctx.text_only) {
                        break;
                    }
                    self.advance();
                    return Err(self.syntax_error(&self.peek()));
                }
                Tok::Lb => {
                    self.advance();
                    self.advance();
                    let attrs = self.parse_attribute_list()?;
                    if let Some(n) = node.as_mut() {
                        apply_attributes(n, &attrs)?;
                    }
                }
                _ => {
                    self.advance();
                    return Err(self.syntax_error(&self.peek()));
                }
            }
        }
        Ok(node)
    }

    // ----- atoms -----------------------------------------------------------------------

    fn parse_atom(&mut self, ctx: Ctx) -> PResult<Option<QueryNode>> {
        let t = self.peek();
        match t.kind {
            Tok::Lp => {
                self.advance();
                self.enter()?;
                let inner = self.parse_union(ctx.inner())?;
                self.expect(Tok::Rp)?;
                self.leave();
                Ok(inner)
            }
            Tok::Modifier if !ctx.text_only => self.parse_field(),
            Tok::Quote => self.parse_quoted(),
            Tok::Term | Tok::Size | Tok::Number | Tok::As | Tok::Attribute => {
                self.advance();
                let term = self.param_term(&t);
                if t.kind != Tok::Attribute && self.opts.stopwords.contains(&term.text) {
                    return Ok(None);
                }
                Ok(Some(QueryNode::new(NodeKind::Term(term), t.pos)))
            }
            Tok::Prefix | Tok::Suffix | Tok::Contains => {
                self.advance();
                let term = self.affix_term(&t);
                let kind = match t.kind {
                    Tok::Prefix => NodeKind::Prefix(term),
                    Tok::Suffix => NodeKind::Suffix(term),
                    _ => NodeKind::Infix(term),
                };
                Ok(Some(QueryNode::new(kind, t.pos)))
            }
            Tok::Wildcard => {
                self.advance();
                let pat = self.affix_term(&t).text;
                Ok(Some(QueryNode::new(NodeKind::Pattern(pat), t.pos)))
            }
            Tok::Percent => self.parse_fuzzy().map(Some),
            _ => Err(self.syntax_error(&t)),
        }
    }

    /// A `param_term`: a word, a number used as a word, or `$param`.
    fn param_term(&mut self, t: &Token) -> Term {
        if t.kind == Tok::Attribute {
            let name = self.text(t);
            let v = self.param_value(&name, t.pos);
            let text = String::from_utf8_lossy(&v).into_owned();
            // RediSearch does not expand a parameter whose value is a number.
            let verbatim = parse_double(&text).is_some();
            Term {
                text,
                param: Some(name),
                verbatim,
            }
        } else {
            Term::plain(unescape(self.raw(t)))
        }
    }

    fn affix_term(&mut self, t: &Token) -> Term {
        if t.param {
            let name = self.text(t);
            let v = self.param_value(&name, t.pos);
            Term {
                text: String::from_utf8_lossy(&v).into_owned(),
                param: Some(name),
                verbatim: false,
            }
        } else {
            Term::plain(unescape(self.raw(t)))
        }
    }

    fn is_param_term(k: Tok) -> bool {
        matches!(
            k,
            Tok::Term | Tok::Size | Tok::Number | Tok::As | Tok::Attribute
        )
    }

    fn parse_quoted(&mut self) -> PResult<Option<QueryNode>> {
        let open = self.advance();
        let mut toks = Vec::new();
        while Self::is_param_term(self.kind()) {
            toks.push(self.advance());
        }
        let close = self.expect(Tok::Quote)?;
        match toks.as_slice() {
            [] => Err(self.syntax_error(&close)),
            [t] => {
                // A single quoted word is a verbatim term; `"$x"` is the literal text `$x`.
                let text = if t.kind == Tok::Attribute {
                    format!("${}", self.text(t))
                } else {
                    unescape(self.raw(t))
                };
                let term = Term {
                    text,
                    param: None,
                    verbatim: true,
                };
                Ok(Some(QueryNode::new(NodeKind::Term(term), t.pos)))
            }
            many => {
                let mut children = Vec::with_capacity(many.len());
                for (idx, t) in many.iter().enumerate() {
                    let mut term = self.param_term(t);
                    // RediSearch's termlist rule keeps the first two words unconditionally
                    // and drops later stopwords.
                    if idx >= 2
                        && t.kind != Tok::Attribute
                        && self.opts.stopwords.contains(&term.text)
                    {
                        continue;
                    }
                    term.verbatim = true;
                    children.push(QueryNode::new(NodeKind::Term(term), t.pos));
                }
                Ok(Some(QueryNode::new(NodeKind::Phrase(children), open.pos)))
            }
        }
    }

    fn parse_fuzzy(&mut self) -> PResult<QueryNode> {
        let start = self.peek().pos;
        let mut n = 0u8;
        while self.kind() == Tok::Percent && n < 3 {
            self.advance();
            n += 1;
        }
        let t = self.peek();
        if !Self::is_param_term(t.kind) {
            return Err(self.syntax_error(&t));
        }
        self.advance();
        let term = self.param_term(&t);
        for _ in 0..n {
            self.expect(Tok::Percent)?;
        }
        debug_assert!((1..=3).contains(&n));
        Ok(QueryNode::new(NodeKind::Fuzzy { term, distance: n }, start))
    }

    // ----- field modifiers ---------------------------------------------------------------

    fn parse_field(&mut self) -> PResult<Option<QueryNode>> {
        let m = self.advance();
        self.enter()?;
        let r = self.parse_field_rhs(&m);
        self.leave();
        r
    }

    fn parse_field_rhs(&mut self, m: &Token) -> PResult<Option<QueryNode>> {
        let field = unescape(self.raw(m));
        let mut fields = vec![field.clone()];
        let is_list = self.kind() == Tok::Or;
        while self.kind() == Tok::Or {
            self.advance();
            let t = self.peek();
            if !matches!(t.kind, Tok::Term | Tok::Size | Tok::Number | Tok::As) {
                return Err(self.syntax_error(&t));
            }
            self.advance();
            fields.push(self.text(&t));
        }
        self.expect(Tok::Colon)?;
        match self.kind() {
            Tok::Lb if !is_list => {
                self.advance();
                let values = self.parse_tag_list()?;
                Ok(Some(QueryNode::new(NodeKind::Tag { field, values }, m.pos)))
            }
            Tok::Lsqb if !is_list => {
                self.advance();
                self.parse_range(field, m.pos).map(Some)
            }
            Tok::Lb | Tok::Lsqb => Err(self.syntax_error(&self.peek())),
            _ => {
                let rhs_ctx = Ctx {
                    text_only: true,
                    at_start: false,
                    stop_at_vector: true,
                };
                let mut node = self.parse_unary(rhs_ctx)?;
                if let Some(n) = node.as_mut() {
                    set_fields(n, &fields);
                }
                // `@f:x=>[KNN ...]` is a hybrid query: the modifier's caller decides.
                Ok(node)
            }
        }
    }

    fn parse_tag_list(&mut self) -> PResult<Vec<TagValue>> {
        let mut values = Vec::new();
        loop {
            let t = self.peek();
            match t.kind {
                k if Self::is_param_term(k) => {
                    let mut words = Vec::new();
                    while Self::is_param_term(self.kind()) {
                        let w = self.advance();
                        let text = if w.kind == Tok::Attribute {
                            let name = self.text(&w);
                            String::from_utf8_lossy(&self.param_value(&name, w.pos)).into_owned()
                        } else {
                            unescape(self.raw(&w))
                        };
                        if words.len() >= 2
                            && w.kind != Tok::Attribute
                            && self.opts.stopwords.contains(&text)
                        {
                            continue;
                        }
                        words.push(text);
                    }
                    if words.len() == 1 {
                        values.push(TagValue::Exact(words.pop().unwrap_or_default()));
                    } else {
                        values.push(TagValue::Words(words));
                    }
                }
                Tok::Prefix | Tok::Suffix | Tok::Contains | Tok::Wildcard => {
                    self.advance();
                    let text = self.affix_term(&t).text;
                    values.push(match t.kind {
                        Tok::Prefix => TagValue::Prefix(text),
                        Tok::Suffix => TagValue::Suffix(text),
                        Tok::Contains => TagValue::Infix(text),
                        _ => TagValue::Pattern(text),
                    });
                }
                _ => return Err(self.syntax_error(&t)),
            }
            match self.kind() {
                Tok::Or => {
                    self.advance();
                }
                Tok::Rb => {
                    self.advance();
                    return Ok(values);
                }
                _ => return Err(self.syntax_error(&self.peek())),
            }
        }
    }

    // ----- ranges: numeric, geo, vector range --------------------------------------------

    /// `num ::= SIZE | NUMBER | '-' num`, or `$param`; `(` before it when `exclusive_ok`.
    fn parse_num_arg(&mut self, exclusive_ok: bool) -> PResult<(NumArg, bool)> {
        let mut inclusive = true;
        if exclusive_ok && self.kind() == Tok::Lp {
            self.advance();
            inclusive = false;
        }
        let t = self.peek();
        if t.kind == Tok::Attribute {
            self.advance();
            return Ok((
                NumArg::Param {
                    name: self.text(&t),
                    pos: t.pos,
                },
                inclusive,
            ));
        }
        let mut sign = 1.0;
        while self.kind() == Tok::Minus {
            self.advance();
            sign = -sign;
        }
        let t = self.peek();
        match t.kind {
            Tok::Size | Tok::Number => {
                self.advance();
                Ok((NumArg::Lit(sign * t.num), inclusive))
            }
            _ => Err(self.syntax_error(&t)),
        }
    }

    /// Resolves a numeric operand; `range_bound` lets a parameter value carry its own `(`.
    fn resolve_num(&mut self, a: &NumArg, range_bound: bool) -> (f64, bool) {
        match a {
            NumArg::Lit(v) => (*v, true),
            NumArg::Param { name, pos } => {
                let raw = self.param_value(name, *pos);
                if self.opts.params.get(name).is_none() {
                    return (0.0, true);
                }
                let s = String::from_utf8_lossy(&raw).into_owned();
                let (body, inclusive) = match s.strip_prefix('(') {
                    Some(rest) if range_bound => (rest, false),
                    _ => (s.as_str(), true),
                };
                match parse_double(body) {
                    Some(v) => (v, inclusive),
                    None => {
                        self.bad_param_value(&raw, name, *pos);
                        (0.0, true)
                    }
                }
            }
        }
    }

    fn parse_range(&mut self, field: String, pos: usize) -> PResult<QueryNode> {
        let t = self.peek();
        if t.kind == Tok::Term {
            return self.parse_vector_range(field, pos);
        }
        let (a, a_incl) = self.parse_num_arg(true)?;
        if self.kind() == Tok::Rsqb && a_incl {
            self.advance();
            let (v, _) = self.resolve_num(&a, false);
            let r = NumericRange {
                field,
                min: v,
                max: v,
                min_inclusive: true,
                max_inclusive: true,
            };
            return Ok(QueryNode::new(NodeKind::Numeric(r), pos));
        }
        let (b, b_incl) = self.parse_num_arg(true)?;
        if self.kind() == Tok::Rsqb {
            self.advance();
            let (min, p_min_incl) = self.resolve_num(&a, true);
            let (max, p_max_incl) = self.resolve_num(&b, true);
            let r = NumericRange {
                field,
                min,
                max,
                min_inclusive: a_incl && p_min_incl,
                max_inclusive: b_incl && p_max_incl,
            };
            return Ok(QueryNode::new(NodeKind::Numeric(r), pos));
        }
        if !(a_incl && b_incl) {
            return Err(self.syntax_error(&self.peek()));
        }
        // Geo: lon lat radius unit.
        let (c, _) = self.parse_num_arg(false)?;
        let u = self.peek();
        if !Self::is_param_term(u.kind) {
            return Err(self.syntax_error(&u));
        }
        self.advance();
        self.expect(Tok::Rsqb)?;
        let unit = if u.kind == Tok::Attribute {
            let name = self.text(&u);
            let v = self.param_value(&name, u.pos);
            GeoUnit::parse(&String::from_utf8_lossy(&v))
        } else {
            match GeoUnit::parse(&self.text(&u)) {
                Some(unit) => Some(unit),
                None => {
                    return Err(QueryError::new(
                        QueryErrorKind::Syntax,
                        "Invalid GeoFilter unit".into(),
                        Some(u.pos),
                    ));
                }
            }
        };
        let (lon, _) = self.resolve_num(&a, false);
        let (lat, _) = self.resolve_num(&b, false);
        let (radius, _) = self.resolve_num(&c, false);
        let unit = match unit {
            Some(unit) => unit,
            None => {
                self.defer(QueryError::new(
                    QueryErrorKind::Syntax,
                    "Invalid GeoFilter unit".into(),
                    Some(u.pos),
                ));
                GeoUnit::M
            }
        };
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            self.defer(QueryError::new(
                QueryErrorKind::Syntax,
                "Invalid GeoFilter lat/lon".into(),
                Some(pos),
            ));
        } else if radius.is_nan() || radius <= 0.0 {
            self.defer(QueryError::new(
                QueryErrorKind::Syntax,
                "Invalid GeoFilter radius".into(),
                Some(pos),
            ));
        }
        let g = GeoFilter {
            field,
            lon,
            lat,
            radius,
            unit,
        };
        Ok(QueryNode::new(NodeKind::Geo(g), pos))
    }

    fn parse_vector_range(&mut self, field: String, pos: usize) -> PResult<QueryNode> {
        let cmd = self.advance();
        let (radius_arg, _) = self.parse_num_arg(false)?;
        let blob_tok = self.expect(Tok::Attribute)?;
        if !self.raw(&cmd).eq_ignore_ascii_case(b"VECTOR_RANGE") {
            return Err(self.syntax_msg(
                "Syntax error: expecting vector similarity range command",
                &cmd,
            ));
        }
        self.expect(Tok::Rsqb)?;
        let (radius, _) = self.resolve_num(&radius_arg, false);
        let blob_param = self.text(&blob_tok);
        let blob = self.param_value(&blob_param, blob_tok.pos);
        let vr = VectorRange {
            field,
            radius,
            blob,
            blob_param,
            params: Vec::new(),
            yield_distance_as: None,
        };
        Ok(QueryNode::new(NodeKind::VectorRange(Box::new(vr)), pos))
    }

    // ----- vector KNN ----------------------------------------------------------------------

    fn parse_vector(&mut self, filter: Option<QueryNode>, pos: usize) -> PResult<QueryNode> {
        self.expect(Tok::Arrow)?;
        self.expect(Tok::Lsqb)?;
        let cmd = self.expect(Tok::Term)?;
        let k_tok = self.peek();
        if !matches!(k_tok.kind, Tok::Size | Tok::Attribute) {
            return Err(self.syntax_error(&k_tok));
        }
        self.advance();
        let field_tok = self.expect(Tok::Modifier)?;
        let blob_tok = self.expect(Tok::Attribute)?;
        if !self.raw(&cmd).eq_ignore_ascii_case(b"KNN") {
            return Err(self.syntax_msg("Syntax error: Expecting Vector Similarity command", &cmd));
        }
        let mut params = Vec::new();
        while self.kind() == Tok::Term {
            let name = self.advance();
            let v = self.peek();
            if !Self::is_param_term(v.kind) {
                return Err(self.syntax_error(&v));
            }
            self.advance();
            let value = self.attr_value(&v);
            params.push((self.text(&name), value));
        }
        let field = unescape(self.raw(&field_tok));
        let mut score_field = format!("__{field}_score");
        if self.kind() == Tok::As {
            self.advance();
            let v = self.peek();
            if !Self::is_param_term(v.kind) {
                return Err(self.syntax_error(&v));
            }
            self.advance();
            score_field = self.attr_value(&v);
        }
        self.expect(Tok::Rsqb)?;
        let k = if k_tok.kind == Tok::Size {
            k_tok.num as u64
        } else {
            let name = self.text(&k_tok);
            let raw = self.param_value(&name, k_tok.pos);
            match std::str::from_utf8(&raw)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
            {
                Some(k) => k,
                None => {
                    if self.opts.params.get(&name).is_some() {
                        self.bad_param_value(&raw, &name, k_tok.pos);
                    }
                    0
                }
            }
        };
        let blob_param = self.text(&blob_tok);
        let blob = self.param_value(&blob_param, blob_tok.pos);
        let knn = VectorKnn {
            field,
            k,
            blob,
            blob_param,
            params,
            score_field,
            filter,
        };
        let mut node = QueryNode::new(NodeKind::VectorKnn(Box::new(knn)), pos);
        if self.kind() == Tok::Arrow {
            self.advance();
            self.expect(Tok::Lb)?;
            let attrs = self.parse_attribute_list()?;
            apply_attributes(&mut node, &attrs)?;
        }
        if self.kind() != Tok::Eof {
            return Err(self.syntax_error(&self.peek()));
        }
        Ok(node)
    }

    /// The text of an attribute value token (`$param` resolved at once, as RediSearch does).
    fn attr_value(&mut self, v: &Token) -> String {
        if v.kind == Tok::Attribute {
            let name = self.text(v);
            String::from_utf8_lossy(&self.param_value(&name, v.pos)).into_owned()
        } else {
            self.text(v)
        }
    }

    // ----- attributes --------------------------------------------------------------------

    /// After `=> {`: `$name: value` separated by `;` (empty entries allowed), then `}`.
    fn parse_attribute_list(&mut self) -> PResult<Vec<(String, String, usize)>> {
        let mut out = Vec::new();
        if self.kind() == Tok::Attribute {
            out.push(self.parse_attribute()?);
        }
        while self.kind() == Tok::Semicolon {
            self.advance();
            if self.kind() == Tok::Attribute {
                out.push(self.parse_attribute()?);
            }
        }
        self.expect(Tok::Rb)?;
        // A missing parameter in an attribute is an immediate error in RediSearch.
        if let Some(e) = self.deferred.take() {
            if e.kind == QueryErrorKind::NoParam {
                return Err(e);
            }
            self.deferred = Some(e);
        }
        Ok(out)
    }

    fn parse_attribute(&mut self) -> PResult<(String, String, usize)> {
        let name = self.advance();
        self.expect(Tok::Colon)?;
        let v = self.peek();
        if !Self::is_param_term(v.kind) {
            return Err(self.syntax_error(&v));
        }
        self.advance();
        let value = self.attr_value(&v);
        Ok((self.text(&name), value, name.pos))
    }
}

/// `a | b`, flattening into `a` when it is an unscoped, attribute-free union.
fn make_union(a: QueryNode, b: QueryNode) -> QueryNode {
    let mut u = match a {
        QueryNode {
            kind: NodeKind::Or(_),
            fields: None,
            ref attrs,
            ..
        } if attrs.is_default() => a,
        other => {
            let off = other.offset;
            QueryNode::new(NodeKind::Or(vec![other]), off)
        }
    };
    if let NodeKind::Or(children) = &mut u.kind {
        children.push(b);
        debug_assert!(children.len() >= 2);
        u.fields = union_fields(children);
    }
    u
}

/// The scope of a union: the union of its children's, or all fields if any child is unscoped.
fn union_fields(children: &[QueryNode]) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for c in children {
        let f = c.fields.as_ref()?;
        for name in f {
            if !out.contains(name) {
                out.push(name.clone());
            }
        }
    }
    Some(out)
}

/// `a b`, flattening into `a` when it is an unscoped, attribute-free intersection.
fn make_and(a: QueryNode, b: QueryNode) -> QueryNode {
    let mut n = match a {
        QueryNode {
            kind: NodeKind::And(_),
            fields: None,
            ref attrs,
            ..
        } if attrs.is_default() => a,
        other => {
            let off = other.offset;
            QueryNode::new(NodeKind::And(vec![other]), off)
        }
    };
    if let NodeKind::And(children) = &mut n.kind {
        children.push(b);
        debug_assert!(children.len() >= 2);
    }
    n
}

/// Scopes a text subtree to `fields` (RediSearch's `QueryNode_SetFieldMask`).
fn set_fields(n: &mut QueryNode, fields: &[String]) {
    let mut stack = vec![n];
    while let Some(n) = stack.pop() {
        n.fields = Some(match &n.fields {
            // Intersect an existing scope (cannot happen for text built by the grammar, kept
            // for safety).
            Some(old) => old.iter().filter(|f| fields.contains(f)).cloned().collect(),
            None => fields.to_vec(),
        });
        match &mut n.kind {
            NodeKind::And(c) | NodeKind::Or(c) | NodeKind::Phrase(c) => stack.extend(c.iter_mut()),
            NodeKind::Not(c) | NodeKind::Optional(c) => stack.push(c),
            _ => {}
        }
    }
}

/// Removes query-language escapes (`\` before punctuation or whitespace) from a name.
pub(crate) fn unescape_field(raw: &[u8]) -> String {
    unescape(raw)
}
