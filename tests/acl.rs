//! Access control end to end: ACL SETUSER rules (passwords, on/off, commands, subcommands,
//! categories, key patterns with %R/%W, channels, reset forms, selectors), every ACL
//! subcommand's reply shape, AUTH and HELLO AUTH, the NOAUTH/WRONGPASS/NOPERM texts, ACL LOG,
//! DELUSER disconnecting, aclfile SAVE/LOAD, requirepass, MULTI and script checks, and
//! protected mode. Texts are redis-server 7.0.15's.

mod common;

use std::time::Duration;

use common::{Conn, Reply, Server, is_reference};

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
const NOPERM_KEY: &str =
    "NOPERM this user has no permissions to access one of the keys used as arguments";
const NOPERM_CHANNEL: &str =
    "NOPERM this user has no permissions to access one of the channels used as arguments";

fn noperm_cmd(name: &str) -> Reply {
    Reply::err(&format!(
        "NOPERM this user has no permissions to run the '{name}' command"
    ))
}

fn start() -> Server {
    Server::start(&["--shards", "2"])
}

/// A connection authenticated as `user`.
fn login(s: &Server, user: &str, pass: &str) -> Conn {
    let mut c = s.conn();
    assert_eq!(c.cmd(&["AUTH", user, pass]), Reply::ok());
    c
}

#[test]
fn passwords_and_on_off() {
    let s = start();
    let mut admin = s.conn();
    assert_eq!(admin.q("ACL SETUSER u on >p1 >p2 +@all ~*"), Reply::ok());
    assert_eq!(s.conn().q("AUTH u p1"), Reply::ok());
    assert_eq!(s.conn().q("AUTH u p2"), Reply::ok());
    assert_eq!(s.conn().q("AUTH u nope"), Reply::err(WRONGPASS));
    assert_eq!(s.conn().q("AUTH nosuch p1"), Reply::err(WRONGPASS));
    // <pass removes one, #hash adds by digest, !hash removes by digest.
    let h = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"; // sha256("x")
    assert_eq!(
        admin.cmd(&["ACL", "SETUSER", "u", "<p2", &format!("#{h}")]),
        Reply::ok()
    );
    assert_eq!(s.conn().q("AUTH u p2"), Reply::err(WRONGPASS));
    assert_eq!(s.conn().q("AUTH u x"), Reply::ok());
    assert_eq!(
        admin.cmd(&["ACL", "SETUSER", "u", &format!("!{h}")]),
        Reply::ok()
    );
    assert_eq!(s.conn().q("AUTH u x"), Reply::err(WRONGPASS));
    // nopass accepts anything; resetpass accepts nothing.
    assert_eq!(admin.q("ACL SETUSER u nopass"), Reply::ok());
    assert_eq!(s.conn().q("AUTH u whatever"), Reply::ok());
    assert_eq!(admin.q("ACL SETUSER u resetpass"), Reply::ok());
    assert_eq!(s.conn().q("AUTH u whatever"), Reply::err(WRONGPASS));
    // off refuses new logins; existing connections keep working, as in Redis.
    assert_eq!(admin.q("ACL SETUSER u >p on"), Reply::ok());
    let mut kept = login(&s, "u", "p");
    assert_eq!(admin.q("ACL SETUSER u off"), Reply::ok());
    assert_eq!(s.conn().q("AUTH u p"), Reply::err(WRONGPASS));
    assert_eq!(kept.q("PING"), Reply::simple("PONG"));
    // Rule errors.
    let cases = [
        (
            "#abc",
            "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
        ),
        (
            "<zz",
            "The password you are trying to remove from the user does not exist",
        ),
        ("+nosuch", "Unknown command or category name in ACL"),
        ("+@nosuch", "Unknown command or category name in ACL"),
        ("+config|", "Syntax error"),
        ("+config|nosuch", "Unknown command or category name in ACL"),
        ("bogus", "Syntax error"),
        ("%X~a", "Syntax error"),
    ];
    for (rule, text) in cases {
        assert_eq!(
            admin.cmd(&["ACL", "SETUSER", "e", rule]),
            Reply::err(&format!(
                "ERR Error in ACL SETUSER modifier '{rule}': {text}"
            )),
            "{rule}"
        );
    }
    // Redis checks `allkeys` before parsing a pattern's flags.
    assert_eq!(
        admin.q("ACL SETUSER u %X~a"),
        Reply::err(
            "ERR Error in ACL SETUSER modifier '%X~a': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
        )
    );
    assert_eq!(
        admin.q("ACL SETUSER u ~* ~a"),
        Reply::err(
            "ERR Error in ACL SETUSER modifier '~a': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
        )
    );
    assert_eq!(
        admin.q("ACL SETUSER u &* &a"),
        Reply::err(
            "ERR Error in ACL SETUSER modifier '&a': Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
        )
    );
    assert_eq!(
        admin.q("ACL SETUSER u (~a +get"),
        Reply::err("ERR Unmatched parenthesis in acl selector starting at '(~a'.")
    );
    assert_eq!(
        admin.cmd(&["ACL", "SETUSER", "a b"]),
        Reply::err("ERR Usernames can't contain spaces or null characters")
    );
    // A failed SETUSER changes nothing (the user is not even created).
    assert_eq!(
        admin.q("ACL SETUSER fresh on bogus"),
        Reply::err("ERR Error in ACL SETUSER modifier 'bogus': Syntax error")
    );
    assert!(admin.q("ACL GETUSER fresh").is_nil());
}

