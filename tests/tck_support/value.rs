//! Values as the TCK compares them: the parser of the TCK's expected-value syntax (nodes
//! `(:L {k: v})`, relationships `[:T {k: v}]`, paths `<(..)-[..]->(..)>`, lists, maps,
//! strings, numbers, null, booleans), the decoder of FalkorDB's compact (`--compact`, typed)
//! GRAPH.QUERY values, and the TCK's equality rules.
//!
//! Invariants: parsing and decoding never panic (bad input is an `Err`); integers and floats
//! never compare equal to each other (the TCK distinguishes `1` from `1.0`); floats compare
//! with a relative tolerance of 1e-13, because the server prints doubles with `%.15g`.

use std::collections::BTreeMap;

use crate::common::Reply;

#[derive(Debug, Clone)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Val>),
    Map(BTreeMap<String, Val>),
    Node {
        labels: Vec<String>,
        props: BTreeMap<String, Val>,
    },
    Rel {
        typ: String,
        props: BTreeMap<String, Val>,
    },
    /// Nodes, and the relationships between them with `true` for a left-to-right one.
    Path {
        nodes: Vec<Val>,
        rels: Vec<(Val, bool)>,
    },
    /// Types the TCK subset never expects (points, vectors, temporals): kept as text.
    Other(String),
}

fn float_eq(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let scale = a.abs().max(b.abs());
    scale.is_finite() && (a - b).abs() <= scale * 1e-13
}

fn maps_eq(a: &BTreeMap<String, Val>, b: &BTreeMap<String, Val>, unordered: bool) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| v.eq_tck(w, unordered)))
}

/// Multiset equality under `eq`: every item of `a` is matched to a distinct item of `b`.
pub fn multiset_eq<T>(a: &[T], b: &[T], eq: impl Fn(&T, &T) -> bool) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    'outer: for x in a {
        for (j, y) in b.iter().enumerate() {
            if !used[j] && eq(x, y) {
                used[j] = true;
                continue 'outer;
            }
        }
        return false;
    }
    true
}

