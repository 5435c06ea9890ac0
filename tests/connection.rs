//! Connection-level commands end to end: PING, ECHO, HELLO 2/3 (reply fields, NOPROTO, AUTH
//! and SETNAME options), SELECT, QUIT, RESET, AUTH with and without `--requirepass`, and the
//! CLIENT subcommands (ID, SETNAME/GETNAME, LIST, INFO, KILL, SETINFO, NO-EVICT, NO-TOUCH).

mod common;

use common::{Reply, Server, is_reference};

#[test]
fn ping_echo() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("PING"), Reply::simple("PONG"));
    assert_eq!(c.q("PING hello"), Reply::bulk("hello"));
    assert_eq!(
        c.q("ping a b"),
        Reply::err("ERR wrong number of arguments for 'ping' command")
    );
    assert_eq!(c.cmd(&["ECHO", "a b\r\n"]), Reply::bulk("a b\r\n"));
    assert_eq!(
        c.q("ECHO"),
        Reply::err("ERR wrong number of arguments for 'echo' command")
    );
    // Inline commands work too.
    c.send_raw(b"PING\r\n");
    assert_eq!(c.read(), Reply::simple("PONG"));
    c.send_raw(b"ECHO hi\r\n");
    assert_eq!(c.read(), Reply::bulk("hi"));
}

fn check_hello_fields(reply: &Reply, proto: i64, id: i64) {
    let pairs = reply.pairs();
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "server", "version", "proto", "id", "mode", "role", "modules"
        ]
    );
    assert_eq!(reply.field("server"), Reply::bulk("redis"));
    assert!(reply.field("version").text().starts_with('7'), "{reply:?}");
    assert_eq!(reply.field("proto"), Reply::Int(proto));
    assert_eq!(reply.field("id"), Reply::Int(id));
    assert_eq!(reply.field("mode"), Reply::bulk("standalone"));
    assert_eq!(reply.field("role"), Reply::bulk("master"));
    assert_eq!(reply.field("modules").items(), vec![]);
}

#[test]
fn hello_versions() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let id = c.q("CLIENT ID").int();
    let r2 = c.q("HELLO");
    assert!(
        matches!(r2, Reply::Array(_)),
        "HELLO with no version keeps RESP2: {r2:?}"
    );
    check_hello_fields(&r2, 2, id);
    let r3 = c.q("HELLO 3");
    assert!(matches!(r3, Reply::Map(_)), "{r3:?}");
    check_hello_fields(&r3, 3, id);
    let back = c.q("HELLO 2");
    assert!(matches!(back, Reply::Array(_)));
    check_hello_fields(&back, 2, id);

    assert_eq!(
        c.q("HELLO 4"),
        Reply::err("NOPROTO unsupported protocol version")
    );
    assert_eq!(
        c.q("HELLO 1"),
        Reply::err("NOPROTO unsupported protocol version")
    );
    assert_eq!(
        c.q("HELLO x"),
        Reply::err("ERR Protocol version is not an integer or out of range")
    );
    assert_eq!(
        c.q("HELLO 3 FOO"),
        Reply::err("ERR Syntax error in HELLO option 'FOO'")
    );
    assert!(
        matches!(c.q("PING"), Reply::Simple(_)),
        "failed HELLO must not switch protocol"
    );

    assert!(matches!(c.q("HELLO 3 SETNAME myname"), Reply::Map(_)));
    assert_eq!(c.q("CLIENT GETNAME"), Reply::bulk("myname"));
    assert_eq!(
        c.cmd(&["HELLO", "3", "SETNAME", "a b"]),
        Reply::err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
}

#[test]
fn select_quit_reset() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("SELECT 15"), Reply::ok());
    assert_eq!(c.q("SELECT 16"), Reply::err("ERR DB index is out of range"));
    c.q("SET k v");
    c.q("CLIENT SETNAME named");
    c.q("HELLO 3");
    assert_eq!(c.q("RESET"), Reply::simple("RESET"));
    assert_eq!(c.q("GET k"), Reply::NilBulk, "RESET selects db 0 and RESP2");
    assert_eq!(c.q("CLIENT GETNAME"), Reply::NilBulk);
    c.q("SELECT 15");
    assert_eq!(c.q("GET k"), Reply::bulk("v"));

    assert_eq!(c.q("QUIT"), Reply::ok());
    assert!(c.is_closed(), "QUIT closes the connection");
    assert_eq!(s.conn().q("PING"), Reply::simple("PONG"));
}

