//! The graph query plan IR: the contract between a query front-end (`moon-cypher`'s `lower`)
//! and the executor (`crate::exec`).
//!
//! A [`Plan`] is a linear pipeline of [`Op`]s over rows of `slots` variable slots. Execution
//! starts from ONE empty row (the implicit `Argument`/unit row); each op maps the current batch
//! of rows to a new batch. Variables are resolved to slot numbers by the front-end; every slot
//! is `< Plan::slots`. Rows keep every slot for their whole life (a `WITH` hides names at lower
//! time, not slots at run time), so `ORDER BY` after a projection can still read pre-projection
//! variables. Property keys, labels and relationship types are carried by NAME and resolved
//! against the schema at run time, because a name may not exist yet when the query is planned
//! (or may be created by an earlier clause of the same query).

use std::sync::Arc;

use crate::ids::Direction;
use crate::value::Value;

/// Index of a variable slot in a row.
pub type Slot = usize;

/// A compiled query.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub ops: Vec<Op>,
    /// Number of slots in a row.
    pub slots: usize,
    /// Output columns (name as returned, slot). Empty for a query without `RETURN`.
    pub columns: Vec<(String, Slot)>,
    /// User variable names of slots (for GRAPH.EXPLAIN only; execution ignores it). A slot
    /// absent here is anonymous.
    pub names: Vec<(Slot, String)>,
}

