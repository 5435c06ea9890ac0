//! The query tree `parse_query` produces: one [`QueryNode`] per operator or leaf, each with
//! its field scope, attributes and the byte offset of its first token in the query text.
//!
//! Invariants (upheld by the parser, relied on by the executor and `explain`):
//! - `And` / `Or` have at least two children; `Not` / `Optional` exactly one; a `Phrase`
//!   (exact phrase) has at least two `Term` children.
//! - Parameters are already substituted: no node refers to a `$param` any more (the original
//!   name is kept in [`Term::param`] / [`VectorKnn::blob_param`] for FT.EXPLAIN).
//! - Stopwords are already dropped (a query of only stopwords is [`NodeKind::Null`]).
//! - Term texts are raw: escapes removed, case kept (lowercasing and stemming are the text
//!   analyzer's job; `explain` lowercases as RediSearch prints them).

/// A node of the query tree.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryNode {
    /// What the node matches.
    pub kind: NodeKind,
    /// Text fields the node is restricted to (`@title:hello`, `@a|b:x`); `None` = all fields.
    /// Numeric, geo, tag and vector nodes name their field in the kind instead.
    pub fields: Option<Vec<String>>,
    /// `=> { $weight: ..; $slop: ..; ... }` attributes.
    pub attrs: Attributes,
    /// Byte offset of the node's first token in the query text.
    pub offset: usize,
}

/// The node kinds (RediSearch's `QN_*`).
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// Every child must match (juxtaposition; FT.EXPLAIN `INTERSECT`).
    And(Vec<QueryNode>),
    /// Any child may match (`a | b`; `UNION`).
    Or(Vec<QueryNode>),
    /// Documents not matching the child (`-a`).
    Not(Box<QueryNode>),
    /// The child only adds to the score (`~a`).
    Optional(Box<QueryNode>),
    /// A single term.
    Term(Term),
    /// `"exact phrase"`: the children (all `Term`) in order, adjacent (`EXACT`).
    Phrase(Vec<QueryNode>),
    /// `hel*`.
    Prefix(Term),
    /// `*llo`.
    Suffix(Term),
    /// `*ell*`.
    Infix(Term),
    /// `w'pat?ern*'`: a wildcard pattern (`*` any run, `?` one character).
    Pattern(String),
    /// `%term%` (distance 1), `%%term%%` (2), `%%%term%%%` (3).
    Fuzzy { term: Term, distance: u8 },
    /// `@field:{a | b*}`.
    Tag {
        field: String,
        values: Vec<TagValue>,
    },
    /// `@field:[lo hi]`.
    Numeric(NumericRange),
    /// `@field:[lon lat radius unit]`.
    Geo(GeoFilter),
    /// `...=>[KNN k @field $blob ...]`.
    VectorKnn(Box<VectorKnn>),
    /// `@field:[VECTOR_RANGE radius $blob]`.
    VectorRange(Box<VectorRange>),
    /// `*`: every document.
    Wildcard,
    /// Matches nothing but is not an error (an all-stopword query).
    Null,
}

/// A term as typed (escapes removed, case kept).
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The text, after parameter substitution.
    pub text: String,
    /// The parameter name it came from (`$name` → `Some("name")`).
    pub param: Option<String>,
    /// Not to be expanded (stemmed, synonyms): quoted terms, and parameters whose value is
    /// a number, as RediSearch flags them.
    pub verbatim: bool,
}

impl Term {
    /// A plain (non-parameter, non-verbatim) term.
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            param: None,
            verbatim: false,
        }
    }
}

/// One alternative inside `@tag:{ ... }`. Tag values keep their case.
#[derive(Debug, Clone, PartialEq)]
pub enum TagValue {
    /// `a`, `c\ d` (escapes removed).
    Exact(String),
    /// `pre*`.
    Prefix(String),
    /// `*suf`.
    Suffix(String),
    /// `*mid*`.
    Infix(String),
    /// `w'pat*'`.
    Pattern(String),
    /// `{new york}`: several words; the tag matched is the words joined by one space.
    Words(Vec<String>),
}

/// `@field:[lo hi]`; `(` makes a bound exclusive; `-inf` / `+inf` / `inf` allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct NumericRange {
    pub field: String,
    pub min: f64,
    pub max: f64,
    pub min_inclusive: bool,
    pub max_inclusive: bool,
}

/// Geo distance units (`m`, `km`, `mi`, `ft`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeoUnit {
    M,
    Km,
    Mi,
    Ft,
}

