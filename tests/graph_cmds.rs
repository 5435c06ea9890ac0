//! GRAPH.* commands end to end against `moon --shards 2`: FalkorDB 4.x reply shapes (verbose
//! and `--compact`, RESP2 and RESP3), statistics lines, error texts, parameters, GRAPH.LIST
//! across shards, DELETE, COPY, EXPLAIN/PROFILE, CONFIG, MEMORY USAGE, SLOWLOG, INFO, and the
//! WAL replay of write queries (`GRAPH.EFFECT`) with identical ids after a restart.
//! Expected bytes come from `../shared/falkordb-transcripts/transcript1.md` (FalkorDB 4.16.3).

mod common;

use common::{Reply, Server, keys_on_shards};

fn b(s: &str) -> Reply {
    Reply::bulk(s)
}

fn typed_int(n: i64) -> Reply {
    Reply::Array(vec![Reply::Int(3), Reply::Int(n)])
}

fn typed(code: i64, v: Reply) -> Reply {
    Reply::Array(vec![Reply::Int(code), v])
}

/// The statistics lines without the timing line (whose value varies).
fn stats(reply: &Reply) -> Vec<String> {
    let items = reply.items();
    let last = items.last().map(Reply::items).unwrap_or_default();
    let (time, rest) = last.split_last().expect("a statistics array");
    assert!(
        time.text().starts_with("Query internal execution time: ")
            && time.text().ends_with(" milliseconds"),
        "{time:?}"
    );
    rest.iter().map(Reply::text).collect()
}

fn q(c: &mut common::resp::Conn, key: &str, query: &str) -> Reply {
    c.cmd(&["GRAPH.QUERY", key, query])
}

fn qc(c: &mut common::resp::Conn, key: &str, query: &str) -> Reply {
    c.cmd(&["GRAPH.QUERY", key, query, "--compact"])
}

const CREATE: &str = "CREATE (:Person {name:'Alice', age:30, score:1.5, tags:['a','b']})-[:KNOWS {since:2020}]->(:Person:Employee {name:'Bob'})";

