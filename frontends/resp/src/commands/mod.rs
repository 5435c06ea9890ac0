//! Command parsing and lowering: turns one command's arguments into a keyspace [`Op`] or a
//! connection/server [`ConnCmd`], rejecting malformed input with redis-server 7's exact texts.
//!
//! Invariants:
//! - [`parse`] checks existence, subcommand and arity from the table before any parser runs, so
//!   parsers may index `args` up to the arity they are registered with.
//! - Parsing never panics on network input and allocates only what the result owns.
//!
//! [`Op`]: moon_engine::ir::Op

use bytes::Bytes;
use moon_engine::ir::{Op, OpError, TypeFilter};

mod acl;
mod args;
mod bitmap;
pub mod compat;
mod connection;
mod db;
pub mod docs;
mod dump;
mod ft;
mod ft_aggregate;
pub use ft_aggregate::FtAggregate;
mod ft_profile;
mod ft_sug;
mod geo;
mod glob;
mod graph;
mod hash;
mod hll;
mod keys;
mod list;
mod memory;
mod ops;
mod pubsub;
mod scripting;
mod server;
mod set;
mod sets;
mod sort;
mod stream;
mod strings;
pub mod table;
mod transaction;
mod zset;

pub use acl::{AclCmd, acl_help};
pub use docs::acl_key_positions;
pub use ops::OpsCmd;
pub use pubsub::{ALLOWED_WHEN_SUBSCRIBED, PubSubCmd, SubKind, pubsub_help};
pub use scripting::ScriptCmd;

pub use docs::{
    client_help, command_count, command_docs, command_getkeys, command_getkeys_and_flags,
    command_help, command_info, command_list, command_reply, config_help, debug_help, object_help,
};

/// What a parsed command becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// A keyspace op executed by the owning shard(s).
    Op(Op),
    /// A connection or server command handled outside the keyspace.
    Conn(ConnCmd),
}

