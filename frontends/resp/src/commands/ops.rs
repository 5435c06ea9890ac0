//! Operability commands: SLOWLOG, LATENCY and MONITOR table entries and parsers. The server
//! executes the [`OpsCmd`] they lower to (its `slowlog.rs`, `latency.rs`, `monitor.rs`).
//!
//! Invariants: flags, arities and tips are redis-server 7.0's COMMAND INFO; summaries are 7.2's
//! (as the rest of the table); error texts are 7.0.15's.

use bytes::Bytes;
use moon_engine::ir::OpError;

use super::args::{err, parse_i64};
use super::docs::help;
use super::table::{ADMIN, CommandSpec, LOADING, NOSCRIPT, STALE, doc};
use super::{Command, ConnCmd, container_arity};

const G: &str = "server";
const O1: &str = "O(1)";
const HELP: &str = "Returns helpful text about the different subcommands.";
const ADM: u32 = ADMIN | LOADING | STALE;
const LAT: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const SPECIAL: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_nodes",
    "response_policy:special",
];

/// A parsed operability command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpsCmd {
    /// SLOWLOG GET [count]: `None` is every entry (count -1).
    SlowlogGet(Option<usize>),
    /// SLOWLOG LEN.
    SlowlogLen,
    /// SLOWLOG RESET.
    SlowlogReset,
    /// LATENCY LATEST.
    LatencyLatest,
    /// LATENCY HISTORY event.
    LatencyHistory(Bytes),
    /// LATENCY RESET [event ...].
    LatencyReset(Vec<Bytes>),
    /// LATENCY GRAPH event.
    LatencyGraph(Bytes),
    /// LATENCY DOCTOR.
    LatencyDoctor,
    /// LATENCY HISTOGRAM [command ...].
    LatencyHistogram(Vec<Bytes>),
    /// MONITOR.
    Monitor,
    /// MEMORY STATS.
    MemoryStats,
    /// MEMORY DOCTOR.
    MemoryDoctor,
    /// MEMORY MALLOC-STATS.
    MemoryMallocStats,
    /// MEMORY PURGE.
    MemoryPurge,
    /// CONFIG REWRITE.
    ConfigRewrite,
}

/// The SLOWLOG, LATENCY and MONITOR commands.
pub static COMMANDS: &[&CommandSpec] = &[&SLOWLOG, &LATENCY, &MONITOR];

pub static SLOWLOG: CommandSpec = CommandSpec::new(
    "slowlog",
    -2,
    0,
    0,
    &[],
    doc(
        G,
        "2.2.12",
        "A container for slow log commands.",
        "Depends on subcommand.",
    ),
    container_arity,
)
.with_subs(SLOWLOG_SUBS);

static SLOWLOG_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "slowlog|get",
        -2,
        ADM,
        0,
        &[],
        doc(
            G,
            "2.2.12",
            "Returns the slow log's entries.",
            "O(N) where N is the number of entries returned",
        ),
        slowlog_get,
    )
    .tips(&["request_policy:all_nodes", "nondeterministic_output"]),
    CommandSpec::new(
        "slowlog|help",
        2,
        LOADING | STALE,
        0,
        &[],
        doc(G, "6.2.0", HELP, O1),
        |_| Ok(Command::Conn(ConnCmd::Static(slowlog_help()))),
    ),
    CommandSpec::new(
        "slowlog|len",
        2,
        ADM,
        0,
        &[],
        doc(
            G,
            "2.2.12",
            "Returns the number of entries in the slow log.",
            O1,
        ),
        |_| Ok(ops(OpsCmd::SlowlogLen)),
    )
    .tips(&[
        "request_policy:all_nodes",
        "response_policy:agg_sum",
        "nondeterministic_output",
    ]),
    CommandSpec::new(
        "slowlog|reset",
        2,
        ADM,
        0,
        &[],
        doc(
            G,
            "2.2.12",
            "Clears all entries from the slow log.",
            "O(N) where N is the number of entries in the slowlog",
        ),
        |_| Ok(ops(OpsCmd::SlowlogReset)),
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
];

pub static LATENCY: CommandSpec = CommandSpec::new(
    "latency",
    -2,
    0,
    0,
    &[],
    doc(
        G,
        "2.8.13",
        "A container for latency diagnostics commands.",
        "Depends on subcommand.",
    ),
    container_arity,
)
.with_subs(LATENCY_SUBS);

