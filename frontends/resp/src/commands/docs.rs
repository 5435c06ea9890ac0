//! Replies of COMMAND (INFO, COUNT, LIST, DOCS, GETKEYS, GETKEYSANDFLAGS) and of the HELP
//! subcommands: pure functions over the command table, in Redis 7's reply shapes.
//!
//! Invariant: everything here is derived from [`super::table`]; no reply lists a command or a
//! subcommand that `parse` does not accept.

use bytes::Bytes;
use moon_engine::ir::{OpError, Reply};

use super::args::{err, is};
use super::table::{
    self, ACL_NAMES, CommandSpec, FLAG_NAMES, K_ACCESS, K_OW, K_RW, K_UPDATE, K_VARIABLE_FLAGS,
    KEY_FLAG_NAMES, KeySpec,
};
use super::{CommandSub, ListFilter, glob};

fn bulk(s: &'static str) -> Reply {
    Reply::Bulk(Bytes::from_static(s.as_bytes()))
}

fn int(v: i32) -> Reply {
    Reply::Int(i64::from(v))
}

fn flag_set(bits: u32, names: &[(u32, &'static str)]) -> Reply {
    Reply::Set(
        names
            .iter()
            .filter(|(b, _)| bits & b != 0)
            .map(|&(_, n)| Reply::simple(n))
            .collect(),
    )
}

fn entry(k: &'static str, v: Reply) -> (Reply, Reply) {
    (bulk(k), v)
}

fn key_spec_reply(ks: &KeySpec) -> Reply {
    let mut map = Vec::with_capacity(4);
    if let Some(notes) = ks.notes {
        map.push(entry("notes", bulk(notes)));
    }
    map.push(entry("flags", flag_set(ks.flags, KEY_FLAG_NAMES)));
    let begin = vec![
        entry("type", bulk("index")),
        entry("spec", Reply::Map(vec![entry("index", int(ks.index))])),
    ];
    map.push(entry("begin_search", Reply::Map(begin)));
    let range = vec![
        entry("lastkey", int(ks.lastkey)),
        entry("keystep", int(ks.keystep)),
        entry("limit", int(ks.limit)),
    ];
    let find = vec![
        entry("type", bulk("range")),
        entry("spec", Reply::Map(range)),
    ];
    map.push(entry("find_keys", Reply::Map(find)));
    Reply::Map(map)
}

/// One command's COMMAND INFO entry (`addReplyCommandInfo`).
pub fn info_entry(spec: &CommandSpec) -> Reply {
    let (first, last, step) = spec.key_range();
    let acl = ACL_NAMES
        .iter()
        .filter(|(b, _)| spec.acl_categories() & b != 0)
        .map(|(_, n)| Reply::Simple(Bytes::from(format!("@{n}"))))
        .collect();
    let subs = if spec.subcommands.is_empty() {
        Reply::Set(Vec::new())
    } else {
        Reply::Array(spec.subcommands.iter().map(info_entry).collect())
    };
    Reply::Array(vec![
        bulk(spec.name),
        int(spec.arity),
        flag_set(spec.flags, FLAG_NAMES),
        int(first),
        int(last),
        int(step),
        Reply::Set(acl),
        Reply::Set(Vec::new()),
        Reply::Set(spec.key_specs.iter().map(key_spec_reply).collect()),
        subs,
    ])
}

/// COMMAND / COMMAND INFO [name ...]: every command when `names` is empty, else one entry per
/// name (nil for unknown names). Names may be full subcommand names (`client|kill`).
pub fn command_info(names: &[Bytes]) -> Reply {
    if names.is_empty() {
        return Reply::Array(table::all().iter().map(|s| info_entry(s)).collect());
    }
    Reply::Array(
        names
            .iter()
            .map(|n| table::lookup_fullname(n).map_or(Reply::Nil, info_entry))
            .collect(),
    )
}

/// COMMAND COUNT: top-level commands only, as in Redis.
pub fn command_count() -> Reply {
    Reply::Int(i64::try_from(table::all().len()).unwrap_or(i64::MAX))
}

fn keep(spec: &CommandSpec, filter: Option<&ListFilter>) -> bool {
    match filter {
        None => true,
        Some(ListFilter::Module(_)) => false,
        Some(ListFilter::AclCat(cat)) => ACL_NAMES
            .iter()
            .find(|(_, n)| is(cat, n))
            .is_some_and(|(bit, _)| spec.acl_categories() & bit != 0),
        Some(ListFilter::Pattern(p)) => glob::matches(p, spec.name.as_bytes(), true),
    }
}

/// COMMAND LIST [FILTERBY ...]: full names, subcommands included.
pub fn command_list(filter: Option<&ListFilter>) -> Reply {
    let mut out = Vec::new();
    for spec in table::all() {
        for s in std::iter::once(*spec).chain(spec.subcommands.iter()) {
            if keep(s, filter) {
                out.push(bulk(s.name));
            }
        }
    }
    Reply::Array(out)
}

/// One command's COMMAND DOCS map (`addReplyCommandDocs`; no history or arguments).
pub fn docs_entry(spec: &CommandSpec) -> Reply {
    let d = &spec.doc;
    let mut map = vec![
        entry("summary", bulk(d.summary)),
        entry("since", bulk(d.since)),
        entry("group", bulk(d.group)),
        entry("complexity", bulk(d.complexity)),
    ];
    let mut doc_flags = Vec::new();
    if d.deprecated.is_some() {
        doc_flags.push(Reply::simple("deprecated"));
    }
    if d.syscmd {
        doc_flags.push(Reply::simple("syscmd"));
    }
    if !doc_flags.is_empty() {
        map.push(entry("doc_flags", Reply::Set(doc_flags)));
    }
    if let Some((since, by)) = d.deprecated {
        map.push(entry("deprecated_since", bulk(since)));
        map.push(entry("replaced_by", bulk(by)));
    }
    if !spec.subcommands.is_empty() {
        let subs = spec
            .subcommands
            .iter()
            .map(|s| (bulk(s.name), docs_entry(s)))
            .collect();
        map.push(entry("subcommands", Reply::Map(subs)));
    }
    Reply::Map(map)
}

/// COMMAND DOCS [name ...]: a map name → docs; unknown names are skipped.
pub fn command_docs(names: &[Bytes]) -> Reply {
    let specs: Vec<&CommandSpec> = if names.is_empty() {
        table::all().to_vec()
    } else {
        names
            .iter()
            .filter_map(|n| table::lookup_fullname(n))
            .collect()
    };
    Reply::Map(
        specs
            .into_iter()
            .map(|s| (bulk(s.name), docs_entry(s)))
            .collect(),
    )
}

/// Key positions and flags of a full command line (`getKeysFromCommandWithSpecs`).
fn key_positions(args: &[Bytes]) -> Result<Vec<(usize, u32)>, OpError> {
    let invalid_cmd = || err("Invalid command specified");
    let base = args
        .first()
        .and_then(|n| table::lookup(n))
        .ok_or_else(invalid_cmd)?;
    let spec = match args.get(1) {
        Some(sub) if !base.subcommands.is_empty() => {
            table::find_sub(base, sub).ok_or_else(invalid_cmd)?
        }
        _ => base,
    };
    // As Redis's `doesCommandHaveKeys`: specs marked NOT_KEY (shard channels) do not count.
    let no_keys = spec
        .key_specs
        .iter()
        .all(|ks| ks.flags & table::K_NOT_KEY != 0);
    if no_keys {
        return Err(err("The command has no key arguments"));
    }
    if !spec.arity_ok(args.len()) {
        return Err(err("Invalid number of arguments specified for command"));
    }
    let argc = i64::try_from(args.len()).unwrap_or(i64::MAX);
    let mut keys = Vec::new();
    for ks in spec.key_specs {
        let first = i64::from(ks.index);
        let last = if ks.lastkey >= 0 {
            first + i64::from(ks.lastkey)
        } else {
            argc + i64::from(ks.lastkey)
        };
        if last >= argc || last < first || first >= argc {
            return Err(err("Invalid arguments specified for command"));
        }
        let step = usize::try_from(ks.keystep.max(1)).unwrap_or(1);
        let (first, last) = (first as usize, last as usize);
        keys.extend(
            (first..=last)
                .step_by(step)
                .map(|pos| (pos, key_flags(ks, args))),
        );
    }
    Ok(keys)
}

/// SET's key flags depend on GET (`setGetKeys`); other specs' flags are static.
fn key_flags(ks: &KeySpec, args: &[Bytes]) -> u32 {
    if ks.flags & K_VARIABLE_FLAGS == 0 {
        return ks.flags;
    }
    if args.iter().skip(3).any(|a| is(a, "get")) {
        K_RW | K_ACCESS | K_UPDATE
    } else {
        K_OW | K_UPDATE
    }
}

/// COMMAND GETKEYS command [arg ...].
pub fn command_getkeys(args: &[Bytes]) -> Result<Reply, OpError> {
    let keys = key_positions(args)?;
    Ok(Reply::Array(
        keys.into_iter()
            .map(|(pos, _)| Reply::Bulk(args[pos].clone()))
            .collect(),
    ))
}

/// COMMAND GETKEYSANDFLAGS command [arg ...]: `[key, {flags}]` pairs.
pub fn command_getkeys_and_flags(args: &[Bytes]) -> Result<Reply, OpError> {
    let keys = key_positions(args)?;
    let pairs = keys
        .into_iter()
        .map(|(pos, f)| {
            Reply::Array(vec![
                Reply::Bulk(args[pos].clone()),
                flag_set(f, KEY_FLAG_NAMES),
            ])
        })
        .collect();
    Ok(Reply::Array(pairs))
}

/// The reply of any COMMAND subcommand.
pub fn command_reply(sub: &CommandSub) -> Result<Reply, OpError> {
    Ok(match sub {
        CommandSub::Info(names) => command_info(names),
        CommandSub::Count => command_count(),
        CommandSub::Docs(names) => command_docs(names),
        CommandSub::GetKeys(args) => return command_getkeys(args),
        CommandSub::GetKeysAndFlags(args) => return command_getkeys_and_flags(args),
        CommandSub::List(filter) => command_list(filter.as_ref()),
        CommandSub::Help => command_help(),
    })
}

/// `addReplyHelp`: a header naming the command, the lines, then HELP's own entry.
pub(crate) fn help(cmd: &str, lines: &[&'static str]) -> Reply {
    let header = format!("{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    let mut out = vec![Reply::Simple(Bytes::from(header))];
    out.extend(lines.iter().map(|l| Reply::simple(l)));
    out.push(Reply::simple("HELP"));
    out.push(Reply::simple("    Print this help."));
    Reply::Array(out)
}

/// COMMAND HELP (the subcommands Moon has, in Redis's words).
pub fn command_help() -> Reply {
    help(
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    )
}

/// CLIENT HELP (the subcommands Moon has, in Redis's words).
pub fn client_help() -> Reply {
    help(
        "CLIENT",
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "    * ID <client-id>",
            "      Kill connections by client id.",
            "    * MAXAGE <maxage>",
            "      Kill connections older than the specified age.",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "NO-TOUCH (ON|OFF)",
            "    Will not touch LRU/LFU stats when this mode is on.",
        ],
    )
}

/// CONFIG HELP (REWRITE is not implemented, so not listed).
pub fn config_help() -> Reply {
    help(
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
        ],
    )
}

/// OBJECT HELP.
pub fn object_help() -> Reply {
    help(
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    )
}

/// DEBUG HELP (only SLEEP exists in Moon).
pub fn debug_help() -> Reply {
    help(
        "DEBUG",
        &[
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
        ],
    )
}

#[cfg(test)]
#[path = "docs_tests.rs"]
mod tests;
