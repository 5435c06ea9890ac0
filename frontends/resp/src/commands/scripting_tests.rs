//! Unit tests of `scripting.rs`: lowering to the expected [`ScriptCmd`] / `Op::Functions`,
//! redis-server 7.0.15's exact error texts, the help replies, and the FUNCTION ops' WAL
//! commands parsed back (round trip and a real WAL replay).
use super::*;
use crate::commands::tests::{argv, err_text, p};
use crate::commands::{command_getkeys, parse, table};
use moon_engine::ir::ExecCtx;
use moon_engine::shard::{Shard, ShardConfig};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn bs(items: &[&str]) -> Vec<Bytes> {
    items.iter().map(|s| b(s)).collect()
}

fn cmd(parts: &[&str]) -> ScriptCmd {
    match p(parts) {
        Ok(Command::Conn(ConnCmd::Script(c))) => c,
        other => panic!("{parts:?}: {other:?}"),
    }
}

fn fop(args: &[Bytes]) -> FunctionOp {
    match parse(args) {
        Ok(Command::Op(Op::Functions(f))) => f,
        other => panic!("{args:?}: {other:?}"),
    }
}

fn err_of(args: &[Bytes]) -> String {
    match parse(args) {
        Err(OpError::Other(s)) => s,
        other => panic!("{args:?}: expected an error, got {other:?}"),
    }
}

const LIB: &str =
    "#!lua name=mylib\nredis.register_function('f', function(keys, args) return 1 end)";

fn lib(name: &str) -> String {
    format!("#!lua name={name}\nredis.register_function('f_{name}', function() return 1 end)")
}

#[test]
fn eval_family_splits_keys_and_args() {
    assert_eq!(
        cmd(&["EVAL", "return 1", "2", "a", "b", "c"]),
        ScriptCmd::Eval {
            script: b("return 1"),
            keys: bs(&["a", "b"]),
            args: bs(&["c"]),
            ro: false,
        }
    );
    assert_eq!(
        cmd(&["eval_ro", "s", "0", "x"]),
        ScriptCmd::Eval {
            script: b("s"),
            keys: vec![],
            args: bs(&["x"]),
            ro: true,
        }
    );
    let sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
    assert_eq!(
        cmd(&["EVALSHA", sha, "1", "k"]),
        ScriptCmd::EvalSha {
            sha: b(sha),
            keys: bs(&["k"]),
            args: vec![],
            ro: false,
        }
    );
    assert_eq!(
        cmd(&["fcall", "F", "1", "k", "a1", "a2"]),
        ScriptCmd::Fcall {
            function: b("F"),
            keys: bs(&["k"]),
            args: bs(&["a1", "a2"]),
            ro: false,
        }
    );
    assert_eq!(
        cmd(&["FCALL_RO", "f", "0"]),
        ScriptCmd::Fcall {
            function: b("f"),
            keys: vec![],
            args: vec![],
            ro: true,
        }
    );
}

/// The texts redis-server 7.0.15 answered (for EVALSHA with a 40-byte sha, for FCALL with an
/// existing function).
#[test]
fn numkeys_errors_match_redis() {
    let sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
    let not_int = "ERR value is not an integer or out of range";
    let greater = "ERR Number of keys can't be greater than number of args";
    let negative = "ERR Number of keys can't be negative";
    let bad = "ERR Bad number of keys provided";
    let cases: &[(&[&str], &str)] = &[
        (&["eval", "return 1", "x"], not_int),
        (&["eval", "return 1", " 1", "a"], not_int),
        (&["eval", "return 1", "99999999999999999999"], not_int),
        (&["eval", "return 1", "-1"], negative),
        (&["eval", "return 1", "2", "a"], greater),
        (&["eval_ro", "return 1", "5"], greater),
        (&["evalsha", sha, "x"], not_int),
        (&["evalsha", sha, "-1"], negative),
        (&["evalsha", sha, "3", "a"], greater),
        (&["evalsha_ro", sha, "x"], not_int),
        (&["fcall", "f", "x"], bad),
        (&["fcall", "f", "99999999999999999999"], bad),
        (&["fcall", "f", "-1"], negative),
        (&["fcall", "f", "2", "a"], greater),
        (&["fcall_ro", "f", "x"], bad),
        (
            &["eval", "return 1"],
            "ERR wrong number of arguments for 'eval' command",
        ),
        (
            &["fcall", "f"],
            "ERR wrong number of arguments for 'fcall' command",
        ),
    ];
    for (parts, want) in cases {
        assert_eq!(err_text(parts), *want, "{parts:?}");
    }
    // A sha that cannot exist answers NOSCRIPT in Redis whatever numkeys says: the runtime
    // gets it with no keys and finds nothing.
    assert_eq!(
        cmd(&["evalsha", "abc", "x"]),
        ScriptCmd::EvalSha {
            sha: b("abc"),
            keys: vec![],
            args: vec![],
            ro: false,
        }
    );
}

