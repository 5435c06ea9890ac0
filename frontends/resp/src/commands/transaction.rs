//! MULTI, EXEC, DISCARD, WATCH and UNWATCH: table entries and parsers. The server keeps the
//! transaction state per connection (see the server's `multi.rs`).

use bytes::Bytes;
use moon_engine::ir::OpError;

use super::table::{
    ALLOW_BUSY, CommandSpec, FAST, K_RO, KeySpec, LOADING, NOSCRIPT, SKIP_SLOWLOG, STALE,
    TRANSACTION, doc,
};
use super::{Command, ConnCmd};

const G: &str = "transactions";
const FLAGS: u32 = NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY;

/// The transaction commands.
pub static COMMANDS: &[&CommandSpec] = &[&DISCARD, &EXEC, &MULTI, &UNWATCH, &WATCH];

pub static DISCARD: CommandSpec = CommandSpec::new(
    "discard",
    1,
    FLAGS,
    TRANSACTION,
    &[],
    doc(
        G,
        "2.0.0",
        "Discards a transaction.",
        "O(N), when N is the number of queued commands",
    ),
    |_| Ok(Command::Conn(ConnCmd::Discard)),
);

pub static EXEC: CommandSpec = CommandSpec::new(
    "exec",
    1,
    NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
    TRANSACTION,
    &[],
    doc(
        G,
        "1.2.0",
        "Executes all commands in a transaction.",
        "Depends on commands in the transaction",
    ),
    |_| Ok(Command::Conn(ConnCmd::Exec)),
);

pub static MULTI: CommandSpec = CommandSpec::new(
    "multi",
    1,
    FLAGS,
    TRANSACTION,
    &[],
    doc(G, "1.2.0", "Starts a transaction.", "O(1)"),
    |_| Ok(Command::Conn(ConnCmd::Multi)),
);

pub static UNWATCH: CommandSpec = CommandSpec::new(
    "unwatch",
    1,
    FLAGS,
    TRANSACTION,
    &[],
    doc(
        G,
        "2.2.0",
        "Forgets about watched keys of a transaction.",
        "O(1)",
    ),
    |_| Ok(Command::Conn(ConnCmd::Unwatch)),
);

pub static WATCH: CommandSpec = CommandSpec::new(
    "watch",
    -2,
    FLAGS,
    TRANSACTION,
    &[KeySpec::rest(K_RO, 1, 1)],
    doc(
        G,
        "2.2.0",
        "Monitors changes to keys to determine the execution of a transaction.",
        "O(1) for every key.",
    ),
    watch,
);

fn watch(args: &[Bytes]) -> Result<Command, OpError> {
    Ok(Command::Conn(ConnCmd::Watch(args[1..].to_vec())))
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn p(args: &[&str]) -> Result<Command, OpError> {
        let args: Vec<Bytes> = args.iter().map(|a| Bytes::from(a.to_string())).collect();
        parse(&args)
    }

    #[test]
    fn transaction_commands_parse() {
        assert_eq!(p(&["MULTI"]), Ok(Command::Conn(ConnCmd::Multi)));
        assert_eq!(p(&["exec"]), Ok(Command::Conn(ConnCmd::Exec)));
        assert_eq!(p(&["discard"]), Ok(Command::Conn(ConnCmd::Discard)));
        assert_eq!(p(&["unwatch"]), Ok(Command::Conn(ConnCmd::Unwatch)));
        assert_eq!(
            p(&["watch", "a", "b"]),
            Ok(Command::Conn(ConnCmd::Watch(vec![
                Bytes::from_static(b"a"),
                Bytes::from_static(b"b")
            ])))
        );
        assert!(p(&["watch"]).is_err());
        assert!(p(&["multi", "x"]).is_err());
    }
}
