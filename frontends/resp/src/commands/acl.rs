//! The ACL command: its Redis 7.0 table entry (container and subcommands, with the flags,
//! categories and docs of `COMMAND INFO/DOCS acl` on redis-server 7.0.15) and the parsers
//! lowering it to [`ConnCmd::Acl`].
//!
//! Invariants: parsers only check the shapes redis-server's `aclCommand` checks before acting
//! (argument counts, `LOG` count, `GENPASS` bits); rule syntax is the server's business, since
//! its errors depend on the user being changed.

use bytes::Bytes;
use moon_engine::ir::{OpError, Reply};

use super::args::{err, parse_i64, show};
use super::table::{ADMIN, CommandSpec, LOADING, NOSCRIPT, STALE, doc};
use super::{Command, ConnCmd, container_arity};

/// ACL subcommands, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AclCmd {
    /// ACL CAT [category].
    Cat(Option<Bytes>),
    /// ACL DELUSER name [name ...].
    DelUser(Vec<Bytes>),
    /// ACL DRYRUN user command [arg ...].
    DryRun { user: Bytes, args: Vec<Bytes> },
    /// ACL GENPASS [bits]: bits already checked to be 1..=4096 (default 256).
    GenPass(u32),
    /// ACL GETUSER name.
    GetUser(Bytes),
    /// ACL LIST.
    List,
    /// ACL LOAD.
    Load,
    /// ACL LOG [count]: `None` is the default count (10).
    Log(Option<usize>),
    /// ACL LOG RESET.
    LogReset,
    /// ACL SAVE.
    Save,
    /// ACL SETUSER name [rule ...].
    SetUser { name: Bytes, rules: Vec<Bytes> },
    /// ACL USERS.
    Users,
    /// ACL WHOAMI.
    WhoAmI,
    /// ACL HELP.
    Help,
}

const G: &str = "server";
const BASE: u32 = NOSCRIPT | LOADING | STALE;
const PRIV: u32 = ADMIN | BASE;
const USERS_N: &str = "O(N). Where N is the number of configured users.";

pub static ACL: CommandSpec = CommandSpec::new(
    "acl",
    -2,
    0,
    0,
    &[],
    doc(
        G,
        "6.0.0",
        "A container for Access List Control commands ",
        "Depends on subcommand.",
    ),
    container_arity,
)
.with_subs(ACL_SUBS);

static ACL_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "acl|cat",
        -2,
        BASE,
        0,
        &[],
        doc(
            G,
            "6.0.0",
            "List the ACL categories or the commands inside a category",
            "O(1) since the categories and commands are a fixed set.",
        ),
        cat,
    ),
    CommandSpec::new(
        "acl|deluser",
        -3,
        PRIV,
        0,
        &[],
        doc(
            G,
            "6.0.0",
            "Remove the specified ACL users and the associated rules",
            "O(1) amortized time considering the typical user.",
        ),
        deluser,
    ),
    CommandSpec::new(
        "acl|dryrun",
        -4,
        PRIV,
        0,
        &[],
        doc(
            G,
            "7.0.0",
            "Returns whether the user can execute the given command without executing the command.",
            "O(1).",
        ),
        dryrun,
    ),
    CommandSpec::new(
        "acl|genpass",
        -2,
        BASE,
        0,
        &[],
        doc(
            G,
            "6.0.0",
            "Generate a pseudorandom secure password to use for ACL users",
            "O(1)",
        ),
        genpass,
    ),
    CommandSpec::new(
        "acl|getuser",
        3,
        PRIV,
        0,
        &[],
        doc(
            G,
            "6.0.0",
            "Get the rules for a specific ACL user",
            "O(N). Where N is the number of password, command and pattern rules that the user has.",
        ),
        getuser,
    ),
    CommandSpec::new(
        "acl|help",
        2,
        LOADING | STALE,
        0,
        &[],
        doc(
            G,
            "6.0.0",
            "Show helpful text about the different subcommands",
            "O(1)",
        ),
        help,
    ),
    CommandSpec::new(
        "acl|list",
        2,
        PRIV,
        0,
        &[],
        doc(
            G,
            "6.0.0",
            "List the current ACL rules in ACL config file format",
            USERS_N,
        ),
        list,
    ),
    CommandSpec::new(
        "acl|load",
        2,
        PRIV,
        0,
        &[],
        doc(
            G,
            "6.0.0",
            "Reload the ACLs from the configured ACL file",
            USERS_N,
        ),
        load,
    ),
    CommandSpec::new(
        "acl|log",
        -2,
        PRIV,
        0,
        &[],
        doc(
            G,
            "6.0.0",
            "List latest events denied because of ACLs in place",
            "O(N) with N being the number of entries shown.",
        ),
        log,
    ),
    CommandSpec::new(
        "acl|save",
        2,
        PRIV,
        0,
        &[],
        doc(
            G,
            "6.0.0",
            "Save the current ACL rules in the configured ACL file",
            USERS_N,
        ),
        save,
    ),
    CommandSpec::new(
        "acl|setuser",
        -3,
        PRIV,
        0,
        &[],
        doc(
            G,
            "6.0.0",
            "Modify or create the rules for a specific ACL user",
            "O(N). Where N is the number of rules provided.",
        ),
        setuser,
    ),
    CommandSpec::new(
        "acl|users",
        2,
        PRIV,
        0,
        &[],
        doc(
            G,
            "6.0.0",
            "List the username of all the configured ACL rules",
            USERS_N,
        ),
        users,
    ),
    CommandSpec::new(
        "acl|whoami",
        2,
        BASE,
        0,
        &[],
        doc(
            G,
            "6.0.0",
            "Return the name of the user associated to the current connection",
            "O(1)",
        ),
        whoami,
    ),
];