impl Val {
    /// The TCK's equality; `unordered` compares lists as multisets (the "ignoring element
    /// order for lists" steps).
    pub fn eq_tck(&self, other: &Val, unordered: bool) -> bool {
        use Val::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => float_eq(*a, *b),
            (Str(a), Str(b)) => a == b,
            (Other(a), Other(b)) => a == b,
            (List(a), List(b)) => {
                if unordered {
                    multiset_eq(a, b, |x, y| x.eq_tck(y, true))
                } else {
                    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_tck(y, false))
                }
            }
            (Map(a), Map(b)) => maps_eq(a, b, unordered),
            (
                Node {
                    labels: la,
                    props: pa,
                },
                Node {
                    labels: lb,
                    props: pb,
                },
            ) => {
                let mut la = la.clone();
                let mut lb = lb.clone();
                la.sort();
                lb.sort();
                la == lb && maps_eq(pa, pb, unordered)
            }
            (Rel { typ: ta, props: pa }, Rel { typ: tb, props: pb }) => {
                ta == tb && maps_eq(pa, pb, unordered)
            }
            (
                Path {
                    nodes: na,
                    rels: ra,
                },
                Path {
                    nodes: nb,
                    rels: rb,
                },
            ) => {
                na.len() == nb.len()
                    && ra.len() == rb.len()
                    && na.iter().zip(nb).all(|(x, y)| x.eq_tck(y, unordered))
                    && ra
                        .iter()
                        .zip(rb)
                        .all(|((x, dx), (y, dy))| dx == dy && x.eq_tck(y, unordered))
            }
            _ => false,
        }
    }

    /// A canonical text (for reports and for hashing property snapshots).
    pub fn show(&self) -> String {
        fn props(p: &BTreeMap<String, Val>) -> String {
            if p.is_empty() {
                String::new()
            } else {
                let inner: Vec<String> = p
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.show()))
                    .collect();
                format!(" {{{}}}", inner.join(", "))
            }
        }
        match self {
            Val::Null => "null".into(),
            Val::Bool(b) => b.to_string(),
            Val::Int(i) => i.to_string(),
            Val::Float(f) => format!("{f:?}"),
            Val::Str(s) => format!("'{s}'"),
            Val::Other(s) => format!("<{s}>"),
            Val::List(l) => format!(
                "[{}]",
                l.iter().map(Val::show).collect::<Vec<_>>().join(", ")
            ),
            Val::Map(m) => format!(
                "{{{}}}",
                m.iter()
                    .map(|(k, v)| format!("{k}: {}", v.show()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Val::Node { labels, props: p } => {
                let mut l = labels.clone();
                l.sort();
                let l: String = l.iter().map(|x| format!(":{x}")).collect();
                format!("({l}{})", props(p))
            }
            Val::Rel { typ, props: p } => format!("[:{typ}{}]", props(p)),
            Val::Path { nodes, rels } => {
                let mut s = String::from("<");
                for (i, n) in nodes.iter().enumerate() {
                    if i > 0
                        && let Some((r, fwd)) = rels.get(i - 1)
                    {
                        if *fwd {
                            s.push_str(&format!("-{}->", r.show()));
                        } else {
                            s.push_str(&format!("<-{}-", r.show()));
                        }
                    }
                    s.push_str(&n.show());
                }
                s.push('>');
                s
            }
        }
    }
}

// ---------------------------------------------------------------- TCK literal parser

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected '{}' at {}", c as char, self.i))
        }
    }
    fn starts(&mut self, t: &str) -> bool {
        self.ws();
        self.s
            .get(self.i..)
            .is_some_and(|r| r.starts_with(t.as_bytes()))
    }
    fn ident(&mut self) -> Result<String, String> {
        self.ws();
        if self.eat(b'`') {
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i] != b'`' {
                self.i += 1;
            }
            let id = String::from_utf8_lossy(&self.s[start..self.i]).to_string();
            self.i += 1;
            return Ok(id);
        }
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
        {
            self.i += 1;
        }
        if start == self.i {
            return Err(format!("expected a name at {}", self.i));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).to_string())
    }

    fn props(&mut self) -> Result<BTreeMap<String, Val>, String> {
        if self.peek() == Some(b'{') {
            match self.value()? {
                Val::Map(m) => Ok(m),
                _ => Err("bad property map".into()),
            }
        } else {
            Ok(BTreeMap::new())
        }
    }

    fn node(&mut self) -> Result<Val, String> {
        self.expect(b'(')?;
        let mut labels = Vec::new();
        while self.eat(b':') {
            labels.push(self.ident()?);
        }
        let props = self.props()?;
        self.expect(b')')?;
        Ok(Val::Node { labels, props })
    }

    fn rel(&mut self) -> Result<Val, String> {
        self.expect(b'[')?;
        self.expect(b':')?;
        let typ = self.ident()?;
        let props = self.props()?;
        self.expect(b']')?;
        Ok(Val::Rel { typ, props })
    }

    fn string(&mut self, q: u8) -> Result<Val, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err("unterminated string".into());
            };
            self.i += 1;
            if c == q {
                break;
            }
            if c == b'\\' {
                let Some(&e) = self.s.get(self.i) else {
                    return Err("unterminated escape".into());
                };
                self.i += 1;
                out.push(match e {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    other => other,
                });
            } else {
                out.push(c);
            }
        }
        Ok(Val::Str(String::from_utf8_lossy(&out).to_string()))
    }

    fn value(&mut self) -> Result<Val, String> {
        match self.peek() {
            None => Err("empty value".into()),
            Some(b'(') => self.node(),
            Some(b'<') => {
                self.i += 1;
                let mut nodes = vec![self.node()?];
                let mut rels = Vec::new();
                while !self.eat(b'>') {
                    if self.eat(b'<') {
                        self.expect(b'-')?;
                        let r = self.rel()?;
                        self.expect(b'-')?;
                        rels.push((r, false));
                    } else {
                        self.expect(b'-')?;
                        let r = self.rel()?;
                        self.expect(b'-')?;
                        self.expect(b'>')?;
                        rels.push((r, true));
                    }
                    nodes.push(self.node()?);
                }
                Ok(Val::Path { nodes, rels })
            }
            Some(b'[') => {
                if self.s.get(self.i + 1) == Some(&b':') {
                    return self.rel();
                }
                self.i += 1;
                let mut items = Vec::new();
                if self.eat(b']') {
                    return Ok(Val::List(items));
                }
                loop {
                    items.push(self.value()?);
                    if self.eat(b']') {
                        return Ok(Val::List(items));
                    }
                    self.expect(b',')?;
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut m = BTreeMap::new();
                if self.eat(b'}') {
                    return Ok(Val::Map(m));
                }
                loop {
                    let k = self.ident()?;
                    self.expect(b':')?;
                    let v = self.value()?;
                    m.insert(k, v);
                    if self.eat(b'}') {
                        return Ok(Val::Map(m));
                    }
                    self.expect(b',')?;
                }
            }
            Some(q @ (b'\'' | b'"')) => self.string(q),
            Some(_) => {
                for (word, v) in [
                    ("null", Val::Null),
                    ("true", Val::Bool(true)),
                    ("false", Val::Bool(false)),
                    ("NaN", Val::Float(f64::NAN)),
                    ("Infinity", Val::Float(f64::INFINITY)),
                    ("-Infinity", Val::Float(f64::NEG_INFINITY)),
                ] {
                    if self.starts(word) {
                        self.i += word.len();
                        return Ok(v);
                    }
                }
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
                    )
                {
                    self.i += 1;
                }
                let t = String::from_utf8_lossy(&self.s[start..self.i]).to_string();
                if t.contains(['.', 'e', 'E']) {
                    t.parse()
                        .map(Val::Float)
                        .map_err(|_| format!("bad float {t}"))
                } else {
                    t.parse()
                        .map(Val::Int)
                        .map_err(|_| format!("bad value at {start}: {t:?}"))
                }
            }
        }
    }
}

