//! C `printf` number formats RediSearch's replies depend on: `%f` (FT.EXPLAIN numeric and geo
//! bounds) and `%g` / `%.12g` (attribute weights, vector radii, expression values turned into
//! strings). Rust's own formatting differs (no exponent form switch, no `e+05` style), so the
//! rules of C99 7.21.6.1 are reimplemented here. Infinities print as `inf` / `-inf`, NaN as `nan`.

/// `%f`: six digits after the point.
pub fn fmt_f(v: f64) -> String {
    if let Some(s) = non_finite(v) {
        return s.to_owned();
    }
    format!("{v:.6}")
}

/// `%.<precision>g` (precision 0 is taken as 1, as C does).
pub fn fmt_g(v: f64, precision: usize) -> String {
    if let Some(s) = non_finite(v) {
        return s.to_owned();
    }
    let p = precision.max(1);
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // The exponent %e would print with p significant digits (rounding may bump it).
    let e_form = format!("{:.*e}", p - 1, v);
    let exp: i32 = e_form
        .rsplit_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let p_i = i32::try_from(p).unwrap_or(i32::MAX);
    if exp < -4 || exp >= p_i {
        let (mantissa, _) = e_form.split_once('e').unwrap_or((&e_form, ""));
        let mantissa = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let decimals = usize::try_from(p_i - 1 - exp).unwrap_or(0);
        strip_zeros(&format!("{v:.decimals$}")).to_owned()
    }
}

fn non_finite(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("nan")
    } else if v == f64::INFINITY {
        Some("inf")
    } else if v == f64::NEG_INFINITY {
        Some("-inf")
    } else {
        None
    }
}

fn strip_zeros(s: &str) -> &str {
    if !s.contains('.') {
        return s;
    }
    s.trim_end_matches('0').trim_end_matches('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_f_matches_c() {
        assert_eq!(fmt_f(10.0), "10.000000");
        assert_eq!(fmt_f(-0.5), "-0.500000");
        assert_eq!(fmt_f(f64::INFINITY), "inf");
        assert_eq!(fmt_f(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn percent_g_matches_c() {
        assert_eq!(fmt_g(2.0, 6), "2");
        assert_eq!(fmt_g(0.5, 6), "0.5");
        assert_eq!(fmt_g(100000.0, 6), "100000");
        assert_eq!(fmt_g(1000000.0, 6), "1e+06");
        assert_eq!(fmt_g(0.0001, 6), "0.0001");
        assert_eq!(fmt_g(0.00001, 6), "1e-05");
        assert_eq!(fmt_g(1.5e-7, 6), "1.5e-07");
        assert_eq!(fmt_g(123456789.0, 12), "123456789");
        assert_eq!(fmt_g(0.1 + 0.2, 12), "0.3");
        assert_eq!(fmt_g(-3.25, 12), "-3.25");
        assert_eq!(fmt_g(1e100, 12), "1e+100");
        assert_eq!(fmt_g(0.0, 6), "0");
        assert_eq!(fmt_g(f64::NAN, 6), "nan");
        assert_eq!(fmt_g(999999.5, 6), "1e+06");
    }
}