/// The family table (see `table::FAMILIES`).
pub static COMMANDS: &[&CommandSpec] = &[&ACL];

fn ok(cmd: AclCmd) -> Result<Command, OpError> {
    Ok(Command::Conn(ConnCmd::Acl(cmd)))
}

/// `addReplySubcommandSyntaxError`: the subcommand as the client typed it.
fn sub_syntax(a: &[Bytes]) -> OpError {
    let sub = a.get(1).map(|s| show(s)).unwrap_or_default();
    err(format!(
        "unknown subcommand or wrong number of arguments for '{sub}'. Try ACL HELP."
    ))
}

fn cat(a: &[Bytes]) -> Result<Command, OpError> {
    match a {
        [_, _] => ok(AclCmd::Cat(None)),
        [_, _, c] => ok(AclCmd::Cat(Some(c.clone()))),
        _ => Err(sub_syntax(a)),
    }
}

fn deluser(a: &[Bytes]) -> Result<Command, OpError> {
    ok(AclCmd::DelUser(a.get(2..).unwrap_or_default().to_vec()))
}

fn dryrun(a: &[Bytes]) -> Result<Command, OpError> {
    match a {
        [_, _, user, rest @ ..] => ok(AclCmd::DryRun {
            user: user.clone(),
            args: rest.to_vec(),
        }),
        _ => Err(sub_syntax(a)),
    }
}

fn genpass(a: &[Bytes]) -> Result<Command, OpError> {
    match a {
        [_, _] => ok(AclCmd::GenPass(256)),
        [_, _, bits] => {
            let n = parse_i64(bits).ok_or(OpError::NotInteger)?;
            match u32::try_from(n) {
                Ok(n) if (1..=4096).contains(&n) => ok(AclCmd::GenPass(n)),
                _ => Err(err(
                    "ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096",
                )),
            }
        }
        _ => Err(sub_syntax(a)),
    }
}

fn getuser(a: &[Bytes]) -> Result<Command, OpError> {
    match a {
        [_, _, name] => ok(AclCmd::GetUser(name.clone())),
        _ => Err(sub_syntax(a)),
    }
}

fn help(_: &[Bytes]) -> Result<Command, OpError> {
    ok(AclCmd::Help)
}

fn list(_: &[Bytes]) -> Result<Command, OpError> {
    ok(AclCmd::List)
}

fn load(_: &[Bytes]) -> Result<Command, OpError> {
    ok(AclCmd::Load)
}

fn save(_: &[Bytes]) -> Result<Command, OpError> {
    ok(AclCmd::Save)
}

fn users(_: &[Bytes]) -> Result<Command, OpError> {
    ok(AclCmd::Users)
}

fn whoami(_: &[Bytes]) -> Result<Command, OpError> {
    ok(AclCmd::WhoAmI)
}

fn log(a: &[Bytes]) -> Result<Command, OpError> {
    match a {
        [_, _] => ok(AclCmd::Log(None)),
        [_, _, x] if x.eq_ignore_ascii_case(b"reset") => ok(AclCmd::LogReset),
        [_, _, x] => {
            // `getPositiveLongFromObjectOrReply` with the generic integer error; a negative
            // count is accepted by Redis and shows nothing.
            let n = parse_i64(x).ok_or(OpError::NotInteger)?;
            ok(AclCmd::Log(Some(usize::try_from(n).unwrap_or(0))))
        }
        _ => Err(sub_syntax(a)),
    }
}

fn setuser(a: &[Bytes]) -> Result<Command, OpError> {
    match a {
        [_, _, name, rules @ ..] => ok(AclCmd::SetUser {
            name: name.clone(),
            rules: rules.to_vec(),
        }),
        _ => Err(sub_syntax(a)),
    }
}