/// Parses one TCK table cell.
pub fn parse_tck(text: &str) -> Result<Val, String> {
    let mut p = P {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("trailing text in {text:?}"));
    }
    Ok(v)
}

// ---------------------------------------------------------------- compact decoder

/// Names of label / relationship-type / property-key ids (positions in `db.labels()` etc.).
#[derive(Debug, Default, Clone)]
pub struct Schema {
    pub labels: Vec<String>,
    pub types: Vec<String>,
    pub keys: Vec<String>,
}

fn name(list: &[String], r: &Reply) -> Result<String, String> {
    match r {
        Reply::Int(i) => usize::try_from(*i)
            .ok()
            .and_then(|i| list.get(i))
            .cloned()
            .ok_or_else(|| format!("unknown schema id {i}")),
        other => Err(format!("schema id is not an integer: {other:?}")),
    }
}

fn text(r: &Reply) -> Result<String, String> {
    match r {
        Reply::Bulk(b) => Ok(String::from_utf8_lossy(b).to_string()),
        Reply::Simple(s) => Ok(s.clone()),
        other => Err(format!("expected a string, got {other:?}")),
    }
}

fn arr(r: &Reply) -> Result<&[Reply], String> {
    match r {
        Reply::Array(a) => Ok(a),
        other => Err(format!("expected an array, got {other:?}")),
    }
}

fn entity_props(schema: &Schema, r: &Reply) -> Result<BTreeMap<String, Val>, String> {
    let mut m = BTreeMap::new();
    for p in arr(r)? {
        let [k, t, v] = arr(p)? else {
            return Err("property is not [key, type, value]".into());
        };
        m.insert(name(&schema.keys, k)?, decode_typed(schema, t, v)?);
    }
    Ok(m)
}

/// True when the compact value contains a node, edge or path (so ids need names).
pub fn needs_schema(r: &Reply) -> bool {
    match r {
        Reply::Array(a) => {
            if let [Reply::Int(7..=9), _] = a.as_slice() {
                return true;
            }
            a.iter().any(needs_schema)
        }
        _ => false,
    }
}