/// Connection and server commands; the server executes them against connection/server state.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnCmd {
    /// PING [message].
    Ping(Option<Bytes>),
    /// ECHO message.
    Echo(Bytes),
    /// HELLO [protover [AUTH user pass] [SETNAME name]]; `proto` is 2 or 3 when given.
    Hello {
        proto: Option<u8>,
        auth: Option<(Bytes, Bytes)>,
        setname: Option<Bytes>,
    },
    /// AUTH [user] pass.
    Auth { user: Option<Bytes>, pass: Bytes },
    /// SELECT index, already checked to be `< moon_engine::DATABASES`.
    Select(usize),
    /// QUIT.
    Quit,
    /// RESET.
    Reset,
    /// CLIENT ID.
    ClientId,
    /// CLIENT SETNAME name (validated; may be empty, which clears the name).
    ClientSetName(Bytes),
    /// CLIENT GETNAME.
    ClientGetName,
    /// CLIENT LIST [TYPE t] [ID id ...]: empty `ids` means no id filter. Ids start at 1, so a
    /// negative id from the client (which matches nothing in Redis) arrives as 0.
    ClientList { ids: Vec<u64>, type_: Option<Bytes> },
    /// CLIENT INFO.
    ClientInfo,
    /// CLIENT KILL.
    ClientKill(ClientKillFilter),
    /// CLIENT SETINFO LIB-NAME|LIB-VER value (validated).
    ClientSetInfo { attr: ClientInfoAttr, value: Bytes },
    /// CLIENT NO-EVICT on|off.
    ClientNoEvict(bool),
    /// CLIENT NO-TOUCH on|off.
    ClientNoTouch(bool),
    /// CLIENT PAUSE timeout [WRITE|ALL]: `timeout_ms` is relative (0 ends at once), `all` is
    /// the ALL mode (the default).
    ClientPause { timeout_ms: u64, all: bool },
    /// CLIENT UNPAUSE.
    ClientUnpause,
    /// CLIENT HELP (reply: [`client_help`]).
    ClientHelp,
    /// INFO [section ...].
    Info(Vec<Bytes>),
    /// CONFIG GET pattern [pattern ...].
    ConfigGet(Vec<Bytes>),
    /// CONFIG SET param value [param value ...].
    ConfigSet(Vec<(Bytes, Bytes)>),
    /// CONFIG RESETSTAT.
    ConfigResetStat,
    /// CONFIG HELP (reply: [`config_help`]).
    ConfigHelp,
    /// TIME.
    Time,
    /// SHUTDOWN: `save` is `Some(true)` for SAVE, `Some(false)` for NOSAVE.
    Shutdown {
        save: Option<bool>,
        now: bool,
        force: bool,
        abort: bool,
    },
    /// DEBUG SLEEP seconds (finite, may be negative or zero: sleep nothing).
    DebugSleep(f64),
    /// DEBUG HELP (reply: [`debug_help`]).
    DebugHelp,
    /// DEBUG PANIC [key]: Moon panics inside the command path (on the shard owning `key` when
    /// given) so that panic containment is exercised; Redis crashes on purpose instead.
    DebugPanic(Option<Bytes>),
    /// DEBUG WAL-FAULT <count>|OFF: the next `count` WAL commits (write + fsync) of every
    /// shard fail with EIO, so WAL failure handling can be tested; 0 (OFF) clears it.
    DebugWalFault(u32),
    /// OBJECT HELP (reply: [`object_help`]).
    ObjectHelp,
    /// COMMAND and its subcommands (reply: [`command_reply`]).
    Command(CommandSub),
    /// SCAN, composed across shards by the server; `pattern` is `None` for no/`*` pattern.
    Scan {
        cursor: u64,
        pattern: Option<Bytes>,
        count: usize,
        type_filter: Option<TypeFilter>,
    },
    /// LASTSAVE.
    Lastsave,
    /// SAVE: a snapshot of every shard, replying when all are sealed.
    Save,
    /// BGSAVE [SCHEDULE].
    BgSave {
        /// SCHEDULE: queue it behind a snapshot in progress instead of failing.
        schedule: bool,
    },
    /// BGREWRITEAOF: snapshot, then drop the WAL segments it covers.
    BgRewriteAof,
    /// SUBSCRIBE, PUBLISH, PUBSUB ... (executed by the server's Pub/Sub registry).
    PubSub(PubSubCmd),
    /// EVAL, EVALSHA, FCALL, SCRIPT ..., FUNCTION LIST/STATS/KILL (the server's Lua runtime).
    Script(ScriptCmd),
    /// A reply known at parse time (help texts).
    Static(moon_engine::ir::Reply),
    /// MULTI.
    Multi,
    /// EXEC.
    Exec,
    /// DISCARD.
    Discard,
    /// WATCH key [key ...].
    Watch(Vec<Bytes>),
    /// UNWATCH.
    Unwatch,
    /// ROLE.
    Role,
    /// ACL and its subcommands (executed by the server's ACL registry).
    Acl(AclCmd),
    /// SLOWLOG, LATENCY, MONITOR, MEMORY STATS/DOCTOR/..., CONFIG REWRITE.
    Ops(OpsCmd),
    /// FT.AGGREGATE: the server splits it into the shards' op and the pipeline it runs.
    FtAggregate(Box<FtAggregate>),
}

/// CLIENT KILL's two forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientKillFilter {
    /// `CLIENT KILL ip:port`: kills that client (even the caller); replies OK or
    /// "ERR No such client".
    Legacy(Bytes),
    /// `CLIENT KILL <filter> <value> ...`: all filters must match; replies the kill count.
    Filters(KillFilters),
}

/// The ANDed filters of the new CLIENT KILL form (a repeated filter keeps the last value).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KillFilters {
    /// ID (>= 1).
    pub id: Option<u64>,
    /// TYPE, normalised to `normal`/`master`/`replica`/`pubsub`.
    pub type_: Option<Bytes>,
    /// ADDR ip:port.
    pub addr: Option<Bytes>,
    /// LADDR ip:port.
    pub laddr: Option<Bytes>,
    /// USER name; the server answers "ERR No such user '<name>'" for unknown users.
    pub user: Option<Bytes>,
    /// SKIPME (default yes).
    pub skipme: bool,
    /// MAXAGE seconds, as given (Redis treats 0 as "no filter").
    pub maxage: Option<i64>,
}

/// CLIENT SETINFO attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientInfoAttr {
    /// LIB-NAME.
    LibName,
    /// LIB-VER.
    LibVer,
}

