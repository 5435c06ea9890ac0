//! Text renderings of binary data: redis-cli style quoting (`sdscatrepr`), the reversible JSON
//! form of byte strings, base64, RESP command framing and ISO-8601 timestamps.
//!
//! Invariants: every function here is total (no panics on any input) and every rendering of bytes
//! is reversible: [`quote`] output is re-read identically by redis-cli, [`json_bytes`] output is
//! either a JSON string (the bytes were valid UTF-8) or `{"base64": ...}` (they were not), which a
//! reader tells apart by the JSON type.

use serde_json::{Value, json};

/// True if `b` can be printed bare (without quotes) in a redis-cli command line.
fn is_bare_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\')
}

/// Renders one argument the way a human would type it into redis-cli: bare when it is a
/// non-empty run of printable ASCII without quotes or backslashes, else double-quoted with
/// redis-cli's escapes (`sdscatrepr`: `\\ \" \n \r \t \a \b`, `\xHH` for other non-printables).
pub fn quote(arg: &[u8]) -> String {
    if !arg.is_empty() && arg.iter().all(|&b| is_bare_byte(b)) {
        // All bytes are ASCII, so this is lossless.
        return String::from_utf8_lossy(arg).into_owned();
    }
    let mut s = String::with_capacity(arg.len() + 2);
    s.push('"');
    for &b in arg {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x07 => s.push_str("\\a"),
            0x08 => s.push_str("\\b"),
            b if b == b' ' || b.is_ascii_graphic() => s.push(char::from(b)),
            b => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}

/// Space-separated [`quote`]s of an argv; the command name (first argument) is upper-cased when
/// it is plain ASCII, as Redis's documentation writes commands.
pub fn quote_argv(argv: &[Vec<u8>]) -> String {
    let mut out = String::new();
    for (i, a) in argv.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if i == 0 && !a.is_empty() && a.iter().all(|&b| is_bare_byte(b)) {
            out.push_str(&String::from_utf8_lossy(a).to_ascii_uppercase());
        } else {
            out.push_str(&quote(a));
        }
    }
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648, with `=` padding).
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = chunk.first().copied().unwrap_or(0);
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        let sym = |shift: u32| char::from(B64[((n >> shift) & 63) as usize]);
        out.push(sym(18));
        out.push(sym(12));
        out.push(if chunk.len() > 1 { sym(6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(0) } else { '=' });
    }
    out
}

/// Decodes standard base64 (padding optional); `None` on any invalid character.
#[cfg(test)]
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// The JSON form of a byte string: a JSON string when the bytes are valid UTF-8 (serde_json
/// escapes control characters as `\uXXXX`), else `{"base64": "<standard base64>"}`.
pub fn json_bytes(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => Value::String(s.to_owned()),
        Err(_) => json!({ "base64": base64(bytes) }),
    }
}

/// Inverse of [`json_bytes`] (what a consumer of `dump` output does).
#[cfg(test)]
pub fn json_to_bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Object(m) if m.len() == 1 => base64_decode(m.get("base64")?.as_str()?),
        _ => None,
    }
}

/// Appends one RESP array of bulk strings (a command as a client sends it) to `out`.
pub fn resp_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, argv: &[A]) {
    out.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
    for a in argv {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// `ms` since the Unix epoch as ISO-8601 UTC with milliseconds, e.g. `2024-05-01T12:34:56.789Z`.
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        ms % 1000
    )
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_bare_and_escaped() {
        assert_eq!(quote(b"key:1"), "key:1");
        assert_eq!(quote(b""), "\"\"");
        assert_eq!(quote(b"a b"), "\"a b\"");
        assert_eq!(quote(b"a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote(b"\n\r\t\x07\x08"), "\"\\n\\r\\t\\a\\b\"");
        assert_eq!(quote(&[0x00, 0xff, b'x']), "\"\\x00\\xffx\"");
        assert_eq!(quote("é".as_bytes()), "\"\\xc3\\xa9\"");
        assert_eq!(quote(b"it's"), "\"it's\"");
    }

    #[test]
    fn quote_argv_uppercases_command() {
        let argv = vec![b"set".to_vec(), b"k".to_vec(), b"hello world".to_vec()];
        assert_eq!(quote_argv(&argv), "SET k \"hello world\"");
    }

    #[test]
    fn base64_round_trip() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        for len in 0..40usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base64_decode(&base64(&data)).as_deref(), Some(&data[..]));
        }
        assert_eq!(base64_decode("Zm9v!"), None);
    }

    #[test]
    fn json_bytes_is_reversible() {
        assert_eq!(json_bytes(b"plain"), json!("plain"));
        assert_eq!(json_bytes(b"ctl\x01\n").to_string(), "\"ctl\\u0001\\n\"");
        assert_eq!(json_bytes(&[0xff, 0x00]), json!({"base64": "/wA="}));
        for case in [
            &b"plain"[..],
            b"ctl\x01\"\\",
            &[0xff, 0x00, 0x80],
            b"",
            "ünï".as_bytes(),
        ] {
            let text = json_bytes(case).to_string();
            let back: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            assert_eq!(json_to_bytes(&back).as_deref(), Some(case));
        }
    }

    #[test]
    fn resp_framing() {
        let mut out = Vec::new();
        resp_command(&mut out, &["SET", "k", ""]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }

    #[test]
    fn iso8601_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(iso8601(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }
}
