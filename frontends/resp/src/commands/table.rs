//! The command table: one static [`CommandSpec`] per command Moon implements (name, arity, Redis
//! 7 flags, ACL categories, key specs, docs, subcommands, parser), and the lookups over it.
//!
//! Invariants:
//! - Names are lowercase ASCII; subcommand names are full names (`client|setname`).
//! - `lookup` never allocates: it lowercases into a stack buffer and matches on the bytes.
//! - Implicit ACL categories (`@read`, `@write`, `@admin`/`@dangerous`, `@fast`/`@slow`) are
//!   derived from the flags exactly as Redis's `setImplicitACLCategories` does, never stored.
//! - Key specs are Redis 7's (`index`/`keyword` begin search, `range`/`keynum` find keys); the
//!   legacy `(first, last, step)` triple and the `movablekeys` flag are derived from them as
//!   `populateCommandLegacyRangeSpec` does, never stored, so they cannot disagree.
//! - A command has the `blocking` flag exactly when it has the `@blocking` category.

use std::sync::OnceLock;

use bytes::Bytes;
use moon_engine::ir::OpError;

use super::Command;

/// Parses one command's full argument vector (arity already checked).
pub type ParseFn = fn(&[Bytes]) -> Result<Command, OpError>;

// ---- command flags (Redis `CMD_*`), in `COMMAND INFO` order ----
pub const WRITE: u32 = 1 << 0;
pub const READONLY: u32 = 1 << 1;
pub const DENYOOM: u32 = 1 << 2;
pub const ADMIN: u32 = 1 << 3;
pub const NOSCRIPT: u32 = 1 << 4;
pub const LOADING: u32 = 1 << 5;
pub const STALE: u32 = 1 << 6;
pub const FAST: u32 = 1 << 7;
pub const NO_AUTH: u32 = 1 << 8;
pub const NO_MULTI: u32 = 1 << 9;
pub const ALLOW_BUSY: u32 = 1 << 10;
pub const SKIP_MONITOR: u32 = 1 << 11;
pub const SKIP_SLOWLOG: u32 = 1 << 12;
pub const ASKING: u32 = 1 << 13;
pub const NO_MANDATORY_KEYS: u32 = 1 << 14;
pub const NO_ASYNC_LOADING: u32 = 1 << 15;
/// `CMD_PUBSUB` (named apart from the `PUBSUB` ACL category); a high bit, clear of the others.
pub const CMD_PUBSUB: u32 = 1 << 24;
/// `CMD_BLOCKING` (named apart from the `BLOCKING` ACL category); a high bit, clear of the others.
pub const CMD_BLOCKING: u32 = 1 << 25;
/// `CMD_MOVABLE_KEYS`: never stored in a spec, derived from the key specs by
/// [`CommandSpec::flags`] exactly as Redis's `populateCommandLegacyRangeSpec` sets it.
pub const MOVABLE_KEYS: u32 = 1 << 26;

/// Flag bits and the names `COMMAND INFO` prints, in Redis's order (`addReplyCommandFlags`;
/// `may_replicate`, `sentinel`, `only_sentinel` and `protected` are hidden there too).
pub const FLAG_NAMES: &[(u32, &str)] = &[
    (WRITE, "write"),
    (READONLY, "readonly"),
    (DENYOOM, "denyoom"),
    (ADMIN, "admin"),
    (CMD_PUBSUB, "pubsub"),
    (NOSCRIPT, "noscript"),
    (CMD_BLOCKING, "blocking"),
    (LOADING, "loading"),
    (STALE, "stale"),
    (SKIP_MONITOR, "skip_monitor"),
    (SKIP_SLOWLOG, "skip_slowlog"),
    (ASKING, "asking"),
    (FAST, "fast"),
    (NO_AUTH, "no_auth"),
    (NO_MANDATORY_KEYS, "no_mandatory_keys"),
    (NO_ASYNC_LOADING, "no_async_loading"),
    (NO_MULTI, "no_multi"),
    (MOVABLE_KEYS, "movablekeys"),
    (ALLOW_BUSY, "allow_busy"),
];

