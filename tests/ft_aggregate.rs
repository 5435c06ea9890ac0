//! FT.AGGREGATE, FT.CURSOR, FT.DICT* and FT.SYN* end to end (`--shards 2`, documents on both
//! shards): group-by counts and sums, APPLY/FILTER/SORTBY MAX/LIMIT against hand-computed
//! results, cursor paging until exhaustion, RESP3 shape, errors, dictionaries and synonyms
//! surviving a restart (WAL replay and snapshot), and redis-py's `AggregateRequest`.

mod common;

use common::ft::text;
use common::{Server, err_text};
use redis::{Connection, Value};

const ARGS: &[&str] = &["--shards", "2"];
const DOCS: i64 = 20;

fn colour(i: i64) -> &'static str {
    ["red", "green", "blue"][(i % 3) as usize]
}

/// `d:0..20` with colour, price = i and name `n<i>`, indexed by `idx`.
fn load(con: &mut Connection) {
    let _: () = redis::cmd("FT.CREATE")
        .arg(
            "idx PREFIX 1 d: SCHEMA color TAG price NUMERIC SORTABLE name TAG"
                .split(' ')
                .collect::<Vec<_>>(),
        )
        .query(con)
        .expect("FT.CREATE");
    for i in 0..DOCS {
        let _: () = redis::cmd("HSET")
            .arg(format!("d:{i}"))
            .arg("color")
            .arg(colour(i))
            .arg("price")
            .arg(i)
            .arg("name")
            .arg(format!("n{i}"))
            .query(con)
            .expect("HSET");
    }
}

fn agg(con: &mut Connection, args: &[&str]) -> Value {
    redis::cmd("FT.AGGREGATE")
        .arg(args)
        .query(con)
        .unwrap_or_else(|e| panic!("FT.AGGREGATE {args:?}: {e}"))
}

fn fails(con: &mut Connection, cmd: &str, args: &[&str]) -> String {
    match redis::cmd(cmd).arg(args).query::<Value>(con) {
        Ok(v) => panic!("{cmd} {args:?} answered {v:?}, expected an error"),
        Err(e) => err_text(&e),
    }
}

