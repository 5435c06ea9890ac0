//! FT.SUGADD / FT.SUGGET / FT.SUGDEL / FT.SUGLEN end to end (`--shards 2`): every option and
//! error text (RediSearch's `suggest.c`), the ranking computed by hand (f32 scores, exact
//! match first, FUZZY's `exp(-2·dist)`, the `sqrt(1 + |len − len(prefix)|)` divisor), the
//! dictionary as an ordinary key (TYPE `trietype0`, OBJECT ENCODING, DEL, EXPIRE, RENAME and
//! COPY across shards, DUMP/RESTORE, MEMORY USAGE, FLUSHDB, MULTI/EXEC, WRONGTYPE both ways),
//! and persistence through a snapshot and through the WAL tail after a crash. Also synonym
//! expansion at query time (FT.SYNUPDATE groups applied by FT.SEARCH and shown by
//! FT.EXPLAIN).

mod common;

use common::ft::{q, qerr};
use common::{Server, err_text, keys_on_shards};
use redis::{Connection, Value};

const ARGS: &[&str] = &["--shards", "2"];

fn int(con: &mut Connection, args: &[&str]) -> i64 {
    match q(con, args) {
        Value::Int(i) => i,
        other => panic!("{args:?}: {other:?}"),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Nil => "<nil>".into(),
        other => format!("{other:?}"),
    }
}

fn texts(v: Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().map(text).collect(),
        other => panic!("not an array: {other:?}"),
    }
}

/// A ranked score as RediSearch computes it: each step rounded to f32.
fn ranked(score: f32, dist: Option<u32>, entry_chars: usize, prefix_bytes: usize) -> f64 {
    let mut s = score;
    if let Some(d) = dist {
        s = (f64::from(s) * (-2.0 * f64::from(d)).exp()) as f32;
    }
    f64::from((f64::from(s) / ((1 + entry_chars.abs_diff(prefix_bytes)) as f64).sqrt()) as f32)
}

fn score_of(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a score: {s}"))
}

