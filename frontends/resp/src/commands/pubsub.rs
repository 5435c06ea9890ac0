//! The Pub/Sub family (SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE,
//! SUNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB *): table entries (as Redis 7.2's COMMAND INFO and
//! DOCS show them) and parsers lowering to [`PubSubCmd`]. The server owns the subscriptions
//! and the delivery of messages; nothing here touches the keyspace.
//!
//! Invariants: parsers run after the table's arity check, so they index `args` only within the
//! registered arity; channel and pattern names are taken as opaque bytes (any byte is valid).

use bytes::Bytes;
use moon_engine::ir::OpError;

use super::server::subcommand_syntax_error;
use super::table::{
    CMD_PUBSUB, CommandSpec, FAST, K_NOT_KEY, KeySpec, LOADING, NOSCRIPT, PUBSUB, STALE, doc,
};
use super::{Command, ConnCmd, container_arity};

/// The three kinds of subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubKind {
    /// SUBSCRIBE: an exact channel name.
    Channel,
    /// PSUBSCRIBE: a glob pattern over channel names.
    Pattern,
    /// SSUBSCRIBE: a shard channel (its own namespace, no patterns).
    Shard,
}

impl SubKind {
    /// The word of a subscribe confirmation (`subscribe`, `psubscribe`, `ssubscribe`).
    pub fn subscribe_word(self) -> &'static str {
        match self {
            SubKind::Channel => "subscribe",
            SubKind::Pattern => "psubscribe",
            SubKind::Shard => "ssubscribe",
        }
    }

    /// The word of an unsubscribe confirmation.
    pub fn unsubscribe_word(self) -> &'static str {
        match self {
            SubKind::Channel => "unsubscribe",
            SubKind::Pattern => "punsubscribe",
            SubKind::Shard => "sunsubscribe",
        }
    }
}

/// A Pub/Sub command, executed by the server against its subscription registries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PubSubCmd {
    /// (P|S)SUBSCRIBE name [name ...] (at least one name).
    Subscribe(SubKind, Vec<Bytes>),
    /// (P|S)UNSUBSCRIBE [name ...]: no names means every subscription of that kind.
    Unsubscribe(SubKind, Vec<Bytes>),
    /// PUBLISH / SPUBLISH (`sharded`) channel message.
    Publish {
        sharded: bool,
        channel: Bytes,
        message: Bytes,
    },
    /// PUBSUB CHANNELS / SHARDCHANNELS (`sharded`) [pattern].
    Channels {
        sharded: bool,
        pattern: Option<Bytes>,
    },
    /// PUBSUB NUMSUB / SHARDNUMSUB (`sharded`) [channel ...].
    NumSub { sharded: bool, channels: Vec<Bytes> },
    /// PUBSUB NUMPAT.
    NumPat,
    /// PUBSUB HELP (reply: [`pubsub_help`]).
    Help,
}

const G: &str = "pubsub";
/// Flags of the subscription commands.
const SUBSCRIBING: u32 = CMD_PUBSUB | NOSCRIPT | LOADING | STALE;
/// Flags of PUBLISH/SPUBLISH.
const PUBLISHING: u32 = CMD_PUBSUB | LOADING | STALE | FAST;
/// Flags of the PUBSUB introspection subcommands.
const INTROSPECTION: u32 = CMD_PUBSUB | LOADING | STALE;
/// Shard channels are named like keys (for cluster routing) but are not keys.
const SHARD_CHANNELS: &[KeySpec] = &[KeySpec::rest(K_NOT_KEY, 1, 1)];
const SHARD_CHANNEL: &[KeySpec] = &[KeySpec::one(K_NOT_KEY, 1)];

