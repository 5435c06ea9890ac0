//! Fuzzes moon-ft's query parser, FT.EXPLAIN and the FT.SEARCH / FT.AGGREGATE argument parsers.
//!
//! Input: the query text, then NUL-separated arguments. Checks, beyond "never panics": a
//! parsed query's node offsets lie inside the text, its height stays bounded, FT.EXPLAIN ends
//! with a newline and FT.EXPLAINCLI has one element per line; parsing is deterministic; when
//! the arguments parse with PARAMS / DIALECT, the query is also parsed with them.

#![no_main]

use libfuzzer_sys::fuzz_target;
use moon_ft::query::parse::MAX_DEPTH;
use moon_ft::{
    NoExpansion, Params, QueryNode, explain, explain_cli, parse_aggregate_args, parse_query,
    parse_search_args,
};

fn check_tree(root: &QueryNode, len: usize) {
    assert!(root.depth() <= 2 * MAX_DEPTH + 8, "tree too deep");
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        assert!(n.offset <= len, "offset {} past text of {len}", n.offset);
        stack.extend(n.children());
    }
    let text = explain(root, &|t: &str| vec![format!("{t}+")]);
    assert!(text.ends_with('\n'));
    let plain = explain(root, &NoExpansion);
    assert_eq!(explain_cli(root, &NoExpansion).len(), plain.lines().count());
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0);
    let query = parts.next().unwrap_or_default();
    let args: Vec<&[u8]> = parts.collect();

    let first = parse_query(query, &Params::new(), 2);
    assert_eq!(
        first,
        parse_query(query, &Params::new(), 2),
        "parsing is deterministic"
    );
    if let Ok(root) = &first {
        check_tree(root, query.len());
    }

    if let Ok(s) = parse_search_args(&args) {
        if let Ok(root) = parse_query(query, &s.common.params, s.dialect()) {
            check_tree(&root, query.len());
        }
    }
    if let Ok(a) = parse_aggregate_args(&args) {
        if let Ok(root) = parse_query(query, &a.common.params, a.dialect()) {
            check_tree(&root, query.len());
        }
    }
});