/// One pipeline operator.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// For each row, one row per node.
    AllNodesScan { slot: Slot },
    /// For each row, one row per node with `label` (none if the label does not exist).
    LabelScan { slot: Slot, label: Arc<str> },
    /// For each row, the nodes with `label` whose `prop` equals `value` (via a range index if
    /// one exists, else a label scan + equality filter).
    IndexSeek {
        slot: Slot,
        label: Arc<str>,
        prop: Arc<str>,
        value: Expr,
    },
    /// For each row, the nodes with `label` for which `n.prop <cmp> value` is true; `cmp` is
    /// one of `Eq`, `Lt`, `Le`, `Gt`, `Ge`, `In`. Uses a range index when one exists at run
    /// time (else a label scan); every candidate is re-checked with the comparison itself, and
    /// nodes come out in id order either way.
    IndexScan {
        slot: Slot,
        label: Arc<str>,
        prop: Arc<str>,
        cmp: BinOp,
        value: Expr,
    },
    /// Fixed-length expansion from the node in `from` over `types` (empty = any) in `dir`.
    /// When `to_bound` the node in `to` is already bound and only edges reaching it match
    /// ("expand into"); otherwise `to` receives the neighbour. A null `from` yields nothing.
    Expand {
        from: Slot,
        rel_slot: Slot,
        to: Slot,
        to_bound: bool,
        types: Vec<Arc<str>>,
        dir: Direction,
    },
    /// Variable-length expansion: every path of `min..=max` hops (`max` None = unbounded) from
    /// `from` that uses no relationship twice; `rel_slot` receives the list of relationships
    /// (empty for a zero-length match, where `to` = `from`).
    VarExpand {
        from: Slot,
        rel_slot: Slot,
        to: Slot,
        to_bound: bool,
        types: Vec<Arc<str>>,
        dir: Direction,
        min: u64,
        max: Option<u64>,
    },
    /// Keeps rows where the predicate is true (null and false drop the row).
    Filter(Expr),
    /// Drops rows in which two of these relationship slots hold the same relationship
    /// (openCypher relationship uniqueness within one MATCH); list slots (variable-length
    /// hops) count each of their relationships.
    RelsUnique(Vec<Slot>),
    /// Evaluates each expression and stores it in its slot (in order; later items see earlier
    /// ones).
    Project(Vec<(Slot, Expr)>),
    /// Groups rows by `keys` (Equiv semantics) and writes each aggregate into its slot. The
    /// output row of a group is its first input row with the aggregate slots filled, so
    /// expressions over the grouping keys still evaluate. With no keys and no input, one row of
    /// nulls with the empty aggregates is produced.
    Aggregate {
        keys: Vec<Expr>,
        aggs: Vec<(Slot, AggCall)>,
    },
    /// Stable sort by the keys (openCypher orderability).
    Sort(Vec<(Expr, bool)>),
    /// Skips the first n rows (the expression is evaluated once, on an empty row).
    Skip(Expr),
    /// Keeps the first n rows.
    Limit(Expr),
    /// Keeps the first row of each distinct combination of these slots.
    Distinct(Vec<Slot>),
    /// For each row and each element of the list, a row with the element in `slot` (null:
    /// no rows; a non-list: one row with the value).
    Unwind { expr: Expr, slot: Slot },
    /// Runs `ops` on each row alone; if they produce no row, emits the row with `new_slots`
    /// set to null (OPTIONAL MATCH).
    Optional { ops: Vec<Op>, new_slots: Vec<Slot> },
    /// Runs each branch on the input rows and concatenates the results (UNION ALL; UNION adds
    /// a `Distinct` after it). Each branch ends by projecting into the shared column slots.
    Union(Vec<Vec<Op>>),
    /// Creates the nodes then the relationships, for each row.
    Create {
        nodes: Vec<CreateNode>,
        rels: Vec<CreateRel>,
    },
    /// Sets `target.key = value` for each row (null removes; a null target is skipped).
    SetProps(Vec<SetProp>),
    /// `SET target = map` (`replace`) or `SET target += map`; a null map with `replace` clears.
    SetMap {
        target: Expr,
        value: Expr,
        replace: bool,
    },
    /// `SET n:A:B` / `REMOVE n:A:B` (`remove`) on the node in `target`.
    SetLabels {
        target: Expr,
        labels: Vec<Arc<str>>,
        remove: bool,
    },
    /// Deletes the nodes/relationships (or lists/paths of them) each expression yields.
    Delete { exprs: Vec<Expr>, detach: bool },
    /// `MERGE`: for each row, runs `pattern` on the row alone; if it yields rows, runs
    /// `on_match` on them, else creates `nodes` then `rels` into the row (a null property value
    /// is an error) and runs `on_create` on it. Rows are handled one at a time against the live
    /// graph, so a later row matches what an earlier row created.
    Merge {
        pattern: Vec<Op>,
        nodes: Vec<CreateNode>,
        rels: Vec<CreateRel>,
        on_match: Vec<Op>,
        on_create: Vec<Op>,
    },
    /// `FOREACH (x IN list | updates)`: for each row and each element (in `slot`), runs `body`
    /// on a copy of the row; the input rows pass through unchanged.
    Foreach {
        slot: Slot,
        list: Expr,
        body: Vec<Op>,
    },
    /// `CALL proc(args) YIELD ...`: for each row, one row per procedure output record, each
    /// yielded output column (by procedure column name) stored in its slot.
    Call {
        /// Lowercased dotted name.
        name: String,
        args: Vec<Expr>,
        yields: Vec<(String, Slot)>,
    },
    /// Keeps, for each row, the shortest paths from `from` to `to` (both bound) over `types` in
    /// `dir` within `min..=max` hops, binding the path into `path` (`all`: every shortest
    /// path, else one). Nodes are not revisited; no row when unreachable.
    ShortestPath {
        from: Slot,
        to: Slot,
        path: Slot,
        rel_slot: Slot,
        types: Vec<Arc<str>>,
        dir: Direction,
        min: u64,
        max: Option<u64>,
        all: bool,
    },
    /// `CREATE INDEX` / `DROP INDEX` (`drop`) on `(label, props)`; `rel` = relationship index.
    IndexDdl {
        label: Arc<str>,
        props: Vec<Arc<str>>,
        rel: bool,
        drop: bool,
    },
    /// `CREATE VECTOR INDEX ... OPTIONS {...}` (`options` is `Some`) or `DROP VECTOR INDEX`
    /// (`None`) on `(label, prop)`; `rel` = relationship index.
    VectorIndexDdl {
        label: Arc<str>,
        prop: Arc<str>,
        rel: bool,
        options: Option<crate::VectorOptions>,
    },
}

/// A node to create into `slot`.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateNode {
    pub slot: Slot,
    pub labels: Vec<Arc<str>>,
    pub props: Vec<(Arc<str>, Expr)>,
}

