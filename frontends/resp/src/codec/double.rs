//! Double formatting as redis-server 7.0's `addReplyDouble`: C's `"%.17g"`, with `inf`, `-inf`
//! and `nan` spelled out.
//!
//! Invariant: the output is what glibc's `printf("%.17g")` prints for every finite value
//! (17 significant digits, trailing zeros dropped, exponent form below 1e-4 or from 1e17 on,
//! exponent with a sign and at least two digits). Rust's float formatting rounds exactly, as glibc
//! does, so the digits agree.

/// Significant digits of `%.17g`.
const PRECISION: i32 = 17;

/// Appends the `%.17g` text of `d` to `out`.
pub fn format_double(d: f64, out: &mut Vec<u8>) {
    if d.is_nan() {
        out.extend_from_slice(b"nan");
    } else if d.is_infinite() {
        out.extend_from_slice(if d > 0.0 { b"inf" } else { b"-inf" });
    } else if d == 0.0 {
        out.extend_from_slice(if d.is_sign_negative() { b"-0" } else { b"0" });
    } else {
        format_finite(d, out);
    }
}

fn format_finite(d: f64, out: &mut Vec<u8>) {
    // Integral values below 1e17 print as the integer itself under `%.17g` (at most 17
    // digits, no exponent): skip the exact-digit formatting, the common case for scores.
    // (`d as i64` is exact below 1e17 in magnitude; cheaper than `fract`, a libm call.)
    if d.abs() < 1e17 && (d as i64) as f64 == d {
        out.extend_from_slice(itoa::Buffer::new().format(d as i64).as_bytes());
        return;
    }
    // `%g` picks the style from the exponent the value has once rounded to 17 digits.
    let sci = format!("{:.*e}", (PRECISION - 1) as usize, d);
    let Some((mantissa, exp)) = sci.split_once('e') else {
        out.extend_from_slice(sci.as_bytes());
        return;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..PRECISION).contains(&exp) {
        out.extend_from_slice(trim_fraction(mantissa).as_bytes());
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let mag = exp.unsigned_abs();
        if mag < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(itoa::Buffer::new().format(mag).as_bytes());
    } else {
        let decimals = usize::try_from(PRECISION - 1 - exp).unwrap_or(0);
        let fixed = format!("{d:.decimals$}");
        out.extend_from_slice(trim_fraction(&fixed).as_bytes());
    }
}

/// Drops trailing zeros of a fraction, and the point if nothing is left after it.
fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(d: f64) -> String {
        let mut out = Vec::new();
        format_double(d, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn matches_printf_g17() {
        let cases: &[(f64, &str)] = &[
            (0.1, "0.10000000000000001"),
            (1.5, "1.5"),
            (3.0, "3"),
            (-2.0, "-2"),
            (100.0, "100"),
            (1e16, "10000000000000000"),
            (99999999999999984.0, "99999999999999984"),
            (-123456.0, "-123456"),
            (1e17, "1e+17"),
            (1e20, "1e+20"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1e-4, "0.0001"),
            (1e-5, "1.0000000000000001e-05"),
            (2.5e-300, "2.5e-300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "4.9406564584124654e-324"),
            (3.25e-3, "0.0032499999999999999"),
            (-0.0, "-0"),
            (0.0, "0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for &(d, want) in cases {
            assert_eq!(g(d), want, "{d:e}");
        }
    }

    #[test]
    fn parses_back_exactly() {
        for d in [0.1, 1.0 / 3.0, 2.0f64.sqrt(), 1e-7, 6.02214076e23, -123.456] {
            let text = g(d);
            assert_eq!(text.parse::<f64>().ok(), Some(d), "{text}");
        }
    }
}
