//! Scripting commands: EVAL/EVALSHA (and their `_RO` forms), SCRIPT, FCALL/FCALL_RO and
//! FUNCTION. The command table entries (Redis 7.0's flags, key specs and docs) and the parsers.
//!
//! The library catalog commands that change or read the dataset (FUNCTION LOAD, DELETE, FLUSH,
//! DUMP, RESTORE) lower to `Op::Functions` so they are logged, replicated and snapshotted like
//! any other write; everything that needs the Lua runtime (running scripts, the script cache,
//! FUNCTION LIST/STATS/KILL) lowers to [`ScriptCmd`], executed by the server.
//!
//! Invariants: parsers run after the table's arity check, so they index `args` only within the
//! registered arity; every error text is redis-server 7.0.15's. Library names are always taken
//! from the code's shebang (`moon_engine::functions::parse_metadata`), never from elsewhere.
//!
//! Known ordering difference: Redis looks the function up before it checks FCALL's numkeys
//! (and EVALSHA's sha before its numkeys only when the sha is not 40 bytes long); the parser
//! checks numkeys first, so FCALL of a missing function with a bad numkeys answers the numkeys
//! error rather than `Function not found`.

use bytes::Bytes;
use moon_engine::functions;
use moon_engine::ir::ops::{FunctionOp, RestorePolicy};
use moon_engine::ir::{Op, OpError, Reply};

use super::args::{err, is, parse_i64, show};
use super::server::subcommand_syntax_error;
use super::table::{
    ALLOW_BUSY, CommandSpec, DENYOOM, GetKeysProc, K_ACCESS, K_RO, K_RW, K_UPDATE, KeySpec,
    LOADING, NO_MANDATORY_KEYS, NOSCRIPT, READONLY, SCRIPTING, SKIP_MONITOR, STALE, WRITE, doc,
};
use super::{Command, ConnCmd, container_arity};

/// A scripting command executed by the server's Lua runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptCmd {
    /// EVAL / EVAL_RO (`ro`) script numkeys key... arg...
    Eval {
        script: Bytes,
        keys: Vec<Bytes>,
        args: Vec<Bytes>,
        ro: bool,
    },
    /// EVALSHA / EVALSHA_RO sha1 numkeys key... arg... (`sha` as given; the server matches it
    /// case-insensitively).
    EvalSha {
        sha: Bytes,
        keys: Vec<Bytes>,
        args: Vec<Bytes>,
        ro: bool,
    },
    /// FCALL / FCALL_RO function numkeys key... arg...
    Fcall {
        function: Bytes,
        keys: Vec<Bytes>,
        args: Vec<Bytes>,
        ro: bool,
    },
    /// SCRIPT LOAD script.
    ScriptLoad(Bytes),
    /// SCRIPT EXISTS sha1 [sha1 ...].
    ScriptExists(Vec<Bytes>),
    /// SCRIPT FLUSH [ASYNC|SYNC].
    ScriptFlush,
    /// SCRIPT KILL.
    ScriptKill,
    /// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE].
    FunctionList {
        pattern: Option<Bytes>,
        withcode: bool,
    },
    /// FUNCTION STATS.
    FunctionStats,
    /// FUNCTION KILL.
    FunctionKill,
}

const G: &str = "scripting";
/// Flags of EVAL, EVALSHA and FCALL (`_RO` forms add `readonly`).
const RUN: u32 = NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS;
const RUN_RO: u32 = READONLY | RUN;
const EVAL_KEYS: &[KeySpec] = &[KeySpec::numkeys(K_RW | K_ACCESS | K_UPDATE, 2)
    .with_notes("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")];
const EVAL_RO_KEYS: &[KeySpec] = &[KeySpec::numkeys(K_RO | K_ACCESS, 2)
    .with_notes("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")];
const EVALSHA_KEYS: &[KeySpec] = &[KeySpec::numkeys(K_RW | K_ACCESS | K_UPDATE, 2)];
const EVALSHA_RO_KEYS: &[KeySpec] = &[KeySpec::numkeys(K_RO | K_ACCESS, 2)];
/// `evalGetKeys`/`functionGetKeys` (`genericGetKeys(0, 2, 3, 1)`), used when the numkeys
/// spec is invalid (numkeys not an integer, negative, or more than the arguments).
const NUMKEYS_FALLBACK: GetKeysProc = GetKeysProc::Numkeys {
    store: 0,
    count: 2,
    first: 3,
};
const RUN_COMPLEXITY: &str = "Depends on the script that is executed.";
const FCALL_COMPLEXITY: &str = "Depends on the function that is executed.";
/// Tips of the subcommands that change every node's state.
const ALL_SHARDS_ALL_SUCCEEDED: &[&str] =
    &["request_policy:all_shards", "response_policy:all_succeeded"];
