//! `cjson`: Mark Pulford's lua-cjson 2.1.0 as Redis bundles it.
//!
//! Encoding: a table is an array when every key is a number >= 1 with no fraction (holes become
//! `null`; a table whose largest index exceeds both `safe` (10) and `ratio` (2) times the number
//! of items is "excessively sparse": an error, or an object when `encode_sparse_array(true)`),
//! otherwise an object whose keys must be strings or numbers (keys come in `next` order);
//! the empty table is `{}`. Numbers use `%.14g` (`encode_number_precision`), NaN/Inf are refused
//! unless `encode_invalid_numbers` says otherwise; strings are escaped with lua-cjson's table
//! (`/` becomes `\/`, DEL becomes `\u007f`, bytes >= 0x80 pass through). `nil` and
//! `cjson.null` (a NULL light userdata) encode as `null`; functions, threads and other userdata
//! are an error. Nesting beyond `encode_max_depth` (1000) is an error.
//!
//! Decoding follows lua-cjson's tokenizer, error texts and quirks: the input ends at the first
//! NUL byte, numbers are read by `strtod` (so `0x10`, `Infinity`, `nan` and `+1` decode unless
//! `decode_invalid_numbers(false)`), `\uXXXX` escapes (with surrogate pairs) become UTF-8,
//! `null` becomes `cjson.null`, and every number is a Lua number (a double). The decoder keeps
//! an explicit stack, and accounts for the Lua stack slots the C decoder would use, so deep
//! input fails exactly where lua-cjson fails instead of recursing.
//!
//! Configuration is per module instance (`cjson.new()` makes an independent one), as in C.

use std::cell::{Cell, RefCell};
use std::io::Write as _;
use std::rc::Rc;

use mlua::{Lua, MultiValue, Table, Value};

use super::{
    LibResult, arg, arg_error, c_f64_to_i32, check_integer, check_string, error, num, register,
    ret1, type_name,
};

/// Deepest nesting the encoder follows, whatever `encode_max_depth` says: each level pins a
/// few mlua references and a Rust stack frame, so the bound protects both (redis-server's own
/// limit is the default `encode_max_depth`, 1000, unless a script raises it).
const ENCODE_HARD_DEPTH: i32 = 1000;
/// Lua's `LUAI_MAXCSTACK`.
const MAX_C_STACK: usize = 8000;

/// lua-cjson's per-instance configuration (`json_config_t`).
struct Config {
    sparse_convert: Cell<i32>,
    sparse_ratio: Cell<i32>,
    sparse_safe: Cell<i32>,
    encode_max_depth: Cell<i32>,
    decode_max_depth: Cell<i32>,
    /// 0: refuse NaN/Inf, 1: encode them (`nan`, `inf`), 2: encode them as `null`.
    encode_invalid_numbers: Cell<i32>,
    encode_number_precision: Cell<i32>,
    encode_keep_buffer: Cell<i32>,
    decode_invalid_numbers: Cell<i32>,
    /// The encode buffer kept between calls when `encode_keep_buffer` is on.
    buf: RefCell<Vec<u8>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sparse_convert: Cell::new(0),
            sparse_ratio: Cell::new(2),
            sparse_safe: Cell::new(10),
            encode_max_depth: Cell::new(1000),
            decode_max_depth: Cell::new(1000),
            encode_invalid_numbers: Cell::new(0),
            encode_number_precision: Cell::new(14),
            encode_keep_buffer: Cell::new(1),
            decode_invalid_numbers: Cell::new(1),
            buf: RefCell::new(Vec::new()),
        }
    }
}

/// Builds a `cjson` table with its own configuration.
pub(super) fn module(lua: &Lua) -> mlua::Result<Table> {
    let cfg = Rc::new(Config::default());
    let t = lua.create_table()?;
    let c = cfg.clone();
    register(lua, &t, "encode", move |lua, args| encode(lua, &c, args))?;
    let c = cfg.clone();
    register(lua, &t, "decode", move |lua, args| decode(lua, &c, args))?;
    let c = cfg.clone();
    register(lua, &t, "encode_sparse_array", move |lua, args| {
        arg_init(args, 3)?;
        Ok(MultiValue::from_vec(vec![
            enum_option(lua, args, 1, &c.sparse_convert, &["off", "on"], 1)?,
            integer_option(lua, args, 2, &c.sparse_ratio, 0, i32::MAX)?,
            integer_option(lua, args, 3, &c.sparse_safe, 0, i32::MAX)?,
        ]))
    })?;
    let c = cfg.clone();
    register(lua, &t, "encode_max_depth", move |lua, args| {
        arg_init(args, 1)?;
        Ok(ret1(integer_option(
            lua,
            args,
            1,
            &c.encode_max_depth,
            1,
            i32::MAX,
        )?))
    })?;
    let c = cfg.clone();
    register(lua, &t, "decode_max_depth", move |lua, args| {
        arg_init(args, 1)?;
        Ok(ret1(integer_option(
            lua,
            args,
            1,
            &c.decode_max_depth,
            1,
            i32::MAX,
        )?))
    })?;
    let c = cfg.clone();
    register(lua, &t, "encode_number_precision", move |lua, args| {
        arg_init(args, 1)?;
        Ok(ret1(integer_option(
            lua,
            args,
            1,
            &c.encode_number_precision,
            1,
            14,
        )?))
    })?;
    let c = cfg.clone();
    register(lua, &t, "encode_keep_buffer", move |lua, args| {
        arg_init(args, 1)?;
        let v = enum_option(lua, args, 1, &c.encode_keep_buffer, &["off", "on"], 1)?;
        if c.encode_keep_buffer.get() == 0 {
            c.buf.borrow_mut().clear();
            c.buf.borrow_mut().shrink_to_fit();
        }
        Ok(ret1(v))
    })?;
    let c = cfg.clone();
    register(lua, &t, "encode_invalid_numbers", move |lua, args| {
        arg_init(args, 1)?;
        let opts = ["off", "on", "null"];
        Ok(ret1(enum_option(
            lua,
            args,
            1,
            &c.encode_invalid_numbers,
            &opts,
            1,
        )?))
    })?;
    let c = cfg;
    register(lua, &t, "decode_invalid_numbers", move |lua, args| {
        arg_init(args, 1)?;
        Ok(ret1(enum_option(
            lua,
            args,
            1,
            &c.decode_invalid_numbers,
            &["off", "on"],
            1,
        )?))
    })?;
    register(lua, &t, "new", |lua, _| {
        Ok(ret1(Value::Table(module(lua)?)))
    })?;
    t.raw_set("null", Value::NULL)?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    Ok(t)
}

