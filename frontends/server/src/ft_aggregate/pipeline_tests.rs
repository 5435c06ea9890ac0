//! Unit tests of the FT.AGGREGATE pipeline: reducers, APPLY/FILTER, SORTBY/MAX/LIMIT
//! defaults, missing values, and the reply shapes.

use super::*;

fn rec(key: &str, fields: &[(&str, Value)]) -> Row {
    Row {
        key: Bytes::copy_from_slice(key.as_bytes()),
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

fn n(x: f64) -> Value {
    Value::Num(x)
}

fn s(x: &str) -> Value {
    Value::Str(x.to_string())
}

fn steps(args: &str) -> Vec<Step> {
    let words = shell_split(args);
    let refs: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
    moon_ft::parse_aggregate_args(&refs)
        .map(|a| a.steps)
        .unwrap_or_else(|e| panic!("{args}: {e}"))
}

/// Splits on spaces; single quotes group words.
fn shell_split(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn rows() -> Vec<Row> {
    vec![
        rec("a", &[("color", s("red")), ("price", n(10.0))]),
        rec("b", &[("color", s("blue")), ("price", n(5.0))]),
        rec("c", &[("color", s("red")), ("price", n(2.5))]),
        rec("d", &[("color", s("green"))]),
    ]
}

fn field<'a>(r: &'a Row, name: &str) -> Option<&'a Value> {
    r.value(name)
}

#[test]
fn group_by_with_reducers() {
    let out = run(
        &steps(
            "GROUPBY 1 @color REDUCE COUNT 0 AS n REDUCE SUM 1 @price AS total \
             REDUCE AVG 1 @price AS avg REDUCE MIN 1 @price REDUCE TOLIST 1 @price AS l \
             SORTBY 2 @n DESC",
        ),
        rows(),
    )
    .expect("runs");
    assert_eq!(out.total, 3);
    let red = &out.rows[0];
    assert_eq!(field(red, "color"), Some(&s("red")));
    assert_eq!(field(red, "n"), Some(&n(2.0)));
    assert_eq!(field(red, "total"), Some(&n(12.5)));
    assert_eq!(field(red, "avg"), Some(&n(6.25)));
    assert_eq!(field(red, "__generated_aliasminprice"), Some(&n(2.5)));
    assert_eq!(field(red, "l"), Some(&Value::Array(vec![n(10.0), n(2.5)])));
    let green = out
        .rows
        .iter()
        .find(|r| field(r, "color") == Some(&s("green")));
    assert_eq!(green.and_then(|g| field(g, "total")), Some(&n(0.0)));
}

#[test]
fn apply_filter_sort_limit() {
    let out = run(
        &steps("FILTER 'exists(@price)' APPLY '@price * 2' AS double FILTER '@double > 5' SORTBY 2 @double ASC LIMIT 0 1"),
        rows(),
    )
    .expect("runs");
    assert_eq!(out.rows.len(), 1);
    assert_eq!(field(&out.rows[0], "double"), Some(&n(10.0)));
    // A missing field in arithmetic fails the query, as RediSearch's evaluator does.
    assert!(run(&steps("APPLY '@price * 2' AS double"), rows()).is_err());
    // SORTBY without MAX or LIMIT keeps RediSearch's 10; MAX overrides.
    let many: Vec<Row> = (0..30)
        .map(|i| rec(&format!("k{i:02}"), &[("x", n(f64::from(i)))]))
        .collect();
    let out = run(&steps("SORTBY 2 @x DESC"), many.clone()).expect("runs");
    assert_eq!(out.rows.len(), 10);
    assert_eq!(field(&out.rows[0], "x"), Some(&n(29.0)));
    let out = run(&steps("SORTBY 2 @x DESC MAX 3"), many.clone()).expect("runs");
    assert_eq!(out.rows.len(), 3);
    let out = run(&steps("LIMIT 25 10"), many).expect("runs");
    assert_eq!(out.rows.len(), 5);
}

#[test]
fn missing_sort_values_go_last() {
    let out = run(&steps("SORTBY 2 @price DESC"), rows()).expect("runs");
    let keys: Vec<&[u8]> = out.rows.iter().map(|r| &r.key[..]).collect();
    assert_eq!(keys, vec![&b"a"[..], b"b", b"c", b"d"]);
}

#[test]
fn stddev_quantile_first_value_distinct() {
    let out = run(
        &steps(
            "GROUPBY 0 REDUCE STDDEV 1 @price AS sd REDUCE QUANTILE 2 @price 0.5 AS q \
             REDUCE FIRST_VALUE 4 @color BY @price DESC AS top REDUCE COUNT_DISTINCT 1 @color AS cd \
             REDUCE RANDOM_SAMPLE 2 @color 2 AS rs",
        ),
        rows(),
    )
    .expect("runs");
    let r = &out.rows[0];
    let Some(Value::Num(sd)) = field(r, "sd") else {
        panic!("sd")
    };
    assert!((sd - 3.818_813_079).abs() < 1e-6, "{sd}");
    assert_eq!(field(r, "q"), Some(&n(5.0)));
    assert_eq!(field(r, "top"), Some(&s("red")));
    assert_eq!(field(r, "cd"), Some(&n(3.0)));
    let Some(Value::Array(sample)) = field(r, "rs") else {
        panic!("rs")
    };
    assert_eq!(sample.len(), 2);
}

#[test]
fn replies_in_both_protocols() {
    let r = reply(
        1,
        vec![rec("a", &[("x", n(1.5)), ("y", Value::Null)])].into_iter(),
        false,
    );
    assert_eq!(
        r,
        Reply::Array(vec![
            Reply::Int(1),
            Reply::Array(vec![bulk("x"), bulk("1.5"), bulk("y"), Reply::Nil])
        ])
    );
    let Reply::Map(m) = reply(0, Vec::new().into_iter(), true) else {
        panic!("map")
    };
    let keys: Vec<Reply> = m.into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [
            "attributes",
            "format",
            "results",
            "total_results",
            "warning"
        ]
        .iter()
        .map(|k| bulk(k))
        .collect::<Vec<_>>()
    );
}

#[test]
fn steps_lower_into_load_requests() {
    let schema = |name: &str, err: &str| LoadReq::Schema {
        name: name.into(),
        err: err.into(),
    };
    // Explicit loads first; then the schema fields read before GROUPBY, once each.
    assert_eq!(
        load_reqs(&steps(
            "LOAD 3 @a AS x APPLY '@p + @p' AS q SORTBY 2 @x ASC FILTER '@q > 1 && @__key'"
        )),
        vec![
            LoadReq::Field {
                path: "a".into(),
                name: "x".into()
            },
            schema("p", "Property `p` not loaded nor in schema"),
        ]
    );
    // LOAD * makes every name possible before GROUPBY; after it only the group's names exist.
    assert_eq!(
        load_reqs(&steps(
            "LOAD * GROUPBY 1 @c REDUCE SUM 1 @v AS s SORTBY 2 @v ASC"
        )),
        vec![
            LoadReq::All,
            LoadReq::Fail("Property `v` not loaded nor in schema".into())
        ]
    );
    assert_eq!(
        load_reqs(&steps("GROUPBY 1 @c REDUCE SUM 1 @v AS s")),
        vec![
            schema("c", "No such property `c`"),
            schema("v", "Property `v` not present in document or pipeline"),
        ]
    );
}
