//! Redis's `sdssplitargs`: splitting a line into arguments with its quoting and escape rules.
//! Shared by the inline-command parser (moon-resp) and the FUNCTION library shebang parser.
//!
//! Invariant: a NUL byte ends the line, as the C string it is in Redis.

/// C `isspace` in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Redis's `sdssplitargs` over `line`: `None` for unbalanced quotes. The end of `line` plays the
/// role of the C string's terminating NUL.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = &line[..line.iter().position(|&b| b == 0).unwrap_or(line.len())];
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(args);
        }
        let (arg, next) = split_one(line, p)?;
        args.push(arg);
        p = next;
    }
}

/// Quoting state inside one token.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Double,
    Single,
}

/// Reads one token starting at `p` (not a space, not past the end); returns it and the offset
/// after it.
fn split_one(line: &[u8], mut p: usize) -> Option<(Vec<u8>, usize)> {
    // Past the end reads as NUL, exactly like the C code peeking at `*(p+1)`.
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut cur = Vec::new();
    let mut quote = Quote::None;
    loop {
        let c = at(p);
        match quote {
            Quote::Double => {
                if c == b'\\' && at(p + 1) == b'x' && is_hex(at(p + 2)) && is_hex(at(p + 3)) {
                    cur.push(hex_val(at(p + 2)) * 16 + hex_val(at(p + 3)));
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(unescape(at(p)));
                } else if c == b'"' {
                    // A closing quote must be followed by a space or the end of the line.
                    return closing_quote(line, p).map(|next| (cur, next));
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            }
            Quote::Single => {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    return closing_quote(line, p).map(|next| (cur, next));
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            }
            Quote::None => match c {
                b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                    // The C loop steps past the delimiter unless it is the terminator.
                    return Some((cur, if p < line.len() { p + 1 } else { p }));
                }
                b'"' => quote = Quote::Double,
                b'\'' => quote = Quote::Single,
                other => cur.push(other),
            },
        }
        p += 1;
    }
}

/// After a closing quote at `p`: the offset to resume at, or `None` if text follows directly.
fn closing_quote(line: &[u8], p: usize) -> Option<usize> {
    match line.get(p + 1) {
        Some(&next) if !is_space(next) => None,
        _ => Some(p + 1),
    }
}

fn unescape(c: u8) -> u8 {
    match c {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 0x08,
        b'a' => 0x07,
        other => other,
    }
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &[u8]) -> Option<Vec<Vec<u8>>> {
        split_args(s)
    }

    fn v(items: &[&[u8]]) -> Option<Vec<Vec<u8>>> {
        Some(items.iter().map(|i| i.to_vec()).collect())
    }

    #[test]
    fn plain_words() {
        assert_eq!(split(b"SET  a b"), v(&[b"SET", b"a", b"b"]));
        assert_eq!(split(b"  \t PING  "), v(&[b"PING"]));
        assert_eq!(split(b""), v(&[]));
        assert_eq!(split(b"   "), v(&[]));
    }

    #[test]
    fn double_quotes_and_escapes() {
        assert_eq!(
            split(br#"SET "a b" "x\n\r\t\b\a\"\\\q""#),
            v(&[b"SET", b"a b", b"x\n\r\t\x08\x07\"\\q"])
        );
        assert_eq!(split(br#""\x41\x4a\x4Z""#), v(&[b"AJx4Z"]));
        assert_eq!(split(br#""""#), v(&[b""]));
        assert_eq!(split(br#"a"b c" d"#), v(&[b"ab c", b"d"]));
    }

    #[test]
    fn single_quotes() {
        assert_eq!(split(br"'a\'b' 'c\nd'"), v(&[b"a'b", b"c\\nd"]));
        assert_eq!(split(b"''"), v(&[b""]));
    }

    #[test]
    fn vertical_tab_and_form_feed_are_blanks_only_between_tokens() {
        assert_eq!(split(b"\x0ba\x0bb\x0c"), v(&[b"a\x0bb\x0c"]));
        assert_eq!(split(b"\"a\"\x0bb"), v(&[b"a", b"b"]));
    }

    #[test]
    fn unbalanced() {
        assert_eq!(split(br#""abc"#), None);
        assert_eq!(split(b"'abc"), None);
        assert_eq!(split(br#""a"b"#), None);
        assert_eq!(split(b"'a'b"), None);
        assert_eq!(split(br#"a"b c"d"#), None);
        assert_eq!(split(br#""abc\"#), None);
    }

    #[test]
    fn high_bytes_are_token_bytes() {
        assert_eq!(split(b"\xff\xa0 x"), v(&[b"\xff\xa0", b"x"]));
    }

    #[test]
    fn nul_ends_the_line_like_a_c_string() {
        assert_eq!(split(b"a b\0c d"), v(&[b"a", b"b"]));
    }
}
