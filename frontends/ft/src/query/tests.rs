//! Tests of the query parser and FT.EXPLAIN: one per syntax element, option and error, plus
//! golden FT.EXPLAIN texts. The golden texts are derived from RediSearch's
//! `QueryNode_DumpSds` (query.c) and parser.y read from the RediSearch sources (no reference
//! server with the Query Engine was available); the KNN wording is the 2.10+/8.x one.

use super::ast::*;
use super::explain::{NoExpansion, explain, explain_cli};
use super::parse::{QueryOptions, Stopwords, parse_with};
use crate::params::Params;
use proptest::prelude::*;

fn parse_p(q: &str, params: &Params) -> Result<QueryNode, String> {
    let sw = Stopwords::redisearch_default();
    parse_with(
        q.as_bytes(),
        &QueryOptions {
            params,
            dialect: 2,
            stopwords: &sw,
        },
    )
    .map_err(|e| e.message)
}

fn parse(q: &str) -> QueryNode {
    match parse_p(q, &Params::new()) {
        Ok(n) => n,
        Err(e) => panic!("{q:?} failed: {e}"),
    }
}

fn err(q: &str) -> String {
    match parse_p(q, &Params::new()) {
        Ok(n) => panic!("{q:?} parsed: {n:?}"),
        Err(e) => e,
    }
}

fn ex(q: &str) -> String {
    explain(&parse(q), &NoExpansion)
}

fn params(pairs: &[(&str, &[u8])]) -> Params {
    Params::from_pairs(pairs.iter().copied()).unwrap()
}

fn term(n: &QueryNode) -> &str {
    match &n.kind {
        NodeKind::Term(t) => &t.text,
        k => panic!("not a term: {k:?}"),
    }
}

// ----- golden FT.EXPLAIN -------------------------------------------------------------------

#[test]
fn golden_explain() {
    let cases: &[(&str, &str)] = &[
        ("hello world", "INTERSECT {\n  hello\n  world\n}\n"),
        ("hello|world", "UNION {\n  hello\n  world\n}\n"),
        (
            "hello world | foo",
            "UNION {\n  INTERSECT {\n    hello\n    world\n  }\n  foo\n}\n",
        ),
        ("\"hello world\"", "EXACT {\n  hello\n  world\n}\n"),
        ("@title:Hello", "@title:hello\n"),
        (
            "@title:(hello|world)",
            "@title:UNION {\n  @title:hello\n  @title:world\n}\n",
        ),
        ("@a|b:hello", "@a|b:hello\n"),
        ("@a:x | @b:y", "@a|b:UNION {\n  @a:x\n  @b:y\n}\n"),
        (
            "@price:[10 20]",
            "NUMERIC {10.000000 <= @price <= 20.000000}\n",
        ),
        ("@price:[(10 +inf]", "NUMERIC {10.000000 < @price <= inf}\n"),
        (
            "@price:[-inf (5.5]",
            "NUMERIC {-inf <= @price < 5.500000}\n",
        ),
        ("@t:{a | b | c\\ d}", "TAG:@t {\n  a\n  b\n  c d\n}\n"),
        (
            "@t:{pre* | new york}",
            "TAG:@t {\n  PREFIX{pre*}\n  INTERSECT {\n    new\n    york\n  }\n}\n",
        ),
        ("hel*", "PREFIX{hel*}\n"),
        ("*llo", "SUFFIX{*llo}\n"),
        ("*ell*", "INFIX{*ell*}\n"),
        ("w'h?llo*'", "WILDCARD{h?llo*}\n"),
        ("%hello%", "FUZZY{hello}\n"),
        ("%%%hello%%%", "FUZZY{hello}\n"),
        ("-hello", "NOT{\n  hello\n}\n"),
        ("~hello", "OPTIONAL{\n  hello\n}\n"),
        ("*", "<WILDCARD>\n"),
        ("the", "<empty>\n"),
        (
            "@loc:[-122.41 37.77 5 km]",
            "GEO loc:{-122.410000,37.770000 --> 5.000000 km}\n",
        ),
        ("hello => {$weight: 2.0}", "hello => {$weight: 2;}\n"),
        (
            "(hello world) => {$slop: 1; $inorder: true}",
            "INTERSECT {\n  hello\n  world\n} => { $slop: 1; $inorder: true; }\n",
        ),
        (
            "(x|y) => { $weight: 0.5 }",
            "UNION {\n  x\n  y\n} => { $weight: 0.5; }\n",
        ),
        (
            "@title:-(hello world)",
            "@title:NOT{\n  @title:INTERSECT {\n    @title:hello\n    @title:world\n  }\n}\n",
        ),
        (
            "@title:\"hello world\"",
            "@title:EXACT {\n  @title:hello\n  @title:world\n}\n",
        ),
        (
            "hello=>{$weight: 3} ~world",
            "INTERSECT {\n  hello => {$weight: 3;}\n  OPTIONAL{\n    world\n  }\n}\n",
        ),
        ("@n:[5]", "NUMERIC {5.000000 <= @n <= 5.000000}\n"),
        ("@t:{Foo*}", "TAG:@t {\n  PREFIX{Foo*}\n}\n"),
        (
            "-@t:{x} hello",
            "INTERSECT {\n  NOT{\n    TAG:@t {\n      x\n    }\n  }\n  hello\n}\n",
        ),
        (
            "(foo bar)|(hello world) @date:[100 200]|@date:[500 +inf]",
            "UNION {\n  INTERSECT {\n    foo\n    bar\n  }\n  INTERSECT {\n    hello\n    world\n    NUMERIC {100.000000 <= @date <= 200.000000}\n  }\n  NUMERIC {500.000000 <= @date <= inf}\n}\n",
        ),
    ];
    for (q, want) in cases {
        assert_eq!(&ex(q), want, "query {q:?}");
    }
}