#[test]
fn script_subcommands() {
    assert_eq!(
        cmd(&["SCRIPT", "LOAD", "return 1"]),
        ScriptCmd::ScriptLoad(b("return 1"))
    );
    assert_eq!(
        cmd(&["script", "exists", "a", "b"]),
        ScriptCmd::ScriptExists(bs(&["a", "b"]))
    );
    assert_eq!(cmd(&["script", "flush"]), ScriptCmd::ScriptFlush);
    assert_eq!(cmd(&["script", "FLUSH", "async"]), ScriptCmd::ScriptFlush);
    assert_eq!(cmd(&["script", "flush", "SYNC"]), ScriptCmd::ScriptFlush);
    assert_eq!(cmd(&["script", "kill"]), ScriptCmd::ScriptKill);
    assert_eq!(
        p(&["script", "debug", "NO"]),
        Ok(Command::Conn(ConnCmd::Static(Reply::Ok)))
    );
    let cases: &[(&[&str], &str)] = &[
        (
            &["script", "flush", "x"],
            "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
        ),
        (
            &["script", "flush", "async", "sync"],
            "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
        ),
        (
            &["script", "exists"],
            "ERR wrong number of arguments for 'script|exists' command",
        ),
        (
            &["script", "load"],
            "ERR wrong number of arguments for 'script|load' command",
        ),
        (
            &["script", "load", "a", "b"],
            "ERR wrong number of arguments for 'script|load' command",
        ),
        (
            &["script", "kill", "x"],
            "ERR wrong number of arguments for 'script|kill' command",
        ),
        (
            &["script", "debug", "x"],
            "ERR Use SCRIPT DEBUG YES/SYNC/NO",
        ),
        (
            &["script", "nope"],
            "ERR unknown subcommand 'nope'. Try SCRIPT HELP.",
        ),
        (
            &["script"],
            "ERR wrong number of arguments for 'script' command",
        ),
    ];
    for (parts, want) in cases {
        assert_eq!(err_text(parts), *want, "{parts:?}");
    }
    assert!(err_text(&["script", "debug", "yes"]).starts_with("ERR "));
}

#[test]
fn help_replies_are_redis_7_0s() {
    for (parts, first, lines) in [
        (["SCRIPT", "HELP"], "SCRIPT", 17),
        (["function", "help"], "FUNCTION", 40),
    ] {
        let Ok(Command::Conn(ConnCmd::Static(Reply::Array(items)))) = p(&parts) else {
            panic!("{parts:?}")
        };
        assert_eq!(items.len(), lines, "{parts:?}");
        assert_eq!(
            items[0],
            Reply::Simple(Bytes::from(format!(
                "{first} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
            )))
        );
        assert_eq!(items[lines - 2], Reply::simple("HELP"));
        assert_eq!(items[lines - 1], Reply::simple("    Prints this help."));
    }
    assert_eq!(
        err_text(&["function", "help", "x"]),
        "ERR wrong number of arguments for 'function|help' command"
    );
}

