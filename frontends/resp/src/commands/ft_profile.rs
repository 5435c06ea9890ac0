//! FT.PROFILE index SEARCH|AGGREGATE [LIMITED] QUERY query [options]: parsed as the FT.SEARCH it
//! wraps (by FT.SEARCH's own parser, so options and errors are identical) into
//! `SearchOp::Profile`, with the time parsing took. AGGREGATE is refused until FT.AGGREGATE
//! can be profiled.
//!
//! Invariant: the wrapped plan is exactly the plan `FT.SEARCH index query [options]` yields.

use std::time::Instant;

use bytes::Bytes;
use moon_engine::ir::ops::SearchOp;
use moon_engine::ir::{Op, OpError};
use moon_engine::search::profile::ProfileOp;

use super::Command;
use super::args::is;
use super::table::{CommandSpec, READONLY, doc};

pub static FT_PROFILE: CommandSpec = CommandSpec::new(
    "ft.profile",
    -5,
    READONLY,
    0,
    &[],
    doc(
        "module",
        "2.2.0",
        "Performs a `FT.SEARCH` or `FT.AGGREGATE` command and collects performance information",
        "O(N)",
    ),
    ft_profile,
);

/// The table entries of this module.
pub static COMMANDS: &[&CommandSpec] = &[&FT_PROFILE];

fn fail(text: impl Into<String>) -> Result<Command, OpError> {
    Err(OpError::Other(text.into()))
}

fn ft_profile(args: &[Bytes]) -> Result<Command, OpError> {
    let start = Instant::now();
    // args: FT.PROFILE index SEARCH|AGGREGATE [LIMITED] QUERY query [options...]
    let (Some(index), Some(kind)) = (args.get(1), args.get(2)) else {
        return fail("ERR wrong number of arguments for 'ft.profile' command");
    };
    let search = if is(kind, "SEARCH") {
        true
    } else if is(kind, "AGGREGATE") {
        false
    } else {
        return fail("No `SEARCH` or `AGGREGATE` provided");
    };
    let mut at = 3;
    let limited = args.get(at).is_some_and(|a| is(a, "LIMITED"));
    if limited {
        at += 1;
    }
    if !args.get(at).is_some_and(|a| is(a, "QUERY")) {
        return fail("The QUERY keyword is expected");
    }
    let Some(query) = args.get(at + 1) else {
        return fail("ERR wrong number of arguments for 'ft.profile' command");
    };
    if !search {
        return fail("ERR FT.PROFILE AGGREGATE is not supported yet");
    }
    let mut inner = vec![
        Bytes::from_static(b"FT.SEARCH"),
        index.clone(),
        query.clone(),
    ];
    inner.extend(args.iter().skip(at + 2).cloned());
    let Command::Op(Op::Search(SearchOp::Search(plan))) = (super::ft::FT_SEARCH.parse)(&inner)?
    else {
        return fail("ERR FT.PROFILE could not build the search");
    };
    Ok(Command::Op(Op::Search(SearchOp::Profile(Box::new(
        ProfileOp {
            plan: *plan,
            limited,
            parse_us: start.elapsed().as_micros() as u64,
        },
    )))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Command, OpError> {
        let args: Vec<Bytes> = s
            .split(' ')
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect();
        ft_profile(&args)
    }

    fn err(s: &str) -> String {
        match parse(s) {
            Err(OpError::Other(t)) => t,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn wraps_the_search_plan() {
        let Ok(Command::Op(Op::Search(SearchOp::Profile(p)))) =
            parse("FT.PROFILE i SEARCH LIMITED QUERY @t:{x} LIMIT 0 5")
        else {
            panic!("not a profile op")
        };
        assert!(p.limited);
        let Ok(Command::Op(Op::Search(SearchOp::Search(plain)))) = (super::super::ft::FT_SEARCH
            .parse)(
            &"FT.SEARCH i @t:{x} LIMIT 0 5"
                .split(' ')
                .map(|w| Bytes::copy_from_slice(w.as_bytes()))
                .collect::<Vec<_>>(),
        ) else {
            panic!("not a search")
        };
        assert_eq!(p.plan, *plain);
        let Ok(Command::Op(Op::Search(SearchOp::Profile(p)))) =
            parse("FT.PROFILE i search query *")
        else {
            panic!("not a profile op")
        };
        assert!(!p.limited);
    }

    #[test]
    fn errors() {
        assert_eq!(
            err("FT.PROFILE i FIND QUERY *"),
            "No `SEARCH` or `AGGREGATE` provided"
        );
        assert_eq!(
            err("FT.PROFILE i SEARCH LIMITED *"),
            "The QUERY keyword is expected"
        );
        assert!(err("FT.PROFILE i AGGREGATE QUERY *").contains("not supported"));
        // FT.SEARCH's own errors come through.
        assert!(!err("FT.PROFILE i SEARCH QUERY * LIMIT x").is_empty());
    }
}
