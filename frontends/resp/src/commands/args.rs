//! Argument primitives shared by every command parser: keyword matching, Redis's strict number
//! parsers (`string2ll`, `string2ull`, `strtod`, `string2ld`) and the builders of error texts.
//!
//! Invariants: nothing here allocates on the success path of a number or keyword, and nothing
//! panics on any byte sequence (arguments come straight from the network).

use moon_engine::ir::OpError;

/// Case-insensitive ASCII keyword match (Redis's `strcasecmp` on an option).
#[inline]
pub fn is(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}

/// An `OpError` carrying `ERR <msg>`.
pub fn err(msg: impl AsRef<str>) -> OpError {
    OpError::Other(format!("ERR {}", msg.as_ref()))
}

/// `ERR wrong number of arguments for '<fullname>' command`.
pub fn arity_err(fullname: &str) -> OpError {
    err(format!(
        "wrong number of arguments for '{fullname}' command"
    ))
}

/// The bytes a C `%s` would print: everything before the first NUL.
pub fn c_str(arg: &[u8]) -> &[u8] {
    match arg.iter().position(|&b| b == 0) {
        Some(nul) => &arg[..nul],
        None => arg,
    }
}

/// An argument rendered for an error text the way `%s` would print it; invalid UTF-8 is
/// replaced because error texts travel as `String`.
pub fn show(arg: &[u8]) -> String {
    String::from_utf8_lossy(c_str(arg)).into_owned()
}

/// Redis's `string2ll`: optional `-`, no `+`, no leading zeros, no spaces, fits in i64.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.split_first() {
        None => return None,
        Some((b'-', rest)) => (true, rest),
        Some(_) => (false, s),
    };
    if digits == b"0" {
        return (!neg).then_some(0);
    }
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// An integer argument, or Redis's "value is not an integer or out of range".
pub fn int(arg: &[u8]) -> Result<i64, OpError> {
    parse_i64(arg).ok_or(OpError::NotInteger)
}

/// An integer argument that must fit a C `int` (`getIntFromObjectOrReply`); `msg` replaces the
/// default error text when given.
pub fn c_int(arg: &[u8], msg: Option<&str>) -> Result<i64, OpError> {
    match parse_i64(arg) {
        Some(v) if i32::try_from(v).is_ok() => Ok(v),
        _ => Err(msg.map_or(OpError::NotInteger, err)),
    }
}

/// Redis's `string2ull` for SCAN cursors: strict `string2ll` first, then C `strtoull` (which
/// skips leading spaces and takes a sign). Negative strict values are rejected.
pub fn parse_cursor(s: &[u8]) -> Option<u64> {
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let trimmed = match s.iter().position(|b| !b.is_ascii_whitespace()) {
        Some(start) => &s[start..],
        None => return None,
    };
    let (neg, digits) = match trimmed.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, trimmed),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &b in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    // strtoull negates in unsigned arithmetic.
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Redis's `string2ld`/`string2d` for INCRBYFLOAT: the whole argument must be a number, no
/// leading space, not NaN. Infinity parses (the increment then fails with NaN-or-Infinity).
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    if text.is_empty() || text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let v: f64 = text.parse().ok()?;
    (!v.is_nan()).then_some(v)
}

/// C `strtod(arg, NULL)`: the longest numeric prefix after leading spaces, 0 if none. Used where
/// Redis does no validation (DEBUG SLEEP). NaN and infinities come back as 0.
pub fn strtod_prefix(s: &[u8]) -> f64 {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let s = &s[start..];
    let mut end = 0;
    if matches!(s.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    let digits_from = end;
    while s.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    if s.get(end) == Some(&b'.') {
        end += 1;
        while s.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
    }
    if end == digits_from || (end == digits_from + 1 && s.get(digits_from) == Some(&b'.')) {
        return 0.0;
    }
    if matches!(s.get(end), Some(b'e' | b'E')) {
        let mut exp_end = end + 1;
        if matches!(s.get(exp_end), Some(b'+' | b'-')) {
            exp_end += 1;
        }
        let exp_digits = exp_end;
        while s.get(exp_end).is_some_and(u8::is_ascii_digit) {
            exp_end += 1;
        }
        if exp_end > exp_digits {
            end = exp_end;
        }
    }
    std::str::from_utf8(&s[..end])
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .filter(|v| v.is_finite())
        .unwrap_or(0.0)
}

/// `on`/`off` (CLIENT NO-EVICT, NO-TOUCH), else a syntax error.
pub fn on_off(arg: &[u8]) -> Result<bool, OpError> {
    if is(arg, "on") {
        Ok(true)
    } else if is(arg, "off") {
        Ok(false)
    } else {
        Err(OpError::Syntax)
    }
}

/// Redis's `validateClientName` charset rule: printable ASCII without spaces (`!`..=`~`).
pub fn is_valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|b| (b'!'..=b'~').contains(b))
}

/// The client-name error text shared by CLIENT SETNAME and HELLO SETNAME.
pub fn bad_client_name() -> OpError {
    err("Client names cannot contain spaces, newlines or special characters.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"99999999999999999999999",
        ] {
            assert_eq!(parse_i64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cursors_follow_strtoull() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b" 7"), Some(7));
        assert_eq!(parse_cursor(b"007"), Some(7));
        assert_eq!(parse_cursor(b"-1"), None);
        assert_eq!(parse_cursor(b"abc"), None);
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
    }

    #[test]
    fn floats() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-3e2"), Some(-300.0));
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"1x"), None);
        assert_eq!(strtod_prefix(b"0.5abc"), 0.5);
        assert_eq!(strtod_prefix(b" 2"), 2.0);
        assert_eq!(strtod_prefix(b"abc"), 0.0);
        assert_eq!(strtod_prefix(b"1e3x"), 1000.0);
        assert_eq!(strtod_prefix(b"1ex"), 1.0);
        assert_eq!(strtod_prefix(b"."), 0.0);
    }

    proptest! {
        #[test]
        fn i64_roundtrip(v in any::<i64>()) {
            prop_assert_eq!(parse_i64(v.to_string().as_bytes()), Some(v));
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse_i64(&bytes);
            let _ = parse_cursor(&bytes);
            let _ = parse_f64(&bytes);
            let _ = strtod_prefix(&bytes);
        }
    }
}
