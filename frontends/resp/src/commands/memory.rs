//! MEMORY USAGE and MEMORY HELP: table entries and parsers. (DOCTOR, STATS, MALLOC-STATS and
//! PURGE are not implemented and answer Redis's unknown-subcommand error.)

use bytes::Bytes;
use moon_engine::ir::{Op, OpError};

use super::args::parse_i64;
use super::docs::help;
use super::table::{CommandSpec, K_RO, KeySpec, LOADING, READONLY, STALE, doc};
use super::{Command, ConnCmd, container_arity};

const G: &str = "server";

/// The MEMORY container.
pub static COMMANDS: &[&CommandSpec] = &[&MEMORY];

pub static MEMORY: CommandSpec = CommandSpec::new(
    "memory",
    -2,
    0,
    0,
    &[],
    doc(
        G,
        "4.0.0",
        "A container for memory diagnostics commands.",
        "Depends on subcommand.",
    ),
    container_arity,
)
.with_subs(MEMORY_SUBS);

static MEMORY_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "memory|help",
        2,
        LOADING | STALE,
        0,
        &[],
        doc(
            G,
            "4.0.0",
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
        |_| Ok(Command::Conn(ConnCmd::Static(memory_help()))),
    ),
    CommandSpec::new(
        "memory|usage",
        -3,
        READONLY,
        0,
        &[KeySpec::one(K_RO, 2)],
        doc(
            G,
            "4.0.0",
            "Estimates the memory usage of a key.",
            "O(N) where N is the number of samples.",
        ),
        usage,
    ),
];

/// MEMORY HELP.
pub fn memory_help() -> moon_engine::ir::Reply {
    help(
        "MEMORY",
        &[
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    )
}

/// `MEMORY USAGE key [SAMPLES count]`: Moon sizes values exactly, so the count is only
/// validated.
fn usage(args: &[Bytes]) -> Result<Command, OpError> {
    let mut i = 3;
    while i < args.len() {
        let (Some(opt), Some(value)) = (args.get(i), args.get(i + 1)) else {
            return Err(OpError::Syntax);
        };
        if !opt.eq_ignore_ascii_case(b"samples") {
            return Err(OpError::Syntax);
        }
        let n = parse_i64(value).ok_or(OpError::NotInteger)?;
        if n < 0 {
            return Err(OpError::Syntax);
        }
        i += 2;
    }
    Ok(Command::Op(Op::MemoryUsage {
        key: args[2].clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn p(line: &str) -> Result<Command, OpError> {
        let args: Vec<Bytes> = line
            .split(' ')
            .map(|a| Bytes::from(a.to_string()))
            .collect();
        parse(&args)
    }

    #[test]
    fn usage_parses_like_redis() {
        let op = |k: &'static str| {
            Ok(Command::Op(Op::MemoryUsage {
                key: Bytes::from_static(k.as_bytes()),
            }))
        };
        assert_eq!(p("MEMORY USAGE k"), op("k"));
        assert_eq!(p("memory usage k SAMPLES 0"), op("k"));
        assert_eq!(p("memory usage k samples"), Err(OpError::Syntax));
        assert_eq!(p("memory usage k samples x"), Err(OpError::NotInteger));
        assert_eq!(p("memory usage k samples -1"), Err(OpError::Syntax));
        assert_eq!(p("memory usage k bar 1"), Err(OpError::Syntax));
        assert!(matches!(
            p("memory help"),
            Ok(Command::Conn(ConnCmd::Static(_)))
        ));
        assert!(p("memory doctor").is_err());
    }
}