#[test]
fn commands_options_ranking_and_errors() {
    let s = Server::start(ARGS);
    let mut con = s.client();
    assert_eq!(int(&mut con, &["FT.SUGADD", "ac", "hello world", "1"]), 1);
    assert_eq!(
        int(
            &mut con,
            &["FT.SUGADD", "ac", "hello", "1", "PAYLOAD", "p-hello"]
        ),
        2
    );
    assert_eq!(int(&mut con, &["FT.SUGADD", "ac", "help", "5"]), 3);
    // INCR adds; a later SUGADD without PAYLOAD keeps the payload.
    assert_eq!(int(&mut con, &["FT.SUGADD", "ac", "hello", "2", "incr"]), 3);
    // Storage is case-sensitive: a second entry.
    assert_eq!(int(&mut con, &["FT.SUGADD", "ac", "Hello", "1"]), 4);
    assert_eq!(int(&mut con, &["FT.SUGLEN", "ac"]), 4);
    assert_eq!(int(&mut con, &["FT.SUGLEN", "missing"]), 0);
    // Empty strings are ignored.
    assert_eq!(int(&mut con, &["FT.SUGADD", "ac", "", "1"]), 4);

    // Default MAX 5, best first; matching folds case.
    assert_eq!(
        texts(q(&mut con, &["FT.SUGGET", "ac", "HEL"])),
        ["help", "hello", "Hello", "hello world"]
    );
    let r = texts(q(
        &mut con,
        &[
            "FT.SUGGET",
            "ac",
            "hel",
            "WITHSCORES",
            "WITHPAYLOADS",
            "MAX",
            "3",
        ],
    ));
    assert_eq!(r.len(), 9);
    assert_eq!((r[0].as_str(), r[2].as_str()), ("help", "<nil>"));
    assert_eq!(score_of(&r[1]), ranked(5.0, None, 4, 3));
    assert_eq!((r[3].as_str(), r[5].as_str()), ("hello", "p-hello"));
    assert_eq!(score_of(&r[4]), ranked(3.0, None, 5, 3));
    assert_eq!(score_of(&r[7]), ranked(1.0, None, 5, 3));
    // An entry equal to the folded prefix ranks with INT_MAX.
    let r = texts(q(
        &mut con,
        &["FT.SUGGET", "ac", "HELLO", "WITHSCORES", "MAX", "1"],
    ));
    assert_eq!(r[0], "hello");
    assert_eq!(score_of(&r[1]), ranked(i32::MAX as f32, None, 5, 5));
    // FUZZY: one edit away from a prefix of the entry.
    assert!(texts(q(&mut con, &["FT.SUGGET", "ac", "jel"])).is_empty());
    let r = texts(q(
        &mut con,
        &["FT.SUGGET", "ac", "jel", "FUZZY", "WITHSCORES"],
    ));
    assert_eq!(r[0], "help");
    assert_eq!(score_of(&r[1]), ranked(5.0, Some(1), 4, 3));
    assert_eq!(r.len(), 8);
    // TRIM and OPTIMIZE are accepted.
    assert_eq!(
        texts(q(
            &mut con,
            &["FT.SUGGET", "ac", "help", "TRIM", "OPTIMIZE"]
        )),
        ["help"]
    );
    assert_eq!(
        q(&mut con, &["FT.SUGGET", "missing", "a"]),
        Value::Array(vec![])
    );

    // SUGDEL names the exact spelling; the last one deletes the key.
    assert_eq!(int(&mut con, &["FT.SUGDEL", "ac", "HELP"]), 0);
    assert_eq!(int(&mut con, &["FT.SUGDEL", "ac", "help"]), 1);
    assert_eq!(int(&mut con, &["FT.SUGDEL", "missing", "help"]), 0);
    for t in ["hello", "Hello", "hello world"] {
        assert_eq!(int(&mut con, &["FT.SUGDEL", "ac", t]), 1);
    }
    assert_eq!(int(&mut con, &["EXISTS", "ac"]), 0);

    // Errors, in RediSearch's order and words.
    q(&mut con, &["FT.SUGADD", "ac", "x", "1"]);
    for (args, want) in [
        (
            &["FT.SUGADD", "ac", "x"][..],
            "ERR wrong number of arguments for 'ft.sugadd' command",
        ),
        (
            &["FT.SUGADD", "ac", "x", "1", "INCR", "INCR", "INCR", "INCR"][..],
            "ERR wrong number of arguments for 'ft.sugadd' command",
        ),
        (
            &["FT.SUGADD", "ac", "x", "1", "FOO"][..],
            "Unknown argument `FOO`",
        ),
        (
            &["FT.SUGADD", "ac", "x", "1", "PAYLOAD"][..],
            "Invalid payload: Expected an argument, but none provided",
        ),
        (&["FT.SUGADD", "ac", "x", "one"][..], "ERR invalid score"),
        (&["FT.SUGADD", "ac", "x", "nan"][..], "ERR invalid score"),
        (
            &["FT.SUGGET", "ac"][..],
            "ERR wrong number of arguments for 'ft.sugget' command",
        ),
        (
            &["FT.SUGGET", "ac", "x", "MAX", "0"][..],
            "MAX: Value is outside acceptable bounds",
        ),
        (
            &["FT.SUGGET", "ac", "x", "MAX", "many"][..],
            "MAX: Could not convert argument to expected type",
        ),
        (
            &["FT.SUGGET", "ac", "x", "MAX"][..],
            "MAX: Expected an argument, but none provided",
        ),
        (
            &["FT.SUGGET", "ac", "x", "BOGUS"][..],
            "Unrecognized argument: BOGUS",
        ),
        (
            &["FT.SUGDEL", "ac"][..],
            "ERR wrong number of arguments for 'ft.sugdel' command",
        ),
        (
            &["FT.SUGLEN"][..],
            "ERR wrong number of arguments for 'ft.suglen' command",
        ),
    ] {
        assert_eq!(qerr(&mut con, args), want, "{args:?}");
    }
    let long = "a".repeat(200);
    assert_eq!(
        qerr(&mut con, &["FT.SUGGET", "ac", &long]),
        "Invalid query length"
    );
    let long = "a".repeat(150);
    assert_eq!(qerr(&mut con, &["FT.SUGGET", "ac", &long]), "Invalid query");

    // WRONGTYPE both ways; the invalid score loses to the type check, as in RediSearch.
    q(&mut con, &["SET", "str", "v"]);
    let wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
    assert_eq!(qerr(&mut con, &["FT.SUGADD", "str", "x", "bad"]), wrongtype);
    assert_eq!(qerr(&mut con, &["FT.SUGGET", "str", "x"]), wrongtype);
    assert_eq!(qerr(&mut con, &["FT.SUGDEL", "str", "x"]), wrongtype);
    assert_eq!(qerr(&mut con, &["FT.SUGLEN", "str"]), wrongtype);
    assert_eq!(qerr(&mut con, &["GET", "ac"]), wrongtype);
    assert_eq!(qerr(&mut con, &["LPUSH", "ac", "x"]), wrongtype);
}

