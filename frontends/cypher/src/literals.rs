//! Decoding of number and string tokens into values, with the TCK's error
//! codes (`IntegerOverflow`, `FloatingPointOverflow`, `InvalidNumberLiteral`,
//! `InvalidUnicodeLiteral`). Offsets in errors are absolute byte offsets.

use crate::ast::Literal;
use crate::error::{CypherError, ErrorDetail};

/// Decode a `number` token. `negative` folds a preceding unary minus in, so
/// that `-9223372036854775808` is representable.
pub fn decode_number(text: &str, offset: usize, negative: bool) -> Result<Literal, CypherError> {
    let invalid = || {
        CypherError::new(
            ErrorDetail::InvalidNumberLiteral,
            offset,
            format!("Invalid numeric literal '{text}'"),
        )
    };
    let overflow = || {
        CypherError::new(
            ErrorDetail::IntegerOverflow,
            offset,
            format!("Integer literal '{text}' is too large"),
        )
    };
    let lower = text.to_ascii_lowercase();
    let (digits, radix) = if let Some(h) = lower.strip_prefix("0x") {
        (h, 16)
    } else if let Some(o) = lower.strip_prefix("0o") {
        (o, 8)
    } else if lower.contains(['.', 'e']) {
        return decode_float(&lower, text, offset, negative);
    } else {
        (lower.as_str(), 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(invalid());
    }
    let magnitude = u128::from_str_radix(digits, radix).map_err(|_| overflow())?;
    let value = if negative {
        0i128.checked_sub(i128::try_from(magnitude).map_err(|_| overflow())?)
    } else {
        i128::try_from(magnitude).ok()
    }
    .ok_or_else(overflow)?;
    i64::try_from(value)
        .map(Literal::Integer)
        .map_err(|_| overflow())
}

fn decode_float(
    lower: &str,
    text: &str,
    offset: usize,
    negative: bool,
) -> Result<Literal, CypherError> {
    // Shape check: digits* '.' digits+ exp? | digits+ exp (the grammar lets
    // trailing letters through so we can name the error).
    let (mantissa, exp) = match lower.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (lower, None),
    };
    let mantissa_ok = !mantissa.is_empty()
        && mantissa.chars().filter(|&c| c == '.').count() <= 1
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
        && !mantissa.ends_with('.');
    let exp_ok = exp.is_none_or(|e| {
        let d = e.strip_prefix(['+', '-']).unwrap_or(e);
        !d.is_empty() && d.chars().all(|c| c.is_ascii_digit())
    });
    if !mantissa_ok || !exp_ok {
        return Err(CypherError::new(
            ErrorDetail::InvalidNumberLiteral,
            offset,
            format!("Invalid numeric literal '{text}'"),
        ));
    }
    let v: f64 = lower.parse().map_err(|_| {
        CypherError::new(
            ErrorDetail::InvalidNumberLiteral,
            offset,
            format!("Invalid numeric literal '{text}'"),
        )
    })?;
    if v.is_infinite() {
        return Err(CypherError::new(
            ErrorDetail::FloatingPointOverflow,
            offset,
            format!("Floating point literal '{text}' is too large"),
        ));
    }
    Ok(Literal::Float(if negative { -v } else { v }))
}

/// Decode a quoted string token (quotes included) with its escapes.
pub fn decode_string(token: &str, offset: usize) -> Result<String, CypherError> {
    let body = token
        .get(1..token.len().saturating_sub(1))
        .ok_or_else(|| CypherError::new(ErrorDetail::UnexpectedSyntax, offset, "Bad string"))?;
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let at = offset + 1 + i;
        match chars.next().map(|(_, e)| e) {
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some(u @ ('u' | 'U')) => {
                let len = if u == 'u' { 4 } else { 8 };
                let hex: String = chars.by_ref().take(len).map(|(_, h)| h).collect();
                let ch = (hex.len() == len)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .and_then(char::from_u32)
                    .ok_or_else(|| {
                        CypherError::new(
                            ErrorDetail::InvalidUnicodeLiteral,
                            at,
                            format!("Invalid unicode escape '\\{u}{hex}'"),
                        )
                    })?;
                out.push(ch);
            }
            // Unknown escapes are kept literally, as Neo4j and FalkorDB do.
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Ok(out)
}

/// Remove back-quotes from an identifier token (doubled back-quotes collapse).
pub fn unescape_name(token: &str) -> String {
    if token.starts_with('`') && token.ends_with('`') && token.len() >= 2 {
        let inner = token.get(1..token.len() - 1).unwrap_or("");
        inner.replace("``", "`")
    } else {
        token.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Result<Literal, ErrorDetail> {
        decode_number(s, 0, false).map_err(|e| e.detail)
    }

    #[test]
    fn integers_in_all_radixes() {
        assert_eq!(num("42"), Ok(Literal::Integer(42)));
        assert_eq!(num("0x1F"), Ok(Literal::Integer(31)));
        assert_eq!(num("0o17"), Ok(Literal::Integer(15)));
        assert_eq!(num("9223372036854775807"), Ok(Literal::Integer(i64::MAX)));
        assert_eq!(
            decode_number("9223372036854775808", 0, true).map_err(|e| e.detail),
            Ok(Literal::Integer(i64::MIN))
        );
    }

    #[test]
    fn integer_errors() {
        assert_eq!(
            num("9223372036854775808"),
            Err(ErrorDetail::IntegerOverflow)
        );
        assert_eq!(num("0x8000000000000000"), Err(ErrorDetail::IntegerOverflow));
        assert_eq!(num("0x1G"), Err(ErrorDetail::InvalidNumberLiteral));
        assert_eq!(num("0o8"), Err(ErrorDetail::InvalidNumberLiteral));
        assert_eq!(num("12abc"), Err(ErrorDetail::InvalidNumberLiteral));
        assert_eq!(num("0x"), Err(ErrorDetail::InvalidNumberLiteral));
    }

    #[test]
    fn floats() {
        assert_eq!(num("1.5"), Ok(Literal::Float(1.5)));
        assert_eq!(num(".5"), Ok(Literal::Float(0.5)));
        assert_eq!(num("1e10"), Ok(Literal::Float(1e10)));
        assert_eq!(num("1.5E-3"), Ok(Literal::Float(1.5e-3)));
        assert_eq!(num("1e309"), Err(ErrorDetail::FloatingPointOverflow));
        assert_eq!(num("1.5x"), Err(ErrorDetail::InvalidNumberLiteral));
    }

    #[test]
    fn string_escapes() {
        assert_eq!(decode_string(r"'a\'b\\c\n\t'", 0).unwrap(), "a'b\\c\n\t");
        assert_eq!(decode_string(r#""q\"""#, 0).unwrap(), "q\"");
        assert_eq!(decode_string(r"'\u00e9'", 0).unwrap(), "é");
        let e = decode_string(r"'x\uZZZZ'", 10).unwrap_err();
        assert_eq!(e.detail, ErrorDetail::InvalidUnicodeLiteral);
        assert_eq!(e.offset, 12);
    }

    #[test]
    fn names() {
        assert_eq!(unescape_name("`a``b`"), "a`b");
        assert_eq!(unescape_name("abc"), "abc");
    }
}