const ALL_NODES_ALL_SUCCEEDED: &[&str] =
    &["request_policy:all_nodes", "response_policy:all_succeeded"];
const KILL_TIPS: &[&str] = &["request_policy:all_shards", "response_policy:one_succeeded"];

pub static EVAL: CommandSpec = CommandSpec::new(
    "eval",
    -3,
    RUN,
    SCRIPTING,
    EVAL_KEYS,
    doc(
        G,
        "2.6.0",
        "Execute a Lua script server side",
        RUN_COMPLEXITY,
    ),
    eval,
)
.getkeys(NUMKEYS_FALLBACK);
pub static EVALSHA: CommandSpec = CommandSpec::new(
    "evalsha",
    -3,
    RUN,
    SCRIPTING,
    EVALSHA_KEYS,
    doc(
        G,
        "2.6.0",
        "Execute a Lua script server side",
        RUN_COMPLEXITY,
    ),
    evalsha,
)
.getkeys(NUMKEYS_FALLBACK);
pub static EVAL_RO: CommandSpec = CommandSpec::new(
    "eval_ro",
    -3,
    RUN_RO,
    SCRIPTING,
    EVAL_RO_KEYS,
    doc(
        G,
        "7.0.0",
        "Execute a read-only Lua script server side",
        RUN_COMPLEXITY,
    ),
    eval_ro,
)
.getkeys(NUMKEYS_FALLBACK);
pub static EVALSHA_RO: CommandSpec = CommandSpec::new(
    "evalsha_ro",
    -3,
    RUN_RO,
    SCRIPTING,
    EVALSHA_RO_KEYS,
    doc(
        G,
        "7.0.0",
        "Execute a read-only Lua script server side",
        RUN_COMPLEXITY,
    ),
    evalsha_ro,
)
.getkeys(NUMKEYS_FALLBACK);
pub static FCALL: CommandSpec = CommandSpec::new(
    "fcall",
    -3,
    RUN,
    SCRIPTING,
    EVAL_KEYS,
    doc(G, "7.0.0", "Invoke a function", FCALL_COMPLEXITY),
    fcall,
)
.getkeys(NUMKEYS_FALLBACK);
pub static FCALL_RO: CommandSpec = CommandSpec::new(
    "fcall_ro",
    -3,
    RUN_RO,
    SCRIPTING,
    EVAL_RO_KEYS,
    doc(G, "7.0.0", "Invoke a read-only function", FCALL_COMPLEXITY),
    fcall_ro,
)
.getkeys(NUMKEYS_FALLBACK);

pub static SCRIPT: CommandSpec = CommandSpec::new(
    "script",
    -2,
    0,
    0,
    &[],
    doc(
        G,
        "2.6.0",
        "A container for Lua scripts management commands",
        "Depends on subcommand.",
    ),
    container_arity,
)
.with_subs(SCRIPT_SUBS);
static SCRIPT_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "script|debug",
        3,
        NOSCRIPT,
        SCRIPTING,
        &[],
        doc(G, "3.2.0", "Set the debug mode for executed scripts.", "O(1)"),
        script_debug,
    ),
    CommandSpec::new(
        "script|exists",
        -3,
        NOSCRIPT,
        SCRIPTING,
        &[],
        doc(
            G,
            "2.6.0",
            "Check existence of scripts in the script cache.",
            "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
        ),
        script_exists,
    )
    .tips(&[
        "request_policy:all_shards",
        "response_policy:agg_logical_and",
    ]),
    CommandSpec::new(
        "script|flush",
        -2,
        NOSCRIPT,
        SCRIPTING,
        &[],
        doc(
            G,
            "2.6.0",
            "Remove all the scripts from the script cache.",
            "O(N) with N being the number of scripts in cache",
        ),
        script_flush,
    )
    .tips(ALL_NODES_ALL_SUCCEEDED),
    CommandSpec::new(
        "script|help",
        2,
        LOADING | STALE,
        SCRIPTING,
        &[],
        doc(
            G,
            "5.0.0",
            "Show helpful text about the different subcommands",
            "O(1)",
        ),
        |_| Ok(Command::Conn(ConnCmd::Static(script_help()))),
    ),
    CommandSpec::new(
        "script|kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        SCRIPTING,
        &[],
        doc(G, "2.6.0", "Kill the script currently in execution.", "O(1)"),
        |_| script(ScriptCmd::ScriptKill),
    )
    .tips(KILL_TIPS),
    CommandSpec::new(
        "script|load",
        3,
        NOSCRIPT | STALE,
        SCRIPTING,
        &[],
        doc(
            G,
            "2.6.0",
            "Load the specified Lua script into the script cache.",
            "O(N) with N being the length in bytes of the script body.",
        ),
        script_load,
    )
    .tips(ALL_NODES_ALL_SUCCEEDED),
];

