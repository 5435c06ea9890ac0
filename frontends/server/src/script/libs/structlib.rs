//! `struct`: Roberto Ierusalimschy's lua-struct (struct.c 1.4) with the fixes Redis 7.0 applies
//! (`unpack` rejects offsets below 1 and checks bounds without overflowing).
//!
//! Format language: `>` big endian, `<` little endian (the default, native x86-64), `!n` maximum
//! alignment (default 8), `x` a zero byte, `b/B h/H l/L T i[n]/I[n]` signed/unsigned integers
//! of 1, 2, 8, 8 and n (default 4, at most 32) bytes, `f`/`d` float/double, `s` a
//! zero-terminated string, `c[n]` n characters (`c0`: the whole string when packing, the
//! previously unpacked number as length when unpacking), spaces ignored. Sizes are those of the
//! x86-64 C types the library is compiled with. Integers travel as C `long`/`unsigned long`
//! (64 bits): wider fields are zero/sign filled, and conversions from Lua numbers use the x86
//! cast semantics, like the C library.

use mlua::{Lua, MultiValue, Table, Value};

use super::{
    LibResult, arg, arg_error, c_f64_to_i64, c_f64_to_u64, check_string, error, num, opt_integer,
    register, ret1, to_number, type_error,
};

/// Largest `i`/`I` size.
const MAX_INT_SIZE: i32 = 32;
/// `MAXALIGN`: the alignment of `double` in a struct on x86-64.
const MAX_ALIGN: i32 = 8;
/// Lua's `LUAI_MAXCSTACK`.
const MAX_C_STACK: usize = 8000;

/// Builds the `struct` table.
pub(super) fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    register(lua, &t, "pack", pack)?;
    register(lua, &t, "unpack", unpack)?;
    register(lua, &t, "size", size)?;
    Ok(t)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endian {
    Big,
    Little,
}

/// Parsing state of a format string (`Header` plus the cursor).
struct Format<'a> {
    fmt: &'a [u8],
    pos: usize,
    endian: Endian,
    align: i32,
}

impl<'a> Format<'a> {
    fn new(fmt: &'a [u8]) -> Self {
        // The C code walks a NUL-terminated string.
        let end = fmt.iter().position(|&c| c == 0).unwrap_or(fmt.len());
        Format {
            fmt: &fmt[..end],
            pos: 0,
            endian: Endian::Little,
            align: 1,
        }
    }

    fn next_opt(&mut self) -> Option<u8> {
        let c = *self.fmt.get(self.pos)?;
        self.pos += 1;
        Some(c)
    }

    /// `getnum`: a decimal number at the cursor, or `df`. Overflow wraps like the C `int`.
    fn getnum(&mut self, df: i32) -> i32 {
        let mut a: i32 = 0;
        let mut any = false;
        while let Some(&c) = self.fmt.get(self.pos) {
            if !c.is_ascii_digit() {
                break;
            }
            any = true;
            a = a.wrapping_mul(10).wrapping_add(i32::from(c - b'0'));
            self.pos += 1;
        }
        if any { a } else { df }
    }

    /// `optsize`: the size of option `opt` (consuming its number, if any).
    fn optsize(&mut self, opt: u8) -> LibResult<usize> {
        Ok(match opt {
            b'B' | b'b' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'x' => 1,
            // A negative count (overflowed int) becomes a huge size_t in C.
            b'c' => self.getnum(1) as isize as usize,
            b'i' | b'I' => {
                let sz = self.getnum(4);
                if sz > MAX_INT_SIZE {
                    return Err(error(format!(
                        "integral size {sz} is larger than limit of {MAX_INT_SIZE}"
                    )));
                }
                sz as isize as usize
            }
            _ => 0,
        })
    }

    /// `gettoalign`: padding needed before an item of `size` at offset `len`.
    fn gettoalign(&self, len: usize, opt: u8, size: usize) -> usize {
        if size == 0 || opt == b'c' {
            return 0;
        }
        let size = size.min(self.align as usize);
        size.wrapping_sub(len & size.wrapping_sub(1)) & size.wrapping_sub(1)
    }