/// ACL HELP, in redis-server 7.0's words.
pub fn acl_help() -> Reply {
    const LINES: &[&str] = &[
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Prints this help.",
    ];
    Reply::Array(LINES.iter().map(|l| Reply::simple(l)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{parse, table};

    fn argv(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::from(w.to_string())).collect()
    }

    fn parsed(words: &[&str]) -> Result<AclCmd, String> {
        match parse(&argv(words)) {
            Ok(Command::Conn(ConnCmd::Acl(c))) => Ok(c),
            Ok(other) => Err(format!("{other:?}")),
            Err(e) => Err(crate::errors::error_text(&e)),
        }
    }

    #[test]
    fn subcommands_parse() {
        assert_eq!(parsed(&["acl", "whoami"]), Ok(AclCmd::WhoAmI));
        assert_eq!(parsed(&["ACL", "Cat"]), Ok(AclCmd::Cat(None)));
        assert_eq!(parsed(&["acl", "genpass"]), Ok(AclCmd::GenPass(256)));
        assert_eq!(parsed(&["acl", "genpass", "5"]), Ok(AclCmd::GenPass(5)));
        assert_eq!(parsed(&["acl", "log", "ReSeT"]), Ok(AclCmd::LogReset));
        assert_eq!(parsed(&["acl", "log", "-1"]), Ok(AclCmd::Log(Some(0))));
        assert_eq!(
            parsed(&["acl", "dryrun", "u", "get", "k"]),
            Ok(AclCmd::DryRun {
                user: Bytes::from("u"),
                args: argv(&["get", "k"])
            })
        );
    }

    #[test]
    fn errors_are_redis_texts() {
        assert_eq!(
            parsed(&["acl", "cat", "a", "b"]),
            Err(
                "ERR unknown subcommand or wrong number of arguments for 'cat'. Try ACL HELP."
                    .into()
            )
        );
        assert_eq!(
            parsed(&["acl", "whoami", "x"]),
            Err("ERR wrong number of arguments for 'acl|whoami' command".into())
        );
        assert_eq!(
            parsed(&["acl", "genpass", "0"]),
            Err("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096".into())
        );
        assert_eq!(
            parsed(&["acl", "genpass", "x"]),
            Err("ERR value is not an integer or out of range".into())
        );
        assert_eq!(
            parsed(&["acl", "log", "1", "2"]),
            Err(
                "ERR unknown subcommand or wrong number of arguments for 'log'. Try ACL HELP."
                    .into()
            )
        );
        assert_eq!(
            parsed(&["acl", "nosuch"]),
            Err("ERR unknown subcommand 'nosuch'. Try ACL HELP.".into())
        );
    }

    /// Arity, flags and categories as `COMMAND INFO acl` prints them on redis-server 7.0.15.
    #[test]
    fn table_matches_redis_7_0() {
        let expect: &[(&str, i32, &[&str], &[&str])] = &[
            ("acl|cat", -2, &["noscript", "loading", "stale"], &["slow"]),
            (
                "acl|deluser",
                -3,
                &["admin", "noscript", "loading", "stale"],
                &["admin", "slow", "dangerous"],
            ),
            (
                "acl|dryrun",
                -4,
                &["admin", "noscript", "loading", "stale"],
                &["admin", "slow", "dangerous"],
            ),
            (
                "acl|genpass",
                -2,
                &["noscript", "loading", "stale"],
                &["slow"],
            ),
            (
                "acl|getuser",
                3,
                &["admin", "noscript", "loading", "stale"],
                &["admin", "slow", "dangerous"],
            ),
            ("acl|help", 2, &["loading", "stale"], &["slow"]),
            (
                "acl|list",
                2,
                &["admin", "noscript", "loading", "stale"],
                &["admin", "slow", "dangerous"],
            ),
            (
                "acl|load",
                2,
                &["admin", "noscript", "loading", "stale"],
                &["admin", "slow", "dangerous"],
            ),
            (
                "acl|log",
                -2,
                &["admin", "noscript", "loading", "stale"],
                &["admin", "slow", "dangerous"],
            ),
            (
                "acl|save",
                2,
                &["admin", "noscript", "loading", "stale"],
                &["admin", "slow", "dangerous"],
            ),
            (
                "acl|setuser",
                -3,
                &["admin", "noscript", "loading", "stale"],
                &["admin", "slow", "dangerous"],
            ),
            (
                "acl|users",
                2,
                &["admin", "noscript", "loading", "stale"],
                &["admin", "slow", "dangerous"],
            ),
            (
                "acl|whoami",
                2,
                &["noscript", "loading", "stale"],
                &["slow"],
            ),
        ];
        assert_eq!(ACL_SUBS.len(), expect.len());
        for &(name, arity, flags, cats) in expect {
            let spec = table::lookup_fullname(name.as_bytes()).expect(name);
            assert_eq!(spec.arity, arity, "{name}");
            let got: Vec<&str> = table::FLAG_NAMES
                .iter()
                .filter(|(b, _)| spec.info_flags() & b != 0)
                .map(|(_, n)| *n)
                .collect();
            assert_eq!(got, flags, "{name}");
            let got: Vec<&str> = table::ACL_NAMES
                .iter()
                .filter(|(b, _)| spec.acl_categories() & b != 0)
                .map(|(_, n)| *n)
                .collect();
            let mut want = cats.to_vec();
            want.sort_by_key(|c| table::ACL_NAMES.iter().position(|(_, n)| n == c));
            assert_eq!(got, want, "{name}");
        }
        let top = table::lookup(b"acl").expect("acl");
        assert_eq!(top.acl_categories(), table::CAT_SLOW);
    }
}
