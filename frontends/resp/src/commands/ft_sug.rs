//! Table entries and parsers of FT.SUGADD / FT.SUGGET / FT.SUGDEL / FT.SUGLEN (RediSearch's
//! suggestion dictionaries, `suggest.c`). They lower to `Op::Suggest`
//! (`moon_engine::ir::ops::suggest`): the dictionary is an ordinary key, argv[1].
//!
//! Invariants: checks run in RediSearch's order with its texts — arity (its own bounds:
//! SUGADD 4..=7, SUGGET 3..=10 arguments), then SUGGET's prefix length, then the options;
//! SUGADD's score is checked by the engine after the key's type (`score: None`), as
//! RediSearch does.

use bytes::Bytes;
use moon_engine::ir::ops::SuggestOp;
use moon_engine::ir::{Op, OpError};

use super::Command;
use super::args::{arity_err, is, parse_f64};
use super::table::{
    CommandSpec, DENYOOM, K_ACCESS, K_INSERT, K_RO, K_RW, K_UPDATE, KeySpec, READONLY, WRITE, doc,
};

const G: &str = "module";

/// Prefix arguments of this many bytes or more answer "Invalid query length" (RediSearch's
/// `TRIE_MAX_PREFIX * sizeof(rune)`; `moon_text::suggest::MAX_PREFIX_BYTES`).
const MAX_PREFIX_BYTES: usize = 200;

const RW: &[KeySpec] = &[KeySpec::one(K_RW | K_INSERT | K_UPDATE, 1)];
const RO: &[KeySpec] = &[KeySpec::one(K_RO | K_ACCESS, 1)];

fn op(s: SuggestOp) -> Result<Command, OpError> {
    Ok(Command::Op(Op::Suggest(s)))
}

fn fail(text: impl Into<String>) -> Result<Command, OpError> {
    Err(OpError::Other(text.into()))
}

pub static FT_SUGADD: CommandSpec = CommandSpec::new(
    "ft.sugadd",
    -4,
    WRITE | DENYOOM,
    0,
    RW,
    doc(
        G,
        "1.0.0",
        "Adds a suggestion string to an auto-complete suggestion dictionary",
        "O(1)",
    ),
    ft_sugadd,
);

pub static FT_SUGGET: CommandSpec = CommandSpec::new(
    "ft.sugget",
    -3,
    READONLY,
    0,
    RO,
    doc(
        G,
        "1.0.0",
        "Gets completion suggestions for a prefix",
        "O(1)",
    ),
    ft_sugget,
);

pub static FT_SUGDEL: CommandSpec = CommandSpec::new(
    "ft.sugdel",
    3,
    WRITE,
    0,
    RW,
    doc(
        G,
        "1.0.0",
        "Deletes a string from a suggestion index",
        "O(1)",
    ),
    ft_sugdel,
);

pub static FT_SUGLEN: CommandSpec = CommandSpec::new(
    "ft.suglen",
    2,
    READONLY,
    0,
    RO,
    doc(
        G,
        "1.0.0",
        "Gets the size of an auto-complete suggestion dictionary",
        "O(1)",
    ),
    ft_suglen,
);

pub static COMMANDS: &[&CommandSpec] = &[&FT_SUGADD, &FT_SUGGET, &FT_SUGDEL, &FT_SUGLEN];

/// FT.SUGADD key string score [INCR] [PAYLOAD p].
fn ft_sugadd(args: &[Bytes]) -> Result<Command, OpError> {
    if args.len() > 7 {
        return Err(arity_err("ft.sugadd"));
    }
    let (mut incr, mut payload) = (false, None);
    let mut rest = args[4..].iter();
    while let Some(a) = rest.next() {
        if is(a, "incr") {
            incr = true;
        } else if is(a, "payload") {
            match rest.next() {
                Some(p) => payload = Some(p.clone()),
                None => {
                    return fail("Invalid payload: Expected an argument, but none provided");
                }
            }
        } else {
            return fail(format!("Unknown argument `{}`", String::from_utf8_lossy(a)));
        }
    }
    op(SuggestOp::Add {
        key: args[1].clone(),
        text: args[2].clone(),
        score: parse_f64(&args[3]),
        incr,
        payload,
    })
}

