//! Tokenizer and parser of the APPLY / FILTER expression language (RediSearch's
//! `aggregate/expr/lexer.rl` + `parser.y`).
//!
//! Precedence, loosest first: `||`, `&&`, `!` (prefix), comparisons (non-associative:
//! `a < b < c` is an error), `+ -`, `* / %`, `^` (right-associative). Function names are
//! case-insensitive and checked against [`super::functions::FUNCTIONS`] with their arity.
//! Tree height is bounded by [`MAX_EXPR_DEPTH`] (long operator chains included), so
//! evaluation and drop cannot overflow the stack.

use super::ast::{BinOp, CmpOp, Expr};
use super::functions::lookup;
use nom::Parser;
use nom::character::complete::{char, digit1, one_of};
use nom::combinator::{opt, recognize};
use std::fmt;

/// Maximal height of an expression tree.
pub const MAX_EXPR_DEPTH: usize = 256;

/// An expression parse error, worded as RediSearch words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub message: String,
    pub offset: Option<usize>,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExprError {}

#[derive(Debug, Clone, PartialEq)]
enum T {
    Num(f64),
    Str(String),
    Prop(String),
    Sym(String),
    Lp,
    Rp,
    Comma,
    Plus,
    Minus,
    Times,
    Div,
    Mod,
    Pow,
    Cmp(CmpOp),
    And,
    Or,
    Not,
    Eof,
}

#[derive(Debug, Clone)]
struct Tok {
    t: T,
    pos: usize,
    /// The text RediSearch prints after "near" (operators inherit the previous token's).
    near: String,
}

fn number_len(s: &[u8], signed: bool) -> usize {
    let r: nom::IResult<&[u8], &[u8]> = if signed {
        recognize((
            opt(one_of("+-")),
            digit1,
            opt((char('.'), digit1)),
            opt((one_of("eE"), opt(one_of("+-")), digit1)),
        ))
        .parse(s)
    } else {
        recognize((
            digit1,
            opt((char('.'), digit1)),
            opt((one_of("eE"), opt(one_of("+-")), digit1)),
        ))
        .parse(s)
    };
    r.map_or(0, |(_, m)| m.len())
}

fn is_term_byte(b: u8) -> bool {
    b == b'_' || !(b.is_ascii_punctuation() || b < 0x20 || b == 0x7f || b.is_ascii_whitespace())
}

