//! Fuzzes moon-cypher's parser and semantic checker with arbitrary UTF-8.
//!
//! Checks, beyond "never panics": error offsets lie inside the text; every
//! projection item's span lies inside the text on char boundaries; parsing
//! and checking are deterministic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use moon_cypher::ast::{Clause, Statement};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let first = moon_cypher::parse(text);
    match &first {
        Err(e) => assert!(e.offset <= text.len(), "error offset past end"),
        Ok(q) => {
            if let Statement::Query(rq) = &q.statement {
                for sq in std::iter::once(&rq.first).chain(rq.unions.iter().map(|u| &u.query)) {
                    for c in &sq.clauses {
                        let items = match c {
                            Clause::Return(r) => &r.projection.items,
                            Clause::With(w) => &w.projection.items,
                            _ => continue,
                        };
                        for it in items {
                            assert!(
                                text.get(it.expr.span.start..it.expr.span.end).is_some(),
                                "bad span"
                            );
                        }
                    }
                }
            }
            let checked = moon_cypher::check(q);
            if let Err(e) = &checked {
                assert!(e.offset <= text.len(), "check offset past end");
            }
            assert_eq!(checked, moon_cypher::check(q), "check not deterministic");
        }
    }
    assert_eq!(first, moon_cypher::parse(text), "parse not deterministic");
});