#[test]
fn write_statistics_and_verbose_entities() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    let r = qc(&mut c, "demo", CREATE);
    assert_eq!(r.items().len(), 1, "a pure write answers [stats]: {r:?}");
    // `Labels added` is the executor's count (FalkorDB counts labels new to the schema: 2).
    let counted: Vec<String> = stats(&r)
        .into_iter()
        .filter(|l| !l.starts_with("Labels added"))
        .collect();
    assert_eq!(
        counted,
        [
            "Nodes created: 2",
            "Properties set: 6",
            "Relationships created: 1",
            "Cached execution: 0"
        ]
    );
    assert_eq!(c.q("TYPE demo"), Reply::simple("graphdata"));

    let r = q(
        &mut c,
        "demo",
        "MATCH (a:Person {name:'Alice'})-[r:KNOWS]->(b) RETURN a, r, b LIMIT 1",
    );
    let items = r.items();
    assert_eq!(items[0], Reply::bulks(&["a", "r", "b"]));
    let row = items[1].items()[0].items();
    assert_eq!(
        row[0],
        Reply::Array(vec![
            Reply::Array(vec![b("id"), Reply::Int(0)]),
            Reply::Array(vec![b("labels"), Reply::bulks(&["Person"])]),
            Reply::Array(vec![
                b("properties"),
                Reply::Array(vec![
                    Reply::Array(vec![b("name"), b("Alice")]),
                    Reply::Array(vec![b("age"), Reply::Int(30)]),
                    Reply::Array(vec![b("score"), b("1.5")]),
                    Reply::Array(vec![b("tags"), b("[a, b]")]),
                ])
            ]),
        ])
    );
    assert_eq!(
        row[1],
        Reply::Array(vec![
            Reply::Array(vec![b("id"), Reply::Int(0)]),
            Reply::Array(vec![b("type"), b("KNOWS")]),
            Reply::Array(vec![b("src_node"), Reply::Int(0)]),
            Reply::Array(vec![b("dest_node"), Reply::Int(1)]),
            Reply::Array(vec![
                b("properties"),
                Reply::Array(vec![Reply::Array(vec![b("since"), Reply::Int(2020)])])
            ]),
        ])
    );
    assert_eq!(
        row[2].items()[1],
        Reply::Array(vec![b("labels"), Reply::bulks(&["Person", "Employee"])])
    );

    // Compact: nodes [8, [id, [label ids], [[key id, type, value]]]], edges [7, ...].
    let r = qc(
        &mut c,
        "demo",
        "MATCH (a:Person {name:'Alice'})-[r:KNOWS]->(b) RETURN a, r, b LIMIT 1",
    );
    let items = r.items();
    assert_eq!(
        items[0].items()[0],
        Reply::Array(vec![Reply::Int(1), b("a")])
    );
    let row = items[1].items()[0].items();
    assert_eq!(
        row[0],
        typed(
            8,
            Reply::Array(vec![
                Reply::Int(0),
                Reply::Array(vec![Reply::Int(0)]),
                Reply::Array(vec![
                    Reply::Array(vec![Reply::Int(0), Reply::Int(2), b("Alice")]),
                    Reply::Array(vec![Reply::Int(1), Reply::Int(3), Reply::Int(30)]),
                    Reply::Array(vec![Reply::Int(2), Reply::Int(5), b("1.5")]),
                    Reply::Array(vec![
                        Reply::Int(3),
                        Reply::Int(6),
                        Reply::Array(vec![typed(2, b("a")), typed(2, b("b"))])
                    ]),
                ])
            ])
        )
    );
    assert_eq!(
        row[1],
        typed(
            7,
            Reply::Array(vec![
                Reply::Int(0),
                Reply::Int(0),
                Reply::Int(0),
                Reply::Int(1),
                Reply::Array(vec![Reply::Array(vec![
                    Reply::Int(4),
                    Reply::Int(3),
                    Reply::Int(2020)
                ])]),
            ])
        )
    );

    // Paths: compact [9, [[6, nodes], [6, edges]]]; verbose "[(0), [0], (1)]".
    let r = q(
        &mut c,
        "demo",
        "MATCH p=(:Person {name:'Alice'})-[:KNOWS]->() RETURN p LIMIT 1",
    );
    assert_eq!(r.items()[1].items()[0].items()[0], b("[(0), [0], (1)]"));
    let r = qc(
        &mut c,
        "demo",
        "MATCH p=(:Person {name:'Alice'})-[:KNOWS]->() RETURN p LIMIT 1",
    );
    let p = r.items()[1].items()[0].items()[0].items();
    assert_eq!(p[0], Reply::Int(9));
    let parts = p[1].items();
    assert_eq!(parts[0].items()[0], Reply::Int(6));
    assert_eq!(parts[0].items()[1].items().len(), 2);
    assert_eq!(parts[1].items()[1].items().len(), 1);

    // Updates and deletes.
    let r = qc(
        &mut c,
        "demo",
        "MATCH (n:Person {name:'Bob'}) SET n.age = 40, n:Manager REMOVE n:Employee RETURN n.age",
    );
    assert_eq!(r.items()[1].items()[0].items()[0], typed_int(40));
    let r = qc(&mut c, "demo", "CREATE (:Tmp)-[:T]->(:Tmp)");
    let r2 = qc(&mut c, "demo", "MATCH (n:Tmp) DETACH DELETE n");
    assert!(stats(&r).contains(&"Nodes created: 2".to_string()));
    assert_eq!(
        stats(&r2),
        [
            "Nodes deleted: 2",
            "Relationships deleted: 1",
            "Cached execution: 0"
        ]
    );
}