#[test]
fn function_list_stats_kill() {
    assert_eq!(
        cmd(&["FUNCTION", "LIST"]),
        ScriptCmd::FunctionList {
            pattern: None,
            withcode: false
        }
    );
    assert_eq!(
        cmd(&["function", "list", "WITHCODE", "libraryname", "my*"]),
        ScriptCmd::FunctionList {
            pattern: Some(b("my*")),
            withcode: true
        }
    );
    assert_eq!(cmd(&["function", "stats"]), ScriptCmd::FunctionStats);
    assert_eq!(cmd(&["function", "kill"]), ScriptCmd::FunctionKill);
    let cases: &[(&[&str], &str)] = &[
        (&["function", "list", "x"], "ERR Unknown argument x"),
        (
            &["function", "list", "libraryname"],
            "ERR library name argument was not given",
        ),
        (
            &["function", "list", "libraryname", "a", "libraryname", "b"],
            "ERR Unknown argument libraryname",
        ),
        (
            &["function", "list", "withcode", "withcode"],
            "ERR Unknown argument withcode",
        ),
        (
            &["function", "stats", "x"],
            "ERR wrong number of arguments for 'function|stats' command",
        ),
        (
            &["function", "kill", "x"],
            "ERR wrong number of arguments for 'function|kill' command",
        ),
        (
            &["function", "nope"],
            "ERR unknown subcommand 'nope'. Try FUNCTION HELP.",
        ),
        (
            &["function"],
            "ERR wrong number of arguments for 'function' command",
        ),
    ];
    for (parts, want) in cases {
        assert_eq!(err_text(parts), *want, "{parts:?}");
    }
}

#[test]
fn function_catalog_commands_lower_to_ops() {
    assert_eq!(
        fop(&bs(&["FUNCTION", "LOAD", LIB])),
        FunctionOp::Load {
            name: b("mylib"),
            code: b(LIB),
            replace: false
        }
    );
    assert_eq!(
        fop(&bs(&["function", "load", "REPLACE", "replace", LIB])),
        FunctionOp::Load {
            name: b("mylib"),
            code: b(LIB),
            replace: true
        }
    );
    assert_eq!(
        fop(&bs(&["function", "delete", "mylib"])),
        FunctionOp::Delete { name: b("mylib") }
    );
    assert_eq!(fop(&bs(&["function", "flush"])), FunctionOp::Flush);
    assert_eq!(fop(&bs(&["function", "flush", "ASYNC"])), FunctionOp::Flush);
    assert_eq!(fop(&bs(&["function", "flush", "sync"])), FunctionOp::Flush);
    assert_eq!(fop(&bs(&["function", "dump"])), FunctionOp::Dump);
    let payload = Bytes::from(moon_engine::functions::dump_payload(&[
        b(&lib("a")),
        b(LIB),
    ]));
    let restore = |policy: Option<&str>| {
        let mut a = vec![b("FUNCTION"), b("RESTORE"), payload.clone()];
        a.extend(policy.map(b));
        fop(&a)
    };
    let libs = vec![(b("a"), b(&lib("a"))), (b("mylib"), b(LIB))];
    for (given, policy) in [
        (None, RestorePolicy::Append),
        (Some("append"), RestorePolicy::Append),
        (Some("REPLACE"), RestorePolicy::Replace),
        (Some("Flush"), RestorePolicy::Flush),
    ] {
        assert_eq!(
            restore(given),
            FunctionOp::Restore {
                libs: libs.clone(),
                policy
            }
        );
    }
    assert!(!Op::Functions(FunctionOp::Dump).is_write());
    assert!(Op::Functions(FunctionOp::Flush).is_write());
    assert!(Op::Functions(FunctionOp::Flush).keys().is_empty());
}

