//! Tokenizer of the query language, mirroring RediSearch's Ragel scanner (`lexer.rl`, dialect
//! 2): at every position the longest matching pattern wins, ties go to the pattern listed
//! first; whitespace, control characters and punctuation that start no token are skipped
//! (this is why `hello,world` is two terms and `hello-world` is `hello -world`).
//!
//! Each token carries its byte offset and the byte range RediSearch's `%syntax_error` prints
//! after "near": punctuation tokens do not set that range in RediSearch, so they inherit the
//! previous token's (`near` shows the last word-like token, a documented quirk we keep).

use nom::Parser;
use nom::bytes::complete::tag;
use nom::character::complete::{char, digit1, one_of};
use nom::combinator::{opt, recognize};

/// Token kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    /// Unsigned integer (`SIZE`).
    Size,
    /// Other number, incl. `inf` / `-inf` (`NUMBER`).
    Number,
    /// `@name` (text range: the name).
    Modifier,
    /// `$name` (text range: the name).
    Attribute,
    Arrow,
    /// `as` (case-insensitive); a term everywhere but after a vector query.
    As,
    Quote,
    Or,
    Lp,
    Rp,
    Lb,
    Rb,
    Colon,
    Semicolon,
    Minus,
    Tilde,
    Star,
    Percent,
    Lsqb,
    Rsqb,
    Term,
    /// `term*` (text range: the term; `param` if it was `$name*`).
    Prefix,
    /// `*term`.
    Suffix,
    /// `*term*`.
    Contains,
    /// `'...'` (not accepted by the dialect-2 grammar; lexed to report it).
    Verbatim,
    /// `w'...'` (text range: the pattern).
    Wildcard,
    /// End of input.
    Eof,
}

/// One token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Token {
    pub kind: Tok,
    /// Byte offset of the token's start.
    pub pos: usize,
    /// Start/end of the token's text (see the module doc for punctuation tokens).
    pub start: usize,
    pub end: usize,
    /// Numeric value of `Size` / `Number` tokens.
    pub num: f64,
    /// For affix and wildcard tokens: the text is a `$parameter` name.
    pub param: bool,
}

fn is_punct(b: u8) -> bool {
    b.is_ascii_punctuation()
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn is_cntrl(b: u8) -> bool {
    b < 0x20 || b == 0x7f
}

/// Length of the `term` pattern at `i` (0 if none).
pub fn term_len(s: &[u8], i: usize) -> usize {
    let mut j = i;
    while let Some(&b) = s.get(j) {
        if b == b'\\' {
            match s.get(j + 1) {
                Some(&n) if is_punct(n) || is_space(n) => j += 2,
                _ => break,
            }
        } else if b == b'_' || !(is_punct(b) || is_cntrl(b) || is_space(b)) {
            j += 1;
        } else {
            break;
        }
    }
    j - i
}

fn nom_len<'a>(
    mut p: impl Parser<&'a [u8], Output = &'a [u8], Error = nom::error::Error<&'a [u8]>>,
    s: &'a [u8],
) -> usize {
    match p.parse(s) {
        Ok((_, m)) => m.len(),
        Err(_) => 0,
    }
}

/// `digit+`.
fn size_len(s: &[u8]) -> usize {
    nom_len(digit1, s)
}

/// `'-'? digit+ ('.' digit+)? ([eE] '-'? digit+)?`.
fn number_len(s: &[u8]) -> usize {
    nom_len(
        recognize((
            opt(char('-')),
            digit1,
            opt((char('.'), digit1)),
            opt((one_of("eE"), opt(char('-')), digit1)),
        )),
        s,
    )
}

/// `[+-]? 'inf'`.
fn inf_len(s: &[u8]) -> usize {
    nom_len(recognize((opt(one_of("+-")), tag(&b"inf"[..]))), s)
}

/// `term | number | '$' term` (the operand of an affix).
fn affix_operand_len(s: &[u8], i: usize) -> usize {
    let rest = s.get(i..).unwrap_or_default();
    let mut best = term_len(s, i).max(number_len(rest));
    if rest.first() == Some(&b'$') {
        let t = term_len(s, i + 1);
        if t > 0 {
            best = best.max(t + 1);
        }
    }
    best
}