// ---- ACL categories (Redis `ACL_CATEGORY_*`), in `ACL CAT` order ----
pub const KEYSPACE: u32 = 1 << 0;
pub const CAT_READ: u32 = 1 << 1;
pub const CAT_WRITE: u32 = 1 << 2;
pub const SET: u32 = 1 << 3;
pub const SORTEDSET: u32 = 1 << 4;
pub const LIST: u32 = 1 << 5;
pub const HASH: u32 = 1 << 6;
pub const STRING: u32 = 1 << 7;
pub const BITMAP: u32 = 1 << 8;
pub const HYPERLOGLOG: u32 = 1 << 9;
pub const GEO: u32 = 1 << 10;
pub const STREAM: u32 = 1 << 11;
pub const PUBSUB: u32 = 1 << 12;
pub const CAT_ADMIN: u32 = 1 << 13;
pub const CAT_FAST: u32 = 1 << 14;
pub const CAT_SLOW: u32 = 1 << 15;
pub const BLOCKING: u32 = 1 << 16;
pub const DANGEROUS: u32 = 1 << 17;
pub const CONNECTION: u32 = 1 << 18;
pub const TRANSACTION: u32 = 1 << 19;
pub const SCRIPTING: u32 = 1 << 20;

/// Category bits and names (without the `@`), in Redis's order.
pub const ACL_NAMES: &[(u32, &str)] = &[
    (KEYSPACE, "keyspace"),
    (CAT_READ, "read"),
    (CAT_WRITE, "write"),
    (SET, "set"),
    (SORTEDSET, "sortedset"),
    (LIST, "list"),
    (HASH, "hash"),
    (STRING, "string"),
    (BITMAP, "bitmap"),
    (HYPERLOGLOG, "hyperloglog"),
    (GEO, "geo"),
    (STREAM, "stream"),
    (PUBSUB, "pubsub"),
    (CAT_ADMIN, "admin"),
    (CAT_FAST, "fast"),
    (CAT_SLOW, "slow"),
    (BLOCKING, "blocking"),
    (DANGEROUS, "dangerous"),
    (CONNECTION, "connection"),
    (TRANSACTION, "transaction"),
    (SCRIPTING, "scripting"),
];

// ---- key-spec flags (Redis `CMD_KEY_*`) ----
pub const K_RO: u32 = 1 << 0;
pub const K_RW: u32 = 1 << 1;
pub const K_OW: u32 = 1 << 2;
pub const K_RM: u32 = 1 << 3;
pub const K_ACCESS: u32 = 1 << 4;
pub const K_UPDATE: u32 = 1 << 5;
pub const K_INSERT: u32 = 1 << 6;
pub const K_DELETE: u32 = 1 << 7;
pub const K_VARIABLE_FLAGS: u32 = 1 << 8;
/// `CMD_KEY_NOT_KEY`: the argument is routed like a key but is not one (shard channels).
pub const K_NOT_KEY: u32 = 1 << 9;
/// `CMD_KEY_INCOMPLETE`: the spec may not find every key (SORT's BY/GET patterns).
pub const K_INCOMPLETE: u32 = 1 << 10;

/// Key-spec flag bits and names, in Redis's order (`addReplyFlagsForKeyArgs`).
pub const KEY_FLAG_NAMES: &[(u32, &str)] = &[
    (K_RO, "RO"),
    (K_RW, "RW"),
    (K_OW, "OW"),
    (K_RM, "RM"),
    (K_ACCESS, "access"),
    (K_UPDATE, "update"),
    (K_INSERT, "insert"),
    (K_DELETE, "delete"),
    (K_NOT_KEY, "not_key"),
    (K_INCOMPLETE, "incomplete"),
    (K_VARIABLE_FLAGS, "variable_flags"),
];

