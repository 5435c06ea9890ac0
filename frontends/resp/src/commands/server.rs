//! The server family handled outside the keyspace (INFO, CONFIG *, TIME, SHUTDOWN, DEBUG,
//! COMMAND *, LASTSAVE, ROLE): table entries and parsers lowering to [`ConnCmd`].
//!
//! Invariants: DEBUG is a plain command (not a container), as in Redis, so its unknown
//! subcommands get `addReplySubcommandSyntaxError`'s text, not the container one.

use bytes::Bytes;
use moon_engine::ir::OpError;

use super::args::{arity_err, c_str, err, is, strtod_prefix};
use super::table::{
    ADMIN, ALLOW_BUSY, CAT_ADMIN, CONNECTION, CommandSpec, DANGEROUS, FAST, LOADING,
    NO_ASYNC_LOADING, NO_MULTI, NOSCRIPT, STALE, doc,
};
use super::{Command, CommandSub, ConnCmd, ListFilter, container_arity};

const G: &str = "server";
const O1: &str = "O(1)";
const LS: u32 = LOADING | STALE;
const CFG: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const ALL_CMDS: &str = "O(N) where N is the total number of Redis commands";
const LOOKUP_N: &str = "O(N) where N is the number of commands to look up";
const ARGS_N: &str = "O(N) where N is the number of arguments to the command";
const HELP: &str = "Returns helpful text about the different subcommands.";

pub static DEBUG: CommandSpec = CommandSpec::new(
    "debug",
    -2,
    ADMIN | NOSCRIPT | LS,
    0,
    &[],
    doc(
        G,
        "1.0.0",
        "A container for debugging commands.",
        "Depends on subcommand.",
    )
    .syscmd(),
    debug,
);
pub static INFO: CommandSpec = CommandSpec::new(
    "info",
    -1,
    LS,
    DANGEROUS,
    &[],
    doc(
        G,
        "1.0.0",
        "Returns information and statistics about the server.",
        O1,
    ),
    info,
)
.tips(&[
    "nondeterministic_output",
    "request_policy:all_shards",
    "response_policy:special",
]);
pub static LASTSAVE: CommandSpec = CommandSpec::new(
    "lastsave",
    1,
    LS | FAST,
    CAT_ADMIN | DANGEROUS,
    &[],
    doc(
        G,
        "1.0.0",
        "Returns the Unix timestamp of the last successful save to disk.",
        O1,
    ),
    lastsave,
)
.tips(&["nondeterministic_output"]);
pub static SAVE: CommandSpec = CommandSpec::new(
    "save",
    1,
    ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
    CAT_ADMIN | DANGEROUS,
    &[],
    doc(
        G,
        "1.0.0",
        "Synchronously saves the database(s) to disk.",
        "O(N) where N is the total number of keys in all databases",
    ),
    save,
);
pub static BGSAVE: CommandSpec = CommandSpec::new(
    "bgsave",
    -1,
    ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
    CAT_ADMIN | DANGEROUS,
    &[],
    doc(
        G,
        "1.0.0",
        "Asynchronously saves the database(s) to disk.",
        "O(1)",
    ),
    bgsave,
);
pub static BGREWRITEAOF: CommandSpec = CommandSpec::new(
    "bgrewriteaof",
    1,
    ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
    CAT_ADMIN | DANGEROUS,
    &[],
    doc(
        G,
        "1.0.0",
        "Asynchronously rewrites the append-only file to disk.",
        "O(1)",
    ),
    bgrewriteaof,
);
pub static ROLE: CommandSpec = CommandSpec::new(
    "role",
    1,
    NOSCRIPT | LS | FAST,
    CAT_ADMIN | DANGEROUS,
    &[],
    doc(G, "2.8.12", "Returns the replication role.", O1),
    role,
);
pub static SHUTDOWN: CommandSpec = CommandSpec::new(
    "shutdown",
    -1,
    ADMIN | NOSCRIPT | LS | NO_MULTI | ALLOW_BUSY,
    0,
    &[],
    doc(
        G,
        "1.0.0",
        "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
    ),
    shutdown,
);
pub static TIME: CommandSpec = CommandSpec::new(
    "time",
    1,
    LS | FAST,
    0,
    &[],
    doc(G, "2.6.0", "Returns the server time.", O1),
    time,
)
.tips(&["nondeterministic_output"]);

