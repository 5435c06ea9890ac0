//! Unit tests of the request parser: every protocol error with its exact text, inline quoting,
//! incremental feeding, and property tests (round trip, split points, no panics).

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;

type Parsed = Result<Option<Vec<Bytes>>, ProtocolError>;

fn parse(input: &[u8]) -> Parsed {
    parse_command(&mut BytesMut::from(input), &Limits::default())
}

fn args(items: &[&[u8]]) -> Vec<Bytes> {
    items.iter().map(|i| Bytes::copy_from_slice(i)).collect()
}

fn err_text(input: &[u8]) -> String {
    match parse(input) {
        Err(e) => e.text(),
        other => panic!("expected an error for {input:?}, got {other:?}"),
    }
}

/// Encodes `args` as a multibulk request.
fn multibulk(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Parses every command in `input` at once, then feeding one byte at a time, each with a single
/// resumable parser; returns both outcomes.
fn parse_all(input: &[u8], chunk: usize) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
    let mut parser = CommandParser::new(Limits::default());
    let mut buf = BytesMut::new();
    let mut cmds = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        while let Some(cmd) = parser.parse(&mut buf)? {
            cmds.push(cmd);
        }
    }
    Ok(cmds)
}

#[test]
fn multibulk_basic() {
    let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n"[..]);
    let l = Limits::default();
    assert_eq!(parse_command(&mut buf, &l), Ok(Some(args(&[b"GET", b"k"]))));
    assert_eq!(parse_command(&mut buf, &l), Ok(Some(args(&[b"PING"]))));
    assert_eq!(parse_command(&mut buf, &l), Ok(None));
    assert!(buf.is_empty());
}

#[test]
fn binary_payloads_and_empty_args() {
    assert_eq!(
        parse(b"*3\r\n$3\r\nSET\r\n$0\r\n\r\n$4\r\na\r\n\0\r\n"),
        Ok(Some(args(&[b"SET", b"", b"a\r\n\0"])))
    );
}

#[test]
fn empty_commands() {
    for input in [
        &b"*0\r\n"[..],
        b"*-1\r\n",
        b"*-7\r\n",
        b"\r\n",
        b"\n",
        b"   \r\n",
    ] {
        let mut buf = BytesMut::from(input);
        assert_eq!(
            parse_command(&mut buf, &Limits::default()),
            Ok(Some(vec![])),
            "{input:?}"
        );
        assert!(buf.is_empty(), "{input:?}");
    }
}

#[test]
fn incomplete_leaves_buffer_untouched() {
    let full = b"*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n";
    for cut in 0..full.len() {
        let mut buf = BytesMut::from(&full[..cut]);
        assert_eq!(
            parse_command(&mut buf, &Limits::default()),
            Ok(None),
            "cut {cut}"
        );
        assert_eq!(&buf[..], &full[..cut]);
    }
}

#[test]
fn redis_skips_bytes_after_cr_and_payload_unchecked() {
    assert_eq!(
        parse(b"*1\rX$3\rYabcZZ"),
        Ok(Some(args(&[b"abc"]))),
        "Redis trusts the two bytes after a CR and after a payload"
    );
}

#[test]
fn multibulk_count_errors() {
    let invalid = "Protocol error: invalid multibulk length";
    assert_eq!(err_text(b"*x\r\n"), invalid);
    assert_eq!(err_text(b"*\r\n"), invalid);
    assert_eq!(err_text(b"*+1\r\n"), invalid);
    assert_eq!(err_text(b"*01\r\n"), invalid);
    assert_eq!(err_text(b"*1 \r\n"), invalid);
    assert_eq!(err_text(b"*-0\r\n"), invalid);
    assert_eq!(err_text(b"*2147483648\r\n"), invalid);
    assert_eq!(err_text(b"*99999999999999999999\r\n"), invalid);
    assert_eq!(parse(b"*2147483647\r\n"), Ok(None));
}

#[test]
fn bulk_header_errors() {
    let invalid = "Protocol error: invalid bulk length";
    assert_eq!(err_text(b"*1\r\n$-1\r\n"), invalid);
    assert_eq!(err_text(b"*1\r\n$x\r\n"), invalid);
    assert_eq!(err_text(b"*1\r\n$\r\n"), invalid);
    assert_eq!(err_text(b"*1\r\n$536870913\r\n"), invalid);
    assert_eq!(parse(b"*1\r\n$536870912\r\n"), Ok(None));
    assert_eq!(
        err_text(b"*1\r\n:1\r\n"),
        "Protocol error: expected '$', got ':'"
    );
    assert_eq!(
        err_text(b"*1\r\n\r\n"),
        "Protocol error: expected '$', got ' '"
    );
    assert_eq!(
        err_text(b"*2\r\n$1\r\na\r\n+x\r\n"),
        "Protocol error: expected '$', got '+'"
    );
}

