//! Unit tests of the semantic rules: one or more queries per error code,
//! offsets for the common ones, and valid queries that must pass.

use crate::error::ErrorDetail::{self, *};

fn code(q: &str) -> ErrorDetail {
    match crate::compile(q) {
        Ok(_) => panic!("{q} compiled"),
        Err(e) => e.detail,
    }
}

fn ok(q: &str) {
    if let Err(e) = crate::compile(q) {
        panic!("{q}: {:?} {}", e.detail, e.message);
    }
}

#[test]
fn valid_queries_pass() {
    ok("MATCH (a)-[r:T]->(b) WHERE a.x = 1 AND (a)-->(b) RETURN a, r, b");
    ok("MATCH (a) WITH a, count(*) AS c ORDER BY c DESC LIMIT 3 RETURN a.name AS name, c");
    ok(
        "UNWIND [1, 2] AS x WITH x WHERE x > 1 RETURN [y IN range(0, x) WHERE y % 2 = 0 | y * x] AS l",
    );
    ok("MATCH (n) RETURN reduce(s = 0, x IN [1, 2] | s + x) AS s, all(x IN [1] WHERE x > 0) AS b");
    ok("MATCH (n) RETURN n {.name, .*, k: 1} AS m, [(n)-->(m) | m.x] AS xs");
    ok("CREATE (a:A {x: 1})-[:T]->(b:B) WITH a MATCH (a)-->(c) RETURN c");
    ok("MERGE (a:A {k: 1}) ON CREATE SET a.c = 1 ON MATCH SET a.m = 2");
    ok("MATCH (a), (b) MERGE (a)-[:R]-(b)");
    ok("MATCH (n) FOREACH (x IN [1, 2] | SET n.v = x CREATE (:X {v: x}))");
    ok("CALL db.labels() YIELD label RETURN label");
    ok("CALL db.labels");
    ok("MATCH p = (a)-[*1..3]->(b) RETURN nodes(p), length(p)");
    ok("MATCH (a), (b) RETURN shortestPath((a)-[*]-(b)) AS p");
    ok("RETURN 1 AS x UNION RETURN 2 AS x");
    ok("MATCH (n) RETURN DISTINCT n.name ORDER BY n.name");
    ok("MATCH (n) DETACH DELETE n");
    ok("CYPHER x=5 MATCH (n) WHERE n.v = $x RETURN n SKIP $x LIMIT 2");
    ok("CREATE INDEX FOR (p:Person) ON (p.id)");
}

#[test]
fn undefined_variable_has_message_and_offset() {
    let e = crate::compile("MATCH (n) RETURN x").unwrap_err();
    assert_eq!(e.detail, UndefinedVariable);
    assert_eq!(e.message, "'x' not defined");
    assert_eq!(e.offset, 17);
    assert_eq!(code("MATCH (n) WITH n.a AS a RETURN n"), UndefinedVariable);
    assert_eq!(code("RETURN [x IN [1] | x] AS l, x"), UndefinedVariable);
    assert_eq!(
        code("MATCH (n) WHERE (n)-[r]->() RETURN n"),
        UndefinedVariable
    );
    assert_eq!(
        code("FOREACH (x IN [1] | CREATE ({v: x})) RETURN x"),
        UndefinedVariable
    );
}

#[test]
fn variable_binding_rules() {
    let e = crate::compile("MATCH (a) CREATE (a)").unwrap_err();
    assert_eq!(e.detail, VariableAlreadyBound);
    assert_eq!(e.message, "Variable 'a' already declared");
    assert_eq!(
        code("MATCH (a) CREATE (a:L)-[:T]->()"),
        VariableAlreadyBound
    );
    assert_eq!(
        code("UNWIND [1] AS x UNWIND [2] AS x RETURN x"),
        VariableAlreadyBound
    );
    assert_eq!(
        code("MATCH ()-[r]->() CREATE ()-[r:T]->()"),
        VariableAlreadyBound
    );
    assert_eq!(
        code("MATCH (a)-[r]->(b)-[r]->(c) RETURN a"),
        VariableAlreadyBound
    );
    assert_eq!(code("MATCH (r)-[r]->() RETURN r"), VariableTypeConflict);
    assert_eq!(
        code("MATCH p = (a)-->(), (p) RETURN p"),
        VariableTypeConflict
    );
    assert_eq!(code("WITH 1 AS n MATCH (n) RETURN n"), VariableTypeConflict);
    assert_eq!(
        code("MATCH ()-[r]-() MATCH ()-[r*]-() RETURN r"),
        VariableTypeConflict
    );
}

#[test]
fn create_and_merge_relationship_rules() {
    assert_eq!(code("CREATE (a)-[:A|B]->(b)"), NoSingleRelationshipType);
    assert_eq!(code("CREATE (a)-->(b)"), NoSingleRelationshipType);
    assert_eq!(code("CREATE (a)-[:T]-(b)"), RequiresDirectedRelationship);
    assert_eq!(code("CREATE (a)-[:T*2]->(b)"), CreatingVarLength);
    assert_eq!(code("MERGE (a)-[:T*]->(b)"), CreatingVarLength);
    assert_eq!(code("MATCH (n $p) RETURN n"), InvalidParameterUse);
    assert_eq!(code("MERGE (n $p) RETURN n"), InvalidParameterUse);
    assert_eq!(
        code("MATCH (a)-[:T..]->(b) RETURN a"),
        InvalidRelationshipPattern
    );
    assert_eq!(
        code("MATCH (a)-[:T*-2]->(b) RETURN a"),
        InvalidRelationshipPattern
    );
}