pub static SUBSCRIBE: CommandSpec = CommandSpec::new(
    "subscribe",
    -2,
    SUBSCRIBING,
    PUBSUB,
    &[],
    doc(
        G,
        "2.0.0",
        "Listens for messages published to channels.",
        "O(N) where N is the number of channels to subscribe to.",
    ),
    subscribe,
);
pub static UNSUBSCRIBE: CommandSpec = CommandSpec::new(
    "unsubscribe",
    -1,
    SUBSCRIBING,
    PUBSUB,
    &[],
    doc(
        G,
        "2.0.0",
        "Stops listening to messages posted to channels.",
        "O(N) where N is the number of channels to unsubscribe.",
    ),
    unsubscribe,
);
pub static PSUBSCRIBE: CommandSpec = CommandSpec::new(
    "psubscribe",
    -2,
    SUBSCRIBING,
    PUBSUB,
    &[],
    doc(
        G,
        "2.0.0",
        "Listens for messages published to channels that match one or more patterns.",
        "O(N) where N is the number of patterns to subscribe to.",
    ),
    psubscribe,
);
pub static PUNSUBSCRIBE: CommandSpec = CommandSpec::new(
    "punsubscribe",
    -1,
    SUBSCRIBING,
    PUBSUB,
    &[],
    doc(
        G,
        "2.0.0",
        "Stops listening to messages published to channels that match one or more patterns.",
        "O(N) where N is the number of patterns to unsubscribe.",
    ),
    punsubscribe,
);
pub static SSUBSCRIBE: CommandSpec = CommandSpec::new(
    "ssubscribe",
    -2,
    SUBSCRIBING,
    PUBSUB,
    SHARD_CHANNELS,
    doc(
        G,
        "7.0.0",
        "Listens for messages published to shard channels.",
        "O(N) where N is the number of shard channels to subscribe to.",
    ),
    ssubscribe,
);
pub static SUNSUBSCRIBE: CommandSpec = CommandSpec::new(
    "sunsubscribe",
    -1,
    SUBSCRIBING,
    PUBSUB,
    SHARD_CHANNELS,
    doc(
        G,
        "7.0.0",
        "Stops listening to messages posted to shard channels.",
        "O(N) where N is the number of shard channels to unsubscribe.",
    ),
    sunsubscribe,
);
pub static PUBLISH: CommandSpec = CommandSpec::new(
    "publish",
    3,
    PUBLISHING,
    PUBSUB,
    &[],
    doc(
        G,
        "2.0.0",
        "Posts a message to a channel.",
        "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
    ),
    publish,
);
pub static SPUBLISH: CommandSpec = CommandSpec::new(
    "spublish",
    3,
    PUBLISHING,
    PUBSUB,
    SHARD_CHANNEL,
    doc(
        G,
        "7.0.0",
        "Post a message to a shard channel",
        "O(N) where N is the number of clients subscribed to the receiving shard channel.",
    ),
    spublish,
);

pub static PUBSUB_CMD: CommandSpec = CommandSpec::new(
    "pubsub",
    -2,
    0,
    0,
    &[],
    doc(
        G,
        "2.8.0",
        "A container for Pub/Sub commands.",
        "Depends on subcommand.",
    ),
    container_arity,
)
.with_subs(PUBSUB_SUBS);
static PUBSUB_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "pubsub|channels",
        -2,
        INTROSPECTION,
        PUBSUB,
        &[],
        doc(
            G,
            "2.8.0",
            "Returns the active channels.",
            "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
        ),
        channels,
    ),
    CommandSpec::new(
        "pubsub|help",
        2,
        LOADING | STALE,
        0,
        &[],
        doc(
            G,
            "6.2.0",
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
        help,
    ),
    CommandSpec::new(
        "pubsub|numpat",
        2,
        INTROSPECTION,
        PUBSUB,
        &[],
        doc(
            G,
            "2.8.0",
            "Returns a count of unique pattern subscriptions.",
            "O(1)",
        ),
        numpat,
    ),
    CommandSpec::new(
        "pubsub|numsub",
        -2,
        INTROSPECTION,
        PUBSUB,
        &[],
        doc(
            G,
            "2.8.0",
            "Returns a count of subscribers to channels.",
            "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
        ),
        numsub,
    ),
    CommandSpec::new(
        "pubsub|shardchannels",
        -2,
        INTROSPECTION,
        PUBSUB,
        &[],
        doc(
            G,
            "7.0.0",
            "Returns the active shard channels.",
            "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
        ),
        shardchannels,
    ),
    CommandSpec::new(
        "pubsub|shardnumsub",
        -2,
        INTROSPECTION,
        PUBSUB,
        &[],
        doc(
            G,
            "7.0.0",
            "Returns the count of subscribers of shard channels.",
            "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
        ),
        shardnumsub,
    ),
];

/// Every command of the family (consulted after the core registry).
pub static COMMANDS: &[&CommandSpec] = &[
    &SUBSCRIBE,
    &UNSUBSCRIBE,
    &PSUBSCRIBE,
    &PUNSUBSCRIBE,
    &SSUBSCRIBE,
    &SUNSUBSCRIBE,
    &PUBLISH,
    &SPUBLISH,
    &PUBSUB_CMD,
];

