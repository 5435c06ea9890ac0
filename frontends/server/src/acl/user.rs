//! A compiled ACL user: flags, password hashes and selectors (the root one and the `(...)`
//! ones), with the permission check Redis 7.0 runs before every command
//! (`ACLCheckAllUserCommandPerm`).
//!
//! Invariants:
//! - A `User` is immutable once published in the registry: ACL SETUSER compiles a new one and
//!   swaps the `Arc`, so a check never takes a lock.
//! - Command permissions are a bitmap over [`CmdIndex`] ids (every command and subcommand of
//!   the moon-resp table), as Redis's `allowed_commands`; `future` is Redis's reserved bit that
//!   only `+@all`/`allcommands` set ("can run commands added later").

use std::collections::HashMap;
use std::sync::OnceLock;

use bytes::Bytes;
use moon_engine::keyspace::glob::glob_match;
use moon_resp::commands::table::{self, CommandSpec};

/// Every command and subcommand, numbered: Redis's command ids.
pub(crate) struct CmdIndex {
    /// Spec of each id.
    pub specs: Vec<&'static CommandSpec>,
    /// Id by spec address.
    by_addr: HashMap<usize, usize>,
    /// Top-level ids, sorted by name (the order rule descriptions list single commands in).
    pub tops: Vec<usize>,
    /// Subcommand ids of each id (empty for plain commands).
    pub subs: Vec<Vec<usize>>,
}

impl CmdIndex {
    /// The id of `spec` (any spec of the table has one).
    pub fn id(&self, spec: &'static CommandSpec) -> Option<usize> {
        self.by_addr
            .get(&(spec as *const CommandSpec as usize))
            .copied()
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.specs.len()
    }
}

/// The process-wide command index, built on first use.
pub(crate) fn index() -> &'static CmdIndex {
    static INDEX: OnceLock<CmdIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut idx = CmdIndex {
            specs: Vec::new(),
            by_addr: HashMap::new(),
            tops: Vec::new(),
            subs: Vec::new(),
        };
        let mut tops: Vec<&'static CommandSpec> = table::all().to_vec();
        tops.sort_by_key(|s| s.name);
        for top in tops {
            let id = idx.push(top);
            idx.tops.push(id);
            let subs: Vec<usize> = top.subcommands.iter().map(|s| idx.push(s)).collect();
            idx.subs[id] = subs;
        }
        idx
    })
}

impl CmdIndex {
    fn push(&mut self, spec: &'static CommandSpec) -> usize {
        let id = self.specs.len();
        self.specs.push(spec);
        self.subs.push(Vec::new());
        self.by_addr.insert(spec as *const CommandSpec as usize, id);
        id
    }
}

/// A key pattern with its `%R`/`%W` permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    pub pattern: Vec<u8>,
    pub read: bool,
    pub write: bool,
}

/// One selector: which commands, keys and channels it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// Command bitmap over [`CmdIndex`] ids.
    pub allowed: Vec<u64>,
    /// Every command allowed (Redis's `SELECTOR_FLAG_ALLCOMMANDS`: the fast path).
    pub all_commands: bool,
    /// Commands added later would be allowed (`+@all` without `-@all` since).
    pub future: bool,
    /// Allowed first arguments of otherwise blocked commands (`+select|0`), by command id.
    pub firstargs: Vec<(usize, Vec<Vec<u8>>)>,
    /// `allkeys` / `~*`.
    pub all_keys: bool,
    pub keys: Vec<KeyPattern>,
    /// `allchannels` / `&*`.
    pub all_channels: bool,
    pub channels: Vec<Vec<u8>>,
}

impl Default for Selector {
    fn default() -> Self {
        Selector {
            allowed: vec![0; index().len().div_ceil(64)],
            all_commands: false,
            future: false,
            firstargs: Vec::new(),
            all_keys: false,
            keys: Vec::new(),
            all_channels: false,
            channels: Vec::new(),
        }
    }
}

/// Why a command is refused, in Redis's order of relevance (`ACL_DENIED_*`); the position is
/// the offending argument's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denied {
    Cmd,
    Key(usize),
    Channel(usize),
}

impl Denied {
    fn rank(self) -> (u8, usize) {
        match self {
            Denied::Cmd => (1, 0),
            Denied::Key(i) => (2, i),
            Denied::Channel(i) => (4, i),
        }
    }
}

impl Selector {
    pub fn bit(&self, id: usize) -> bool {
        self.allowed
            .get(id / 64)
            .is_some_and(|w| w & (1u64 << (id % 64)) != 0)
    }

    pub fn set_bit(&mut self, id: usize, on: bool) {
        if let Some(w) = self.allowed.get_mut(id / 64) {
            if on {
                *w |= 1u64 << (id % 64);
            } else {
                *w &= !(1u64 << (id % 64));
                self.all_commands = false;
            }
        }
    }