#[test]
fn projection_rules() {
    assert_eq!(code("RETURN 1 AS a, 2 AS a"), ColumnNameConflict);
    assert_eq!(
        code("MATCH (a) WITH a, count(*) RETURN a"),
        NoExpressionAlias
    );
    assert_eq!(code("MATCH () RETURN *"), NoVariablesInScope);
    assert_eq!(
        code("RETURN 1 AS x UNION RETURN 2 AS y"),
        DifferentColumnsInUnion
    );
    assert_eq!(
        code("RETURN 1 AS x UNION RETURN 2 AS x UNION ALL RETURN 3 AS x"),
        InvalidClauseComposition
    );
    assert_eq!(
        code("RETURN 1 AS x RETURN 2 AS y"),
        InvalidClauseComposition
    );
    let e = crate::compile("MATCH (n)").unwrap_err();
    assert_eq!(e.detail, InvalidClauseComposition);
    assert!(
        e.message.starts_with("Query cannot conclude with MATCH"),
        "{}",
        e.message
    );
    assert_eq!(code("MATCH (n) RETURN n SKIP n.x"), NonConstantExpression);
    assert_eq!(code("MATCH (n) RETURN n LIMIT -1"), NegativeIntegerArgument);
    assert_eq!(code("MATCH (n) RETURN n LIMIT 1.5"), InvalidArgumentType);
}

#[test]
fn aggregation_rules() {
    assert_eq!(
        code("MATCH (a) WHERE count(a) > 1 RETURN a"),
        InvalidAggregation
    );
    assert_eq!(
        code("MATCH (n) RETURN n.x ORDER BY max(n.y)"),
        InvalidAggregation
    );
    assert_eq!(code("RETURN count(count(*))"), NestedAggregation);
    assert_eq!(code("MATCH (a) SET a.c = count(*)"), InvalidAggregation);
    assert_eq!(
        code("MATCH (a), (b) WITH a.x + b.x, count(*) AS c ORDER BY a.x + b.x + count(*) RETURN c"),
        AmbiguousAggregationExpression
    );
    ok("MATCH (a) WITH a.x AS x, count(*) AS c ORDER BY a.x + count(*) RETURN x");
    assert_eq!(
        code("MATCH (a) WITH count(*) AS c ORDER BY a.x + count(*) RETURN c"),
        UndefinedVariable
    );
}

#[test]
fn static_type_rules() {
    assert_eq!(code("RETURN 1 AND true"), InvalidArgumentType);
    assert_eq!(code("RETURN NOT 'x'"), InvalidArgumentType);
    assert_eq!(code("RETURN 1 IN 2"), InvalidArgumentType);
    assert_eq!(code("MATCH (n) WHERE (n) RETURN n"), InvalidArgumentType);
    assert_eq!(code("MATCH (r) RETURN type(r)"), InvalidArgumentType);
    assert_eq!(code("MATCH p = ()-->() RETURN p.x"), InvalidArgumentType);
    assert_eq!(code("WITH 1 AS x RETURN x.y"), InvalidArgumentType);
    assert_eq!(code("MATCH () DELETE 1 + 1"), InvalidArgumentType);
    assert_eq!(code("MATCH (n) DELETE n:L"), InvalidDelete);
    ok("RETURN null AND true AS x");
}

#[test]
fn functions_and_patterns() {
    let e = crate::compile("RETURN nosuchfn(1)").unwrap_err();
    assert_eq!(e.detail, UnknownFunction);
    assert_eq!(e.message, "Unknown function 'nosuchfn'");
    assert_eq!(code("MATCH (n) RETURN (n)-->()"), UnexpectedSyntax);
    assert_eq!(
        code("MATCH (n) WITH (n)-->() AS x RETURN x"),
        UnexpectedSyntax
    );
    ok("MATCH (n) RETURN exists((n)-->()) AS e");
    assert_eq!(
        code("MATCH (n) CREATE (n)-[:T]->() MATCH (m) RETURN m"),
        InvalidClauseComposition
    );
}

#[test]
fn falkordb_client_style_queries_pass() {
    for q in [
        "CALL db.idx.vector.queryNodes('Doc', 'emb', 3, vecf32([1.0, 2.0])) YIELD node, score RETURN node.title, score",
        "CALL db.idx.fulltext.queryNodes('Movie', 'matrix') YIELD node RETURN node.title",
        "CYPHER `n`=\"Ann\" `a`=33 CREATE (a:Person {name: $n, age: $a}) RETURN a",
        "UNWIND $rows AS row MERGE (p:P {id: row.id}) SET p += row.props",
        "MATCH (a:Person {name: 'Alice'})-[r:KNOWS]->(b) RETURN a, r, b LIMIT 1",
        "MATCH (n) WHERE id(n) = 0 RETURN n, labels(n), toJSON(properties(n))",
        "MATCH (a), (b) WHERE a.v < b.v RETURN vec.euclideanDistance(a.e, b.e) AS d ORDER BY d",
        "RETURN date('2024-01-15'), duration('P1DT2H'), timestamp(), string.join(['a', 'b'], ',')",
        "CALL db.labels() YIELD label RETURN collect(label) AS labels",
        "MATCH (n:Person) RETURN n.age, count(n) AS c ORDER BY c DESC",
        "MATCH (n) RETURN count(n)",
        "CREATE (:A)-[:R {w: 1.5}]->(:B), (:C)",
        "MATCH (a:A) OPTIONAL MATCH (a)-[r]->(b) RETURN a, type(r), b",
    ] {
        ok(q);
    }
}
