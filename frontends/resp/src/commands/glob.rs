//! Redis-style glob matching (`stringmatchlen`) for COMMAND LIST FILTERBY PATTERN: `*`, `?`,
//! `[...]` classes with `^` and ranges, `\` escapes.
//!
//! Invariant: runs in O(pattern × subject) time with no recursion (greedy matching with one
//! backtrack point), so hostile patterns cannot blow the stack or the CPU.

/// Case-folds when `nocase`.
fn fold(b: u8, nocase: bool) -> u8 {
    if nocase { b.to_ascii_lowercase() } else { b }
}

/// Matches the single-character token at `pat[p..]` against `c`; returns the token's length
/// and whether it matched. `pat[p]` is never `*`.
fn token(pat: &[u8], p: usize, c: u8, nocase: bool) -> (usize, bool) {
    match pat[p] {
        b'?' => (1, true),
        b'\\' if p + 1 < pat.len() => (2, fold(pat[p + 1], nocase) == fold(c, nocase)),
        b'[' => class(pat, p, c, nocase),
        lit => (1, fold(lit, nocase) == fold(c, nocase)),
    }
}

/// A `[...]` class starting at `pat[p]`; an unterminated class runs to the end of the pattern.
fn class(pat: &[u8], p: usize, c: u8, nocase: bool) -> (usize, bool) {
    let mut i = p + 1;
    let negate = pat.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    let c = fold(c, nocase);
    let mut hit = false;
    while i < pat.len() && pat[i] != b']' {
        if pat[i] == b'\\' && i + 1 < pat.len() {
            hit |= fold(pat[i + 1], nocase) == c;
            i += 2;
        } else if i + 2 < pat.len() && pat[i + 1] == b'-' {
            let (a, b) = (fold(pat[i], nocase), fold(pat[i + 2], nocase));
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            hit |= (lo..=hi).contains(&c);
            i += 3;
        } else {
            hit |= fold(pat[i], nocase) == c;
            i += 1;
        }
    }
    let len = (i + 1).min(pat.len()) - p;
    (len.max(1), hit != negate)
}

/// True if `subject` matches `pattern`.
pub fn matches(pattern: &[u8], subject: &[u8], nocase: bool) -> bool {
    let (mut p, mut s) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while s < subject.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            while p < pattern.len() && pattern[p] == b'*' {
                p += 1;
            }
            backtrack = Some((p, s));
            continue;
        }
        if p < pattern.len() {
            let (len, ok) = token(pattern, p, subject[s], nocase);
            if ok {
                p += len;
                s += 1;
                continue;
            }
        }
        match backtrack {
            Some((bp, bs)) => {
                backtrack = Some((bp, bs + 1));
                p = bp;
                s = bs + 1;
            }
            None => return false,
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs() {
        assert!(matches(b"*", b"anything", true));
        assert!(matches(b"client|*", b"client|kill", true));
        assert!(matches(b"CLIENT|*", b"client|kill", true));
        assert!(!matches(b"client|*", b"config|get", true));
        assert!(matches(b"g?t", b"get", true));
        assert!(matches(b"[gs]et", b"set", true));
        assert!(!matches(b"[^gs]et", b"set", true));
        assert!(matches(b"[a-z]et", b"get", true));
        assert!(matches(b"*t*", b"getset", true));
        assert!(matches(b"\\*", b"*", true));
        assert!(!matches(b"get", b"getex", true));
        assert!(matches(b"", b"", true));
        assert!(!matches(b"", b"a", true));
        assert!(matches(
            b"a*a*a*a*a*a*a*a*b",
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
            true
        ));
        assert!(!matches(
            b"a*a*a*a*a*a*a*a*b",
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            true
        ));
    }
}