/// Where the search for a key spec's keys begins (Redis's `begin_search`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// At a fixed argument position.
    Index(i32),
    /// Just after the first argument equal (any case) to `keyword`, searching from
    /// `startfrom` (from the end when negative) towards the other end.
    Keyword {
        keyword: &'static str,
        startfrom: i32,
    },
    /// Key names cannot be found from the arguments (SORT's BY/GET patterns).
    Unknown,
}

/// How a key spec's keys are found from where the search began (Redis's `find_keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// `lastkey` relative to the first key if >= 0, else from the end (-1 = last argument);
    /// with `limit` > 1 (and `lastkey` -1) only the first 1/`limit` of the rest are keys.
    Range {
        lastkey: i32,
        keystep: i32,
        limit: i32,
    },
    /// The argument `keynumidx` after the begin position counts the keys, which start
    /// `firstkey` after the begin position (ZUNION, LMPOP ... `numkeys`).
    Keynum {
        keynumidx: i32,
        firstkey: i32,
        keystep: i32,
    },
    /// Keys cannot be found from the arguments.
    Unknown,
}

/// One Redis 7 key spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// `K_*` bits.
    pub flags: u32,
    /// Optional note shown by COMMAND INFO.
    pub notes: Option<&'static str>,
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
}

impl KeySpec {
    /// The general `index` + `range` spec.
    pub const fn range(flags: u32, index: i32, lastkey: i32, keystep: i32, limit: i32) -> KeySpec {
        KeySpec {
            flags,
            notes: None,
            begin_search: BeginSearch::Index(index),
            find_keys: FindKeys::Range {
                lastkey,
                keystep,
                limit,
            },
        }
    }

    /// One key at `index`.
    pub const fn one(flags: u32, index: i32) -> KeySpec {
        KeySpec::range(flags, index, 0, 1, 0)
    }

    /// Keys from `index` to the end, every `keystep` arguments.
    pub const fn rest(flags: u32, index: i32, keystep: i32) -> KeySpec {
        KeySpec::range(flags, index, -1, keystep, 0)
    }

    /// `numkeys` at `index`, the keys right after it (ZUNION, SINTERCARD, LMPOP ...).
    pub const fn numkeys(flags: u32, index: i32) -> KeySpec {
        KeySpec {
            flags,
            notes: None,
            begin_search: BeginSearch::Index(index),
            find_keys: FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                keystep: 1,
            },
        }
    }

    /// Keys found after `keyword` (searched from `startfrom`) by `find_keys`.
    pub const fn keyword(
        flags: u32,
        keyword: &'static str,
        startfrom: i32,
        find_keys: FindKeys,
    ) -> KeySpec {
        KeySpec {
            flags,
            notes: None,
            begin_search: BeginSearch::Keyword { keyword, startfrom },
            find_keys,
        }
    }

    /// A spec whose keys cannot be found from the arguments (SORT's BY/GET).
    pub const fn unknown(flags: u32) -> KeySpec {
        KeySpec {
            flags,
            notes: None,
            begin_search: BeginSearch::Unknown,
            find_keys: FindKeys::Unknown,
        }
    }

    /// The same spec with a COMMAND INFO note.
    pub const fn with_notes(self, notes: &'static str) -> KeySpec {
        KeySpec {
            notes: Some(notes),
            ..self
        }
    }

    /// The same spec with a range's `lastkey` replaced (BLPOP's `-2`: the timeout is last).
    pub const fn last(self, lastkey: i32) -> KeySpec {
        match self.find_keys {
            FindKeys::Range { keystep, limit, .. } => KeySpec {
                find_keys: FindKeys::Range {
                    lastkey,
                    keystep,
                    limit,
                },
                ..self
            },
            _ => self,
        }
    }

    /// The `index` + `range` parts, for specs of that kind (the legacy triple uses only these).
    const fn index_range(&self) -> Option<(i32, i32, i32)> {
        match (self.begin_search, self.find_keys) {
            (
                BeginSearch::Index(index),
                FindKeys::Range {
                    lastkey, keystep, ..
                },
            ) => Some((index, lastkey, keystep)),
            _ => None,
        }
    }
}

