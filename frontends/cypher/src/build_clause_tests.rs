//! Unit tests of clause, pattern, schema and prefix parsing.

use crate::ast::*;

fn clauses(q: &str) -> Vec<Clause> {
    match crate::parse(q)
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .statement
    {
        Statement::Query(rq) => rq.first.clauses,
        Statement::Schema(_) => panic!("schema"),
    }
}

fn schema(q: &str) -> SchemaCommand {
    match crate::parse(q)
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .statement
    {
        Statement::Schema(s) => s,
        Statement::Query(_) => panic!("not schema"),
    }
}

fn first_rel(q: &str) -> RelPattern {
    let Clause::Match(m) = &clauses(q)[0] else {
        panic!("not MATCH")
    };
    m.pattern.parts[0].element.chain[0].0.clone()
}

#[test]
fn relationship_forms() {
    let r = first_rel("MATCH (a)-[r:T1|T2|:T3 *1..3 {k: 1}]->(b) RETURN a");
    assert_eq!(r.variable.unwrap().name, "r");
    assert_eq!(
        r.types.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["T1", "T2", "T3"]
    );
    assert_eq!(
        r.length,
        Some(VarLength {
            min: Some(1),
            max: Some(3)
        })
    );
    assert_eq!(r.direction, Direction::Outgoing);
    assert!(r.properties.is_some());
    assert_eq!(
        first_rel("MATCH (a)<-[*]-(b) RETURN a").length,
        Some(VarLength {
            min: None,
            max: None
        })
    );
    assert_eq!(
        first_rel("MATCH (a)<-[*]-(b) RETURN a").direction,
        Direction::Incoming
    );
    assert_eq!(
        first_rel("MATCH (a)-[*2]-(b) RETURN a").length,
        Some(VarLength {
            min: Some(2),
            max: Some(2)
        })
    );
    assert_eq!(
        first_rel("MATCH (a)-[*..3]-(b) RETURN a").length,
        Some(VarLength {
            min: None,
            max: Some(3)
        })
    );
    assert_eq!(
        first_rel("MATCH (a)-[*2..]-(b) RETURN a").length,
        Some(VarLength {
            min: Some(2),
            max: None
        })
    );
    assert_eq!(
        first_rel("MATCH (a)--(b) RETURN a").direction,
        Direction::Both
    );
    assert_eq!(
        first_rel("MATCH (a)-->(b) RETURN a").direction,
        Direction::Outgoing
    );
}

#[test]
fn match_parts_paths_and_shortest() {
    let c = clauses(
        "OPTIONAL MATCH p = (a:L1:L2 {k: $v})-->(b), (c), q = shortestPath((a)-[*]-(c)) WHERE a.x > 1 RETURN p",
    );
    let Clause::Match(m) = &c[0] else { panic!() };
    assert!(m.optional && m.where_.is_some());
    assert_eq!(m.pattern.parts.len(), 3);
    assert_eq!(m.pattern.parts[0].variable.as_ref().unwrap().name, "p");
    assert_eq!(m.pattern.parts[0].element.start.labels.len(), 2);
    assert_eq!(m.pattern.parts[2].kind, PathKind::Shortest);
    let c = clauses("MATCH p = allShortestPaths((a)-[*]->(b)) RETURN p");
    let Clause::Match(m) = &c[0] else { panic!() };
    assert_eq!(m.pattern.parts[0].kind, PathKind::AllShortest);
}

#[test]
fn projections() {
    let c = clauses(
        "MATCH (n) WITH DISTINCT n.name AS name, n ORDER BY name DESC, n.x ASCENDING SKIP 1 LIMIT 2 WHERE name <> 'x' RETURN *, name",
    );
    let Clause::With(w) = &c[1] else { panic!() };
    assert!(w.projection.distinct && w.where_.is_some());
    assert_eq!(w.projection.items.len(), 2);
    assert_eq!(w.projection.order_by.len(), 2);
    assert!(w.projection.order_by[0].descending && !w.projection.order_by[1].descending);
    assert!(w.projection.skip.is_some() && w.projection.limit.is_some());
    let Clause::Return(r) = &c[2] else { panic!() };
    assert!(r.projection.star);
    let c = clauses("RETURN a.b  +  1, count(*) AS c");
    let Clause::Return(r) = &c[0] else { panic!() };
    assert_eq!(r.projection.items[0].name, "a.b  +  1");
    assert_eq!(r.projection.items[1].name, "c");
}