/// A relationship to create into `slot` from the node in `src` to the node in `dst`.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateRel {
    pub slot: Slot,
    pub src: Slot,
    pub dst: Slot,
    pub rel_type: Arc<str>,
    pub props: Vec<(Arc<str>, Expr)>,
}

/// `target.key = value`.
#[derive(Clone, Debug, PartialEq)]
pub struct SetProp {
    pub target: Expr,
    pub key: Arc<str>,
    pub value: Expr,
}

/// Aggregate functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggFunc {
    CountStar,
    Count,
    Sum,
    Avg,
    Min,
    Max,
    Collect,
    /// Sample standard deviation (`stDev`); 0 for fewer than two values.
    StDev,
    /// Population standard deviation (`stDevP`).
    StDevP,
    /// `percentileCont(v, p)`: linear interpolation between the two nearest values. The call's
    /// `arg` evaluates to the list `[v, p]` (the percentile is read from the first row).
    PercentileCont,
    /// `percentileDisc(v, p)`: the nearest value at or above rank `p` (argument as above).
    PercentileDisc,
}

/// One aggregate call; `arg` is `None` only for `CountStar`.
#[derive(Clone, Debug, PartialEq)]
pub struct AggCall {
    pub func: AggFunc,
    pub distinct: bool,
    pub arg: Option<Expr>,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
    Plus,
}

/// Binary operators (`AND`/`OR`/`XOR` are three-valued).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    And,
    Or,
    Xor,
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
    /// `=~`: the whole string matches the regular expression.
    Regex,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

/// A run-time expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Lit(Value),
    /// `$name`, looked up in the parameters passed to `execute`.
    Param(String),
    Slot(Slot),
    /// Property of a node, relationship or map; null on null.
    Prop(Box<Expr>, Arc<str>),
    List(Vec<Expr>),
    Map(Vec<(Arc<str>, Expr)>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `e IS NULL` (`negated`: `IS NOT NULL`).
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `n:A:B`.
    HasLabels(Box<Expr>, Vec<Arc<str>>),
    /// `list[i]` / `map[key]`.
    Index(Box<Expr>, Box<Expr>),
    /// `CASE [operand] WHEN .. THEN .. ELSE .. END`.
    Case {
        operand: Option<Box<Expr>>,
        alternatives: Vec<(Expr, Expr)>,
        default: Option<Box<Expr>>,
    },
    /// A scalar function call; `name` is lowercased.
    Call {
        name: String,
        args: Vec<Expr>,
    },
    /// `list[from..to]` (either bound optional; negative counts from the end).
    Slice(Box<Expr>, Option<Box<Expr>>, Option<Box<Expr>>),
    /// `[x IN list WHERE pred | proj]`; `slot` is the local variable's slot.
    ListComp {
        slot: Slot,
        list: Box<Expr>,
        predicate: Option<Box<Expr>>,
        projection: Option<Box<Expr>>,
    },
    /// A path built from a start node slot and hops `(relationship slot, node slot,
    /// variable_length)`; a variable-length hop's slot holds a list of relationships.
    Path {
        start: Slot,
        hops: Vec<(Slot, Slot, bool)>,
    },
    /// `all/any/none/single(x IN list WHERE pred)`.
    Quantifier {
        kind: Quantifier,
        slot: Slot,
        list: Box<Expr>,
        predicate: Box<Expr>,
    },
    /// A pattern predicate: true when `ops` (read-only, run on the current row alone) yield a
    /// row.
    Exists(Vec<Op>),
    /// A pattern comprehension: `projection` evaluated on every row `ops` yield for the
    /// current row, as a list.
    PatternList {
        ops: Vec<Op>,
        projection: Box<Expr>,
    },
    /// `reduce(acc = init, x IN list | expr)`.
    Reduce {
        acc: Slot,
        init: Box<Expr>,
        slot: Slot,
        list: Box<Expr>,
        expr: Box<Expr>,
    },
    /// `v {.a, .*, k: e}`: `all` copies every property of `target` first; then the entries
    /// (later keys win).
    MapProjection {
        target: Box<Expr>,
        all: bool,
        entries: Vec<(Arc<str>, Expr)>,
    },
}

/// List quantifier kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    All,
    Any,
    None,
    Single,
}
