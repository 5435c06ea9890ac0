//! Glob matching with Redis's `stringmatchlen` semantics (KEYS, SCAN MATCH): `*`, `?`,
//! `[abc]`, `[^a]`, `[a-z]` (reversed ranges allowed), `\` escapes, and Redis's handling of
//! malformed patterns (an unterminated `[` class ends at the pattern's end; a trailing `\` is a
//! literal backslash).
//!
//! Every token other than `*` consumes exactly one byte, so the classic iterative algorithm that
//! backtracks only to the most recent `*` is exact and runs in O(pattern × string) time with no
//! recursion: hostile patterns like `*a*a*a*...b` cannot blow the stack or run exponentially.

/// Reads a byte of the pattern; past the end reads as NUL, like the C string Redis walks.
fn at(p: &[u8], i: usize) -> u8 {
    p.get(i).copied().unwrap_or(0)
}

/// Bytes compare as C `char` (signed on the platforms Redis targets) inside ranges.
fn signed(b: u8) -> i32 {
    i32::from(b as i8)
}

/// Matches the bracket class starting at `p[i] == b'['` against `c`. Returns whether it
/// matched and the index just past the class.
fn match_class(p: &[u8], mut i: usize, c: u8) -> (bool, usize) {
    i += 1;
    let not = at(p, i) == b'^';
    if not {
        i += 1;
    }
    let mut matched = false;
    loop {
        let remaining = p.len().saturating_sub(i);
        if at(p, i) == b'\\' && remaining >= 2 {
            i += 1;
            matched |= at(p, i) == c;
        } else if at(p, i) == b']' {
            break;
        } else if remaining == 0 {
            // Unterminated class: Redis steps back so the final increment lands on the end.
            i -= 1;
            break;
        } else if remaining >= 3 && at(p, i + 1) == b'-' {
            let (mut start, mut end) = (signed(at(p, i)), signed(at(p, i + 2)));
            if start > end {
                std::mem::swap(&mut start, &mut end);
            }
            i += 2;
            matched |= (start..=end).contains(&signed(c));
        } else {
            matched |= at(p, i) == c;
        }
        i += 1;
    }
    (matched != not, i + 1)
}

/// Matches one non-`*` token at `p[i]` against `c`; returns (matched, next pattern index).
fn match_token(p: &[u8], i: usize, c: u8) -> (bool, usize) {
    match at(p, i) {
        b'?' => (true, i + 1),
        b'[' => match_class(p, i, c),
        b'\\' if p.len() - i >= 2 => (at(p, i + 1) == c, i + 2),
        lit => (lit == c, i + 1),
    }
}

/// True if `string` matches the glob `pattern` (case-sensitive).
pub fn glob_match(pattern: &[u8], string: &[u8]) -> bool {
    let (mut p, mut s) = (0usize, 0usize);
    // Pattern index just after the latest `*`, and the string index it is currently tried at.
    let mut star: Option<(usize, usize)> = None;
    while s < string.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            while p < pattern.len() && pattern[p] == b'*' {
                p += 1;
            }
            if p == pattern.len() {
                return true;
            }
            star = Some((p, s));
            continue;
        }
        if p < pattern.len() {
            let (ok, next) = match_token(pattern, p, string[s]);
            if ok {
                p = next;
                s += 1;
                continue;
            }
        }
        match star {
            Some((sp, ss)) => {
                p = sp;
                s = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes())
    }

    #[test]
    fn stars_and_questions() {
        assert!(m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        assert!(m("**a**", "bab"));
        assert!(!m("", "a"));
        assert!(m("", ""));
        assert!(!m("abc", "ab"));
        assert!(m("ab*", "ab"));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("[\\]]", "]"));
        assert!(!m("[]", "a"));
        // Redis reads "[a-]" as the range a..']' (swapped to ']'..'a') in an unterminated class.
        assert!(m("[a-]", "a"));
        assert!(m("[a-]", "_"));
        assert!(!m("[a-]", "-"));
    }

    #[test]
    fn malformed_patterns_follow_redis() {
        // Unterminated class: the class is what is left of the pattern.
        assert!(m("[abc", "b"));
        assert!(!m("[abc", "bc"));
        assert!(m("[^", "x"));
        assert!(!m("[", "["));
        // Trailing backslash is a literal.
        assert!(m("a\\", "a\\"));
    }

    #[test]
    fn escapes() {
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("\\?", "?"));
        assert!(!m("\\?", "a"));
    }

    #[test]
    fn hostile_pattern_is_fast() {
        let pattern = "a*".repeat(2000) + "b";
        let string = "a".repeat(5000);
        let t = std::time::Instant::now();
        assert!(!glob_match(pattern.as_bytes(), string.as_bytes()));
        assert!(t.elapsed().as_secs() < 5);
    }
}
