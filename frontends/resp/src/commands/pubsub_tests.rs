//! Unit tests of `pubsub.rs`: lowering to the expected [`PubSubCmd`], Redis's exact error texts,
//! and the table metadata COMMAND INFO/GETKEYS derive from it.
use super::*;
use crate::commands::table::{self, lookup_fullname};
use crate::commands::tests::{argv, err_text, p};
use crate::commands::{command_getkeys, parse};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn cmd(parts: &[&str]) -> PubSubCmd {
    match p(parts) {
        Ok(Command::Conn(ConnCmd::PubSub(c))) => c,
        other => panic!("{parts:?}: {other:?}"),
    }
}

#[test]
fn subscriptions() {
    assert_eq!(
        cmd(&["SUBSCRIBE", "a", "b", "a"]),
        PubSubCmd::Subscribe(SubKind::Channel, vec![b("a"), b("b"), b("a")])
    );
    assert_eq!(
        cmd(&["psubscribe", "h?llo"]),
        PubSubCmd::Subscribe(SubKind::Pattern, vec![b("h?llo")])
    );
    assert_eq!(
        cmd(&["SSubscribe", "s"]),
        PubSubCmd::Subscribe(SubKind::Shard, vec![b("s")])
    );
    assert_eq!(
        cmd(&["unsubscribe"]),
        PubSubCmd::Unsubscribe(SubKind::Channel, vec![])
    );
    assert_eq!(
        cmd(&["PUNSUBSCRIBE", "x*", "y"]),
        PubSubCmd::Unsubscribe(SubKind::Pattern, vec![b("x*"), b("y")])
    );
    assert_eq!(
        cmd(&["sunsubscribe", "s"]),
        PubSubCmd::Unsubscribe(SubKind::Shard, vec![b("s")])
    );
}

#[test]
fn publishing() {
    assert_eq!(
        cmd(&["PUBLISH", "ch", ""]),
        PubSubCmd::Publish {
            sharded: false,
            channel: b("ch"),
            message: b(""),
        }
    );
    assert_eq!(
        cmd(&["spublish", "ch", "m"]),
        PubSubCmd::Publish {
            sharded: true,
            channel: b("ch"),
            message: b("m"),
        }
    );
}

#[test]
fn introspection() {
    assert_eq!(
        cmd(&["PUBSUB", "channels"]),
        PubSubCmd::Channels {
            sharded: false,
            pattern: None
        }
    );
    assert_eq!(
        cmd(&["pubsub", "SHARDCHANNELS", "a*"]),
        PubSubCmd::Channels {
            sharded: true,
            pattern: Some(b("a*"))
        }
    );
    assert_eq!(
        cmd(&["pubsub", "numsub"]),
        PubSubCmd::NumSub {
            sharded: false,
            channels: vec![]
        }
    );
    assert_eq!(
        cmd(&["pubsub", "shardnumsub", "a", "b"]),
        PubSubCmd::NumSub {
            sharded: true,
            channels: vec![b("a"), b("b")]
        }
    );
    assert_eq!(cmd(&["pubsub", "NumPat"]), PubSubCmd::NumPat);
    assert_eq!(cmd(&["pubsub", "help"]), PubSubCmd::Help);
}

#[test]
fn error_texts() {
    assert_eq!(
        err_text(&["subscribe"]),
        "ERR wrong number of arguments for 'subscribe' command"
    );
    assert_eq!(
        err_text(&["ssubscribe"]),
        "ERR wrong number of arguments for 'ssubscribe' command"
    );
    assert_eq!(
        err_text(&["psubscribe"]),
        "ERR wrong number of arguments for 'psubscribe' command"
    );
    assert_eq!(
        err_text(&["publish", "a"]),
        "ERR wrong number of arguments for 'publish' command"
    );
    assert_eq!(
        err_text(&["spublish", "a", "b", "c"]),
        "ERR wrong number of arguments for 'spublish' command"
    );
    assert_eq!(
        err_text(&["pubsub"]),
        "ERR wrong number of arguments for 'pubsub' command"
    );
    assert_eq!(
        err_text(&["pubsub", "foo"]),
        "ERR unknown subcommand 'foo'. Try PUBSUB HELP."
    );
    assert_eq!(
        err_text(&["pubsub", "numpat", "x"]),
        "ERR wrong number of arguments for 'pubsub|numpat' command"
    );
    assert_eq!(
        err_text(&["pubsub", "help", "x"]),
        "ERR wrong number of arguments for 'pubsub|help' command"
    );
    assert_eq!(
        err_text(&["pubsub", "CHANNELS", "a", "b"]),
        "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP."
    );
    assert_eq!(
        err_text(&["PubSub", "shardchannels", "a", "b"]),
        "ERR unknown subcommand or wrong number of arguments for 'shardchannels'. Try PUBSUB HELP."
    );
}

#[test]
fn table_metadata_matches_redis() {
    let spec = |n: &str| lookup_fullname(n.as_bytes()).unwrap_or_else(|| panic!("{n}"));
    let flags = |n: &str| -> Vec<&str> {
        table::FLAG_NAMES
            .iter()
            .filter(|(bit, _)| spec(n).flags & bit != 0)
            .map(|(_, name)| *name)
            .collect()
    };
    assert_eq!(
        flags("subscribe"),
        ["pubsub", "noscript", "loading", "stale"]
    );
    assert_eq!(flags("publish"), ["pubsub", "loading", "stale", "fast"]);
    assert_eq!(flags("pubsub|numsub"), ["pubsub", "loading", "stale"]);
    assert_eq!(flags("pubsub|help"), ["loading", "stale"]);
    assert_eq!(
        spec("publish").acl_categories(),
        table::PUBSUB | table::CAT_FAST
    );
    assert_eq!(
        spec("subscribe").acl_categories(),
        table::PUBSUB | table::CAT_SLOW
    );
    assert_eq!(spec("pubsub|help").acl_categories(), table::CAT_SLOW);
    assert_eq!(spec("ssubscribe").key_range(), (1, -1, 1));
    assert_eq!(spec("spublish").key_range(), (1, 1, 1));
    assert_eq!(spec("publish").key_range(), (0, 0, 0));
    // Shard channels are not keys: COMMAND GETKEYS says so, as Redis does.
    for args in [&["spublish", "c", "m"][..], &["ssubscribe", "a", "b"]] {
        assert_eq!(
            command_getkeys(&argv(args)),
            Err(OpError::Other(
                "ERR The command has no key arguments".into()
            ))
        );
    }
}

#[test]
fn allowed_list_names_real_commands() {
    for name in ALLOWED_WHEN_SUBSCRIBED {
        assert!(table::lookup(name.as_bytes()).is_some(), "{name}");
    }
}

#[test]
fn help_text() {
    let lines = match pubsub_help() {
        moon_engine::ir::Reply::Array(lines) => lines,
        other => panic!("{other:?}"),
    };
    assert_eq!(lines.len(), 14);
    assert_eq!(
        lines.first(),
        Some(&moon_engine::ir::Reply::simple(
            "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
        ))
    );
}

proptest::proptest! {
    /// Any argument vector naming a Pub/Sub command parses or errors, never panics.
    #[test]
    fn never_panics(
        name in proptest::sample::select(vec![
            "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe",
            "sunsubscribe", "publish", "spublish", "pubsub",
        ]),
        rest in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..8), 0..5),
    ) {
        let mut args = vec![b(name)];
        args.extend(rest.into_iter().map(Bytes::from));
        let _ = parse(&args);
    }
}