/// A RESP2 aggregate reply as `(total, rows of "k=v" strings)`.
fn rows(v: &Value) -> (i64, Vec<Vec<String>>) {
    let Value::Array(items) = v else {
        panic!("not an array: {v:?}")
    };
    let Some(Value::Int(total)) = items.first() else {
        panic!("no total: {v:?}")
    };
    let rows = items[1..]
        .iter()
        .map(|r| {
            let Value::Array(kv) = r else {
                panic!("row not an array: {r:?}")
            };
            kv.chunks(2)
                .map(|p| format!("{}={}", text(&p[0]), text(&p[1])))
                .collect()
        })
        .collect();
    (*total, rows)
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn group_by_apply_filter_sort_limit() {
    let srv = Server::start(ARGS);
    let mut con = srv.client();
    load(&mut con);
    // red: 0,3,..,18 (7 docs, sum 63); green: 1,4,..,19 (7, 70); blue: 2,5,..,17 (6, 57).
    let v = agg(
        &mut con,
        &[
            "idx", "*", "GROUPBY", "1", "@color", "REDUCE", "COUNT", "0", "AS", "n", "REDUCE",
            "SUM", "1", "@price", "AS", "s", "REDUCE", "AVG", "1", "@price", "SORTBY", "2",
            "@color", "ASC",
        ],
    );
    let (total, got) = rows(&v);
    assert_eq!(total, 3);
    assert_eq!(
        got,
        vec![
            strs(&["color=blue", "n=6", "s=57", "__generated_aliasavgprice=9.5"]),
            strs(&["color=green", "n=7", "s=70", "__generated_aliasavgprice=10"]),
            strs(&["color=red", "n=7", "s=63", "__generated_aliasavgprice=9"]),
        ]
    );
    // A TAG query, LOAD, APPLY, FILTER, SORTBY ... MAX.
    let v = agg(
        &mut con,
        &[
            "idx",
            "@color:{red}",
            "LOAD",
            "1",
            "@name",
            "APPLY",
            "@price * 2",
            "AS",
            "dbl",
            "FILTER",
            "@dbl > 10",
            "SORTBY",
            "2",
            "@dbl",
            "DESC",
            "MAX",
            "3",
        ],
    );
    let (total, got) = rows(&v);
    assert_eq!(total, 5);
    assert_eq!(
        got,
        vec![
            strs(&["name=n18", "price=18", "dbl=36"]),
            strs(&["name=n15", "price=15", "dbl=30"]),
            strs(&["name=n12", "price=12", "dbl=24"]),
        ]
    );
    // LIMIT after a NUMERIC range, and a group count over every doc.
    let v = agg(
        &mut con,
        &[
            "idx",
            "@price:[5 14]",
            "SORTBY",
            "2",
            "@price",
            "ASC",
            "LIMIT",
            "2",
            "3",
        ],
    );
    assert_eq!(
        rows(&v).1,
        vec![strs(&["price=7"]), strs(&["price=8"]), strs(&["price=9"])]
    );
    let v = agg(
        &mut con,
        &[
            "idx",
            "*",
            "GROUPBY",
            "0",
            "REDUCE",
            "COUNT",
            "0",
            "AS",
            "c",
            "REDUCE",
            "COUNT_DISTINCT",
            "1",
            "@color",
            "AS",
            "cd",
            "REDUCE",
            "MAX",
            "1",
            "@price",
            "AS",
            "mx",
            "REDUCE",
            "QUANTILE",
            "2",
            "@price",
            "0.5",
            "AS",
            "q",
        ],
    );
    assert_eq!(rows(&v).1, vec![strs(&["c=20", "cd=3", "mx=19", "q=10"])]);
    // Errors.
    assert_eq!(
        fails(&mut con, "FT.AGGREGATE", &["nope", "*"]),
        "nope: no such index"
    );
    assert_eq!(
        fails(
            &mut con,
            "FT.AGGREGATE",
            &["idx", "*", "GROUPBY", "1", "@zz"]
        ),
        "No such property `zz`"
    );
    assert_eq!(
        fails(
            &mut con,
            "FT.AGGREGATE",
            &["idx", "*", "GROUPBY", "1", "color"]
        ),
        "Bad arguments for GROUPBY: Unknown property `color`. Did you mean `@color`?"
    );
    assert_eq!(
        fails(&mut con, "FT.AGGREGATE", &["idx", "*", "REDUCE", "X", "0"]),
        "Unknown argument `REDUCE` at position 1 for <main>"
    );
}

#[test]
fn cursor_pages_until_exhausted() {
    let srv = Server::start(ARGS);
    let mut con = srv.client();
    load(&mut con);
    let first = agg(
        &mut con,
        &[
            "idx",
            "*",
            "LOAD",
            "1",
            "@price",
            "WITHCURSOR",
            "COUNT",
            "7",
        ],
    );
    let (mut chunk, mut id) = match &first {
        Value::Array(v) if v.len() == 2 => (v[0].clone(), text(&v[1]).parse::<u64>().expect("id")),
        other => panic!("{other:?}"),
    };
    let mut seen = Vec::new();
    let mut reads = 0;
    loop {
        let (total, got) = rows(&chunk);
        assert_eq!(total, DOCS);
        seen.extend(got);
        if id == 0 {
            break;
        }
        reads += 1;
        let v: Value = redis::cmd("FT.CURSOR")
            .arg(&["READ", "idx"])
            .arg(id)
            .query(&mut con)
            .expect("FT.CURSOR READ");
        let Value::Array(v) = v else { panic!("{v:?}") };
        chunk = v[0].clone();
        let next: u64 = text(&v[1]).parse().expect("id");
        if next != 0 {
            assert_eq!(next, id);
        }
        id = next;
    }
    assert_eq!(reads, 2);
    let mut prices: Vec<i64> = seen
        .iter()
        .map(|r| r[0].trim_start_matches("price=").parse().expect("price"))
        .collect();
    prices.sort();
    assert_eq!(prices, (0..DOCS).collect::<Vec<_>>());
    assert_eq!(
        fails(&mut con, "FT.CURSOR", &["READ", "idx", "12345"]),
        "Cursor not found"
    );
    // DEL drops a live cursor; COUNT on READ overrides the cursor's.
    let v = agg(&mut con, &["idx", "*", "WITHCURSOR", "COUNT", "1"]);
    let Value::Array(v) = v else { panic!("{v:?}") };
    let id = text(&v[1]);
    let r: Value = redis::cmd("FT.CURSOR")
        .arg(&["READ", "idx", &id, "COUNT", "5"])
        .query(&mut con)
        .expect("read");
    let Value::Array(r) = r else { panic!("{r:?}") };
    assert_eq!(rows(&r[0]).1.len(), 5);
    let ok: String = redis::cmd("FT.CURSOR")
        .arg(&["DEL", "idx", &id])
        .query(&mut con)
        .expect("del");
    assert_eq!(ok, "OK");
    assert_eq!(
        fails(&mut con, "FT.CURSOR", &["DEL", "idx", &id]),
        "Cursor does not exist"
    );
    assert_eq!(
        fails(&mut con, "FT.CURSOR", &["READ", "idx", "x"]),
        "Bad cursor ID"
    );
}

#[test]
fn resp3_shape() {
    let srv = Server::start(ARGS);
    let mut con = srv.client();
    load(&mut con);
    let mut con3 = srv.client_resp3();
    let v = agg(
        &mut con3,
        &[
            "idx",
            "@price:[0 1]",
            "LOAD",
            "1",
            "@name",
            "SORTBY",
            "2",
            "@name",
            "ASC",
        ],
    );
    let Value::Map(top) = v else { panic!("{v:?}") };
    let keys: Vec<String> = top.iter().map(|(k, _)| text(k)).collect();
    assert_eq!(
        keys,
        strs(&[
            "attributes",
            "format",
            "results",
            "total_results",
            "warning"
        ])
    );
    let Value::Array(results) = &top[2].1 else {
        panic!("{top:?}")
    };
    assert_eq!(results.len(), 2);
    let Value::Map(first) = &results[0] else {
        panic!("{results:?}")
    };
    assert_eq!(text(&first[0].0), "extra_attributes");
    let Value::Map(attrs) = &first[0].1 else {
        panic!("{first:?}")
    };
    assert_eq!(text(&attrs[0].0), "name");
    assert_eq!(text(&attrs[0].1), "n0");
    assert_eq!(top[3].1, Value::Int(2));
}

#[test]
fn dictionaries_and_synonyms_survive_restarts() {
    let args = ["--shards", "2", "--appendonly", "yes"];
    let srv = Server::start(&args);
    let mut con = srv.client();
    load(&mut con);
    let n: i64 = redis::cmd("FT.DICTADD")
        .arg(&["dict", "foo", "bar", "foo"])
        .query(&mut con)
        .expect("dictadd");
    assert_eq!(n, 2);
    let n: i64 = redis::cmd("FT.DICTADD")
        .arg(&["dict", "baz", "bar"])
        .query(&mut con)
        .expect("dictadd");
    assert_eq!(n, 1);
    let n: i64 = redis::cmd("FT.DICTDEL")
        .arg(&["dict", "baz", "nope"])
        .query(&mut con)
        .expect("dictdel");
    assert_eq!(n, 1);
    let dump = |con: &mut Connection| -> Vec<String> {
        redis::cmd("FT.DICTDUMP")
            .arg("dict")
            .query(con)
            .expect("dictdump")
    };
    assert_eq!(dump(&mut con), strs(&["bar", "foo"]));
    assert_eq!(
        fails(&mut con, "FT.DICTDUMP", &["none"]),
        "could not open dict key"
    );
    let ok: String = redis::cmd("FT.SYNUPDATE")
        .arg(&["idx", "g1", "Boy", "child"])
        .query(&mut con)
        .expect("synupdate");
    assert_eq!(ok, "OK");
    let _: String = redis::cmd("FT.SYNUPDATE")
        .arg(&["idx", "g2", "SKIPINITIALSCAN", "child", "kid"])
        .query(&mut con)
        .expect("synupdate");
    let syn = |con: &mut Connection| -> Value {
        redis::cmd("FT.SYNDUMP")
            .arg("idx")
            .query(con)
            .expect("syndump")
    };
    let expected = syn(&mut con);
    let Value::Array(flat) = &expected else {
        panic!("{expected:?}")
    };
    let flat: Vec<String> = flat
        .iter()
        .map(|v| match v {
            Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join("|"),
            v => text(v),
        })
        .collect();
    assert_eq!(flat, strs(&["boy", "g1", "child", "g1|g2", "kid", "g2"]));
    assert_eq!(
        fails(&mut con, "FT.SYNUPDATE", &["nope", "g", "x"]),
        "Unknown Index name"
    );
    assert_eq!(
        fails(&mut con, "FT.SYNDUMP", &["nope"]),
        "Unknown Index name"
    );
    // WAL replay.
    let srv = srv.crash_restart(&args);
    let mut con = srv.client();
    assert_eq!(dump(&mut con), strs(&["bar", "foo"]));
    assert_eq!(syn(&mut con), expected);
    // Snapshot load (SAVE, then a restart that finds the snapshot).
    let _: String = redis::cmd("SAVE").query(&mut con).expect("save");
    let srv = srv.stop_restart(&["--shards", "2"]);
    let mut con = srv.client();
    assert_eq!(dump(&mut con), strs(&["bar", "foo"]));
    assert_eq!(syn(&mut con), expected);
}

#[test]
fn spellcheck_across_shards() {
    let srv = Server::start(ARGS);
    let mut con = srv.client();
    let _: () = redis::cmd("FT.CREATE")
        .arg(&["t", "PREFIX", "1", "s:", "SCHEMA", "body", "TEXT"])
        .query(&mut con)
        .expect("FT.CREATE");
    for (i, body) in ["hello world", "hello there", "help me", "world peace"]
        .iter()
        .enumerate()
    {
        let _: () = redis::cmd("HSET")
            .arg(format!("s:{i}"))
            .arg("body")
            .arg(*body)
            .query(&mut con)
            .expect("HSET");
    }
    let _: i64 = redis::cmd("FT.DICTADD")
        .arg(&["extra", "hallo", "hell"])
        .query(&mut con)
        .expect("dictadd");
    let _: i64 = redis::cmd("FT.DICTADD")
        .arg(&["no", "help"])
        .query(&mut con)
        .expect("dictadd");
    let v: Value = redis::cmd("FT.SPELLCHECK")
        .arg(&[
            "t",
            "helo wrld world",
            "TERMS",
            "INCLUDE",
            "extra",
            "TERMS",
            "EXCLUDE",
            "no",
        ])
        .query(&mut con)
        .expect("spellcheck");
    // "world" is in the index (no entry).
    // "helo": hello (2 of 4 docs), then the INCLUDE dictionary's hell (0; hallo is 2 edits
    // away); help is excluded.
    let flat = |v: &Value| -> Vec<String> {
        let Value::Array(terms) = v else {
            panic!("{v:?}")
        };
        terms
            .iter()
            .map(|t| {
                let Value::Array(t) = t else { panic!("{t:?}") };
                let Value::Array(sugs) = &t[2] else {
                    panic!("{t:?}")
                };
                let s: Vec<String> = sugs
                    .iter()
                    .map(|p| match p {
                        Value::Array(p) => format!("{}:{}", text(&p[0]), text(&p[1])),
                        p => text(p),
                    })
                    .collect();
                format!("{} {} [{}]", text(&t[0]), text(&t[1]), s.join(" "))
            })
            .collect()
    };
    assert_eq!(
        flat(&v),
        strs(&["TERM helo [0.5:hello 0:hell]", "TERM wrld [0.5:world]"])
    );
    assert_eq!(
        fails(
            &mut con,
            "FT.SPELLCHECK",
            &["t", "x", "TERMS", "INCLUDE", "none"]
        ),
        "Dict does not exist: none"
    );
    assert_eq!(
        fails(&mut con, "FT.SPELLCHECK", &["nope", "x"]),
        "nope: no such index"
    );
}

const PY: &str = r#"
import sys
import redis
from redis.commands.search.field import TagField, NumericField
from redis.commands.search.indexDefinition import IndexDefinition
from redis.commands.search.aggregation import AggregateRequest, Asc, Desc
import redis.commands.search.reducers as reducers
r = redis.Redis(port=int(sys.argv[1]), decode_responses=True)
ft = r.ft("py")
ft.create_index([TagField("g"), NumericField("n")], definition=IndexDefinition(prefix=["p:"]))
for i in range(10):
    r.hset(f"p:{i}", mapping={"g": "a" if i % 2 else "b", "n": i})
req = (AggregateRequest("*").group_by("@g", reducers.count().alias("c"), reducers.sum("@n").alias("s"))
       .sort_by(Asc("@g")))
res = ft.aggregate(req)
assert res.rows == [["g", "a", "c", "5", "s", "25"], ["g", "b", "c", "5", "s", "20"]], res.rows
req = AggregateRequest("@n:[3 8]").load("@n").apply(sq="@n * @n").filter("@sq > 30").sort_by(Desc("@sq"), max=2)
res = ft.aggregate(req)
assert res.rows == [["n", "8", "sq", "64"], ["n", "7", "sq", "49"]], res.rows
req = AggregateRequest("*").load("@n").cursor(count=4)
res = ft.aggregate(req)
seen = len(res.rows)
while res.cursor.cid:
    res = ft.aggregate(res.cursor)
    seen += len(res.rows)
assert seen == 10, seen
print("ft aggregate redis-py ok")
"#;

#[test]
fn redis_py_aggregate_request() {
    let python = common::venv::redis_py()
        .unwrap_or_else(|why| panic!("cannot run the redis-py FT.AGGREGATE test: {why}"));
    let srv = Server::start(ARGS);
    common::venv::assert_python_ok(
        &python,
        PY,
        &[&srv.port().to_string()],
        "ft aggregate redis-py ok",
    );
}
