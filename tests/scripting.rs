//! EVAL/EVALSHA/SCRIPT and FUNCTION/FCALL end to end: Lua ↔ RESP conversions both ways in
//! RESP2 and RESP3, error texts as redis-server 7.0 gives them, the sandbox, atomicity of
//! scripts whose keys live on different shards under concurrent clients, BUSY with SCRIPT
//! KILL / FUNCTION KILL, and functions surviving a restart.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Reply, Server, keys_on_shards};

fn eval(c: &mut common::Conn, script: &str, keys: &[&str], args: &[&str]) -> Reply {
    let mut argv: Vec<String> = vec!["EVAL".into(), script.into(), keys.len().to_string()];
    argv.extend(keys.iter().map(|k| k.to_string()));
    argv.extend(args.iter().map(|a| a.to_string()));
    c.cmd(&argv)
}

fn sha1(s: &str) -> String {
    let mut c = sha1_hex(s.as_bytes());
    c.make_ascii_lowercase();
    c
}

/// SHA1 without a dependency: a small implementation for the test only.
fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bits = (data.len() as u64) * 8;
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([
                chunk[4 * i],
                chunk[4 * i + 1],
                chunk[4 * i + 2],
                chunk[4 * i + 3],
            ]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let (mut a, mut b, mut c, mut d, mut e) = (h[0], h[1], h[2], h[3], h[4]);
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

#[test]
fn lua_values_become_resp2_replies() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    assert_eq!(eval(&mut c, "return 1", &[], &[]), Reply::Int(1));
    assert_eq!(eval(&mut c, "return 3.99", &[], &[]), Reply::Int(3));
    assert_eq!(eval(&mut c, "return -3.99", &[], &[]), Reply::Int(-3));
    assert_eq!(eval(&mut c, "return 'x'", &[], &[]), Reply::bulk("x"));
    assert_eq!(eval(&mut c, "return true", &[], &[]), Reply::Int(1));
    assert_eq!(eval(&mut c, "return false", &[], &[]), Reply::NilBulk);
    assert_eq!(eval(&mut c, "return nil", &[], &[]), Reply::NilBulk);
    assert_eq!(eval(&mut c, "return", &[], &[]), Reply::NilBulk);
    assert_eq!(
        eval(&mut c, "return {1,2,3.7,'x',nil,5}", &[], &[]),
        Reply::Array(vec![
            Reply::Int(1),
            Reply::Int(2),
            Reply::Int(3),
            Reply::bulk("x")
        ])
    );
    assert_eq!(
        eval(&mut c, "return {1,{2,{3}}}", &[], &[]),
        Reply::Array(vec![
            Reply::Int(1),
            Reply::Array(vec![Reply::Int(2), Reply::Array(vec![Reply::Int(3)])])
        ])
    );
    assert_eq!(
        eval(&mut c, "return {err='My Err'}", &[], &[]),
        Reply::err("My Err")
    );
    assert_eq!(
        eval(&mut c, "return {ok='fine'}", &[], &[]),
        Reply::simple("fine")
    );
    assert_eq!(
        eval(&mut c, "return redis.error_reply('boom')", &[], &[]),
        Reply::err("ERR boom")
    );
    assert_eq!(
        eval(&mut c, "return redis.error_reply('E1 boom')", &[], &[]),
        Reply::err("E1 boom")
    );
    assert_eq!(
        eval(&mut c, "return redis.error_reply('-X y')", &[], &[]),
        Reply::err("X y")
    );
    assert_eq!(
        eval(&mut c, "return redis.status_reply('PONG')", &[], &[]),
        Reply::simple("PONG")
    );
    assert_eq!(
        eval(&mut c, "return {1, {err='inner'}}", &[], &[]),
        Reply::Array(vec![Reply::Int(1), Reply::err("inner")])
    );
    assert_eq!(
        eval(&mut c, "return {double=3.5}", &[], &[]),
        Reply::bulk("3.5")
    );
    assert_eq!(
        eval(&mut c, "return {map={a=1}}", &[], &[]),
        Reply::Array(vec![Reply::bulk("a"), Reply::Int(1)])
    );
    assert_eq!(
        eval(&mut c, "return redis.sha1hex('')", &[], &[]),
        Reply::bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709")
    );
    assert_eq!(
        eval(
            &mut c,
            "return {KEYS[1], KEYS[2], ARGV[1], #ARGV}",
            &["k1", "k2"],
            &["a1", "a2"]
        ),
        Reply::Array(vec![
            Reply::bulk("k1"),
            Reply::bulk("k2"),
            Reply::bulk("a1"),
            Reply::Int(2)
        ])
    );
    // Redis replies to Lua values: nil → false under RESP2, status → {ok=}, numbers.
    assert_eq!(
        eval(&mut c, "return type(redis.call('get','nokey'))", &[], &[]),
        Reply::bulk("boolean")
    );
    assert_eq!(
        eval(&mut c, "return redis.call('ping').ok", &[], &[]),
        Reply::bulk("PONG")
    );
    assert_eq!(
        eval(&mut c, "return redis.call('set',KEYS[1],1.5)", &["f"], &[]),
        Reply::ok()
    );
    assert_eq!(
        eval(&mut c, "return redis.call('get',KEYS[1])", &["f"], &[]),
        Reply::bulk("1.5")
    );
    assert_eq!(
        eval(
            &mut c,
            "redis.call('set',KEYS[1],1e20) return redis.call('get',KEYS[1])",
            &["f"],
            &[]
        ),
        Reply::bulk("1e+20")
    );
    c.q("HSET h a 1 b 2");
    assert_eq!(
        eval(&mut c, "return redis.call('hgetall', KEYS[1])", &["h"], &[]),
        Reply::bulks(&["a", "1", "b", "2"])
    );
}