/// The legacy key-finding procedure Redis falls back to (`getkeys_proc`) when the key specs
/// cannot answer: a spec with variable flags, or an invalid `numkeys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetKeysProc {
    /// `setGetKeys`: the key's flags depend on a GET option.
    Set,
    /// `bitfieldGetKeys`: read-only unless a SET/INCRBY (or a syntax error) appears.
    Bitfield,
    /// `sortGetKeys`: the sorted key, then the destination after the last STORE.
    Sort,
    /// `sortROGetKeys`: the sorted key only.
    SortRo,
    /// `genericGetKeys(store, count, first, 1)`: `atoi(argv[count])` keys from `first`, then
    /// the destination at `store` (0: none); all with empty flags.
    Numkeys { store: u8, count: u8, first: u8 },
}

/// Documentation fields served by COMMAND DOCS.
#[derive(Debug, Clone, Copy)]
pub struct Doc {
    pub summary: &'static str,
    pub since: &'static str,
    pub group: &'static str,
    pub complexity: &'static str,
    /// `(deprecated_since, replaced_by)` for deprecated commands.
    pub deprecated: Option<(&'static str, &'static str)>,
    /// Redis's `syscmd` doc flag (DEBUG).
    pub syscmd: bool,
}

/// One command or subcommand.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Full lowercase name (`get`, `client|setname`).
    pub name: &'static str,
    /// Redis arity: positive exact, negative minimum (counting the name, and the subcommand).
    pub arity: i32,
    /// Command flag bits.
    pub flags: u32,
    /// Explicit ACL category bits (implicit ones are derived, see [`CommandSpec::acl_categories`]).
    pub acl: u32,
    pub key_specs: &'static [KeySpec],
    /// Command tips (`nondeterministic_output`, `request_policy:all_shards` ...).
    pub tips: &'static [&'static str],
    /// The fallback key finder, for commands Redis gives a `getkeys_proc` that matters.
    pub getkeys: Option<GetKeysProc>,
    pub doc: Doc,
    /// Subcommands of a container (sorted by name); empty otherwise.
    pub subcommands: &'static [CommandSpec],
    pub parse: ParseFn,
}

/// Docs of a non-deprecated command.
pub const fn doc(
    group: &'static str,
    since: &'static str,
    summary: &'static str,
    complexity: &'static str,
) -> Doc {
    Doc {
        summary,
        since,
        group,
        complexity,
        deprecated: None,
        syscmd: false,
    }
}

impl Doc {
    /// Marks the command deprecated since `since`, replaced by `by`.
    pub const fn deprecated(self, since: &'static str, by: &'static str) -> Doc {
        Doc {
            deprecated: Some((since, by)),
            ..self
        }
    }

    /// Marks the command as a system command (`syscmd` doc flag).
    pub const fn syscmd(self) -> Doc {
        Doc {
            syscmd: true,
            ..self
        }
    }
}