#[test]
fn scalars_verbose_compact_and_resp3() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    let query = "RETURN 1 AS i, -2.5 AS d, 'str' AS s, true AS t, false AS f, null AS n, [1, 2.0, 'x', null, [true]] AS l, {a: 1, b: 'x', c: [1]} AS m, 0.1+0.2 AS d2, 3.0 AS d3";
    let r = q(&mut c, "g", query);
    assert_eq!(
        r.items()[1].items()[0],
        Reply::Array(vec![
            Reply::Int(1),
            b("-2.5"),
            b("str"),
            b("true"),
            b("false"),
            Reply::NilBulk,
            b("[1, 2.000000, x, NULL, [true]]"),
            b("{a: 1, b: x, c: [1]}"),
            b("0.3"),
            b("3"),
        ])
    );
    let r = qc(&mut c, "g", query);
    assert_eq!(
        r.items()[1].items()[0],
        Reply::Array(vec![
            typed_int(1),
            typed(5, b("-2.5")),
            typed(2, b("str")),
            typed(4, b("true")),
            typed(4, b("false")),
            typed(1, Reply::NilBulk),
            typed(
                6,
                Reply::Array(vec![
                    typed_int(1),
                    typed(5, b("2")),
                    typed(2, b("x")),
                    typed(1, Reply::NilBulk),
                    typed(6, Reply::Array(vec![typed(4, b("true"))])),
                ])
            ),
            typed(
                10,
                Reply::Array(vec![
                    b("a"),
                    typed_int(1),
                    b("b"),
                    typed(2, b("x")),
                    b("c"),
                    typed(6, Reply::Array(vec![typed_int(1)])),
                ])
            ),
            typed(5, b("0.3")),
            typed(5, b("3")),
        ])
    );
    // RESP3: the same nesting; only null changes.
    c.cmd(&["HELLO", "3"]);
    let r = qc(&mut c, "g", "RETURN null AS n, 1.5 AS f");
    assert_eq!(
        r.items()[1].items()[0],
        Reply::Array(vec![typed(1, Reply::Null), typed(5, b("1.5"))])
    );
    let r = q(&mut c, "g", "RETURN null AS n");
    assert_eq!(r.items()[1].items()[0], Reply::Array(vec![Reply::Null]));

    // The redis crate sees the same shapes.
    let mut rc = s.client();
    let v: redis::Value = redis::cmd("GRAPH.QUERY")
        .arg("g")
        .arg("RETURN 7 AS x")
        .arg("--compact")
        .query(&mut rc)
        .expect("query");
    let redis::Value::Array(parts) = v else {
        panic!("{v:?}")
    };
    assert_eq!(parts.len(), 3);
}

#[test]
fn parameters_errors_and_read_only() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    qc(&mut c, "p", CREATE);
    let r = qc(
        &mut c,
        "p",
        "CYPHER n='Alice' ages=[30,40] MATCH (p:Person {name:$n}) RETURN p.name, $ages",
    );
    let items = r.items();
    assert_eq!(
        items[0],
        Reply::Array(vec![
            Reply::Array(vec![Reply::Int(1), b("p.name")]),
            Reply::Array(vec![Reply::Int(1), b("$ages")]),
        ])
    );
    assert_eq!(items[1].items()[0].items()[0], typed(2, b("Alice")));

    assert_eq!(
        c.cmd(&["GRAPH.RO_QUERY", "p", "CREATE (:X)"]),
        Reply::err("graph.RO_QUERY is to be executed only on read-only queries")
    );
    assert_eq!(
        c.cmd(&["GRAPH.RO_QUERY", "nosuch", "MATCH (n) RETURN n"]),
        Reply::err("ERR Invalid graph operation on empty key")
    );
    let r = c.cmd(&["GRAPH.RO_QUERY", "p", "MATCH (p:Person) RETURN count(p)"]);
    assert_eq!(r.items()[1].items()[0], Reply::Array(vec![Reply::Int(2)]));
    assert_eq!(
        q(&mut c, "p", "MATCH (n RETURN n"),
        Reply::err(
            "errMsg: Invalid input 'R': expected a label, '{', a parameter or ')' line: 1, column: 10, offset: 9 errCtx: MATCH (n RETURN n errCtxOffset: 9"
        )
    );
    assert_eq!(q(&mut c, "p", "RETURN 1/0"), Reply::err("Division by zero"));
    assert_eq!(q(&mut c, "p", ""), Reply::err("Error: empty query."));
    assert_eq!(
        c.cmd(&["GRAPH.QUERY", "p", "RETURN 1", "timeout", "abc"]),
        Reply::err("Failed to parse query timeout value")
    );
    let r = c.cmd(&["GRAPH.QUERY", "p", "RETURN 1", "--bogus", "TIMEOUT", "1000"]);
    assert_eq!(r.items()[1].items()[0], Reply::Array(vec![Reply::Int(1)]));
    c.q("SET plainkey v");
    assert_eq!(
        q(&mut c, "plainkey", "RETURN 1"),
        Reply::err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    // A failed write changes nothing.
    let before = q(&mut c, "p", "MATCH (n) RETURN count(n)");
    assert!(q(&mut c, "p", "CREATE (:Z) WITH 1 AS x RETURN 1/0").is_err_reply());
    assert_eq!(
        q(&mut c, "p", "MATCH (n) RETURN count(n)").items()[1],
        before.items()[1]
    );
    // A read on a missing key creates the graph (as FalkorDB).
    let r = q(&mut c, "fresh", "MATCH (n) RETURN count(n)");
    assert_eq!(r.items()[1].items()[0], Reply::Array(vec![Reply::Int(0)]));
    assert_eq!(c.q("TYPE fresh"), Reply::simple("graphdata"));
    // A stale schema version answers [error, current version].
    let r = c.cmd(&["GRAPH.QUERY", "p", "RETURN 1", "version", "999"]);
    let items = r.items();
    assert_eq!(items[0], Reply::err("version mismatch"));
    assert!(matches!(items[1], Reply::Int(_)));
}