#[test]
fn golden_explain_vectors() {
    let p = params(&[("BLOB", b"\x00\x00\x80\x3f"), ("B", b"abcd"), ("K", b"3")]);
    let knn = parse_p("*=>[KNN 10 @v $BLOB]", &p).unwrap();
    assert_eq!(
        explain(&knn, &NoExpansion),
        "VECTOR {K=10 nearest vectors to `$BLOB` in vector index associated with field @v, yields distance as `__v_score`}\n"
    );
    let hybrid = parse_p("(@t:{a})=>[KNN $K @v $B EF_RUNTIME 100 AS dist]", &p).unwrap();
    assert_eq!(
        explain(&hybrid, &NoExpansion),
        "VECTOR {\n  TAG:@t {\n    a\n  }\n} => {K=3 nearest vectors to `$B` in vector index associated with field @v, EF_RUNTIME = 100, yields distance as `dist`}\n"
    );
    let range = parse_p(
        "@v:[VECTOR_RANGE 0.5 $B]=>{$YIELD_DISTANCE_AS: d; $EPSILON: 0.01}",
        &p,
    )
    .unwrap();
    assert_eq!(
        explain(&range, &NoExpansion),
        "VECTOR {Vectors that are within 0.5 distance radius from `$B` in vector index associated with field @v, $EPSILON = 0.01, yields distance as `d`}\n"
            .replace("$EPSILON", "EPSILON")
    );
}

#[test]
fn explain_with_expansion_and_cli_lines() {
    let stem = |t: &str| -> Vec<String> {
        if t == "running" {
            vec!["+run".into(), "run".into()]
        } else {
            Vec::new()
        }
    };
    let n = parse("running fast");
    assert_eq!(
        explain(&n, &stem),
        "INTERSECT {\n  UNION {\n    running\n    +run(expanded)\n    run(expanded)\n  }\n  fast\n}\n"
    );
    // Exact phrases, quoted words and tags are not expanded.
    let n = parse("\"running fast\" \"running\" @t:{running}");
    assert!(!explain(&n, &stem).contains("expanded"));
    // Field scope is carried to the union and its children.
    let n = parse("@title:running");
    assert_eq!(
        explain(&n, &stem),
        "@title:UNION {\n  @title:running\n  @title:+run(expanded)\n  @title:run(expanded)\n}\n"
    );
    assert_eq!(
        explain_cli(&parse("x y"), &NoExpansion),
        vec!["INTERSECT {", "  x", "  y", "}"]
    );
}

