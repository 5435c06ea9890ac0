//! Unit tests of `server.rs`: lowering to the expected op/command and Redis's exact error texts.
use super::*;
use crate::commands::tests::{err_text, p};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn c(parts: &[&str]) -> ConnCmd {
    match p(parts) {
        Ok(Command::Conn(cmd)) => cmd,
        other => panic!("{other:?}"),
    }
}

#[test]
fn info_config_time() {
    assert_eq!(c(&["info"]), ConnCmd::Info(vec![]));
    assert_eq!(
        c(&["info", "server", "clients"]),
        ConnCmd::Info(vec![b("server"), b("clients")])
    );
    assert_eq!(
        c(&["config", "get", "a", "b"]),
        ConnCmd::ConfigGet(vec![b("a"), b("b")])
    );
    assert_eq!(
        c(&["config", "set", "a", "1", "b", "2"]),
        ConnCmd::ConfigSet(vec![(b("a"), b("1")), (b("b"), b("2"))])
    );
    assert_eq!(c(&["config", "resetstat"]), ConnCmd::ConfigResetStat);
    assert_eq!(c(&["config", "help"]), ConnCmd::ConfigHelp);
    assert_eq!(
        err_text(&["config", "get"]),
        "ERR wrong number of arguments for 'config|get' command"
    );
    assert_eq!(c(&["time"]), ConnCmd::Time);
    assert_eq!(c(&["lastsave"]), ConnCmd::Lastsave);
    assert_eq!(c(&["role"]), ConnCmd::Role);
}

#[test]
fn shutdown() {
    let sd = |save, now, force, abort| ConnCmd::Shutdown {
        save,
        now,
        force,
        abort,
    };
    assert_eq!(c(&["shutdown"]), sd(None, false, false, false));
    assert_eq!(
        c(&["shutdown", "NOSAVE", "now", "force"]),
        sd(Some(false), true, true, false)
    );
    assert_eq!(
        c(&["shutdown", "save"]),
        sd(Some(true), false, false, false)
    );
    assert_eq!(c(&["shutdown", "abort"]), sd(None, false, false, true));
    assert_eq!(
        err_text(&["shutdown", "save", "nosave"]),
        "ERR syntax error"
    );
    assert_eq!(err_text(&["shutdown", "abort", "now"]), "ERR syntax error");
    assert_eq!(err_text(&["shutdown", "later"]), "ERR syntax error");
}

#[test]
fn debug() {
    assert_eq!(c(&["debug", "sleep", "0.5"]), ConnCmd::DebugSleep(0.5));
    assert_eq!(c(&["DEBUG", "SLEEP", "abc"]), ConnCmd::DebugSleep(0.0));
    assert_eq!(c(&["debug", "help"]), ConnCmd::DebugHelp);
    assert_eq!(c(&["debug", "panic"]), ConnCmd::DebugPanic(None));
    assert_eq!(
        c(&["DEBUG", "PANIC", "k", "ignored"]),
        ConnCmd::DebugPanic(Some(Bytes::from_static(b"k")))
    );
    assert_eq!(c(&["debug", "wal-fault", "3"]), ConnCmd::DebugWalFault(3));
    assert_eq!(c(&["DEBUG", "WAL-FAULT", "off"]), ConnCmd::DebugWalFault(0));
    assert_eq!(
        err_text(&["debug", "wal-fault", "-1"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err_text(&["debug", "Foo"]),
        "ERR unknown subcommand or wrong number of arguments for 'Foo'. Try DEBUG HELP."
    );
    assert_eq!(
        err_text(&["debug", "sleep"]),
        "ERR unknown subcommand or wrong number of arguments for 'sleep'. Try DEBUG HELP."
    );
    assert_eq!(
        err_text(&["debug"]),
        "ERR wrong number of arguments for 'debug' command"
    );
}

#[test]
fn command_subs() {
    let sub = |parts: &[&str]| match c(parts) {
        ConnCmd::Command(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(sub(&["command"]), CommandSub::Info(vec![]));
    assert_eq!(
        sub(&["command", "info", "get"]),
        CommandSub::Info(vec![b("get")])
    );
    assert_eq!(sub(&["command", "count"]), CommandSub::Count);
    assert_eq!(sub(&["command", "docs"]), CommandSub::Docs(vec![]));
    assert_eq!(
        sub(&["command", "getkeys", "get", "k"]),
        CommandSub::GetKeys(vec![b("get"), b("k")])
    );
    assert_eq!(sub(&["command", "list"]), CommandSub::List(None));
    assert_eq!(
        sub(&["command", "list", "filterby", "aclcat", "string"]),
        CommandSub::List(Some(ListFilter::AclCat(b("string"))))
    );
    assert_eq!(
        err_text(&["command", "list", "filterby", "x", "y"]),
        "ERR syntax error"
    );
    assert_eq!(err_text(&["command", "list", "x"]), "ERR syntax error");
    assert_eq!(sub(&["command", "help"]), CommandSub::Help);
    assert_eq!(
        err_text(&["command", "foo"]),
        "ERR unknown subcommand 'foo'. Try COMMAND HELP."
    );
}