/// Decodes `[type, value]`; returns the entity id alongside nodes and edges for paths.
fn decode_typed(schema: &Schema, t: &Reply, v: &Reply) -> Result<Val, String> {
    let Reply::Int(t) = t else {
        return Err(format!("value type is not an integer: {t:?}"));
    };
    Ok(match t {
        1 => Val::Null,
        2 => Val::Str(text(v)?),
        3 => match v {
            Reply::Int(i) => Val::Int(*i),
            other => return Err(format!("integer value {other:?}")),
        },
        4 => Val::Bool(text(v)? == "true"),
        5 => Val::Float(parse_double(&text(v)?)?),
        6 => Val::List(
            arr(v)?
                .iter()
                .map(|x| decode(schema, x))
                .collect::<Result<_, _>>()?,
        ),
        7 => decode_edge(schema, v)?.1,
        8 => decode_node(schema, v)?.1,
        9 => {
            let [ns, es] = arr(v)? else {
                return Err("path is not [nodes, edges]".into());
            };
            let nodes: Vec<(i64, Val)> = arr(arr(ns)?.get(1).ok_or("path nodes")?)?
                .iter()
                .map(|n| match arr(n)? {
                    [_, nv] => decode_node(schema, nv),
                    _ => Err("path node".into()),
                })
                .collect::<Result<_, String>>()?;
            let edges: Vec<(i64, i64, Val)> = arr(arr(es)?.get(1).ok_or("path edges")?)?
                .iter()
                .map(|e| match arr(e)? {
                    [_, ev] => {
                        let src = match arr(ev)?.get(2) {
                            Some(Reply::Int(s)) => *s,
                            _ => return Err("edge src".into()),
                        };
                        let (_, val) = decode_edge(schema, ev)?;
                        Ok((src, 0, val))
                    }
                    _ => Err("path edge".into()),
                })
                .collect::<Result<_, String>>()?;
            let rels = edges
                .into_iter()
                .enumerate()
                .map(|(i, (src, _, val))| {
                    let fwd = nodes.get(i).is_some_and(|(id, _)| *id == src);
                    (val, fwd)
                })
                .collect();
            Val::Path {
                nodes: nodes.into_iter().map(|(_, n)| n).collect(),
                rels,
            }
        }
        10 => {
            let items = arr(v)?;
            let mut m = BTreeMap::new();
            for pair in items.chunks(2) {
                let [k, tv] = pair else {
                    return Err("odd map".into());
                };
                m.insert(text(k)?, decode(schema, tv)?);
            }
            Val::Map(m)
        }
        13..=16 => match v {
            Reply::Int(secs) => Val::Str(temporal_text(*t, *secs)),
            other => return Err(format!("temporal value {other:?}")),
        },
        other => Val::Other(format!("type {other}: {v:?}")),
    })
}

/// Days since 1970-01-01 -> (year, month, day) (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `HH:MM` or `HH:MM:SS` (the TCK omits zero seconds).
fn clock(tod: i64) -> String {
    let (h, m, s) = (tod / 3600, tod / 60 % 60, tod % 60);
    if s == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// The TCK writes temporal values as their ISO text in quotes (`'1910-05-06'`, `'PT6M'`);
/// the compact format carries whole seconds (datetime/date: since the epoch; time: since
/// 1900-01-01; duration: length), so sub-second parts and time zones are not recoverable.
fn temporal_text(kind: i64, secs: i64) -> String {
    let date = |secs: i64| {
        let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
        format!("{y:04}-{m:02}-{d:02}")
    };
    match kind {
        13 => format!("{}T{}", date(secs), clock(secs.rem_euclid(86_400))),
        14 => date(secs),
        15 => clock(secs.rem_euclid(86_400)),
        _ => {
            if secs == 0 {
                return "PT0S".into();
            }
            let sign = if secs < 0 { "-" } else { "" };
            let a = secs.unsigned_abs();
            let (d, h, m, s) = (a / 86_400, a / 3600 % 24, a / 60 % 60, a % 60);
            let mut out = String::from("P");
            if d > 0 {
                out.push_str(&format!("{sign}{d}D"));
            }
            if h + m + s > 0 {
                out.push('T');
                for (n, u) in [(h, 'H'), (m, 'M'), (s, 'S')] {
                    if n > 0 {
                        out.push_str(&format!("{sign}{n}{u}"));
                    }
                }
            }
            out
        }
    }
}

fn decode_node(schema: &Schema, v: &Reply) -> Result<(i64, Val), String> {
    let [Reply::Int(id), labels, props] = arr(v)? else {
        return Err("node is not [id, labels, props]".into());
    };
    let labels = arr(labels)?
        .iter()
        .map(|l| name(&schema.labels, l))
        .collect::<Result<_, _>>()?;
    Ok((
        *id,
        Val::Node {
            labels,
            props: entity_props(schema, props)?,
        },
    ))
}

fn decode_edge(schema: &Schema, v: &Reply) -> Result<(i64, Val), String> {
    let [Reply::Int(id), typ, _src, _dst, props] = arr(v)? else {
        return Err("edge is not [id, type, src, dst, props]".into());
    };
    Ok((
        *id,
        Val::Rel {
            typ: name(&schema.types, typ)?,
            props: entity_props(schema, props)?,
        },
    ))
}

/// `%.15g` text of a double, including `inf`, `-inf`, `nan`, `-nan`.
fn parse_double(s: &str) -> Result<f64, String> {
    match s.trim_start_matches('-') {
        "nan" | "NaN" => Ok(f64::NAN),
        "inf" | "Infinity" => Ok(if s.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }),
        _ => s.parse().map_err(|_| format!("bad double {s:?}")),
    }
}