impl CommandSpec {
    /// A command without subcommands.
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        acl: u32,
        key_specs: &'static [KeySpec],
        doc: Doc,
        parse: ParseFn,
    ) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags,
            acl,
            key_specs,
            tips: &[],
            getkeys: None,
            doc,
            subcommands: &[],
            parse,
        }
    }

    /// The same command with command tips.
    pub const fn tips(self, tips: &'static [&'static str]) -> CommandSpec {
        CommandSpec { tips, ..self }
    }

    /// The same command with a fallback key finder.
    pub const fn getkeys(self, proc_: GetKeysProc) -> CommandSpec {
        CommandSpec {
            getkeys: Some(proc_),
            ..self
        }
    }

    /// The same command as a container of `subcommands`.
    pub const fn with_subs(self, subcommands: &'static [CommandSpec]) -> CommandSpec {
        CommandSpec {
            subcommands,
            ..self
        }
    }

    /// The name without the container prefix (`setname` for `client|setname`).
    pub fn short_name(&self) -> &'static str {
        self.name.rsplit('|').next().unwrap_or(self.name)
    }

    /// True if `argc` (name included) satisfies the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = i64::try_from(argc).unwrap_or(i64::MAX);
        let arity = i64::from(self.arity);
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// Explicit plus implicit ACL categories (Redis's `setImplicitACLCategories`).
    pub fn acl_categories(&self) -> u32 {
        let mut cats = self.acl;
        if self.flags & WRITE != 0 {
            cats |= CAT_WRITE;
        }
        // Read-only scripts may not be reads of the keyspace (EVAL_RO, FCALL_RO).
        if self.flags & READONLY != 0 && self.acl & SCRIPTING == 0 {
            cats |= CAT_READ;
        }
        if self.flags & ADMIN != 0 {
            cats |= CAT_ADMIN | DANGEROUS;
        }
        if self.flags & FAST != 0 {
            cats |= CAT_FAST;
        }
        if cats & CAT_FAST == 0 {
            cats |= CAT_SLOW;
        }
        cats
    }

    /// The command flags `COMMAND INFO` prints: the stored ones plus `movablekeys` when the
    /// legacy triple cannot describe every key (`populateCommandLegacyRangeSpec`).
    pub fn info_flags(&self) -> u32 {
        if self.legacy_range().1 {
            self.flags | MOVABLE_KEYS
        } else {
            self.flags
        }
    }

    /// The legacy `(first_key, last_key, step)` triple, derived from the key specs as Redis's
    /// `populateCommandLegacyRangeSpec` does; `(0, 0, 0)` without keys.
    pub fn key_range(&self) -> (i32, i32, i32) {
        self.legacy_range().0
    }

    /// The legacy triple and whether the keys are movable (not all described by it).
    fn legacy_range(&self) -> ((i32, i32, i32), bool) {
        if let [only] = self.key_specs
            && let Some((index, lastkey, keystep)) = only.index_range()
        {
            // Quick win: exactly one range spec keeps its own step.
            let last = if lastkey >= 0 {
                index + lastkey
            } else {
                lastkey
            };
            return ((index, last, keystep), only.flags & K_INCOMPLETE != 0);
        }
        let mut movable = false;
        let mut first = i32::MAX;
        let mut last: i32 = 0;
        let mut prev_last = 0;
        for spec in self.key_specs {
            let Some((index, lastkey, keystep)) = spec.index_range() else {
                movable = true;
                continue;
            };
            if keystep != 1 || (prev_last != 0 && prev_last != index - 1) {
                movable = true;
                continue;
            }
            if spec.flags & K_INCOMPLETE != 0 {
                movable = true;
            }
            first = first.min(index);
            let abs = if lastkey >= 0 {
                lastkey + index
            } else {
                lastkey
            };
            // Redis compares as unsigned so that a negative (open-ended) last key wins.
            if (abs as u32) > (last as u32) {
                last = abs;
            }
            prev_last = last;
        }
        if first == i32::MAX {
            // No keys at all is not movable; only non-range specs are.
            ((0, 0, 0), movable)
        } else {
            ((first, last, 1), movable)
        }
    }
}

/// Longest top-level command name Moon knows; longer names cannot match.
const MAX_NAME: usize = 24;

/// The top-level command named `name` (any case), without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    if name.len() > MAX_NAME {
        return None;
    }
    let mut buf = [0u8; MAX_NAME];
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    by_lower_name(lower).or_else(|| family_lookup(lower))
}

/// The subcommand of `container` named `name` (any case).
pub fn find_sub(container: &'static CommandSpec, name: &[u8]) -> Option<&'static CommandSpec> {
    container
        .subcommands
        .iter()
        .find(|s| s.short_name().as_bytes().eq_ignore_ascii_case(name))
}

/// A command by full name as COMMAND INFO/DOCS accept it (`get`, `client|kill`).
pub fn lookup_fullname(name: &[u8]) -> Option<&'static CommandSpec> {
    match name.iter().position(|&b| b == b'|') {
        None => lookup(name),
        Some(bar) => {
            let container = lookup(&name[..bar])?;
            find_sub(container, &name[bar + 1..])
        }
    }
}