    /// `ACLChangeSelectorPerm`: a command and all its subcommands; forgets its first args.
    pub fn change_perm(&mut self, id: usize, on: bool) {
        self.set_bit(id, on);
        self.firstargs.retain(|(c, _)| *c != id);
        if let Some(subs) = index().subs.get(id) {
            for &s in subs {
                self.set_bit(s, on);
            }
        }
    }

    /// `ACLSetSelectorCommandBitsForCategory` (containers first, then their subcommands).
    pub fn set_category(&mut self, cat: u32, on: bool) {
        let idx = index();
        for &top in &idx.tops {
            if idx.specs[top].acl_categories() & cat != 0 {
                self.change_perm(top, on);
            }
            for &s in &idx.subs[top] {
                if idx.specs[s].acl_categories() & cat != 0 {
                    self.change_perm(s, on);
                }
            }
        }
    }

    /// Every bit on or off (`+@all` / `-@all`).
    pub fn set_all(&mut self, on: bool) {
        let fill = if on { u64::MAX } else { 0 };
        self.allowed.iter_mut().for_each(|w| *w = fill);
        self.all_commands = on;
        self.future = on;
        self.firstargs.clear();
    }

    /// `ACLSelectorCheckKey`.
    fn key_ok(&self, key: &[u8], flags: u32) -> bool {
        if self.all_keys {
            return true;
        }
        let read = flags & table::K_ACCESS != 0;
        let write = flags & (table::K_INSERT | table::K_DELETE | table::K_UPDATE) != 0;
        self.keys
            .iter()
            .any(|p| (!read || p.read) && (!write || p.write) && glob_match(&p.pattern, key))
    }

    /// `ACLCheckChannelAgainstList`: patterns are compared literally, channels matched.
    pub fn channel_ok(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.all_channels
            || self.channels.iter().any(|p| {
                if is_pattern {
                    p.as_slice() == channel
                } else {
                    glob_match(p, channel)
                }
            })
    }

    /// `ACLSelectorCheckCmd`.
    fn check(
        &self,
        spec: &'static CommandSpec,
        id: usize,
        args: &[Bytes],
        keys: &mut Option<Vec<(usize, u32)>>,
    ) -> Result<(), Denied> {
        if !self.all_commands && spec.flags & table::NO_AUTH == 0 && !self.bit(id) {
            let first_ok = args.get(1).is_some_and(|a| {
                self.firstargs
                    .iter()
                    .find(|(c, _)| *c == id)
                    .is_some_and(|(_, list)| list.iter().any(|f| f.eq_ignore_ascii_case(a)))
            });
            if !first_ok {
                return Err(Denied::Cmd);
            }
        }
        if !self.all_keys {
            let keys =
                keys.get_or_insert_with(|| moon_resp::commands::acl_key_positions(spec, args));
            for &(pos, flags) in keys.iter() {
                if let Some(k) = args.get(pos)
                    && !self.key_ok(k, flags)
                {
                    return Err(Denied::Key(pos));
                }
            }
        }
        if !self.all_channels {
            for (pos, is_pattern) in channels_of(spec, args) {
                if let Some(ch) = args.get(pos)
                    && !self.channel_ok(ch, is_pattern)
                {
                    return Err(Denied::Channel(pos));
                }
            }
        }
        Ok(())
    }

    fn unrestricted(&self) -> bool {
        self.all_commands && self.all_keys && self.all_channels
    }
}

/// `getChannelsFromCommand` for the publish/subscribe flags ACL checks: positions and whether
/// each is a pattern.
fn channels_of(spec: &CommandSpec, args: &[Bytes]) -> Vec<(usize, bool)> {
    match spec.name {
        "publish" | "spublish" => vec![(1, false)],
        "subscribe" | "ssubscribe" => (1..args.len()).map(|i| (i, false)).collect(),
        "psubscribe" => (1..args.len()).map(|i| (i, true)).collect(),
        _ => Vec::new(),
    }
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub enabled: bool,
    pub nopass: bool,
    /// `sanitize-payload` (Some(true)) / `skip-sanitize-payload` (Some(false)) flag.
    pub sanitize: Option<bool>,
    /// SHA-256 hex digests, in the order added.
    pub passwords: Vec<String>,
    pub root: Selector,
    pub selectors: Vec<Selector>,
}

impl User {
    /// A new user as `ACLCreateUser` makes it: off, no passwords, nothing allowed.
    pub fn new(name: &str) -> User {
        User {
            name: name.to_string(),
            enabled: false,
            nopass: false,
            sanitize: None,
            passwords: Vec::new(),
            root: Selector::default(),
            selectors: Vec::new(),
        }
    }

    /// Redis's default user: `on nopass ~* &* +@all`.
    pub fn default_user() -> User {
        let mut u = User::new("default");
        u.enabled = true;
        u.nopass = true;
        u.root.set_all(true);
        u.root.all_keys = true;
        u.root.all_channels = true;
        u
    }

