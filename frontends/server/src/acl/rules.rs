//! ACL rules: applying ACL SETUSER / aclfile rules to a [`User`] (`ACLSetUser`,
//! `ACLSetSelector`) and describing a user back as rules (ACL LIST, GETUSER, the aclfile), with
//! redis-server 7.0's error texts and its "best fit" description of command permissions.
//!
//! Invariants: applying a list of rules is all-or-nothing (callers apply to a copy and publish
//! it only on success); the description of a user, applied to a fresh user, gives back the same
//! permissions (checked by the unit tests).

use bytes::Bytes;
use moon_resp::commands::table::{ACL_NAMES, lookup, lookup_fullname};
use sha2::{Digest, Sha256};

use super::user::{KeyPattern, Selector, User, index};

/// Lowercase hex SHA-256 of `pass`, as Redis stores passwords.
pub fn sha256_hex(pass: &[u8]) -> String {
    let digest = Sha256::digest(pass);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a rule was refused (`ACLSetUserStringError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    UnknownCommand,
    Syntax,
    KeysAfterAll,
    ChannelsAfterAll,
    NoSuchPassword,
    BadHash,
}

impl RuleError {
    pub fn text(self) -> &'static str {
        match self {
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeysAfterAll => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            RuleError::ChannelsAfterAll => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
            }
            RuleError::NoSuchPassword => {
                "The password you are trying to remove from the user does not exist"
            }
            RuleError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
            }
        }
    }
}

/// `ACLMergeSelectorArguments`: joins `(` ... `)` selector rules split over several arguments.
/// On an unmatched parenthesis returns the argument that opened it.
pub fn merge_selector_args(args: &[Bytes]) -> Result<Vec<Vec<u8>>, Vec<u8>> {
    let mut out = Vec::with_capacity(args.len());
    let mut open: Option<Vec<u8>> = None;
    let mut opener: &[u8] = b"";
    for a in args {
        if let Some(sel) = open.as_mut() {
            sel.push(b' ');
            sel.extend_from_slice(a);
            if a.last() == Some(&b')') {
                out.extend(open.take());
            }
            continue;
        }
        if a.first() == Some(&b'(') && a.last() != Some(&b')') || a.as_ref() == b"(" {
            open = Some(a.to_vec());
            opener = a;
            continue;
        }
        out.push(a.to_vec());
    }
    match open {
        Some(_) => Err(opener.to_vec()),
        None => Ok(out),
    }
}

/// Apply one user-level rule (`ACLSetUser`).
pub fn apply_user_rule(u: &mut User, op: &[u8]) -> Result<(), RuleError> {
    let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
    if is("on") {
        u.enabled = true;
    } else if is("off") {
        u.enabled = false;
    } else if is("skip-sanitize-payload") {
        u.sanitize = Some(false);
    } else if is("sanitize-payload") {
        u.sanitize = Some(true);
    } else if is("nopass") {
        u.nopass = true;
        u.passwords.clear();
    } else if is("resetpass") {
        u.nopass = false;
        u.passwords.clear();
    } else if is("clearselectors") {
        u.selectors.clear();
    } else if is("reset") {
        u.nopass = false;
        u.passwords.clear();
        u.root.all_keys = false;
        u.root.keys.clear();
        u.root.all_channels = false;
        u.root.channels.clear();
        u.enabled = false;
        u.sanitize = Some(true);
        u.selectors.clear();
        u.root.set_all(false);
    } else if let Some(pass) = op.strip_prefix(b">") {
        let h = sha256_hex(pass);
        if !u.passwords.contains(&h) {
            u.passwords.push(h);
        }
        u.nopass = false;
    } else if let Some(hash) = op.strip_prefix(b"#") {
        let h = valid_hash(hash)?;
        if !u.passwords.contains(&h) {
            u.passwords.push(h);
        }
        u.nopass = false;
    } else if let Some(pass) = op.strip_prefix(b"<") {
        let h = sha256_hex(pass);
        remove_password(u, &h)?;
    } else if let Some(hash) = op.strip_prefix(b"!") {
        let h = valid_hash(hash)?;
        remove_password(u, &h)?;
    } else if op.first() == Some(&b'(') && op.last() == Some(&b')') {
        let inner = &op[1..op.len() - 1];
        let mut sel = Selector::default();
        for rule in inner
            .split(|b| b.is_ascii_whitespace())
            .filter(|r| !r.is_empty())
        {
            apply_selector_rule(&mut sel, rule)?;
        }
        u.selectors.push(sel);
    } else {
        apply_selector_rule(&mut u.root, op)?;
    }
    Ok(())
}

fn valid_hash(hash: &[u8]) -> Result<String, RuleError> {
    if hash.len() != 64
        || !hash
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    {
        return Err(RuleError::BadHash);
    }
    Ok(String::from_utf8_lossy(hash).into_owned())
}

fn remove_password(u: &mut User, h: &str) -> Result<(), RuleError> {
    let before = u.passwords.len();
    u.passwords.retain(|p| p != h);
    if u.passwords.len() == before {
        return Err(RuleError::NoSuchPassword);
    }
    Ok(())
}

/// Apply one selector rule (`ACLSetSelector`).
pub fn apply_selector_rule(s: &mut Selector, op: &[u8]) -> Result<(), RuleError> {
    let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
    if is("allkeys") || op == b"~*" {
        s.all_keys = true;
        s.keys.clear();
    } else if is("resetkeys") {
        s.all_keys = false;
        s.keys.clear();
    } else if is("allchannels") || op == b"&*" {
        s.all_channels = true;
        s.channels.clear();
    } else if is("resetchannels") {
        s.all_channels = false;
        s.channels.clear();
    } else if is("allcommands") || is("+@all") {
        s.set_all(true);
    } else if is("nocommands") || is("-@all") {
        s.set_all(false);
    } else if op.first() == Some(&b'~') || op.first() == Some(&b'%') {
        add_key_pattern(s, op)?;
    } else if let Some(ch) = op.strip_prefix(b"&") {
        if s.all_channels {
            return Err(RuleError::ChannelsAfterAll);
        }
        if !s.channels.iter().any(|c| c.as_slice() == ch) {
            s.channels.push(ch.to_vec());
        }
    } else if let Some(cat) = op.strip_prefix(b"+@").or_else(|| op.strip_prefix(b"-@")) {
        let bit = category_bit(cat).ok_or(RuleError::UnknownCommand)?;
        s.set_category(bit, op[0] == b'+');
    } else if let Some(name) = op.strip_prefix(b"+").or_else(|| op.strip_prefix(b"-")) {
        command_rule(s, name, op[0] == b'+')?;
    } else {
        return Err(RuleError::Syntax);
    }
    Ok(())
}

fn add_key_pattern(s: &mut Selector, op: &[u8]) -> Result<(), RuleError> {
    if s.all_keys {
        return Err(RuleError::KeysAfterAll);
    }
    let (read, write, pattern) = if op[0] == b'%' {
        let (mut read, mut write) = (false, false);
        let mut rest = &op[1..];
        loop {
            match rest.split_first() {
                Some((b'R' | b'r', tail)) if !read => {
                    read = true;
                    rest = tail;
                }
                Some((b'W' | b'w', tail)) if !write => {
                    write = true;
                    rest = tail;
                }
                Some((b'~', tail)) => {
                    rest = tail;
                    break;
                }
                // Redis accepts `%RW` without `~` as the empty pattern.
                None => break,
                Some(_) => return Err(RuleError::Syntax),
            }
        }
        if !read && !write {
            return Err(RuleError::Syntax);
        }
        (read, write, rest)
    } else {
        (true, true, &op[1..])
    };
    match s.keys.iter_mut().find(|p| p.pattern == pattern) {
        Some(p) => {
            p.read |= read;
            p.write |= write;
        }
        None => s.keys.push(KeyPattern {
            pattern: pattern.to_vec(),
            read,
            write,
        }),
    }
    Ok(())
}

fn category_bit(name: &[u8]) -> Option<u32> {
    ACL_NAMES
        .iter()
        .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(name))
        .map(|(b, _)| *b)
}

/// `+cmd`, `-cmd`, `+cmd|sub`, `-cmd|sub`, `+cmd|firstarg`.
fn command_rule(s: &mut Selector, name: &[u8], allow: bool) -> Result<(), RuleError> {
    let idx = index();
    let Some(bar) = name.iter().position(|&b| b == b'|') else {
        let spec = lookup(name).ok_or(RuleError::UnknownCommand)?;
        let id = idx.id(spec).ok_or(RuleError::UnknownCommand)?;
        s.change_perm(id, allow);
        return Ok(());
    };
    if !allow {
        let spec = lookup_fullname(name).ok_or(RuleError::UnknownCommand)?;
        let id = idx.id(spec).ok_or(RuleError::UnknownCommand)?;
        s.change_perm(id, false);
        return Ok(());
    }
    let container = lookup(&name[..bar]).ok_or(RuleError::UnknownCommand)?;
    let sub = &name[bar + 1..];
    if sub.is_empty() {
        return Err(RuleError::Syntax);
    }
    if !container.subcommands.is_empty() {
        let spec = lookup_fullname(name).ok_or(RuleError::UnknownCommand)?;
        let id = idx.id(spec).ok_or(RuleError::UnknownCommand)?;
        s.change_perm(id, true);
    } else {
        // The deprecated first-argument form (`+select|0`).
        let id = idx.id(container).ok_or(RuleError::UnknownCommand)?;
        let sub = sub.to_ascii_lowercase();
        match s.firstargs.iter_mut().find(|(c, _)| *c == id) {
            Some((_, list)) => {
                if !list.contains(&sub) {
                    list.push(sub);
                }
            }
            None => s.firstargs.push((id, vec![sub])),
        }
    }
    Ok(())
}

/// Apply `rules` (already selector-merged) to a copy of `u`; the copy on success.
pub fn apply_all(u: &User, rules: &[Vec<u8>]) -> Result<User, (Vec<u8>, RuleError)> {
    let mut copy = u.clone();
    for r in rules {
        apply_user_rule(&mut copy, r).map_err(|e| (r.clone(), e))?;
    }
    Ok(copy)
}

/// Commands with a category bit on and off in `allowed` (`ACLCountCategoryBitsForSelector`).
fn count_category(allowed: &Selector, cat: u32) -> (usize, usize) {
    let idx = index();
    let (mut on, mut off) = (0, 0);
    for (id, spec) in idx.specs.iter().enumerate() {
        if spec.acl_categories() & cat != 0 {
            if allowed.bit(id) {
                on += 1;
            } else {
                off += 1;
            }
        }
    }
    (on, off)
}

/// `ACLDescribeSelectorCommandRules` of redis-server 7.0: `+@all`/`-@all`, then the
/// categories that best fit the bitmap, then single commands fixing the difference.
pub fn describe_commands(s: &Selector) -> String {
    let idx = index();
    let additive = !s.future;
    let mut rules = String::from(if additive { "-@all " } else { "+@all " });
    let mut fake = Selector::default();
    fake.set_all(!additive);
    let mut temp = s.clone();
    let mut applied = [false; 32];
    loop {
        let mut best = None;
        let (mut mindiff, mut maxsame) = (usize::MAX, 0);
        for (j, (bit, _)) in ACL_NAMES.iter().enumerate() {
            if applied.get(j).copied().unwrap_or(true) {
                continue;
            }
            let (on, off) = count_category(&temp, *bit);
            let (diff, same) = if additive { (off, on) } else { (on, off) };
            if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                best = Some(j);
                mindiff = diff;
                maxsame = same;
            }
        }
        let Some(j) = best else { break };
        let (bit, name) = ACL_NAMES[j];
        fake.set_category(bit, additive);
        temp.set_category(bit, !additive);
        rules.push_str(if additive { "+@" } else { "-@" });
        rules.push_str(name);
        rules.push(' ');
        applied[j] = true;
    }
    for &top in &idx.tops {
        let mut userbit = s.bit(top);
        if userbit != fake.bit(top) {
            rules.push(if userbit { '+' } else { '-' });
            rules.push_str(idx.specs[top].name);
            rules.push(' ');
            fake.change_perm(top, userbit);
        }
        for &sub in &idx.subs[top] {
            userbit = s.bit(sub);
            if userbit != fake.bit(sub) {
                rules.push(if userbit { '+' } else { '-' });
                rules.push_str(idx.specs[sub].name);
                rules.push(' ');
                fake.change_perm(sub, userbit);
            }
        }
        if !userbit && let Some((_, list)) = s.firstargs.iter().find(|(c, _)| *c == top) {
            for arg in list {
                rules.push('+');
                rules.push_str(idx.specs[top].name);
                rules.push('|');
                rules.push_str(&String::from_utf8_lossy(arg));
                rules.push(' ');
            }
        }
    }
    rules.pop();
    rules
}

fn pattern_rule(p: &KeyPattern) -> String {
    let prefix = match (p.read, p.write) {
        (true, false) => "%R~",
        (false, true) => "%W~",
        _ => "~",
    };
    format!("{prefix}{}", String::from_utf8_lossy(&p.pattern))
}

/// The key rules as GETUSER shows them (`~*`, `%R~a ~b`, or empty).
pub fn describe_keys(s: &Selector) -> String {
    if s.all_keys {
        return "~*".into();
    }
    s.keys
        .iter()
        .map(pattern_rule)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The channel rules as GETUSER shows them (`&*`, `&a &b`, or empty).
pub fn describe_channels(s: &Selector) -> String {
    if s.all_channels {
        return "&*".into();
    }
    s.channels
        .iter()
        .map(|c| format!("&{}", String::from_utf8_lossy(c)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `ACLDescribeSelector`: keys, channels, commands, as ACL LIST prints them.
pub fn describe_selector(s: &Selector) -> String {
    let mut out = String::new();
    if s.all_keys {
        out.push_str("~* ");
    } else {
        for p in &s.keys {
            out.push_str(&pattern_rule(p));
            out.push(' ');
        }
    }
    if s.all_channels {
        out.push_str("&* ");
    } else {
        out.push_str("resetchannels ");
        for c in &s.channels {
            out.push('&');
            out.push_str(&String::from_utf8_lossy(c));
            out.push(' ');
        }
    }
    out.push_str(&describe_commands(s));
    out
}

/// The flags GETUSER lists, in Redis's order.
pub fn flag_names(u: &User) -> Vec<&'static str> {
    let mut flags = vec![if u.enabled { "on" } else { "off" }];
    if u.nopass {
        flags.push("nopass");
    }
    match u.sanitize {
        Some(false) => flags.push("skip-sanitize-payload"),
        Some(true) => flags.push("sanitize-payload"),
        None => {}
    }
    flags
}

/// `ACLDescribeUser`: the rules after `user <name>` in ACL LIST and the aclfile.
pub fn describe_user(u: &User) -> String {
    let mut out = String::new();
    for f in flag_names(u) {
        out.push_str(f);
        out.push(' ');
    }
    for h in &u.passwords {
        out.push('#');
        out.push_str(h);
        out.push(' ');
    }
    out.push_str(&describe_selector(&u.root));
    for s in &u.selectors {
        out.push_str(" (");
        out.push_str(&describe_selector(s));
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::from(w.to_string())).collect()
    }

    fn user_with(rules: &[&str]) -> Result<User, (String, RuleError)> {
        let merged = merge_selector_args(&b(rules))
            .map_err(|o| (String::from_utf8_lossy(&o).into_owned(), RuleError::Syntax))?;
        apply_all(&User::new("t"), &merged)
            .map_err(|(op, e)| (String::from_utf8_lossy(&op).into_owned(), e))
    }

    #[test]
    fn passwords() {
        let u = user_with(&[">p1", ">p2", ">p1", "<p2"]).expect("rules");
        assert_eq!(u.passwords, vec![sha256_hex(b"p1")]);
        assert!(u.password_ok(b"p1"));
        assert!(!u.password_ok(b"p2"));
        assert_eq!(
            sha256_hex(b"p1"),
            "f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a"
        );
        let u = user_with(&[">p1", "nopass"]).expect("rules");
        assert!(u.passwords.is_empty() && u.nopass && u.password_ok(b"any"));
        let u = user_with(&["nopass", "resetpass"]).expect("rules");
        assert!(!u.nopass && !u.password_ok(b""));
        let h = sha256_hex(b"x");
        let u = user_with(&[&format!("#{h}")]).expect("rules");
        assert!(u.password_ok(b"x"));
        let u = user_with(&[&format!("#{h}"), &format!("!{h}")]).expect("rules");
        assert!(u.passwords.is_empty());
        assert_eq!(user_with(&["#abc"]).unwrap_err().1, RuleError::BadHash);
        assert_eq!(
            user_with(&[&format!("#{}", h.to_uppercase())])
                .unwrap_err()
                .1,
            RuleError::BadHash
        );
        assert_eq!(
            user_with(&["<zz"]).unwrap_err().1,
            RuleError::NoSuchPassword
        );
    }

    #[test]
    fn key_and_channel_rules() {
        let u = user_with(&["%R~r*", "~k*", "%W~w", "%RW~rw", "%R~x", "~x"]).expect("rules");
        assert_eq!(describe_keys(&u.root), "%R~r* ~k* %W~w ~rw ~x");
        assert_eq!(user_with(&["%X~a"]).unwrap_err().1, RuleError::Syntax);
        assert_eq!(user_with(&["%~a"]).unwrap_err().1, RuleError::Syntax);
        assert!(user_with(&["%RW"]).is_ok());
        assert_eq!(
            user_with(&["~*", "~a"]).unwrap_err().1,
            RuleError::KeysAfterAll
        );
        assert_eq!(
            user_with(&["allchannels", "&a"]).unwrap_err().1,
            RuleError::ChannelsAfterAll
        );
        // Only `~*` and `allkeys` mean every key; `%RW~*` is an ordinary pattern (Redis).
        let u = user_with(&["%RW~*", "%R~*"]).expect("rules");
        assert!(!u.root.all_keys);
        assert_eq!(describe_keys(&u.root), "~*");
        let u = user_with(&["~a", "allkeys"]).expect("rules");
        assert_eq!(describe_keys(&u.root), "~*");
        let u = user_with(&["~a", "resetkeys", "&c1", "&c1", "&c2"]).expect("rules");
        assert_eq!(describe_keys(&u.root), "");
        assert_eq!(describe_channels(&u.root), "&c1 &c2");
    }

    #[test]
    fn command_rules_describe_like_redis_7_0() {
        let cases: &[(&[&str], &str)] = &[
            (&["+@read", "-get"], "-@all +@read -get"),
            (&["-get", "+@read"], "-@all +@read"),
            (&["+@all", "-get", "+set"], "+@all -get"),
            (&["+@all", "-@read", "+get"], "+@all -@read +get"),
            (&["+get", "-get"], "-@all"),
            (&["+config|get", "+config"], "-@all +config"),
            (&["+config", "-config|set"], "-@all +config -config|set"),
            (&["+@read", "-@read"], "-@all"),
            (&["+select|0"], "-@all +select|0"),
            (&["+select|0", "+select|1", "-select"], "-@all"),
            (&["allcommands", "nocommands", "+get"], "-@all +get"),
        ];
        for (rules, want) in cases {
            let u = user_with(rules).expect("rules");
            assert_eq!(describe_commands(&u.root), *want, "{rules:?}");
        }
    }

    #[test]
    fn descriptions_round_trip() {
        let sets: &[&[&str]] = &[
            &[
                "on",
                ">p",
                "%R~r*",
                "~k*",
                "&ch*",
                "+@read",
                "-get",
                "+set",
                "+config|get",
            ],
            &["+@all", "-@dangerous", "+client|kill", "~*", "&*"],
            &["+@string", "+@read", "-@string", "+get", "(~x*", "+get)"],
            &["+select|0", "+debug", "-@hash"],
        ];
        for rules in sets {
            let u = user_with(rules).expect("rules");
            let text = describe_user(&u);
            let words: Vec<&str> = text.split(' ').collect();
            let again = user_with(&words).expect("described rules");
            assert_eq!(again.root.allowed, u.root.allowed, "{text}");
            assert_eq!(describe_user(&again), text);
        }
    }

    #[test]
    fn errors_and_selectors() {
        assert_eq!(user_with(&["bogus"]).unwrap_err().1, RuleError::Syntax);
        assert_eq!(
            user_with(&["+nosuch"]).unwrap_err().1,
            RuleError::UnknownCommand
        );
        assert_eq!(
            user_with(&["+@nosuch"]).unwrap_err().1,
            RuleError::UnknownCommand
        );
        assert_eq!(user_with(&["+config|"]).unwrap_err().1, RuleError::Syntax);
        assert_eq!(
            user_with(&["+config|nosuch"]).unwrap_err().1,
            RuleError::UnknownCommand
        );
        assert_eq!(user_with(&["(bogus)"]).unwrap_err().0, "(bogus)");
        assert_eq!(
            merge_selector_args(&b(&["(~a", "+get"])).unwrap_err(),
            b"(~a".to_vec()
        );
        let u = user_with(&["(~a", "+get)", "clearselectors", "(&c)"]).expect("rules");
        assert_eq!(u.selectors.len(), 1);
        assert_eq!(
            describe_user(&u),
            "off resetchannels -@all (resetchannels &c -@all)"
        );
        let u = user_with(&["reset"]).expect("rules");
        assert_eq!(
            describe_user(&u),
            "off sanitize-payload resetchannels -@all"
        );
    }
}
