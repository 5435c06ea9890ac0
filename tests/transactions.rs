//! MULTI/EXEC/DISCARD/WATCH end to end: replies and error texts as redis-server 7 gives them,
//! WATCH seeing writes from other connections (on any shard) and from expiry, and isolation of
//! transactions whose keys live on different shards under concurrent clients.

mod common;

use std::time::Duration;

use common::{Reply, Server};

#[test]
fn multi_exec_replies_and_errors() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    assert_eq!(c.q("EXEC"), Reply::err("ERR EXEC without MULTI"));
    assert_eq!(c.q("DISCARD"), Reply::err("ERR DISCARD without MULTI"));
    assert_eq!(c.q("MULTI"), Reply::ok());
    assert_eq!(
        c.q("MULTI"),
        Reply::err("ERR MULTI calls can not be nested")
    );
    assert_eq!(c.q("SET a 1"), Reply::simple("QUEUED"));
    assert_eq!(c.q("INCR a"), Reply::simple("QUEUED"));
    assert_eq!(c.q("SET b{x} 2"), Reply::simple("QUEUED"));
    assert_eq!(c.q("SET a b c"), Reply::simple("QUEUED"));
    assert_eq!(c.q("MGET a b{x}"), Reply::simple("QUEUED"));
    assert_eq!(c.q("DBSIZE"), Reply::simple("QUEUED"));
    assert_eq!(c.q("PING"), Reply::simple("QUEUED"));
    assert_eq!(
        c.q("EXEC"),
        Reply::Array(vec![
            Reply::ok(),
            Reply::Int(2),
            Reply::ok(),
            Reply::err("ERR syntax error"),
            Reply::bulks(&["2", "2"]),
            Reply::Int(2),
            Reply::simple("PONG"),
        ])
    );

    // Queue-time errors (unknown command, arity) abort the whole transaction.
    assert_eq!(c.q("MULTI"), Reply::ok());
    assert_eq!(c.q("SET a 100"), Reply::simple("QUEUED"));
    assert!(
        c.q("NOSUCHCMD x")
            .error()
            .starts_with("ERR unknown command 'NOSUCHCMD'")
    );
    assert_eq!(
        c.q("GET"),
        Reply::err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(
        c.q("EXEC"),
        Reply::err("EXECABORT Transaction discarded because of previous errors.")
    );
    assert_eq!(c.q("GET a"), Reply::bulk("2"));

    assert_eq!(c.q("MULTI"), Reply::ok());
    assert_eq!(c.q("SET a 100"), Reply::simple("QUEUED"));
    assert_eq!(c.q("DISCARD"), Reply::ok());
    assert_eq!(c.q("GET a"), Reply::bulk("2"));

    assert_eq!(c.q("MULTI"), Reply::ok());
    assert_eq!(
        c.q("WATCH a"),
        Reply::err("ERR WATCH inside MULTI is not allowed")
    );
    assert_eq!(
        c.q("EXEC"),
        Reply::err("EXECABORT Transaction discarded because of previous errors.")
    );

    // SELECT inside the transaction applies to the commands after it and to the connection.
    assert_eq!(c.q("MULTI"), Reply::ok());
    assert_eq!(c.q("SELECT 3"), Reply::simple("QUEUED"));
    assert_eq!(c.q("SET a in3"), Reply::simple("QUEUED"));
    assert_eq!(c.q("EXEC"), Reply::Array(vec![Reply::ok(), Reply::ok()]));
    assert_eq!(c.q("GET a"), Reply::bulk("in3"));
    assert_eq!(c.q("SELECT 0"), Reply::ok());
    assert_eq!(c.q("GET a"), Reply::bulk("2"));

    // An empty transaction.
    assert_eq!(c.q("MULTI"), Reply::ok());
    assert_eq!(c.q("EXEC"), Reply::Array(vec![]));
}

