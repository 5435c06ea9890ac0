//! A direct scanner for the common shape of the `CYPHER name=value ...` prefix: values that are
//! literals (numbers, strings, booleans, null) and lists/maps of them, as clients send query
//! parameters. A bulk load sends thousands of rows per query in this prefix, and running the
//! general pest grammar over them (every literal an `expression` with a dozen precedence
//! levels) cost more than executing the query.
//!
//! Contract: [`split`] returns `Some` only when pest's `prefix_only` rule would produce exactly
//! the same parameters and end offset; on anything it does not fully understand (comments,
//! non-ASCII whitespace or names, operators, hex/octal numbers, `..` escapes in names, a value
//! followed by something that could continue an expression, no statement after the prefix) it
//! returns `None` and the caller runs pest, which also produces the error messages. Number and
//! string tokens are decoded by the same functions the AST builder uses.
//!
//! Recursion depth is bounded by the caller's [`crate::parser::check_nesting`] pre-scan.

use std::sync::Arc;

use moon_graph::Value;

use crate::ast::ConstValue;
use crate::literals::{decode_number, decode_string};

/// Prefix parameters and the offset where the statement starts, or `None` (use pest).
pub(crate) fn split(text: &str) -> Option<(Vec<(String, ConstValue)>, usize)> {
    split_as(text, &mut Consts)
}

/// [`split`] straight to engine values (no `ConstValue` tree in between), with map keys
/// shared between rows: a bulk load's rows all repeat the same few keys.
pub(crate) fn split_values(text: &str) -> Option<(Vec<(String, Value)>, usize)> {
    split_as(text, &mut Values { keys: Vec::new() })
}

/// What the scanner builds values with.
trait Build {
    type V;
    fn null(&mut self) -> Self::V;
    fn bool(&mut self, b: bool) -> Self::V;
    fn int(&mut self, i: i64) -> Self::V;
    fn float(&mut self, f: f64) -> Self::V;
    /// A string literal's content: `raw` when it has no escapes, else `decoded`.
    fn string(&mut self, raw: Option<&str>, decoded: Option<String>) -> Option<Self::V>;
    fn list(&mut self, items: Vec<Self::V>) -> Self::V;
    fn key(&mut self, k: &str) -> Self::K;
    type K;
    fn map(&mut self, entries: Vec<(Self::K, Self::V)>) -> Self::V;
}

struct Consts;

impl Build for Consts {
    type V = ConstValue;
    type K = String;
    fn null(&mut self) -> ConstValue {
        ConstValue::Null
    }
    fn bool(&mut self, b: bool) -> ConstValue {
        ConstValue::Bool(b)
    }
    fn int(&mut self, i: i64) -> ConstValue {
        ConstValue::Integer(i)
    }
    fn float(&mut self, f: f64) -> ConstValue {
        ConstValue::Float(f)
    }
    fn string(&mut self, raw: Option<&str>, decoded: Option<String>) -> Option<ConstValue> {
        decoded
            .or_else(|| raw.map(str::to_string))
            .map(ConstValue::String)
    }
    fn list(&mut self, items: Vec<ConstValue>) -> ConstValue {
        ConstValue::List(items)
    }
    fn key(&mut self, k: &str) -> String {
        k.to_string()
    }
    fn map(&mut self, entries: Vec<(String, ConstValue)>) -> ConstValue {
        ConstValue::Map(entries)
    }
}

/// Builds what `lower::const_to_value` would make of the `ConstValue`.
struct Values {
    /// Map keys seen so far (few distinct ones; searched linearly).
    keys: Vec<Arc<str>>,
}

/// Distinct keys [`Values`] shares; past this, keys are allocated per map.
const SHARED_KEYS: usize = 32;

