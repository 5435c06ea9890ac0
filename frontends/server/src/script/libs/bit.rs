//! `bit`: LuaBitOp 1.0.2 (Mike Pall's bit operations for Lua 5.1) as Redis ships it.
//!
//! Every argument is normalised to a 32-bit value the way LuaBitOp does on a `double` Lua:
//! add 2^52 + 2^51 and keep the low 32 bits of the IEEE representation, which is "round to
//! nearest even, then reduce modulo 2^32" for every finite number (and 0 for NaN and the
//! infinities). Results are returned as *signed* 32-bit numbers. An argument that is neither a
//! number nor a numeric string is an error (`number expected, got ...`); LuaBitOp only notices
//! when the normalised value is 0, which is always the case for non-numbers.

use mlua::{Lua, Table, Value};

use super::{LibResult, arg, num, register, ret1, to_number, type_error};

/// Builds the `bit` table.
pub(super) fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    register(lua, &t, "tobit", |lua, args| bret(barg(lua, args, 1)?))?;
    register(lua, &t, "bnot", |lua, args| bret(!barg(lua, args, 1)?))?;
    register(lua, &t, "band", |lua, args| fold(lua, args, |a, b| a & b))?;
    register(lua, &t, "bor", |lua, args| fold(lua, args, |a, b| a | b))?;
    register(lua, &t, "bxor", |lua, args| fold(lua, args, |a, b| a ^ b))?;
    register(lua, &t, "lshift", |lua, args| {
        shift(lua, args, |b, n| b << n)
    })?;
    register(lua, &t, "rshift", |lua, args| {
        shift(lua, args, |b, n| b >> n)
    })?;
    register(lua, &t, "arshift", |lua, args| {
        shift(lua, args, |b, n| ((b as i32) >> n) as u32)
    })?;
    // C's `(b << n) | (b >> (32-n))` with n = 0 shifts by 32, which x86 reduces to 0: `b`.
    register(lua, &t, "rol", |lua, args| {
        shift(lua, args, u32::rotate_left)
    })?;
    register(lua, &t, "ror", |lua, args| {
        shift(lua, args, u32::rotate_right)
    })?;
    register(lua, &t, "bswap", |lua, args| {
        bret(barg(lua, args, 1)?.swap_bytes())
    })?;
    register(lua, &t, "tohex", tohex)?;
    Ok(t)
}

/// LuaBitOp's `barg`: argument `i` as a 32-bit value.
fn barg(lua: &Lua, args: &[Value], i: usize) -> LibResult<u32> {
    let v = arg(args, i);
    match to_number(lua, v)? {
        Some(n) => Ok(tobit(n)),
        None => Err(type_error(i, "number", v)),
    }
}

/// The 2^52 + 2^51 trick: after the addition the low 32 bits of the mantissa hold the value
/// rounded to an integer, modulo 2^32 (two's complement for negatives).
fn tobit(n: f64) -> u32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32
}

/// `BRET`: return `b` as a signed 32-bit number.
fn bret(b: u32) -> LibResult<mlua::MultiValue> {
    Ok(ret1(num(f64::from(b as i32))))
}

/// `band`/`bor`/`bxor`: argument 1 first, then the others from the last one down (the order
/// decides which bad argument is reported).
fn fold(lua: &Lua, args: &[Value], op: fn(u32, u32) -> u32) -> LibResult<mlua::MultiValue> {
    let mut b = barg(lua, args, 1)?;
    for i in (2..=args.len()).rev() {
        b = op(b, barg(lua, args, i)?);
    }
    bret(b)
}

/// Shifts and rotations: the count is taken modulo 32.
fn shift(lua: &Lua, args: &[Value], op: fn(u32, u32) -> u32) -> LibResult<mlua::MultiValue> {
    let b = barg(lua, args, 1)?;
    let n = barg(lua, args, 2)? & 31;
    bret(op(b, n))
}