#[test]
fn watch_sees_writes_from_any_connection_and_expiry() {
    let s = Server::start(&["--shards", "4"]);
    let mut c = s.conn();
    let mut other: Vec<_> = (0..4).map(|_| s.conn()).collect();

    // Unmodified: runs.
    assert_eq!(c.q("SET w1 1"), Reply::ok());
    assert_eq!(c.q("WATCH w1 w2 w3"), Reply::ok());
    assert_eq!(c.q("MULTI"), Reply::ok());
    assert_eq!(c.q("INCR w1"), Reply::simple("QUEUED"));
    assert_eq!(c.q("EXEC"), Reply::Array(vec![Reply::Int(2)]));

    // Modified by another connection (whatever shard it is on): aborted with a null array.
    for (i, o) in other.iter_mut().enumerate() {
        let key = format!("w{}", i + 1);
        assert_eq!(c.cmd(&["WATCH", key.as_str(), "unrelated"]), Reply::ok());
        assert_eq!(o.cmd(&["SET", key.as_str(), "x"]), Reply::ok());
        assert_eq!(c.q("MULTI"), Reply::ok());
        assert_eq!(c.cmd(&["GET", key.as_str()]), Reply::simple("QUEUED"));
        assert_eq!(c.q("EXEC"), Reply::NilArray, "watch of {key}");
    }

    // A write that does not change the value (SET NX on an existing key) is no modification.
    assert_eq!(c.q("WATCH w1"), Reply::ok());
    assert_eq!(other[0].q("SET w1 y NX"), Reply::NilBulk);
    assert_eq!(other[0].q("GET w1"), Reply::bulk("x"));
    assert_eq!(c.q("MULTI"), Reply::ok());
    assert_eq!(c.q("GET w1"), Reply::simple("QUEUED"));
    assert_eq!(c.q("EXEC"), Reply::Array(vec![Reply::bulk("x")]));

    // Deleting, renaming onto, and flushing a watched key all abort.
    for write in ["DEL w1", "RENAME w2 w1", "FLUSHALL"] {
        assert_eq!(other[1].q("SET w1 v"), Reply::ok());
        assert_eq!(other[1].q("SET w2 v2"), Reply::ok());
        assert_eq!(c.q("WATCH w1"), Reply::ok());
        assert!(!other[1].q(write).is_nil());
        assert_eq!(c.q("MULTI"), Reply::ok());
        assert_eq!(c.q("PING"), Reply::simple("QUEUED"));
        assert_eq!(c.q("EXEC"), Reply::NilArray, "after {write}");
    }

    // The watching client's own write counts too.
    assert_eq!(c.q("WATCH w3"), Reply::ok());
    assert_eq!(c.q("SET w3 mine"), Reply::ok());
    assert_eq!(c.q("MULTI"), Reply::ok());
    assert_eq!(c.q("GET w3"), Reply::simple("QUEUED"));
    assert_eq!(c.q("EXEC"), Reply::NilArray);

    // UNWATCH forgets.
    assert_eq!(c.q("WATCH w3"), Reply::ok());
    assert_eq!(other[2].q("SET w3 again"), Reply::ok());
    assert_eq!(c.q("UNWATCH"), Reply::ok());
    assert_eq!(c.q("MULTI"), Reply::ok());
    assert_eq!(c.q("GET w3"), Reply::simple("QUEUED"));
    assert_eq!(c.q("EXEC"), Reply::Array(vec![Reply::bulk("again")]));

    // A watched key that expires before EXEC counts as modified.
    assert_eq!(c.q("SET e v PX 100"), Reply::ok());
    assert_eq!(c.q("WATCH e"), Reply::ok());
    std::thread::sleep(Duration::from_millis(250));
    assert_eq!(c.q("MULTI"), Reply::ok());
    assert_eq!(c.q("PING"), Reply::simple("QUEUED"));
    assert_eq!(c.q("EXEC"), Reply::NilArray);
}

/// Writers increment eight keys spread over four shards in one transaction; readers read all
/// of them in one transaction. Without isolation a reader would see some keys incremented and
/// others not.
#[test]
fn transactions_across_shards_are_isolated() {
    let s = Server::start(&["--shards", "4"]);
    let keys: Vec<String> = (0..8).map(|i| format!("iso:{i}")).collect();
    let rounds = 150;
    let mut threads = Vec::new();
    for _ in 0..2 {
        let mut c = s.conn();
        let keys = keys.clone();
        threads.push(std::thread::spawn(move || {
            for _ in 0..rounds {
                assert_eq!(c.q("MULTI"), Reply::ok());
                for k in &keys {
                    assert_eq!(c.cmd(&["INCR", k.as_str()]), Reply::simple("QUEUED"));
                }
                let r = c.q("EXEC");
                assert_eq!(r.items().len(), keys.len());
            }
        }));
    }
    let mut readers = Vec::new();
    for _ in 0..2 {
        let mut c = s.conn();
        let keys = keys.clone();
        readers.push(std::thread::spawn(move || {
            let mut seen = 0;
            for _ in 0..rounds {
                assert_eq!(c.q("MULTI"), Reply::ok());
                for k in &keys {
                    assert_eq!(c.cmd(&["GET", k.as_str()]), Reply::simple("QUEUED"));
                }
                let values: Vec<Reply> = c.q("EXEC").items();
                assert!(
                    values.windows(2).all(|w| w[0] == w[1]),
                    "partial transaction observed: {values:?}"
                );
                if !values[0].is_nil() {
                    seen += 1;
                }
            }
            seen
        }));
    }
    for t in threads {
        t.join().expect("writer");
    }
    let seen: usize = readers.into_iter().map(|t| t.join().expect("reader")).sum();
    let mut c = s.conn();
    for k in &keys {
        assert_eq!(
            c.cmd(&["GET", k.as_str()]),
            Reply::bulk((2 * rounds).to_string())
        );
    }
    assert!(seen > 0, "readers never overlapped the writers");
}