#[test]
fn auth_with_requirepass() {
    let s = Server::start(&["--requirepass", "s3cret"]);
    let mut c = s.conn();
    let noauth = Reply::err("NOAUTH Authentication required.");
    assert_eq!(c.q("GET k"), noauth);
    assert_eq!(c.q("SET k v"), noauth);
    assert_eq!(
        c.q("AUTH wrong"),
        Reply::err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(
        c.q("AUTH default wrong"),
        Reply::err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(c.q("GET k"), noauth);
    // 7.0 and 7.2 word the hint differently ("HELLO AUTH" vs "HELLO <proto> AUTH").
    let hello = c.q("HELLO 3").error();
    assert!(
        hello.starts_with("NOAUTH HELLO must be called with the client already authenticated"),
        "{hello}"
    );
    assert_eq!(c.q("AUTH s3cret"), Reply::ok());
    assert_eq!(c.q("SET k v"), Reply::ok());

    let mut d = s.conn();
    assert_eq!(
        d.q("HELLO 3 AUTH default wrong"),
        Reply::err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    let hello = d.q("HELLO 3 AUTH default s3cret SETNAME x");
    assert!(matches!(hello, Reply::Map(_)), "{hello:?}");
    assert_eq!(d.q("GET k"), Reply::bulk("v"));
    assert_eq!(d.q("CLIENT GETNAME"), Reply::bulk("x"));

    let mut e = s.conn();
    assert_eq!(e.q("AUTH default s3cret"), Reply::ok());
    assert_eq!(e.q("GET k"), Reply::bulk("v"));
    // RESET makes the connection unauthenticated again.
    assert_eq!(e.q("RESET"), Reply::simple("RESET"));
    assert_eq!(e.q("GET k"), noauth);

    // The redis crate authenticates from the URL.
    let client = redis::Client::open(format!("redis://:s3cret@127.0.0.1:{}/", s.port())).unwrap();
    let mut con = client.get_connection().unwrap();
    let v: String = redis::cmd("GET").arg("k").query(&mut con).unwrap();
    assert_eq!(v, "v");
}

#[test]
fn auth_without_requirepass() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        c.q("AUTH x"),
        Reply::err(
            "ERR AUTH <password> called without any password configured for the default user. \
             Are you sure your configuration is correct?"
        )
    );
    assert_eq!(
        c.q("AUTH a b"),
        Reply::err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(
        c.q("AUTH"),
        Reply::err("ERR wrong number of arguments for 'auth' command")
    );
}

#[test]
fn client_id_names_list_info() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut other = s.conn();
    let id = c.q("CLIENT ID").int();
    let id2 = other.q("CLIENT ID").int();
    // Ids are unique and positive; with several shards accepting in parallel, two clients that
    // connect back to back may be numbered in either order.
    assert!(id > 0 && id2 > 0 && id2 != id, "ids unique: {id} {id2}");

    assert_eq!(c.q("CLIENT GETNAME"), Reply::NilBulk);
    assert_eq!(c.q("CLIENT SETNAME alpha"), Reply::ok());
    assert_eq!(c.q("CLIENT GETNAME"), Reply::bulk("alpha"));
    let bad = Reply::err("ERR Client names cannot contain spaces, newlines or special characters.");
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "a b"]), bad);
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "a\nb"]), bad);
    assert_eq!(c.q("CLIENT GETNAME"), Reply::bulk("alpha"));
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", ""]), Reply::ok());
    assert_eq!(c.q("CLIENT GETNAME"), Reply::NilBulk);
    c.q("CLIENT SETNAME alpha");

    let info = c.q("CLIENT INFO");
    let Reply::Bulk(info) = info else {
        panic!("CLIENT INFO is a bulk string: {info:?}")
    };
    let info = String::from_utf8_lossy(&info).into_owned();
    assert!(info.ends_with('\n'), "{info:?}");
    let fields = fields(&info);
    assert_eq!(field(&fields, "id"), id.to_string());
    assert_eq!(field(&fields, "name"), "alpha");
    assert_eq!(field(&fields, "db"), "0");
    assert_eq!(field(&fields, "resp"), "2");
    assert_eq!(field(&fields, "laddr"), format!("127.0.0.1:{}", s.port()));
    assert_eq!(field(&fields, "cmd"), "client|info");
    assert!(field(&fields, "addr").starts_with("127.0.0.1:"));

    let list = c.q("CLIENT LIST").text();
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(lines.iter().any(|l| l.starts_with(&format!("id={id} "))));
    assert!(lines.iter().any(|l| l.starts_with(&format!("id={id2} "))));
    let only = c.cmd(&["CLIENT", "LIST", "ID", &id2.to_string()]).text();
    assert_eq!(only.lines().count(), 1);
    assert!(only.starts_with(&format!("id={id2} ")));
    assert_eq!(c.q("CLIENT LIST ID 999999"), Reply::bulk(""));
    assert_eq!(
        c.q("CLIENT FOO"),
        Reply::err("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")
    );
}

