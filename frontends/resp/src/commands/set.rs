//! SET and its relatives (SETEX, PSETEX, GETSET, GETEX): table entries, the shared option parser
//! (`parseExtendedStringArgumentsOrReply`) and the expire-time validation of t_string.c.
//!
//! Invariants: a relative expiry is lowered to `ExpireSpec::In(ms)` with `ms > 0` and an
//! absolute one to `ExpireSpec::At(ms)` with `ms > 0`; anything else is rejected here with
//! "invalid expire time". Adding `now` to a relative expiry may still overflow: the engine
//! reports that (Redis checks it after reading the clock).

use bytes::Bytes;
use moon_engine::ir::{ExpireSpec, GetExSpec, Op, OpError, SetCond};

use super::Command;
use super::args::{int, is};
use super::table::{
    CommandSpec, DENYOOM, FAST, GetKeysProc, K_ACCESS, K_OW, K_RW, K_UPDATE, K_VARIABLE_FLAGS,
    KeySpec, STRING, WRITE, doc,
};

const G: &str = "string";
const O1: &str = "O(1)";
const RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::one(K_RW | K_ACCESS | K_UPDATE, 1)];
const OW_UPDATE: &[KeySpec] = &[KeySpec::one(K_OW | K_UPDATE, 1)];

fn op(op: Op) -> Result<Command, OpError> {
    Ok(Command::Op(op))
}

pub static GETEX: CommandSpec = CommandSpec::new(
    "getex",
    -2,
    WRITE | FAST,
    STRING,
    &[KeySpec {
        notes: Some("RW and UPDATE because it changes the TTL"),
        ..KeySpec::one(K_RW | K_ACCESS | K_UPDATE, 1)
    }],
    doc(
        G,
        "6.2.0",
        "Returns the string value of a key after setting its expiration time.",
        O1,
    ),
    getex,
);

pub static GETSET: CommandSpec = CommandSpec::new(
    "getset",
    3,
    WRITE | DENYOOM | FAST,
    STRING,
    RW_ACCESS_UPDATE,
    doc(
        G,
        "1.0.0",
        "Returns the previous string value of a key after setting it to a new value.",
        O1,
    )
    .deprecated("6.2.0", "`SET` with the `!GET` argument"),
    getset,
);

pub static PSETEX: CommandSpec = CommandSpec::new("psetex", 4, WRITE | DENYOOM, STRING, OW_UPDATE, doc(G, "2.6.0", "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", O1).deprecated("2.6.12", "`SET` with the `PX` argument"), psetex);

pub static SET: CommandSpec = CommandSpec::new(
    "set",
    -3,
    WRITE | DENYOOM,
    STRING,
    &[KeySpec {
        notes: Some("RW and ACCESS due to the optional `GET` argument"),
        ..KeySpec::one(K_RW | K_ACCESS | K_UPDATE | K_VARIABLE_FLAGS, 1)
    }],
    doc(
        G,
        "1.0.0",
        "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        O1,
    ),
    set,
)
.getkeys(GetKeysProc::Set);

pub static SETEX: CommandSpec = CommandSpec::new(
    "setex",
    4,
    WRITE | DENYOOM,
    STRING,
    OW_UPDATE,
    doc(
        G,
        "2.0.0",
        "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
        O1,
    )
    .deprecated("2.6.12", "`SET` with the `EX` argument"),
    setex,
);

fn getset(a: &[Bytes]) -> Result<Command, OpError> {
    let (key, value) = (a[1].clone(), a[2].clone());
    op(Op::Set {
        key,
        value,
        cond: SetCond::Always,
        expire: ExpireSpec::Clear,
        get: true,
    })
}

fn setex(a: &[Bytes]) -> Result<Command, OpError> {
    set_with_ttl(a, Unit::Ex, "setex")
}

fn psetex(a: &[Bytes]) -> Result<Command, OpError> {
    set_with_ttl(a, Unit::Px, "psetex")
}