/// Decodes one compact `[type, value]` cell.
pub fn decode(schema: &Schema, cell: &Reply) -> Result<Val, String> {
    match arr(cell)? {
        [t, v] => decode_typed(schema, t, v),
        _ => Err(format!("cell is not [type, value]: {cell:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tck_values() {
        let v = parse_tck("<(:A {name: 'a'})-[:T]->(:B)<-[:S {w: 1.5}]-()>").unwrap();
        assert_eq!(v.show(), "<(:A {name: 'a'})-[:T]->(:B)<-[:S {w: 1.5}]-()>");
        let l = parse_tck("[1, -2.0, 'x\\'y', null, {a: [true]}, [:R], NaN, 1e3]").unwrap();
        assert_eq!(
            l.show(),
            "[1, -2.0, 'x'y', null, {a: [true]}, [:R], NaN, 1000.0]"
        );
        assert!(parse_tck("[1, 2").is_err());
        assert!(parse_tck("(:A").is_err());
        assert!(parse_tck("1 2").is_err());
    }

    #[test]
    fn equality_rules() {
        let a = parse_tck("[1, 2]").unwrap();
        let b = parse_tck("[2, 1]").unwrap();
        assert!(!a.eq_tck(&b, false));
        assert!(a.eq_tck(&b, true));
        assert!(
            !parse_tck("1")
                .unwrap()
                .eq_tck(&parse_tck("1.0").unwrap(), false)
        );
        assert!(
            parse_tck("0.30000000000000004")
                .unwrap()
                .eq_tck(&Val::Float(0.3), false)
        );
        assert!(
            parse_tck("(:A:B {x: 1})")
                .unwrap()
                .eq_tck(&parse_tck("(:B:A {x: 1})").unwrap(), false)
        );
    }

    #[test]
    fn temporals_as_tck_text() {
        assert_eq!(temporal_text(14, 341_193_600), "1980-10-24");
        assert_eq!(temporal_text(14, -1_882_656_000), "1910-05-06");
        assert_eq!(temporal_text(15, -2_208_951_570), "10:20:30");
        assert_eq!(temporal_text(13, 1_705_314_030), "2024-01-15T10:20:30");
        assert_eq!(temporal_text(16, 93_600), "P1DT2H");
        assert_eq!(temporal_text(16, 360), "PT6M");
    }

    #[test]
    fn decodes_compact() {
        let schema = Schema {
            labels: vec!["A".into()],
            types: vec!["T".into()],
            keys: vec!["x".into()],
        };
        let node = |id| {
            Reply::Array(vec![
                Reply::Int(8),
                Reply::Array(vec![
                    Reply::Int(id),
                    Reply::Array(vec![Reply::Int(0)]),
                    Reply::Array(vec![Reply::Array(vec![
                        Reply::Int(0),
                        Reply::Int(5),
                        Reply::bulk("1.5"),
                    ])]),
                ]),
            ])
        };
        let edge = Reply::Array(vec![
            Reply::Int(7),
            Reply::Array(vec![
                Reply::Int(0),
                Reply::Int(0),
                Reply::Int(1),
                Reply::Int(0),
                Reply::Array(vec![]),
            ]),
        ]);
        let path = Reply::Array(vec![
            Reply::Int(9),
            Reply::Array(vec![
                Reply::Array(vec![Reply::Int(6), Reply::Array(vec![node(0), node(1)])]),
                Reply::Array(vec![Reply::Int(6), Reply::Array(vec![edge])]),
            ]),
        ]);
        assert!(needs_schema(&path));
        let v = decode(&schema, &path).unwrap();
        assert_eq!(v.show(), "<(:A {x: 1.5})<-[:T]-(:A {x: 1.5})>");
        assert!(decode(&schema, &Reply::Int(3)).is_err());
    }
}
