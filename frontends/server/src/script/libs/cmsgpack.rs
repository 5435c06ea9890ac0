//! `cmsgpack`: lua-cmsgpack 0.4.0 (MessagePack for Lua) as Redis ships it.
//!
//! Encoding choices are lua-cmsgpack's, byte for byte: a number that converts to an `int64_t`
//! and back unchanged is an integer in the smallest MessagePack integer type (unsigned types for
//! non-negative values), any other number is a float32 when the float32 conversion is exact and a
//! float64 otherwise; strings are fixstr/str8/str16/str32; a table whose keys are exactly
//! `1..n` is an array, anything else a map (iterated in `next` order); tables nested 16 deep
//! and values of other types (nil, functions, userdata, `cjson.null`) encode as nil.
//!
//! Decoding builds Lua values iteratively (explicit stack) while accounting for the Lua stack
//! slots the C decoder would use, so that inputs that overflow the C library's Lua stack
//! (8000 slots) fail here with the same `stack overflow (...)` message instead of recursing.
//! Integers decode the way the C code pushes them on a 64-bit build: uint64 values above
//! 2^63-1 go through `lua_pushinteger` and so come back negative.

use mlua::{Lua, MultiValue, Table, Value};

use super::{
    LibError, LibResult, arg_error, c_f64_to_i32, c_f64_to_i64, check_integer, check_string, error,
    num, opt_integer, register, ret1,
};

/// Tables nested deeper than this are encoded as nil (protects against cycles).
const MAX_NESTING: usize = 16;

/// Lua's `LUAI_MAXCSTACK`: a C function may use at most this many stack slots.
const MAX_C_STACK: usize = 8000;

/// Builds the `cmsgpack` table.
pub(super) fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    register(lua, &t, "pack", pack)?;
    register(lua, &t, "unpack", |lua, args| {
        unpack_full(lua, args, 0, 0, args.len().max(1))
    })?;
    register(lua, &t, "unpack_one", |lua, args| {
        let offset = opt_integer(lua, args, 2, 0)?;
        unpack_full(lua, args, 1, offset, 1)
    })?;
    register(lua, &t, "unpack_limit", |lua, args| {
        let limit = check_integer(lua, args, 2)?;
        let offset = opt_integer(lua, args, 3, 0)?;
        unpack_full(lua, args, limit, offset, 1)
    })?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}

/// `pack(...)`: every argument encoded, concatenated.
fn pack(lua: &Lua, args: &[Value]) -> LibResult<MultiValue> {
    if args.is_empty() {
        return Err(arg_error(0, "MessagePack pack needs input."));
    }
    let mut buf = Vec::new();
    for v in args {
        encode(&mut buf, v, 0)?;
    }
    Ok(ret1(Value::String(lua.create_string(&buf)?)))
}

/// Appends the encoding of `v` at table nesting `level`.
pub(super) fn encode(buf: &mut Vec<u8>, v: &Value, level: usize) -> mlua::Result<()> {
    match v {
        Value::String(s) => encode_bytes(buf, &s.as_bytes()),
        Value::Boolean(b) => buf.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_number(buf, *i as f64),
        Value::Number(n) => encode_number(buf, *n),
        Value::Table(t) if level < MAX_NESTING => {
            if table_is_an_array(t)? {
                let len = t.raw_len();
                encode_array_header(buf, len as u64);
                for j in 1..=len {
                    let item: Value = t.raw_get(j)?;
                    encode(buf, &item, level + 1)?;
                }
            } else {
                let mut count = 0u64;
                t.for_each::<Value, Value>(|_, _| {
                    count += 1;
                    Ok(())
                })?;
                encode_map_header(buf, count);
                for pair in t.pairs::<Value, Value>() {
                    let (k, v) = pair?;
                    encode(buf, &k, level + 1)?;
                    encode(buf, &v, level + 1)?;
                }
            }
        }
        _ => buf.push(0xc0),
    }
    Ok(())
}

/// lua-cmsgpack's `table_is_an_array` (Lua 5.1 flavour): every key is a number equal to its
/// `(int)` conversion and positive, and the largest key equals the number of keys.
fn table_is_an_array(t: &Table) -> mlua::Result<bool> {
    let mut count: i64 = 0;
    let mut max: i64 = 0;
    let mut is_array = true;
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => {
                is_array = false;
                break;
            }
        };
        if n <= 0.0 || f64::from(c_f64_to_i32(n)) != n {
            is_array = false;
            break;
        }
        max = max.max(n as i64);
        count += 1;
    }
    Ok(is_array && max == count)
}

