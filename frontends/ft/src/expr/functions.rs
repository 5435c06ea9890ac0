//! The APPLY / FILTER function registry (name, arity) and the functions themselves, as
//! RediSearch implements them in `aggregate/functions/{string,math,date,geo}.c`.
//!
//! Conventions (RediSearch's): a math or date function given something that is not a number
//! yields NULL; string functions given a non-string yield NULL (`lower`, `upper`) or an error
//! (`substr`, `format`, `split`, `startswith`, `contains`, `strlen`). Dates are Unix seconds,
//! UTC.

use super::ast::Value;
use super::eval::EvalError;

/// A registered function.
#[derive(Debug, Clone, Copy)]
pub struct FunctionInfo {
    pub name: &'static str,
    pub min_args: usize,
    pub max_args: usize,
}

const fn f(name: &'static str, min_args: usize, max_args: usize) -> FunctionInfo {
    FunctionInfo {
        name,
        min_args,
        max_args,
    }
}

/// Every function, with its arity (`usize::MAX` = variadic).
pub const FUNCTIONS: &[FunctionInfo] = &[
    f("lower", 1, 1),
    f("upper", 1, 1),
    f("substr", 3, 3),
    f("format", 1, usize::MAX),
    f("split", 1, 3),
    f("matched_terms", 0, 1),
    f("to_number", 1, 1),
    f("to_str", 1, 1),
    f("exists", 1, 1),
    f("startswith", 2, 2),
    f("contains", 2, 2),
    f("strlen", 1, 1),
    f("log", 1, 1),
    f("abs", 1, 1),
    f("ceil", 1, 1),
    f("floor", 1, 1),
    f("log2", 1, 1),
    f("exp", 1, 1),
    f("sqrt", 1, 1),
    f("timefmt", 1, 2),
    f("parsetime", 2, 2),
    f("day", 1, 1),
    f("hour", 1, 1),
    f("minute", 1, 1),
    f("month", 1, 1),
    f("dayofweek", 1, 1),
    f("dayofmonth", 1, 1),
    f("dayofyear", 1, 1),
    f("year", 1, 1),
    f("monthofyear", 1, 1),
    f("geodistance", 2, 4),
];

/// Largest |timestamp| the date functions accept (about ±31 million years); beyond, they
/// yield NULL (C's `gmtime` fails there too), which also keeps the calendar arithmetic far
/// from `i64` overflow.
pub const MAX_TIMESTAMP: f64 = 1e15;

/// Looks a function up, case-insensitively.
pub fn lookup(name: &str) -> Option<&'static FunctionInfo> {
    FUNCTIONS.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

fn type_err(fname: &str, idx: usize) -> EvalError {
    EvalError::new(format!(
        "Invalid type for argument {idx} in function '{fname}'"
    ))
}

fn arg_str<'v>(fname: &str, args: &'v [Value], idx: usize) -> Result<&'v str, EvalError> {
    match args.get(idx) {
        Some(Value::Str(s)) => Ok(s),
        _ => Err(type_err(fname, idx)),
    }
}

