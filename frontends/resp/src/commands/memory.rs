//! MEMORY: table entries and parsers. USAGE is a keyspace op; STATS, DOCTOR, MALLOC-STATS and
//! PURGE lower to server-side [`OpsCmd`]s (the server's `memory_cmds.rs`).

use bytes::Bytes;
use moon_engine::ir::{Op, OpError};

use super::args::parse_i64;
use super::docs::help;
use super::ops::{OpsCmd, ops};
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

const ALL_SHARDS_SPECIAL: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_shards",
    "response_policy:special",
];
const ALLOC: &str = "Depends on how much memory is allocated, could be slow";

static MEMORY_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "memory|doctor",
        2,
        0,
        0,
        &[],
        doc(G, "4.0.0", "Outputs a memory problems report.", "O(1)"),
        |_| Ok(ops(OpsCmd::MemoryDoctor)),
    )
    .tips(ALL_SHARDS_SPECIAL),
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
        "memory|malloc-stats",
        2,
        0,
        0,
        &[],
        doc(G, "4.0.0", "Returns the allocator statistics.", ALLOC),
        |_| Ok(ops(OpsCmd::MemoryMallocStats)),
    )
    .tips(ALL_SHARDS_SPECIAL),
    CommandSpec::new(
        "memory|purge",
        2,
        0,
        0,
        &[],
        doc(G, "4.0.0", "Asks the allocator to release memory.", ALLOC),
        |_| Ok(ops(OpsCmd::MemoryPurge)),
    )
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new(
        "memory|stats",
        2,
        0,
        0,
        &[],
        doc(G, "4.0.0", "Returns details about memory usage.", "O(1)"),
        |_| Ok(ops(OpsCmd::MemoryStats)),
    )
    .tips(ALL_SHARDS_SPECIAL),
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
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
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
    use super::*;

    fn p(line: &str) -> Result<Command, OpError> {
        super::super::tests::p(&line.split(' ').collect::<Vec<_>>())
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
        assert_eq!(p("memory doctor"), Ok(ops(OpsCmd::MemoryDoctor)));
        assert_eq!(p("memory STATS"), Ok(ops(OpsCmd::MemoryStats)));
        assert!(p("memory stats x").is_err());
    }
}