/// Every top-level command, in table order (the core registry, then each family's table).
pub fn all() -> &'static [&'static CommandSpec] {
    static EVERY: OnceLock<Vec<&'static CommandSpec>> = OnceLock::new();
    EVERY.get_or_init(|| {
        ALL.iter()
            .copied()
            .chain(FAMILIES.iter().flat_map(|f| f.iter().copied()))
            .collect()
    })
}

/// The data-type families' tables, each owned by its module.
static FAMILIES: &[&[&CommandSpec]] = &[
    acl::COMMANDS,
    bitmap::COMMANDS,
    dump::COMMANDS,
    ft::COMMANDS,
    ft_aggregate::COMMANDS,
    ft_profile::COMMANDS,
    ft_sug::COMMANDS,
    geo::COMMANDS,
    graph::COMMANDS,
    hash::COMMANDS,
    hll::COMMANDS,
    list::COMMANDS,
    memory::COMMANDS,
    ops::COMMANDS,
    pubsub::COMMANDS,
    scripting::COMMANDS,
    sets::COMMANDS,
    sort::COMMANDS,
    stream::COMMANDS,
    transaction::COMMANDS,
    zset::COMMANDS,
];

/// A family command by lowercase name, through a map built on first use.
fn family_lookup(lower: &[u8]) -> Option<&'static CommandSpec> {
    static MAP: OnceLock<hashbrown::HashMap<&'static [u8], &'static CommandSpec>> = OnceLock::new();
    MAP.get_or_init(|| {
        FAMILIES
            .iter()
            .flat_map(|f| f.iter().map(|spec| (spec.name.as_bytes(), *spec)))
            .collect()
    })
    .get(lower)
    .copied()
}

/// Generates the list of every top-level command and the name match over it from one list,
/// so the two cannot drift apart.
macro_rules! registry {
    ($($name:literal => $spec:path,)*) => {
        static ALL: &[&CommandSpec] = &[$(&$spec),*];

        /// The command named `lower` (already lowercase).
        fn by_lower_name(lower: &[u8]) -> Option<&'static CommandSpec> {
            match lower {
                $($name => Some(&$spec),)*
                _ => None,
            }
        }
    };
}

use super::acl;
use super::ft_aggregate;
use super::ft_profile;
use super::ft_sug;
use super::{
    bitmap, dump, ft, geo, graph, hash, hll, list, memory, ops, pubsub, scripting, sets, sort,
    stream, transaction, zset,
};
use super::{connection as c, db as d, keys as k, server as s, set as x, strings as t};