/// Each text is what redis-server 7.0.15 answered.
#[test]
fn function_catalog_errors_match_redis() {
    let names = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";
    let cases: &[(&[&str], &str)] = &[
        (
            &["function", "load"],
            "ERR wrong number of arguments for 'function|load' command",
        ),
        (
            &["function", "load", "replace"],
            "ERR Missing library metadata",
        ),
        (
            &["function", "load", "foo", "#!lua name=ab"],
            "ERR Unknown option given: foo",
        ),
        (
            &["function", "load", "replace", "replace", "#!lua name=ab"],
            "ERR Invalid library metadata",
        ),
        (
            &["function", "load", "#!lua name=mylib3 foo=bar\nx"],
            "ERR Invalid metadata value given: foo=bar",
        ),
        (
            &["function", "load", "#!lua NAME=a name=b\nx"],
            "ERR Invalid metadata value, name argument was given multiple times",
        ),
        (
            &["function", "load", "#!lua\nreturn 1"],
            "ERR Library name was not given",
        ),
        (&["function", "load", "#!lua name=x-y\nreturn 1"], names),
        (
            &["function", "load", "#!xyz name=x\nreturn 1"],
            "ERR Engine 'xyz' not found",
        ),
        (
            &["function", "delete"],
            "ERR wrong number of arguments for 'function|delete' command",
        ),
        (
            &["function", "delete", "a", "b"],
            "ERR wrong number of arguments for 'function|delete' command",
        ),
        (
            &["function", "flush", "x"],
            "ERR FUNCTION FLUSH only supports SYNC|ASYNC option",
        ),
        (
            &["function", "flush", "sync", "x"],
            "ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.",
        ),
        (
            &["function", "dump", "x"],
            "ERR wrong number of arguments for 'function|dump' command",
        ),
        (
            &["function", "restore", "short"],
            "ERR DUMP payload version or checksum are wrong",
        ),
        (
            &["function", "restore", "x", "bad"],
            "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
        ),
        (
            &["function", "restore", "x", "flush", "x"],
            "ERR unknown subcommand or wrong number of arguments for 'restore'. Try FUNCTION HELP.",
        ),
    ];
    for (parts, want) in cases {
        assert_eq!(err_text(parts), *want, "{parts:?}");
    }
    // A payload naming one library twice.
    let twice = Bytes::from(moon_engine::functions::dump_payload(&[b(LIB), b(LIB)]));
    assert_eq!(
        err_of(&[b("function"), b("restore"), twice]),
        "ERR Library 'mylib' already exists"
    );
}

#[test]
fn table_metadata() {
    let keys = |parts: &[&str]| command_getkeys(&argv(parts));
    let bulks = |items: &[&str]| {
        Ok(Reply::Array(
            items.iter().map(|s| Reply::Bulk(b(s))).collect(),
        ))
    };
    assert_eq!(keys(&["eval", "s", "2", "a", "b", "c"]), bulks(&["a", "b"]));
    assert_eq!(keys(&["fcall_ro", "f", "1", "k"]), bulks(&["k"]));
    for name in ["eval", "fcall", "evalsha_ro"] {
        let spec = table::lookup(name.as_bytes()).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(spec.key_range(), (0, 0, 0), "{name}");
        assert!(spec.info_flags() & table::MOVABLE_KEYS != 0, "{name}");
    }
    let load = table::lookup_fullname(b"function|load").map(|s| s.flags);
    assert_eq!(load, Some(WRITE | DENYOOM | NOSCRIPT));
}

/// The libraries the WAL tests work on.
fn ops() -> Vec<Vec<Bytes>> {
    let payload = Bytes::from(moon_engine::functions::dump_payload(&[
        b(&lib("r1")),
        b(&lib("a")),
    ]));
    vec![
        bs(&["FUNCTION", "LOAD", &lib("a")]),
        bs(&["FUNCTION", "LOAD", &lib("b")]),
        bs(&["FUNCTION", "LOAD", "REPLACE", &lib("a")]),
        bs(&["FUNCTION", "DELETE", "b"]),
        vec![b("FUNCTION"), b("RESTORE"), payload.clone(), b("REPLACE")],
        bs(&["FUNCTION", "LOAD", &lib("c")]),
        bs(&["FUNCTION", "FLUSH", "ASYNC"]),
        vec![b("FUNCTION"), b("RESTORE"), payload],
        bs(&["FUNCTION", "LOAD", &lib("d")]),
    ]
}

fn ctx() -> ExecCtx {
    ExecCtx {
        db: 0,
        now_ms: 1_700_000_000_000,
        no_touch: false,
    }
}