#[test]
fn updating_clauses() {
    let c = clauses(
        "MATCH (n) SET n.p = 1, n = {a: 1}, n += {b: 2}, n:L:M REMOVE n.p, n:L DETACH DELETE n \
         CREATE (a:A)-[:T {x: 1}]->(b) MERGE (a)-[r:R]->(b) ON CREATE SET r.c = 1 ON MATCH SET r.m = 2 \
         FOREACH (x IN [1, 2] | CREATE (:X {v: x})) UNWIND [1] AS y RETURN y",
    );
    let Clause::Set(s) = &c[1] else { panic!() };
    assert!(matches!(s.items[0], SetItem::Property { .. }));
    assert!(matches!(s.items[1], SetItem::Replace { .. }));
    assert!(matches!(s.items[2], SetItem::Merge { .. }));
    assert!(matches!(&s.items[3], SetItem::Labels { labels, .. } if labels.len() == 2));
    let Clause::Remove(r) = &c[2] else { panic!() };
    assert!(matches!(r.items[0], RemoveItem::Property { .. }));
    assert!(matches!(r.items[1], RemoveItem::Labels { .. }));
    assert!(matches!(&c[3], Clause::Delete(d) if d.detach));
    assert!(matches!(&c[4], Clause::Create(_)));
    let Clause::Merge(m) = &c[5] else { panic!() };
    assert_eq!((m.on_create.len(), m.on_match.len()), (1, 1));
    let Clause::Foreach(f) = &c[6] else { panic!() };
    assert_eq!(f.clauses.len(), 1);
    assert!(matches!(&c[7], Clause::Unwind(u) if u.variable.name == "y"));
}

#[test]
fn call_forms() {
    let c = clauses("CALL db.labels");
    let Clause::Call(call) = &c[0] else { panic!() };
    assert_eq!(call.procedure, "db.labels");
    assert!(call.args.is_none() && call.yields.is_none());
    let c = clauses(
        "CALL db.idx.vector.queryNodes('Doc', 'emb', 3, vecf32([1, 2])) YIELD node AS n, score WHERE score > 0.5 RETURN n",
    );
    let Clause::Call(call) = &c[0] else { panic!() };
    assert_eq!(call.args.as_ref().map(Vec::len), Some(4));
    let ys = call.yields.as_ref().unwrap();
    assert_eq!(ys[0].bound().name, "n");
    assert_eq!(ys[1].bound().name, "score");
    assert!(call.where_.is_some());
}

#[test]
fn union() {
    let q = crate::parse("RETURN 1 AS x UNION ALL RETURN 2 AS x UNION ALL RETURN 3 AS x").unwrap();
    let Statement::Query(rq) = q.statement else {
        panic!()
    };
    assert_eq!(rq.unions.len(), 2);
    assert!(rq.unions.iter().all(|u| u.all));
}

#[test]
fn index_commands() {
    let SchemaCommand::CreateIndex(s) = schema("CREATE INDEX FOR (p:Person) ON (p.id, p.x)") else {
        panic!()
    };
    assert_eq!(
        (s.kind, s.entity, s.label.name.as_str()),
        (IndexKind::Range, IndexEntity::Node, "Person")
    );
    assert_eq!(s.properties.len(), 2);
    let SchemaCommand::CreateIndex(s) = schema("CREATE INDEX FOR ()-[r:T]-() ON (r.p)") else {
        panic!()
    };
    assert_eq!(
        (s.entity, s.label.name.as_str()),
        (IndexEntity::Relationship, "T")
    );
    let SchemaCommand::CreateIndex(s) = schema("CREATE INDEX ON :Person(age)") else {
        panic!()
    };
    assert_eq!(s.properties[0].name, "age");
    let SchemaCommand::DropIndex(s) = schema("DROP INDEX ON :Person(age)") else {
        panic!()
    };
    assert_eq!(s.label.name, "Person");
    assert!(matches!(
        schema("DROP INDEX FOR (p:P) ON (p.a)"),
        SchemaCommand::DropIndex(_)
    ));
    let SchemaCommand::CreateIndex(s) = schema(
        "CREATE VECTOR INDEX FOR (p:Doc) ON (p.emb) OPTIONS {dimension: 4, similarityFunction: 'cosine'}",
    ) else {
        panic!()
    };
    assert_eq!(s.kind, IndexKind::Vector);
    assert_eq!(
        s.options[0],
        ("dimension".to_string(), ConstValue::Integer(4))
    );
    assert_eq!(s.options[1].1, ConstValue::String("cosine".into()));
    let SchemaCommand::CreateIndex(s) = schema("CREATE FULLTEXT INDEX FOR (m:Movie) ON (m.title)")
    else {
        panic!()
    };
    assert_eq!(s.kind, IndexKind::Fulltext);
}