#[test]
fn a_dictionary_is_an_ordinary_key() {
    let s = Server::start(ARGS);
    let mut con = s.client();
    let keys = keys_on_shards("sug", 2, 2);
    let (a, b) = (keys[0].as_str(), keys[1].as_str());
    q(&mut con, &["FT.SUGADD", a, "alpha", "2", "PAYLOAD", "pa"]);
    q(&mut con, &["FT.SUGADD", a, "alpine", "1"]);
    assert_eq!(
        q(&mut con, &["TYPE", a]),
        Value::SimpleString("trietype0".into())
    );
    assert_eq!(text(&q(&mut con, &["OBJECT", "ENCODING", a])), "raw");
    assert!(int(&mut con, &["MEMORY", "USAGE", a]) > 20);
    let want = texts(q(
        &mut con,
        &["FT.SUGGET", a, "al", "WITHSCORES", "WITHPAYLOADS"],
    ));

    // RENAME and COPY to a key of the other shard.
    assert_eq!(q(&mut con, &["RENAME", a, b]), Value::Okay);
    assert_eq!(
        texts(q(
            &mut con,
            &["FT.SUGGET", b, "al", "WITHSCORES", "WITHPAYLOADS"]
        )),
        want
    );
    assert_eq!(int(&mut con, &["COPY", b, a]), 1);
    assert_eq!(int(&mut con, &["FT.SUGLEN", a]), 2);

    // DUMP / RESTORE (Moon's own type byte; redis-server would refuse it).
    let Value::BulkString(payload) = q(&mut con, &["DUMP", a]) else {
        panic!("DUMP")
    };
    let restored: Value = redis::cmd("RESTORE")
        .arg("restored")
        .arg(0)
        .arg(&payload[..])
        .query(&mut con)
        .expect("RESTORE");
    assert_eq!(restored, Value::Okay);
    assert_eq!(
        texts(q(
            &mut con,
            &["FT.SUGGET", "restored", "al", "WITHSCORES", "WITHPAYLOADS"]
        )),
        want
    );
    let mut bad = payload.clone();
    bad[3] ^= 0x55;
    let e = redis::cmd("RESTORE")
        .arg("bad")
        .arg(0)
        .arg(&bad[..])
        .query::<Value>(&mut con)
        .expect_err("corrupt payload");
    assert!(err_text(&e).contains("checksum"), "{}", err_text(&e));

    // EXPIRE, DEL, FLUSHDB.
    assert_eq!(int(&mut con, &["PEXPIRE", a, "50"]), 1);
    std::thread::sleep(std::time::Duration::from_millis(120));
    assert_eq!(int(&mut con, &["FT.SUGLEN", a]), 0);
    assert_eq!(int(&mut con, &["DEL", b]), 1);
    assert_eq!(int(&mut con, &["EXISTS", "restored"]), 1);
    assert_eq!(q(&mut con, &["FLUSHDB"]), Value::Okay);
    assert_eq!(int(&mut con, &["DBSIZE"]), 0);

    // Inside MULTI/EXEC.
    let r: Vec<Value> = redis::pipe()
        .atomic()
        .cmd("FT.SUGADD")
        .arg("m")
        .arg("one")
        .arg(1)
        .cmd("FT.SUGLEN")
        .arg("m")
        .query(&mut con)
        .expect("EXEC");
    assert_eq!(r, vec![Value::Int(1), Value::Int(1)]);
}