#[test]
fn resp3_conversions_follow_setresp_and_the_client_protocol() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    c.q("HELLO 3");
    c.q("HSET h a 1");
    assert_eq!(
        eval(&mut c, "return {double=3.5}", &[], &[]),
        Reply::Double("3.5".into())
    );
    assert_eq!(
        eval(&mut c, "return {map={a=1}}", &[], &[]),
        Reply::Map(vec![(Reply::bulk("a"), Reply::Int(1))])
    );
    assert_eq!(
        eval(&mut c, "return {set={a=true}}", &[], &[]),
        Reply::Set(vec![Reply::bulk("a")])
    );
    assert_eq!(
        eval(
            &mut c,
            "return {verbatim_string={format='txt', string='hi'}}",
            &[],
            &[]
        ),
        Reply::Verbatim("txt".into(), b"hi".to_vec())
    );
    assert_eq!(eval(&mut c, "return true", &[], &[]), Reply::Int(1));
    assert_eq!(eval(&mut c, "return false", &[], &[]), Reply::Null);
    assert_eq!(
        eval(&mut c, "redis.setresp(3) return true", &[], &[]),
        Reply::Bool(true)
    );
    assert_eq!(
        eval(&mut c, "redis.setresp(3) return false", &[], &[]),
        Reply::Bool(false)
    );
    assert_eq!(
        eval(
            &mut c,
            "redis.setresp(3) return redis.call('hgetall', KEYS[1])",
            &["h"],
            &[]
        ),
        Reply::Map(vec![(Reply::bulk("a"), Reply::bulk("1"))])
    );
    assert_eq!(
        eval(
            &mut c,
            "redis.setresp(3) return type(redis.call('hgetall', KEYS[1]).map)",
            &["h"],
            &[]
        ),
        Reply::bulk("table")
    );
    assert_eq!(
        eval(
            &mut c,
            "redis.setresp(3) return type(redis.call('get','nokey'))",
            &[],
            &[]
        ),
        Reply::bulk("nil")
    );
    c.q("ZADD z 1.5 m");
    assert_eq!(
        eval(
            &mut c,
            "redis.setresp(3) return redis.call('zscore', KEYS[1], 'm').double * 2",
            &["z"],
            &[]
        ),
        Reply::Int(3)
    );
    assert!(
        eval(&mut c, "return redis.setresp(4)", &[], &[])
            .error()
            .starts_with("ERR RESP version must be 2 or 3. script: ")
    );
    // RESP2 client: the same forms downgrade.
    let mut c2 = s.conn();
    assert_eq!(
        eval(&mut c2, "redis.setresp(3) return true", &[], &[]),
        Reply::Int(1)
    );
    assert_eq!(
        eval(&mut c2, "redis.setresp(3) return false", &[], &[]),
        Reply::Int(0)
    );
}

