//! Rough throughput of the parsers: `cargo run --release -p moon-ft --example parse_bench`.
//! Prints nanoseconds per call for representative queries, FT.EXPLAIN, argument lists and
//! expressions.

use moon_ft::{
    NoExpansion, Params, Value, eval, explain, parse_aggregate_args, parse_expr, parse_query,
    parse_search_args,
};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

fn time(label: &str, iters: u32, mut f: impl FnMut()) {
    for _ in 0..iters / 10 {
        f();
    }
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    let ns = t.elapsed().as_nanos() as f64 / f64::from(iters);
    println!("{label:<44} {ns:>9.0} ns/op");
}

fn main() {
    let params = Params::from_pairs([("B", &[0u8; 512][..]), ("lo", &b"10"[..])]).unwrap();
    let queries: &[(&str, &str)] = &[
        ("term", "hello"),
        (
            "intersect+union (6 terms)",
            "hello world | foo bar -baz ~qux",
        ),
        (
            "fielded+tag+numeric+geo",
            "@title:(hello|world) @t:{a | b | c\\ d} @n:[$lo +inf] @g:[2.3 48.8 10 km]",
        ),
        (
            "hybrid KNN",
            "(@t:{shoes} @price:[(10 100])=>[KNN 10 @vec $B EF_RUNTIME 100 AS score]",
        ),
        (
            "phrase+affix+fuzzy+attrs",
            "\"exact phrase here\" hel* *llo %fuzzy% (a b)=>{$weight: 2; $slop: 1}",
        ),
    ];
    for (label, q) in queries {
        time(&format!("parse_query: {label}"), 200_000, || {
            black_box(parse_query(black_box(q.as_bytes()), &params, 2).unwrap());
        });
    }
    let tree = parse_query(queries[2].1.as_bytes(), &params, 2).unwrap();
    time("explain: fielded+tag+numeric+geo", 200_000, || {
        black_box(explain(black_box(&tree), &NoExpansion));
    });
    let search: Vec<&[u8]> =
        "NOCONTENT WITHSCORES RETURN 3 a b c SORTBY price DESC LIMIT 0 10 PARAMS 2 B x DIALECT 2"
            .split(' ')
            .map(str::as_bytes)
            .collect();
    time("parse_search_args (14 args)", 200_000, || {
        black_box(parse_search_args(black_box(&search)).unwrap());
    });
    let agg: Vec<&[u8]> = "LOAD 1 @a GROUPBY 1 @b REDUCE COUNT 0 AS n REDUCE AVG 1 @p AS avg APPLY @n*2 AS x SORTBY 2 @x DESC LIMIT 0 10"
        .split(' ')
        .map(str::as_bytes)
        .collect();
    time("parse_aggregate_args (25 args)", 200_000, || {
        black_box(parse_aggregate_args(black_box(&agg)).unwrap());
    });
    let src = "upper(substr(@name, 0, 3)) == 'ABC' && @price * 1.2 > 10";
    time("parse_expr", 200_000, || {
        black_box(parse_expr(black_box(src.as_bytes())).unwrap());
    });
    let e = parse_expr(src.as_bytes()).unwrap();
    let mut row: HashMap<String, Value> = HashMap::new();
    row.insert("name".into(), Value::Str("abcdef".into()));
    row.insert("price".into(), Value::Num(12.0));
    time("eval (same expression)", 1_000_000, || {
        black_box(eval(black_box(&e), &row).unwrap());
    });
}