/// Calls `name` (a registry name; arity already checked by the parser).
pub fn call(
    name: &str,
    args: &[Value],
    matched_terms: &dyn Fn() -> Vec<String>,
) -> Result<Value, EvalError> {
    let a0 = args.first().unwrap_or(&Value::Null);
    let num0 = a0.to_number();
    let math = |g: fn(f64) -> f64| Ok(num0.map_or(Value::Null, |d| Value::Num(g(d))));
    let date = |g: fn(i64) -> f64| {
        Ok(match num0 {
            Some(d) if d.abs() <= MAX_TIMESTAMP => Value::Num(g(d.floor() as i64)),
            _ => Value::Null,
        })
    };
    match name {
        "lower" | "upper" => Ok(match a0 {
            Value::Str(s) => Value::Str(if name == "lower" {
                s.to_ascii_lowercase()
            } else {
                s.to_ascii_uppercase()
            }),
            _ => Value::Null,
        }),
        "substr" => substr(args),
        "format" => format(args),
        "split" => split(args),
        "matched_terms" => {
            let mut max = 100usize;
            if let Some(d) = args.first().and_then(Value::to_number)
                && (1.0..=100.0).contains(&d)
            {
                max = d as usize;
            }
            let terms = matched_terms();
            if terms.is_empty() {
                Ok(Value::Null)
            } else {
                Ok(Value::Array(
                    terms.into_iter().take(max).map(Value::Str).collect(),
                ))
            }
        }
        "to_number" => num0.map(Value::Num).ok_or_else(|| {
            EvalError::new(format!(
                "to_number: cannot convert string '{}'",
                a0.to_display()
            ))
        }),
        "to_str" => Ok(Value::Str(a0.to_display())),
        "exists" => Ok(Value::num(*a0 != Value::Null)),
        "startswith" => {
            let s = arg_str(name, args, 0)?;
            let p = arg_str(name, args, 1)?;
            Ok(Value::num(s.as_bytes().starts_with(p.as_bytes())))
        }
        "contains" => {
            let s = arg_str(name, args, 0)?.as_bytes();
            let p = arg_str(name, args, 1)?.as_bytes();
            let n = if p.is_empty() {
                s.len() + 1
            } else {
                // Overlapping occurrences, as strstr advancing by one byte counts them.
                s.windows(p.len()).filter(|w| *w == p).count()
            };
            Ok(Value::Num(n as f64))
        }
        "strlen" => Ok(Value::Num(arg_str(name, args, 0)?.len() as f64)),
        "log" => math(f64::ln),
        "abs" => math(f64::abs),
        "ceil" => math(f64::ceil),
        "floor" => math(f64::floor),
        "log2" => math(f64::log2),
        "exp" => math(f64::exp),
        "sqrt" => math(f64::sqrt),
        "day" => date(|t| (t.div_euclid(86_400) * 86_400) as f64),
        "hour" => date(|t| (t.div_euclid(3_600) * 3_600) as f64),
        "minute" => date(|t| (t.div_euclid(60) * 60) as f64),
        "month" => date(|t| {
            let (y, m, _) = civil_from_days(t.div_euclid(86_400));
            (days_from_civil(y, m, 1) * 86_400) as f64
        }),
        "dayofweek" => date(|t| (t.div_euclid(86_400) + 4).rem_euclid(7) as f64),
        "dayofmonth" => date(|t| civil_from_days(t.div_euclid(86_400)).2 as f64),
        "dayofyear" => date(|t| {
            let days = t.div_euclid(86_400);
            let (y, _, _) = civil_from_days(days);
            (days - days_from_civil(y, 1, 1)) as f64
        }),
        "year" => date(|t| civil_from_days(t.div_euclid(86_400)).0 as f64),
        "monthofyear" => date(|t| (civil_from_days(t.div_euclid(86_400)).1 - 1) as f64),
        "timefmt" => {
            let fmt = match args.get(1) {
                Some(Value::Str(s)) => s.as_str(),
                Some(_) => return Err(type_err(name, 1)),
                None => "%FT%TZ",
            };
            Ok(match num0 {
                Some(d) if d.abs() <= MAX_TIMESTAMP => Value::Str(strftime(d.floor() as i64, fmt)),
                _ => Value::Null,
            })
        }
        "parsetime" => {
            let (Value::Str(s), Value::Str(fmt)) = (a0, args.get(1).unwrap_or(&Value::Null)) else {
                return Ok(Value::Null);
            };
            Ok(strptime(s, fmt).map_or(Value::Null, |t| Value::Num(t as f64)))
        }
        "geodistance" => Ok(geodistance(args).map_or(Value::Null, Value::Num)),
        _ => Err(EvalError::new(format!("Unknown function name '{name}'"))),
    }
}

fn substr(args: &[Value]) -> Result<Value, EvalError> {
    let (Some(Value::Num(off)), Some(Value::Num(len))) = (args.get(1), args.get(2)) else {
        let idx = if matches!(args.get(1), Some(Value::Num(_))) {
            2
        } else {
            1
        };
        return Err(type_err("substr", idx));
    };
    let Some(Value::Str(s)) = args.first() else {
        return Err(EvalError::new("Invalid type for substr. Expected string"));
    };
    let b = s.as_bytes();
    let sz = b.len() as i64;
    let mut offset = *off as i64;
    let mut len = *len as i64;
    if offset < 0 {
        offset += sz;
    }
    offset = offset.clamp(0, sz);
    if len < 0 {
        len = ((sz - offset) + len).max(0);
    }
    if offset.saturating_add(len) > sz {
        len = sz - offset;
    }
    let start = usize::try_from(offset).unwrap_or(0);
    let end = start + usize::try_from(len).unwrap_or(0);
    Ok(Value::Str(
        String::from_utf8_lossy(b.get(start..end).unwrap_or_default()).into_owned(),
    ))
}

