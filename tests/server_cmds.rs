//! Server-level commands end to end: INFO sections and their Redis field names, CONFIG
//! GET (glob patterns) / SET / RESETSTAT, TIME, COMMAND COUNT/INFO/DOCS/GETKEYS, DEBUG SLEEP,
//! and the exact unknown-command error text.

mod common;

use common::{Reply, Server, field, info_fields, is_reference};

fn info_get(fields: &[(String, String)], name: &str) -> String {
    field(fields, name).to_string()
}

#[test]
fn info_sections() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut other = s.conn();
    other.q("PING");
    c.q("MSET a 1 b 2 c 3");
    c.q("EXPIRE a 100");

    let all = c.q("INFO").text();
    for section in ["# Server", "# Clients", "# Memory", "# Stats", "# Keyspace"] {
        assert!(all.contains(section), "INFO lacks {section}");
    }
    assert!(all.contains("\r\n"), "INFO lines end in CRLF");
    let f = info_fields(&all);
    assert!(info_get(&f, "redis_version").starts_with('7'));
    assert_eq!(info_get(&f, "tcp_port"), s.port().to_string());
    // The harness's readiness probe may still be closing, so allow it a moment to go.
    let two = common::wait_until(std::time::Duration::from_secs(5), || {
        info_get(
            &info_fields(&c.q("INFO clients").text()),
            "connected_clients",
        ) == "2"
    });
    assert!(two, "connected_clients: {}", c.q("INFO clients").text());
    assert!(info_get(&f, "used_memory").parse::<u64>().unwrap() > 0);
    assert!(
        info_get(&f, "total_commands_processed")
            .parse::<u64>()
            .unwrap()
            >= 3
    );
    assert!(
        info_get(&f, "total_connections_received")
            .parse::<u64>()
            .unwrap()
            >= 2
    );
    assert!(info_get(&f, "uptime_in_seconds").parse::<u64>().is_ok());
    assert!(info_get(&f, "db0").starts_with("keys=3,expires=1,avg_ttl="));

    let server = c.q("INFO server").text();
    assert!(server.starts_with("# Server\r\n"));
    assert!(!server.contains("# Clients"));
    let keyspace = c.q("INFO keyspace").text();
    assert!(keyspace.starts_with("# Keyspace\r\n"));
    let multi = c.q("INFO clients memory").text();
    assert!(
        multi.contains("# Clients") && multi.contains("# Memory") && !multi.contains("# Server")
    );

    let stats = c.q("INFO commandstats").text();
    assert!(stats.starts_with("# Commandstats\r\n"), "{stats}");
    let cf = info_fields(&stats);
    assert!(
        info_get(&cf, "cmdstat_mset").starts_with("calls=1,usec="),
        "{stats}"
    );
    assert!(
        !c.q("INFO").text().contains("# Commandstats"),
        "commandstats is not a default section"
    );
    assert!(c.q("INFO everything").text().contains("# Commandstats"));
}

