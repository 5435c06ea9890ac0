//! Replies of COMMAND (INFO, COUNT, LIST, DOCS, GETKEYS, GETKEYSANDFLAGS) and of the HELP
//! subcommands: pure functions over the command table, in Redis 7's reply shapes.
//!
//! Invariant: everything here is derived from [`super::table`]; no reply lists a command or a
//! subcommand that `parse` does not accept.

use bytes::Bytes;
use moon_engine::ir::{OpError, Reply};

use super::args::{c_str, err, is};
use super::table::{
    self, ACL_NAMES, BeginSearch, CommandSpec, FLAG_NAMES, FindKeys, GetKeysProc, K_ACCESS, K_OW,
    K_RO, K_RW, K_UPDATE, K_VARIABLE_FLAGS, KEY_FLAG_NAMES, KeySpec,
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
    let begin = match ks.begin_search {
        BeginSearch::Index(index) => typed("index", vec![entry("index", int(index))]),
        BeginSearch::Keyword { keyword, startfrom } => typed(
            "keyword",
            vec![
                entry("keyword", bulk(keyword)),
                entry("startfrom", int(startfrom)),
            ],
        ),
        BeginSearch::Unknown => typed("unknown", Vec::new()),
    };
    map.push(entry("begin_search", begin));
    let find = match ks.find_keys {
        FindKeys::Range {
            lastkey,
            keystep,
            limit,
        } => typed(
            "range",
            vec![
                entry("lastkey", int(lastkey)),
                entry("keystep", int(keystep)),
                entry("limit", int(limit)),
            ],
        ),
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        } => typed(
            "keynum",
            vec![
                entry("keynumidx", int(keynumidx)),
                entry("firstkey", int(firstkey)),
                entry("keystep", int(keystep)),
            ],
        ),
        FindKeys::Unknown => typed("unknown", Vec::new()),
    };
    map.push(entry("find_keys", find));
    Reply::Map(map)
}

/// `{type: <kind>, spec: {...}}`, the shape of both halves of a key spec.
fn typed(kind: &'static str, spec: Vec<(Reply, Reply)>) -> Reply {
    Reply::Map(vec![
        entry("type", bulk(kind)),
        entry("spec", Reply::Map(spec)),
    ])
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
        flag_set(spec.info_flags(), FLAG_NAMES),
        int(first),
        int(last),
        int(step),
        Reply::Set(acl),
        Reply::Set(spec.tips.iter().map(|t| bulk(t)).collect()),
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
    ];
    // Redis leaves the field out for commands without one (MONITOR).
    if !d.complexity.is_empty() {
        map.push(entry("complexity", bulk(d.complexity)));
    }
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

/// Why the key specs could not answer (`getKeysUsingKeySpecs` returning -1).
struct InvalidSpec;

/// Key positions and flags of a full command line (`getKeysSubcommandImpl` over
/// `getKeysFromCommandWithSpecs`): the key specs unless one has variable flags, falling back to
/// the command's legacy key finder when a spec is invalid for these arguments.
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
    keys_of(spec, args)
}

/// [`key_positions`] once the command is resolved.
fn keys_of(spec: &CommandSpec, args: &[Bytes]) -> Result<Vec<(usize, u32)>, OpError> {
    // As Redis's `doesCommandHaveKeys`: specs marked NOT_KEY (shard channels) do not count.
    let has_keys = spec.getkeys.is_some()
        || spec
            .key_specs
            .iter()
            .any(|ks| ks.flags & table::K_NOT_KEY == 0);
    if !has_keys {
        return Err(err("The command has no key arguments"));
    }
    if !spec.arity_ok(args.len()) {
        return Err(err("Invalid number of arguments specified for command"));
    }
    let var_flags = spec
        .key_specs
        .iter()
        .any(|ks| ks.flags & K_VARIABLE_FLAGS != 0);
    let keys = match (var_flags, spec.getkeys) {
        (false, proc_) => match keys_from_specs(spec, args) {
            Ok(keys) => keys,
            Err(InvalidSpec) => proc_.map(|p| keys_from_proc(p, args)).unwrap_or_default(),
        },
        (true, Some(proc_)) => keys_from_proc(proc_, args),
        (true, None) => Vec::new(),
    };
    if keys.is_empty() && spec.flags & table::NO_MANDATORY_KEYS == 0 {
        return Err(err("Invalid arguments specified for command"));
    }
    Ok(keys)
}