// ----- structure ---------------------------------------------------------------------------

#[test]
fn terms_keep_case_and_offsets() {
    let n = parse("Hello  World");
    let NodeKind::And(c) = &n.kind else { panic!() };
    assert_eq!(term(&c[0]), "Hello");
    assert_eq!(c[0].offset, 0);
    assert_eq!(term(&c[1]), "World");
    assert_eq!(c[1].offset, 7);
}

#[test]
fn punctuation_separates_terms_and_escapes_join_them() {
    let n = parse("hello,world");
    let NodeKind::And(c) = &n.kind else { panic!() };
    assert_eq!(c.len(), 2);
    let n = parse("hello\\,world");
    assert_eq!(term(&n), "hello,world");
    let n = parse("user\\@example\\.com");
    assert_eq!(term(&n), "user@example.com");
    // A dash is NOT: hello -world.
    let n = parse("hello-world");
    let NodeKind::And(c) = &n.kind else { panic!() };
    assert!(matches!(c[1].kind, NodeKind::Not(_)));
}

#[test]
fn numbers_are_terms() {
    assert_eq!(term(&parse("123")), "123");
    assert_eq!(term(&parse("-5")), "-5");
    assert_eq!(term(&parse("1.5")), "1.5");
}

#[test]
fn precedence_and_binds_tighter_than_or() {
    let n = parse("w x | y z");
    let NodeKind::Or(c) = &n.kind else {
        panic!("{n:?}")
    };
    assert_eq!(c.len(), 2);
    assert!(matches!(c[0].kind, NodeKind::And(_)));
    assert!(matches!(c[1].kind, NodeKind::And(_)));
    // Unions flatten.
    // Unions flatten on the left only (a right-hand group stays a child, as in RediSearch).
    let NodeKind::Or(c) = parse("u|v|w|(x|y)").kind else {
        panic!()
    };
    assert_eq!(c.len(), 4);
    let NodeKind::Or(c) = parse("(u|v)|w").kind else {
        panic!()
    };
    assert_eq!(c.len(), 3);
    // Unary binds to one atom.
    let NodeKind::And(c) = parse("-x y").kind else {
        panic!()
    };
    assert!(matches!(c[0].kind, NodeKind::Not(_)));
    assert_eq!(term(&c[1]), "y");
}

#[test]
fn modifier_scopes_one_atom_in_dialect_2() {
    let NodeKind::And(c) = parse("@title:hello world").kind else {
        panic!()
    };
    assert_eq!(c[0].fields, Some(vec!["title".to_string()]));
    assert_eq!(c[1].fields, None);
}

#[test]
fn stopwords() {
    assert_eq!(ex("the cat"), "cat\n");
    assert_eq!(ex("\"the\""), "the\n");
    // RediSearch's termlist keeps the first two words and drops later stopwords.
    assert_eq!(
        ex("\"the cat and dog\""),
        "EXACT {\n  the\n  cat\n  dog\n}\n"
    );
    let sw = Stopwords::none();
    let p = Params::new();
    let n = parse_with(
        b"the cat",
        &QueryOptions {
            params: &p,
            dialect: 2,
            stopwords: &sw,
        },
    )
    .unwrap();
    assert!(matches!(n.kind, NodeKind::And(_)));
    let sw = Stopwords::from_list(["cat"]);
    let n = parse_with(
        b"the cat",
        &QueryOptions {
            params: &p,
            dialect: 2,
            stopwords: &sw,
        },
    )
    .unwrap();
    assert_eq!(term(&n), "the");
}

#[test]
fn quoted_terms_are_verbatim() {
    let NodeKind::Term(t) = parse("\"running\"").kind else {
        panic!()
    };
    assert!(t.verbatim);
    let NodeKind::Phrase(c) = parse("\"hello, world!\"").kind else {
        panic!()
    };
    assert_eq!(c.len(), 2);
}