trait ErrReply {
    fn is_err_reply(&self) -> bool;
}

impl ErrReply for Reply {
    fn is_err_reply(&self) -> bool {
        matches!(self, Reply::Error(_))
    }
}

#[test]
fn list_delete_copy_and_admin_commands() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    let keys = keys_on_shards("g", 2, 2);
    for k in &keys {
        qc(&mut c, k, "CREATE (:A {x: 1})");
    }
    let mut listed: Vec<String> = c.q("GRAPH.LIST").items().iter().map(Reply::text).collect();
    listed.sort();
    let mut want = keys.clone();
    want.sort();
    assert_eq!(listed, want, "GRAPH.LIST gathers every shard");

    // COPY on one shard and across shards.
    let far = keys_on_shards("dst", 2, 2);
    assert_eq!(c.cmd(&["GRAPH.COPY", &keys[0], &far[0]]), b("OK"));
    assert_eq!(c.cmd(&["GRAPH.COPY", &keys[0], &far[1]]), b("OK"));
    for k in &far {
        let r = q(&mut c, k, "MATCH (a:A) RETURN a.x");
        assert_eq!(
            r.items()[1].items()[0],
            Reply::Array(vec![Reply::Int(1)]),
            "{k}"
        );
    }
    assert!(c.cmd(&["GRAPH.COPY", &keys[0], &far[1]]).is_err_reply());

    assert_eq!(c.cmd(&["GRAPH.DELETE", &far[0]]), Reply::ok());
    assert_eq!(
        c.cmd(&["GRAPH.DELETE", &far[0]]),
        Reply::err("ERR Invalid graph operation on empty key")
    );
    c.q("SET plain v");
    assert_eq!(
        c.cmd(&["GRAPH.DELETE", "plain"]),
        Reply::err("ERR Invalid graph operation on empty key")
    );

    // EXPLAIN never runs; PROFILE runs and annotates.
    let r = c.cmd(&[
        "GRAPH.EXPLAIN",
        &keys[0],
        "MATCH (a:A)-[:R]->(b) WHERE a.x > 0 RETURN b LIMIT 3",
    ]);
    let lines: Vec<String> = r.items().iter().map(Reply::text).collect();
    assert_eq!(lines[0], "Results");
    assert!(lines.iter().any(|l| l == "    Limit"), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.trim_start().starts_with("Node By ") && l.ends_with(":A)")),
        "{lines:?}"
    );
    assert_eq!(
        c.cmd(&["GRAPH.EXPLAIN", &keys[0], "CREATE (:B)"]),
        Reply::bulks(&["Create"])
    );
    let r = c.cmd(&["GRAPH.PROFILE", &keys[0], "CREATE (:B)"]);
    assert!(
        r.items()[0]
            .text()
            .starts_with("Create | Records produced: 0, Execution time: "),
        "{r:?}"
    );
    let r = q(&mut c, &keys[0], "MATCH (b:B) RETURN count(b)");
    assert_eq!(r.items()[1].items()[0], Reply::Array(vec![Reply::Int(1)]));

    // CONFIG.
    assert_eq!(
        c.q("GRAPH.CONFIG GET TIMEOUT"),
        Reply::Array(vec![b("TIMEOUT"), Reply::Int(0)])
    );
    assert_eq!(c.q("GRAPH.CONFIG SET TIMEOUT_DEFAULT 10000"), Reply::ok());
    assert_eq!(
        c.q("GRAPH.CONFIG GET TIMEOUT_DEFAULT"),
        Reply::Array(vec![b("TIMEOUT_DEFAULT"), Reply::Int(10000)])
    );
    assert_eq!(
        c.q("GRAPH.CONFIG SET NOSUCH 1"),
        Reply::err("Unknown configuration field")
    );
    assert_eq!(
        c.q("GRAPH.CONFIG SET THREAD_COUNT 4"),
        Reply::err("This configuration parameter cannot be set at run-time")
    );
    assert!(c.q("GRAPH.CONFIG GET *").items().len() >= 18);
    c.q("GRAPH.CONFIG SET RESULTSET_SIZE 1");
    let r = q(&mut c, &keys[0], "UNWIND [1,2,3] AS x RETURN x");
    assert_eq!(
        r.items()[1].items().len(),
        1,
        "RESULTSET_SIZE caps the rows"
    );
    c.q("GRAPH.CONFIG SET RESULTSET_SIZE -1");

    // MEMORY USAGE, SLOWLOG, INFO.
    let m = c.cmd(&["GRAPH.MEMORY", "USAGE", &keys[0]]).items();
    assert_eq!(m[0], b("total_graph_sz_mb"));
    assert_eq!(m.len(), 18);
    let slow = c.cmd(&["GRAPH.SLOWLOG", &keys[0]]).items();
    assert!(!slow.is_empty());
    assert_eq!(slow[0].items().len(), 5);
    assert_eq!(c.cmd(&["GRAPH.SLOWLOG", &keys[0], "RESET"]), Reply::ok());
    assert_eq!(c.cmd(&["GRAPH.SLOWLOG", &keys[0]]), Reply::Array(vec![]));
    let info = c.q("GRAPH.INFO").items();
    assert_eq!(info[0], b("# Running queries"));
    assert!(
        c.q("GRAPH.CONSTRAINT CREATE g UNIQUE NODE A PROPERTIES 1 x")
            .is_err_reply()
    );
    let usage = c.cmd(&["MEMORY", "USAGE", &keys[0]]);
    assert!(usage.int() > 0);
}