#[test]
fn command_key_and_channel_permissions() {
    let s = start();
    let mut admin = s.conn();
    assert_eq!(
        admin.q("ACL SETUSER u on >p %R~r* %W~w* ~k* &ch* -@all +@read +@write +@pubsub -get +config|get"),
        Reply::ok()
    );
    let mut u = login(&s, "u", "p");
    // Commands, subcommands, categories.
    assert_eq!(u.q("GET k1"), noperm_cmd("get"));
    assert_eq!(u.q("CONFIG SET timeout 0"), noperm_cmd("config|set"));
    assert_eq!(u.q("CONFIG GET timeout").pairs().len(), 1);
    assert_eq!(u.q("CLIENT ID"), noperm_cmd("client|id"));
    assert_eq!(u.q("SET k1 v"), Reply::ok());
    assert_eq!(u.q("STRLEN k1"), Reply::Int(1));
    // Unknown commands and arity errors come before the permission check.
    assert_eq!(
        u.q("GET"),
        Reply::err("ERR wrong number of arguments for 'get' command")
    );
    // %R: read only; %W: write only.
    assert_eq!(admin.q("SET r1 v"), Reply::ok());
    assert_eq!(u.q("STRLEN r1"), Reply::Int(1));
    assert_eq!(u.q("SET r1 v"), Reply::err(NOPERM_KEY));
    assert_eq!(u.q("LPUSH w1 a"), Reply::Int(1));
    // LLEN's key spec has no ACCESS flag: any matching pattern will do, as in Redis.
    assert_eq!(u.q("LLEN w1"), Reply::Int(1));
    assert_eq!(u.q("LRANGE w1 0 -1"), Reply::err(NOPERM_KEY));
    assert_eq!(u.q("MSET k2 v zz v"), Reply::err(NOPERM_KEY));
    // Channels: PUBLISH and SUBSCRIBE match patterns; PSUBSCRIBE patterns compare literally.
    assert_eq!(u.q("PUBLISH ch1 m"), Reply::Int(0));
    assert_eq!(u.q("PUBLISH other m"), Reply::err(NOPERM_CHANNEL));
    assert_eq!(u.q("SUBSCRIBE other"), Reply::err(NOPERM_CHANNEL));
    assert_eq!(u.q("PSUBSCRIBE ch1*"), Reply::err(NOPERM_CHANNEL));
    let r = u.q("PSUBSCRIBE ch*");
    assert_eq!(r.items()[1], Reply::bulk("ch*"));
    // Changes apply to the existing connection at once.
    assert_eq!(admin.q("ACL SETUSER u +get"), Reply::ok());
    let mut u = login(&s, "u", "p");
    assert_eq!(u.q("GET k1"), Reply::bulk("v"));
    assert_eq!(admin.q("ACL SETUSER u allkeys"), Reply::ok());
    assert_eq!(u.q("SET r1 w"), Reply::ok());
    assert_eq!(admin.q("ACL SETUSER u resetkeys ~k*"), Reply::ok());
    assert_eq!(u.q("GET r1"), Reply::err(NOPERM_KEY));
    assert_eq!(admin.q("ACL SETUSER u allchannels"), Reply::ok());
    assert_eq!(u.q("PUBLISH other m"), Reply::Int(0));
    assert_eq!(admin.q("ACL SETUSER u resetchannels"), Reply::ok());
    assert_eq!(u.q("PUBLISH ch1 m"), Reply::err(NOPERM_CHANNEL));
    assert_eq!(admin.q("ACL SETUSER u nocommands"), Reply::ok());
    assert_eq!(u.q("GET k1"), noperm_cmd("get"));
    assert_eq!(admin.q("ACL SETUSER u allcommands"), Reply::ok());
    assert_eq!(u.q("GET k1"), Reply::bulk("v"));
    assert_eq!(admin.q("ACL SETUSER u -@string"), Reply::ok());
    assert_eq!(u.q("GET k1"), noperm_cmd("get"));
    assert!(u.q("DBSIZE").int() >= 1);
    // reset: off, no passwords, nothing allowed.
    assert_eq!(admin.q("ACL SETUSER u reset"), Reply::ok());
    assert_eq!(u.q("DBSIZE"), noperm_cmd("dbsize"));
    assert_eq!(
        admin.q("ACL LIST").items()[1],
        Reply::bulk("user u off sanitize-payload resetchannels -@all")
    );
    // Selectors: the root denies, a selector allows GET on x*.
    assert_eq!(admin.q("ACL SETUSER u on nopass (~x* +get)"), Reply::ok());
    assert_eq!(u.q("GET x1"), Reply::NilBulk);
    assert_eq!(u.q("GET k1"), Reply::err(NOPERM_KEY));
    assert_eq!(u.q("SET x1 v"), noperm_cmd("set"));
    assert_eq!(admin.q("ACL SETUSER u clearselectors"), Reply::ok());
    assert_eq!(u.q("GET x1"), noperm_cmd("get"));
}