#[test]
fn errors_carry_redis_texts_and_locations() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    c.q("SET s abc");
    let script = "return redis.call('incr',KEYS[1])";
    assert_eq!(
        eval(&mut c, script, &["s"], &[]),
        Reply::err(&format!(
            "ERR value is not an integer or out of range script: {}, on @user_script:1.",
            sha1(script)
        ))
    );
    assert_eq!(
        eval(
            &mut c,
            "local r = redis.pcall('incr',KEYS[1]) return type(r) .. ' ' .. r.err",
            &["s"],
            &[]
        ),
        Reply::bulk("table ERR value is not an integer or out of range")
    );
    let cases = [
        (
            "return nosuch()",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'nosuch'",
        ),
        (
            "a=1",
            "ERR user_script:1: Attempt to modify a readonly table",
        ),
        (
            "return redis.call('nosuch')",
            "ERR Unknown Redis command called from script",
        ),
        (
            "return redis.call('get')",
            "ERR Wrong number of args calling Redis command from script",
        ),
        (
            "return redis.call('blpop','x',0)",
            "ERR This Redis command is not allowed from script",
        ),
        (
            "return redis.call('multi')",
            "ERR This Redis command is not allowed from script",
        ),
        (
            "return redis.call('eval','return 1', 0)",
            "ERR This Redis command is not allowed from script",
        ),
        (
            "return redis.call()",
            "ERR Please specify at least one argument for this redis lib call",
        ),
        (
            "return redis.call({})",
            "ERR Lua redis lib command arguments must be strings or integers",
        ),
        (
            "redis.call('set','k',true)",
            "ERR Lua redis lib command arguments must be strings or integers",
        ),
        ("error('x')", "ERR user_script:1: x"),
        ("error({err='CUSTOM thing'})", "CUSTOM thing"),
        (
            "return os.time()",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'os'",
        ),
        (
            "return io.open('x')",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'io'",
        ),
        (
            "return loadfile('x')",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'loadfile'",
        ),
        (
            "return dofile('x')",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'dofile'",
        ),
        (
            "return require('x')",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'require'",
        ),
        (
            "return debug.getinfo(1)",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'debug'",
        ),
        (
            "_G.x = 1",
            "ERR user_script:1: Attempt to modify a readonly table",
        ),
        (
            "string.foo = 1",
            "ERR user_script:1: Attempt to modify a readonly table",
        ),
        (
            "rawset(_G, 'x', 1)",
            "ERR Attempt to modify a readonly table",
        ),
        (
            "return redis.call('select', 20)",
            "ERR DB index is out of range",
        ),
    ];
    for (script, text) in cases {
        assert_eq!(
            eval(&mut c, script, &[], &[]),
            Reply::err(&format!(
                "{text} script: {}, on @user_script:1.",
                sha1(script)
            )),
            "{script}"
        );
    }
    assert_eq!(
        eval(&mut c, "\n\nerror('deep')", &[], &[]),
        Reply::err(&format!(
            "ERR user_script:3: deep script: {}, on @user_script:3.",
            sha1("\n\nerror('deep')")
        ))
    );
    assert_eq!(
        eval(&mut c, "syntax error here", &[], &[]),
        Reply::err(
            "ERR Error compiling script (new function): user_script:1: '=' expected near 'error'"
        )
    );
    assert_eq!(
        c.q("EVAL x -1"),
        Reply::err("ERR Number of keys can't be negative")
    );
    assert_eq!(
        c.q("EVAL x 2 a"),
        Reply::err("ERR Number of keys can't be greater than number of args")
    );
    assert_eq!(
        c.q("EVAL x y"),
        Reply::err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.q("EVALSHA ffffffffffffffffffffffffffffffffffffffff 0"),
        Reply::err("NOSCRIPT No matching script. Please use EVAL.")
    );
    // Still serving after every error.
    assert_eq!(c.q("PING"), Reply::simple("PONG"));
}

