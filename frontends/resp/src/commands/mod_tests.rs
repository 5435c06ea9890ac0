//! Unit tests of `mod.rs`: lowering to the expected op/command and Redis's exact error texts.
use super::*;
use moon_engine::ir::{ExpireCond, ExpireSpec, Op, SetCond};
use proptest::strategy::Strategy;

/// Builds an argument vector from string literals.
pub(crate) fn argv(parts: &[&str]) -> Vec<Bytes> {
    parts
        .iter()
        .map(|p| Bytes::copy_from_slice(p.as_bytes()))
        .collect()
}

pub(crate) fn p(parts: &[&str]) -> Result<Command, OpError> {
    parse(&argv(parts))
}

pub(crate) fn err_text(parts: &[&str]) -> String {
    match p(parts) {
        Err(OpError::Other(s)) => s,
        Err(OpError::InvalidExpireTime(c)) => format!("ERR invalid expire time in '{c}' command"),
        Err(OpError::Syntax) => "ERR syntax error".into(),
        Err(OpError::NotInteger) => "ERR value is not an integer or out of range".into(),
        Err(OpError::NotFloat) => "ERR value is not a valid float".into(),
        Err(OpError::OffsetOutOfRange) => "ERR offset is out of range".into(),
        Err(OpError::DbIndexOutOfRange) => "ERR DB index is out of range".into(),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn unknown_command_text() {
    assert_eq!(
        err_text(&["FOO", "a", "b"]),
        "ERR unknown command 'FOO', with args beginning with: 'a' 'b' "
    );
    assert_eq!(
        err_text(&["foo"]),
        "ERR unknown command 'foo', with args beginning with: "
    );
    let long = "x".repeat(200);
    let text = err_text(&["foo", &long, "next"]);
    let expected = format!(
        "ERR unknown command 'foo', with args beginning with: '{}' ",
        "x".repeat(128)
    );
    assert_eq!(text, expected);
    assert_eq!(
        err_text(&["foo", "a\r\nb"]),
        "ERR unknown command 'foo', with args beginning with: 'a  b' "
    );
}

#[test]
fn unknown_subcommand_text() {
    assert_eq!(
        err_text(&["client", "foo"]),
        "ERR unknown subcommand 'foo'. Try CLIENT HELP."
    );
    assert_eq!(
        err_text(&["config", "nosuch"]),
        "ERR unknown subcommand 'nosuch'. Try CONFIG HELP."
    );
    assert_eq!(
        err_text(&["Object", "x"]),
        "ERR unknown subcommand 'x'. Try OBJECT HELP."
    );
}

#[test]
fn arity_texts() {
    assert_eq!(
        err_text(&["GET"]),
        "ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        err_text(&["get", "a", "b"]),
        "ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        err_text(&["SET", "k"]),
        "ERR wrong number of arguments for 'set' command"
    );
    assert_eq!(
        err_text(&["client"]),
        "ERR wrong number of arguments for 'client' command"
    );
    assert_eq!(
        err_text(&["client", "setname"]),
        "ERR wrong number of arguments for 'client|setname' command"
    );
    assert_eq!(
        err_text(&["mset", "a", "1", "b"]),
        "ERR wrong number of arguments for 'mset' command"
    );
    assert_eq!(
        err_text(&["ping", "a", "b"]),
        "ERR wrong number of arguments for 'ping' command"
    );
    assert_eq!(
        err_text(&["config", "set", "a", "1", "b"]),
        "ERR wrong number of arguments for 'config|set' command"
    );
}

#[test]
fn hot_path_any_case() {
    let get = Command::Op(Op::Get {
        key: Bytes::from_static(b"k"),
    });
    assert_eq!(p(&["GET", "k"]), Ok(get.clone()));
    assert_eq!(p(&["gEt", "k"]), Ok(get));
    assert_eq!(
        p(&["set", "k", "v"]),
        Ok(Command::Op(Op::Set {
            key: Bytes::from_static(b"k"),
            value: Bytes::from_static(b"v"),
            cond: SetCond::Always,
            expire: ExpireSpec::Clear,
            get: false,
        }))
    );
    let _ = ExpireCond::Always;
}

#[test]
fn empty_command_is_an_error() {
    assert!(parse(&[]).is_err());
}

proptest::proptest! {
    #[test]
    fn parse_never_panics(parts in proptest::collection::vec(
        proptest::prop_oneof![
            proptest::sample::select(vec![
                "get", "set", "ex", "px", "exat", "pxat", "keepttl", "nx", "xx", "gt", "lt", "get",
                "client", "kill", "list", "id", "type", "command", "getkeys", "info", "docs",
                "object", "encoding", "scan", "match", "count", "lcs", "idx", "len", "minmatchlen",
                "hello", "auth", "setname", "copy", "db", "replace", "expire", "swapdb", "debug",
                "sleep", "shutdown", "config", "0", "-1", "1", "9223372036854775807", "abc",
            ]).prop_map(str::to_owned),
            ".{0,6}",
        ],
        0..8,
    )) {
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        let _ = p(&refs);
        let argv = argv(&refs);
        if !argv.is_empty() {
            let _ = command_getkeys(&argv);
        }
    }
}