#[test]
fn tags() {
    let n2 = parse_p(
        "@tags:{ foo | Bar\\ Baz | $x }",
        &params(&[("x", b"Hello World")]),
    )
    .unwrap();
    assert!(parse_p("@tags:{$x}", &Params::new()).is_err());
    let NodeKind::Tag { field, values } = &n2.kind else {
        panic!()
    };
    assert_eq!(field, "tags");
    assert_eq!(
        values,
        &vec![
            TagValue::Exact("foo".into()),
            TagValue::Exact("Bar Baz".into()),
            TagValue::Exact("Hello World".into())
        ]
    );
    let NodeKind::Tag { values, .. } = parse("@t:{*fix | *mid* | w'a?c'}").kind else {
        panic!()
    };
    assert_eq!(
        values,
        vec![
            TagValue::Suffix("fix".into()),
            TagValue::Infix("mid".into()),
            TagValue::Pattern("a?c".into())
        ]
    );
}

#[test]
fn numeric_ranges() {
    let NodeKind::Numeric(r) = parse("@n:[(1 (2]").kind else {
        panic!()
    };
    assert_eq!(
        (r.min, r.max, r.min_inclusive, r.max_inclusive),
        (1.0, 2.0, false, false)
    );
    let NodeKind::Numeric(r) = parse("@n:[5]").kind else {
        panic!()
    };
    assert_eq!(
        (r.min, r.max, r.min_inclusive, r.max_inclusive),
        (5.0, 5.0, true, true)
    );
    let NodeKind::Numeric(r) = parse("@n:[-inf inf]").kind else {
        panic!()
    };
    assert_eq!((r.min, r.max), (f64::NEG_INFINITY, f64::INFINITY));
    let NodeKind::Numeric(r) = parse("@n:[- 3 1e2]").kind else {
        panic!()
    };
    assert_eq!((r.min, r.max), (-3.0, 100.0));
    let p = params(&[("lo", b"(10"), ("hi", b"+inf")]);
    let NodeKind::Numeric(r) = parse_p("@n:[$lo $hi]", &p).unwrap().kind else {
        panic!()
    };
    assert_eq!(
        (r.min, r.max, r.min_inclusive, r.max_inclusive),
        (10.0, f64::INFINITY, false, true)
    );
}

#[test]
fn geo() {
    let NodeKind::Geo(g) = parse("@loc:[2.35 48.85 10 KM]").kind else {
        panic!()
    };
    assert_eq!(
        (g.lon, g.lat, g.radius, g.unit),
        (2.35, 48.85, 10.0, GeoUnit::Km)
    );
    let p = params(&[("lon", b"1"), ("lat", b"2"), ("r", b"3"), ("u", b"ft")]);
    let NodeKind::Geo(g) = parse_p("@loc:[$lon $lat $r $u]", &p).unwrap().kind else {
        panic!()
    };
    assert_eq!(
        (g.lon, g.lat, g.radius, g.unit),
        (1.0, 2.0, 3.0, GeoUnit::Ft)
    );
}

#[test]
fn attributes() {
    let n = parse("hello=>{$weight: 3; $slop: 2; $inorder: false; $phonetic: true;}");
    assert_eq!(n.attrs.weight, 3.0);
    assert_eq!(n.attrs.slop, Some(2));
    assert_eq!(n.attrs.inorder, Some(false));
    assert_eq!(n.attrs.phonetic, Some(true));
    let n = parse("hello=>{}");
    assert!(n.attrs.is_default());
    let p = params(&[("w", b"4")]);
    assert_eq!(parse_p("x=>{$weight:$w}", &p).unwrap().attrs.weight, 4.0);
}

#[test]
fn parameters_in_terms_prefixes_fuzzy() {
    let p = params(&[("t", b"Word"), ("n", b"42")]);
    let NodeKind::Term(t) = parse_p("$t", &p).unwrap().kind else {
        panic!()
    };
    assert_eq!(
        (t.text.as_str(), t.param.as_deref(), t.verbatim),
        ("Word", Some("t"), false)
    );
    let NodeKind::Term(t) = parse_p("$n", &p).unwrap().kind else {
        panic!()
    };
    assert!(t.verbatim, "numeric parameter values are not expanded");
    let NodeKind::Prefix(t) = parse_p("$t*", &p).unwrap().kind else {
        panic!()
    };
    assert_eq!(t.text, "Word");
    let NodeKind::Fuzzy { term, distance } = parse_p("%%$t%%", &p).unwrap().kind else {
        panic!()
    };
    assert_eq!((term.text.as_str(), distance), ("Word", 2));
    // `"$t"` is the literal text.
    assert_eq!(term_of(&parse_p("\"$t\"", &p).unwrap()), "$t");
}