#[test]
fn cypher_parameter_prefix() {
    let q = crate::parse(
        "CYPHER a=1 b='x' c=[1,-2.5] d={k:1} e=null `n`=\"A\\\"nn\" f=-3 MATCH (n) RETURN n",
    )
    .unwrap();
    let names: Vec<&str> = q.params.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e", "n", "f"]);
    assert_eq!(q.params[0].1, ConstValue::Integer(1));
    assert_eq!(
        q.params[2].1,
        ConstValue::List(vec![ConstValue::Integer(1), ConstValue::Float(-2.5)])
    );
    assert_eq!(
        q.params[3].1,
        ConstValue::Map(vec![("k".into(), ConstValue::Integer(1))])
    );
    assert_eq!(q.params[4].1, ConstValue::Null);
    assert_eq!(q.params[5].1, ConstValue::String("A\"nn".into()));
    assert_eq!(q.params[6].1, ConstValue::Integer(-3));
    let e = crate::parse("CYPHER a=b RETURN 1").unwrap_err();
    assert_eq!(e.detail, crate::ErrorDetail::InvalidParameterUse);
}

#[test]
fn split_prefix_matches_the_full_parse() {
    for q in [
        "CYPHER a=1 b='x' c=[1,-2.5] d={k:1} e=null `n`=\"A\\\"nn\" f=-3 MATCH (n) RETURN n",
        "MATCH (n) RETURN n",
        "  cypher id=5   MATCH (p {id: $id}) RETURN p",
        "CYPHER x=[[1],[2,[3]]] // comment\nUNWIND $x AS y RETURN y",
        "CYPHER RETURN 1",
    ] {
        let full = crate::parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        let (params, at) = crate::split_prefix(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        assert_eq!(params, full.params, "{q}");
        // The statement alone compiles to the same plan (a plan cache keys by it).
        let body = crate::compile(&q[at..]).unwrap_or_else(|e| panic!("{q} at {at}: {e}"));
        assert!(body.params.is_empty());
        let lower = |q: &Query| crate::lower::lower(q).expect("lowers");
        assert_eq!(lower(&body), lower(&full), "{q}");
    }
    assert_eq!(crate::split_prefix("RETURN 1").unwrap(), (Vec::new(), 0));
    assert!(crate::split_prefix("CYPHER a=b RETURN 1").is_err());
}

#[test]
fn syntax_errors_have_falkordb_shape_and_offset() {
    let e = crate::parse("MATCH (n RETURN n").unwrap_err();
    assert_eq!(e.detail, crate::ErrorDetail::UnexpectedSyntax);
    assert_eq!(e.offset, 9);
    assert!(
        e.message.starts_with(
            "errMsg: Invalid input 'R': expected a label, '{', a parameter or ')' line"
        ),
        "{}",
        e.message
    );
    assert!(
        e.message
            .ends_with("line: 1, column: 10, offset: 9 errCtx: MATCH (n RETURN n errCtxOffset: 9"),
        "{}",
        e.message
    );
    assert_eq!(
        crate::parse("   ").unwrap_err().message,
        "Error: empty query."
    );
    assert!(crate::parse("RETURN 1;").is_ok());
    assert!(crate::parse("RETURN 1; RETURN 2").is_err());
}