#[test]
fn config_get_set_resetstat() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        c.q("CONFIG GET maxmemory"),
        Reply::bulks(&["maxmemory", "0"])
    );
    assert_eq!(
        c.q("CONFIG GET port").pairs()[0].1,
        Reply::bulk(s.port().to_string())
    );
    assert_eq!(c.q("CONFIG GET nosuchparam"), Reply::Array(vec![]));
    let many = c.q("CONFIG GET *").pairs();
    assert!(many.len() > 10);
    assert!(many.iter().any(|(k, _)| k == "maxmemory"));
    assert!(many.iter().any(|(k, _)| k == "hz"));
    let globbed = c.q("CONFIG GET max*").pairs();
    assert!(!globbed.is_empty() && globbed.iter().all(|(k, _)| k.starts_with("max")));
    let two = c.q("CONFIG GET maxmemory hz").pairs();
    assert_eq!(two.len(), 2);

    assert_eq!(c.q("CONFIG SET hz 50"), Reply::ok());
    assert_eq!(c.q("CONFIG GET hz"), Reply::bulks(&["hz", "50"]));
    assert_eq!(c.q("CONFIG SET maxmemory 100mb"), Reply::ok());
    assert_eq!(
        c.q("CONFIG GET maxmemory"),
        Reply::bulks(&["maxmemory", "104857600"])
    );
    assert_eq!(c.q("CONFIG SET maxmemory 0"), Reply::ok());
    assert!(
        c.q("CONFIG SET immutable-by-design bar")
            .error()
            .starts_with("ERR Unknown option")
    );
    assert_eq!(c.q("CONFIG SET timeout 300"), Reply::ok());
    assert_eq!(c.q("CONFIG GET timeout"), Reply::bulks(&["timeout", "300"]));
    assert_eq!(
        c.q("CONFIG SET foo bar"),
        Reply::err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'")
    );
    assert!(
        c.q("CONFIG SET hz notanumber")
            .error()
            .starts_with("ERR CONFIG SET failed")
    );

    c.q("SET a 1");
    assert_eq!(c.q("CONFIG RESETSTAT"), Reply::ok());
    let stats = c.q("INFO commandstats").text();
    assert!(
        !stats.contains("cmdstat_set"),
        "RESETSTAT clears command stats: {stats}"
    );
}

#[test]
fn time_and_debug_sleep() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let t = c.q("TIME").items();
    assert_eq!(t.len(), 2);
    let secs: u64 = t[0].text().parse().unwrap();
    let usecs: u64 = t[1].text().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff(now) <= 5);
    assert!(usecs < 1_000_000);
    if !is_reference() {
        // redis-server 7 refuses DEBUG unless enable-debug-command is set; moon allows it.
        assert_eq!(c.q("DEBUG SLEEP 0"), Reply::ok());
    }
}

#[test]
fn command_introspection() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let count = c.q("COMMAND COUNT").int();
    assert!(count >= 40, "COMMAND COUNT {count}");

    let info = c.q("COMMAND INFO get set nosuch").items();
    assert_eq!(info.len(), 3);
    let get = info[0].items();
    assert_eq!(get[0], Reply::bulk("get"));
    assert_eq!(get[1], Reply::Int(2), "arity");
    assert_eq!((get[3].int(), get[4].int(), get[5].int()), (1, 1, 1));
    assert_eq!(info[1].items()[1], Reply::Int(-3));
    assert_eq!(info[2], Reply::NilBulk);

    let docs = c.q("COMMAND DOCS get").pairs();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].0, "get");
    let summary = docs[0].1.field("summary").text();
    assert!(!summary.is_empty());

    assert_eq!(c.q("COMMAND GETKEYS SET a b"), Reply::bulks(&["a"]));
    assert_eq!(
        c.q("COMMAND GETKEYS MSET a 1 b 2"),
        Reply::bulks(&["a", "b"])
    );
    assert_eq!(
        c.q("COMMAND GETKEYS DEL x y z"),
        Reply::bulks(&["x", "y", "z"])
    );
    assert_eq!(
        c.q("COMMAND GETKEYS FOO a"),
        Reply::err("ERR Invalid command specified")
    );
    assert_eq!(
        c.q("COMMAND GETKEYS GET a b"),
        Reply::err("ERR Invalid number of arguments specified for command")
    );
    assert!(c.q("COMMAND").items().len() as i64 == count);
}

#[test]
fn unknown_command_text() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        c.q("foo a b"),
        Reply::err("ERR unknown command 'foo', with args beginning with: 'a' 'b' ")
    );
    assert_eq!(
        c.q("FOO"),
        Reply::err("ERR unknown command 'FOO', with args beginning with: ")
    );
    assert_eq!(
        c.q("CONFIG FOO"),
        Reply::err("ERR unknown subcommand 'FOO'. Try CONFIG HELP.")
    );
    assert_eq!(c.q("PING"), Reply::simple("PONG"));
}