pub static CONFIG: CommandSpec = CommandSpec::new(
    "config",
    -2,
    0,
    0,
    &[],
    doc(
        G,
        "2.0.0",
        "A container for server configuration commands.",
        "Depends on subcommand.",
    ),
    container_arity,
)
.with_subs(CONFIG_SUBS);
static CONFIG_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "config|get",
        -3,
        CFG,
        0,
        &[],
        doc(
            G,
            "2.0.0",
            "Returns the effective values of configuration parameters.",
            "O(N) when N is the number of configuration parameters provided",
        ),
        config_get,
    ),
    CommandSpec::new(
        "config|help",
        2,
        LS,
        0,
        &[],
        doc(G, "5.0.0", HELP, O1),
        config_help,
    ),
    CommandSpec::new(
        "config|resetstat",
        2,
        CFG,
        0,
        &[],
        doc(G, "2.0.0", "Resets the server's statistics.", O1),
        config_resetstat,
    ),
    CommandSpec::new(
        "config|rewrite",
        2,
        CFG,
        0,
        &[],
        doc(
            G,
            "2.8.0",
            "Persists the effective configuration to file.",
            O1,
        ),
        |_| Ok(super::ops::ops(super::OpsCmd::ConfigRewrite)),
    ),
    CommandSpec::new(
        "config|set",
        -4,
        CFG,
        0,
        &[],
        doc(
            G,
            "2.0.0",
            "Sets configuration parameters in-flight.",
            "O(N) when N is the number of configuration parameters provided",
        ),
        config_set,
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
];

pub static COMMAND: CommandSpec = CommandSpec::new(
    "command",
    -1,
    LS,
    CONNECTION,
    &[],
    doc(
        G,
        "2.8.13",
        "Returns detailed information about all commands.",
        ALL_CMDS,
    ),
    command_all,
)
.tips(&["nondeterministic_output_order"])
.with_subs(COMMAND_SUBS);
static COMMAND_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "command|count",
        2,
        LS,
        CONNECTION,
        &[],
        doc(G, "2.8.13", "Returns a count of commands.", O1),
        command_count,
    ),
    CommandSpec::new(
        "command|docs",
        -2,
        LS,
        CONNECTION,
        &[],
        doc(
            G,
            "7.0.0",
            "Returns documentary information about one, multiple or all commands.",
            LOOKUP_N,
        ),
        command_docs,
    )
    .tips(&["nondeterministic_output_order"]),
    CommandSpec::new(
        "command|getkeys",
        -3,
        LS,
        CONNECTION,
        &[],
        doc(
            G,
            "2.8.13",
            "Extracts the key names from an arbitrary command.",
            ARGS_N,
        ),
        command_getkeys,
    ),
    CommandSpec::new(
        "command|getkeysandflags",
        -3,
        LS,
        CONNECTION,
        &[],
        doc(
            G,
            "7.0.0",
            "Extracts the key names and access flags for an arbitrary command.",
            ARGS_N,
        ),
        command_getkeysandflags,
    ),
    CommandSpec::new(
        "command|help",
        2,
        LS,
        CONNECTION,
        &[],
        doc(G, "5.0.0", HELP, O1),
        command_help,
    ),
    CommandSpec::new(
        "command|info",
        -2,
        LS,
        CONNECTION,
        &[],
        doc(
            G,
            "2.8.13",
            "Returns information about one, multiple or all commands.",
            LOOKUP_N,
        ),
        command_info,
    )
    .tips(&["nondeterministic_output_order"]),
    CommandSpec::new(
        "command|list",
        -2,
        LS,
        CONNECTION,
        &[],
        doc(G, "7.0.0", "Returns a list of command names.", ALL_CMDS),
        command_list,
    )
    .tips(&["nondeterministic_output_order"]),
];

fn conn(cmd: ConnCmd) -> Result<Command, OpError> {
    Ok(Command::Conn(cmd))
}

fn sub(cmd: CommandSub) -> Result<Command, OpError> {
    conn(ConnCmd::Command(cmd))
}

fn info(a: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::Info(a[1..].to_vec()))
}

fn save(_: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::Save)
}

fn bgsave(a: &[Bytes]) -> Result<Command, OpError> {
    match a {
        [_] => conn(ConnCmd::BgSave { schedule: false }),
        [_, opt] if is(opt, "schedule") => conn(ConnCmd::BgSave { schedule: true }),
        _ => Err(OpError::Syntax),
    }
}

fn bgrewriteaof(_: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::BgRewriteAof)
}

fn lastsave(_: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::Lastsave)
}

fn role(_: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::Role)
}

fn time(_: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::Time)
}

fn config_get(a: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::ConfigGet(a[2..].to_vec()))
}

fn config_help(_: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::ConfigHelp)
}

fn config_resetstat(_: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::ConfigResetStat)
}