/// `to_command` of every catalog write parses back into the same op (LOAD always with
/// REPLACE, which has the same effect after a successful LOAD); DUMP logs nothing.
#[test]
fn wal_commands_round_trip() {
    for args in ops() {
        let op = Op::Functions(fop(&args));
        let logged = op.to_command(0).unwrap_or_else(|| panic!("{args:?}"));
        let back = Op::Functions(fop(&logged));
        let want = match op.clone() {
            Op::Functions(FunctionOp::Load { name, code, .. }) => Op::Functions(FunctionOp::Load {
                name,
                code,
                replace: true,
            }),
            other => other,
        };
        assert_eq!(back, want, "{args:?}");
        // The same effect on the same catalog.
        let (mut x, mut y) = (
            Shard::new(0, ShardConfig::default()),
            Shard::new(0, ShardConfig::default()),
        );
        assert_eq!(x.apply(&ctx(), &op), y.apply(&ctx(), &back));
        assert_eq!(x.functions().to_vec(), y.functions().to_vec());
    }
    assert_eq!(Op::Functions(FunctionOp::Dump).to_command(0), None);
}

/// Every catalog write logged by a shard's WAL replays, through this crate's parser, into the
/// same catalog; RESTORE is logged as the whole resulting catalog with FLUSH.
#[test]
fn wal_replay_rebuilds_the_catalog() {
    use moon_engine::persist::recover::{RecoveryOptions, recover};
    use moon_engine::persist::wal::WalOptions;
    use moon_engine::persist::{FsyncPolicy, WalWriter, wal_format};

    let dir = std::env::temp_dir().join(format!("moon-resp-fn-wal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = WalOptions {
        dir: dir.clone(),
        shard_id: 0,
        shard_count: 1,
        policy: FsyncPolicy::No,
        segment_bytes: 1 << 20,
    };
    let mut s = Shard::new(0, ShardConfig::default());
    s.wal_attach(WalWriter::open(opts, 1, 0).expect("open WAL"));
    let mut replies = Vec::new();
    for args in ops() {
        replies.push(s.apply(&ctx(), &Op::Functions(fop(&args))));
    }
    // A failing write logs nothing.
    let dup = Op::Functions(fop(&bs(&["FUNCTION", "LOAD", &lib("d")])));
    assert!(s.apply(&ctx(), &dup).is_err());
    assert!(replies.iter().all(|r| !r.is_err()), "{replies:?}");
    assert_eq!(replies[0], Reply::Bulk(b("a")));
    s.wal_flush(0).expect("flush");
    let want = s.functions().to_vec();
    let names: Vec<&Bytes> = want.iter().map(|(n, _)| n).collect();
    assert_eq!(names, vec![&b("a"), &b("d"), &b("r1")]);

    // The RESTORE records carry the whole catalog with FLUSH.
    let files = moon_engine::persist::files::list(&dir).expect("list");
    let bytes = std::fs::read(&files.segments[0].1).expect("read");
    let mut r = wal_format::SegmentReader::new(&bytes).expect("segment");
    let mut logged = Vec::new();
    while let Some((_, rec)) = r.next_record() {
        if let wal_format::Body::Command(argv) = rec.body {
            logged.push(argv);
        }
    }
    assert_eq!(logged.len(), ops().len());
    let restore = &logged[4];
    assert_eq!(restore[1], b"RESTORE");
    assert_eq!(restore[3], b"FLUSH");
    let whole = moon_engine::functions::decode_dump_payload(&restore[2]).expect("payload");
    let whole_names: Vec<&Bytes> = whole.iter().map(|(n, _)| n).collect();
    assert_eq!(whole_names, vec![&b("a"), &b("r1")]);
    assert_eq!(logged[0][1], b"LOAD");
    assert_eq!(logged[0][2], b"REPLACE");

    let mut back = Shard::new(0, ShardConfig::default());
    let parse = |argv: &[Vec<u8>]| -> Result<Op, String> {
        let args: Vec<Bytes> = argv.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        match parse(&args) {
            Ok(Command::Op(op)) => Ok(op),
            other => Err(format!("{other:?}")),
        }
    };
    let ropts = RecoveryOptions {
        skip_corrupt: false,
        now_ms: 0,
        shard_count: 1,
    };
    let report = recover(&mut back, &dir, ropts, &parse).expect("recover");
    assert_eq!(report.replay_errors, 0);
    assert_eq!(report.records, ops().len() as u64);
    assert_eq!(back.functions().to_vec(), want);
    let _ = std::fs::remove_dir_all(&dir);
}