#[test]
fn write_queries_replay_from_the_wal_with_the_same_ids() {
    let args = ["--shards", "2", "--appendonly", "yes"];
    let s = Server::start(&args);
    let mut c = s.conn();
    let keys = keys_on_shards("w", 2, 2);
    for k in &keys {
        qc(&mut c, k, CREATE);
        // Free an id, then reuse it: replay must reproduce the reuse.
        qc(&mut c, k, "MATCH (n:Person {name:'Bob'}) DETACH DELETE n");
        qc(&mut c, k, "CREATE (:Person {name:'Carol'})-[:KNOWS]->(:X)");
        assert!(q(&mut c, k, "CREATE (:Y) WITH 1 AS x RETURN 1/0").is_err_reply());
    }
    let far = keys_on_shards("wc", 2, 2);
    assert_eq!(c.cmd(&["GRAPH.COPY", &keys[0], &far[1]]), b("OK"));
    q(&mut c, "empty", "MATCH (n) RETURN n");
    let read = "MATCH (n) OPTIONAL MATCH (n)-[r]->(m) RETURN id(n), labels(n), n.name, id(r), type(r), id(m) ORDER BY id(n)";
    let before: Vec<Reply> = keys
        .iter()
        .chain(&far[1..])
        .map(|k| qc(&mut c, k, read).items()[1].clone())
        .collect();
    drop(c);
    let s = s.stop_restart(&args);
    let mut c = s.conn();
    let after: Vec<Reply> = keys
        .iter()
        .chain(&far[1..])
        .map(|k| qc(&mut c, k, read).items()[1].clone())
        .collect();
    assert_eq!(before, after);
    assert_eq!(c.q("TYPE empty"), Reply::simple("graphdata"));
    let r = q(&mut c, &keys[0], "MATCH (y:Y) RETURN count(y)");
    assert_eq!(r.items()[1].items()[0], Reply::Array(vec![Reply::Int(0)]));
}