fn term_of(n: &QueryNode) -> String {
    term(n).to_string()
}

#[test]
fn vectors() {
    let p = params(&[("B", b"\x01\x02"), ("k", b"7"), ("ef", b"50")]);
    let n = parse_p(
        "*=>[KNN $k @vec $B EF_RUNTIME $ef EPSILON 0.1 AS score]",
        &p,
    )
    .unwrap();
    let NodeKind::VectorKnn(v) = &n.kind else {
        panic!()
    };
    assert_eq!(v.k, 7);
    assert_eq!(v.field, "vec");
    assert_eq!(v.blob, b"\x01\x02");
    assert_eq!(v.score_field, "score");
    assert_eq!(
        v.params,
        vec![
            ("EF_RUNTIME".into(), "50".into()),
            ("EPSILON".into(), "0.1".into())
        ]
    );
    assert!(v.filter.is_none());
    let n = parse_p(
        "@title:hello=>[KNN 2 @v $B]=>{$YIELD_DISTANCE_AS: dd; $weight: 2}",
        &p,
    )
    .unwrap();
    let NodeKind::VectorKnn(v) = &n.kind else {
        panic!()
    };
    assert_eq!(v.score_field, "dd");
    assert_eq!(n.attrs.weight, 2.0);
    assert_eq!(
        v.filter.as_ref().unwrap().fields,
        Some(vec!["title".into()])
    );
    let n = parse_p("(*)=>[KNN 2 @v $B]", &p).unwrap();
    assert!(matches!(n.kind, NodeKind::VectorKnn(_)));
    let n = parse_p("@v:[VECTOR_RANGE $k $B] @t:{x}", &p).unwrap();
    let NodeKind::And(c) = &n.kind else { panic!() };
    let NodeKind::VectorRange(r) = &c[0].kind else {
        panic!()
    };
    assert_eq!(r.radius, 7.0);
}

#[test]
fn empty_query_is_null() {
    assert!(matches!(parse("").kind, NodeKind::Null));
    assert!(matches!(parse("   ").kind, NodeKind::Null));
    assert!(matches!(parse("the | a").kind, NodeKind::Null));
}

// ----- errors ------------------------------------------------------------------------------

#[test]
fn syntax_errors_name_offset_and_last_word() {
    assert_eq!(err("hello )"), "Syntax error at offset 6 near hello");
    assert_eq!(err("hello world ("), "Syntax error at offset 12 near world");
    assert_eq!(
        err("@title:(hello @body:world)"),
        "Syntax error at offset 14 near body"
    );
    assert_eq!(
        err("hello | | world"),
        "Syntax error at offset 8 near hello"
    );
    assert_eq!(err("@t:{}"), "Syntax error at offset 4 near t");
    assert_eq!(
        err("a b=>[KNN 10 @v $B]"),
        "Syntax error at offset 5 near >["
    );
    assert_eq!(err("* hello"), "Syntax error at offset 2 near hello");
    assert_eq!(err("'verbatim'"), "Syntax error at offset 0 near verbatim");
    assert_eq!(err("@n:[1 2 3]"), "Syntax error at offset 9 near 3");
    assert!(err("%%hello%").starts_with("Syntax error at offset"));
    assert!(err("\"\"").starts_with("Syntax error at offset 1"));
}