fn image(con: &mut Connection, key: &str) -> Vec<String> {
    texts(q(
        con,
        &[
            "FT.SUGGET",
            key,
            "",
            "WITHSCORES",
            "WITHPAYLOADS",
            "MAX",
            "100",
        ],
    ))
}

fn fill(con: &mut Connection, key: &str, n: usize) {
    for i in 0..n {
        let t = format!("term {i:03}");
        let score = format!("{}.25", i % 7);
        if i % 3 == 0 {
            q(
                con,
                &["FT.SUGADD", key, &t, &score, "PAYLOAD", &format!("p{i}")],
            );
        } else {
            q(con, &["FT.SUGADD", key, &t, &score]);
        }
    }
}

#[test]
fn dictionaries_survive_a_snapshot_and_the_wal_tail() {
    const WAL: [&str; 8] = common::TWO_SHARDS_WAL_ALWAYS;
    let s = Server::start(&WAL);
    let mut con = s.client();
    let keys = keys_on_shards("dict", 2, 2);
    fill(&mut con, &keys[0], 40);
    fill(&mut con, &keys[1], 10);
    assert_eq!(q(&mut con, &["SAVE"]), Value::Okay);
    // The WAL tail: INCR, payload changes, a deletion.
    q(
        &mut con,
        &[
            "FT.SUGADD",
            &keys[0],
            "term 001",
            "0.1",
            "INCR",
            "PAYLOAD",
            "late",
        ],
    );
    q(&mut con, &["FT.SUGDEL", &keys[0], "term 002"]);
    q(&mut con, &["FT.SUGADD", &keys[1], "Zeta", "9"]);
    let want: Vec<Vec<String>> = keys.iter().map(|k| image(&mut con, k)).collect();
    let s = s.crash_restart(&WAL);
    let mut con = s.client();
    let got: Vec<Vec<String>> = keys.iter().map(|k| image(&mut con, k)).collect();
    assert_eq!(got, want);
    assert_eq!(int(&mut con, &["FT.SUGLEN", &keys[0]]), 39);

    // A snapshot alone (no WAL).
    const NO_WAL: [&str; 6] = ["--shards", "2", "--appendonly", "no", "--save", ""];
    let s = s.stop_restart(&NO_WAL);
    let mut con = s.client();
    assert_eq!(q(&mut con, &["SAVE"]), Value::Okay);
    let s = s.crash_restart(&NO_WAL);
    let mut con = s.client();
    let got: Vec<Vec<String>> = keys.iter().map(|k| image(&mut con, k)).collect();
    assert_eq!(got, want);
    assert_eq!(
        q(&mut con, &["TYPE", &keys[1]]),
        Value::SimpleString("trietype0".into())
    );
    let dir = s.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `(key, score)` of a WITHSCORES NOCONTENT search.
fn scored(con: &mut Connection, args: &[&str]) -> Vec<(String, f64)> {
    let mut all = vec!["FT.SEARCH"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["NOCONTENT", "WITHSCORES"]);
    let v = texts(q(con, &all));
    v[1..]
        .chunks(2)
        .map(|c| (c[0].clone(), score_of(&c[1])))
        .collect()
}

fn keys(con: &mut Connection, args: &[&str]) -> Vec<String> {
    let mut all = vec!["FT.SEARCH"];
    all.extend_from_slice(args);
    all.push("NOCONTENT");
    let v = match q(con, &all) {
        Value::Array(items) => items,
        other => panic!("{other:?}"),
    };
    let mut k: Vec<String> = v[1..].iter().map(text).collect();
    assert_eq!(v[0], Value::Int(k.len() as i64), "{args:?}");
    k.sort();
    k
}

#[test]
fn synonyms_expand_query_terms() {
    let s = Server::start(ARGS);
    let mut con = s.client();
    q(
        &mut con,
        &[
            "FT.CREATE",
            "idx",
            "PREFIX",
            "1",
            "doc:",
            "SCHEMA",
            "t",
            "TEXT",
        ],
    );
    // Keys on both shards.
    for (k, t) in [
        ("doc:1", "the boy plays outside"),
        ("doc:2", "a child sleeps"),
        ("doc:3", "kids run and a kid jumps"),
        ("doc:4", "an adult reads"),
        ("doc:5", "boys and girls"),
    ] {
        q(&mut con, &["HSET", k, "t", t]);
    }
    assert_eq!(keys(&mut con, &["idx", "child"]), ["doc:2"]);
    q(&mut con, &["FT.SYNUPDATE", "idx", "g1", "Boy", "child"]);
    q(&mut con, &["FT.SYNUPDATE", "idx", "g2", "child", "kid"]);
    // A term in groups matches every term of its groups, each exactly as written ("kids" is
    // not "kid"; "boys" is not "boy").
    assert_eq!(
        keys(&mut con, &["idx", "child"]),
        ["doc:1", "doc:2", "doc:3"]
    );
    assert_eq!(keys(&mut con, &["idx", "boy"]), ["doc:1", "doc:2", "doc:5"]);
    assert_eq!(keys(&mut con, &["idx", "kid"]), ["doc:2", "doc:3"]);
    // The query term itself still stem-expands ("boy" found "boys" above); a term in no
    // group is unchanged.
    assert_eq!(keys(&mut con, &["idx", "adult"]), ["doc:4"]);
    // VERBATIM and a quoted term do not expand.
    assert_eq!(keys(&mut con, &["idx", "child", "VERBATIM"]), ["doc:2"]);
    assert_eq!(keys(&mut con, &["idx", "\"child\""]), ["doc:2"]);
    // Inside a larger query.
    assert_eq!(
        keys(&mut con, &["idx", "child -sleeps"]),
        ["doc:1", "doc:3"]
    );
    assert_eq!(keys(&mut con, &["idx", "@t:(child plays)"]), ["doc:1"]);
    // Every match scores (the synonym's own BM25 term), the literal term as usual.
    let sc = scored(&mut con, &["idx", "child"]);
    assert_eq!(sc.len(), 3);
    assert!(sc.iter().all(|(_, s)| *s > 0.0), "{sc:?}");
    // FT.EXPLAIN shows the groups as RediSearch's expander does (before the stems).
    assert_eq!(
        text(&q(&mut con, &["FT.EXPLAIN", "idx", "child"])),
        "UNION {\n  child\n  ~g1(expanded)\n  ~g2(expanded)\n}\n"
    );
    assert_eq!(
        text(&q(&mut con, &["FT.EXPLAIN", "idx", "boy"])),
        "UNION {\n  boy\n  ~g1(expanded)\n}\n"
    );
    assert_eq!(
        text(&q(&mut con, &["FT.EXPLAIN", "idx", "child", "VERBATIM"])),
        "child\n"
    );
    assert_eq!(
        texts(q(&mut con, &["FT.EXPLAINCLI", "idx", "kid"])),
        ["UNION {", "  kid", "  ~g2(expanded)", "}"]
    );
}