fn format(args: &[Value]) -> Result<Value, EvalError> {
    let Some(Value::Str(fmt)) = args.first() else {
        return Err(type_err("format", 0));
    };
    let mut out = String::new();
    let mut argix = 1;
    let mut chars = fmt.chars();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            None => return Err(EvalError::new("Bad format string!")),
            Some('%') => out.push('%'),
            Some('s') => {
                let Some(a) = args.get(argix) else {
                    return Err(EvalError::new("Not enough arguments for format"));
                };
                argix += 1;
                match a {
                    Value::Null => out.push_str("(null)"),
                    v => out.push_str(&v.to_display()),
                }
            }
            Some(_) => {
                if argix >= args.len() {
                    return Err(EvalError::new("Not enough arguments for format"));
                }
                return Err(EvalError::new("Unknown format specifier passed"));
            }
        }
    }
    Ok(Value::Str(out))
}

fn split(args: &[Value]) -> Result<Value, EvalError> {
    let s = arg_str("split", args, 0)?;
    let sep = if args.len() >= 2 {
        arg_str("split", args, 1)?
    } else {
        ","
    };
    let strip = if args.len() == 3 {
        arg_str("split", args, 2)?
    } else {
        " "
    };
    let mut out = Vec::new();
    for piece in s.split(|c: char| sep.contains(c)) {
        if out.len() >= 1024 {
            break;
        }
        let t = piece.trim_matches(|c: char| strip.contains(c));
        if !t.is_empty() {
            out.push(Value::Str(t.to_owned()));
        }
    }
    Ok(Value::Array(out))
}

// ----- dates -----------------------------------------------------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1-12, day 1-31) of a day number.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

const WDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `strftime` over `gmtime(t)` for the common conversions (`%Y %m %d %H %M %S %F %T %j %a %A
/// %b %B %h %y %e %u %w %s %p %I %D %R %Z %z %n %t %%`); others are copied as is.
pub fn strftime(t: i64, fmt: &str) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let wday = (days + 4).rem_euclid(7) as usize;
    let yday = days - days_from_civil(y, 1, 1);
    let mi = usize::try_from(m - 1).unwrap_or(0).min(11);
    let mut out = String::new();
    let mut it = fmt.chars();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('Y') => out.push_str(&y.to_string()),
            Some('m') => out.push_str(&format!("{m:02}")),
            Some('d') => out.push_str(&format!("{d:02}")),
            Some('e') => out.push_str(&format!("{d:2}")),
            Some('H') => out.push_str(&format!("{hh:02}")),
            Some('I') => out.push_str(&format!("{:02}", if hh % 12 == 0 { 12 } else { hh % 12 })),
            Some('p') => out.push_str(if hh < 12 { "AM" } else { "PM" }),
            Some('M') => out.push_str(&format!("{mm:02}")),
            Some('S') => out.push_str(&format!("{ss:02}")),
            Some('F') => out.push_str(&format!("{y}-{m:02}-{d:02}")),
            Some('T') => out.push_str(&format!("{hh:02}:{mm:02}:{ss:02}")),
            Some('R') => out.push_str(&format!("{hh:02}:{mm:02}")),
            Some('D') => out.push_str(&format!("{m:02}/{d:02}/{:02}", y.rem_euclid(100))),
            Some('j') => out.push_str(&format!("{:03}", yday + 1)),
            Some('a') => out.push_str(&WDAYS[wday][..3]),
            Some('A') => out.push_str(WDAYS[wday]),
            Some('b' | 'h') => out.push_str(&MONTHS[mi][..3]),
            Some('B') => out.push_str(MONTHS[mi]),
            Some('y') => out.push_str(&format!("{:02}", y.rem_euclid(100))),
            Some('u') => out.push_str(&(if wday == 0 { 7 } else { wday }).to_string()),
            Some('w') => out.push_str(&wday.to_string()),
            Some('s') => out.push_str(&t.to_string()),
            Some('Z') => out.push_str("GMT"),
            Some('z') => out.push_str("+0000"),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('%') => out.push('%'),
            Some(o) => {
                out.push('%');
                out.push(o);
            }
            None => out.push('%'),
        }
    }
    out
}