/// `'\'' ((any - '\'' - '\\') | '\\' any)+ '\''` at `i`.
fn verbatim_len(s: &[u8], i: usize) -> usize {
    if s.get(i) != Some(&b'\'') {
        return 0;
    }
    let mut j = i + 1;
    loop {
        match s.get(j) {
            None => return 0,
            Some(b'\'') => return if j > i + 1 { j + 1 - i } else { 0 },
            Some(b'\\') => {
                if j + 1 >= s.len() {
                    return 0;
                }
                j += 2;
            }
            Some(_) => j += 1,
        }
    }
}

/// Splits `text` into tokens (the last one is `Eof`). Never fails: what starts no token is
/// skipped, as in RediSearch.
pub fn tokenize(s: &[u8]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    // The text range punctuation tokens inherit.
    let (mut last_start, mut last_end) = (0usize, 0usize);
    while i < s.len() {
        let rest = &s[i..];
        let b = rest[0];
        // Candidates as (length, kind, text start, text end, param), in listing order.
        let mut best: Option<(usize, Tok, usize, usize, bool)> = None;
        let mut consider = |len: usize, kind: Tok, ts: usize, te: usize, param: bool| {
            if len > 0 && best.is_none_or(|(l, ..)| len > l) {
                best = Some((len, kind, ts, te, param));
            }
        };
        let sz = size_len(rest);
        consider(sz, Tok::Size, i, i + sz, false);
        let nl = number_len(rest);
        consider(nl, Tok::Number, i, i + nl, false);
        if b == b'@' {
            let t = term_len(s, i + 1);
            if t > 0 {
                consider(t + 1, Tok::Modifier, i + 1, i + 1 + t, false);
            }
        }
        if b == b'$' {
            let t = term_len(s, i + 1);
            if t > 0 {
                consider(t + 1, Tok::Attribute, i + 1, i + 1 + t, false);
            }
        }
        if rest.starts_with(b"=>") {
            // RediSearch points the arrow's text one byte in, two bytes long.
            consider(2, Tok::Arrow, i + 1, (i + 3).min(s.len()), false);
        }
        if rest.len() >= 2 && rest[..2].eq_ignore_ascii_case(b"as") {
            consider(2, Tok::As, i, i + 2, false);
        }
        let il = inf_len(rest);
        consider(il, Tok::Number, i, i + il, false);
        let single = match b {
            b'"' => Some(Tok::Quote),
            b'|' => Some(Tok::Or),
            b'(' => Some(Tok::Lp),
            b')' => Some(Tok::Rp),
            b'{' => Some(Tok::Lb),
            b'}' => Some(Tok::Rb),
            b':' => Some(Tok::Colon),
            b';' => Some(Tok::Semicolon),
            b'-' => Some(Tok::Minus),
            b'~' => Some(Tok::Tilde),
            b'*' => Some(Tok::Star),
            b'%' => Some(Tok::Percent),
            b'[' => Some(Tok::Lsqb),
            b']' => Some(Tok::Rsqb),
            _ => None,
        };
        if let Some(k) = single {
            consider(1, k, last_start, last_end, false);
        }
        let tl = term_len(s, i);
        consider(tl, Tok::Term, i, i + tl, false);
        // prefix: operand '*'
        let ol = affix_operand_len(s, i);
        if ol > 0 && s.get(i + ol) == Some(&b'*') {
            let p = b == b'$';
            consider(ol + 1, Tok::Prefix, i + usize::from(p), i + ol, p);
        }
        if b == b'*' {
            let ol = affix_operand_len(s, i + 1);
            if ol > 0 {
                let p = s.get(i + 1) == Some(&b'$');
                let ts = i + 1 + usize::from(p);
                consider(ol + 1, Tok::Suffix, ts, i + 1 + ol, p);
                if s.get(i + 1 + ol) == Some(&b'*') {
                    consider(ol + 2, Tok::Contains, ts, i + 1 + ol, p);
                }
            }
        }
        let vl = verbatim_len(s, i);
        consider(vl, Tok::Verbatim, i + 1, i + vl.saturating_sub(1), false);
        if b == b'w' {
            let wl = verbatim_len(s, i + 1);
            if wl > 0 {
                let p = s.get(i + 2) == Some(&b'$');
                consider(wl + 1, Tok::Wildcard, i + 2 + usize::from(p), i + wl, p);
            }
        }
        match best {
            Some((len, kind, ts, te, param)) => {
                let num = match kind {
                    Tok::Size | Tok::Number => parse_num(&s[i..i + len]),
                    _ => 0.0,
                };
                out.push(Token {
                    kind,
                    pos: i,
                    start: ts,
                    end: te,
                    num,
                    param,
                });
                if !is_punct_token(kind) {
                    last_start = ts;
                    last_end = te;
                }
                i += len;
            }
            // Whitespace, control or punctuation starting no token: skipped.
            None => i += 1,
        }
    }
    let pos = out.last().map_or(0, |t| t.pos);
    out.push(Token {
        kind: Tok::Eof,
        pos,
        start: last_start,
        end: last_end,
        num: 0.0,
        param: false,
    });
    out
}