/// SETEX/PSETEX: `key ttl value`.
fn set_with_ttl(a: &[Bytes], unit: Unit, cmd: &'static str) -> Result<Command, OpError> {
    let expire = expire_spec(&a[2], unit, cmd)?;
    let (key, value) = (a[1].clone(), a[3].clone());
    op(Op::Set {
        key,
        value,
        cond: SetCond::Always,
        expire,
        get: false,
    })
}

/// Which expire option was given (Redis's OBJ_EX/PX/EXAT/PXAT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl Unit {
    fn from_keyword(opt: &[u8]) -> Option<Unit> {
        [
            ("ex", Unit::Ex),
            ("px", Unit::Px),
            ("exat", Unit::ExAt),
            ("pxat", Unit::PxAt),
        ]
        .into_iter()
        .find_map(|(kw, unit)| is(opt, kw).then_some(unit))
    }
}

/// The TTL argument of an expire option, validated as `getExpireMillisecondsOrReply` does
/// (minus the `now` addition, which the engine performs).
fn expire_spec(arg: &[u8], unit: Unit, cmd: &'static str) -> Result<ExpireSpec, OpError> {
    let v = int(arg)?;
    let seconds = matches!(unit, Unit::Ex | Unit::ExAt);
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(OpError::InvalidExpireTime(cmd));
    }
    let ms = v.unsigned_abs() * if seconds { 1000 } else { 1 };
    Ok(match unit {
        Unit::Ex | Unit::Px => ExpireSpec::In(ms),
        Unit::ExAt | Unit::PxAt => ExpireSpec::At(ms),
    })
}

/// Options of SET (`is_set`) or GETEX, as `parseExtendedStringArgumentsOrReply` reads them.
#[derive(Default)]
struct ExtOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    unit: Option<(Unit, &'a Bytes)>,
}

fn parse_ext(a: &[Bytes], from: usize, is_set: bool) -> Result<ExtOpts<'_>, OpError> {
    let mut o = ExtOpts::default();
    let mut j = from;
    while j < a.len() {
        let opt = &a[j];
        let next = a.get(j + 1);
        let unit_free = o.unit.is_none();
        if is_set && is(opt, "nx") && !o.xx {
            o.nx = true;
        } else if is_set && is(opt, "xx") && !o.nx {
            o.xx = true;
        } else if is_set && is(opt, "get") {
            o.get = true;
        } else if is_set && is(opt, "keepttl") && unit_free {
            o.keepttl = true;
        } else if !is_set && is(opt, "persist") && unit_free {
            o.persist = true;
        } else if let (Some(unit), Some(value)) = (Unit::from_keyword(opt), next) {
            // The same option may repeat (last wins); a different one may not.
            let compatible = o.unit.is_none_or(|(u, _)| u == unit);
            if o.keepttl || o.persist || !compatible {
                return Err(OpError::Syntax);
            }
            o.unit = Some((unit, value));
            j += 1;
        } else {
            return Err(OpError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

fn set(a: &[Bytes]) -> Result<Command, OpError> {
    let o = parse_ext(a, 3, true)?;
    let expire = match o.unit {
        Some((unit, arg)) => expire_spec(arg, unit, "set")?,
        None if o.keepttl => ExpireSpec::Keep,
        None => ExpireSpec::Clear,
    };
    let cond = match (o.nx, o.xx) {
        (true, _) => SetCond::IfAbsent,
        (_, true) => SetCond::IfPresent,
        _ => SetCond::Always,
    };
    let (key, value) = (a[1].clone(), a[2].clone());
    op(Op::Set {
        key,
        value,
        cond,
        expire,
        get: o.get,
    })
}

fn getex(a: &[Bytes]) -> Result<Command, OpError> {
    let o = parse_ext(a, 2, false)?;
    let spec = match o.unit {
        Some((unit, arg)) => GetExSpec::Set(expire_spec(arg, unit, "getex")?),
        None if o.persist => GetExSpec::Persist,
        None => GetExSpec::Unchanged,
    };
    op(Op::GetEx {
        key: a[1].clone(),
        spec,
    })
}
