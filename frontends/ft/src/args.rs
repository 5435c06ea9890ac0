//! A cursor over command arguments with RediSearch's `ArgsCursor` semantics and error
//! wording: case-insensitive keyword matching, counted sub-argument lists (`RETURN 2 a b`),
//! and the three conversion errors RediSearch reports as
//! `Bad arguments for <NAME>: <reason>`.

use std::fmt;

/// An argument error, worded as RediSearch words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    pub message: String,
}

impl ArgError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// `Bad arguments for NAME: reason`.
    pub(crate) fn bad(name: &str, e: AcErr) -> Self {
        Self::new(format!("Bad arguments for {name}: {}", e.text()))
    }
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ArgError {}

/// `AC_ERR_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcErr {
    NoArg,
    Parse,
    Limit,
}

impl AcErr {
    /// RediSearch's `AC_Strerror`.
    pub fn text(self) -> &'static str {
        match self {
            AcErr::NoArg => "Expected an argument, but none provided",
            AcErr::Parse => "Could not convert argument to expected type",
            AcErr::Limit => "Value is outside acceptable bounds",
        }
    }
}

/// Reads arguments front to back.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    args: &'a [&'a [u8]],
    pos: usize,
}

pub(crate) fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl<'a> Cursor<'a> {
    pub fn new(args: &'a [&'a [u8]]) -> Self {
        Self { args, pos: 0 }
    }

    /// Index of the next argument.
    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.args.len().saturating_sub(self.pos)
    }

    pub fn is_end(&self) -> bool {
        self.remaining() == 0
    }

    pub fn peek(&self) -> Option<&'a [u8]> {
        self.args.get(self.pos).copied()
    }

    pub fn next_arg(&mut self) -> Option<&'a [u8]> {
        let a = self.peek()?;
        self.pos += 1;
        Some(a)
    }

    /// Consumes the next argument if it equals `kw` case-insensitively.
    pub fn advance_if(&mut self, kw: &str) -> bool {
        match self.peek() {
            Some(a) if a.eq_ignore_ascii_case(kw.as_bytes()) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    pub fn get_str(&mut self) -> Result<&'a [u8], AcErr> {
        self.next_arg().ok_or(AcErr::NoArg)
    }

    /// A signed integer (`strtoll` over the whole argument).
    pub fn get_i64(&mut self) -> Result<i64, AcErr> {
        let a = self.peek().ok_or(AcErr::NoArg)?;
        let v = std::str::from_utf8(a)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or(AcErr::Parse)?;
        self.pos += 1;
        Ok(v)
    }

    /// An unsigned integer ≥ `min`.
    pub fn get_u64(&mut self, min: u64) -> Result<u64, AcErr> {
        let save = self.pos;
        let v = self.get_i64()?;
        match u64::try_from(v) {
            Ok(u) if u >= min => Ok(u),
            _ => {
                self.pos = save;
                Err(AcErr::Limit)
            }
        }
    }

    /// A double (`strtod` over the whole argument, `inf` allowed).
    pub fn get_f64(&mut self) -> Result<f64, AcErr> {
        let a = self.peek().ok_or(AcErr::NoArg)?;
        let v = std::str::from_utf8(a)
            .ok()
            .and_then(crate::query::parse::parse_double)
            .ok_or(AcErr::Parse)?;
        self.pos += 1;
        Ok(v)
    }

    /// `n arg1 .. argn`: the `n` arguments.
    pub fn get_var_args(&mut self) -> Result<&'a [&'a [u8]], AcErr> {
        let save = self.pos;
        let n = self.get_u64(0)?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n > self.remaining() {
            self.pos = save;
            return Err(AcErr::NoArg);
        }
        let out = self.args.get(self.pos..self.pos + n).ok_or(AcErr::NoArg)?;
        self.pos += n;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_reads_and_reports() {
        let args: Vec<&[u8]> = vec![b"LIMIT", b"10", b"-1", b"x", b"2", b"a", b"b", b"3", b"c"];
        let mut c = Cursor::new(&args);
        assert!(!c.advance_if("SORTBY"));
        assert!(c.advance_if("limit"));
        assert_eq!(c.get_u64(0), Ok(10));
        assert_eq!(c.get_u64(0), Err(AcErr::Limit));
        assert_eq!(c.get_i64(), Ok(-1));
        assert_eq!(c.get_i64(), Err(AcErr::Parse));
        c.next_arg();
        assert_eq!(c.get_var_args().unwrap(), &[&b"a"[..], &b"b"[..]]);
        assert_eq!(c.get_var_args(), Err(AcErr::NoArg));
        assert_eq!(
            ArgError::bad("RETURN", AcErr::Parse).message,
            "Bad arguments for RETURN: Could not convert argument to expected type"
        );
    }
}