impl Build for Values {
    type V = Value;
    type K = Arc<str>;
    fn null(&mut self) -> Value {
        Value::Null
    }
    fn bool(&mut self, b: bool) -> Value {
        Value::Bool(b)
    }
    fn int(&mut self, i: i64) -> Value {
        Value::Int(i)
    }
    fn float(&mut self, f: f64) -> Value {
        Value::Float(f)
    }
    fn string(&mut self, raw: Option<&str>, decoded: Option<String>) -> Option<Value> {
        match (raw, decoded) {
            (Some(r), _) => Some(Value::str(r)),
            (None, Some(d)) => Some(Value::str(&d)),
            (None, None) => None,
        }
    }
    fn list(&mut self, items: Vec<Value>) -> Value {
        Value::List(items)
    }
    fn key(&mut self, k: &str) -> Arc<str> {
        if let Some(a) = self.keys.iter().find(|a| ***a == *k) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(k);
        if self.keys.len() < SHARED_KEYS {
            self.keys.push(a.clone());
        }
        a
    }
    fn map(&mut self, entries: Vec<(Arc<str>, Value)>) -> Value {
        Value::Map(entries)
    }
}

/// The prefix's `(name, value)` pairs and the byte offset where the statement starts.
type Split<V> = (Vec<(String, V)>, usize);

fn split_as<B: Build>(text: &str, out: &mut B) -> Option<Split<B::V>> {
    let mut s = Scan {
        b: text.as_bytes(),
        text,
        i: 0,
    };
    s.ws();
    if !s.keyword_ci(b"cypher") {
        return None;
    }
    let mut end;
    let mut params = Vec::new();
    loop {
        s.ws();
        // pest's repetition consumes the whitespace before an attempt that fails.
        end = s.i;
        // The next token is a parameter name (followed by `=`) or the statement's first word.
        let at = s.i;
        let name = match s.peek()? {
            b'`' => Some(s.escaped_name()?),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let w = s.word()?;
                if params.is_empty() || !continues_expression(w) {
                    Some(w.to_string())
                } else {
                    return None;
                }
            }
            _ => return None,
        };
        let name = name?;
        s.ws();
        if s.peek() == Some(b'=') && matches!(s.b.get(s.i + 1), Some(b'~' | b'=')) {
            return None;
        }
        if s.peek() != Some(b'=') {
            // The statement starts at `at` (a back-quoted word cannot start one: let pest
            // report it).
            if s.b.get(at) == Some(&b'`') {
                return None;
            }
            return Some((params, end));
        }
        s.i += 1;
        s.ws();
        let v = s.value(out)?;
        params.push((name, v));
    }
}

/// Words that may continue an expression after a literal (`1 AND ...`, `x IS NULL`): a value
/// followed by one is not the end of the parameter's expression.
fn continues_expression(w: &str) -> bool {
    [
        "and", "or", "xor", "in", "is", "starts", "ends", "contains", "not",
    ]
    .iter()
    .any(|k| w.eq_ignore_ascii_case(k))
}

struct Scan<'a> {
    b: &'a [u8],
    text: &'a str,
    i: usize,
}