/// `json_arg_init`: at most `n` arguments.
fn arg_init(args: &[Value], n: usize) -> LibResult<()> {
    if args.len() > n {
        return Err(arg_error(n as i32 + 1, "found too many arguments"));
    }
    Ok(())
}

/// `json_integer_option`: sets the option from argument `i` when given (range errors always
/// name argument #1, as in C), returns the current value.
fn integer_option(
    lua: &Lua,
    args: &[Value],
    i: usize,
    cell: &Cell<i32>,
    min: i32,
    max: i32,
) -> LibResult<Value> {
    if !matches!(arg(args, i), None | Some(Value::Nil)) {
        // luaL_checkinteger's value lands in a C `int`.
        let v = check_integer(lua, args, i)? as i32;
        if !(min..=max).contains(&v) {
            return Err(arg_error(
                1,
                format!("expected integer between {min} and {max}"),
            ));
        }
        cell.set(v);
    }
    Ok(Value::Integer(i64::from(cell.get())))
}

/// `json_enum_option`: a boolean or one of `options`; returns a boolean for the values 0 and
/// `bool_true`, the option name otherwise.
fn enum_option(
    lua: &Lua,
    args: &[Value],
    i: usize,
    cell: &Cell<i32>,
    options: &[&str],
    bool_true: i32,
) -> LibResult<Value> {
    match arg(args, i) {
        None | Some(Value::Nil) => {}
        Some(Value::Boolean(b)) => cell.set(i32::from(*b) * bool_true),
        Some(_) => {
            let s = check_string(lua, args, i)?;
            let s = s.as_bytes();
            match options.iter().position(|o| o.as_bytes() == &s[..]) {
                Some(idx) => cell.set(idx as i32),
                None => {
                    let mut msg = b"invalid option '".to_vec();
                    msg.extend_from_slice(&s);
                    msg.push(b'\'');
                    return Err(arg_error(i as i32, msg));
                }
            }
        }
    }
    let v = cell.get();
    if v == 0 || v == bool_true {
        Ok(Value::Boolean(v != 0))
    } else {
        let name = options.get(v as usize).copied().unwrap_or("");
        Ok(Value::String(lua.create_string(name)?))
    }
}

// ===== Encoding =====

fn encode(lua: &Lua, cfg: &Config, args: &[Value]) -> LibResult<MultiValue> {
    if args.len() != 1 {
        return Err(arg_error(1, "expected 1 argument"));
    }
    let keep = cfg.encode_keep_buffer.get() != 0;
    let mut out = if keep {
        std::mem::take(&mut *cfg.buf.borrow_mut())
    } else {
        Vec::new()
    };
    out.clear();
    let mut enc = Encoder {
        out,
        max_depth: cfg.encode_max_depth.get().min(ENCODE_HARD_DEPTH),
        precision: cfg.encode_number_precision.get().clamp(1, 14) as usize,
        invalid_numbers: cfg.encode_invalid_numbers.get(),
        sparse_convert: cfg.sparse_convert.get() != 0,
        sparse_ratio: cfg.sparse_ratio.get(),
        sparse_safe: cfg.sparse_safe.get(),
    };
    let res = enc.value(&args[0], 0);
    let s = match res {
        Ok(()) => lua.create_string(&enc.out).map_err(Into::into),
        Err(e) => Err(e),
    };
    if keep {
        *cfg.buf.borrow_mut() = enc.out;
    }
    Ok(ret1(Value::String(s?)))
}

struct Encoder {
    out: Vec<u8>,
    max_depth: i32,
    precision: usize,
    invalid_numbers: i32,
    sparse_convert: bool,
    sparse_ratio: i32,
    sparse_safe: i32,
}

impl Encoder {
    fn value(&mut self, v: &Value, depth: i32) -> LibResult<()> {
        match v {
            Value::String(s) => self.string(&s.as_bytes()),
            Value::Integer(i) => self.number(*i as f64)?,
            Value::Number(n) => self.number(*n)?,
            Value::Boolean(true) => self.out.extend_from_slice(b"true"),
            Value::Boolean(false) => self.out.extend_from_slice(b"false"),
            Value::Table(t) => {
                let depth = depth + 1;
                if depth > self.max_depth {
                    return Err(error(format!(
                        "Cannot serialise, excessive nesting ({depth})"
                    )));
                }
                let len = self.array_length(t)?;
                if len > 0 {
                    self.array(t, len, depth)?;
                } else {
                    self.object(t, depth)?;
                }
            }
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::LightUserData(p) if p.0.is_null() => self.out.extend_from_slice(b"null"),
            other => {
                return Err(error(format!(
                    "Cannot serialise {}: type not supported",
                    type_name(Some(other))
                )));
            }
        }
        Ok(())
    }

    /// `lua_array_length`: the array size, or -1 for an object. `max` is a C `int`, assigned
    /// from the key with the x86 conversion (huge keys make it negative, hence an object).
    fn array_length(&self, t: &Table) -> LibResult<i32> {
        let mut max: i32 = 0;
        let mut items: i32 = 0;
        for pair in t.pairs::<Value, Value>() {
            let (k, _) = pair?;
            let k = match k {
                Value::Integer(i) => i as f64,
                Value::Number(n) => n,
                _ => return Ok(-1),
            };
            if k == 0.0 || k.floor() != k || k < 1.0 {
                return Ok(-1);
            }
            if k > f64::from(max) {
                max = c_f64_to_i32(k);
            }
            items = items.wrapping_add(1);
        }
        if self.sparse_ratio > 0
            && max > items.wrapping_mul(self.sparse_ratio)
            && max > self.sparse_safe
        {
            if !self.sparse_convert {
                return Err(error("Cannot serialise table: excessively sparse array"));
            }
            return Ok(-1);
        }
        Ok(max)
    }

    fn array(&mut self, t: &Table, len: i32, depth: i32) -> LibResult<()> {
        self.out.push(b'[');
        for i in 1..=len {
            if i > 1 {
                self.out.push(b',');
            }
            let v: Value = t.raw_get(i)?;
            self.value(&v, depth)?;
        }
        self.out.push(b']');
        Ok(())
    }

    fn object(&mut self, t: &Table, depth: i32) -> LibResult<()> {
        self.out.push(b'{');
        let mut comma = false;
        for pair in t.pairs::<Value, Value>() {
            let (k, v) = pair?;
            if comma {
                self.out.push(b',');
            } else {
                comma = true;
            }
            match &k {
                Value::Integer(_) | Value::Number(_) => {
                    let n = match k {
                        Value::Integer(i) => i as f64,
                        Value::Number(n) => n,
                        _ => 0.0,
                    };
                    self.out.push(b'"');
                    self.number(n)?;
                    self.out.extend_from_slice(b"\":");
                }
                Value::String(s) => {
                    self.string(&s.as_bytes());
                    self.out.push(b':');
                }
                other => {
                    return Err(error(format!(
                        "Cannot serialise {}: table key must be a number or string",
                        type_name(Some(other))
                    )));
                }
            }
            self.value(&v, depth)?;
        }
        self.out.push(b'}');
        Ok(())
    }