pub static FUNCTION: CommandSpec = CommandSpec::new(
    "function",
    -2,
    0,
    0,
    &[],
    doc(
        G,
        "7.0.0",
        "A container for function commands",
        "Depends on subcommand.",
    ),
    container_arity,
)
.with_subs(FUNCTION_SUBS);
static FUNCTION_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "function|delete",
        3,
        WRITE | NOSCRIPT,
        SCRIPTING,
        &[],
        doc(G, "7.0.0", "Delete a function by name", "O(1)"),
        function_delete,
    )
    .tips(ALL_SHARDS_ALL_SUCCEEDED),
    CommandSpec::new(
        "function|dump",
        2,
        NOSCRIPT,
        SCRIPTING,
        &[],
        doc(
            G,
            "7.0.0",
            "Dump all functions into a serialized binary payload",
            "O(N) where N is the number of functions",
        ),
        |_| function_op(FunctionOp::Dump),
    ),
    CommandSpec::new(
        "function|flush",
        -2,
        WRITE | NOSCRIPT,
        SCRIPTING,
        &[],
        doc(
            G,
            "7.0.0",
            "Deleting all functions",
            "O(N) where N is the number of functions deleted",
        ),
        function_flush,
    )
    .tips(ALL_SHARDS_ALL_SUCCEEDED),
    CommandSpec::new(
        "function|help",
        2,
        LOADING | STALE,
        SCRIPTING,
        &[],
        doc(
            G,
            "7.0.0",
            "Show helpful text about the different subcommands",
            "O(1)",
        ),
        |_| Ok(Command::Conn(ConnCmd::Static(function_help()))),
    ),
    CommandSpec::new(
        "function|kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        SCRIPTING,
        &[],
        doc(
            G,
            "7.0.0",
            "Kill the function currently in execution.",
            "O(1)",
        ),
        |_| script(ScriptCmd::FunctionKill),
    )
    .tips(KILL_TIPS),
    CommandSpec::new(
        "function|list",
        -2,
        NOSCRIPT,
        SCRIPTING,
        &[],
        doc(
            G,
            "7.0.0",
            "List information about all the functions",
            "O(N) where N is the number of functions",
        ),
        function_list,
    )
    .tips(&["nondeterministic_output_order"]),
    CommandSpec::new(
        "function|load",
        -3,
        WRITE | DENYOOM | NOSCRIPT,
        SCRIPTING,
        &[],
        doc(
            G,
            "7.0.0",
            "Create a function with the given arguments (name, code, description)",
            "O(1) (considering compilation time is redundant)",
        ),
        function_load,
    )
    .tips(ALL_SHARDS_ALL_SUCCEEDED),
    CommandSpec::new(
        "function|restore",
        -3,
        WRITE | DENYOOM | NOSCRIPT,
        SCRIPTING,
        &[],
        doc(
            G,
            "7.0.0",
            "Restore all the functions on the given payload",
            "O(N) where N is the number of functions on the payload",
        ),
        function_restore,
    )
    .tips(ALL_SHARDS_ALL_SUCCEEDED),
    CommandSpec::new(
        "function|stats",
        2,
        NOSCRIPT | ALLOW_BUSY,
        SCRIPTING,
        &[],
        doc(
            G,
            "7.0.0",
            "Return information about the function currently running (name, description, duration)",
            "O(1)",
        ),
        |_| script(ScriptCmd::FunctionStats),
    )
    .tips(&[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ]),
];