/// Key positions and flags of `args` for an ACL check of the resolved `spec`: none when
/// the command has no keys or its arguments name none (`getKeysFromCommandWithSpecs`).
pub fn acl_key_positions(spec: &CommandSpec, args: &[Bytes]) -> Vec<(usize, u32)> {
    keys_of(spec, args).unwrap_or_default()
}

/// `string2ll` followed by the `numkeys >= 0` check: strict decimal, no sign but `-`.
fn strict_count(arg: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(arg).ok()?;
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text != "-0";
    if !canonical {
        return None;
    }
    text.parse::<i64>().ok().filter(|n| *n >= 0)
}

/// `getKeysUsingKeySpecs` over every spec but NOT_KEY ones.
fn keys_from_specs(spec: &CommandSpec, args: &[Bytes]) -> Result<Vec<(usize, u32)>, InvalidSpec> {
    let argc = i64::try_from(args.len()).unwrap_or(i64::MAX);
    let mut keys = Vec::new();
    for ks in spec.key_specs {
        if ks.flags & table::K_NOT_KEY != 0 {
            continue;
        }
        let mut first = match ks.begin_search {
            BeginSearch::Index(index) => i64::from(index),
            BeginSearch::Keyword { keyword, startfrom } => {
                match find_keyword(args, keyword, startfrom) {
                    Some(pos) => pos + 1,
                    // A missing keyword just means no keys from this spec.
                    None => continue,
                }
            }
            BeginSearch::Unknown => return Err(InvalidSpec),
        };
        let (last, step) = match ks.find_keys {
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    first + i64::from(lastkey)
                } else if limit == 0 {
                    argc + i64::from(lastkey)
                } else {
                    first + ((argc - first) / i64::from(limit) + i64::from(lastkey))
                };
                (last, keystep)
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                if i64::from(keynumidx) >= argc - first {
                    return Err(InvalidSpec);
                }
                let at = usize::try_from(first + i64::from(keynumidx)).map_err(|_| InvalidSpec)?;
                let count = args
                    .get(at)
                    .and_then(|a| strict_count(a))
                    .ok_or(InvalidSpec)?;
                first += i64::from(firstkey);
                (first + count - 1, keystep)
            }
            FindKeys::Unknown => return Err(InvalidSpec),
        };
        if last >= argc || last < first || first >= argc || first < 0 {
            return Err(InvalidSpec);
        }
        let step = usize::try_from(step.max(1)).unwrap_or(1);
        let (first, last) = (first as usize, last as usize);
        keys.extend((first..=last).step_by(step).map(|pos| (pos, ks.flags)));
        if ks.flags & table::K_INCOMPLETE != 0 {
            return Err(InvalidSpec);
        }
    }
    Ok(keys)
}

/// The position of `keyword` (any case) searched from `startfrom` towards the other end, as
/// `getKeysUsingKeySpecs` does (never the command name itself).
fn find_keyword(args: &[Bytes], keyword: &str, startfrom: i32) -> Option<i64> {
    let argc = i64::try_from(args.len()).unwrap_or(i64::MAX);
    let start = if startfrom > 0 {
        i64::from(startfrom)
    } else {
        argc + i64::from(startfrom)
    };
    // As Redis's loop, the end position itself is never examined.
    let end = if startfrom > 0 { argc - 1 } else { 1 };
    let dir = if start <= end { 1 } else { -1 };
    let mut i = start;
    while i != end {
        if i >= argc || i < 1 {
            return None;
        }
        let arg = usize::try_from(i).ok().and_then(|i| args.get(i))?;
        if is(arg, keyword) {
            return Some(i);
        }
        i += dir;
    }
    None
}