fn unescape_str(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if b == b'\\' && raw.get(i + 1).is_some() {
            i += 1;
            if let Some(&n) = raw.get(i) {
                out.push(n);
            }
            i += 1;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn tokenize(s: &[u8]) -> Result<Vec<Tok>, ExprError> {
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    let mut near = String::new();
    while i < s.len() {
        let b = s[i];
        let rest = &s[i..];
        // A sign starts a number only where an operand cannot end (so `@a-1` is a
        // subtraction; RediSearch's scanner would read `-1` as a number there).
        let prev_operand = matches!(
            out.last().map(|t| &t.t),
            Some(T::Num(_) | T::Str(_) | T::Prop(_) | T::Sym(_) | T::Rp)
        );
        let signed = !prev_operand;
        let inf = {
            let r = if signed && matches!(b, b'+' | b'-') {
                &rest[1..]
            } else {
                rest
            };
            let off = rest.len() - r.len();
            if r.starts_with(b"inf")
                && !r
                    .get(3)
                    .copied()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
            {
                off + 3
            } else {
                0
            }
        };
        let nl = number_len(rest, signed);
        let (tok, len) = if inf > 0 {
            let v = if b == b'-' {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            };
            (Some(T::Num(v)), inf)
        } else if nl > 0 {
            let text = std::str::from_utf8(&rest[..nl]).unwrap_or("0");
            (Some(T::Num(text.parse().unwrap_or(0.0))), nl)
        } else if b == b'@' {
            let mut j = i + 1;
            while j < s.len() {
                if s[j] == b'\\'
                    && s.get(j + 1)
                        .is_some_and(|n| n.is_ascii_punctuation() || n.is_ascii_whitespace())
                {
                    j += 2;
                } else if is_term_byte(s[j]) {
                    j += 1;
                } else {
                    break;
                }
            }
            if j == i + 1 {
                (None, 1)
            } else {
                let name = crate::query::parse::unescape_field(&s[i + 1..j]);
                (Some(T::Prop(name)), j - i)
            }
        } else if b.is_ascii_alphabetic() {
            let mut j = i + 1;
            while j < s.len() && (s[j].is_ascii_alphanumeric() || s[j] == b'_') {
                j += 1;
            }
            (
                Some(T::Sym(String::from_utf8_lossy(&s[i..j]).into_owned())),
                j - i,
            )
        } else if b == b'"' || b == b'\'' {
            let mut j = i + 1;
            let mut closed = None;
            while j < s.len() {
                match s[j] {
                    c if c == b => {
                        closed = Some(j);
                        break;
                    }
                    b'\n' => break,
                    b'\\'
                        if s.get(j + 1).is_some_and(|n| {
                            n.is_ascii_punctuation() || n.is_ascii_whitespace()
                        }) =>
                    {
                        j += 2
                    }
                    _ => j += 1,
                }
            }
            match closed {
                Some(end) => (Some(T::Str(unescape_str(&s[i + 1..end]))), end + 1 - i),
                None => (None, 1),
            }
        } else {
            let two = rest.get(..2).unwrap_or_default();
            match two {
                b"==" => (Some(T::Cmp(CmpOp::Eq)), 2),
                b"!=" => (Some(T::Cmp(CmpOp::Ne)), 2),
                b"<=" => (Some(T::Cmp(CmpOp::Le)), 2),
                b">=" => (Some(T::Cmp(CmpOp::Ge)), 2),
                b"&&" => (Some(T::And), 2),
                b"||" => (Some(T::Or), 2),
                _ => match b {
                    b'(' => (Some(T::Lp), 1),
                    b')' => (Some(T::Rp), 1),
                    b',' => (Some(T::Comma), 1),
                    b'+' => (Some(T::Plus), 1),
                    b'-' => (Some(T::Minus), 1),
                    b'*' => (Some(T::Times), 1),
                    b'/' => (Some(T::Div), 1),
                    b'%' => (Some(T::Mod), 1),
                    b'^' => (Some(T::Pow), 1),
                    b'<' => (Some(T::Cmp(CmpOp::Lt)), 1),
                    b'>' => (Some(T::Cmp(CmpOp::Gt)), 1),
                    b'!' => (Some(T::Not), 1),
                    // Whitespace, control and other punctuation: skipped.
                    _ => (None, 1),
                },
            }
        };
        if let Some(t) = tok {
            if matches!(t, T::Num(_) | T::Str(_) | T::Prop(_) | T::Sym(_)) {
                near = String::from_utf8_lossy(&s[i..i + len]).into_owned();
                if let T::Prop(_) = t {
                    near.remove(0);
                }
            }
            out.push(Tok {
                t,
                pos: i,
                near: near.clone(),
            });
        }
        i += len;
    }
    let pos = out.last().map_or(0, |t| t.pos);
    out.push(Tok {
        t: T::Eof,
        pos,
        near,
    });
    Ok(out)
}

struct P {
    toks: Vec<Tok>,
    i: usize,
    nesting: usize,
}

type R = Result<(Expr, usize), ExprError>;

impl P {
    fn peek(&self) -> &T {
        self.toks.get(self.i).map_or(&T::Eof, |t| &t.t)
    }

    fn bump(&mut self) -> Tok {
        let t = self.toks.get(self.i).cloned().unwrap_or(Tok {
            t: T::Eof,
            pos: 0,
            near: String::new(),
        });
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
        t
    }

    fn syntax(&self) -> ExprError {
        let t = self.toks.get(self.i).or(self.toks.last());
        let (pos, near) = t.map_or((0, String::new()), |t| (t.pos, t.near.clone()));
        ExprError {
            message: format!("Syntax error at offset {pos} near '{near}'"),
            offset: Some(pos),
        }
    }

    fn check_depth(&self, d: usize) -> Result<(), ExprError> {
        if d > MAX_EXPR_DEPTH || self.nesting > MAX_EXPR_DEPTH {
            return Err(ExprError {
                message: "Expression is too deeply nested".into(),
                offset: None,
            });
        }
        Ok(())
    }

    fn or(&mut self) -> R {
        let (mut l, mut d) = self.and()?;
        while *self.peek() == T::Or {
            self.bump();
            let (r, rd) = self.and()?;
            d = d.max(rd) + 1;
            self.check_depth(d)?;
            l = Expr::Or(Box::new(l), Box::new(r));
        }
        Ok((l, d))
    }

    fn and(&mut self) -> R {
        let (mut l, mut d) = self.not()?;
        while *self.peek() == T::And {
            self.bump();
            let (r, rd) = self.not()?;
            d = d.max(rd) + 1;
            self.check_depth(d)?;
            l = Expr::And(Box::new(l), Box::new(r));
        }
        Ok((l, d))
    }

    fn not(&mut self) -> R {
        if *self.peek() == T::Not {
            self.bump();
            self.nesting += 1;
            self.check_depth(0)?;
            let (e, d) = self.not()?;
            self.nesting -= 1;
            // `!!x` is `x` (RediSearch folds double negation).
            return Ok(match e {
                Expr::Not(inner) => (*inner, d),
                e => (Expr::Not(Box::new(e)), d + 1),
            });
        }
        self.cmp()
    }

    fn cmp(&mut self) -> R {
        let (l, ld) = self.add()?;
        if let T::Cmp(op) = *self.peek() {
            self.bump();
            let (r, rd) = self.add()?;
            if matches!(self.peek(), T::Cmp(_)) {
                return Err(self.syntax());
            }
            let d = ld.max(rd) + 1;
            self.check_depth(d)?;
            return Ok((Expr::Cmp(op, Box::new(l), Box::new(r)), d));
        }
        Ok((l, ld))
    }

    fn add(&mut self) -> R {
        let (mut l, mut d) = self.mul()?;
        loop {
            let op = match self.peek() {
                T::Plus => BinOp::Add,
                T::Minus => BinOp::Sub,
                _ => return Ok((l, d)),
            };
            self.bump();
            let (r, rd) = self.mul()?;
            d = d.max(rd) + 1;
            self.check_depth(d)?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn mul(&mut self) -> R {
        let (mut l, mut d) = self.pow()?;
        loop {
            let op = match self.peek() {
                T::Times => BinOp::Mul,
                T::Div => BinOp::Div,
                T::Mod => BinOp::Mod,
                _ => return Ok((l, d)),
            };
            self.bump();
            let (r, rd) = self.pow()?;
            d = d.max(rd) + 1;
            self.check_depth(d)?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn pow(&mut self) -> R {
        let (b, bd) = self.unary()?;
        if *self.peek() == T::Pow {
            self.bump();
            self.nesting += 1;
            self.check_depth(0)?;
            let (e, ed) = self.pow()?;
            self.nesting -= 1;
            let d = bd.max(ed) + 1;
            self.check_depth(d)?;
            return Ok((Expr::Bin(BinOp::Pow, Box::new(b), Box::new(e)), d));
        }
        Ok((b, bd))
    }

    /// Unary minus on a non-literal (`-@x`) is accepted as `0 - x` (RediSearch rejects it).
    fn unary(&mut self) -> R {
        if *self.peek() == T::Minus {
            self.bump();
            self.nesting += 1;
            self.check_depth(0)?;
            let (e, d) = self.unary()?;
            self.nesting -= 1;
            return Ok((
                Expr::Bin(BinOp::Sub, Box::new(Expr::Num(0.0)), Box::new(e)),
                d + 1,
            ));
        }
        self.primary()
    }

    fn primary(&mut self) -> R {
        match self.peek().clone() {
            T::Lp => {
                self.bump();
                self.nesting += 1;
                self.check_depth(0)?;
                let e = self.or()?;
                if *self.peek() != T::Rp {
                    return Err(self.syntax());
                }
                self.bump();
                self.nesting -= 1;
                Ok(e)
            }
            T::Num(v) => {
                self.bump();
                Ok((Expr::Num(v), 1))
            }
            T::Str(s) => {
                self.bump();
                Ok((Expr::Str(s), 1))
            }
            T::Prop(p) => {
                self.bump();
                Ok((Expr::Prop(p), 1))
            }
            T::Sym(name) => {
                let tok = self.bump();
                if *self.peek() != T::Lp {
                    if name == "NULL" {
                        return Ok((Expr::Null, 1));
                    }
                    return Err(ExprError {
                        message: format!("Unknown symbol '{name}'"),
                        offset: Some(tok.pos),
                    });
                }
                self.bump();
                self.nesting += 1;
                self.check_depth(0)?;
                let mut args = Vec::new();
                let mut d = 1;
                if *self.peek() != T::Rp {
                    loop {
                        let (a, ad) = self.or()?;
                        d = d.max(ad + 1);
                        args.push(a);
                        match self.peek() {
                            T::Comma => {
                                self.bump();
                            }
                            T::Rp => break,
                            _ => return Err(self.syntax()),
                        }
                    }
                }
                self.bump();
                self.nesting -= 1;
                self.check_depth(d)?;
                let Some(f) = lookup(&name) else {
                    return Err(ExprError {
                        message: format!("Unknown function name '{name}'"),
                        offset: Some(tok.pos),
                    });
                };
                if args.len() < f.min_args || args.len() > f.max_args {
                    let message = if f.min_args == f.max_args {
                        format!(
                            "Function '{name}' expects {} arguments, but got {}",
                            f.min_args,
                            args.len()
                        )
                    } else {
                        let max = if f.max_args == usize::MAX {
                            -1
                        } else {
                            f.max_args as i64
                        };
                        format!(
                            "Function '{name}' expects between {} and {max} arguments, but got {}",
                            f.min_args,
                            args.len()
                        )
                    };
                    return Err(ExprError {
                        message,
                        offset: Some(tok.pos),
                    });
                }
                Ok((
                    Expr::Func {
                        name: f.name.to_owned(),
                        args,
                    },
                    d,
                ))
            }
            _ => Err(self.syntax()),
        }
    }
}

/// Parses an APPLY / FILTER expression.
pub fn parse_expr(text: &[u8]) -> Result<Expr, ExprError> {
    let toks = tokenize(text)?;
    let mut p = P {
        toks,
        i: 0,
        nesting: 0,
    };
    if *p.peek() == T::Eof {
        return Err(p.syntax());
    }
    let (e, _) = p.or()?;
    if *p.peek() != T::Eof {
        return Err(p.syntax());
    }
    Ok(e)
}