/// Every command of the family (consulted after the core registry).
pub static COMMANDS: &[&CommandSpec] = &[
    &EVAL,
    &EVALSHA,
    &EVAL_RO,
    &EVALSHA_RO,
    &FCALL,
    &FCALL_RO,
    &SCRIPT,
    &FUNCTION,
];

/// A help reply of Redis 7.0's SCRIPT/FUNCTION shape: its lines end with their own
/// `HELP` / `Prints this help.` (not the generic `Print this help.`).
fn help_reply(cmd: &str, lines: &[&'static str]) -> Reply {
    let mut out = vec![Reply::Simple(Bytes::from(format!(
        "{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    )))];
    out.extend(lines.iter().map(|l| Reply::simple(l)));
    Reply::Array(out)
}

/// SCRIPT HELP, as redis-server 7.0.15 prints it.
pub fn script_help() -> Reply {
    help_reply(
        "SCRIPT",
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
            "HELP",
            "    Prints this help.",
        ],
    )
}

/// FUNCTION HELP, as redis-server 7.0.15 prints it.
pub fn function_help() -> Reply {
    help_reply(
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
            "HELP",
            "    Prints this help.",
        ],
    )
}

fn script(cmd: ScriptCmd) -> Result<Command, OpError> {
    Ok(Command::Conn(ConnCmd::Script(cmd)))
}

fn function_op(op: FunctionOp) -> Result<Command, OpError> {
    Ok(Command::Op(Op::Functions(op)))
}

/// `name target numkeys key... arg...` split into keys and args, with Redis 7.0's checks:
/// `bad_int` is the error for a numkeys that is not an integer (EVAL's generic text, FCALL's
/// `Bad number of keys provided`).
fn keys_and_args(a: &[Bytes], bad_int: OpError) -> Result<(Vec<Bytes>, Vec<Bytes>), OpError> {
    let numkeys = a.get(2).and_then(|n| parse_i64(n)).ok_or(bad_int)?;
    let rest = a.get(3..).unwrap_or_default();
    if numkeys > rest.len() as i64 {
        return Err(err("Number of keys can't be greater than number of args"));
    }
    let Ok(n) = usize::try_from(numkeys) else {
        return Err(err("Number of keys can't be negative"));
    };
    let (keys, args) = rest.split_at(n);
    Ok((keys.to_vec(), args.to_vec()))
}

fn eval_generic(a: &[Bytes], ro: bool) -> Result<Command, OpError> {
    let (keys, args) = keys_and_args(a, OpError::NotInteger)?;
    script(ScriptCmd::Eval {
        script: a.get(1).cloned().unwrap_or_default(),
        keys,
        args,
        ro,
    })
}

fn eval(a: &[Bytes]) -> Result<Command, OpError> {
    eval_generic(a, false)
}

fn eval_ro(a: &[Bytes]) -> Result<Command, OpError> {
    eval_generic(a, true)
}

fn evalsha_generic(a: &[Bytes], ro: bool) -> Result<Command, OpError> {
    let sha = a.get(1).cloned().unwrap_or_default();
    if sha.len() != 40 {
        // Redis answers NOSCRIPT before looking at numkeys: no script has such a sha, so the
        // runtime's lookup gives that answer.
        return script(ScriptCmd::EvalSha {
            sha,
            keys: Vec::new(),
            args: Vec::new(),
            ro,
        });
    }
    let (keys, args) = keys_and_args(a, OpError::NotInteger)?;
    script(ScriptCmd::EvalSha {
        sha,
        keys,
        args,
        ro,
    })
}

fn evalsha(a: &[Bytes]) -> Result<Command, OpError> {
    evalsha_generic(a, false)
}

fn evalsha_ro(a: &[Bytes]) -> Result<Command, OpError> {
    evalsha_generic(a, true)
}

fn fcall_generic(a: &[Bytes], ro: bool) -> Result<Command, OpError> {
    let (keys, args) = keys_and_args(a, err("Bad number of keys provided"))?;
    script(ScriptCmd::Fcall {
        function: a.get(1).cloned().unwrap_or_default(),
        keys,
        args,
        ro,
    })
}

fn fcall(a: &[Bytes]) -> Result<Command, OpError> {
    fcall_generic(a, false)
}

fn fcall_ro(a: &[Bytes]) -> Result<Command, OpError> {
    fcall_generic(a, true)
}

/// SCRIPT DEBUG: only NO is meaningful without the Lua debugger (it is what every client
/// already has); YES and SYNC would start a debugging session, which Moon does not offer.
fn script_debug(a: &[Bytes]) -> Result<Command, OpError> {
    match a.get(2) {
        Some(m) if is(m, "no") => Ok(Command::Conn(ConnCmd::Static(Reply::Ok))),
        Some(m) if is(m, "yes") || is(m, "sync") => Err(err(
            "SCRIPT DEBUG YES/SYNC is not supported (no Lua debugger)",
        )),
        _ => Err(err("Use SCRIPT DEBUG YES/SYNC/NO")),
    }
}

fn script_exists(a: &[Bytes]) -> Result<Command, OpError> {
    script(ScriptCmd::ScriptExists(
        a.get(2..).map(<[Bytes]>::to_vec).unwrap_or_default(),
    ))
}

fn script_flush(a: &[Bytes]) -> Result<Command, OpError> {
    match a {
        [_, _] => script(ScriptCmd::ScriptFlush),
        [_, _, mode] if is(mode, "sync") || is(mode, "async") => script(ScriptCmd::ScriptFlush),
        _ => Err(err("SCRIPT FLUSH only support SYNC|ASYNC option")),
    }
}

fn script_load(a: &[Bytes]) -> Result<Command, OpError> {
    script(ScriptCmd::ScriptLoad(a.get(2).cloned().unwrap_or_default()))
}

fn function_delete(a: &[Bytes]) -> Result<Command, OpError> {
    function_op(FunctionOp::Delete {
        name: a.get(2).cloned().unwrap_or_default(),
    })
}

fn function_flush(a: &[Bytes]) -> Result<Command, OpError> {
    match a {
        [_, _] => function_op(FunctionOp::Flush),
        [_, _, mode] if is(mode, "sync") || is(mode, "async") => function_op(FunctionOp::Flush),
        [_, _, _] => Err(err("FUNCTION FLUSH only supports SYNC|ASYNC option")),
        [cmd, sub, ..] => Err(subcommand_syntax_error(cmd, sub)),
        _ => Err(super::args::arity_err("function|flush")),
    }
}

fn function_list(a: &[Bytes]) -> Result<Command, OpError> {
    let mut pattern: Option<Bytes> = None;
    let mut withcode = false;
    let mut i = 2;
    while let Some(arg) = a.get(i) {
        if !withcode && is(arg, "withcode") {
            withcode = true;
        } else if pattern.is_none() && is(arg, "libraryname") {
            i += 1;
            let Some(p) = a.get(i) else {
                return Err(err("library name argument was not given"));
            };
            pattern = Some(p.clone());
        } else {
            return Err(err(format!("Unknown argument {}", show(arg))));
        }
        i += 1;
    }
    script(ScriptCmd::FunctionList { pattern, withcode })
}

/// FUNCTION LOAD [REPLACE ...] code: options before the last argument, then the shebang.
fn function_load(a: &[Bytes]) -> Result<Command, OpError> {
    let Some((code, options)) = a.get(2..).and_then(<[Bytes]>::split_last) else {
        return Err(err("Function code is missing"));
    };
    let mut replace = false;
    for opt in options {
        if !is(opt, "replace") {
            return Err(err(format!("Unknown option given: {}", show(opt))));
        }
        replace = true;
    }
    let meta = functions::parse_metadata(code)?;
    function_op(FunctionOp::Load {
        name: meta.name,
        code: code.clone(),
        replace,
    })
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]: Redis checks the argument count, the
/// policy, then the payload.
fn function_restore(a: &[Bytes]) -> Result<Command, OpError> {
    let (payload, policy) = match a {
        [_, _, payload] => (payload, RestorePolicy::Append),
        [_, _, payload, policy] => {
            let policy = if is(policy, "append") {
                RestorePolicy::Append
            } else if is(policy, "replace") {
                RestorePolicy::Replace
            } else if is(policy, "flush") {
                RestorePolicy::Flush
            } else {
                return Err(err(
                    "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
                ));
            };
            (payload, policy)
        }
        [cmd, sub, ..] => return Err(subcommand_syntax_error(cmd, sub)),
        _ => return Err(super::args::arity_err("function|restore")),
    };
    let libs = functions::decode_dump_payload(payload)?;
    function_op(FunctionOp::Restore { libs, policy })
}

#[cfg(test)]
#[path = "scripting_tests.rs"]
mod tests;
