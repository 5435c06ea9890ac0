//! The aclfile: parsing it into users (`ACLLoadFromFile`) and writing the users back
//! (`ACLSaveToFile`), with redis-server 7.0's error texts.
//!
//! Invariants: loading is all-or-nothing (any error leaves the caller's users untouched and
//! reports every bad line); saving writes a temporary file and renames it over the old one so
//! a crash never leaves a truncated aclfile.

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;

use super::rules::{RuleError, apply_user_rule, describe_user, merge_selector_args};
use super::user::User;

/// Parse aclfile `text` (named `path` in errors). Without a `default` user in the file, the
/// default user gets Redis's defaults.
pub fn parse(path: &str, text: &str) -> Result<BTreeMap<String, User>, String> {
    let mut users: BTreeMap<String, User> = BTreeMap::new();
    let mut errors = String::new();
    // Names of every `user` line, valid or not (Redis creates the user before its rules).
    let mut seen = std::collections::HashSet::new();
    for (n, line) in text.split('\n').enumerate() {
        let lineno = n + 1;
        let line = line.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r');
        if line.is_empty() {
            continue;
        }
        let words: Vec<Bytes> = line
            .split_ascii_whitespace()
            .map(|w| Bytes::from(w.to_string()))
            .collect();
        let (Some(kw), Some(name)) = (words.first(), words.get(1)) else {
            errors.push_str(&format!(
                "{path}:{lineno} should start with user keyword followed by the username. "
            ));
            continue;
        };
        if !kw.eq_ignore_ascii_case(b"user") {
            errors.push_str(&format!(
                "{path}:{lineno} should start with user keyword followed by the username. "
            ));
            continue;
        }
        let name = String::from_utf8_lossy(name).into_owned();
        if !seen.insert(name.clone()) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{name}' found on line {lineno}. "
            ));
            continue;
        }
        let Ok(rules) = merge_selector_args(&words[2..]) else {
            errors.push_str(&format!(
                "{path}:{lineno}: Unmatched parenthesis in selector definition."
            ));
            continue;
        };
        // As `ACLLoadFromFile`: every unknown command is reported with its rule, other
        // errors only once per line, and the remaining rules are still tried.
        let mut user = User::new(&name);
        let mut line_ok = true;
        let mut syntax_reported = false;
        for op in &rules {
            let Err(e) = apply_user_rule(&mut user, op) else {
                continue;
            };
            line_ok = false;
            if e == RuleError::UnknownCommand {
                errors.push_str(&format!(
                    "{path}:{lineno}: Error in applying operation '{}': {}. ",
                    String::from_utf8_lossy(op),
                    e.text()
                ));
            } else if !syntax_reported {
                errors.push_str(&format!("{path}:{lineno}: {}. ", e.text()));
                syntax_reported = true;
            }
        }
        if line_ok {
            users.insert(name, user);
        }
    }
    if !errors.is_empty() {
        errors.push_str(
            "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
        );
        return Err(errors);
    }
    users
        .entry("default".into())
        .or_insert_with(User::default_user);
    Ok(users)
}

/// Read and parse the aclfile at `path`.
pub fn load(path: &str) -> Result<BTreeMap<String, User>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("Error loading ACLs, opening file '{path}': {e}"))?;
    parse(path, &text)
}

/// The aclfile text of `users` (one `user <name> <rules>` line each, in name order).
pub fn render<'a>(users: impl IntoIterator<Item = &'a User>) -> String {
    users
        .into_iter()
        .map(|u| format!("user {} {}\n", u.name, describe_user(u)))
        .collect()
}

/// Write `text` to `path` atomically.
pub fn save(path: &str, text: &str) -> Result<(), String> {
    let tmp = format!("{path}.tmp-{}", std::process::id());
    let write = || -> std::io::Result<()> {
        std::fs::write(&tmp, text)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, Path::new(path))
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("There was an error trying to save the ACLs. Please check the server logs for more information: {e}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_reports_every_bad_line_like_redis() {
        let text = "user a on >x ~a* +get\nuser b bogus\nfoo bar\nuser c +nosuch\n\n# comment\nuser d (~a\n";
        let e = parse("/tmp/t.acl", text).unwrap_err();
        assert_eq!(
            e,
            "/tmp/t.acl:2: Syntax error. /tmp/t.acl:3 should start with user keyword followed by the username. /tmp/t.acl:4: Error in applying operation '+nosuch': Unknown command or category name in ACL. /tmp/t.acl:6 should start with user keyword followed by the username. /tmp/t.acl:7: Unmatched parenthesis in selector definition.WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
        );
        let e = parse("f", "user a on\nuser a off\n").unwrap_err();
        assert_eq!(
            e,
            "WARNING: Duplicate user 'a' found on line 2. WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
        );
    }

    #[test]
    fn render_and_parse_round_trip() {
        let users = parse("f", "user a on >x ~a* +get (~z +set)\nuser b off\n").expect("parse");
        assert_eq!(users.len(), 3, "default added");
        let text = render(users.values());
        assert_eq!(
            text,
            "user a on #2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 ~a* resetchannels -@all +get (~z resetchannels -@all +set)\nuser b off resetchannels -@all\nuser default on nopass ~* &* +@all\n"
        );
        let again = parse("f", &text).expect("parse");
        assert_eq!(again, users);
    }
}