/// `strptime` + `timegm` for `%Y %m %d %H %M %S %F %T %j %y %b %B %h %e %Z %z %s %%` and
/// literal text (whitespace in the format matches any run of whitespace).
pub fn strptime(s: &str, fmt: &str) -> Option<i64> {
    let (mut y, mut mo, mut d, mut h, mut mi, mut sec) = (1900i64, 1i64, 1i64, 0i64, 0i64, 0i64);
    let mut yday: Option<i64> = None;
    let b = s.as_bytes();
    let mut i = 0usize;
    let num = |i: &mut usize, max: usize| -> Option<i64> {
        let mut j = *i;
        let neg = b.get(j) == Some(&b'-');
        if neg || b.get(j) == Some(&b'+') {
            j += 1;
        }
        let start = j;
        while j < b.len() && j - start < max && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == start {
            return None;
        }
        let v: i64 = std::str::from_utf8(&b[start..j]).ok()?.parse().ok()?;
        *i = j;
        Some(if neg { -v } else { v })
    };
    let mut f = fmt.chars().peekable();
    while let Some(c) = f.next() {
        if c.is_whitespace() {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            continue;
        }
        if c != '%' {
            if b.get(i).copied() != u8::try_from(c).ok() {
                return None;
            }
            i += 1;
            continue;
        }
        match f.next()? {
            'Y' => y = num(&mut i, 4)?,
            'y' => {
                let v = num(&mut i, 2)?;
                y = if v < 69 { 2000 + v } else { 1900 + v };
            }
            'm' => mo = num(&mut i, 2)?,
            'd' | 'e' => d = num(&mut i, 2)?,
            'H' => h = num(&mut i, 2)?,
            'M' => mi = num(&mut i, 2)?,
            'S' => sec = num(&mut i, 2)?,
            'j' => yday = Some(num(&mut i, 3)? - 1),
            's' => return num(&mut i, 20),
            'F' => {
                y = num(&mut i, 4)?;
                (b.get(i) == Some(&b'-')).then_some(())?;
                i += 1;
                mo = num(&mut i, 2)?;
                (b.get(i) == Some(&b'-')).then_some(())?;
                i += 1;
                d = num(&mut i, 2)?;
            }
            'T' => {
                h = num(&mut i, 2)?;
                (b.get(i) == Some(&b':')).then_some(())?;
                i += 1;
                mi = num(&mut i, 2)?;
                (b.get(i) == Some(&b':')).then_some(())?;
                i += 1;
                sec = num(&mut i, 2)?;
            }
            'b' | 'B' | 'h' => {
                let rest = s.get(i..)?.to_ascii_lowercase();
                let (idx, len) = MONTHS.iter().enumerate().find_map(|(k, name)| {
                    let full = name.to_ascii_lowercase();
                    if rest.starts_with(&full) {
                        Some((k, full.len()))
                    } else if rest.starts_with(&full[..3]) {
                        Some((k, 3))
                    } else {
                        None
                    }
                })?;
                mo = idx as i64 + 1;
                i += len;
            }
            'Z' => {
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
            }
            'z' => {
                if b.get(i) == Some(&b'Z') {
                    i += 1;
                } else {
                    num(&mut i, 4)?;
                }
            }
            '%' => {
                (b.get(i) == Some(&b'%')).then_some(())?;
                i += 1;
            }
            _ => return None,
        }
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 24 || mi > 59 || sec > 61 {
        return None;
    }
    let days = match yday {
        Some(yd) => days_from_civil(y, 1, 1) + yd,
        None => days_from_civil(y, mo, d),
    };
    Some(days * 86_400 + h * 3600 + mi * 60 + sec)
}

// ----- geo -------------------------------------------------------------------------------

/// Earth radius Redis' geo commands (and RediSearch) use, in metres.
const EARTH_RADIUS_M: f64 = 6_372_797.560_856;

fn parse_lonlat(v: &Value) -> Option<(f64, f64)> {
    let Value::Str(s) = v else { return None };
    let (lon, lat) = s.split_once(',')?;
    Some((lon.trim().parse().ok()?, lat.trim().parse().ok()?))
}

/// Haversine distance in metres between `"lon,lat"` strings or four numbers.
fn geodistance(args: &[Value]) -> Option<f64> {
    let ((lon1, lat1), (lon2, lat2)) = match args {
        [a, b] => (parse_lonlat(a)?, parse_lonlat(b)?),
        [a, b, c] => {
            if let Some(p) = parse_lonlat(a) {
                (p, (b.to_number()?, c.to_number()?))
            } else {
                ((a.to_number()?, b.to_number()?), parse_lonlat(c)?)
            }
        }
        [a, b, c, d] => (
            (a.to_number()?, b.to_number()?),
            (c.to_number()?, d.to_number()?),
        ),
        _ => return None,
    };
    let (la1, la2) = (lat1.to_radians(), lat2.to_radians());
    let u = ((la2 - la1) / 2.0).sin();
    let v = ((lon2 - lon1).to_radians() / 2.0).sin();
    let a = u * u + la1.cos() * la2.cos() * v * v;
    Some(2.0 * EARTH_RADIUS_M * a.sqrt().asin())
}