/// `tohex(x [, n])`: `n` hex digits (default 8, at most 8), uppercase when `n` is negative.
fn tohex(lua: &Lua, args: &[Value]) -> LibResult<mlua::MultiValue> {
    let mut b = barg(lua, args, 1)?;
    let mut n: i32 = if args.len() < 2 {
        8
    } else {
        barg(lua, args, 2)? as i32
    };
    let digits: &[u8; 16] = if n < 0 {
        // -INT_MIN overflows in C; the compiled library ends up printing 8 digits.
        n = n.checked_neg().unwrap_or(i32::MAX);
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let n = n.min(8) as usize;
    let mut buf = [0u8; 8];
    for slot in buf[..n].iter_mut().rev() {
        *slot = digits[(b & 15) as usize];
        b >>= 4;
    }
    Ok(ret1(Value::String(lua.create_string(&buf[..n])?)))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{eval, eval_err, lua, string};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tobit_normalises_like_luabitop() {
        let lua = lua();
        // Values from redis-server 7.0.15.
        let got: Vec<i64> = eval(
            &lua,
            "return {bit.tobit(2^32+5), bit.tobit(-1), bit.tobit(2^31), bit.tobit(1.5), \
             bit.tobit(2.5), bit.tobit(-1.5), bit.tobit(1/0), bit.tobit(0/0), bit.tobit(2^53), \
             bit.tobit(2^60+3), bit.tobit('0x10'), bit.tobit(' 12 '), bit.tobit(-2^31-1), \
             bit.tobit(4294967295.5), bit.tobit(-0.5), bit.tobit('0')}",
        );
        assert_eq!(
            got,
            vec![
                5,
                -1,
                -2147483648,
                2,
                2,
                -2,
                0,
                0,
                0,
                0,
                16,
                12,
                2147483647,
                0,
                0,
                0
            ]
        );
    }

    #[test]
    fn operations() {
        let lua = lua();
        let got: Vec<i64> = eval(
            &lua,
            "return {bit.bnot(0), bit.band(0xff, 0x0f, 0x3), bit.bor(1,2,4), bit.bxor(7,2), \
             bit.lshift(1, 31), bit.lshift(1, 32), bit.lshift(1,33), bit.rshift(-1, 28), \
             bit.arshift(-256, 4), bit.rol(0x12345678, 8), bit.ror(0x12345678, 8), \
             bit.bswap(0x12345678), bit.band(5), bit.rol(1, -1), bit.ror(1, 33), bit.rol(7, 0)}",
        );
        assert_eq!(
            got,
            vec![
                -1,
                3,
                7,
                5,
                -2147483648,
                1,
                2,
                15,
                -16,
                878082066,
                2014458966,
                2018915346,
                5,
                -2147483648,
                -2147483648,
                7
            ]
        );
    }

    #[test]
    fn tohex() {
        let lua = lua();
        let cases = [
            ("bit.tohex(255)", "000000ff"),
            ("bit.tohex(-1)", "ffffffff"),
            ("bit.tohex(255, 2)", "ff"),
            ("bit.tohex(255, -4)", "00FF"),
            ("bit.tohex(255, 0)", ""),
            ("bit.tohex(255, 20)", "000000ff"),
            ("bit.tohex(255, -20)", "000000FF"),
            ("bit.tohex(0x12345678, 3)", "678"),
            ("bit.tohex(-1, -8)", "FFFFFFFF"),
            ("bit.tohex(255, 2^31)", "000000FF"),
        ];
        for (code, want) in cases {
            assert_eq!(string(&lua, &format!("return {code}")), want, "{code}");
        }
    }

    #[test]
    fn argument_errors() {
        let lua = lua();
        let cases = [
            (
                "bit.tohex(1, nil)",
                "bad argument #2 to 'tohex' (number expected, got nil)",
            ),
            (
                "bit.band(1, nil)",
                "bad argument #2 to 'band' (number expected, got nil)",
            ),
            (
                "bit.band(1, {})",
                "bad argument #2 to 'band' (number expected, got table)",
            ),
            (
                "bit.lshift(1)",
                "bad argument #2 to 'lshift' (number expected, got no value)",
            ),
            (
                "bit.tobit('abc')",
                "bad argument #1 to 'tobit' (number expected, got string)",
            ),
            (
                "bit.tobit(true)",
                "bad argument #1 to 'tobit' (number expected, got boolean)",
            ),
            (
                "bit.tobit(cjson.null)",
                "bad argument #1 to 'tobit' (number expected, got userdata)",
            ),
            (
                "bit.band(1, 0, 'x')",
                "bad argument #3 to 'band' (number expected, got string)",
            ),
            (
                "bit.band('x', 0, 'y')",
                "bad argument #1 to 'band' (number expected, got string)",
            ),
            (
                "bit.band(1, 'x', 'y')",
                "bad argument #3 to 'band' (number expected, got string)",
            ),
            (
                "bit.tobit()",
                "bad argument #1 to 'tobit' (number expected, got no value)",
            ),
        ];
        for (code, want) in cases {
            assert_eq!(
                eval_err(&lua, &format!("return {code}")),
                format!("user_script:1: {want}")
            );
        }
    }

    proptest! {
        #[test]
        fn tobit_is_round_half_even_mod_2_32(x in -1.0e15f64..1.0e15) {
            let r = x.round_ties_even();
            let want = (r as i64).rem_euclid(1 << 32) as u32;
            prop_assert_eq!(tobit(x), want);
        }
    }
}