#[test]
fn revoking_channels_disconnects_subscribers() {
    let s = start();
    let mut admin = s.conn();
    assert_eq!(
        admin.q("ACL SETUSER p on nopass +@all ~* &news.*"),
        Reply::ok()
    );
    let mut sub = login(&s, "p", "x");
    assert_eq!(sub.q("SUBSCRIBE news.a").items()[2], Reply::Int(1));
    let mut psub = login(&s, "p", "x");
    assert_eq!(psub.q("PSUBSCRIBE news.*").items()[2], Reply::Int(1));
    let mut idle = login(&s, "p", "x");
    // Still allowed: nobody is disconnected.
    assert_eq!(admin.q("ACL SETUSER p &other"), Reply::ok());
    assert_eq!(admin.q("PUBLISH news.a hi"), Reply::Int(2));
    assert_eq!(sub.read().items()[2], Reply::bulk("hi"));
    assert_eq!(psub.read().items()[3], Reply::bulk("hi"));
    // Narrowed: subscribers to channels no longer allowed go; other clients stay.
    assert_eq!(admin.q("ACL SETUSER p resetchannels &news.a"), Reply::ok());
    assert!(psub.is_closed(), "the pattern news.* is no longer allowed");
    assert_eq!(idle.q("PING"), Reply::simple("PONG"));
    assert_eq!(admin.q("ACL SETUSER p resetchannels"), Reply::ok());
    assert!(sub.is_closed());
    assert_eq!(idle.q("PING"), Reply::simple("PONG"));
}