#[test]
fn script_cache_load_exists_flush_and_readonly_forms() {
    let s = Server::start(&["--shards", "3"]);
    let mut c = s.conn();
    let mut other = s.conn();
    assert_eq!(
        c.cmd(&["SCRIPT", "LOAD", "return 1"]),
        Reply::bulk("e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    );
    // Any connection (any shard) sees the cache, and the SHA is case-insensitive.
    assert_eq!(
        other.q("EVALSHA E0E1F9FABFC9D4800C877A703B823AC0578FF8DB 0"),
        Reply::Int(1)
    );
    assert_eq!(
        other.q("SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db ffffffffffffffffffffffffffffffffffffffff"),
        Reply::Array(vec![Reply::Int(1), Reply::Int(0)])
    );
    // EVAL caches its script too.
    eval(&mut c, "return 2", &[], &[]);
    assert_eq!(
        other.cmd(&["EVALSHA", &sha1("return 2"), "0"]),
        Reply::Int(2)
    );
    assert_eq!(c.q("SCRIPT FLUSH"), Reply::ok());
    assert_eq!(
        other.q("EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0"),
        Reply::err("NOSCRIPT No matching script. Please use EVAL.")
    );
    assert!(
        c.cmd(&["SCRIPT", "LOAD", "retur 1"])
            .error()
            .starts_with("ERR Error compiling script")
    );
    // Read-only forms.
    let ro = c.cmd(&["EVAL_RO", "return redis.call('set', KEYS[1], 1)", "1", "k"]);
    assert!(
        ro.error()
            .starts_with("ERR Write commands are not allowed from read-only scripts. script: "),
        "{ro:?}"
    );
    assert_eq!(
        c.cmd(&["EVAL_RO", "return redis.call('get', KEYS[1])", "1", "k"]),
        Reply::NilBulk
    );
    let flagged = "#!lua flags=no-writes\nreturn redis.call('set', KEYS[1], 1)";
    assert!(
        c.cmd(&["EVAL", flagged, "1", "k"])
            .error()
            .starts_with("ERR Write commands are not allowed from read-only scripts.")
    );
    assert_eq!(
        c.q("SCRIPT KILL"),
        Reply::err("NOTBUSY No scripts in execution right now.")
    );
}

#[test]
fn scripts_run_on_the_shard_of_their_keys_and_refuse_undeclared_remote_keys() {
    let shards = 4;
    let s = Server::start(&["--shards", "4"]);
    let keys = keys_on_shards("k", shards, shards);
    let mut c = s.conn();
    // Declared keys on one (possibly remote) shard.
    for k in &keys {
        assert_eq!(
            eval(
                &mut c,
                "redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])",
                &[k],
                &["v"]
            ),
            Reply::bulk("v")
        );
    }
    // Declared keys on several shards: any key may be touched.
    let both = [keys[0].as_str(), keys[3].as_str()];
    assert_eq!(
        eval(
            &mut c,
            "redis.call('set', KEYS[1], 'a') redis.call('set', KEYS[2], 'b') return redis.call('mget', KEYS[1], KEYS[2])",
            &both,
            &[]
        ),
        Reply::bulks(&["a", "b"])
    );
    // No declared keys: every shard frozen, any key works, keyless commands see everything.
    assert_eq!(
        eval(
            &mut c,
            &format!(
                "redis.call('set', '{}', 'x') return redis.call('dbsize')",
                keys[1]
            ),
            &[],
            &[]
        ),
        Reply::Int(4)
    );
    // A declared key on one shard and an undeclared one elsewhere: refused, as documented.
    let r = eval(
        &mut c,
        &format!("return redis.call('get', '{}')", keys[2]),
        &[&keys[0]],
        &[],
    );
    assert!(
        r.error()
            .starts_with("ERR Script attempted to access a key that lives on another shard"),
        "{r:?}"
    );
}

#[test]
fn scripts_are_atomic_across_shards_under_concurrent_clients() {
    let shards = 4;
    let s = Arc::new(Server::start(&["--shards", "4"]));
    let accounts = keys_on_shards("acct", shards, shards);
    let mut c = s.conn();
    for a in &accounts {
        c.cmd(&["SET", a, "1000"]);
    }
    let transfer = "local n = tonumber(ARGV[1]) \
        local a = tonumber(redis.call('get', KEYS[1])) \
        redis.call('set', KEYS[1], a - n) \
        local b = tonumber(redis.call('get', KEYS[2])) \
        redis.call('set', KEYS[2], b + n) return 1";
    let total = "local s = 0 for _, k in ipairs(KEYS) do s = s + tonumber(redis.call('get', k)) end return s";
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for t in 0..3 {
        let s = s.clone();
        let accounts = accounts.clone();
        writers.push(std::thread::spawn(move || {
            let mut c = s.conn();
            for i in 0..300 {
                let from = &accounts[(i + t) % accounts.len()];
                let to = &accounts[(i + t + 1 + t) % accounts.len()];
                if from == to {
                    continue;
                }
                assert_eq!(eval(&mut c, transfer, &[from, to], &["7"]), Reply::Int(1));
            }
        }));
    }
    let reader = {
        let s = s.clone();
        let accounts = accounts.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut c = s.conn();
            let keys: Vec<&str> = accounts.iter().map(|s| s.as_str()).collect();
            let mut reads = 0;
            while !stop.load(Ordering::Relaxed) {
                // Through declared keys, and through no keys at all (every shard frozen).
                assert_eq!(eval(&mut c, total, &keys, &[]), Reply::Int(4000));
                let listed = format!(
                    "local s = 0 for _, k in ipairs({{'{}'}}) do s = s + tonumber(redis.call('get', k)) end return s",
                    keys.join("','")
                );
                assert_eq!(eval(&mut c, &listed, &[], &[]), Reply::Int(4000));
                reads += 1;
            }
            reads
        })
    };
    for w in writers {
        w.join().expect("writer");
    }
    stop.store(true, Ordering::Relaxed);
    let reads = reader.join().expect("reader");
    assert!(reads > 0);
    assert_eq!(
        eval(
            &mut c,
            total,
            &accounts.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            &[]
        ),
        Reply::Int(4000)
    );
}