fn encode_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        buf.push(0xa0 | len as u8);
    } else if len <= 0xff {
        buf.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        buf.push(0xda);
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(0xdb);
        buf.extend_from_slice(&(len as u32).to_be_bytes());
    }
    buf.extend_from_slice(s);
}

fn encode_number(buf: &mut Vec<u8>, n: f64) {
    // IS_INT64_EQUIVALENT: the int64 conversion (x86 semantics) round-trips.
    if !n.is_infinite() && c_f64_to_i64(n) as f64 == n {
        encode_int(buf, c_f64_to_i64(n));
    } else {
        let f = n as f32;
        if f64::from(f) == n {
            buf.push(0xca);
            buf.extend_from_slice(&f.to_bits().to_be_bytes());
        } else {
            buf.push(0xcb);
            buf.extend_from_slice(&n.to_bits().to_be_bytes());
        }
    }
}

fn encode_int(buf: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            buf.push(n as u8);
        } else if n <= 0xff {
            buf.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            buf.push(0xcd);
            buf.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            buf.push(0xce);
            buf.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            buf.push(0xcf);
            buf.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        buf.push(n as i8 as u8);
    } else if n >= -128 {
        buf.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        buf.push(0xd1);
        buf.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        buf.push(0xd2);
        buf.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        buf.push(0xd3);
        buf.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_array_header(buf: &mut Vec<u8>, n: u64) {
    if n <= 15 {
        buf.push(0x90 | n as u8);
    } else if n <= 0xffff {
        buf.push(0xdc);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        buf.push(0xdd);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn encode_map_header(buf: &mut Vec<u8>, n: u64) {
    if n <= 15 {
        buf.push(0x80 | n as u8);
    } else if n <= 0xffff {
        buf.push(0xde);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        buf.push(0xdf);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// `mp_unpack_full`: decodes up to `limit` values starting at byte `offset` (`limit == 0 &&
/// offset == 0` means "all values, no offset returned"); otherwise the next offset (-1 once the
/// input is exhausted) is returned before the values.
///
/// `stack_base` is the number of arguments left on the C function's stack: `unpack` keeps them
/// all, `unpack_one`/`unpack_limit` pop all but the string.
fn unpack_full(
    lua: &Lua,
    args: &[Value],
    limit: i64,
    offset: i64,
    stack_base: usize,
) -> LibResult<MultiValue> {
    let s = check_string(lua, args, 1)?;
    let data = s.as_bytes();
    let len = data.len();
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        // The C code prints the input length where it means the limit.
        return Err(error(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32, len as i32
        )));
    }
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    if start > len {
        return Err(error(format!(
            "Start offset {} greater than input length {}.",
            offset as i32, len as i32
        )));
    }
    let limit = if decode_all {
        i64::from(i32::MAX)
    } else {
        limit
    };
    let mut dec = Decoder {
        lua,
        data: &data[start..],
        pos: 0,
    };
    let mut results: Vec<Value> = Vec::new();
    let mut cnt: i64 = 0;
    while dec.pos < dec.data.len() && cnt < limit {
        // The C function's stack holds its arguments plus the values decoded so far.
        let v = dec.decode_one(stack_base + results.len())?;
        results.push(v);
        cnt += 1;
    }
    if !decode_all {
        if stack_base + results.len() + 1 > MAX_C_STACK {
            return Err(error("stack overflow (in function mp_unpack_full)"));
        }
        let left = dec.data.len() - dec.pos;
        let next = if left == 0 { -1 } else { (len - left) as i64 };
        results.insert(0, Value::Integer(next));
    }
    Ok(MultiValue::from_vec(results))
}

/// A map key or value waiting for its table: scalars stay Rust values so that deep nesting does
/// not pin one mlua reference per level.
enum Pending {
    Nil,
    Bool(bool),
    Num(f64),
    Bytes(Vec<u8>),
    Lua(Value),
}

impl Pending {
    fn into_value(self, lua: &Lua) -> mlua::Result<Value> {
        Ok(match self {
            Pending::Nil => Value::Nil,
            Pending::Bool(b) => Value::Boolean(b),
            Pending::Num(n) => num(n),
            Pending::Bytes(b) => Value::String(lua.create_string(&b)?),
            Pending::Lua(v) => v,
        })
    }
}

/// An array or map being filled.
struct Frame {
    table: Table,
    /// Elements (arrays) or pairs (maps) still to decode.
    left: u64,
    /// Next array index; unused for maps.
    index: u64,
    is_map: bool,
    /// For maps: the decoded key waiting for its value.
    key: Option<Pending>,
    /// Lua stack slots the C decoder used before pushing this table.
    base: usize,
}

struct Decoder<'a> {
    lua: &'a Lua,
    data: &'a [u8],
    pos: usize,
}

/// Decode failures, reported as the C code reports them.
const MISSING: &str = "Missing bytes in input.";
const BAD_FORMAT: &str = "Bad data format in input.";

/// What the reader found at the cursor.
enum Item {
    Scalar(Pending),
    Container { len: u64, is_map: bool },
}

impl Decoder<'_> {
    fn need(&self, n: usize) -> LibResult<()> {
        if self.data.len() - self.pos < n {
            Err(error(MISSING))
        } else {
            Ok(())
        }
    }

    fn bytes<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut out = [0u8; N];
        // Callers check `need` first; a short slice would leave zeros, never panic.
        if let Some(src) = self.data.get(self.pos + at..self.pos + at + N) {
            out.copy_from_slice(src);
        }
        out
    }

    fn string(&mut self, header: usize, len: usize) -> LibResult<Pending> {
        let total = header.checked_add(len).ok_or_else(|| error(MISSING))?;
        self.need(total)?;
        let s = self
            .data
            .get(self.pos + header..self.pos + total)
            .unwrap_or_default()
            .to_vec();
        self.pos += total;
        Ok(Pending::Bytes(s))
    }

    /// Reads one item header (and scalar payload) at the cursor.
    fn read_item(&mut self) -> LibResult<Item> {
        self.need(1)?;
        let b = self.data[self.pos];
        let scalar = |p| Ok(Item::Scalar(p));
        match b {
            0xc0 => {
                self.pos += 1;
                scalar(Pending::Nil)
            }
            0xc2 | 0xc3 => {
                self.pos += 1;
                scalar(Pending::Bool(b == 0xc3))
            }
            0xcc | 0xd0 => {
                self.need(2)?;
                let x = self.data[self.pos + 1];
                self.pos += 2;
                scalar(Pending::Num(if b == 0xcc {
                    f64::from(x)
                } else {
                    f64::from(x as i8)
                }))
            }
            0xcd | 0xd1 => {
                self.need(3)?;
                let x = self.bytes::<2>(1);
                self.pos += 3;
                let n = if b == 0xcd {
                    f64::from(u16::from_be_bytes(x))
                } else {
                    f64::from(i16::from_be_bytes(x))
                };
                scalar(Pending::Num(n))
            }
            0xce | 0xd2 => {
                self.need(5)?;
                let x = self.bytes::<4>(1);
                self.pos += 5;
                let n = if b == 0xce {
                    f64::from(u32::from_be_bytes(x))
                } else {
                    f64::from(i32::from_be_bytes(x))
                };
                scalar(Pending::Num(n))
            }
            0xcf | 0xd3 => {
                self.need(9)?;
                let x = self.bytes::<8>(1);
                self.pos += 9;
                // uint64 goes through lua_pushinteger (a signed 64-bit) in the C code.
                scalar(Pending::Num(i64::from_be_bytes(x) as f64))
            }
            0xca => {
                self.need(5)?;
                let x = self.bytes::<4>(1);
                self.pos += 5;
                scalar(Pending::Num(f64::from(f32::from_be_bytes(x))))
            }
            0xcb => {
                self.need(9)?;
                let x = self.bytes::<8>(1);
                self.pos += 9;
                scalar(Pending::Num(f64::from_be_bytes(x)))
            }
            0xd9 => {
                self.need(2)?;
                let l = usize::from(self.data[self.pos + 1]);
                self.string(2, l).map(Item::Scalar)
            }
            0xda => {
                self.need(3)?;
                let l = usize::from(u16::from_be_bytes(self.bytes::<2>(1)));
                self.string(3, l).map(Item::Scalar)
            }
            0xdb => {
                self.need(5)?;
                let l = u32::from_be_bytes(self.bytes::<4>(1)) as usize;
                self.string(5, l).map(Item::Scalar)
            }
            0xdc | 0xde => {
                self.need(3)?;
                let l = u64::from(u16::from_be_bytes(self.bytes::<2>(1)));
                self.pos += 3;
                Ok(Item::Container {
                    len: l,
                    is_map: b == 0xde,
                })
            }
            0xdd | 0xdf => {
                self.need(5)?;
                let l = u64::from(u32::from_be_bytes(self.bytes::<4>(1)));
                self.pos += 5;
                Ok(Item::Container {
                    len: l,
                    is_map: b == 0xdf,
                })
            }
            _ if b & 0x80 == 0 => {
                self.pos += 1;
                scalar(Pending::Num(f64::from(b)))
            }
            _ if b & 0xe0 == 0xe0 => {
                self.pos += 1;
                scalar(Pending::Num(f64::from(b as i8)))
            }
            _ if b & 0xe0 == 0xa0 => self.string(1, usize::from(b & 0x1f)).map(Item::Scalar),
            _ if b & 0xf0 == 0x90 || b & 0xf0 == 0x80 => {
                self.pos += 1;
                Ok(Item::Container {
                    len: u64::from(b & 0x0f),
                    is_map: b & 0xf0 == 0x80,
                })
            }
            _ => Err(error(BAD_FORMAT)),
        }
    }

    /// Decodes one top-level value. `base` is the number of Lua stack slots the C function
    /// already uses. The slot accounting mirrors `mp_decode_to_lua_type` and friends: an open
    /// array holds (table, index) while an element decodes, an open map holds its table while a
    /// key decodes and (table, key) while a value decodes.
    fn decode_one(&mut self, base: usize) -> LibResult<Value> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            // Slots in use before this item is pushed.
            let used = match stack.last() {
                None => base,
                Some(f) if f.is_map && f.key.is_none() => f.base + 1,
                Some(f) => f.base + 2,
            };
            self.need(1)?;
            if used + 1 > MAX_C_STACK {
                return Err(error(
                    "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)",
                ));
            }
            let mut done = match self.read_item()? {
                Item::Scalar(p) => p,
                Item::Container { len, is_map } => {
                    if !is_map && used + 2 > MAX_C_STACK {
                        return Err(error("stack overflow (in function mp_decode_to_lua_array)"));
                    }
                    let table = self.lua.create_table()?;
                    if len == 0 {
                        Pending::Lua(Value::Table(table))
                    } else {
                        stack.push(Frame {
                            table,
                            left: len,
                            index: 1,
                            is_map,
                            key: None,
                            base: used,
                        });
                        continue;
                    }
                }
            };
            // Attach the finished value to its parent, closing every container it completes.
            loop {
                let Some(top) = stack.last_mut() else {
                    return Ok(done.into_value(self.lua)?);
                };
                if top.is_map {
                    let Some(k) = top.key.take() else {
                        top.key = Some(done);
                        break;
                    };
                    let k = k.into_value(self.lua)?;
                    match &k {
                        Value::Nil => return Err(LibError::Raw(b"table index is nil".to_vec())),
                        Value::Number(n) if n.is_nan() => {
                            return Err(LibError::Raw(b"table index is NaN".to_vec()));
                        }
                        _ => {}
                    }
                    top.table.raw_set(k, done.into_value(self.lua)?)?;
                } else {
                    top.table.raw_set(top.index, done.into_value(self.lua)?)?;
                    top.index += 1;
                }
                top.left -= 1;
                if top.left > 0 {
                    break;
                }
                match stack.pop() {
                    Some(f) => done = Pending::Lua(Value::Table(f.table)),
                    None => return Err(error("BUG: cmsgpack decoder lost its frame")),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{bytes, eval, eval_err, lua};
    use super::*;
    use proptest::prelude::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn pack_integers_by_smallest_type() {
        let lua = lua();
        // redis-server 7.0.15: cmsgpack.pack(1, -1, 127, ..., 2^53)
        let got = bytes(
            &lua,
            "return cmsgpack.pack(1, -1, 127, 128, 255, 256, 65535, 65536, 2^32-1, 2^32, -32, \
             -33, -128, -129, -32768, -32769, -2^31, -2^31-1, 2^63, -2^63, 2^53)",
        );
        let want = b"\x01\xff\x7f\xcc\x80\xcc\xff\xcd\x01\x00\xcd\xff\xff\xce\x00\x01\x00\x00\
\xce\xff\xff\xff\xff\xcf\x00\x00\x00\x01\x00\x00\x00\x00\xe0\xd0\xdf\xd0\x80\xd1\xff\x7f\
\xd1\x80\x00\xd2\xff\xff\x7f\xff\xd2\x80\x00\x00\x00\xd3\xff\xff\xff\xff\x7f\xff\xff\xff\
\xca_\x00\x00\x00\xd3\x80\x00\x00\x00\x00\x00\x00\x00\xcf\x00 \x00\x00\x00\x00\x00\x00";
        assert_eq!(hex(&got), hex(want));
    }

    #[test]
    fn pack_floats() {
        let lua = lua();
        let got = bytes(
            &lua,
            "return cmsgpack.pack(0.5, 0.1, 1/0, -1/0, 0/0, 1.5, -0.0, 3.4e38, 1e300)",
        );
        let want = b"\xca?\x00\x00\x00\xcb?\xb9\x99\x99\x99\x99\x99\x9a\xca\x7f\x80\x00\x00\
\xca\xff\x80\x00\x00\xcb\xff\xf8\x00\x00\x00\x00\x00\x00\xca?\xc0\x00\x00\x00\
\xcbG\xef\xf93\xc7\x8c\xdf\xad\xcb~7\xe4<\x88\x00u\x9c";
        assert_eq!(hex(&got), hex(want));
    }

    #[test]
    fn pack_tables_and_others() {
        let lua = lua();
        let got = bytes(
            &lua,
            "return cmsgpack.pack({1,2,3}, {a=1}, {}, {1,nil,3}, {[1]=1,[3]=3}, true, false, \
             nil, cjson.null, function() end)",
        );
        let want = b"\x93\x01\x02\x03\x81\xa1a\x01\x90\x82\x01\x01\x03\x03\x82\x01\x01\x03\x03\
\xc3\xc2\xc0\xc0\xc0";
        assert_eq!(hex(&got), hex(want));
        // Map entries in Lua's `next` order, as on redis-server.
        assert_eq!(
            hex(&bytes(
                &lua,
                "return cmsgpack.pack({x=1,y=2,z=3,w={1,2},[5]='a'})"
            )),
            hex(b"\x85\xa1y\x02\xa1x\x01\xa1z\x03\xa1w\x92\x01\x02\x05\xa1a")
        );
        // 16 levels of nesting, then nil.
        let got = bytes(
            &lua,
            "local t={} local c=t for i=1,20 do c[1]={} c=c[1] end return cmsgpack.pack(t)",
        );
        let mut want = vec![0x91u8; 16];
        want.push(0xc0);
        assert_eq!(got, want);
        // Keys that are not int-equivalent make a map; string keys too.
        assert_eq!(
            bytes(&lua, "return cmsgpack.pack({[1.5]=1})"),
            b"\x81\xca\x3f\xc0\x00\x00\x01"
        );
        assert_eq!(
            bytes(&lua, "return cmsgpack.pack({['1']=1})"),
            b"\x81\xa11\x01"
        );
        assert_eq!(
            bytes(&lua, "return cmsgpack.pack({[2^40]=1})"),
            b"\x81\xcf\x00\x00\x01\x00\x00\x00\x00\x00\x01"
        );
    }

    #[test]
    fn pack_string_headers() {
        let lua = lua();
        for (n, head) in [
            (0usize, vec![0xa0u8]),
            (31, vec![0xbf]),
            (32, vec![0xd9, 32]),
            (255, vec![0xd9, 255]),
            (256, vec![0xda, 1, 0]),
            (65535, vec![0xda, 0xff, 0xff]),
            (65536, vec![0xdb, 0, 1, 0, 0]),
        ] {
            let got = bytes(&lua, &format!("return cmsgpack.pack(string.rep('a', {n}))"));
            assert_eq!(&got[..head.len()], &head[..], "len {n}");
            assert_eq!(got.len(), head.len() + n);
        }
        // Array and map headers at their thresholds.
        for (n, head) in [
            (15usize, vec![0x9fu8]),
            (16, vec![0xdc, 0, 16]),
            (65536, vec![0xdd, 0, 1, 0, 0]),
        ] {
            let got = bytes(
                &lua,
                &format!("local t={{}} for i=1,{n} do t[i]=0 end return cmsgpack.pack(t)"),
            );
            assert_eq!(&got[..head.len()], &head[..], "array {n}");
        }
        for (n, head) in [
            (15usize, vec![0x8fu8]),
            (16, vec![0xde, 0, 16]),
            (65536, vec![0xdf, 0, 1, 0, 0]),
        ] {
            let got = bytes(
                &lua,
                &format!("local t={{}} for i=1,{n} do t['k'..i]=0 end return cmsgpack.pack(t)"),
            );
            assert_eq!(&got[..head.len()], &head[..], "map {n}");
        }
    }

    #[test]
    fn pack_errors() {
        let lua = lua();
        assert_eq!(
            eval_err(&lua, "return cmsgpack.pack()"),
            "user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)"
        );
    }

    #[test]
    fn unpack_variants() {
        let lua = lua();
        let s: String = eval(
            &lua,
            "local t = {cmsgpack.unpack(cmsgpack.pack(1,'a',{1,2},{x=1}, true))} \
             return t[1]..t[2]..t[3][2]..t[4].x..tostring(t[5])",
        );
        assert_eq!(s, "1a21true");
        let cases: [(&str, Vec<Value>); 9] = [
            (
                "cmsgpack.unpack_one(cmsgpack.pack(1,'a',3))",
                vec![num(1.0), num(1.0)],
            ),
            (
                "cmsgpack.unpack_one(cmsgpack.pack(1,'a',3), 3)",
                vec![num(-1.0), num(3.0)],
            ),
            (
                "cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 2)",
                vec![num(2.0), num(1.0), num(2.0)],
            ),
            (
                "cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 0)",
                vec![num(1.0), num(2.0), num(3.0)],
            ),
            (
                "cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 2, 2)",
                vec![num(-1.0), num(3.0)],
            ),
            (
                "cmsgpack.unpack_one(cmsgpack.pack(1,'a',3), 4)",
                vec![num(-1.0)],
            ),
            ("cmsgpack.unpack('')", vec![]),
            ("cmsgpack.unpack_one('')", vec![num(-1.0)]),
            ("cmsgpack.unpack(12)", vec![num(49.0), num(50.0)]),
        ];
        for (code, want) in cases {
            let got: Vec<Value> = eval::<MultiValue>(&lua, &format!("return {code}")).into_vec();
            let got: Vec<Value> = got
                .into_iter()
                .map(|v| match v {
                    Value::Integer(i) => num(i as f64),
                    v => v,
                })
                .collect();
            assert_eq!(got, want, "{code}");
        }
        let s: String = eval(
            &lua,
            "local off, v = cmsgpack.unpack_one(cmsgpack.pack(1,'a',3), 1) return off..v",
        );
        assert_eq!(s, "3a");
        // uint64 above 2^63 and int64 both come back as Lua numbers through a signed integer.
        let got: Vec<f64> = eval(
            &lua,
            "return {cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255\\207\\128\\0\\0\\0\\0\\0\\0\\0\\211\\128\\0\\0\\0\\0\\0\\0\\0')}",
        );
        assert_eq!(
            got,
            vec![-1.0, -9.223372036854776e18, -9.223372036854776e18]
        );
        // nil values keep their place.
        let n: usize = eval(&lua, "return select('#', cmsgpack.unpack('\\192\\1\\192'))");
        assert_eq!(n, 3);
    }

    #[test]
    fn unpack_errors() {
        let lua = lua();
        let cases = [
            (
                "cmsgpack.unpack_one(cmsgpack.pack(1,'a',3), 5)",
                "user_script:1: Start offset 5 greater than input length 4.",
            ),
            (
                "cmsgpack.unpack_one(cmsgpack.pack(1,'a',3), -1)",
                "user_script:1: Invalid request to unpack with offset of -1 and limit of 4.",
            ),
            (
                "cmsgpack.unpack_limit(cmsgpack.pack(1,'a',3), -1)",
                "user_script:1: Invalid request to unpack with offset of 0 and limit of 4.",
            ),
            (
                "cmsgpack.unpack('\\193')",
                "user_script:1: Bad data format in input.",
            ),
            (
                "cmsgpack.unpack('\\205\\1')",
                "user_script:1: Missing bytes in input.",
            ),
            (
                "cmsgpack.unpack('\\146\\1')",
                "user_script:1: Missing bytes in input.",
            ),
            (
                "cmsgpack.unpack('\\219\\0\\0\\0\\9abc')",
                "user_script:1: Missing bytes in input.",
            ),
            ("cmsgpack.unpack('\\130\\192\\1')", "table index is nil"),
            (
                "cmsgpack.unpack('\\129\\203\\127\\248\\0\\0\\0\\0\\0\\0\\1')",
                "table index is NaN",
            ),
            (
                "cmsgpack.unpack()",
                "user_script:1: bad argument #1 to 'unpack' (string expected, got no value)",
            ),
            (
                "cmsgpack.unpack({})",
                "user_script:1: bad argument #1 to 'unpack' (string expected, got table)",
            ),
            (
                "cmsgpack.unpack_one('a', 'x')",
                "user_script:1: bad argument #2 to 'unpack_one' (number expected, got string)",
            ),
            (
                "cmsgpack.unpack_limit('a')",
                "user_script:1: bad argument #2 to 'unpack_limit' (number expected, got no value)",
            ),
            (
                "cmsgpack.unpack(string.rep('\\1', 8000))",
                "user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)",
            ),
            (
                "cmsgpack.unpack(string.rep('\\145', 5000)..'\\1')",
                "user_script:1: stack overflow (in function mp_decode_to_lua_array)",
            ),
            (
                "cmsgpack.unpack(string.rep('\\129\\1', 5000)..'\\1')",
                "user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)",
            ),
        ];
        for (code, want) in cases {
            assert_eq!(eval_err(&lua, &format!("return {code}")), want, "{code}");
        }
    }

    #[test]
    fn deep_nesting_within_the_c_limit_decodes() {
        let lua = lua();
        let depth: i64 = eval(
            &lua,
            "local t = cmsgpack.unpack(string.rep('\\145', 3000)..'\\1') \
             local d = 0 while type(t) == 'table' do t = t[1] d = d + 1 end return d",
        );
        assert_eq!(depth, 3000);
    }

    proptest! {
        #[test]
        fn round_trip(ints in proptest::collection::vec(-1_000_000_000_000i64..1_000_000_000_000, 0..20),
                      strs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..5),
                      floats in proptest::collection::vec(any::<f64>().prop_filter("not nan", |f| !f.is_nan()), 0..5)) {
            let lua = lua();
            let t = lua.create_table().unwrap();
            for (i, v) in ints.iter().enumerate() { t.raw_set(i + 1, *v as f64).unwrap(); }
            let s = lua.create_table().unwrap();
            for (i, v) in strs.iter().enumerate() { s.raw_set(i + 1, lua.create_string(v).unwrap()).unwrap(); }
            let f = lua.create_table().unwrap();
            for (i, v) in floats.iter().enumerate() { f.raw_set(format!("k{i}"), *v).unwrap(); }
            lua.globals().set("T", t).unwrap();
            lua.globals().set("S", s).unwrap();
            lua.globals().set("F", f).unwrap();
            let (t2, s2, f2): (Table, Table, Table) =
                eval(&lua, "return cmsgpack.unpack(cmsgpack.pack(T, S, F))");
            let got_ints: Vec<f64> = t2.sequence_values::<f64>().collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(got_ints, ints.iter().map(|v| *v as f64).collect::<Vec<_>>());
            let got_strs: Vec<Vec<u8>> = s2.sequence_values::<mlua::LuaString>().map(|v| v.unwrap().as_bytes().to_vec()).collect();
            prop_assert_eq!(got_strs, strs);
            for (i, v) in floats.iter().enumerate() {
                let got: f64 = f2.raw_get(format!("k{i}")).unwrap();
                // -0.0 is integer-equivalent and comes back as 0.
                prop_assert!(got == *v && (got.to_bits() == v.to_bits() || *v == 0.0));
            }
        }
    }
}