    /// No command, key or channel is refused: checks can be skipped.
    pub fn unrestricted(&self) -> bool {
        self.root.unrestricted()
    }

    /// Would `pass` authenticate this user (ignoring `on`/`off`)?
    pub fn password_ok(&self, pass: &[u8]) -> bool {
        if self.nopass {
            return true;
        }
        let hash = super::rules::sha256_hex(pass);
        // Compare every stored hash fully so timing does not reveal which one matched.
        self.passwords.iter().fold(false, |hit, h| {
            hit | constant_eq(h.as_bytes(), hash.as_bytes())
        })
    }

    /// `ACLCheckAllUserCommandPerm`: `spec` is the resolved command (the subcommand for
    /// containers) and `args` the full command line.
    pub fn check(&self, spec: &'static CommandSpec, args: &[Bytes]) -> Result<(), Denied> {
        let Some(id) = index().id(spec) else {
            return Ok(());
        };
        let mut keys = None;
        let mut relevant = Denied::Cmd;
        for sel in std::iter::once(&self.root).chain(&self.selectors) {
            match sel.check(spec, id, args, &mut keys) {
                Ok(()) => return Ok(()),
                Err(d) if d.rank() > relevant.rank() => relevant = d,
                Err(_) => {}
            }
        }
        Err(relevant)
    }
}

impl User {
    /// May this user subscribe to `channel` (a pattern when `is_pattern`)?
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        std::iter::once(&self.root)
            .chain(&self.selectors)
            .any(|s| s.channel_ok(channel, is_pattern))
    }

    /// The channel rules of every selector, to tell whether an update narrowed them.
    pub fn channel_rules(&self) -> Vec<(bool, &[Vec<u8>])> {
        std::iter::once(&self.root)
            .chain(&self.selectors)
            .map(|s| (s.all_channels, s.channels.as_slice()))
            .collect()
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::from(w.to_string())).collect()
    }

    fn check(u: &User, words: &[&str]) -> Result<(), Denied> {
        let args = argv(words);
        let spec = moon_resp::commands::resolve(&args).expect("known command");
        u.check(spec, &args)
    }

    #[test]
    fn default_user_runs_everything() {
        let u = User::default_user();
        assert!(u.unrestricted());
        assert_eq!(check(&u, &["get", "k"]), Ok(()));
        assert_eq!(check(&u, &["config", "set", "a", "b"]), Ok(()));
    }

    #[test]
    fn key_permissions_follow_key_spec_flags() {
        let mut u = User::new("u");
        u.root.set_all(true);
        u.root.all_channels = true;
        u.root.keys.push(KeyPattern {
            pattern: b"r*".to_vec(),
            read: true,
            write: false,
        });
        u.root.keys.push(KeyPattern {
            pattern: b"w*".to_vec(),
            read: false,
            write: true,
        });
        assert_eq!(check(&u, &["get", "r1"]), Ok(()));
        assert_eq!(check(&u, &["set", "r1", "v"]), Err(Denied::Key(1)));
        assert_eq!(check(&u, &["get", "w1"]), Err(Denied::Key(1)));
        // LPUSH only inserts: a write-only pattern is enough.
        assert_eq!(check(&u, &["lpush", "w1", "v"]), Ok(()));
        assert_eq!(check(&u, &["mget", "r1", "zz"]), Err(Denied::Key(2)));
        // Keyless commands are not key-checked.
        assert_eq!(check(&u, &["dbsize"]), Ok(()));
    }

    #[test]
    fn channel_patterns_are_literal_for_psubscribe() {
        let mut u = User::new("u");
        u.root.set_all(true);
        u.root.all_keys = true;
        u.root.channels.push(b"ch*".to_vec());
        assert_eq!(check(&u, &["publish", "ch1", "m"]), Ok(()));
        assert_eq!(check(&u, &["publish", "x", "m"]), Err(Denied::Channel(1)));
        assert_eq!(check(&u, &["psubscribe", "ch*"]), Ok(()));
        assert_eq!(check(&u, &["psubscribe", "ch1*"]), Err(Denied::Channel(1)));
        assert_eq!(check(&u, &["unsubscribe", "x"]), Ok(()));
    }

    #[test]
    fn most_relevant_denial_wins_across_selectors() {
        let mut u = User::new("u");
        let mut sel = Selector::default();
        if let Some(get) = moon_resp::commands::table::lookup(b"get").and_then(|s| index().id(s)) {
            sel.change_perm(get, true);
        }
        sel.keys.push(KeyPattern {
            pattern: b"x*".to_vec(),
            read: true,
            write: true,
        });
        u.selectors.push(sel);
        assert_eq!(check(&u, &["get", "foo"]), Err(Denied::Key(1)));
        assert_eq!(check(&u, &["get", "x1"]), Ok(()));
        assert_eq!(check(&u, &["set", "x1", "v"]), Err(Denied::Cmd));
    }
}