#[test]
fn acl_subcommand_replies() {
    let s = start();
    let mut c = s.conn();
    assert_eq!(c.q("ACL WHOAMI"), Reply::bulk("default"));
    assert_eq!(c.q("ACL USERS"), Reply::bulks(&["default"]));
    assert_eq!(
        c.q("ACL LIST"),
        Reply::bulks(&["user default on nopass ~* &* +@all"])
    );
    assert_eq!(
        c.q("ACL SETUSER u1 on >p1 %R~r* ~k* &ch* -@all +@read -get +set +config|get"),
        Reply::ok()
    );
    assert_eq!(c.q("ACL USERS"), Reply::bulks(&["default", "u1"]));
    let list = c.q("ACL LIST").items();
    assert_eq!(
        list[1],
        Reply::bulk(
            "user u1 on #f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a %R~r* ~k* resetchannels &ch* -@all +@read +config|get -get +set"
        )
    );
    // GETUSER: Redis 7's map (flags is a set in RESP3).
    c.q("HELLO 3");
    let u = c.q("ACL GETUSER u1");
    let names: Vec<String> = u.pairs().into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "flags",
            "passwords",
            "commands",
            "keys",
            "channels",
            "selectors"
        ]
    );
    assert_eq!(u.field("flags"), Reply::Set(vec![Reply::bulk("on")]));
    assert_eq!(
        u.field("passwords"),
        Reply::bulks(&["f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a"])
    );
    assert_eq!(
        u.field("commands"),
        Reply::bulk("-@all +@read +config|get -get +set")
    );
    assert_eq!(u.field("keys"), Reply::bulk("%R~r* ~k*"));
    assert_eq!(u.field("channels"), Reply::bulk("&ch*"));
    assert_eq!(u.field("selectors"), Reply::Array(vec![]));
    assert_eq!(c.q("ACL SETUSER u1 (~x* +get)"), Reply::ok());
    let sel = c.q("ACL GETUSER u1").field("selectors").items()[0].clone();
    assert_eq!(sel.field("commands"), Reply::bulk("-@all +get"));
    assert_eq!(sel.field("keys"), Reply::bulk("~x*"));
    assert_eq!(sel.field("channels"), Reply::bulk(""));
    assert!(c.q("ACL GETUSER nosuch").is_nil());
    c.q("HELLO 2");
    // CAT.
    let cats = c.q("ACL CAT").items();
    assert_eq!(cats.len(), 21);
    assert_eq!(cats[0], Reply::bulk("keyspace"));
    assert_eq!(cats[20], Reply::bulk("scripting"));
    let conn_cmds = c.q("ACL CAT connection").items();
    for name in ["ping", "auth", "client|id", "hello", "select"] {
        assert!(conn_cmds.contains(&Reply::bulk(name)), "{name}");
    }
    assert!(!conn_cmds.contains(&Reply::bulk("get")));
    assert_eq!(
        c.q("ACL CAT nosuch"),
        Reply::err("ERR Unknown category 'nosuch'")
    );
    // GENPASS.
    let p = c.q("ACL GENPASS").text();
    assert_eq!(p.len(), 64);
    assert!(p.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(c.q("ACL GENPASS 5").text().len(), 2);
    assert_eq!(
        c.q("ACL GENPASS 0"),
        Reply::err(
            "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"
        )
    );
    // DRYRUN.
    assert_eq!(c.q("ACL DRYRUN u1 set k1 v"), Reply::ok());
    assert_eq!(
        c.q("ACL DRYRUN u1 get k1"),
        Reply::bulk("This user has no permissions to access the 'k1' key")
    );
    assert_eq!(
        c.q("ACL DRYRUN u1 set rx 1"),
        Reply::bulk("This user has no permissions to access the 'rx' key")
    );
    assert_eq!(
        c.q("ACL DRYRUN u1 config set a b"),
        Reply::bulk("This user has no permissions to run the 'config|set' command")
    );
    assert_eq!(
        c.q("ACL DRYRUN nosuch get x"),
        Reply::err("ERR User 'nosuch' not found")
    );
    assert_eq!(
        c.q("ACL DRYRUN u1 nosuchcmd"),
        Reply::err("ERR Command 'nosuchcmd' not found")
    );
    assert_eq!(
        c.q("ACL DRYRUN u1 get"),
        Reply::err("ERR wrong number of arguments for 'get' command")
    );
    // DELUSER.
    assert_eq!(c.q("ACL DELUSER nosuch"), Reply::Int(0));
    assert_eq!(
        c.q("ACL DELUSER default"),
        Reply::err("ERR The 'default' user cannot be removed")
    );
    // SAVE / LOAD without an aclfile.
    let no_file = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";
    assert_eq!(c.q("ACL SAVE"), Reply::err(no_file));
    assert_eq!(c.q("ACL LOAD"), Reply::err(no_file));
    // HELP and syntax errors.
    let help = c.q("ACL HELP").items();
    assert_eq!(
        help[0],
        Reply::simple("ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
    );
    assert_eq!(help.last(), Some(&Reply::simple("    Prints this help.")));
    assert_eq!(
        c.q("ACL CAT a b"),
        Reply::err("ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP.")
    );
    assert_eq!(
        c.q("ACL WHOAMI x"),
        Reply::err("ERR wrong number of arguments for 'acl|whoami' command")
    );
    assert_eq!(
        c.q("ACL nosuch"),
        Reply::err("ERR unknown subcommand 'nosuch'. Try ACL HELP.")
    );
    // CLIENT LIST shows the user; CLIENT KILL USER kills by user.
    assert_eq!(c.q("ACL SETUSER u2 on nopass +@all"), Reply::ok());
    let mut u2 = login(&s, "u2", "x");
    assert_eq!(u2.q("ACL WHOAMI"), Reply::bulk("u2"));
    let info = u2.q("CLIENT INFO").text();
    assert!(info.contains(" user=u2 "), "{info}");
    assert_eq!(c.q("CLIENT KILL USER u2"), Reply::Int(1));
    assert!(u2.is_closed());
    assert_eq!(
        c.q("CLIENT KILL USER nosuch"),
        Reply::err("ERR No such user 'nosuch'")
    );
}

#[test]
fn auth_hello_and_requirepass() {
    let s = Server::start(&["--shards", "2", "--requirepass", "secret"]);
    let mut c = s.conn();
    assert_eq!(c.q("GET k"), Reply::err("NOAUTH Authentication required."));
    assert_eq!(c.q("AUTH wrong"), Reply::err(WRONGPASS));
    assert_eq!(c.q("AUTH default wrong"), Reply::err(WRONGPASS));
    assert_eq!(c.q("AUTH secret"), Reply::ok());
    assert_eq!(c.q("ACL WHOAMI"), Reply::bulk("default"));
    assert_eq!(
        c.q("ACL LIST").items()[0],
        Reply::bulk(
            "user default on #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ~* &* +@all"
        )
    );
    // HELLO AUTH with an ACL user.
    assert_eq!(c.q("ACL SETUSER h on >hp +@all ~*"), Reply::ok());
    let mut h = s.conn();
    assert_eq!(h.q("HELLO 3 AUTH h wrong"), Reply::err(WRONGPASS));
    let hello = h.q("HELLO 3 AUTH h hp");
    assert_eq!(hello.field("proto"), Reply::Int(3));
    assert_eq!(h.q("ACL WHOAMI"), Reply::bulk("h"));
    // RESET goes back to the default user, unauthenticated under requirepass.
    assert_eq!(h.q("RESET"), Reply::simple("RESET"));
    assert_eq!(h.q("GET k"), Reply::err("NOAUTH Authentication required."));
    // CONFIG SET requirepass changes the default user's password.
    assert_eq!(c.q("CONFIG SET requirepass other"), Reply::ok());
    assert_eq!(s.conn().q("AUTH secret"), Reply::err(WRONGPASS));
    assert_eq!(s.conn().q("AUTH other"), Reply::ok());
    assert_eq!(
        c.q("CONFIG SET requirepass"),
        Reply::err("ERR wrong number of arguments for 'config|set' command")
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "requirepass", ""]), Reply::ok());
    assert_eq!(s.conn().q("GET k"), Reply::NilBulk);
    assert_eq!(
        s.conn().q("AUTH x"),
        Reply::err(
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
        )
    );
    // Through the redis crate too.
    let mut rc = redis::Client::open(format!("redis://h:hp@127.0.0.1:{}/", s.port()))
        .and_then(|cl| cl.get_connection())
        .expect("redis crate login");
    let me: String = redis::cmd("ACL")
        .arg("WHOAMI")
        .query(&mut rc)
        .expect("whoami");
    assert_eq!(me, "h");
    let denied = redis::Client::open(format!("redis://h:bad@127.0.0.1:{}/", s.port()))
        .and_then(|cl| cl.get_connection());
    let e = denied.err().expect("bad password refused");
    assert_eq!(e.kind(), redis::ErrorKind::AuthenticationFailed, "{e}");
}