#[test]
fn semantic_errors_use_redisearch_texts() {
    assert_eq!(err("$p"), "No such parameter `p`");
    assert_eq!(
        err("hello=>{$weight: -1}"),
        "Invalid value (-1) for `weight`"
    );
    assert_eq!(err("hello=>{$slop: x}"), "Invalid value (x) for `slop`");
    assert_eq!(
        err("hello=>{$inorder: maybe}"),
        "Invalid value (maybe) for `inorder`"
    );
    assert_eq!(err("hello=>{$foo: 1}"), "Invalid attribute foo");
    assert_eq!(
        err("hello=>{$EF_RUNTIME: 1}"),
        "Invalid attribute EF_RUNTIME"
    );
    assert_eq!(err("@g:[1 2 3 parsec]"), "Invalid GeoFilter unit");
    assert_eq!(err("@g:[1 200 3 km]"), "Invalid GeoFilter lat/lon");
    let p = params(&[("B", b"x")]);
    assert_eq!(
        parse_p("*=>[FOO 10 @v $B]", &p).unwrap_err(),
        "Syntax error: Expecting Vector Similarity command at offset 4 near FOO"
    );
    assert_eq!(
        parse_p("@v:[RANGE 1 $B]", &p).unwrap_err(),
        "Syntax error: expecting vector similarity range command at offset 4 near RANGE"
    );
    let p = params(&[("lo", b"abc"), ("k", b"-1"), ("B", b"x")]);
    assert_eq!(
        parse_p("@n:[$lo 10]", &p).unwrap_err(),
        "Invalid numeric value (abc) for parameter `lo`"
    );
    assert_eq!(
        parse_p("*=>[KNN $k @v $B]", &p).unwrap_err(),
        "Invalid numeric value (-1) for parameter `k`"
    );
    assert_eq!(
        parse_p("*=>[KNN 1 @v $C]", &p).unwrap_err(),
        "No such parameter `C`"
    );
    // A syntax error wins over an earlier missing parameter.
    assert!(err("$missing )").starts_with("Syntax error"));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let q = "(".repeat(10_000);
    assert_eq!(
        err(&q),
        "Parser stack overflow. Try moving nested parentheses more to the left"
    );
    let q = "-".repeat(10_000) + "a";
    assert!(err(&q).starts_with("Parser stack overflow"));
    let q = format!("{}x{}", "(".repeat(100), ")".repeat(100));
    assert_eq!(term(&parse(&q)), "x");
}

#[test]
fn dialect_is_checked() {
    let sw = Stopwords::redisearch_default();
    let p = Params::new();
    assert!(
        parse_with(
            b"a",
            &QueryOptions {
                params: &p,
                dialect: 0,
                stopwords: &sw
            }
        )
        .is_err()
    );
    assert!(
        parse_with(
            b"a",
            &QueryOptions {
                params: &p,
                dialect: 5,
                stopwords: &sw
            }
        )
        .is_err()
    );
    assert!(
        parse_with(
            b"a",
            &QueryOptions {
                params: &p,
                dialect: 4,
                stopwords: &sw
            }
        )
        .is_ok()
    );
}

// ----- properties --------------------------------------------------------------------------

fn query_chars() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "a",
        "b",
        "hello",
        "12",
        "-",
        "~",
        "|",
        "(",
        ")",
        "@f:",
        "@t:{",
        "}",
        "[",
        "]",
        " ",
        "\"",
        "*",
        "%",
        "=>",
        "{",
        "$p",
        ";",
        ":",
        "\\",
        "$weight:",
        "KNN",
        "@v",
        "AS",
        "w'",
        "'",
        "inf",
        "(1",
        "VECTOR_RANGE",
        ",",
        "é",
    ]);
    prop::collection::vec(atoms, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let sw = Stopwords::redisearch_default();
        let p = Params::new();
        if let Ok(n) = parse_with(&bytes, &QueryOptions { params: &p, dialect: 2, stopwords: &sw }) {
            let _ = explain(&n, &NoExpansion);
        }
    }

    #[test]
    fn query_like_strings_parse_and_explain(q in query_chars()) {
        let p = Params::from_pairs([("p", &b"1"[..])]).unwrap();
        match parse_p(&q, &p) {
            Ok(n) => {
                let text = explain(&n, &|t: &str| vec![format!("{t}x")]);
                prop_assert!(text.ends_with('\n'));
                prop_assert!(n.depth() <= 2 * super::parse::MAX_DEPTH + 8);
            }
            Err(e) => prop_assert!(!e.is_empty()),
        }
    }
}