/// `ident_char` for ASCII; any non-ASCII byte counts too (it may be XID_CONTINUE), which only
/// makes the scanner give up more often.
fn ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Skips ASCII whitespace (pest's other whitespace and comments make `value` give up).
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\r' | b'\n' | 0x0B | 0x0C) = self.peek() {
            self.i += 1;
        }
    }

    /// A case-insensitive keyword not followed by an identifier character.
    fn keyword_ci(&mut self, kw: &[u8]) -> bool {
        let Some(got) = self.b.get(self.i..self.i + kw.len()) else {
            return false;
        };
        if !got.eq_ignore_ascii_case(kw)
            || self
                .b
                .get(self.i + kw.len())
                .is_some_and(|&c| ident_byte(c))
        {
            return false;
        }
        self.i += kw.len();
        true
    }

    /// An ASCII identifier (`None` if a non-ASCII character is part of it).
    fn word(&mut self) -> Option<&str> {
        let start = self.i;
        while self.peek().is_some_and(ident_byte) {
            self.i += 1;
        }
        let w = self.text.get(start..self.i)?;
        w.is_ascii().then_some(w)
    }

    /// A back-quoted name without doubled back-quotes inside.
    fn escaped_name(&mut self) -> Option<String> {
        let start = self.i + 1;
        let len = self.b.get(start..)?.iter().position(|&c| c == b'`')?;
        let name = self.text.get(start..start + len)?.to_string();
        self.i = start + len + 1;
        if self.peek() == Some(b'`') {
            return None;
        }
        Some(name)
    }

    /// A literal, list or map; `None` on anything else.
    fn value<B: Build>(&mut self, out: &mut B) -> Option<B::V> {
        match self.peek()? {
            b'0'..=b'9' => self.number(false, out),
            b'-' => {
                self.i += 1;
                if !self.peek()?.is_ascii_digit() {
                    return None;
                }
                self.number(true, out)
            }
            b'"' | b'\'' => self.string(out),
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(out.list(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(out)?);
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(out.list(items));
                        }
                        _ => return None,
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut entries = Vec::new();
                self.ws();
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(out.map(entries));
                }
                loop {
                    self.ws();
                    let key = match self.peek()? {
                        b'`' => {
                            let k = self.escaped_name()?;
                            out.key(&k)
                        }
                        c if c.is_ascii_alphabetic() || c == b'_' => {
                            let k = self.word()?;
                            out.key(k)
                        }
                        _ => return None,
                    };
                    self.ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.i += 1;
                    self.ws();
                    entries.push((key, self.value(out)?));
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Some(out.map(entries));
                        }
                        _ => return None,
                    }
                }
            }
            c if c.is_ascii_alphabetic() => {
                let v = if self.keyword_ci(b"true") {
                    out.bool(true)
                } else if self.keyword_ci(b"false") {
                    out.bool(false)
                } else if self.keyword_ci(b"null") {
                    out.null()
                } else {
                    return None;
                };
                self.after_atom()?;
                Some(v)
            }
            _ => None,
        }
    }

    /// Nothing that would make the atom just read part of a larger expression may follow
    /// directly (`.key`, `[i]`, `:Label`); operators after whitespace are caught by the
    /// callers, which accept only `,`, `]`, `}` or the next name.
    fn after_atom(&self) -> Option<()> {
        match self.peek() {
            Some(b'.' | b'[' | b':') => None,
            _ => Some(()),
        }
    }

    /// Decimal integers and floats of the forms `1`, `1.5`, `1e3`, `1.5e-3`.
    fn number<B: Build>(&mut self, negative: bool, out: &mut B) -> Option<B::V> {
        let start = self.i;
        let digits = |s: &mut Self| {
            let from = s.i;
            while s.peek().is_some_and(|c| c.is_ascii_digit()) {
                s.i += 1;
            }
            s.i > from
        };
        digits(self);
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !digits(self) {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if !digits(self) {
                return None;
            }
        }
        if self.peek().is_some_and(ident_byte) {
            return None;
        }
        self.after_atom()?;
        let token = self.text.get(start..self.i)?;
        // `0x..`/`0o..` were rejected above (a letter follows the `0`); a leading zero is
        // decimal in the builder too.
        match decode_number(token, start, negative).ok()? {
            crate::ast::Literal::Integer(i) => Some(out.int(i)),
            crate::ast::Literal::Float(f) => Some(out.float(f)),
            _ => None,
        }
    }

    fn string<B: Build>(&mut self, out: &mut B) -> Option<B::V> {
        let start = self.i;
        let quote = self.peek()?;
        self.i += 1;
        let mut escapes = false;
        loop {
            match self.peek()? {
                b'\\' => {
                    escapes = true;
                    self.i += 2;
                }
                c if c == quote => break,
                _ => self.i += 1,
            }
        }
        self.i += 1;
        self.after_atom()?;
        let token = self.text.get(start..self.i)?;
        if escapes {
            out.string(None, Some(decode_string(token, start).ok()?))
        } else {
            out.string(token.get(1..token.len() - 1), None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path agrees with pest wherever it answers.
    fn same(text: &str) -> bool {
        let fast = split(text);
        let slow = crate::parser::split_prefix_pest(text).ok();
        if let Some(f) = &fast {
            assert_eq!(Some(f), slow.as_ref(), "{text}");
            let conv: Vec<(String, Value)> =
                f.0.iter()
                    .map(|(n, v)| (n.clone(), crate::lower::const_to_value(v)))
                    .collect();
            assert_eq!(split_values(text), Some((conv, f.1)), "{text}");
        } else {
            assert_eq!(split_values(text), None, "{text}");
        }
        fast.is_some()
    }

    #[test]
    fn agrees_with_pest() {
        for t in [
            "CYPHER batch=[{id:0,name:\"p0\",age:33},{id:1,name:'p\\'1',age:-4}] UNWIND $batch AS r RETURN r",
            "CYPHER `batch`=[{`id`:0,`name`:\"p0\",`age`:33}] UNWIND $batch AS row CREATE (:P)",
            "  cypher a=1 b=2.5 c=-1e3 d=true e=NULL f=[] g={} h='x' RETURN $a",
            "CYPHER a=[1, [2, [3]], {k: [true, false]}]\nMATCH (n) RETURN n",
            "CYPHER a=-9223372036854775808 RETURN $a",
            "CYPHER RETURN 1",
            "CYPHER a=\"\\u00e9\\n\" RETURN $a",
            "CYPHER a=007 RETURN $a",
        ] {
            assert!(same(t), "fast path declined: {t}");
        }
        // Declined (pest decides): expressions, comments, odd names, odd numbers.
        for t in [
            "CYPHER a=1+2 RETURN $a",
            "CYPHER a=1 AND true RETURN $a",
            "CYPHER a=[1][0] RETURN $a",
            "CYPHER a={k:1}.k RETURN $a",
            "CYPHER a=0x1F RETURN $a",
            "CYPHER a=.5 RETURN $a",
            "CYPHER a=1 /* c */ RETURN $a",
            "CYPHER a=1 `RETURN` 1",
            "CYPHER a=[x IN [1] | x] RETURN $a",
            "CYPHER a=9223372036854775808 RETURN $a",
            "CYPHER a=1",
            "CYPHER a=1 b=~'x' RETURN 1",
            "CYPHER `a``b`=1 RETURN 1",
            "CYPHER a='unterminated RETURN 1",
            "CYPHER a=1 IS NULL RETURN 1",
            "CYPHERa=1 RETURN 1",
            "MATCH (n) RETURN n",
        ] {
            assert!(!same(t), "fast path answered: {t}");
        }
    }

    use proptest::prelude::*;

    /// Literal trees rendered as a client might: random spacing, quoting, key quoting and
    /// case, plus an occasional token the fast path must decline.
    fn literal() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(|i| i.to_string()),
            (0u32..1000, 0u32..1000).prop_map(|(a, b)| format!("{a}.{b}")),
            (1u32..100, -20i32..20).prop_map(|(a, e)| format!("{a}e{e}")),
            "[a-z0-9 'é]{0,6}".prop_map(|s| format!("\"{s}\"")),
            "[a-z0-9 \"]{0,6}".prop_map(|s| format!("'{s}'")),
            Just("'a\\'b\\n'".to_string()),
            Just("TRUE".to_string()),
            Just("false".to_string()),
            Just("Null".to_string()),
            Just("1+1".to_string()),
            Just("$p".to_string()),
            Just("0x1f".to_string()),
        ];
        leaf.prop_recursive(4, 32, 5, |inner| {
            prop_oneof![
                (prop::collection::vec(inner.clone(), 0..5), "[ \n]{0,2}")
                    .prop_map(|(v, sp)| format!("[{sp}{}{sp}]", v.join(&format!("{sp},{sp}")))),
                prop::collection::vec(("[a-z_][a-z0-9_]{0,4}", any::<bool>(), inner), 0..4)
                    .prop_map(|kv| {
                        let parts: Vec<String> = kv
                            .into_iter()
                            .map(|(k, q, v)| {
                                if q {
                                    format!("`{k}`: {v}")
                                } else {
                                    format!("{k}:{v}")
                                }
                            })
                            .collect();
                        format!("{{{}}}", parts.join(", "))
                    }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn random_prefixes_agree(vals in prop::collection::vec(literal(), 0..3), sp in "[ \t\n]{1,3}") {
            let mut t = format!("{sp}CyPhEr");
            for (i, v) in vals.iter().enumerate() {
                t.push_str(&format!("{sp}p{i}{sp}={sp}{v}"));
            }
            t.push_str(&format!("{sp}RETURN 1"));
            same(&t);
        }
    }
}