/// COMMAND subcommands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandSub {
    /// COMMAND / COMMAND INFO [name ...]: empty means every command.
    Info(Vec<Bytes>),
    /// COMMAND COUNT.
    Count,
    /// COMMAND DOCS [name ...]: empty means every command.
    Docs(Vec<Bytes>),
    /// COMMAND GETKEYS command [arg ...].
    GetKeys(Vec<Bytes>),
    /// COMMAND GETKEYSANDFLAGS command [arg ...].
    GetKeysAndFlags(Vec<Bytes>),
    /// COMMAND LIST [FILTERBY ...].
    List(Option<ListFilter>),
    /// COMMAND HELP.
    Help,
}

/// COMMAND LIST FILTERBY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListFilter {
    /// MODULE name (Moon has no modules: matches nothing).
    Module(Bytes),
    /// ACLCAT category.
    AclCat(Bytes),
    /// PATTERN glob, matched case-insensitively against full names.
    Pattern(Bytes),
}

/// Parse one command's arguments (`args[0]` is the name, any case). Errors carry Redis's exact
/// text (unknown command/subcommand, arity, syntax, not-an-integer ...).
pub fn parse(args: &[Bytes]) -> Result<Command, OpError> {
    let spec = resolve(args)?;
    if !spec.arity_ok(args.len()) {
        return Err(args::arity_err(spec.name));
    }
    (spec.parse)(args)
}

/// The spec `args` names: the command, or its subcommand for containers given one.
pub fn resolve(args: &[Bytes]) -> Result<&'static table::CommandSpec, OpError> {
    let Some(name) = args.first() else {
        return Err(unknown_command(args));
    };
    let spec = table::lookup(name).ok_or_else(|| unknown_command(args))?;
    match args.get(1) {
        Some(sub) if !spec.subcommands.is_empty() => {
            table::find_sub(spec, sub).ok_or_else(|| unknown_subcommand(name, sub))
        }
        _ => Ok(spec),
    }
}

/// Parser of a container named without a subcommand. `parse` only reaches it when the
/// container's arity allows one argument, which no container with a parser-less form has.
fn container_arity(args: &[Bytes]) -> Result<Command, OpError> {
    let name = args
        .first()
        .map(|n| n.to_ascii_lowercase())
        .unwrap_or_default();
    Err(args::arity_err(&String::from_utf8_lossy(&name)))
}

/// Redis's `\r` and `\n` to spaces in error texts (they would break the protocol line).
fn one_line(mut text: Vec<u8>) -> String {
    for b in &mut text {
        if *b == b'\r' || *b == b'\n' {
            *b = b' ';
        }
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// `ERR unknown command '<name>', with args beginning with: '<a1>' '<a2>' ` (server.c
/// `commandCheckExistence`): each argument quoted and followed by a space, until 128 bytes.
pub fn unknown_command(args: &[Bytes]) -> OpError {
    let name = args.first().map(|n| args::c_str(n)).unwrap_or_default();
    let mut text = b"ERR unknown command '".to_vec();
    text.extend_from_slice(&name[..name.len().min(128)]);
    text.extend_from_slice(b"', with args beginning with: ");
    let mut quoted: Vec<u8> = Vec::new();
    for arg in args.iter().skip(1) {
        if quoted.len() >= 128 {
            break;
        }
        let arg = args::c_str(arg);
        let room = 128 - quoted.len();
        quoted.push(b'\'');
        quoted.extend_from_slice(&arg[..arg.len().min(room)]);
        quoted.extend_from_slice(b"' ");
    }
    text.extend_from_slice(&quoted);
    OpError::Other(one_line(text))
}

/// `ERR unknown subcommand '<sub>'. Try <CMD> HELP.`
pub fn unknown_subcommand(cmd: &[u8], sub: &[u8]) -> OpError {
    let sub = args::c_str(sub);
    let mut text = b"ERR unknown subcommand '".to_vec();
    text.extend_from_slice(&sub[..sub.len().min(128)]);
    text.extend_from_slice(b"'. Try ");
    text.extend_from_slice(&args::c_str(cmd).to_ascii_uppercase());
    text.extend_from_slice(b" HELP.");
    OpError::Other(one_line(text))
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;

#[cfg(test)]
mod unparse_tests;