    /// `controloptions`: endianness, alignment and spaces; anything else is invalid.
    fn control(&mut self, opt: u8) -> LibResult<()> {
        match opt {
            b' ' => {}
            b'>' => self.endian = Endian::Big,
            b'<' => self.endian = Endian::Little,
            b'!' => {
                let a = self.getnum(MAX_ALIGN);
                if a <= 0 || a & (a - 1) != 0 {
                    return Err(error(format!("alignment {a} is not a power of 2")));
                }
                self.align = a;
            }
            _ => {
                let mut msg = b"invalid format option '".to_vec();
                msg.push(opt);
                msg.push(b'\'');
                return Err(arg_error(1, msg));
            }
        }
        Ok(())
    }
}

/// `pack(fmt, ...)`.
fn pack(lua: &Lua, args: &[Value]) -> LibResult<MultiValue> {
    let fmt = check_string(lua, args, 1)?;
    let fmt = fmt.as_bytes();
    let mut f = Format::new(&fmt);
    // The C function pushes a nil "mark" right after its arguments, so the first missing
    // argument is reported as nil rather than "no value".
    let get = |i: usize| -> Option<&Value> {
        match arg(args, i) {
            None if i == args.len() + 1 => Some(&Value::Nil),
            v => v,
        }
    };
    let check_num = |i: usize| -> LibResult<f64> {
        let v = get(i);
        to_number(lua, v)?.ok_or_else(|| type_error(i, "number", v))
    };
    let mut out: Vec<u8> = Vec::new();
    let mut argn = 2usize;
    while let Some(opt) = f.next_opt() {
        let mut size = f.optsize(opt)?;
        let toalign = f.gettoalign(out.len(), opt, size);
        out.resize(out.len() + toalign, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_num(argn)?;
                argn += 1;
                let mut value = if n < 0.0 {
                    c_f64_to_i64(n) as u64
                } else {
                    c_f64_to_u64(n)
                };
                let mut buf = vec![0u8; size];
                let mut put = |slot: &mut u8| {
                    *slot = (value & 0xff) as u8;
                    value >>= 8;
                };
                match f.endian {
                    Endian::Little => buf.iter_mut().for_each(&mut put),
                    Endian::Big => buf.iter_mut().rev().for_each(&mut put),
                }
                out.extend_from_slice(&buf);
            }
            b'x' => out.push(0),
            b'f' => {
                let v = check_num(argn)? as f32;
                argn += 1;
                match f.endian {
                    Endian::Little => out.extend_from_slice(&v.to_le_bytes()),
                    Endian::Big => out.extend_from_slice(&v.to_be_bytes()),
                }
            }
            b'd' => {
                let v = check_num(argn)?;
                argn += 1;
                match f.endian {
                    Endian::Little => out.extend_from_slice(&v.to_le_bytes()),
                    Endian::Big => out.extend_from_slice(&v.to_be_bytes()),
                }
            }
            b'c' | b's' => {
                let s = match get(argn) {
                    Some(Value::String(s)) => s.clone(),
                    Some(v @ (Value::Integer(_) | Value::Number(_))) => lua
                        .coerce_string(v.clone())?
                        .ok_or_else(|| type_error(argn, "string", Some(v)))?,
                    v => return Err(type_error(argn, "string", v)),
                };
                argn += 1;
                let s = s.as_bytes();
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // luaL_argcheck runs after the increment: it names the next argument.
                    return Err(arg_error(narg(argn), "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => f.control(opt)?,
        }
    }
    Ok(ret1(Value::String(lua.create_string(&out)?)))
}

fn narg(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// `unpack(fmt, s [, pos])`: the values, then the position after the last byte read.
fn unpack(lua: &Lua, args: &[Value]) -> LibResult<MultiValue> {
    let fmt = check_string(lua, args, 1)?;
    let data = check_string(lua, args, 2)?;
    let data = data.as_bytes();
    let ld = data.len();
    let start = opt_integer(lua, args, 3, 1)?;
    if start <= 0 {
        return Err(arg_error(3, "offset must be 1 or greater"));
    }
    let mut pos = usize::try_from(start - 1).unwrap_or(usize::MAX);
    let fmt = fmt.as_bytes();
    let mut f = Format::new(&fmt);
    let mut results: Vec<Value> = Vec::new();
    let too_short = || arg_error(2, "data string too short");
    let fits = |pos: usize, size: usize| size <= ld && pos <= ld - size;
    while let Some(opt) = f.next_opt() {
        let mut size = f.optsize(opt)?;
        pos = pos.wrapping_add(f.gettoalign(pos, opt, size));
        if !fits(pos, size) {
            return Err(too_short());
        }
        // The C function's stack: its arguments, the results, one more value and the position.
        if args.len() + results.len() + 2 > MAX_C_STACK {
            return Err(error("stack overflow (too many results)"));
        }
        let bytes = data.get(pos..pos + size).unwrap_or_default();
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                results.push(num(getinteger(bytes, f.endian, opt.is_ascii_lowercase())));
            }
            b'x' => {}
            b'f' => {
                // `fits` guarantees 4 bytes; zeros are never used.
                let b: [u8; 4] = bytes.try_into().unwrap_or([0; 4]);
                let v = match f.endian {
                    Endian::Little => f32::from_le_bytes(b),
                    Endian::Big => f32::from_be_bytes(b),
                };
                results.push(num(f64::from(v)));
            }
            b'd' => {
                let b: [u8; 8] = bytes.try_into().unwrap_or([0; 8]);
                let v = match f.endian {
                    Endian::Little => f64::from_le_bytes(b),
                    Endian::Big => f64::from_be_bytes(b),
                };
                results.push(num(v));
            }
            b'c' => {
                if size == 0 {
                    let prev = match results.last() {
                        Some(v) => to_number(lua, Some(v))?,
                        None => None,
                    };
                    let Some(n) = prev else {
                        return Err(error("format 'c0' needs a previous size"));
                    };
                    size = c_f64_to_u64(n) as usize;
                    results.pop();
                    if !fits(pos, size) {
                        return Err(too_short());
                    }
                }
                let s = data.get(pos..pos + size).unwrap_or_default();
                results.push(Value::String(lua.create_string(s)?));
            }
            b's' => {
                let rest = data.get(pos..).unwrap_or_default();
                let Some(end) = rest.iter().position(|&c| c == 0) else {
                    return Err(error("unfinished string in data"));
                };
                size = end + 1;
                results.push(Value::String(lua.create_string(&rest[..end])?));
            }
            _ => f.control(opt)?,
        }
        pos = pos.wrapping_add(size);
    }
    results.push(Value::Integer(pos as i64 + 1));
    Ok(MultiValue::from_vec(results))
}

/// `getinteger`: `size` bytes as a C `unsigned long`/`long` (bytes beyond 8 shift out), sign
/// extended from bit `size*8-1` for signed formats. The shift count of that mask is reduced
/// modulo 64 as the x86 shift instruction does (the C code shifts by up to 255).
fn getinteger(bytes: &[u8], endian: Endian, signed: bool) -> f64 {
    let mut l: u64 = 0;
    let mut add = |b: &u8| l = (l << 8) | u64::from(*b);
    match endian {
        Endian::Big => bytes.iter().for_each(&mut add),
        Endian::Little => bytes.iter().rev().for_each(&mut add),
    }
    if !signed {
        return l as f64;
    }
    let shift = ((bytes.len() as u32).wrapping_mul(8).wrapping_sub(1)) & 63;
    let mask = u64::MAX << shift;
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

/// `size(fmt)`: the size of a fixed-size format. Unknown letters count as 0 bytes (the C code
/// only validates non-alphanumeric options here).
fn size(lua: &Lua, args: &[Value]) -> LibResult<MultiValue> {
    let fmt = check_string(lua, args, 1)?;
    let fmt = fmt.as_bytes();
    let mut f = Format::new(&fmt);
    let mut pos: usize = 0;
    while let Some(opt) = f.next_opt() {
        let size = f.optsize(opt)?;
        pos = pos.wrapping_add(f.gettoalign(pos, opt, size));
        if opt == b's' {
            return Err(arg_error(1, "option 's' has no fixed size"));
        } else if opt == b'c' && size == 0 {
            return Err(arg_error(1, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            f.control(opt)?;
        }
        pos = pos.wrapping_add(size);
    }
    Ok(ret1(Value::Integer(pos as i64)))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{bytes, eval, eval_err, lua};
    use proptest::prelude::*;

    #[test]
    fn pack_matches_redis() {
        let lua = lua();
        // Expected bytes from redis-server 7.0.15.
        let cases: [(&str, &[u8]); 22] = [
            (
                "struct.pack('>bBhHlLTiI', -1, 255, -2, 65535, -3, 7, 8, -4, 9)",
                b"\xff\xff\xff\xfe\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfd\x00\x00\x00\x00\x00\x00\x00\x07\
\x00\x00\x00\x00\x00\x00\x00\x08\xff\xff\xff\xfc\x00\x00\x00\x09",
            ),
            (
                "struct.pack('<bBhHlLi2I3', 1, 2, 3, 4, 5, 6, 7, 8)",
                b"\x01\x02\x03\x00\x04\x00\x05\x00\x00\x00\x00\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00\x00\x07\x00\x08\x00\x00",
            ),
            ("struct.pack('>i16', -2)", b"\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xfe"),
            ("struct.pack('>I16', 2^64)", &[0u8; 16]),
            ("struct.pack('>L', 2^64)", &[0u8; 8]),
            ("struct.pack('>L', 0/0)", b"\x80\x00\x00\x00\x00\x00\x00\x00"),
            ("struct.pack('>l', -2^70)", b"\x80\x00\x00\x00\x00\x00\x00\x00"),
            ("struct.pack('>L', 2^63)", b"\x80\x00\x00\x00\x00\x00\x00\x00"),
            ("struct.pack('>l', 1.9)", b"\x00\x00\x00\x00\x00\x00\x00\x01"),
            ("struct.pack('>l', -1.9)", b"\xff\xff\xff\xff\xff\xff\xff\xff"),
            ("struct.pack('>fd', 1.5, 0.1)", b"?\xc0\x00\x00?\xb9\x99\x99\x99\x99\x99\x9a"),
            ("struct.pack('<fd', 1.5, 0.1)", b"\x00\x00\xc0?\x9a\x99\x99\x99\x99\x99\xb9?"),
            ("struct.pack('s', 'abc')", b"abc\x00"),
            ("struct.pack('c', 'abc')", b"a"),
            ("struct.pack('c0', 'abc')", b"abc"),
            ("struct.pack('c2x', 'abc')", b"ab\x00"),
            ("struct.pack('!4bi', 1, 2)", b"\x01\x00\x00\x00\x02\x00\x00\x00"),
            ("struct.pack('!bd', 1, 2)", b"\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00@"),
            ("struct.pack('!2bd', 1, 2)", b"\x01\x00\x00\x00\x00\x00\x00\x00\x00@"),
            ("struct.pack('>i3 b', 1, 2)", b"\x00\x00\x01\x02"),
            ("struct.pack('b', '12')", b"\x0c"),
            ("struct.pack('s', 12)", b"12\x00"),
        ];
        for (code, want) in cases {
            assert_eq!(bytes(&lua, &format!("return {code}")), want, "{code}");
        }
        assert_eq!(bytes(&lua, "return struct.pack('i3', 1)"), b"\x01\x00\x00");
        assert_eq!(bytes(&lua, "return struct.pack('i0', 1)"), b"");
        assert_eq!(bytes(&lua, "return struct.pack('!', 1)"), b"");
    }

    #[test]
    fn pack_errors() {
        let lua = lua();
        let cases = [
            (
                "struct.pack('c5', 'abc')",
                "user_script:1: bad argument #3 to 'pack' (string too short)",
            ),
            (
                "struct.pack('!3bd', 1, 2)",
                "user_script:1: alignment 3 is not a power of 2",
            ),
            (
                "struct.pack('!0', 1)",
                "user_script:1: alignment 0 is not a power of 2",
            ),
            (
                "struct.pack('q')",
                "user_script:1: bad argument #1 to 'pack' (invalid format option 'q')",
            ),
            (
                "struct.pack('i33', 1)",
                "user_script:1: integral size 33 is larger than limit of 32",
            ),
            (
                "struct.pack('b')",
                "user_script:1: bad argument #2 to 'pack' (number expected, got nil)",
            ),
            (
                "struct.pack('bb', 1)",
                "user_script:1: bad argument #3 to 'pack' (number expected, got nil)",
            ),
            (
                "struct.pack('b', 'x')",
                "user_script:1: bad argument #2 to 'pack' (number expected, got string)",
            ),
            (
                "struct.pack()",
                "user_script:1: bad argument #1 to 'pack' (string expected, got no value)",
            ),
            (
                "struct.pack(12, 1)",
                "user_script:1: bad argument #1 to 'pack' (invalid format option '1')",
            ),
            (
                "struct.pack('s', {})",
                "user_script:1: bad argument #2 to 'pack' (string expected, got table)",
            ),
        ];
        for (code, want) in cases {
            assert_eq!(eval_err(&lua, &format!("return {code}")), want, "{code}");
        }
    }

    #[test]
    fn unpack_matches_redis() {
        let lua = lua();
        let cases: [(&str, &str); 16] = [
            (
                "struct.unpack('>bBhHlLTiI', struct.pack('>bBhHlLTiI', -1, 255, -2, 65535, -3, 7, 8, -4, 9))",
                "-1 255 -2 65535 -3 7 8 -4 9 39",
            ),
            (
                "struct.unpack('<i3I3', '\\255\\255\\255\\255\\255\\255')",
                "-1 16777215 7",
            ),
            ("struct.unpack('>i16', string.rep('\\255', 16))", "-1 17"),
            (
                "struct.unpack('>I16', string.rep('\\1', 16))",
                "7.2340172838077e+16 17",
            ),
            (
                "struct.unpack('>i9', '\\128'..string.rep('\\0', 8))",
                "0 10",
            ),
            (
                "struct.unpack('>i9', '\\0\\128'..string.rep('\\0', 7))",
                "-128 10",
            ),
            (
                "struct.unpack('<L', '\\255\\255\\255\\255\\255\\255\\255\\255')",
                "1.844674407371e+19 9",
            ),
            (
                "struct.unpack('>fd', struct.pack('>fd', 1.5, 0.1))",
                "1.5 0.1 13",
            ),
            ("struct.unpack('s', 'abc\\0def')", "abc 5"),
            ("struct.unpack('bc0', '\\3abcd')", "abc 5"),
            ("struct.unpack('sc0', '3\\0abcd')", "abc 6"),
            ("struct.unpack('c2', 'abcd', 2)", "bc 4"),
            ("struct.unpack('', 'abcd', 9)", "9"),
            ("struct.unpack('!4bi', '\\1\\0\\0\\0\\2\\0\\0\\0')", "1 2 9"),
            ("struct.unpack('b', 'abcd', 2.7)", "98 3"),
            ("struct.unpack('xb', 'abcd')", "98 3"),
        ];
        for (code, want) in cases {
            let got: String = eval(
                &lua,
                &format!(
                    "local t = {{{code}}} for i = 1, #t do t[i] = tostring(t[i]) end return table.concat(t, ' ')"
                ),
            );
            assert_eq!(got, want, "{code}");
        }
    }

    #[test]
    fn unpack_errors() {
        let lua = lua();
        let short = "user_script:1: bad argument #2 to 'unpack' (data string too short)";
        let cases = [
            (
                "struct.unpack('s', 'abc')",
                "user_script:1: unfinished string in data",
            ),
            (
                "struct.unpack('c0', 'abcd')",
                "user_script:1: format 'c0' needs a previous size",
            ),
            (
                "struct.unpack('sc0', 'x\\0abcd')",
                "user_script:1: format 'c0' needs a previous size",
            ),
            ("struct.unpack('bc0', '\\9abcd')", short),
            ("struct.unpack('c2', 'abcd', 4)", short),
            (
                "struct.unpack('b', 'abcd', 0)",
                "user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater)",
            ),
            (
                "struct.unpack('b', 'abcd', -1)",
                "user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater)",
            ),
            ("struct.unpack('b', 'abcd', 5)", short),
            ("struct.unpack('x', 'abcd', 5)", short),
            ("struct.unpack('b', 'abcd', 2^53)", short),
            (
                "struct.unpack('b', 'abcd', 'x')",
                "user_script:1: bad argument #3 to 'unpack' (number expected, got string)",
            ),
            (
                "struct.unpack('b')",
                "user_script:1: bad argument #2 to 'unpack' (string expected, got no value)",
            ),
            ("struct.unpack('bbbbb', 'abcd')", short),
            (
                "struct.unpack('q', 'abcd')",
                "user_script:1: bad argument #1 to 'unpack' (invalid format option 'q')",
            ),
            ("struct.unpack('c', '')", short),
            (
                "struct.unpack(string.rep('b', 7998), string.rep('\\1', 8000))",
                "user_script:1: stack overflow (too many results)",
            ),
        ];
        for (code, want) in cases {
            assert_eq!(eval_err(&lua, &format!("return {code}")), want, "{code}");
        }
        // redis-server returns up to 7997 values here; mlua keeps the arguments and a few
        // reserve slots on the stack, so our limit is a little lower.
        let n: usize = eval(
            &lua,
            "return select('#', struct.unpack(string.rep('b', 7900), string.rep('\\1', 8000)))",
        );
        assert_eq!(n, 7901);
    }

    #[test]
    fn size_matches_redis() {
        let lua = lua();
        for (code, want) in [
            ("struct.size('>bBhHlLTiIfdxc3i2')", 56i64),
            ("struct.size('!bd')", 16),
            ("struct.size('q')", 0),
            ("struct.size('bq')", 1),
            ("struct.size(' ')", 0),
            ("struct.size('c')", 1),
            ("struct.size('!4bi')", 8),
        ] {
            assert_eq!(eval::<i64>(&lua, &format!("return {code}")), want, "{code}");
        }
        for (code, want) in [
            (
                "struct.size('s')",
                "user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)",
            ),
            (
                "struct.size('c0')",
                "user_script:1: bad argument #1 to 'size' (option 'c0' has no fixed size)",
            ),
            (
                "struct.size('!3')",
                "user_script:1: alignment 3 is not a power of 2",
            ),
            (
                "struct.size('#')",
                "user_script:1: bad argument #1 to 'size' (invalid format option '#')",
            ),
        ] {
            assert_eq!(eval_err(&lua, &format!("return {code}")), want, "{code}");
        }
    }

    proptest! {
        #[test]
        fn integers_round_trip(v in -(1i64 << 53)..(1i64 << 53), big in any::<bool>()) {
            let lua = lua();
            let e = if big { '>' } else { '<' };
            let got: (f64, i64) = eval(&lua, &format!("return struct.unpack('{e}l', struct.pack('{e}l', {v}))"));
            prop_assert_eq!(got, (v as f64, 9));
            let w = (v as i32) as i64;
            let got: (f64, i64) = eval(&lua, &format!("return struct.unpack('{e}i', struct.pack('{e}i', {w}))"));
            prop_assert_eq!(got, (w as f64, 5));
        }
    }
}