impl GeoUnit {
    /// Parses a unit name, case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "m" => Some(Self::M),
            "km" => Some(Self::Km),
            "mi" => Some(Self::Mi),
            "ft" => Some(Self::Ft),
            _ => None,
        }
    }

    /// The unit's name as RediSearch prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::M => "m",
            Self::Km => "km",
            Self::Mi => "mi",
            Self::Ft => "ft",
        }
    }

    /// Metres per unit.
    pub fn meters(self) -> f64 {
        match self {
            Self::M => 1.0,
            Self::Km => 1000.0,
            Self::Mi => 1609.34,
            Self::Ft => 0.3048,
        }
    }
}

/// `@field:[lon lat radius unit]`.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoFilter {
    pub field: String,
    pub lon: f64,
    pub lat: f64,
    pub radius: f64,
    pub unit: GeoUnit,
}

/// `[KNN k @field $blob [NAME value]... [AS alias]]`, optionally after a filter.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorKnn {
    pub field: String,
    pub k: u64,
    /// The query vector's bytes (the parameter's value).
    pub blob: Vec<u8>,
    /// The parameter the blob came from (printed by FT.EXPLAIN).
    pub blob_param: String,
    /// Extra query-time parameters in order: `EF_RUNTIME`, `EPSILON`, `HYBRID_POLICY`,
    /// `BATCH_SIZE` (names as typed; the vector index validates them).
    pub params: Vec<(String, String)>,
    /// The score field: `AS alias`, `$YIELD_DISTANCE_AS`, or the default `__<field>_score`.
    pub score_field: String,
    /// The hybrid filter (`(filter)=>[KNN ...]`); `None` for `*=>[KNN ...]`.
    pub filter: Option<QueryNode>,
}

/// `@field:[VECTOR_RANGE radius $blob]`.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorRange {
    pub field: String,
    pub radius: f64,
    pub blob: Vec<u8>,
    pub blob_param: String,
    /// `$EPSILON` etc. given as attributes.
    pub params: Vec<(String, String)>,
    /// `$YIELD_DISTANCE_AS: name`.
    pub yield_distance_as: Option<String>,
}

/// Node attributes (`=> { $weight: 2.0; $slop: 1; $inorder: true; $phonetic: false }`).
#[derive(Debug, Clone, PartialEq)]
pub struct Attributes {
    /// Score multiplier, ≥ 0 (default 1).
    pub weight: f64,
    /// Maximal number of intervening terms; `None` = unlimited (RediSearch's -1).
    pub slop: Option<i64>,
    /// Whether the terms must appear in query order (`None` = not specified).
    pub inorder: Option<bool>,
    /// Phonetic matching on/off (`None` = the field's default).
    pub phonetic: Option<bool>,
}

impl Default for Attributes {
    fn default() -> Self {
        Self {
            weight: 1.0,
            slop: None,
            inorder: None,
            phonetic: None,
        }
    }
}

impl Attributes {
    /// True if nothing was set.
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl QueryNode {
    /// A node with no field scope and default attributes.
    pub fn new(kind: NodeKind, offset: usize) -> Self {
        Self {
            kind,
            fields: None,
            attrs: Attributes::default(),
            offset,
        }
    }

    /// The node's children, in order (the hybrid filter counts as the KNN node's child).
    pub fn children(&self) -> Vec<&QueryNode> {
        match &self.kind {
            NodeKind::And(c) | NodeKind::Or(c) | NodeKind::Phrase(c) => c.iter().collect(),
            NodeKind::Not(c) | NodeKind::Optional(c) => vec![c],
            NodeKind::VectorKnn(v) => v.filter.iter().collect(),
            _ => Vec::new(),
        }
    }

    /// Height of the tree (a leaf is 1), computed without recursion so that it is safe on
    /// any tree.
    pub fn depth(&self) -> usize {
        let mut max = 0;
        let mut stack = vec![(self, 1usize)];
        while let Some((n, d)) = stack.pop() {
            max = max.max(d);
            for c in n.children() {
                stack.push((c, d + 1));
            }
        }
        max
    }

    /// True for nodes a field modifier may scope (`@f:<text>`): terms, phrases, affixes,
    /// fuzzy, patterns and their combinations.
    pub fn is_text(&self) -> bool {
        match &self.kind {
            NodeKind::Term(_)
            | NodeKind::Phrase(_)
            | NodeKind::Prefix(_)
            | NodeKind::Suffix(_)
            | NodeKind::Infix(_)
            | NodeKind::Pattern(_)
            | NodeKind::Fuzzy { .. }
            | NodeKind::Null => true,
            NodeKind::And(c) | NodeKind::Or(c) => c.iter().all(QueryNode::is_text),
            NodeKind::Not(c) | NodeKind::Optional(c) => c.is_text(),
            _ => false,
        }
    }
}
