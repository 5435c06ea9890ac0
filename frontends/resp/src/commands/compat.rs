//! The command compatibility table (`docs/commands.md`): every Redis 7 command and
//! subcommand, with its group and `since` version, and whether Moon supports it, generated
//! from Moon's command table and the list of redis-server's commands in
//! `redis7_commands.txt` (7.0.15's COMMAND DOCS, plus the commands 7.2 added).
//!
//! Invariants:
//! - The output depends only on the two tables (no clock, no machine facts), so the
//!   committed file can be compared byte for byte (`tests/docs_up_to_date.rs`).
//! - A command is "supported" exactly when [`super::table::lookup_fullname`] finds it, i.e.
//!   when Moon parses it instead of answering "unknown command" / "unknown subcommand".

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::table;

/// redis-server's commands: `name TAB group TAB since` lines, `#` comments.
const REDIS_COMMANDS: &str = include_str!("redis7_commands.txt");

/// Moon's answer to one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// In Moon's command table.
    Supported,
    /// A subcommand of a container Moon has: `ERR unknown subcommand`.
    UnknownSubcommand,
    /// `ERR unknown command`.
    UnknownCommand,
}

impl Status {
    fn text(self) -> &'static str {
        match self {
            Status::Supported => "supported",
            Status::UnknownSubcommand => "answers unknown subcommand",
            Status::UnknownCommand => "answers unknown command",
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Full lowercase name (`client|setname`).
    pub name: String,
    pub group: String,
    pub since: String,
    /// Whether redis-server 7.0/7.2 has it (false: a Moon-only command).
    pub in_redis: bool,
    pub status: Status,
}

/// Every command of Redis 7 and of Moon, each container followed by its subcommands.
pub fn rows() -> Vec<Row> {
    // Sort key: (container, "" for the container itself or the subcommand name).
    let mut rows: BTreeMap<(String, String), Row> = BTreeMap::new();
    let key = |name: &str| match name.split_once('|') {
        Some((c, s)) => (c.to_string(), s.to_string()),
        None => (name.to_string(), String::new()),
    };
    for line in REDIS_COMMANDS.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut f = line.split('\t');
        let (Some(name), Some(group), Some(since)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let status = if table::lookup_fullname(name.as_bytes()).is_some() {
            Status::Supported
        } else if let Some((container, _)) = name.split_once('|')
            && table::lookup(container.as_bytes()).is_some()
        {
            Status::UnknownSubcommand
        } else {
            Status::UnknownCommand
        };
        rows.insert(
            key(name),
            Row {
                name: name.to_string(),
                group: group.to_string(),
                since: since.to_string(),
                in_redis: true,
                status,
            },
        );
    }
    for spec in table::all() {
        for s in std::iter::once(*spec).chain(spec.subcommands.iter()) {
            rows.entry(key(s.name)).or_insert_with(|| Row {
                name: s.name.to_string(),
                group: s.doc.group.to_string(),
                since: s.doc.since.to_string(),
                in_redis: false,
                status: Status::Supported,
            });
        }
    }
    rows.into_values().collect()
}

/// True for a `since` version after Redis 7.2 (7.4's hash field TTLs, 8.0's HGETEX ...).
fn newer_than_7_2(since: &str) -> bool {
    let mut parts = since.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) > (7, 2)
}

/// `client|setname` as users type it: `CLIENT SETNAME`.
fn display(name: &str) -> String {
    name.replace('|', " ").to_ascii_uppercase()
}

/// The Markdown page.
pub fn markdown() -> String {
    let rows = rows();
    let mut out = String::new();
    out.push_str(
        "# Command compatibility\n\n\
         Generated from Moon's command table (`frontends/resp/src/commands/`) and the command \
         list of redis-server 7.0.15 plus the commands Redis 7.2 added \
         (`frontends/resp/src/commands/redis7_commands.txt`) by \
         `frontends/resp/src/commands/compat.rs`. Do not edit by hand: run \
         `MOON_REGEN_DOCS=1 cargo test --test docs_up_to_date`.\n\n\
         \"supported\" means Moon parses and runs the command with Redis 7's arguments, \
         replies and error texts (see SPEC.md for the documented differences); the others get \
         Redis's own `ERR unknown command` or `ERR unknown subcommand` error.\n\n",
    );
    let mut groups: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.in_redis) {
        let g = groups.entry(r.group.as_str()).or_default();
        g.1 += 1;
        if r.status == Status::Supported {
            g.0 += 1;
        }
    }
    let (sup, total) = groups
        .values()
        .fold((0, 0), |(a, b), &(s, t)| (a + s, b + t));
    let _ = writeln!(
        out,
        "Moon supports {sup} of the {total} Redis 7 commands and subcommands.\n"
    );
    out.push_str("| group | supported | Redis 7 commands |\n|---|---|---|\n");
    for (g, (s, t)) in &groups {
        let _ = writeln!(out, "| {g} | {s} | {t} |");
    }
    out.push_str("\n| command | group | since | Moon |\n|---|---|---|---|\n");
    for r in &rows {
        let status = if r.in_redis {
            r.status.text().to_string()
        } else if newer_than_7_2(&r.since) {
            format!("{} (from Redis {})", r.status.text(), r.since)
        } else {
            format!("{} (Moon only)", r.status.text())
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {status} |",
            display(&r.name),
            r.group,
            r.since
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_commands_have_the_right_status() {
        let rows = rows();
        let get = |n: &str| rows.iter().find(|r| r.name == n).cloned();
        let set = get("set").expect("set row");
        assert_eq!(set.status, Status::Supported);
        assert_eq!(
            (set.group.as_str(), set.since.as_str()),
            ("string", "1.0.0")
        );
        assert!(set.in_redis);
        let module = get("module").expect("module row");
        assert_eq!(module.status, Status::UnknownCommand);
        // Every row of Moon's table is supported; names are unique.
        for spec in table::all() {
            assert_eq!(
                get(spec.name).map(|r| r.status),
                Some(Status::Supported),
                "{}",
                spec.name
            );
        }
        let mut names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        names.dedup();
        assert_eq!(names.len(), rows.len());
    }

    #[test]
    fn containers_precede_their_subcommands() {
        let rows = rows();
        let pos = |n: &str| rows.iter().position(|r| r.name == n);
        let (Some(c), Some(s)) = (pos("client"), pos("client|id")) else {
            panic!("client rows missing");
        };
        assert!(c < s);
        assert_eq!(display("client|setname"), "CLIENT SETNAME");
        assert!(newer_than_7_2("7.4.0") && newer_than_7_2("8.0.0"));
        assert!(!newer_than_7_2("7.2.0") && !newer_than_7_2("1.0.0"));
        let md = markdown();
        assert!(
            md.contains("| `GET` | string | 1.0.0 | supported |"),
            "{md}"
        );
    }
}