#[test]
fn client_kill() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut victim = s.conn();
    let mut victim2 = s.conn();
    let vid = victim.q("CLIENT ID").int();
    let v2addr = field(&fields(&victim2.q("CLIENT INFO").text()), "addr").to_string();

    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "ID", &vid.to_string()]),
        Reply::Int(1)
    );
    assert!(victim.is_closed(), "killed client is disconnected");
    assert_eq!(c.q("CLIENT KILL ID 999999"), Reply::Int(0));
    assert_eq!(
        c.q("CLIENT KILL 127.0.0.1:1"),
        Reply::err("ERR No such client")
    );
    assert_eq!(c.cmd(&["CLIENT", "KILL", &v2addr]), Reply::ok());
    assert!(victim2.is_closed());
    assert_eq!(c.q("CLIENT KILL ADDR 1.2.3.4:5"), Reply::Int(0));
    assert_eq!(
        c.q("CLIENT KILL ID x"),
        Reply::err("ERR client-id should be greater than 0")
    );
    assert_eq!(c.q("PING"), Reply::simple("PONG"));
    // By default a client does not kill itself with a filter that matches everyone except
    // it: SKIPME defaults to yes.
    let me = c.q("CLIENT ID").int();
    let mut third = s.conn();
    third.q("PING");
    assert_eq!(c.q("CLIENT KILL ADDR 0.0.0.0:0 SKIPME yes"), Reply::Int(0));
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "ID", &me.to_string(), "SKIPME", "yes"]),
        Reply::Int(0)
    );
    assert_eq!(c.q("PING"), Reply::simple("PONG"));
}

#[test]
fn client_flags_and_setinfo() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("CLIENT NO-EVICT ON"), Reply::ok());
    assert_eq!(c.q("CLIENT NO-EVICT off"), Reply::ok());
    assert_eq!(c.q("CLIENT NO-EVICT maybe"), Reply::err("ERR syntax error"));
    if is_reference() {
        // The reference redis-server on this machine is 7.0, which predates SETINFO/NO-TOUCH.
        return;
    }
    assert_eq!(c.q("CLIENT NO-TOUCH ON"), Reply::ok());
    assert_eq!(c.q("CLIENT NO-TOUCH OFF"), Reply::ok());
    assert_eq!(c.q("CLIENT NO-TOUCH maybe"), Reply::err("ERR syntax error"));
    assert_eq!(c.q("CLIENT SETINFO LIB-NAME mylib"), Reply::ok());
    assert_eq!(c.q("CLIENT SETINFO lib-ver 1.2.3"), Reply::ok());
    let info = c.q("CLIENT INFO").text();
    let f = fields(&info);
    assert_eq!(field(&f, "lib-name"), "mylib");
    assert_eq!(field(&f, "lib-ver"), "1.2.3");
    assert!(matches!(c.q("CLIENT SETINFO FOO x"), Reply::Error(_)));
    assert!(matches!(
        c.cmd(&["CLIENT", "SETINFO", "LIB-NAME", "a b"]),
        Reply::Error(_)
    ));
}

fn fields(line: &str) -> Vec<(String, String)> {
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {fields:?}"))
}
