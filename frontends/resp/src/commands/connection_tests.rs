//! Unit tests of `connection.rs`: lowering to the expected op/command and Redis's exact error texts.
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
fn basics() {
    assert_eq!(c(&["ping"]), ConnCmd::Ping(None));
    assert_eq!(c(&["PING", "hi"]), ConnCmd::Ping(Some(b("hi"))));
    assert_eq!(c(&["echo", "x"]), ConnCmd::Echo(b("x")));
    assert_eq!(c(&["quit", "whatever"]), ConnCmd::Quit);
    assert_eq!(c(&["reset"]), ConnCmd::Reset);
    assert_eq!(c(&["select", "3"]), ConnCmd::Select(3));
    assert_eq!(
        err_text(&["select", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(err_text(&["select", "-1"]), "ERR DB index is out of range");
    assert_eq!(
        c(&["auth", "pw"]),
        ConnCmd::Auth {
            user: None,
            pass: b("pw")
        }
    );
    assert_eq!(
        c(&["auth", "u", "pw"]),
        ConnCmd::Auth {
            user: Some(b("u")),
            pass: b("pw")
        }
    );
    assert_eq!(err_text(&["auth", "a", "b", "c"]), "ERR syntax error");
}

#[test]
fn hello() {
    assert_eq!(
        c(&["hello"]),
        ConnCmd::Hello {
            proto: None,
            auth: None,
            setname: None
        }
    );
    assert_eq!(
        c(&["hello", "3", "AUTH", "u", "p", "setname", "me"]),
        ConnCmd::Hello {
            proto: Some(3),
            auth: Some((b("u"), b("p"))),
            setname: Some(b("me"))
        }
    );
    assert_eq!(
        err_text(&["hello", "4"]),
        "NOPROTO unsupported protocol version"
    );
    assert_eq!(
        err_text(&["hello", "1"]),
        "NOPROTO unsupported protocol version"
    );
    assert_eq!(
        err_text(&["hello", "x"]),
        "ERR Protocol version is not an integer or out of range"
    );
    assert_eq!(
        err_text(&["hello", "3", "auth", "u"]),
        "ERR Syntax error in HELLO option 'auth'"
    );
    assert_eq!(
        err_text(&["hello", "3", "foo"]),
        "ERR Syntax error in HELLO option 'foo'"
    );
    assert_eq!(
        err_text(&["hello", "2", "setname", "a b"]),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
}

#[test]
fn client_simple() {
    assert_eq!(c(&["client", "id"]), ConnCmd::ClientId);
    assert_eq!(c(&["CLIENT", "INFO"]), ConnCmd::ClientInfo);
    assert_eq!(c(&["client", "getname"]), ConnCmd::ClientGetName);
    assert_eq!(c(&["client", "help"]), ConnCmd::ClientHelp);
    assert_eq!(
        c(&["client", "setname", "x"]),
        ConnCmd::ClientSetName(b("x"))
    );
    assert_eq!(c(&["client", "setname", ""]), ConnCmd::ClientSetName(b("")));
    assert_eq!(
        err_text(&["client", "setname", "a\nb"]),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    assert_eq!(
        c(&["client", "no-evict", "ON"]),
        ConnCmd::ClientNoEvict(true)
    );
    assert_eq!(
        c(&["client", "no-touch", "off"]),
        ConnCmd::ClientNoTouch(false)
    );
    assert_eq!(
        err_text(&["client", "no-touch", "maybe"]),
        "ERR syntax error"
    );
    assert_eq!(
        c(&["client", "setinfo", "LIB-NAME", "redis-py"]),
        ConnCmd::ClientSetInfo {
            attr: ClientInfoAttr::LibName,
            value: b("redis-py")
        }
    );
    assert_eq!(
        err_text(&["client", "setinfo", "foo", "x"]),
        "ERR Unrecognized option 'foo'"
    );
    assert_eq!(
        err_text(&["client", "setinfo", "lib-ver", "1 2"]),
        "ERR lib-ver cannot contain spaces, newlines or special characters."
    );
    assert_eq!(
        err_text(&["client", "id", "x"]),
        "ERR wrong number of arguments for 'client|id' command"
    );
}

#[test]
fn client_list() {
    assert_eq!(
        c(&["client", "list"]),
        ConnCmd::ClientList {
            ids: vec![],
            type_: None
        }
    );
    assert_eq!(
        c(&["client", "list", "type", "SLAVE"]),
        ConnCmd::ClientList {
            ids: vec![],
            type_: Some(b("replica"))
        }
    );
    assert_eq!(
        c(&["client", "list", "id", "1", "-2"]),
        ConnCmd::ClientList {
            ids: vec![1, 0],
            type_: None
        }
    );
    assert_eq!(
        err_text(&["client", "list", "type", "x"]),
        "ERR Unknown client type 'x'"
    );
    assert_eq!(
        err_text(&["client", "list", "id", "x"]),
        "ERR Invalid client ID"
    );
    assert_eq!(err_text(&["client", "list", "foo"]), "ERR syntax error");
    assert_eq!(err_text(&["client", "list", "id"]), "ERR syntax error");
}

#[test]
fn client_kill() {
    assert_eq!(
        c(&["client", "kill", "1.2.3.4:5"]),
        ConnCmd::ClientKill(ClientKillFilter::Legacy(b("1.2.3.4:5")))
    );
    let filters = KillFilters {
        id: Some(7),
        type_: Some(b("normal")),
        addr: Some(b("a:1")),
        laddr: Some(b("b:2")),
        user: Some(b("default")),
        skipme: false,
        maxage: Some(30),
    };
    assert_eq!(
        c(&[
            "client", "kill", "id", "7", "type", "normal", "addr", "a:1", "laddr", "b:2", "user",
            "default", "skipme", "no", "maxage", "30",
        ]),
        ConnCmd::ClientKill(ClientKillFilter::Filters(filters))
    );
    assert_eq!(
        err_text(&["client", "kill", "id", "0"]),
        "ERR client-id should be greater than 0"
    );
    assert_eq!(
        err_text(&["client", "kill", "id", "x"]),
        "ERR client-id should be greater than 0"
    );
    assert_eq!(
        err_text(&["client", "kill", "type", "x"]),
        "ERR Unknown client type 'x'"
    );
    assert_eq!(
        err_text(&["client", "kill", "skipme", "x"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["client", "kill", "id", "1", "addr"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["client", "kill", "foo", "x"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["client", "kill", "maxage", "x"]),
        "ERR maxage is not an integer or out of range"
    );
}

#[test]
fn client_pause_and_unpause() {
    assert_eq!(
        c(&["client", "pause", "100"]),
        ConnCmd::ClientPause {
            timeout_ms: 100,
            all: true
        }
    );
    assert_eq!(
        c(&["CLIENT", "PAUSE", "0", "write"]),
        ConnCmd::ClientPause {
            timeout_ms: 0,
            all: false
        }
    );
    assert_eq!(
        c(&["client", "pause", "5", "ALL"]),
        ConnCmd::ClientPause {
            timeout_ms: 5,
            all: true
        }
    );
    assert_eq!(c(&["client", "unpause"]), ConnCmd::ClientUnpause);
    assert_eq!(
        err_text(&["client", "pause"]),
        "ERR wrong number of arguments for 'client|pause' command"
    );
    assert_eq!(
        err_text(&["client", "pause", "x"]),
        "ERR timeout is not an integer or out of range"
    );
    assert_eq!(
        err_text(&["client", "pause", "-5"]),
        "ERR timeout is negative"
    );
    // The mode is checked first, as in Redis.
    assert_eq!(
        err_text(&["client", "pause", "x", "some"]),
        "ERR CLIENT PAUSE mode must be WRITE or ALL"
    );
    assert_eq!(
        err_text(&["client", "pause", "1", "write", "x"]),
        "ERR unknown subcommand or wrong number of arguments for 'pause'. Try CLIENT HELP."
    );
    assert_eq!(
        err_text(&["client", "unpause", "x"]),
        "ERR wrong number of arguments for 'client|unpause' command"
    );
}