    fn number(&mut self, n: f64) -> LibResult<()> {
        if !n.is_finite() {
            match self.invalid_numbers {
                0 => return Err(error("Cannot serialise number: must not be NaN or Inf")),
                1 if n.is_nan() => {
                    self.out.extend_from_slice(b"nan");
                    return Ok(());
                }
                1 => {}
                _ => {
                    self.out.extend_from_slice(b"null");
                    return Ok(());
                }
            }
        }
        fmt_g(&mut self.out, n, self.precision);
        Ok(())
    }

    fn string(&mut self, s: &[u8]) {
        self.out.reserve(s.len() + 2);
        self.out.push(b'"');
        for &c in s {
            match c {
                b'"' => self.out.extend_from_slice(b"\\\""),
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'/' => self.out.extend_from_slice(b"\\/"),
                0x08 => self.out.extend_from_slice(b"\\b"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                0x0c => self.out.extend_from_slice(b"\\f"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                0..=0x1f | 0x7f => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    self.out.extend_from_slice(b"\\u00");
                    self.out.push(HEX[usize::from(c >> 4)]);
                    self.out.push(HEX[usize::from(c & 15)]);
                }
                _ => self.out.push(c),
            }
        }
        self.out.push(b'"');
    }
}

/// C's `printf("%.<prec>g", v)` (glibc output: `inf`, `-nan`, `1e+20`, `-0`).
pub(super) fn fmt_g(out: &mut Vec<u8>, v: f64, prec: usize) {
    let prec = prec.max(1);
    if v.is_nan() {
        out.extend_from_slice(if v.is_sign_negative() {
            b"-nan"
        } else {
            b"nan"
        });
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v < 0.0 { b"-inf" } else { b"inf" });
        return;
    }
    // Integers with at most `prec` digits print as themselves: the common case, done directly.
    if v.fract() == 0.0 && v.abs() < 10f64.powi(prec as i32) && !(v == 0.0 && v.is_sign_negative())
    {
        let _ = write!(out, "{}", v as i64);
        return;
    }
    if v.is_sign_negative() {
        out.push(b'-');
    }
    // Rust's `{:e}` rounds exactly (ties to even on the exact binary value), like glibc.
    let sci = format!("{:.*e}", prec - 1, v.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mant.bytes().filter(|c| *c != b'.').collect();
    let strip = |d: &[u8]| -> usize { d.iter().rposition(|&c| c != b'0').map_or(0, |p| p + 1) };
    if exp < -4 || exp >= prec as i32 {
        out.push(digits.first().copied().unwrap_or(b'0'));
        let frac = digits.get(1..).unwrap_or_default();
        let n = strip(frac);
        if n > 0 {
            out.push(b'.');
            out.extend_from_slice(&frac[..n]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let _ = write!(out, "{:02}", exp.unsigned_abs());
    } else if exp >= 0 {
        let int_len = (exp as usize + 1).min(digits.len());
        out.extend_from_slice(&digits[..int_len]);
        let frac = &digits[int_len..];
        let n = strip(frac);
        if n > 0 {
            out.push(b'.');
            out.extend_from_slice(&frac[..n]);
        }
    } else {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
        let n = strip(&digits);
        out.extend_from_slice(&digits[..n]);
    }
}

// ===== Decoding =====

fn decode(lua: &Lua, cfg: &Config, args: &[Value]) -> LibResult<MultiValue> {
    if args.len() != 1 {
        return Err(arg_error(1, "expected 1 argument"));
    }
    let s = check_string(lua, args, 1)?;
    let data = s.as_bytes();
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(error("JSON parser does not support UTF-16 or UTF-32"));
    }
    // The C parser works on a NUL-terminated string: a NUL byte is the end of the input.
    let end = data.iter().position(|&c| c == 0).unwrap_or(data.len());
    let mut p = Parser {
        lua,
        data: &data[..end],
        ptr: 0,
        tmp: Vec::new(),
        decode_invalid_numbers: cfg.decode_invalid_numbers.get() != 0,
        max_depth: cfg.decode_max_depth.get(),
    };
    Ok(ret1(p.parse()?))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    /// The text is in `Parser::tmp`.
    Str,
    Num(f64),
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Tok {
    /// How lua-cjson names a token in "Expected ... but found ...".
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Num(_) => "T_NUMBER",
            Tok::Bool(_) => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(msg) => msg,
        }
    }
}

#[derive(Clone, Copy)]
struct Token {
    tok: Tok,
    /// Byte offset of the token (of the error, for errors).
    index: usize,
}

/// An array or object being filled.
struct Frame {
    table: Table,
    /// Next index (arrays) or the key waiting for its value (objects).
    next: FrameSlot,
    /// Lua stack slots the C decoder uses while a child value decodes.
    used: usize,
}

enum FrameSlot {
    Index(i64),
    Key(Vec<u8>),
}

struct Parser<'a> {
    lua: &'a Lua,
    data: &'a [u8],
    ptr: usize,
    tmp: Vec<u8>,
    decode_invalid_numbers: bool,
    max_depth: i32,
}