/// The command names a RESP2 client may run while it has subscriptions (Redis's
/// `processCommand` list); everything else is refused with
/// "only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context".
pub const ALLOWED_WHEN_SUBSCRIBED: &[&str] = &[
    "ping",
    "subscribe",
    "ssubscribe",
    "unsubscribe",
    "sunsubscribe",
    "psubscribe",
    "punsubscribe",
    "quit",
    "reset",
];

/// PUBSUB HELP.
pub fn pubsub_help() -> moon_engine::ir::Reply {
    super::docs::help(
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    )
}

fn ok(cmd: PubSubCmd) -> Result<Command, OpError> {
    Ok(Command::Conn(ConnCmd::PubSub(cmd)))
}

/// The arguments after the command name.
fn names(args: &[Bytes]) -> Vec<Bytes> {
    args.get(1..).map(<[Bytes]>::to_vec).unwrap_or_default()
}

fn subscribe(a: &[Bytes]) -> Result<Command, OpError> {
    ok(PubSubCmd::Subscribe(SubKind::Channel, names(a)))
}

fn psubscribe(a: &[Bytes]) -> Result<Command, OpError> {
    ok(PubSubCmd::Subscribe(SubKind::Pattern, names(a)))
}

fn ssubscribe(a: &[Bytes]) -> Result<Command, OpError> {
    ok(PubSubCmd::Subscribe(SubKind::Shard, names(a)))
}

fn unsubscribe(a: &[Bytes]) -> Result<Command, OpError> {
    ok(PubSubCmd::Unsubscribe(SubKind::Channel, names(a)))
}

fn punsubscribe(a: &[Bytes]) -> Result<Command, OpError> {
    ok(PubSubCmd::Unsubscribe(SubKind::Pattern, names(a)))
}

fn sunsubscribe(a: &[Bytes]) -> Result<Command, OpError> {
    ok(PubSubCmd::Unsubscribe(SubKind::Shard, names(a)))
}

fn publish_args(a: &[Bytes], sharded: bool) -> Result<Command, OpError> {
    match a {
        [_, channel, message] => ok(PubSubCmd::Publish {
            sharded,
            channel: channel.clone(),
            message: message.clone(),
        }),
        _ => Err(super::args::arity_err(if sharded {
            "spublish"
        } else {
            "publish"
        })),
    }
}

fn publish(a: &[Bytes]) -> Result<Command, OpError> {
    publish_args(a, false)
}

fn spublish(a: &[Bytes]) -> Result<Command, OpError> {
    publish_args(a, true)
}

/// CHANNELS/SHARDCHANNELS take at most one pattern; more is Redis's subcommand syntax error.
fn channels_args(a: &[Bytes], sharded: bool) -> Result<Command, OpError> {
    match a {
        [_, _] => ok(PubSubCmd::Channels {
            sharded,
            pattern: None,
        }),
        [_, _, pattern] => ok(PubSubCmd::Channels {
            sharded,
            pattern: Some(pattern.clone()),
        }),
        [cmd, sub, ..] => Err(subcommand_syntax_error(cmd, sub)),
        _ => Err(super::args::arity_err("pubsub")),
    }
}

fn channels(a: &[Bytes]) -> Result<Command, OpError> {
    channels_args(a, false)
}

fn shardchannels(a: &[Bytes]) -> Result<Command, OpError> {
    channels_args(a, true)
}

fn numsub_args(a: &[Bytes], sharded: bool) -> Result<Command, OpError> {
    ok(PubSubCmd::NumSub {
        sharded,
        channels: a.get(2..).map(<[Bytes]>::to_vec).unwrap_or_default(),
    })
}

fn numsub(a: &[Bytes]) -> Result<Command, OpError> {
    numsub_args(a, false)
}

fn shardnumsub(a: &[Bytes]) -> Result<Command, OpError> {
    numsub_args(a, true)
}

fn numpat(_: &[Bytes]) -> Result<Command, OpError> {
    ok(PubSubCmd::NumPat)
}

fn help(_: &[Bytes]) -> Result<Command, OpError> {
    ok(PubSubCmd::Help)
}

#[cfg(test)]
#[path = "pubsub_tests.rs"]
mod tests;
