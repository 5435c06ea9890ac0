//! Fuzzes the RESP request parser with arbitrary bytes.
//!
//! Checks, beyond "never panics": `Ok(None)` leaves the buffer untouched and `Ok(Some)` consumes
//! bytes; a resumable parser fed the same bytes in chunks yields the same commands as one fed them
//! at once (inputs stay far below the 64 KiB header bound, where chunking could matter); and every
//! parsed command, re-encoded as multibulk, parses back to itself.

#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use moon_resp::codec::{CommandParser, ProtocolError, parse_command};
use moon_resp::limits::Limits;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, input)) = data.split_first() else {
        return;
    };
    check_one_shot(input);
    let whole = parse_chunked(input, input.len());
    let pieces = parse_chunked(input, usize::from(chunk % 17) + 1);
    if let (Ok(a), Ok(b)) = (&whole, &pieces) {
        assert_eq!(a, b, "chunking changed the parse");
    }
    if let Ok(cmds) = whole {
        for cmd in cmds.iter().filter(|c| !c.is_empty()) {
            check_reencode(cmd);
        }
    }
});

/// One call on the raw input, checking the buffer contract.
fn check_one_shot(input: &[u8]) {
    let mut buf = BytesMut::from(input);
    match parse_command(&mut buf, &Limits::default()) {
        Ok(None) => assert_eq!(&buf[..], input),
        Ok(Some(_)) => assert!(buf.len() < input.len()),
        Err(e) => assert!(e.text().starts_with("Protocol error: ")),
    }
}

/// Every command a resumable parser finds when `input` arrives `chunk` bytes at a time.
fn parse_chunked(input: &[u8], chunk: usize) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
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

fn check_reencode(cmd: &[Bytes]) {
    let mut wire = format!("*{}\r\n", cmd.len()).into_bytes();
    for arg in cmd {
        wire.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        wire.extend_from_slice(arg);
        wire.extend_from_slice(b"\r\n");
    }
    let mut buf = BytesMut::from(&wire[..]);
    let again = parse_command(&mut buf, &Limits::default());
    assert_eq!(again, Ok(Some(cmd.to_vec())));
    assert!(buf.is_empty());
}
