//! Executor tests on hand-built plans (the front-end's own end-to-end tests live in
//! `moon-cypher`'s `lower`).

use std::sync::Arc;

use proptest::prelude::*;

use super::{ExecError, ResultValue as RV, execute, execute_read};
use crate::graph::Graph;
use crate::ids::{Direction, NodeId};
use crate::index::IndexEntity;
use crate::plan::{AggCall, AggFunc, BinOp, CreateNode, Expr, Op, Plan};
use crate::value::Value;

fn lit(v: Value) -> Expr {
    Expr::Lit(v)
}

fn int(i: i64) -> RV {
    RV::Value(Value::Int(i))
}

/// Three `:P` nodes with `v` = 1, 2, 3 and a `:T` chain 0→1→2.
fn graph() -> Graph {
    let mut g = Graph::new();
    let p = g.intern_label("P");
    let v = g.intern_prop_key("v");
    let t = g.intern_rel_type("T");
    let ids: Vec<NodeId> = (1..=3)
        .map(|i| {
            g.create_node(&[p], vec![(v, Value::Int(i))])
                .unwrap_or(NodeId(0))
        })
        .collect();
    for w in ids.windows(2) {
        g.create_edge(w[0], w[1], t, vec![]).ok();
    }
    g
}

fn plan(ops: Vec<Op>, slots: usize, cols: &[(&str, usize)]) -> Plan {
    Plan {
        ops,
        slots,
        columns: cols.iter().map(|(n, s)| (n.to_string(), *s)).collect(),
        names: Vec::new(),
    }
}

fn prop(slot: usize, key: &str) -> Expr {
    Expr::Prop(Box::new(Expr::Slot(slot)), Arc::from(key))
}

#[test]
fn index_seek_with_and_without_index() {
    let mut g = graph();
    let p = plan(
        vec![Op::IndexSeek {
            slot: 0,
            label: Arc::from("P"),
            prop: Arc::from("v"),
            value: lit(Value::Float(2.0)),
        }],
        1,
        &[("n", 0)],
    );
    let scan = execute_read(&g, &p, &[])
        .map(|r| r.rows)
        .unwrap_or_default();
    let key = g.prop_key_id("v").unwrap_or(crate::PropKeyId(0));
    let label = g.label_id("P").unwrap_or(crate::LabelId(0));
    assert!(g.create_index(IndexEntity::Label(label), key).is_ok());
    let seek = execute_read(&g, &p, &[])
        .map(|r| r.rows)
        .unwrap_or_default();
    assert_eq!(scan.len(), 1);
    assert!(matches!(scan[0][0], RV::Node(NodeId(1))));
    assert!(matches!(seek[0][0], RV::Node(NodeId(1))));
}

#[test]
fn optional_expand_pads_and_sort_orders_nulls_last() {
    let g = graph();
    let p = plan(
        vec![
            Op::LabelScan {
                slot: 0,
                label: Arc::from("P"),
            },
            Op::Optional {
                ops: vec![Op::Expand {
                    from: 0,
                    rel_slot: 1,
                    to: 2,
                    to_bound: false,
                    types: vec![Arc::from("T")],
                    dir: Direction::Out,
                }],
                new_slots: vec![1, 2],
            },
            Op::Project(vec![(3, prop(2, "v"))]),
            Op::Sort(vec![(Expr::Slot(3), false)]),
        ],
        4,
        &[("m", 3)],
    );
    let rows = execute_read(&g, &p, &[])
        .map(|r| r.rows)
        .unwrap_or_default();
    let got: Vec<RV> = rows.into_iter().map(|mut r| r.remove(0)).collect();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].order_cmp(&int(2)), std::cmp::Ordering::Equal);
    assert_eq!(got[1].order_cmp(&int(3)), std::cmp::Ordering::Equal);
    assert!(got[2].is_null());
}

#[test]
fn aggregate_with_keys_on_empty_input_is_empty() {
    let g = Graph::new();
    let agg = |keys: Vec<Expr>| {
        plan(
            vec![
                Op::AllNodesScan { slot: 0 },
                Op::Aggregate {
                    keys,
                    aggs: vec![(
                        1,
                        AggCall {
                            func: AggFunc::CountStar,
                            distinct: false,
                            arg: None,
                        },
                    )],
                },
            ],
            2,
            &[("c", 1)],
        )
    };
    let rows = |p: &Plan| execute_read(&g, p, &[]).map(|r| r.rows).unwrap_or_default();
    assert_eq!(rows(&agg(vec![Expr::Slot(0)])).len(), 0);
    let one = rows(&agg(vec![]));
    assert_eq!(one.len(), 1);
    assert_eq!(one[0][0].order_cmp(&int(0)), std::cmp::Ordering::Equal);
}