registry! {
    b"get" => t::GET,
    b"set" => x::SET,
    b"append" => t::APPEND,
    b"decr" => t::DECR,
    b"decrby" => t::DECRBY,
    b"getdel" => t::GETDEL,
    b"getex" => x::GETEX,
    b"getrange" => t::GETRANGE,
    b"getset" => x::GETSET,
    b"incr" => t::INCR,
    b"incrby" => t::INCRBY,
    b"incrbyfloat" => t::INCRBYFLOAT,
    b"lcs" => t::LCS,
    b"mget" => t::MGET,
    b"mset" => t::MSET,
    b"msetnx" => t::MSETNX,
    b"psetex" => x::PSETEX,
    b"setex" => x::SETEX,
    b"setnx" => t::SETNX,
    b"setrange" => t::SETRANGE,
    b"strlen" => t::STRLEN,
    b"substr" => t::SUBSTR,
    b"copy" => d::COPY,
    b"del" => k::DEL,
    b"exists" => k::EXISTS,
    b"expire" => k::EXPIRE,
    b"expireat" => k::EXPIREAT,
    b"expiretime" => k::EXPIRETIME,
    b"keys" => d::KEYS,
    b"move" => d::MOVE,
    b"object" => k::OBJECT,
    b"persist" => k::PERSIST,
    b"pexpire" => k::PEXPIRE,
    b"pexpireat" => k::PEXPIREAT,
    b"pexpiretime" => k::PEXPIRETIME,
    b"pttl" => k::PTTL,
    b"randomkey" => d::RANDOMKEY,
    b"rename" => k::RENAME,
    b"renamenx" => k::RENAMENX,
    b"scan" => d::SCAN,
    b"touch" => k::TOUCH,
    b"ttl" => k::TTL,
    b"type" => k::TYPE,
    b"unlink" => k::UNLINK,
    b"dbsize" => d::DBSIZE,
    b"flushall" => d::FLUSHALL,
    b"flushdb" => d::FLUSHDB,
    b"swapdb" => d::SWAPDB,
    b"auth" => c::AUTH,
    b"client" => c::CLIENT,
    b"echo" => c::ECHO,
    b"hello" => c::HELLO,
    b"ping" => c::PING,
    b"quit" => c::QUIT,
    b"reset" => c::RESET,
    b"select" => c::SELECT,
    b"command" => s::COMMAND,
    b"config" => s::CONFIG,
    b"debug" => s::DEBUG,
    b"info" => s::INFO,
    b"lastsave" => s::LASTSAVE,
    b"save" => s::SAVE,
    b"bgsave" => s::BGSAVE,
    b"bgrewriteaof" => s::BGREWRITEAOF,
    b"role" => s::ROLE,
    b"shutdown" => s::SHUTDOWN,
    b"time" => s::TIME,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_found_by_its_name() {
        for spec in all() {
            let found = lookup(spec.name.as_bytes()).map(|s| s.name);
            assert_eq!(found, Some(spec.name));
            let upper = spec.name.to_ascii_uppercase();
            assert_eq!(lookup(upper.as_bytes()).map(|s| s.name), Some(spec.name));
            assert!(spec.name.len() <= MAX_NAME);
            assert!(!spec.name.contains('|'));
            for sub in spec.subcommands {
                assert!(
                    sub.name.starts_with(&format!("{}|", spec.name)),
                    "{}",
                    sub.name
                );
                let by_full = lookup_fullname(sub.name.to_ascii_uppercase().as_bytes());
                assert_eq!(by_full.map(|s| s.name), Some(sub.name));
            }
        }
        assert!(lookup(b"nosuchcommand").is_none());
        assert!(lookup(b"averyveryverylongcommandname").is_none());
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = all().iter().map(|s| s.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn legacy_key_ranges() {
        let range = |n: &str| lookup_fullname(n.as_bytes()).map(CommandSpec::key_range);
        assert_eq!(range("get"), Some((1, 1, 1)));
        assert_eq!(range("mset"), Some((1, -1, 2)));
        assert_eq!(range("del"), Some((1, -1, 1)));
        assert_eq!(range("rename"), Some((1, 2, 1)));
        assert_eq!(range("copy"), Some((1, 2, 1)));
        assert_eq!(range("lcs"), Some((1, 2, 1)));
        assert_eq!(range("object|encoding"), Some((2, 2, 1)));
        assert_eq!(range("ping"), Some((0, 0, 0)));
    }

    #[test]
    fn implicit_acl_categories() {
        let get = lookup(b"get").map(CommandSpec::acl_categories);
        assert_eq!(get, Some(STRING | CAT_READ | CAT_FAST));
        let set = lookup(b"set").map(CommandSpec::acl_categories);
        assert_eq!(set, Some(STRING | CAT_WRITE | CAT_SLOW));
        let kill = lookup_fullname(b"client|kill").map(CommandSpec::acl_categories);
        assert_eq!(kill, Some(CONNECTION | CAT_ADMIN | DANGEROUS | CAT_SLOW));
    }
}