static LATENCY_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "latency|doctor",
        2,
        LAT,
        0,
        &[],
        doc(
            G,
            "2.8.13",
            "Returns a human-readable latency analysis report.",
            O1,
        ),
        |_| Ok(ops(OpsCmd::LatencyDoctor)),
    )
    .tips(SPECIAL),
    CommandSpec::new(
        "latency|graph",
        3,
        LAT,
        0,
        &[],
        doc(G, "2.8.13", "Returns a latency graph for an event.", O1),
        |a| Ok(ops(OpsCmd::LatencyGraph(a[2].clone()))),
    )
    .tips(SPECIAL),
    CommandSpec::new(
        "latency|help",
        2,
        LOADING | STALE,
        0,
        &[],
        doc(G, "2.8.13", HELP, O1),
        |_| Ok(Command::Conn(ConnCmd::Static(latency_help()))),
    ),
    CommandSpec::new(
        "latency|histogram",
        -2,
        LAT,
        0,
        &[],
        doc(
            G,
            "7.0.0",
            "Returns the cumulative distribution of latencies of a subset or all commands.",
            "O(N) where N is the number of commands with latency information being retrieved.",
        ),
        |a| Ok(ops(OpsCmd::LatencyHistogram(a[2..].to_vec()))),
    )
    .tips(SPECIAL),
    CommandSpec::new(
        "latency|history",
        3,
        LAT,
        0,
        &[],
        doc(
            G,
            "2.8.13",
            "Returns timestamp-latency samples for an event.",
            O1,
        ),
        |a| Ok(ops(OpsCmd::LatencyHistory(a[2].clone()))),
    )
    .tips(SPECIAL),
    CommandSpec::new(
        "latency|latest",
        2,
        LAT,
        0,
        &[],
        doc(
            G,
            "2.8.13",
            "Returns the latest latency samples for all events.",
            O1,
        ),
        |_| Ok(ops(OpsCmd::LatencyLatest)),
    )
    .tips(SPECIAL),
    CommandSpec::new(
        "latency|reset",
        -2,
        LAT,
        0,
        &[],
        doc(
            G,
            "2.8.13",
            "Resets the latency data for one or more events.",
            O1,
        ),
        |a| Ok(ops(OpsCmd::LatencyReset(a[2..].to_vec()))),
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
];

pub static MONITOR: CommandSpec = CommandSpec::new(
    "monitor",
    1,
    LAT,
    0,
    &[],
    doc(
        G,
        "1.0.0",
        "Listens for all requests received by the server in real-time.",
        "",
    ),
    |_| Ok(ops(OpsCmd::Monitor)),
);

/// The command of an [`OpsCmd`].
pub(crate) fn ops(cmd: OpsCmd) -> Command {
    Command::Conn(ConnCmd::Ops(cmd))
}

/// `SLOWLOG GET [count]`: count is -1 (all) or more; anything else, integer or not, gets the
/// same error as in Redis.
fn slowlog_get(a: &[Bytes]) -> Result<Command, OpError> {
    let count = match a.len() {
        2 => Some(10),
        3 => match parse_i64(&a[2]) {
            Some(-1) => None,
            Some(n) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => return Err(err("count should be greater than or equal to -1")),
        },
        _ => {
            return Err(err(format!(
                "unknown subcommand or wrong number of arguments for '{}'. Try SLOWLOG HELP.",
                String::from_utf8_lossy(&a[1])
            )));
        }
    };
    Ok(ops(OpsCmd::SlowlogGet(count)))
}

/// SLOWLOG HELP.
pub fn slowlog_help() -> moon_engine::ir::Reply {
    help(
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    )
}

/// LATENCY HELP.
pub fn latency_help() -> moon_engine::ir::Reply {
    help(
        "LATENCY",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<Command, OpError> {
        super::super::tests::p(&line.split(' ').collect::<Vec<_>>())
    }

    #[test]
    fn slowlog_parses_like_redis() {
        assert_eq!(p("SLOWLOG GET"), Ok(ops(OpsCmd::SlowlogGet(Some(10)))));
        assert_eq!(p("slowlog get 3"), Ok(ops(OpsCmd::SlowlogGet(Some(3)))));
        assert_eq!(p("slowlog get -1"), Ok(ops(OpsCmd::SlowlogGet(None))));
        let bad = Err(err("count should be greater than or equal to -1"));
        assert_eq!(p("slowlog get -2"), bad);
        assert_eq!(p("slowlog get x"), bad);
        assert_eq!(
            p("slowlog Get 1 2"),
            Err(err(
                "unknown subcommand or wrong number of arguments for 'Get'. Try SLOWLOG HELP."
            ))
        );
        assert_eq!(p("slowlog len"), Ok(ops(OpsCmd::SlowlogLen)));
        assert_eq!(
            p("slowlog len x"),
            Err(err("wrong number of arguments for 'slowlog|len' command"))
        );
        assert_eq!(
            p("slowlog foo"),
            Err(err("unknown subcommand 'foo'. Try SLOWLOG HELP."))
        );
        assert!(matches!(
            p("slowlog help"),
            Ok(Command::Conn(ConnCmd::Static(_)))
        ));
    }

    #[test]
    fn latency_and_monitor_parse() {
        assert_eq!(
            p("latency histogram set get"),
            Ok(ops(OpsCmd::LatencyHistogram(vec![
                Bytes::from("set"),
                Bytes::from("get")
            ])))
        );
        assert_eq!(p("latency reset"), Ok(ops(OpsCmd::LatencyReset(vec![]))));
        assert_eq!(
            p("latency history"),
            Err(err(
                "wrong number of arguments for 'latency|history' command"
            ))
        );
        assert_eq!(p("monitor"), Ok(ops(OpsCmd::Monitor)));
        assert_eq!(
            p("monitor x"),
            Err(err("wrong number of arguments for 'monitor' command"))
        );
    }
}
