//! `redis.call` / `redis.pcall`: from Lua arguments to a command, checked as Redis checks
//! commands called from scripts, lowered through moon-resp to the op IR and executed by the
//! [`Host`] the script runs on.
//!
//! Invariants: a command never runs unless the command table knows it, its arity is right, it
//! is allowed in scripts (no `noscript` flag) and, for read-only scripts, it is not a write.
//! Every failure comes back as the error text, which `redis.call` raises and `redis.pcall`
//! returns as an `{err=...}` table (see `raw_call`).

use bytes::Bytes;
use moon_engine::ir::{ExecCtx, KeyRouting, Op, OpError, Reply};
use moon_resp::commands::table::{NOSCRIPT, WRITE};
use moon_resp::commands::{Command, ConnCmd, resolve};

/// Where a script's commands execute.
pub(crate) trait Host {
    /// Run `op` and return its reply (an error reply when the op cannot run from here because
    /// its keys live elsewhere).
    fn exec(&mut self, ctx: ExecCtx, op: Op) -> Reply;
}

/// The state of one running script, shared by its `redis.call`s.
pub(crate) struct CallState<'h> {
    /// Executes ops.
    pub host: &'h mut dyn Host,
    /// The script's current database (SELECT inside a script changes only the script's).
    pub db: usize,
    /// The time the whole script runs at (Redis freezes time for a script).
    pub now_ms: u64,
    /// The caller's CLIENT NO-TOUCH.
    pub no_touch: bool,
    /// EVAL_RO / FCALL_RO / a `no-writes` function.
    pub read_only: bool,
    /// A write command ran (SCRIPT KILL then answers UNKILLABLE).
    pub wrote: bool,
    /// Set by the caller: writes are refused for memory (`OOM`).
    pub oom: bool,
    /// Raised with `wrote`, for SCRIPT KILL on other threads.
    pub wrote_flag: &'h std::sync::atomic::AtomicBool,
    /// The caller's ACL user when it is restricted (None: everything allowed), and the
    /// registry its denials are logged to.
    pub acl: Option<(&'h crate::acl::ScriptCaller, &'h crate::acl::Acl)>,
}

/// `%.14g`, as Lua 5.1 turns a number into a string.
pub(crate) fn lua_number(n: f64) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if n == 0.0 {
        return if n.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let sci = format!("{n:.13e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..14).contains(&exp) {
        let m = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let decimals = (13 - exp).max(0) as usize;
    strip_zeros(&format!("{n:.decimals$}")).to_string()
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// A Lua number as `redis.call` passes it: an integral value in `i64` range as an integer
/// (as mlua reads Lua 5.1 numbers), anything else as Lua prints it (`%.14g`).
pub(crate) fn number_arg(n: f64) -> Bytes {
    // `n as i64` saturates; the bit comparison keeps -0.0, NaN and out-of-range values out.
    let i = n as i64;
    if (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&n)
        && (i as f64).to_bits() == n.to_bits()
    {
        Bytes::from(i.to_string())
    } else {
        Bytes::from(lua_number(n))
    }
}

impl CallState<'_> {
    /// One `redis.call`/`redis.pcall` of `argv` (already converted from Lua): the reply, or
    /// the error text (code included) the call fails with.
    pub(crate) fn call(&mut self, argv: &[Bytes]) -> Result<Reply, String> {
        let fail = |text: &str| Err(text.to_string());
        if argv.is_empty() {
            return fail("ERR Please specify at least one argument for this redis lib call");
        }
        let Ok(spec) = resolve(argv) else {
            return fail("ERR Unknown Redis command called from script");
        };
        if !spec.arity_ok(argv.len()) {
            return fail("ERR Wrong number of args calling Redis command from script");
        }
        if spec.flags & NOSCRIPT != 0 {
            return fail("ERR This Redis command is not allowed from script");
        }
        crate::monitor::note_script_call(self.db, argv);
        if let Some((caller, acl)) = self.acl
            && let Some(text) = acl.script_check(caller, spec, argv)
        {
            return fail(&text);
        }
        let writes = spec.flags & WRITE != 0;
        if writes && self.read_only {
            return fail("ERR Write commands are not allowed from read-only scripts.");
        }
        if writes && self.oom && spec.flags & moon_resp::commands::table::DENYOOM != 0 {
            return fail("OOM command not allowed when used memory > 'maxmemory'.");
        }
        // Existence and arity are checked above: the spec's own parser, without a second
        // table lookup.
        let reply = match (spec.parse)(argv) {
            Err(e) => Reply::Err(e),
            Ok(Command::Op(op)) => {
                if matches!(op, Op::Functions(_) | Op::Search(_)) {
                    return fail("ERR This Redis command is not allowed from script");
                }
                if writes && !self.wrote {
                    self.wrote = true;
                    self.wrote_flag
                        .store(true, std::sync::atomic::Ordering::Release);
                }
                let ctx = ExecCtx {
                    db: self.db,
                    now_ms: self.now_ms,
                    no_touch: self.no_touch,
                };
                // A panic in the op fails this call only; the script sees an error reply.
                crate::contain::run(spec.name, || self.host.exec(ctx, op)).unwrap_or_else(|_| {
                    Reply::Err(moon_engine::ir::OpError::Other(crate::contain::error_text(
                        spec.name,
                    )))
                })
            }
            Ok(Command::Conn(cmd)) => match cmd {
                ConnCmd::Select(n) => {
                    self.db = n;
                    Reply::Ok
                }
                ConnCmd::Ping(None) => Reply::simple("PONG"),
                ConnCmd::Ping(Some(m)) | ConnCmd::Echo(m) => Reply::Bulk(m),
                ConnCmd::Time => {
                    let us = self.now_ms.saturating_mul(1000);
                    Reply::Array(vec![
                        Reply::Bulk(Bytes::from((us / 1_000_000).to_string())),
                        Reply::Bulk(Bytes::from((us % 1_000_000).to_string())),
                    ])
                }
                ConnCmd::Static(r) => r,
                _ => return fail("ERR This Redis command is not allowed from script"),
            },
        };
        match reply {
            Reply::Err(e) => Err(moon_resp::errors::error_text(&e)),
            reply => Ok(reply),
        }
    }
}

/// Whether `op` needs every shard (keyless ops such as DBSIZE, FLUSHALL, KEYS).
pub(crate) fn op_needs_all(op: &Op) -> bool {
    matches!(op.routing(), KeyRouting::AllShards(_))
}

/// The error a script gets when it touches a key its declared KEYS do not place on this shard.
pub(crate) fn undeclared_key_error() -> Reply {
    Reply::Err(OpError::Other(
        "ERR Script attempted to access a key that lives on another shard and is not declared in KEYS (declare every key a script touches, or pass no keys)".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_lua() {
        assert_eq!(lua_number(1.5), "1.5");
        assert_eq!(lua_number(1e20), "1e+20");
        assert_eq!(lua_number(3.0), "3");
        assert_eq!(lua_number(-0.1), "-0.1");
        assert_eq!(lua_number(0.0001), "0.0001");
        assert_eq!(lua_number(0.00001), "1e-05");
        assert_eq!(lua_number(123456789012345.0), "1.2345678901234e+14");
        assert_eq!(lua_number(12345678901234.0), "12345678901234");
        assert_eq!(lua_number(1.0 / 3.0), "0.33333333333333");
    }
}