impl Parser<'_> {
    fn byte(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn parse_error(&self, expected: &str, t: Token) -> super::LibError {
        error(format!(
            "Expected {expected} but found {} at character {}",
            t.tok.name(),
            t.index + 1
        ))
    }

    fn parse(&mut self) -> LibResult<Value> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut depth: i32 = 0;
        let mut tok = self.next_token();
        loop {
            // `tok` must start a value.
            let used = stack.last().map_or(1, |f| f.used);
            let mut done: Value = match tok.tok {
                Tok::Str => Value::String(self.lua.create_string(&self.tmp)?),
                Tok::Num(n) => num(n),
                Tok::Bool(b) => Value::Boolean(b),
                Tok::Null => Value::NULL,
                Tok::ObjBegin | Tok::ArrBegin => {
                    let is_obj = tok.tok == Tok::ObjBegin;
                    // json_decode_descend: objects need 3 slots (table, key, value), arrays 2.
                    depth += 1;
                    let slots = if is_obj { 3 } else { 2 };
                    if depth > self.max_depth || used + slots > MAX_C_STACK {
                        return Err(error(format!(
                            "Found too many nested data structures ({depth}) at character {}",
                            self.ptr
                        )));
                    }
                    let table = self.lua.create_table()?;
                    tok = self.next_token();
                    let close = if is_obj { Tok::ObjEnd } else { Tok::ArrEnd };
                    if tok.tok == close {
                        depth -= 1;
                        Value::Table(table)
                    } else if is_obj {
                        let key = self.object_key(tok)?;
                        stack.push(Frame {
                            table,
                            next: FrameSlot::Key(key),
                            used: used + 2,
                        });
                        tok = self.next_token();
                        continue;
                    } else {
                        stack.push(Frame {
                            table,
                            next: FrameSlot::Index(1),
                            used: used + 1,
                        });
                        continue;
                    }
                }
                _ => return Err(self.parse_error("value", tok)),
            };
            // Store the value in its parent; close every container it completes.
            loop {
                let Some(top) = stack.last_mut() else {
                    let t = self.next_token();
                    if t.tok != Tok::End {
                        return Err(self.parse_error("the end", t));
                    }
                    return Ok(done);
                };
                let is_obj = match &mut top.next {
                    FrameSlot::Index(i) => {
                        top.table.raw_set(*i, done)?;
                        *i += 1;
                        false
                    }
                    FrameSlot::Key(k) => {
                        let key = self.lua.create_string(&*k)?;
                        top.table.raw_set(key, done)?;
                        true
                    }
                };
                let t = self.next_token();
                let close = if is_obj { Tok::ObjEnd } else { Tok::ArrEnd };
                if t.tok == close {
                    depth -= 1;
                    match stack.pop() {
                        Some(f) => done = Value::Table(f.table),
                        None => return Err(error("BUG: cjson decoder lost its frame")),
                    }
                    continue;
                }
                if t.tok != Tok::Comma {
                    let what = if is_obj {
                        "comma or object end"
                    } else {
                        "comma or array end"
                    };
                    return Err(self.parse_error(what, t));
                }
                tok = self.next_token();
                if is_obj {
                    let key = self.object_key(tok)?;
                    if let Some(top) = stack.last_mut() {
                        top.next = FrameSlot::Key(key);
                    }
                    tok = self.next_token();
                }
                break;
            }
        }
    }

    /// Checks that `tok` is a key string followed by a colon; returns the key.
    fn object_key(&mut self, tok: Token) -> LibResult<Vec<u8>> {
        if tok.tok != Tok::Str {
            return Err(self.parse_error("object key string", tok));
        }
        let key = self.tmp.clone();
        let t = self.next_token();
        if t.tok != Tok::Colon {
            return Err(self.parse_error("colon", t));
        }
        Ok(key)
    }

    fn token_error(&self, msg: &'static str) -> Token {
        Token {
            tok: Tok::Error(msg),
            index: self.ptr,
        }
    }

    /// `json_next_token`.
    fn next_token(&mut self) -> Token {
        while matches!(self.byte(self.ptr), b' ' | b'\t' | b'\n' | b'\r') {
            self.ptr += 1;
        }
        let index = self.ptr;
        let ch = self.byte(self.ptr);
        let single = |tok| Some(tok);
        let simple = match ch {
            b'{' => single(Tok::ObjBegin),
            b'}' => single(Tok::ObjEnd),
            b'[' => single(Tok::ArrBegin),
            b']' => single(Tok::ArrEnd),
            b',' => single(Tok::Comma),
            b':' => single(Tok::Colon),
            _ => None,
        };
        if let Some(tok) = simple {
            self.ptr += 1;
            return Token { tok, index };
        }
        match ch {
            0 => Token {
                tok: Tok::End,
                index,
            },
            b'"' => self.string_token(),
            b'-' | b'0'..=b'9' => {
                if !self.decode_invalid_numbers && self.is_invalid_number() {
                    return self.token_error("invalid number");
                }
                self.number_token()
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                let rest = &self.data[self.ptr..];
                if rest.starts_with(b"true") {
                    self.ptr += 4;
                    Token {
                        tok: Tok::Bool(true),
                        index,
                    }
                } else if rest.starts_with(b"false") {
                    self.ptr += 5;
                    Token {
                        tok: Tok::Bool(false),
                        index,
                    }
                } else if rest.starts_with(b"null") {
                    self.ptr += 4;
                    Token {
                        tok: Tok::Null,
                        index,
                    }
                } else if self.decode_invalid_numbers && self.is_invalid_number() {
                    self.number_token()
                } else {
                    self.token_error("invalid token")
                }
            }
            _ => self.token_error("invalid token"),
        }
    }

    /// `json_is_invalid_number`: `+`, hex, leading zeros, inf and nan are not JSON.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.ptr;
        match self.byte(p) {
            b'+' => return true,
            b'-' => p += 1,
            _ => {}
        }
        let c = self.byte(p);
        if c == b'0' {
            let c2 = self.byte(p + 1);
            return c2 | 0x20 == b'x' || c2.is_ascii_digit();
        }
        if c <= b'9' {
            return false;
        }
        let rest = &self.data[p.min(self.data.len())..];
        starts_with_ci(rest, b"inf") || starts_with_ci(rest, b"nan")
    }

    fn number_token(&mut self) -> Token {
        let index = self.ptr;
        match strtod(&self.data[self.ptr..]) {
            Some((v, n)) => {
                self.ptr += n;
                Token {
                    tok: Tok::Num(v),
                    index,
                }
            }
            None => self.token_error("invalid number"),
        }
    }

    /// `json_next_string_token`: the decoded text goes to `tmp`.
    fn string_token(&mut self) -> Token {
        let index = self.ptr;
        self.ptr += 1;
        self.tmp.clear();
        loop {
            let ch = self.byte(self.ptr);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return self.token_error("unexpected end of string");
            }
            if ch != b'\\' {
                self.tmp.push(ch);
                self.ptr += 1;
                continue;
            }
            let unescaped = match self.byte(self.ptr + 1) {
                b'"' => b'"',
                b'\\' => b'\\',
                b'/' => b'/',
                b'b' => 0x08,
                b't' => b'\t',
                b'n' => b'\n',
                b'f' => 0x0c,
                b'r' => b'\r',
                b'u' => {
                    if self.unicode_escape() {
                        continue;
                    }
                    return self.token_error("invalid unicode escape code");
                }
                _ => return self.token_error("invalid escape code"),
            };
            self.tmp.push(unescaped);
            self.ptr += 2;
        }
        self.ptr += 1;
        Token {
            tok: Tok::Str,
            index,
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let s = self.data.get(at..at + 4)?;
        s.iter()
            .try_fold(0u32, |acc, &c| Some(acc * 16 + char::from(c).to_digit(16)?))
    }

    /// `json_append_unicode_escape`: `\uXXXX` (or a surrogate pair) at `ptr` to UTF-8.
    fn unicode_escape(&mut self) -> bool {
        let Some(mut cp) = self.hex4(self.ptr + 2) else {
            return false;
        };
        let mut escape_len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 {
                return false;
            }
            if self.byte(self.ptr + 6) != b'\\' || self.byte(self.ptr + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.ptr + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            escape_len = 12;
        }
        // Always a valid scalar value here (surrogates were combined above).
        let Some(c) = char::from_u32(cp) else {
            return false;
        };
        let mut buf = [0u8; 4];
        self.tmp
            .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        self.ptr += escape_len;
        true
    }
}

fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// glibc `strtod` in the C locale: the value and the number of bytes consumed, `None` when
/// nothing converts. Accepts what C does: sign, decimal with optional fraction/exponent,
/// `inf`/`infinity`/`nan[(...)]` in any case, and hexadecimal (`0x1.8p3`).
pub(super) fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    while matches!(s.get(i), Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = |v: f64| if neg { -v } else { v };
    let rest = &s[i.min(s.len())..];
    if starts_with_ci(rest, b"inf") {
        let n = if starts_with_ci(rest, b"infinity") {
            8
        } else {
            3
        };
        return Some((sign(f64::INFINITY), i + n));
    }
    if starts_with_ci(rest, b"nan") {
        let mut n = 3;
        if rest.get(3) == Some(&b'(') {
            let close = rest[4..]
                .iter()
                .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'));
            if let Some(off) = close
                && rest.get(4 + off) == Some(&b')')
            {
                n = 4 + off + 1;
            }
        }
        return Some((sign(f64::NAN), i + n));
    }
    if rest.len() >= 2 && rest[0] == b'0' && rest[1] | 0x20 == b'x' {
        return Some(match parse_hex(&rest[2..]) {
            Some((v, n)) => (sign(v), i + 2 + n),
            // "0x" without digits: only the "0" converts.
            None => (sign(0.0), i + 1),
        });
    }
    let start = i;
    let mut j = i;
    let mut digits = 0;
    while s.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
        digits += 1;
    }
    if s.get(j) == Some(&b'.') {
        j += 1;
        while s.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if s.get(j).is_some_and(|c| c | 0x20 == b'e') {
        let mut k = j + 1;
        if matches!(s.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        if s.get(k).is_some_and(u8::is_ascii_digit) {
            while s.get(k).is_some_and(u8::is_ascii_digit) {
                k += 1;
            }
            j = k;
        }
    }
    let text = std::str::from_utf8(&s[start..j]).ok()?;
    let v: f64 = text.parse().ok()?;
    Some((sign(v), j))
}

/// The part of a hex float after `0x`: value and bytes consumed, `None` without digits.
fn parse_hex(s: &[u8]) -> Option<(f64, usize)> {
    let hex = |c: Option<&u8>| c.and_then(|&c| char::from(c).to_digit(16));
    let mut mant: u128 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut any = false;
    let mut j = 0;
    while let Some(d) = hex(s.get(j)) {
        any = true;
        if mant < 1 << 120 {
            mant = mant * 16 + u128::from(d);
        } else {
            exp += 4;
            sticky |= d != 0;
        }
        j += 1;
    }
    if s.get(j) == Some(&b'.') {
        let mut k = j + 1;
        let mut frac_any = false;
        while let Some(d) = hex(s.get(k)) {
            frac_any = true;
            if mant < 1 << 120 {
                mant = mant * 16 + u128::from(d);
                exp -= 4;
            } else {
                sticky |= d != 0;
            }
            k += 1;
        }
        if any || frac_any {
            any = true;
            j = k;
        }
    }
    if !any {
        return None;
    }
    if s.get(j).is_some_and(|c| c | 0x20 == b'p') {
        let mut k = j + 1;
        let neg = match s.get(k) {
            Some(b'-') => {
                k += 1;
                true
            }
            Some(b'+') => {
                k += 1;
                false
            }
            _ => false,
        };
        if s.get(k).is_some_and(u8::is_ascii_digit) {
            let mut e: i64 = 0;
            while let Some(c) = s.get(k).filter(|c| c.is_ascii_digit()) {
                e = (e * 10 + i64::from(c - b'0')).min(1 << 40);
                k += 1;
            }
            exp += if neg { -e } else { e };
            j = k;
        }
    }
    if sticky {
        mant |= 1;
    }
    Some((ldexp(mant as f64, exp), j))
}

/// `x * 2^e` without intermediate overflow.
fn ldexp(mut x: f64, mut e: i64) -> f64 {
    while e > 1000 && x.is_finite() && x != 0.0 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 && x != 0.0 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e.clamp(-1100, 1100) as i32)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{eval, eval_err, lua, string};
    use super::*;
    use proptest::prelude::*;

    fn g(v: f64, p: usize) -> String {
        let mut out = Vec::new();
        fmt_g(&mut out, v, p);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn fmt_g_matches_printf() {
        let cases: [(f64, usize, &str); 22] = [
            (0.1, 14, "0.1"),
            (1.0 / 3.0, 14, "0.33333333333333"),
            (1e20, 14, "1e+20"),
            (1e15, 14, "1e+15"),
            (123456789012345.0, 14, "1.2345678901234e+14"),
            (1e-5, 14, "1e-05"),
            (-0.0, 14, "-0"),
            (9007199254740992.0, 14, "9.007199254741e+15"),
            (100.0, 14, "100"),
            (1e14, 14, "1e+14"),
            (99999999999999.0, 14, "99999999999999"),
            (0.0001, 14, "0.0001"),
            (0.00012345, 14, "0.00012345"),
            (2.71999, 3, "2.72"),
            (123456.0, 3, "1.23e+05"),
            (2.5, 1, "2"),
            (0.125, 2, "0.12"),
            (1e300, 14, "1e+300"),
            (-1.5e-300, 14, "-1.5e-300"),
            (f64::INFINITY, 14, "inf"),
            (f64::NEG_INFINITY, 14, "-inf"),
            (-123.456, 14, "-123.456"),
        ];
        for (v, p, want) in cases {
            assert_eq!(g(v, p), want, "{v} %.{p}g");
        }
    }

    #[test]
    fn encode_matches_redis() {
        let lua = lua();
        // Outputs of redis-server 7.0.15.
        let cases = [
            ("{1,2,3,{a=1}}", "[1,2,3,{\"a\":1}]"),
            ("{[2^40]=1}", "{\"1099511627776\":1}"),
            ("{1,nil,3}", "[1,null,3]"),
            (
                "{a=1,b=2,c=3,d='x',e={1,2}}",
                "{\"a\":1,\"c\":3,\"b\":2,\"e\":[1,2],\"d\":\"x\"}",
            ),
            (
                "{0.1, 1/3, 1e20, 1e15, 123456789012345, 1e-5, -0.0, 2^53, 100, 1e14, 1e16}",
                "[0.1,0.33333333333333,1e+20,1e+15,1.2345678901234e+14,1e-05,-0,9.007199254741e+15,100,1e+14,1e+16]",
            ),
            (
                "'a/b\"c\\\\d\\n\\t\\1\\127\\200'",
                "\"a\\/b\\\"c\\\\d\\n\\t\\u0001\\u007f\u{fffd}\"",
            ),
            ("cjson.null", "null"),
            ("nil", "null"),
            ("{}", "{}"),
            ("{[0]=1}", "{\"0\":1}"),
            ("{[1.5]=1}", "{\"1.5\":1}"),
            ("{1,2,x=3}", "{\"1\":1,\"2\":2,\"x\":3}"),
            ("true", "true"),
            ("{false}", "[false]"),
            (
                "{[10]=1}",
                "[null,null,null,null,null,null,null,null,null,1]",
            ),
            ("'\\0\\8\\12\\13\\31'", "\"\\u0000\\b\\f\\r\\u001f\""),
        ];
        for (expr, want) in cases {
            assert_eq!(
                string(&lua, &format!("return cjson.encode({expr})")),
                want,
                "{expr}"
            );
        }
        // Key order follows Lua's `next`, as on redis-server.
        assert_eq!(
            string(
                &lua,
                r#"return cjson.encode(cjson.decode('{"x":1,"y":2,"z":3,"w":4,"k":5,"aa":[1,{"q":null}]}'))"#
            ),
            r#"{"y":2,"x":1,"k":5,"z":3,"w":4,"aa":[1,{"q":null}]}"#
        );
        // 999 nested tables are fine (1000 levels with the outer one).
        let n: i64 = eval(
            &lua,
            "local t={} local c=t for i=1,999 do c[1]={} c=c[1] end return #cjson.encode(t)",
        );
        assert_eq!(n, 2000);
    }

    #[test]
    fn encode_errors() {
        let lua = lua();
        let cases = [
            (
                "{[1]=1,[20]=2}",
                "Cannot serialise table: excessively sparse array",
            ),
            ("1/0", "Cannot serialise number: must not be NaN or Inf"),
            (
                "{[1/0]=1}",
                "Cannot serialise number: must not be NaN or Inf",
            ),
            (
                "function() end",
                "Cannot serialise function: type not supported",
            ),
            (
                "{f=function() end}",
                "Cannot serialise function: type not supported",
            ),
            (
                "{[true]=1}",
                "Cannot serialise boolean: table key must be a number or string",
            ),
            (
                "coroutine.create(function() end)",
                "Cannot serialise thread: type not supported",
            ),
            ("", "bad argument #1 to 'encode' (expected 1 argument)"),
            ("1, 2", "bad argument #1 to 'encode' (expected 1 argument)"),
        ];
        for (expr, want) in cases {
            assert_eq!(
                eval_err(&lua, &format!("return cjson.encode({expr})")),
                format!("user_script:1: {want}"),
                "{expr}"
            );
        }
        assert_eq!(
            eval_err(
                &lua,
                "local t={} local c=t for i=1,1000 do c[1]={} c=c[1] end return cjson.encode(t)"
            ),
            "user_script:1: Cannot serialise, excessive nesting (1001)"
        );
        // A caught error leaves the kept buffer usable.
        assert_eq!(
            string(
                &lua,
                "pcall(cjson.encode, {[true]=1}) return cjson.encode({1})"
            ),
            "[1]"
        );
    }

    #[test]
    fn decode_values() {
        let lua = lua();
        // (input, what redis-server 7.0.15 gives, re-encoded or tostring'd)
        let cases = [
            ("[1,2,3]", "[1,2,3]"),
            ("{\"a\":{\"b\":[]}}", "{\"a\":{\"b\":{}}}"),
            ("  [ 1 , 2 ]  ", "[1,2]"),
            ("[true,false,null]", "[true,false,null]"),
            ("{\"a\":1,\"a\":2}", "{\"a\":2}"),
            ("[\"a\",1.5e-3]", "[\"a\",0.0015]"),
            ("[[[[1]]]]", "[[[[1]]]]"),
            ("0x10", "16"),
            ("-0x10", "-16"),
            ("+5", "5"),
            ("Infinity", "inf"),
            ("-Infinity", "-inf"),
            ("nan", "nan"),
            ("NaN", "nan"),
            ("01", "1"),
            ("1e5", "100000"),
            ("1E+2", "100"),
            ("-0", "-0"),
            ("1.7976931348623157e309", "inf"),
            ("123456789012345678901234567890", "1.2345678901235e+29"),
            ("9007199254740993", "9.007199254741e+15"),
            ("0.1e1", "1"),
            ("1.e2", "100"),
            ("-.5", "-0.5"),
            ("0x1.8p1", "3"),
            ("0x1p4", "16"),
            ("-nan", "-nan"),
            ("infinity", "inf"),
            ("nAn(123)", "nan"),
            ("0X1F", "31"),
            ("+inf", "inf"),
            ("1 ", "1"),
            ("[1]\u{0}[", "[1]"),
        ];
        for (input, want) in cases {
            lua.globals().set("INPUT", input).unwrap_or_default();
            let got = string(
                &lua,
                "local v = cjson.decode(INPUT) if type(v) == 'table' then return cjson.encode(v) end return tostring(v)",
            );
            assert_eq!(got, want, "{input:?}");
        }
        let t: String = eval(
            &lua,
            "return type(cjson.decode('null'))..tostring(cjson.decode('null') == cjson.null)",
        );
        assert_eq!(t, "userdatatrue");
        let n: f64 = eval(&lua, "return cjson.decode(123)");
        assert_eq!(n, 123.0);
    }

    #[test]
    fn decode_strings() {
        let lua = lua();
        let cases: [(&str, &[u8]); 8] = [
            (r#""\ud83d\ude00""#, "😀".as_bytes()),
            (r#""\uD83D\uDE00""#, "😀".as_bytes()),
            (r#""\u00e9\/""#, "é/".as_bytes()),
            (r#""\u0000a""#, b"\x00a"),
            (r#""a\"b""#, b"a\"b"),
            (r#""\b\f\n\r\t""#, b"\x08\x0c\n\r\t"),
            ("\"tab\tx\"", b"tab\tx"),
            ("\"\u{7f}\u{e9}\"", "\u{7f}\u{e9}".as_bytes()),
        ];
        for (input, want) in cases {
            lua.globals().set("INPUT", input).unwrap_or_default();
            let got = super::super::testutil::bytes(&lua, "return cjson.decode(INPUT)");
            assert_eq!(got, want, "{input}");
        }
    }

    #[test]
    fn decode_errors() {
        let lua = lua();
        let cases = [
            ("x", "Expected value but found invalid token at character 1"),
            ("", "Expected value but found T_END at character 1"),
            (" ", "Expected value but found T_END at character 2"),
            (
                "[1,2",
                "Expected comma or array end but found T_END at character 5",
            ),
            ("[1,]", "Expected value but found T_ARR_END at character 4"),
            (
                "{\"a\" 1}",
                "Expected colon but found T_NUMBER at character 6",
            ),
            (
                "{1:2}",
                "Expected object key string but found T_NUMBER at character 2",
            ),
            (
                "{\"a\":1,}",
                "Expected object key string but found T_OBJ_END at character 8",
            ),
            (
                "[1 2]",
                "Expected comma or array end but found T_NUMBER at character 4",
            ),
            (
                "tru",
                "Expected value but found invalid token at character 1",
            ),
            (
                "\"abc",
                "Expected value but found unexpected end of string at character 5",
            ),
            (
                r#""a\qb""#,
                "Expected value but found invalid escape code at character 3",
            ),
            (
                r#""\u12""#,
                "Expected value but found invalid unicode escape code at character 2",
            ),
            (
                r#""\ud800""#,
                "Expected value but found invalid unicode escape code at character 2",
            ),
            (
                r#""\udc00\ud800""#,
                "Expected value but found invalid unicode escape code at character 2",
            ),
            (
                r#""\ud800\u0041""#,
                "Expected value but found invalid unicode escape code at character 2",
            ),
            (
                r#""\u""#,
                "Expected value but found invalid unicode escape code at character 2",
            ),
            (
                "1.5.3",
                "Expected the end but found invalid token at character 4",
            ),
            (
                ".5",
                "Expected value but found invalid token at character 1",
            ),
            (
                "-",
                "Expected value but found invalid number at character 1",
            ),
            (
                "--1",
                "Expected value but found invalid number at character 1",
            ),
            (
                "1e",
                "Expected the end but found invalid token at character 2",
            ),
            (
                "[1]x",
                "Expected the end but found invalid token at character 4",
            ),
            (
                "nul",
                "Expected value but found invalid token at character 1",
            ),
            (
                "0x",
                "Expected the end but found invalid token at character 2",
            ),
            (
                "true false",
                "Expected the end but found T_BOOLEAN at character 6",
            ),
            (
                "00x10",
                "Expected the end but found invalid token at character 3",
            ),
            (
                "+",
                "Expected value but found invalid number at character 1",
            ),
            (
                "[-]",
                "Expected value but found invalid number at character 2",
            ),
            (
                "{\"a\":nul}",
                "Expected value but found invalid token at character 6",
            ),
            ("{\"a\"", "Expected colon but found T_END at character 5"),
            (
                "{",
                "Expected object key string but found T_END at character 2",
            ),
            ("[", "Expected value but found T_END at character 2"),
            (
                "\u{0}\u{1}",
                "JSON parser does not support UTF-16 or UTF-32",
            ),
        ];
        for (input, want) in cases {
            lua.globals().set("INPUT", input).unwrap_or_default();
            assert_eq!(
                eval_err(&lua, "return cjson.decode(INPUT)"),
                format!("user_script:1: {want}"),
                "{input:?}"
            );
        }
        assert_eq!(
            eval_err(
                &lua,
                "return cjson.decode(string.rep('[', 1001)..string.rep(']', 1001))"
            ),
            "user_script:1: Found too many nested data structures (1001) at character 1001"
        );
        for (code, want) in [
            (
                "cjson.decode()",
                "bad argument #1 to 'decode' (expected 1 argument)",
            ),
            (
                "cjson.decode('1', 2)",
                "bad argument #1 to 'decode' (expected 1 argument)",
            ),
            (
                "cjson.decode({})",
                "bad argument #1 to 'decode' (string expected, got table)",
            ),
        ] {
            assert_eq!(
                eval_err(&lua, &format!("return {code}")),
                format!("user_script:1: {want}")
            );
        }
        // Under pcall the message is a plain string without position.
        let e: String = eval(&lua, "local ok, e = pcall(cjson.decode, '[1,2') return e");
        assert_eq!(
            e,
            "Expected comma or array end but found T_END at character 5"
        );
    }

    #[test]
    fn configuration() {
        let lua = lua();
        let got: String = eval(
            &lua,
            "local t = {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision(), \
             tostring(cjson.encode_keep_buffer()), tostring(cjson.encode_invalid_numbers()), \
             tostring(cjson.decode_invalid_numbers())} \
             local a, b, c = cjson.encode_sparse_array() \
             return table.concat(t, ' ')..' '..tostring(a)..' '..b..' '..c",
        );
        assert_eq!(got, "1000 1000 14 true false true false 2 10");
        let errs = [
            (
                "cjson.encode_max_depth(0)",
                "bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)",
            ),
            (
                "cjson.encode_max_depth(1, 2)",
                "bad argument #2 to 'encode_max_depth' (found too many arguments)",
            ),
            (
                "cjson.encode_max_depth('x')",
                "bad argument #1 to 'encode_max_depth' (number expected, got string)",
            ),
            (
                "cjson.encode_number_precision(15)",
                "bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)",
            ),
            (
                "cjson.encode_sparse_array(true, -1)",
                "bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)",
            ),
            (
                "cjson.encode_sparse_array(true, 1, -1)",
                "bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)",
            ),
            (
                "cjson.encode_sparse_array('yes')",
                "bad argument #1 to 'encode_sparse_array' (invalid option 'yes')",
            ),
            (
                "cjson.encode_sparse_array({})",
                "bad argument #1 to 'encode_sparse_array' (string expected, got table)",
            ),
            (
                "cjson.encode_invalid_numbers('maybe')",
                "bad argument #1 to 'encode_invalid_numbers' (invalid option 'maybe')",
            ),
            (
                "cjson.encode_keep_buffer(1)",
                "bad argument #1 to 'encode_keep_buffer' (invalid option '1')",
            ),
            (
                "cjson.encode_max_depth(2^32)",
                "bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)",
            ),
        ];
        for (code, want) in errs {
            assert_eq!(
                eval_err(&lua, &format!("return {code}")),
                format!("user_script:1: {want}"),
                "{code}"
            );
        }
        let got: String = eval(
            &lua,
            "local r = {tostring(cjson.encode_invalid_numbers('null')), cjson.encode(0/0), cjson.encode({1/0}), \
             tostring(cjson.encode_invalid_numbers('on')), cjson.encode(1/0), cjson.encode(-1/0), \
             cjson.encode({[1/0]=1}), tostring(cjson.encode_invalid_numbers(false))} return table.concat(r, ' ')",
        );
        assert_eq!(got, "null null [null] true inf -inf {\"inf\":1} false");
        let got: String = eval(
            &lua,
            "local r = {cjson.encode_number_precision(3), cjson.encode(3.14159), cjson.encode(123456), \
             cjson.encode_number_precision(14)} return table.concat(r, ' ')",
        );
        assert_eq!(got, "3 3.14 1.23e+05 14");
        let got: String = eval(
            &lua,
            "cjson.decode_invalid_numbers('off') local r = {} \
             for _, s in ipairs({'[0x10]', '01', '+1', '-Infinity', 'Infinity', 'nan', '1'}) do \
               local ok, e = pcall(cjson.decode, s) r[#r+1] = tostring(e) end \
             cjson.decode_invalid_numbers('on') return table.concat(r, '|')",
        );
        assert_eq!(
            got,
            "Expected value but found invalid number at character 2|\
             Expected value but found invalid number at character 1|\
             Expected value but found invalid token at character 1|\
             Expected value but found invalid number at character 1|\
             Expected value but found invalid token at character 1|\
             Expected value but found invalid token at character 1|1"
        );
        let got: String = eval(
            &lua,
            "local r = {tostring(cjson.encode_keep_buffer(false)), tostring(cjson.encode_keep_buffer('on')), \
             cjson.encode({1})} return table.concat(r, ' ')",
        );
        assert_eq!(got, "false true [1]");
        let got: String = eval(
            &lua,
            "local a, b, c = cjson.encode_sparse_array(true, 2, 5) local r1 = cjson.encode({[1]=1,[20]=2}) \
             cjson.encode_sparse_array(false, 0) local r2 = cjson.encode({[1]=1,[3]=2}) \
             cjson.encode_sparse_array(false, 2, 10) return tostring(a)..b..c..' '..r1..' '..r2",
        );
        assert_eq!(got, "true25 {\"1\":1,\"20\":2} [1,null,2]");
        let e: String = eval(
            &lua,
            "cjson.encode_max_depth(2) local ok, e = pcall(cjson.encode, {{{1}}}) cjson.encode_max_depth(1000) return e",
        );
        assert_eq!(e, "Cannot serialise, excessive nesting (3)");
        let e: String = eval(
            &lua,
            "cjson.decode_max_depth(2) local ok, e = pcall(cjson.decode, '[[[1]]]') \
             local ok2, e2 = pcall(cjson.decode, '{\"a\":{\"b\":{\"c\":1}}}') cjson.decode_max_depth(1000) return e..'|'..e2",
        );
        assert_eq!(
            e,
            "Found too many nested data structures (3) at character 3|Found too many nested data structures (3) at character 11"
        );
        let got: Vec<i64> = eval(
            &lua,
            "return {cjson.decode_max_depth(1.9), cjson.encode_max_depth(2^32+7), cjson.encode_max_depth(1000)}",
        );
        assert_eq!(got, vec![1, 7, 1000]);
        // new() has its own configuration.
        let got: String = eval(
            &lua,
            "local n = cjson.new() n.encode_max_depth(3) return cjson.encode_max_depth()..' '..n.encode_max_depth()..' '..n._VERSION..' '..cjson._NAME",
        );
        assert_eq!(got, "1000 3 2.1.0 cjson");
    }

    #[test]
    fn strtod_like_glibc() {
        let cases: [(&str, Option<(f64, usize)>); 12] = [
            ("12abc", Some((12.0, 2))),
            ("1e", Some((1.0, 1))),
            ("1e+", Some((1.0, 1))),
            ("1.5e-3x", Some((0.0015, 6))),
            (".5", Some((0.5, 2))),
            (".", None),
            ("-", None),
            ("0x", Some((0.0, 1))),
            ("0x1P-2", Some((0.25, 6))),
            ("infinit", Some((f64::INFINITY, 3))),
            ("-INFINITY", Some((f64::NEG_INFINITY, 9))),
            ("nan(x", Some((f64::NAN, 3))),
        ];
        for (s, want) in cases {
            let got = strtod(s.as_bytes());
            match (got, want) {
                (Some((a, n)), Some((b, m))) => {
                    assert!(a == b || (a.is_nan() && b.is_nan()), "{s}: {a} vs {b}");
                    assert_eq!(n, m, "{s}");
                }
                (a, b) => assert_eq!(a.is_none(), b.is_none(), "{s}"),
            }
        }
    }

    proptest! {
        #[test]
        fn fmt_g_round_trips_at_17_digits(v in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
            let mut out = Vec::new();
            fmt_g(&mut out, v, 17);
            let s = String::from_utf8(out).unwrap_or_default();
            let back: f64 = s.parse().unwrap_or(f64::NAN);
            prop_assert_eq!(back.to_bits(), v.to_bits(), "{}", s);
        }

        #[test]
        fn encode_decode_round_trip(
            nums in proptest::collection::vec(-1e12f64..1e12, 0..10),
            strs in proptest::collection::vec(proptest::collection::vec(any::<u8>().prop_filter("no NUL", |b| *b != 0), 0..20), 0..5),
        ) {
            let lua = lua();
            // Numbers survive when they have at most 14 significant digits.
            let nums: Vec<f64> = nums.iter().map(|v| (v * 100.0).round() / 100.0).collect();
            let t = lua.create_table().unwrap();
            for (i, v) in nums.iter().enumerate() { t.raw_set(i + 1, *v).unwrap(); }
            let o = lua.create_table().unwrap();
            for (i, s) in strs.iter().enumerate() { o.raw_set(format!("k{i}"), lua.create_string(s).unwrap()).unwrap(); }
            lua.globals().set("T", t).unwrap();
            lua.globals().set("O", o).unwrap();
            let (t2, o2): (Table, Table) = eval(&lua, "return cjson.decode(cjson.encode(T)), cjson.decode(cjson.encode(O))");
            let got: Vec<f64> = t2.sequence_values::<f64>().collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(got, nums);
            for (i, s) in strs.iter().enumerate() {
                let got: mlua::LuaString = o2.raw_get(format!("k{i}")).unwrap();
                prop_assert_eq!(&got.as_bytes()[..], &s[..]);
            }
        }
    }
}