#[test]
fn too_big_header_lines() {
    let limit = Limits::default().max_inline_len;
    let mut at_limit = b"*".to_vec();
    at_limit.resize(limit, b'1');
    assert_eq!(parse(&at_limit), Ok(None));
    at_limit.push(b'1');
    assert_eq!(
        err_text(&at_limit),
        "Protocol error: too big mbulk count string"
    );

    let mut bulk = b"*1\r\n$".to_vec();
    bulk.resize(4 + limit, b'1');
    assert_eq!(parse(&bulk), Ok(None));
    bulk.push(b'1');
    assert_eq!(err_text(&bulk), "Protocol error: too big bulk count string");

    // The bound is checked before the `$` prefix is.
    let mut junk = b"*1\r\n".to_vec();
    junk.resize(4 + limit + 1, b'X');
    assert_eq!(err_text(&junk), "Protocol error: too big bulk count string");
}

#[test]
fn nul_hides_the_header_terminator() {
    assert_eq!(parse(b"*1\0\r\n"), Ok(None));
    let mut long = b"*1\0\r\n".to_vec();
    long.resize(Limits::default().max_inline_len + 1, b'x');
    assert_eq!(
        err_text(&long),
        "Protocol error: too big mbulk count string"
    );
}

#[test]
fn inline_commands() {
    assert_eq!(parse(b"PING\r\n"), Ok(Some(args(&[b"PING"]))));
    assert_eq!(parse(b"SET k v\n"), Ok(Some(args(&[b"SET", b"k", b"v"]))));
    assert_eq!(
        parse(b"SET k \"a b\\x00\" ''\r\n"),
        Ok(Some(args(&[b"SET", b"k", b"a b\0", b""])))
    );
    assert_eq!(parse(b"PING"), Ok(None));
    assert_eq!(parse(b"PING\r"), Ok(None));
    assert_eq!(
        err_text(b"SET k \"v\r\n"),
        "Protocol error: unbalanced quotes in request"
    );
    assert_eq!(
        err_text(b"SET k 'v'x\r\n"),
        "Protocol error: unbalanced quotes in request"
    );
}

#[test]
fn inline_too_big() {
    let limit = Limits::default().max_inline_len;
    let mut line = vec![b'A'; limit];
    assert_eq!(parse(&line), Ok(None));
    line.push(b'A');
    assert_eq!(err_text(&line), "Protocol error: too big inline request");
    // A long line that arrives whole with its LF is accepted, as in Redis.
    line.extend_from_slice(b"\r\n");
    assert!(matches!(parse(&line), Ok(Some(a)) if a.len() == 1));
}

#[test]
fn inline_nul_hides_the_newline() {
    assert_eq!(parse(b"GET a\0\r\n"), Ok(None));
}

#[test]
fn unauthenticated_bounds() {
    let mut p = CommandParser::new(Limits::default());
    p.set_auth_required(true);
    let mut buf = BytesMut::from(&b"*11\r\n"[..]);
    assert_eq!(
        p.parse(&mut buf),
        Err(ProtocolError::UnauthenticatedMultibulkLength)
    );
    assert_eq!(
        ProtocolError::UnauthenticatedMultibulkLength.text(),
        "Protocol error: unauthenticated multibulk length"
    );
    let mut buf = BytesMut::from(&b"*1\r\n$16385\r\n"[..]);
    assert_eq!(
        p.parse(&mut buf),
        Err(ProtocolError::UnauthenticatedBulkLength)
    );
    assert_eq!(
        ProtocolError::UnauthenticatedBulkLength.text(),
        "Protocol error: unauthenticated bulk length"
    );
    let mut buf = BytesMut::from(&b"*10\r\n$16384\r\n"[..]);
    assert_eq!(p.parse(&mut buf), Ok(None));
}

#[test]
fn resumable_parser_matches_one_shot_for_a_pipeline() {
    let pipeline: &[u8] = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\n0123456789\r\n\
        PING\r\n*0\r\nECHO \"a b\"\n*1\r\n$4\r\nQUIT\r\n";
    let whole = parse_all(pipeline, pipeline.len());
    assert_eq!(
        whole,
        Ok(vec![
            args(&[b"SET", b"key", b"0123456789"]),
            args(&[b"PING"]),
            vec![],
            args(&[b"ECHO", b"a b"]),
            args(&[b"QUIT"]),
        ])
    );
    for chunk in 1..pipeline.len() {
        assert_eq!(parse_all(pipeline, chunk), whole, "chunk {chunk}");
    }
}