#[test]
fn functions_load_call_list_and_errors() {
    let s = Server::start(&["--shards", "3"]);
    let mut c = s.conn();
    let lib = "#!lua name=mylib\n\
        redis.register_function('myfunc', function(keys, args) return redis.call('incr', keys[1]) end)\n\
        redis.register_function{function_name='ro', callback=function(keys, args) return redis.call('set', 'x', 1) end, flags={'no-writes'}, description='read only'}\n\
        redis.register_function('boom', function(keys, args) error('bad') end)\n\
        redis.register_function('boom2', function(keys, args) return redis.call('incr','s') end)\n";
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", lib]), Reply::bulk("mylib"));
    c.q("SET s abc");
    let mut other = s.conn();
    for k in ["cnt", "cnt", "other{1}"] {
        other.cmd(&["FCALL", "myfunc", "1", k]);
    }
    assert_eq!(other.q("GET cnt"), Reply::bulk("2"));
    assert_eq!(
        c.q("FCALL ro 0"),
        Reply::err(
            "ERR Write commands are not allowed from read-only scripts. script: ro, on @user_function:3."
        )
    );
    assert_eq!(
        c.q("FCALL boom 0"),
        Reply::err("ERR user_function:4: bad script: boom, on @user_function:4.")
    );
    assert_eq!(
        c.q("FCALL boom2 0"),
        Reply::err(
            "ERR value is not an integer or out of range script: boom2, on @user_function:5."
        )
    );
    assert_eq!(c.q("FCALL nosuch 0"), Reply::err("ERR Function not found"));
    assert_eq!(
        c.q("FCALL_RO myfunc 1 cnt"),
        Reply::err("ERR Can not execute a script with write flag using *_ro command.")
    );
    assert_eq!(
        c.cmd(&[
            "FUNCTION",
            "LOAD",
            "#!lua name=l2\nredis.register_function('myfunc', function() return 1 end)"
        ]),
        Reply::err("ERR Function myfunc already exists")
    );
    assert_eq!(
        c.cmd(&["FUNCTION", "LOAD", lib]),
        Reply::err("ERR Library 'mylib' already exists")
    );
    assert_eq!(
        c.cmd(&["FUNCTION", "LOAD", "REPLACE", lib]),
        Reply::bulk("mylib")
    );
    assert_eq!(
        c.cmd(&["FUNCTION", "LOAD", "#!lua name=l3\nreturn 1"]),
        Reply::err("ERR No functions registered")
    );
    assert_eq!(
        c.cmd(&["FUNCTION", "LOAD", "#!lua name=l4\nredis.call('set','a',1)"]),
        Reply::err(
            "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"
        )
    );
    assert_eq!(
        c.cmd(&["FUNCTION", "LOAD", "#!lua name=l7\nlocal x = "]),
        Reply::err("ERR Error compiling function: user_function:2: unexpected symbol near '<eof>'")
    );
    let list = c.q("FUNCTION LIST WITHCODE");
    let libs = list.items();
    assert_eq!(libs.len(), 1);
    let entry = &libs[0];
    assert_eq!(entry.field("library_name"), Reply::bulk("mylib"));
    assert_eq!(entry.field("engine"), Reply::bulk("LUA"));
    assert_eq!(entry.field("library_code"), Reply::bulk(lib));
    let funcs = entry.field("functions").items();
    assert_eq!(funcs.len(), 4);
    let ro = funcs
        .iter()
        .find(|f| f.field("name") == Reply::bulk("ro"))
        .expect("ro listed");
    assert_eq!(ro.field("description"), Reply::bulk("read only"));
    assert_eq!(ro.field("flags"), Reply::bulks(&["no-writes"]));
    assert_eq!(
        c.q("FUNCTION LIST LIBRARYNAME nomatch*"),
        Reply::Array(vec![])
    );
    let stats = c.q("FUNCTION STATS");
    assert_eq!(stats.field("running_script"), Reply::NilBulk);
    let lua = stats.field("engines").field("LUA");
    assert_eq!(lua.field("libraries_count"), Reply::Int(1));
    assert_eq!(lua.field("functions_count"), Reply::Int(4));
    // DUMP → FLUSH → RESTORE round trip, on another connection.
    let dump = c.q("FUNCTION DUMP");
    assert_eq!(c.q("FUNCTION FLUSH"), Reply::ok());
    assert_eq!(
        other.q("FCALL myfunc 1 cnt"),
        Reply::err("ERR Function not found")
    );
    let Reply::Bulk(payload) = dump else {
        panic!("dump: {dump:?}")
    };
    assert_eq!(
        c.cmd(&[b"FUNCTION".as_slice(), b"RESTORE", &payload]),
        Reply::ok()
    );
    assert_eq!(other.q("FCALL myfunc 1 cnt"), Reply::Int(3));
    assert_eq!(c.q("FUNCTION DELETE mylib"), Reply::ok());
    assert_eq!(
        c.q("FUNCTION DELETE mylib"),
        Reply::err("ERR Library not found")
    );
    assert_eq!(
        c.q("FUNCTION KILL"),
        Reply::err("NOTBUSY No scripts in execution right now.")
    );
}