#[test]
fn acl_log_records_denials_and_failed_auth() {
    let s = start();
    let mut admin = s.conn();
    assert_eq!(admin.q("ACL SETUSER u on >p ~k* +get +auth"), Reply::ok());
    let mut u = login(&s, "u", "p");
    assert_eq!(u.q("SET k v"), noperm_cmd("set"));
    assert_eq!(u.q("GET zz"), Reply::err(NOPERM_KEY));
    assert_eq!(u.q("GET zz"), Reply::err(NOPERM_KEY));
    assert_eq!(s.conn().q("AUTH u bad"), Reply::err(WRONGPASS));
    let log = admin.q("ACL LOG").items();
    assert_eq!(log.len(), 3, "{log:?}");
    let auth = &log[0];
    assert_eq!(auth.field("reason"), Reply::bulk("auth"));
    assert_eq!(auth.field("object"), Reply::bulk("AUTH"));
    assert_eq!(auth.field("username"), Reply::bulk("u"));
    assert_eq!(auth.field("context"), Reply::bulk("toplevel"));
    let key = &log[1];
    assert_eq!(key.field("count"), Reply::Int(2), "similar entries merge");
    assert_eq!(key.field("reason"), Reply::bulk("key"));
    assert_eq!(key.field("object"), Reply::bulk("zz"));
    assert!(key.field("client-info").text().contains("user=u"));
    let cmd = &log[2];
    assert_eq!(cmd.field("reason"), Reply::bulk("command"));
    assert_eq!(cmd.field("object"), Reply::bulk("set"));
    let names: Vec<String> = cmd.pairs().into_iter().map(|(k, _)| k).collect();
    let want: &[&str] = if is_reference() {
        &[
            "count",
            "reason",
            "context",
            "object",
            "username",
            "age-seconds",
            "client-info",
        ]
    } else {
        &[
            "count",
            "reason",
            "context",
            "object",
            "username",
            "age-seconds",
            "client-info",
            "entry-id",
            "timestamp-created",
            "timestamp-last-updated",
        ]
    };
    assert_eq!(names, want);
    assert_eq!(admin.q("ACL LOG 1").items().len(), 1);
    assert_eq!(admin.q("ACL LOG RESET"), Reply::ok());
    assert_eq!(admin.q("ACL LOG"), Reply::Array(vec![]));
    assert_eq!(
        admin.q("ACL LOG x"),
        Reply::err("ERR value is not an integer or out of range")
    );
    // acllog-max-len bounds the log.
    assert_eq!(admin.q("CONFIG SET acllog-max-len 1"), Reply::ok());
    assert_eq!(
        admin.q("CONFIG GET acllog-max-len").pairs()[0].1,
        Reply::bulk("1")
    );
    u.q("SET k v");
    u.q("GET zz");
    assert_eq!(admin.q("ACL LOG").items().len(), 1);
    // A failed HELLO AUTH is logged under HELLO.
    assert_eq!(s.conn().q("HELLO 2 AUTH u bad"), Reply::err(WRONGPASS));
    let entry = admin.q("ACL LOG 1").items()[0].clone();
    assert_eq!(entry.field("object"), Reply::bulk("HELLO"));
    assert_eq!(entry.field("reason"), Reply::bulk("auth"));
}