#[test]
fn write_plans_need_exclusive_access_and_roll_back() {
    let mut g = graph();
    g.set_recording(true);
    let x = g.intern_prop_key("x");
    g.set_node_property(NodeId(0), x, Value::Int(7)).ok();
    let earlier = 2; // AddPropKey + SetNodeProps
    let create = |v: Expr| {
        plan(
            vec![Op::Create {
                nodes: vec![CreateNode {
                    slot: 0,
                    labels: vec![Arc::from("New")],
                    props: vec![(Arc::from("v"), v)],
                }],
                rels: vec![],
            }],
            1,
            &[],
        )
    };
    let bad = create(Expr::Binary(
        BinOp::Div,
        Box::new(lit(Value::Int(1))),
        Box::new(lit(Value::Int(0))),
    ));
    assert_eq!(
        execute_read(&g, &create(lit(Value::Int(1))), &[])
            .err()
            .map(|_| ()),
        Some(())
    );
    assert_eq!(
        execute(&mut g, &bad, &[]).err(),
        Some(ExecError::DivisionByZero)
    );
    assert_eq!(g.node_count(), 3);
    // Interned names stay (schema ids are append-only), and so do their records.
    assert!(g.label_id("New").is_some());
    assert!(g.is_recording());
    let log = g.take_mutations();
    assert_eq!(log.len(), earlier + 1, "{log:?}");
    assert!(matches!(log.last(), Some(crate::Mutation::AddLabel { .. })));
    let ok = execute(&mut g, &create(lit(Value::Int(1))), &[]).map(|r| r.stats.nodes_created);
    assert_eq!(ok, Ok(1));
    assert_eq!(g.node_count(), 4);
}

fn arith(op: BinOp, a: i64, b: i64) -> Result<RV, ExecError> {
    let g = Graph::new();
    let p = plan(
        vec![Op::Project(vec![(
            0,
            Expr::Binary(
                op,
                Box::new(lit(Value::Int(a))),
                Box::new(lit(Value::Int(b))),
            ),
        )])],
        1,
        &[("r", 0)],
    );
    execute_read(&g, &p, &[]).map(|mut r| r.rows.remove(0).remove(0))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Integer arithmetic equals checked i64 arithmetic; overflow and zero division are typed
    /// errors, never wraps or panics.
    #[test]
    fn integer_arithmetic_is_checked(a in any::<i64>(), b in prop_oneof![any::<i64>(), -2i64..3]) {
        let cases = [
            (BinOp::Add, a.checked_add(b)),
            (BinOp::Sub, a.checked_sub(b)),
            (BinOp::Mul, a.checked_mul(b)),
            (BinOp::Div, a.checked_div(b)),
            (BinOp::Mod, a.checked_rem(b)),
        ];
        for (op, want) in cases {
            let got = arith(op, a, b);
            match want {
                Some(w) => prop_assert_eq!(got.map(|v| v.order_cmp(&int(w)).is_eq()), Ok(true)),
                None if b == 0 && matches!(op, BinOp::Div | BinOp::Mod) => {
                    prop_assert_eq!(got.err(), Some(ExecError::DivisionByZero));
                }
                None => prop_assert_eq!(got.err(), Some(ExecError::IntegerOverflow)),
            }
        }
    }
}

#[test]
fn profiled_run_reports_rows_per_top_level_operator() {
    let mut g = graph();
    let p = plan(
        vec![
            Op::LabelScan {
                slot: 0,
                label: Arc::from("P"),
            },
            Op::Filter(Expr::Binary(
                BinOp::Gt,
                Box::new(prop(0, "v")),
                Box::new(lit(Value::Int(1))),
            )),
            Op::Create {
                nodes: vec![CreateNode {
                    slot: 1,
                    labels: vec![Arc::from("Q")],
                    props: vec![],
                }],
                rels: vec![],
            },
        ],
        2,
        &[("n", 0)],
    );
    let (rs, prof) = match super::execute_profiled(&mut g, &p, &[]) {
        Ok(x) => x,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(rs.rows.len(), 2);
    assert_eq!(rs.stats.nodes_created, 2);
    let records: Vec<usize> = prof.iter().map(|o| o.records).collect();
    assert_eq!(records, vec![3, 2, 2]);
}

#[test]
fn index_scan_rechecks_and_keeps_id_order() {
    let mut g = graph();
    let scan = |g: &Graph, cmp: BinOp, v: Value| {
        let p = plan(
            vec![Op::IndexScan {
                slot: 0,
                label: Arc::from("P"),
                prop: Arc::from("v"),
                cmp,
                value: lit(v),
            }],
            1,
            &[("n", 0)],
        );
        execute_read(g, &p, &[])
            .map(|r| r.rows.len())
            .unwrap_or(usize::MAX)
    };
    let cases = [
        (BinOp::Eq, Value::Float(2.0), 1),
        (BinOp::Lt, Value::Int(3), 2),
        (BinOp::Ge, Value::Int(2), 2),
        (BinOp::Gt, Value::str("a"), 0),
        (
            BinOp::In,
            Value::List(vec![
                Value::Int(1),
                Value::Null,
                Value::Int(3),
                Value::Int(3),
            ]),
            2,
        ),
    ];
    let before: Vec<usize> = cases
        .iter()
        .map(|(c, v, _)| scan(&g, *c, v.clone()))
        .collect();
    let key = g.prop_key_id("v").unwrap_or(crate::PropKeyId(0));
    let label = g.label_id("P").unwrap_or(crate::LabelId(0));
    assert!(g.create_index(IndexEntity::Label(label), key).is_ok());
    let after: Vec<usize> = cases
        .iter()
        .map(|(c, v, _)| scan(&g, *c, v.clone()))
        .collect();
    let want: Vec<usize> = cases.iter().map(|(_, _, n)| *n).collect();
    assert_eq!(before, want);
    assert_eq!(after, want);
}