#[test]
fn functions_survive_restart_and_script_cache_does_not() {
    let s = Server::start(&[
        "--shards",
        "2",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ]);
    let mut c = s.conn();
    let lib = "#!lua name=keep\nredis.register_function('hello', function(keys, args) return 'hi ' .. args[1] end)";
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", lib]), Reply::bulk("keep"));
    c.cmd(&["SCRIPT", "LOAD", "return 1"]);
    // Recovered from the WAL after a crash.
    let s = s.crash_restart(&[
        "--shards",
        "2",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ]);
    let mut c = s.conn();
    assert_eq!(c.q("FCALL hello 0 you"), Reply::bulk("hi you"));
    assert_eq!(
        c.q("EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0"),
        Reply::err("NOSCRIPT No matching script. Please use EVAL.")
    );
    // Recovered from a snapshot (SAVE, then a clean restart without the WAL).
    assert_eq!(c.q("SAVE"), Reply::ok());
    let s = s.stop_restart(&["--shards", "2"]);
    let mut c = s.conn();
    assert_eq!(c.q("FCALL hello 0 again"), Reply::bulk("hi again"));
}

const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";

#[test]
fn busy_scripts_answer_busy_and_can_be_killed() {
    for shards in ["1", "3"] {
        let s = Arc::new(Server::start(&["--shards", shards]));
        let mut c = s.conn();
        assert_eq!(c.q("CONFIG SET busy-reply-threshold 100"), Reply::ok());
        assert_eq!(
            c.q("CONFIG GET lua-time-limit"),
            Reply::bulks(&["lua-time-limit", "100"])
        );
        let spin = {
            let s = s.clone();
            std::thread::spawn(move || {
                let mut c = s.conn();
                eval(&mut c, "local i = 0 while true do i = i + 1 end", &[], &[])
            })
        };
        // Several connections: some land on the script's shard, some on others.
        let mut conns: Vec<_> = (0..4).map(|_| s.conn()).collect();
        let mut saw_busy = 0;
        for conn in &mut conns {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                // PING is never forwarded to another shard (a command forwarded to the
                // script's shard before the script turned busy waits for its end).
                let r = conn.q("PING");
                if r == Reply::err(BUSY_EVAL) {
                    // Once busy, keyed commands are refused wherever their keys live.
                    assert_eq!(conn.q("GET somekey"), Reply::err(BUSY_EVAL));
                    saw_busy += 1;
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "no BUSY: {r:?}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        assert_eq!(saw_busy, 4);
        assert_eq!(conns[0].q("FUNCTION KILL"), Reply::err(BUSY_EVAL));
        assert_eq!(conns[1].q("SCRIPT KILL"), Reply::ok());
        let killed = spin.join().expect("spinner");
        assert!(
            killed
                .error()
                .starts_with("ERR Script killed by user with SCRIPT KILL... script: "),
            "{killed:?}"
        );
        assert_eq!(conns[2].q("PING"), Reply::simple("PONG"));

        // A script that wrote cannot be killed; FUNCTION KILL stops a function.
        c.cmd(&["FUNCTION", "LOAD", "#!lua name=spin\nredis.register_function('spin', function() local i = 0 while true do i = i + 1 end end)"]);
        let spin = {
            let s = s.clone();
            std::thread::spawn(move || s.conn().q("FCALL spin 0"))
        };
        let mut k = s.conn();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let r = k.q("SCRIPT KILL");
            if r == Reply::err(
                "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
            ) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{r:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(k.q("FUNCTION KILL"), Reply::ok());
        let killed = spin.join().expect("function spinner");
        assert!(
            killed
                .error()
                .starts_with("ERR Script killed by user with SCRIPT KILL... script: spin"),
            "{killed:?}"
        );

        let writer = {
            let s = s.clone();
            std::thread::spawn(move || {
                let mut c = s.conn();
                eval(
                    &mut c,
                    "redis.call('set','w',1) local i = 0 while i < 30000000 do i = i + 1 end return i",
                    &[],
                    &[],
                )
            })
        };
        let mut k = s.conn();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let r = k.q("SCRIPT KILL");
            if r.error().starts_with("UNKILLABLE") {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{r:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(writer.join().expect("writer"), Reply::Int(30_000_000));
        assert_eq!(k.q("GET w"), Reply::bulk("1"));
    }
}

#[test]
fn lua_libraries_are_loaded() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        eval(&mut c, "return cjson.encode({1,2,3})", &[], &[]),
        Reply::bulk("[1,2,3]")
    );
    assert_eq!(
        eval(
            &mut c,
            "return cjson.decode('{\"a\":[1,2]}').a[2]",
            &[],
            &[]
        ),
        Reply::Int(2)
    );
    assert_eq!(
        eval(
            &mut c,
            "return cmsgpack.unpack(cmsgpack.pack({1,2,3}))[3]",
            &[],
            &[]
        ),
        Reply::Int(3)
    );
    assert_eq!(
        eval(&mut c, "return bit.band(0xff, 0x0f)", &[], &[]),
        Reply::Int(15)
    );
    assert_eq!(
        eval(&mut c, "return bit.tohex(255)", &[], &[]),
        Reply::bulk("000000ff")
    );
    assert_eq!(
        eval(
            &mut c,
            "return struct.unpack('>I2', struct.pack('>I2', 258))",
            &[],
            &[]
        ),
        Reply::Int(258)
    );
    assert_eq!(
        eval(&mut c, "return string.format('%d-%s', 5, 'x')", &[], &[]),
        Reply::bulk("5-x")
    );
    assert_eq!(
        eval(&mut c, "return table.concat({'a','b'}, ',')", &[], &[]),
        Reply::bulk("a,b")
    );
    assert_eq!(
        eval(&mut c, "return math.floor(2.5)", &[], &[]),
        Reply::Int(2)
    );
    assert_eq!(
        eval(&mut c, "return type(coroutine)", &[], &[]),
        Reply::bulk("table")
    );
}

#[test]
fn scripts_queue_in_multi_and_run_inside_the_transaction() {
    let s = Server::start(&["--shards", "3"]);
    let mut c = s.conn();
    let sha = sha1("return redis.call('incr', KEYS[1])");
    assert_eq!(
        c.cmd(&["SCRIPT", "LOAD", "return redis.call('incr', KEYS[1])"]),
        Reply::bulk(&sha)
    );
    assert_eq!(c.q("MULTI"), Reply::ok());
    assert_eq!(c.q("SET a 10"), Reply::simple("QUEUED"));
    assert_eq!(c.cmd(&["EVALSHA", &sha, "1", "a"]), Reply::simple("QUEUED"));
    assert_eq!(
        c.cmd(&[
            "EVAL",
            "return redis.call('get', KEYS[1]) .. redis.call('get', 'b')",
            "1",
            "a"
        ]),
        Reply::simple("QUEUED")
    );
    assert_eq!(c.q("SET b x"), Reply::simple("QUEUED"));
    assert_eq!(
        c.q("EVALSHA ffffffffffffffffffffffffffffffffffffffff 0"),
        Reply::simple("QUEUED")
    );
    assert_eq!(c.cmd(&["SCRIPT", "EXISTS", &sha]), Reply::simple("QUEUED"));
    let r = c.q("EXEC");
    let items = r.items();
    assert_eq!(items[0], Reply::ok());
    assert_eq!(items[1], Reply::Int(11));
    assert!(
        items[2].error().contains("attempt to concatenate"),
        "{:?}",
        items[2]
    );
    assert_eq!(items[3], Reply::ok());
    assert_eq!(
        items[4],
        Reply::err("NOSCRIPT No matching script. Please use EVAL.")
    );
    assert_eq!(items[5], Reply::Array(vec![Reply::Int(1)]));
}

/// What a script sees of `redis.call`: errors caught by `pcall` arrive as the error string
/// (redis-server 7.0 unwraps the error table), an `xpcall` handler gets the table; Lua numbers
/// become arguments as integers when integral, else as Lua prints them; KEYS and ARGV hold
/// exactly this run's values.
#[test]
fn redis_call_errors_arguments_and_keys_as_scripts_see_them() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let caught = "local ok, e = pcall(redis.call, 'nosuch') return {tostring(ok), type(e), e}";
    assert_eq!(
        eval(&mut c, caught, &[], &[]),
        Reply::bulks(&[
            "false",
            "string",
            "ERR Unknown Redis command called from script"
        ])
    );
    let handled = "local ok, e = xpcall(function() return redis.call('nosuch') end, \
                   function(m) return m end) return {tostring(ok), type(e), e.err}";
    assert_eq!(
        eval(&mut c, handled, &[], &[]),
        Reply::bulks(&[
            "false",
            "table",
            "ERR Unknown Redis command called from script"
        ])
    );
    let rethrown = "local ok, e = pcall(redis.call, 'nosuch') error(e, 0)";
    assert_eq!(
        eval(&mut c, rethrown, &[], &[]),
        Reply::err(&format!(
            "ERR ERR Unknown Redis command called from script script: {}, on @user_script:1.",
            sha1(rethrown)
        ))
    );
    for (value, stored) in [
        ("1.5", "1.5"),
        ("2^53+1", "9007199254740992"),
        ("1e20", "1e+20"),
        ("-0.0", "-0"),
        ("-7", "-7"),
    ] {
        let script = format!("return redis.call('set', KEYS[1], {value})");
        assert_eq!(eval(&mut c, &script, &["n"], &[]), Reply::ok());
        assert_eq!(c.q("GET n"), Reply::bulk(stored), "{value}");
    }
    let shape = "return {#KEYS, #ARGV, KEYS[1] or '-', ARGV[1] or '-', ARGV[2] or '-'}";
    let expect = |k: i64, a: i64, items: &[&str]| {
        let mut v = vec![Reply::Int(k), Reply::Int(a)];
        v.extend(items.iter().map(Reply::bulk));
        Reply::Array(v)
    };
    assert_eq!(
        eval(&mut c, shape, &["k"], &["a", "b"]),
        expect(1, 2, &["k", "a", "b"])
    );
    assert_eq!(
        eval(&mut c, shape, &[], &["c"]),
        expect(0, 1, &["-", "c", "-"])
    );
    assert_eq!(
        eval(&mut c, shape, &[], &[]),
        expect(0, 0, &["-", "-", "-"])
    );
}