#[test]
fn deluser_disconnects_its_clients() {
    let s = start();
    let mut admin = s.conn();
    assert_eq!(admin.q("ACL SETUSER a on nopass +@all ~*"), Reply::ok());
    assert_eq!(admin.q("ACL SETUSER b on nopass +@all ~*"), Reply::ok());
    // Several connections, so that both shards hold some.
    let mut victims: Vec<Conn> = (0..4).map(|_| login(&s, "a", "x")).collect();
    let mut survivor = login(&s, "b", "x");
    assert_eq!(admin.q("ACL DELUSER a nosuch"), Reply::Int(1));
    for v in &mut victims {
        assert!(v.is_closed());
    }
    assert_eq!(survivor.q("PING"), Reply::simple("PONG"));
    assert_eq!(s.conn().q("AUTH a x"), Reply::err(WRONGPASS));
    assert_eq!(admin.q("ACL USERS"), Reply::bulks(&["b", "default"]));
}

#[test]
fn aclfile_save_and_load_round_trip() {
    let dir = common::fresh_dir();
    let path = dir.join("users.acl");
    std::fs::write(
        &path,
        "user default on nopass ~* &* +@all\nuser a on >x ~a* +get\n",
    )
    .expect("write aclfile");
    let path_s = path.display().to_string();
    let s = Server::start(&["--shards", "2", "--aclfile", &path_s]);
    let mut c = s.conn();
    assert_eq!(c.q("CONFIG GET aclfile").pairs()[0].1, Reply::bulk(&path_s));
    assert_eq!(
        c.q("ACL LIST"),
        Reply::bulks(&[
            "user a on #2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 ~a* resetchannels -@all +get",
            "user default on nopass ~* &* +@all",
        ])
    );
    assert_eq!(c.q("ACL SETUSER b on >y (~z +set)"), Reply::ok());
    assert_eq!(c.q("ACL SAVE"), Reply::ok());
    let saved = std::fs::read_to_string(&path).expect("read aclfile");
    assert_eq!(
        saved,
        "user a on #2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 ~a* resetchannels -@all +get\n\
         user b on #a1fce4363854ff888cff4b8e7875d600c2682390412a8cf79b37d0b11148b0fa resetchannels -@all (~z resetchannels -@all +set)\n\
         user default on nopass ~* &* +@all\n"
    );
    // LOAD replaces the users (and disconnects the clients of the old ones).
    let mut b = login(&s, "b", "y");
    std::fs::write(&path, "user a off\n").expect("write aclfile");
    assert_eq!(c.q("ACL LOAD"), Reply::ok());
    assert!(b.is_closed());
    assert_eq!(
        c.q("ACL LIST"),
        Reply::bulks(&[
            "user a off resetchannels -@all",
            "user default on nopass ~* &* +@all"
        ])
    );
    // A bad file changes nothing and reports every bad line.
    std::fs::write(&path, "user a on\nuser b bogus\nfoo\nuser c +nosuch\n").expect("write");
    assert_eq!(
        c.q("ACL LOAD"),
        Reply::err(&format!(
            "ERR {path_s}:2: Syntax error. {path_s}:3 should start with user keyword followed by the username. {path_s}:4: Error in applying operation '+nosuch': Unknown command or category name in ACL. WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
        ))
    );
    assert_eq!(c.q("ACL USERS"), Reply::bulks(&["a", "default"]));
    assert_eq!(
        c.q("CONFIG SET aclfile /tmp/x"),
        Reply::err(
            "ERR CONFIG SET failed (possibly related to argument 'aclfile') - can't set immutable config"
        )
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn multi_and_scripts_are_checked() {
    let s = start();
    let mut admin = s.conn();
    assert_eq!(
        admin.q("ACL SETUSER s on >p ~k* &* +@all -set"),
        Reply::ok()
    );
    let mut u = login(&s, "s", "p");
    // Queue-time check: the denied command is refused and EXEC aborts.
    assert_eq!(u.q("MULTI"), Reply::ok());
    assert_eq!(u.q("SET k1 1"), noperm_cmd("set"));
    assert_eq!(u.q("GET k1"), Reply::simple("QUEUED"));
    assert_eq!(
        u.q("EXEC"),
        Reply::err("EXECABORT Transaction discarded because of previous errors.")
    );
    let log = admin.q("ACL LOG 1").items();
    assert_eq!(log[0].field("context"), Reply::bulk("multi"));
    // Permissions changed between queueing and EXEC: the command is refused in place.
    assert_eq!(u.q("MULTI"), Reply::ok());
    assert_eq!(u.q("GET k1"), Reply::simple("QUEUED"));
    assert_eq!(u.q("PING"), Reply::simple("QUEUED"));
    assert_eq!(admin.q("ACL SETUSER s -get"), Reply::ok());
    assert_eq!(
        u.q("EXEC"),
        Reply::Array(vec![
            Reply::err(
                "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand"
            ),
            Reply::simple("PONG"),
        ])
    );
    assert_eq!(admin.q("ACL SETUSER s +get"), Reply::ok());
    // Scripts run as the caller.
    let r = u.cmd(&["EVAL", "return redis.call('set','k1','1')", "1", "k1"]);
    assert!(
        r.error().starts_with(
            "ERR The user executing the script can't run this command or subcommand script:"
        ),
        "{r:?}"
    );
    let r = u.cmd(&["EVAL", "return redis.call('get','zz')", "0"]);
    assert!(
        r.error().starts_with("ERR The user executing the script can't access at least one of the keys mentioned in the command arguments script:"),
        "{r:?}"
    );
    let r = u.cmd(&["EVAL", "return redis.pcall('get','zz')", "0"]);
    assert_eq!(
        r,
        Reply::err(
            "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"
        )
    );
    assert_eq!(
        u.cmd(&["EVAL", "return redis.call('get','k1')", "1", "k1"]),
        Reply::NilBulk
    );
    let log = admin.q("ACL LOG 1").items();
    assert_eq!(log[0].field("context"), Reply::bulk("lua"));
    // A script queued in MULTI runs as the caller too.
    assert_eq!(u.q("MULTI"), Reply::ok());
    assert_eq!(
        u.cmd(&["EVAL", "return redis.pcall('set','k1','1')", "1", "k1"]),
        Reply::simple("QUEUED")
    );
    assert_eq!(
        u.q("EXEC"),
        Reply::Array(vec![Reply::err(
            "ERR The user executing the script can't run this command or subcommand"
        )])
    );
}

/// The machine's first non-loopback IPv4 address, if it has one.
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    // Connecting a UDP socket sends nothing; it only picks the outgoing interface.
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    sock.connect("192.0.2.1:9").ok()?;
    let ip = sock.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// A `moon` bound to every address (the harness always binds loopback), killed on drop.
struct Exposed {
    child: std::process::Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Exposed {
    fn start() -> Exposed {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let dir = common::fresh_dir();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_moon"))
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "0.0.0.0",
                "--shards",
                "2",
            ])
            .args(["--dir", &dir.display().to_string(), "--save", ""])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn moon");
        let up = common::wait_until(Duration::from_secs(15), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "moon did not start");
        Exposed { child, port, dir }
    }

    fn local(&self) -> Conn {
        let s = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Conn::new(s)
    }
}

impl Drop for Exposed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn protected_mode_refuses_remote_clients_without_password() {
    let Some(ip) = non_loopback_ip() else {
        println!("skipped: this machine has no non-loopback address to connect through");
        return;
    };
    if is_reference() {
        println!("skipped: starts moon itself (needs --bind 0.0.0.0)");
        return;
    }
    let s = Exposed::start();
    let remote = || {
        let stream = std::net::TcpStream::connect((ip, s.port)).expect("connect remote");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Conn::new(stream)
    };
    let mut r = remote();
    r.send(&["PING"]);
    assert_eq!(
        r.read(),
        Reply::err(
            "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."
        )
    );
    assert!(r.is_closed());
    // Loopback clients are always welcome.
    let mut local = s.local();
    assert_eq!(local.q("PING"), Reply::simple("PONG"));
    // With a password, or protected mode off, remote clients may connect.
    assert_eq!(local.q("CONFIG SET requirepass pw"), Reply::ok());
    let mut r = remote();
    assert_eq!(r.q("PING"), Reply::err("NOAUTH Authentication required."));
    assert_eq!(local.q("AUTH pw"), Reply::ok());
    assert_eq!(
        local.cmd(&["CONFIG", "SET", "requirepass", ""]),
        Reply::ok()
    );
    assert_eq!(local.q("CONFIG SET protected-mode no"), Reply::ok());
    assert_eq!(
        local.q("CONFIG GET protected-mode").pairs()[0].1,
        Reply::bulk("no")
    );
    let mut r = remote();
    assert_eq!(r.q("PING"), Reply::simple("PONG"));
}
