//! The Cypher AST produced by [`crate::parse`].
//!
//! Invariants: every `Span` is a byte range `start <= end` into the original
//! query text (prefix included), on `char` boundaries. Identifiers are stored
//! unescaped (back-quotes removed, doubled back-quotes collapsed). Chained
//! comparisons `a < b < c` are already desugared to `a < b AND b < c`.
//! Children are boxed so a lowering pass can move them out cheaply.

/// A byte range into the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end, "span start after end");
        Span { start, end }
    }
}

/// A name with its position (variables, labels, types, keys).
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A whole `GRAPH.QUERY` text: the `CYPHER k=v` parameters and one statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Parameters from the `CYPHER name=value ...` prefix, in text order.
    pub params: Vec<(String, ConstValue)>,
    pub statement: Statement,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Query(RegularQuery),
    Schema(SchemaCommand),
}

/// `single_query (UNION [ALL] single_query)*`.
#[derive(Debug, Clone, PartialEq)]
pub struct RegularQuery {
    pub first: SingleQuery,
    pub unions: Vec<UnionPart>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnionPart {
    pub all: bool,
    pub query: SingleQuery,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SingleQuery {
    pub clauses: Vec<Clause>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    Match(MatchClause),
    Unwind(UnwindClause),
    Create(CreateClause),
    Merge(MergeClause),
    Set(SetClause),
    Remove(RemoveClause),
    Delete(DeleteClause),
    Foreach(ForeachClause),
    With(WithClause),
    Return(ReturnClause),
    Call(CallClause),
}

impl Clause {
    pub fn span(&self) -> Span {
        match self {
            Clause::Match(c) => c.span,
            Clause::Unwind(c) => c.span,
            Clause::Create(c) => c.span,
            Clause::Merge(c) => c.span,
            Clause::Set(c) => c.span,
            Clause::Remove(c) => c.span,
            Clause::Delete(c) => c.span,
            Clause::Foreach(c) => c.span,
            Clause::With(c) => c.span,
            Clause::Return(c) => c.span,
            Clause::Call(c) => c.span,
        }
    }

    /// True for clauses that write (CREATE, MERGE, SET, REMOVE, DELETE, FOREACH).
    pub fn is_update(&self) -> bool {
        matches!(
            self,
            Clause::Create(_)
                | Clause::Merge(_)
                | Clause::Set(_)
                | Clause::Remove(_)
                | Clause::Delete(_)
                | Clause::Foreach(_)
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatchClause {
    pub optional: bool,
    pub pattern: Pattern,
    pub where_: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnwindClause {
    pub expr: Expr,
    pub variable: Ident,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreateClause {
    pub pattern: Pattern,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MergeClause {
    pub part: PatternPart,
    pub on_create: Vec<SetItem>,
    pub on_match: Vec<SetItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SetClause {
    pub items: Vec<SetItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SetItem {
    /// `target.key = value` (target is any expression, usually a variable).
    Property {
        target: Expr,
        key: Ident,
        value: Expr,
        span: Span,
    },
    /// `n = map` (replace all properties).
    Replace {
        variable: Ident,
        value: Expr,
        span: Span,
    },
    /// `n += map` (merge properties).
    Merge {
        variable: Ident,
        value: Expr,
        span: Span,
    },
    /// `n:A:B`.
    Labels {
        variable: Ident,
        labels: Vec<Ident>,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct RemoveClause {
    pub items: Vec<RemoveItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RemoveItem {
    Property {
        target: Expr,
        key: Ident,
        span: Span,
    },
    Labels {
        variable: Ident,
        labels: Vec<Ident>,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeleteClause {
    pub detach: bool,
    pub exprs: Vec<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForeachClause {
    pub variable: Ident,
    pub list: Expr,
    pub clauses: Vec<Clause>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WithClause {
    pub projection: Projection,
    pub where_: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReturnClause {
    pub projection: Projection,
    pub span: Span,
}

/// The shared body of WITH and RETURN.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub distinct: bool,
    /// `*` was given (all variables in scope, before `items`).
    pub star: bool,
    pub items: Vec<ProjectionItem>,
    pub order_by: Vec<SortItem>,
    pub skip: Option<Expr>,
    pub limit: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionItem {
    pub expr: Expr,
    pub alias: Option<Ident>,
    /// Column name: the alias, else the expression text as written.
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortItem {
    pub expr: Expr,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CallClause {
    /// Dotted name as written, e.g. `db.idx.vector.queryNodes`.
    pub procedure: String,
    /// `None` for the standalone form `CALL db.labels` without parentheses.
    pub args: Option<Vec<Expr>>,
    /// `None` when there is no YIELD; `YIELD *` gives `yield_star`.
    pub yields: Option<Vec<YieldItem>>,
    pub yield_star: bool,
    pub where_: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct YieldItem {
    pub field: Ident,
    pub alias: Option<Ident>,
}

impl YieldItem {
    /// The variable the item binds.
    pub fn bound(&self) -> &Ident {
        self.alias.as_ref().unwrap_or(&self.field)
    }
}

// ------------------------------------------------------------------ patterns

#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub parts: Vec<PatternPart>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    Normal,
    Shortest,
    AllShortest,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatternPart {
    /// `p = ...`
    pub variable: Option<Ident>,
    pub kind: PathKind,
    pub element: PatternElement,
    pub span: Span,
}

/// `(a)-[r]->(b)<-[s]-(c)`: a start node and (relationship, node) steps.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternElement {
    pub start: NodePattern,
    pub chain: Vec<(RelPattern, NodePattern)>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodePattern {
    pub variable: Option<Ident>,
    pub labels: Vec<Ident>,
    /// A map literal or a parameter.
    pub properties: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `-[]->`
    Outgoing,
    /// `<-[]-`
    Incoming,
    /// `-[]-` (or `<-[]->`)
    Both,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RelPattern {
    pub variable: Option<Ident>,
    /// `:A|B|:C`; empty means any type.
    pub types: Vec<Ident>,
    pub direction: Direction,
    /// `Some` for variable length (`*`, `*2`, `*..3`, `*2..`, `*1..3`).
    pub length: Option<VarLength>,
    pub properties: Option<Expr>,
    pub span: Span,
}

/// Bounds of a variable-length relationship; `None` means unbounded/default.
/// `*2` is `min = max = Some(2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VarLength {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

// --------------------------------------------------------------- expressions

/// A scalar constant.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(String),
}

/// A constant value of the `CYPHER name=value` prefix.
#[derive(Debug, Clone, PartialEq)]
pub enum ConstValue {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(String),
    List(Vec<ConstValue>),
    Map(Vec<(String, ConstValue)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Minus,
    Plus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    Xor,
    And,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    In,
    StartsWith,
    EndsWith,
    Contains,
    Regex,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantifierKind {
    All,
    Any,
    None,
    Single,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MapProjectionItem {
    /// `.name`
    Property(Ident),
    /// `.*`
    AllProperties,
    /// `key: expr`
    Entry(Ident, Expr),
    /// `v` (shorthand for `v: v`)
    Variable(Ident),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// `$name` or `$0`.
    Parameter(String),
    Variable(String),
    List(Vec<Expr>),
    Map(Vec<(Ident, Expr)>),
    Property(Box<Expr>, Ident),
    /// `l[i]`, `m['k']`.
    Index(Box<Expr>, Box<Expr>),
    /// `l[a..b]`, either bound optional.
    Slice(Box<Expr>, Option<Box<Expr>>, Option<Box<Expr>>),
    /// `n:A:B` as a predicate.
    HasLabels(Box<Expr>, Vec<Ident>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `e IS NULL` (`negated`: `IS NOT NULL`).
    IsNull(Box<Expr>, bool),
    /// `name(args)`; `name` is dotted as written (case preserved).
    Function {
        name: String,
        distinct: bool,
        args: Vec<Expr>,
    },
    CountStar,
    Case {
        operand: Option<Box<Expr>>,
        alternatives: Vec<(Expr, Expr)>,
        default: Option<Box<Expr>>,
    },
    ListComprehension {
        variable: Ident,
        list: Box<Expr>,
        predicate: Option<Box<Expr>>,
        projection: Option<Box<Expr>>,
    },
    PatternComprehension {
        path_variable: Option<Ident>,
        pattern: Box<PatternElement>,
        predicate: Option<Box<Expr>>,
        projection: Box<Expr>,
    },
    Quantifier {
        kind: QuantifierKind,
        variable: Ident,
        list: Box<Expr>,
        predicate: Option<Box<Expr>>,
    },
    Reduce {
        accumulator: Ident,
        init: Box<Expr>,
        variable: Ident,
        list: Box<Expr>,
        expr: Box<Expr>,
    },
    MapProjection {
        variable: Ident,
        items: Vec<MapProjectionItem>,
    },
    /// A pattern used as an expression (`WHERE (a)-->(:B)`).
    Pattern(Box<PatternElement>),
    /// `shortestPath(...)` / `allShortestPaths(...)` in an expression.
    ShortestPath {
        all: bool,
        pattern: Box<PatternElement>,
    },
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }
}

// ------------------------------------------------------------------- schema

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    Range,
    Vector,
    Fulltext,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexEntity {
    Node,
    Relationship,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SchemaCommand {
    CreateIndex(IndexSpec),
    DropIndex(IndexSpec),
}

/// `CREATE [VECTOR|FULLTEXT] INDEX FOR (p:L) ON (p.a, p.b) [OPTIONS {...}]`,
/// `CREATE INDEX FOR ()-[r:T]-() ON (r.p)`, legacy `CREATE INDEX ON :L(a)`.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSpec {
    pub kind: IndexKind,
    pub entity: IndexEntity,
    /// Label or relationship type.
    pub label: Ident,
    pub properties: Vec<Ident>,
    /// `OPTIONS {...}` (constant map), empty when absent.
    pub options: Vec<(String, ConstValue)>,
    pub span: Span,
}