/// C's `atoi`: optional blanks and sign, then digits up to the first non-digit; 0 if none.
fn atoi(arg: &[u8]) -> i64 {
    let mut rest = arg;
    while let [b, tail @ ..] = rest
        && b" \t\n\x0b\x0c\r".contains(b)
    {
        rest = tail;
    }
    let (neg, rest) = match rest {
        [b'-', tail @ ..] => (true, tail),
        [b'+', tail @ ..] => (false, tail),
        _ => (false, rest),
    };
    let mut n: i64 = 0;
    for &b in rest.iter().take_while(|b| b.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    let n = if neg { -n } else { n };
    // `atoi` returns an int: keep what a 32-bit conversion would.
    i64::from(n as i32)
}

/// The command's legacy key finder (`getkeys_proc`).
fn keys_from_proc(proc_: GetKeysProc, args: &[Bytes]) -> Vec<(usize, u32)> {
    match proc_ {
        GetKeysProc::Set => {
            let get = args
                .iter()
                .skip(3)
                .any(|a| c_str(a).eq_ignore_ascii_case(b"get"));
            let flags = if get {
                K_RW | K_ACCESS | K_UPDATE
            } else {
                K_OW | K_UPDATE
            };
            vec![(1, flags)]
        }
        GetKeysProc::Bitfield => {
            let mut readonly = true;
            let mut i = 2;
            while let Some(arg) = args.get(i) {
                let remargs = args.len() - i - 1;
                let arg = c_str(arg);
                if arg.eq_ignore_ascii_case(b"get") && remargs >= 2 {
                    i += 2;
                } else if (arg.eq_ignore_ascii_case(b"set") || arg.eq_ignore_ascii_case(b"incrby"))
                    && remargs >= 3
                {
                    readonly = false;
                    break;
                } else if arg.eq_ignore_ascii_case(b"overflow") && remargs >= 1 {
                    i += 1;
                } else {
                    // A syntax error: safer to assume a write, as Redis does.
                    readonly = false;
                    break;
                }
                i += 1;
            }
            let flags = if readonly {
                K_RO | K_ACCESS
            } else {
                K_RW | K_ACCESS | K_UPDATE
            };
            vec![(1, flags)]
        }
        GetKeysProc::SortRo => vec![(1, K_RO | K_ACCESS)],
        GetKeysProc::Sort => {
            let mut store = None;
            let mut i = 2;
            while let Some(arg) = args.get(i) {
                let arg = c_str(arg);
                // Options taking arguments are skipped whole; the last STORE wins.
                if arg.eq_ignore_ascii_case(b"limit") {
                    i += 2;
                } else if arg.eq_ignore_ascii_case(b"get") || arg.eq_ignore_ascii_case(b"by") {
                    i += 1;
                } else if arg.eq_ignore_ascii_case(b"store") && i + 1 < args.len() {
                    store = Some(i + 1);
                }
                i += 1;
            }
            let mut keys = vec![(1, K_RO | K_ACCESS)];
            keys.extend(store.map(|pos| (pos, K_OW | K_UPDATE)));
            keys
        }
        GetKeysProc::Numkeys {
            store,
            count,
            first,
        } => {
            let (store, count, first) =
                (usize::from(store), usize::from(count), usize::from(first));
            let num = args.get(count).map_or(0, |a| atoi(a));
            let room = i64::try_from(args.len().saturating_sub(first)).unwrap_or(i64::MAX);
            if num < 1 || num > room {
                return Vec::new();
            }
            let num = usize::try_from(num).unwrap_or(0);
            let mut keys: Vec<(usize, u32)> = (first..first + num).map(|pos| (pos, 0)).collect();
            if store != 0 {
                keys.push((store, 0));
            }
            keys
        }
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
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
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
            "REWRITE",
            "    Rewrite the configuration file.",
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

/// DEBUG HELP (SLEEP, and Moon's fault-injection hooks PANIC and WAL-FAULT).
pub fn debug_help() -> Reply {
    help(
        "DEBUG",
        &[
            "PANIC [<key>]",
            "    Panic inside the command path (on the shard owning <key>); Moon contains it.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            "WAL-FAULT <count>|OFF",
            "    Fail the next <count> WAL writes of every shard with EIO (fault injection).",
        ],
    )
}

#[cfg(test)]
#[path = "docs_tests.rs"]
mod tests;