/// FT.SUGGET key prefix [FUZZY] [MAX n] [WITHSCORES] [WITHPAYLOADS] [TRIM] [OPTIMIZE].
fn ft_sugget(args: &[Bytes]) -> Result<Command, OpError> {
    if args.len() > 10 {
        return Err(arity_err("ft.sugget"));
    }
    if args[2].len() >= MAX_PREFIX_BYTES {
        return fail("Invalid query length");
    }
    let (mut fuzzy, mut max, mut with_scores, mut with_payloads) = (false, 5usize, false, false);
    let mut rest = args[3..].iter();
    while let Some(a) = rest.next() {
        if is(a, "fuzzy") {
            fuzzy = true;
        } else if is(a, "withscores") {
            with_scores = true;
        } else if is(a, "withpayloads") {
            with_payloads = true;
        } else if is(a, "trim") || is(a, "optimize") {
            // Accepted, not applied (RediSearch's TRIM drops results far below the best).
        } else if is(a, "max") {
            let Some(n) = rest.next() else {
                return fail("MAX: Expected an argument, but none provided");
            };
            max = match std::str::from_utf8(n)
                .ok()
                .and_then(|t| t.parse::<i64>().ok())
            {
                None => return fail("MAX: Could not convert argument to expected type"),
                Some(v) if v < 1 || v > i64::from(u32::MAX) => {
                    return fail("MAX: Value is outside acceptable bounds");
                }
                Some(v) => v as usize,
            };
        } else {
            return fail(format!(
                "Unrecognized argument: {}",
                String::from_utf8_lossy(a)
            ));
        }
    }
    op(SuggestOp::Get {
        key: args[1].clone(),
        prefix: args[2].clone(),
        fuzzy,
        max,
        with_scores,
        with_payloads,
    })
}

/// FT.SUGDEL key string.
fn ft_sugdel(args: &[Bytes]) -> Result<Command, OpError> {
    op(SuggestOp::Del {
        key: args[1].clone(),
        text: args[2].clone(),
    })
}

/// FT.SUGLEN key.
fn ft_suglen(args: &[Bytes]) -> Result<Command, OpError> {
    op(SuggestOp::Len {
        key: args[1].clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn p(line: &str) -> Result<Command, OpError> {
        let args: Vec<Bytes> = line
            .split_whitespace()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect();
        parse(&args)
    }

    fn err(line: &str) -> String {
        match p(line) {
            Err(OpError::Other(t)) => t,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn options_and_errors() {
        assert_eq!(
            p("FT.SUGADD k hello 1.5 incr PAYLOAD pl").unwrap(),
            Command::Op(Op::Suggest(SuggestOp::Add {
                key: Bytes::from_static(b"k"),
                text: Bytes::from_static(b"hello"),
                score: Some(1.5),
                incr: true,
                payload: Some(Bytes::from_static(b"pl")),
            }))
        );
        assert!(matches!(
            p("FT.SUGADD k hello x"),
            Ok(Command::Op(Op::Suggest(SuggestOp::Add { score: None, .. })))
        ));
        assert_eq!(err("FT.SUGADD k h 1 FOO"), "Unknown argument `FOO`");
        assert_eq!(
            err("FT.SUGADD k h 1 PAYLOAD"),
            "Invalid payload: Expected an argument, but none provided"
        );
        assert!(p("FT.SUGADD k h 1 INCR INCR INCR INCR").is_err());
        assert!(p("FT.SUGADD k h").is_err());
        assert_eq!(
            p("FT.SUGGET k he fuzzy MAX 3 WITHSCORES withpayloads TRIM OPTIMIZE").unwrap(),
            Command::Op(Op::Suggest(SuggestOp::Get {
                key: Bytes::from_static(b"k"),
                prefix: Bytes::from_static(b"he"),
                fuzzy: true,
                max: 3,
                with_scores: true,
                with_payloads: true,
            }))
        );
        assert_eq!(
            err("FT.SUGGET k he MAX 0"),
            "MAX: Value is outside acceptable bounds"
        );
        assert_eq!(
            err("FT.SUGGET k he MAX x"),
            "MAX: Could not convert argument to expected type"
        );
        assert_eq!(
            err("FT.SUGGET k he MAX"),
            "MAX: Expected an argument, but none provided"
        );
        assert_eq!(err("FT.SUGGET k he BLAH"), "Unrecognized argument: BLAH");
        assert_eq!(
            err(&format!("FT.SUGGET k {}", "a".repeat(200))),
            "Invalid query length"
        );
        assert!(p("FT.SUGDEL k").is_err());
        assert!(p("FT.SUGLEN k x").is_err());
    }
}