/// Tokens RediSearch's scanner emits without setting the token text.
fn is_punct_token(k: Tok) -> bool {
    use Tok::*;
    matches!(
        k,
        Quote
            | Or
            | Lp
            | Rp
            | Lb
            | Rb
            | Colon
            | Semicolon
            | Minus
            | Tilde
            | Star
            | Percent
            | Lsqb
            | Rsqb
    )
}

fn parse_num(text: &[u8]) -> f64 {
    let t = std::str::from_utf8(text).unwrap_or("");
    match t {
        "inf" | "+inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ => t.parse().unwrap_or(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        tokenize(s.as_bytes()).iter().map(|t| t.kind).collect()
    }

    fn texts(s: &str) -> Vec<String> {
        tokenize(s.as_bytes())
            .iter()
            .map(|t| String::from_utf8_lossy(&s.as_bytes()[t.start..t.end]).into_owned())
            .collect()
    }

    #[test]
    fn words_numbers_and_separators() {
        use Tok::*;
        assert_eq!(kinds("hello world"), vec![Term, Term, Eof]);
        assert_eq!(kinds("hello,world.x"), vec![Term, Term, Term, Eof]);
        assert_eq!(kinds("hello-world"), vec![Term, Minus, Term, Eof]);
        assert_eq!(
            kinds("123 -5 1.5e3 inf -inf"),
            vec![Size, Number, Number, Number, Number, Eof]
        );
        assert_eq!(kinds("123abc"), vec![Term, Eof]);
        assert_eq!(kinds("info as ask"), vec![Term, As, Term, Eof]);
        assert_eq!(texts("c\\ d e"), vec!["c\\ d", "e", "e"]);
    }

    #[test]
    fn operators_and_affixes() {
        use Tok::*;
        assert_eq!(
            kinds("@t:{a|b} => [ ( ) ; ~ %"),
            vec![
                Modifier, Colon, Lb, Term, Or, Term, Rb, Arrow, Lsqb, Lp, Rp, Semicolon, Tilde,
                Percent, Eof
            ]
        );
        assert_eq!(
            kinds("hel* *llo *ell* * $p*"),
            vec![Prefix, Suffix, Contains, Star, Prefix, Eof]
        );
        assert_eq!(texts("hel* *llo *ell*")[..3], ["hel", "llo", "ell"]);
        let t = tokenize(b"$p*");
        assert!(t[0].param);
        assert_eq!(kinds("w'foo*' 'verb'"), vec![Wildcard, Verbatim, Eof]);
        assert_eq!(texts("w'foo*'")[0], "foo*");
    }

    #[test]
    fn punctuation_inherits_previous_text() {
        let t = tokenize(b"hello )");
        assert_eq!(t[1].kind, Tok::Rp);
        assert_eq!(t[1].pos, 6);
        assert_eq!(&b"hello )"[t[1].start..t[1].end], b"hello");
        assert_eq!(t[2].kind, Tok::Eof);
        assert_eq!(t[2].pos, 6);
    }

    #[test]
    fn numeric_values() {
        let t = tokenize(b"-1.5 inf 42");
        assert_eq!(t[0].num, -1.5);
        assert_eq!(t[1].num, f64::INFINITY);
        assert_eq!(t[2].num, 42.0);
    }
}