#[test]
fn stateless_reparse_at_every_split_point() {
    let pipeline: &[u8] = b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n";
    for cut in 0..=pipeline.len() {
        let mut buf = BytesMut::from(&pipeline[..cut]);
        let l = Limits::default();
        let mut cmds = Vec::new();
        while let Ok(Some(c)) = parse_command(&mut buf, &l) {
            cmds.push(c);
        }
        buf.extend_from_slice(&pipeline[cut..]);
        while let Ok(Some(c)) = parse_command(&mut buf, &l) {
            cmds.push(c);
        }
        assert_eq!(
            cmds,
            vec![args(&[b"ECHO", b"hi"]), args(&[b"PING"])],
            "cut {cut}"
        );
    }
}

#[test]
fn bytes_needed_tracks_a_partial_argument() {
    let mut p = CommandParser::new(Limits::default());
    let mut buf = BytesMut::from(&b"*2\r\n$3\r\nSET\r\n$100000\r\nabc"[..]);
    assert_eq!(p.bytes_needed(buf.len()), None);
    assert_eq!(p.parse(&mut buf), Ok(None));
    assert_eq!(p.bytes_needed(buf.len()), Some(100_000 - 3 + 2));
    buf.extend_from_slice(&vec![b'x'; 100_000 - 3]);
    buf.extend_from_slice(b"\r\n");
    let cmd = p.parse(&mut buf);
    assert!(matches!(&cmd, Ok(Some(a)) if a.len() == 2 && a[1].len() == 100_000));
    assert_eq!(p.bytes_needed(buf.len()), None);
}

#[test]
fn error_resets_parser() {
    let mut p = CommandParser::new(Limits::default());
    let mut buf = BytesMut::from(&b"*2\r\n$1\r\na\r\n"[..]);
    assert_eq!(p.parse(&mut buf), Ok(None));
    buf.extend_from_slice(b"!\r\n");
    assert_eq!(p.parse(&mut buf), Err(ProtocolError::ExpectedDollar(b'!')));
    let mut fresh = BytesMut::from(&b"PING\r\n"[..]);
    assert_eq!(p.parse(&mut fresh), Ok(Some(args(&[b"PING"]))));
}

#[test]
fn string2ll_matches_redis() {
    assert_eq!(string2ll(b"0"), Some(0));
    assert_eq!(string2ll(b"-1"), Some(-1));
    assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
    assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
    for bad in [
        &b""[..],
        b"-",
        b"-0",
        b"00",
        b"01",
        b"+1",
        b" 1",
        b"1 ",
        b"9223372036854775808",
        b"-9223372036854775809",
        b"1a",
    ] {
        assert_eq!(string2ll(bad), None, "{bad:?}");
    }
}

proptest! {
    #[test]
    fn multibulk_round_trip(
        cmd in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..8),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let wire = multibulk(&cmd);
        let want: Vec<Bytes> = cmd.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        prop_assert_eq!(parse(&wire), Ok(Some(want.clone())));

        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        points.sort_unstable();
        let mut parser = CommandParser::new(Limits::default());
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut from = 0;
        for to in points.into_iter().chain([wire.len()]) {
            buf.extend_from_slice(&wire[from..to]);
            from = to;
            while let Some(c) = parser.parse(&mut buf).map_err(|e| TestCaseError::fail(e.text()))? {
                got.push(c);
            }
        }
        prop_assert_eq!(got, vec![want]);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn chunking_never_changes_a_valid_pipeline(
        cmds in prop::collection::vec(
            prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 1..4), 1..5),
        chunk in 1usize..16,
    ) {
        let wire: Vec<u8> = cmds.iter().flat_map(|c| multibulk(c)).collect();
        let want: Vec<Vec<Bytes>> = cmds
            .iter()
            .map(|c| c.iter().map(|a| Bytes::copy_from_slice(a)).collect())
            .collect();
        prop_assert_eq!(parse_all(&wire, chunk), Ok(want));
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(
        data in prop::collection::vec(any::<u8>(), 0..256),
        chunk in 1usize..32,
    ) {
        let _ = parse_all(&data, chunk);
        let mut buf = BytesMut::from(&data[..]);
        let l = Limits::default();
        let before = buf.len();
        match parse_command(&mut buf, &l) {
            Ok(None) => prop_assert_eq!(buf.len(), before),
            Ok(Some(_)) => prop_assert!(buf.len() < before),
            Err(_) => {}
        }
    }

    #[test]
    fn never_panics_on_protocol_shaped_bytes(
        parts in prop::collection::vec(
            prop::sample::select(vec![
                &b"*"[..], b"$", b"\r", b"\n", b"\r\n", b"1", b"0", b"-", b"3", b"9", b"\0",
                b" ", b"\"", b"'", b"\\", b"x", b"a", b"2147483648",
            ]),
            0..64),
    ) {
        let data: Vec<u8> = parts.concat();
        let one_shot = parse_all(&data, data.len());
        let bytewise = parse_all(&data, 1);
        // Same complete commands whatever the chunking, unless an error intervened.
        if let (Ok(cmds), Ok(bytewise)) = (one_shot, bytewise) {
            prop_assert_eq!(cmds, bytewise);
        }
    }
}