/// MEMORY USAGE of a graph key and the server's `used_memory` follow writes (the keyspace keeps
/// an O(1) estimate, re-measured as the graph changes) and drop when the graph is deleted.
#[test]
fn memory_accounting_follows_graph_writes() {
    let s = Server::start(&["--shards", "1"]);
    let mut c = s.conn();
    let used = |c: &mut common::resp::Conn| -> i64 {
        let fields = common::info_fields(&c.cmd(&["INFO", "memory"]).text());
        common::field(&fields, "used_memory")
            .parse()
            .expect("used_memory")
    };
    let base = used(&mut c);
    q(&mut c, "mem", "CREATE (:A {v: 0})");
    let small = c.cmd(&["MEMORY", "USAGE", "mem"]).int();
    for i in 0..20 {
        let r = q(
            &mut c,
            "mem",
            &format!("UNWIND range(1, 1000) AS x CREATE (:A {{v: x, s: 'a string of text {i}'}})"),
        );
        assert!(!r.is_err_reply(), "{r:?}");
    }
    let big = c.cmd(&["MEMORY", "USAGE", "mem"]).int();
    assert!(
        big > small + 20_000 * 40,
        "20,000 nodes with two properties: {small} -> {big}"
    );
    // The estimate stays close to an exact measurement (GRAPH.MEMORY USAGE walks the graph).
    let exact = c.cmd(&["GRAPH.MEMORY", "USAGE", "mem"]).items()[1].int() * 1024 * 1024;
    assert!(
        (big as f64) < (exact.max(1 << 20) as f64) * 2.0,
        "estimate {big} vs exact {exact}"
    );
    assert!(
        used(&mut c) >= base + big / 2,
        "used_memory counts the graph"
    );
    assert_eq!(
        q(&mut c, "mem", "MATCH (n:A) RETURN count(n)").items()[1].items()[0].items()[0],
        Reply::Int(20_001)
    );
    c.cmd(&["GRAPH.DELETE", "mem"]);
    assert!(
        used(&mut c) < base + big / 2,
        "used_memory drops with the graph"
    );
}

/// Plans are cached by the statement after the `CYPHER` prefix: the same statement with other
/// parameter values gives their results, and a bad prefix still answers the compiler's error.
#[test]
fn cached_plans_take_each_querys_parameters() {
    let s = Server::start(&["--shards", "1"]);
    let mut c = s.conn();
    for i in 0..5 {
        let r = qc(
            &mut c,
            "pc",
            &format!("CYPHER x={i} y='s{i}' RETURN $x + 1, $y"),
        );
        let row = &r.items()[1].items()[0];
        assert_eq!(row.items()[0], typed_int(i + 1), "{r:?}");
        assert_eq!(row.items()[1], typed(2, b(&format!("s{i}"))), "{r:?}");
    }
    let missing = q(&mut c, "pc", "RETURN $x + 1, $y");
    assert!(missing.is_err_reply(), "{missing:?}");
    let bad = q(&mut c, "pc", "CYPHER x=y RETURN $x + 1, $y");
    assert!(bad.is_err_reply(), "{bad:?}");
    let ok = qc(&mut c, "pc", "CYPHER x=[1,2] y=null RETURN $x + 1, $y");
    assert!(!ok.is_err_reply(), "{ok:?}");
}