fn config_set(a: &[Bytes]) -> Result<Command, OpError> {
    if a.len() % 2 == 1 {
        return Err(arity_err("config|set"));
    }
    let pairs = a[2..]
        .chunks_exact(2)
        .map(|kv| (kv[0].clone(), kv[1].clone()))
        .collect();
    conn(ConnCmd::ConfigSet(pairs))
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] (`shutdownCommand`).
fn shutdown(a: &[Bytes]) -> Result<Command, OpError> {
    let (mut nosave, mut save, mut now, mut force, mut abort) = (false, false, false, false, false);
    for opt in &a[1..] {
        let flag = if is(opt, "nosave") {
            &mut nosave
        } else if is(opt, "save") {
            &mut save
        } else if is(opt, "now") {
            &mut now
        } else if is(opt, "force") {
            &mut force
        } else if is(opt, "abort") {
            &mut abort
        } else {
            return Err(OpError::Syntax);
        };
        *flag = true;
    }
    if (abort && (nosave || save || now || force)) || (nosave && save) {
        return Err(OpError::Syntax);
    }
    let save = if save {
        Some(true)
    } else if nosave {
        Some(false)
    } else {
        None
    };
    conn(ConnCmd::Shutdown {
        save,
        now,
        force,
        abort,
    })
}

/// DEBUG SLEEP <seconds> | DEBUG HELP; the seconds go through `strtod` unchecked, as in Redis.
/// DEBUG PANIC and DEBUG WAL-FAULT are Moon's fault-injection hooks.
fn debug(a: &[Bytes]) -> Result<Command, OpError> {
    match a {
        [_, s] if is(s, "help") => conn(ConnCmd::DebugHelp),
        [_, s, secs] if is(s, "sleep") => conn(ConnCmd::DebugSleep(strtod_prefix(secs))),
        // Redis ignores extra arguments of DEBUG PANIC; Moon reads one as a key to panic on
        // the shard that owns it.
        [_, s] if is(s, "panic") => conn(ConnCmd::DebugPanic(None)),
        [_, s, key, ..] if is(s, "panic") => conn(ConnCmd::DebugPanic(Some(key.clone()))),
        [_, s, n] if is(s, "wal-fault") => conn(ConnCmd::DebugWalFault(wal_fault_count(n)?)),
        _ => Err(subcommand_syntax_error(&a[0], &a[1])),
    }
}

/// DEBUG WAL-FAULT's argument: how many WAL commits to fail, `OFF` for none.
fn wal_fault_count(n: &[u8]) -> Result<u32, OpError> {
    if is(n, "off") {
        return Ok(0);
    }
    match super::args::parse_i64(n).map(u32::try_from) {
        Some(Ok(count)) => Ok(count),
        _ => Err(OpError::NotInteger),
    }
}

/// `addReplySubcommandSyntaxError`: the subcommand as typed (at most 128 bytes), the command
/// name uppercased.
pub fn subcommand_syntax_error(cmd: &[u8], sub: &[u8]) -> OpError {
    let sub = c_str(sub);
    let sub = String::from_utf8_lossy(&sub[..sub.len().min(128)]).into_owned();
    let cmd = String::from_utf8_lossy(c_str(cmd)).to_ascii_uppercase();
    err(format!(
        "unknown subcommand or wrong number of arguments for '{sub}'. Try {cmd} HELP."
    ))
}

fn command_all(_: &[Bytes]) -> Result<Command, OpError> {
    sub(CommandSub::Info(Vec::new()))
}

fn command_count(_: &[Bytes]) -> Result<Command, OpError> {
    sub(CommandSub::Count)
}

fn command_help(_: &[Bytes]) -> Result<Command, OpError> {
    sub(CommandSub::Help)
}

fn command_info(a: &[Bytes]) -> Result<Command, OpError> {
    sub(CommandSub::Info(a[2..].to_vec()))
}

fn command_docs(a: &[Bytes]) -> Result<Command, OpError> {
    sub(CommandSub::Docs(a[2..].to_vec()))
}

fn command_getkeys(a: &[Bytes]) -> Result<Command, OpError> {
    sub(CommandSub::GetKeys(a[2..].to_vec()))
}

fn command_getkeysandflags(a: &[Bytes]) -> Result<Command, OpError> {
    sub(CommandSub::GetKeysAndFlags(a[2..].to_vec()))
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern].
fn command_list(a: &[Bytes]) -> Result<Command, OpError> {
    match a {
        [_, _] => sub(CommandSub::List(None)),
        [_, _, by, kind, arg] if is(by, "filterby") => {
            let filter = if is(kind, "module") {
                ListFilter::Module(arg.clone())
            } else if is(kind, "aclcat") {
                ListFilter::AclCat(arg.clone())
            } else if is(kind, "pattern") {
                ListFilter::Pattern(arg.clone())
            } else {
                return Err(OpError::Syntax);
            };
            sub(CommandSub::List(Some(filter)))
        }
        _ => Err(OpError::Syntax),
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
