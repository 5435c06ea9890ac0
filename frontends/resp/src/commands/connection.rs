//! The connection family (PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET, CLIENT *): table
//! entries and parsers lowering to [`ConnCmd`], with the texts of Redis 7's networking.c.
//!
//! Invariants: client names and SETINFO values are validated here (printable ASCII, no
//! spaces); client types are normalised to `normal`/`master`/`replica`/`pubsub`.

use bytes::Bytes;
use moon_engine::DATABASES;
use moon_engine::ir::OpError;

use super::args::{
    arity_err, bad_client_name, c_int, err, is, is_valid_client_name, on_off, parse_i64, show,
};
use super::table::{
    ADMIN, ALLOW_BUSY, CONNECTION, CommandSpec, FAST, LOADING, NO_AUTH, NOSCRIPT, STALE, doc,
};
use super::{ClientInfoAttr, ClientKillFilter, Command, ConnCmd, KillFilters, container_arity};

const G: &str = "connection";
const O1: &str = "O(1)";
const CLIENT_N: &str = "O(N) where N is the number of client connections";
const BASE: u32 = NOSCRIPT | LOADING | STALE;
const HANDSHAKE: u32 = BASE | FAST | NO_AUTH | ALLOW_BUSY;

pub static AUTH: CommandSpec = CommandSpec::new(
    "auth",
    -2,
    HANDSHAKE,
    CONNECTION,
    &[],
    doc(
        G,
        "1.0.0",
        "Authenticates the connection.",
        "O(N) where N is the number of passwords defined for the user",
    ),
    auth,
);
pub static ECHO: CommandSpec = CommandSpec::new(
    "echo",
    2,
    LOADING | STALE | FAST,
    CONNECTION,
    &[],
    doc(G, "1.0.0", "Returns the given string.", O1),
    echo,
);
pub static HELLO: CommandSpec = CommandSpec::new(
    "hello",
    -1,
    HANDSHAKE,
    CONNECTION,
    &[],
    doc(G, "6.0.0", "Handshakes with the Redis server.", O1),
    hello,
);
pub static PING: CommandSpec = CommandSpec::new(
    "ping",
    -1,
    FAST,
    CONNECTION,
    &[],
    doc(G, "1.0.0", "Returns the server's liveliness response.", O1),
    ping,
)
.tips(&["request_policy:all_shards", "response_policy:all_succeeded"]);
pub static QUIT: CommandSpec = CommandSpec::new(
    "quit",
    -1,
    HANDSHAKE,
    CONNECTION,
    &[],
    doc(G, "1.0.0", "Closes the connection.", O1)
        .deprecated("7.2.0", "just closing the connection"),
    quit,
);
pub static RESET: CommandSpec = CommandSpec::new(
    "reset",
    1,
    HANDSHAKE,
    CONNECTION,
    &[],
    doc(G, "6.2.0", "Resets the connection.", O1),
    reset,
);
pub static SELECT: CommandSpec = CommandSpec::new(
    "select",
    2,
    LOADING | STALE | FAST,
    CONNECTION,
    &[],
    doc(G, "1.0.0", "Changes the selected database.", O1),
    select,
);

pub static CLIENT: CommandSpec = CommandSpec::new(
    "client",
    -2,
    0,
    0,
    &[],
    doc(
        G,
        "2.4.0",
        "A container for client connection commands.",
        "Depends on subcommand.",
    ),
    container_arity,
)
.with_subs(CLIENT_SUBS);
static CLIENT_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "client|getname",
        2,
        BASE,
        CONNECTION,
        &[],
        doc(G, "2.6.9", "Returns the name of the connection.", O1),
        client_getname,
    ),
    CommandSpec::new(
        "client|help",
        2,
        LOADING | STALE,
        CONNECTION,
        &[],
        doc(
            G,
            "5.0.0",
            "Returns helpful text about the different subcommands.",
            O1,
        ),
        client_help,
    ),
    CommandSpec::new(
        "client|id",
        2,
        BASE,
        CONNECTION,
        &[],
        doc(
            G,
            "5.0.0",
            "Returns the unique client ID of the connection.",
            O1,
        ),
        client_id,
    ),
    CommandSpec::new(
        "client|info",
        2,
        BASE,
        CONNECTION,
        &[],
        doc(G, "6.2.0", "Returns information about the connection.", O1),
        client_info,
    )
    .tips(&["nondeterministic_output"]),
    CommandSpec::new(
        "client|kill",
        -3,
        ADMIN | BASE,
        CONNECTION,
        &[],
        doc(G, "2.4.0", "Terminates open connections.", CLIENT_N),
        client_kill,
    ),
    CommandSpec::new(
        "client|list",
        -2,
        ADMIN | BASE,
        CONNECTION,
        &[],
        doc(G, "2.4.0", "Lists open connections.", CLIENT_N),
        client_list,
    )
    .tips(&["nondeterministic_output"]),
    CommandSpec::new(
        "client|no-evict",
        3,
        ADMIN | BASE,
        CONNECTION,
        &[],
        doc(
            G,
            "7.0.0",
            "Sets the client eviction mode of the connection.",
            O1,
        ),
        client_no_evict,
    ),
    CommandSpec::new(
        "client|no-touch",
        3,
        BASE,
        CONNECTION,
        &[],
        doc(
            G,
            "7.2.0",
            "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
            O1,
        ),
        client_no_touch,
    ),
    CommandSpec::new(
        "client|pause",
        -3,
        ADMIN | BASE,
        CONNECTION,
        &[],
        doc(G, "3.0.0", "Suspends commands processing.", O1),
        client_pause,
    ),
    CommandSpec::new(
        "client|setinfo",
        4,
        BASE,
        CONNECTION,
        &[],
        doc(
            G,
            "7.2.0",
            "Sets information specific to the client or connection.",
            O1,
        ),
        client_setinfo,
    ),
    CommandSpec::new(
        "client|setname",
        3,
        BASE,
        CONNECTION,
        &[],
        doc(G, "2.6.9", "Sets the connection name.", O1),
        client_setname,
    ),
    CommandSpec::new(
        "client|unpause",
        2,
        ADMIN | BASE,
        CONNECTION,
        &[],
        doc(
            G,
            "6.2.0",
            "Resumes processing commands from paused clients.",
            "O(N) Where N is the number of paused clients",
        ),
        client_unpause,
    ),
];

fn conn(cmd: ConnCmd) -> Result<Command, OpError> {
    Ok(Command::Conn(cmd))
}

fn ping(a: &[Bytes]) -> Result<Command, OpError> {
    match a {
        [_] => conn(ConnCmd::Ping(None)),
        [_, msg] => conn(ConnCmd::Ping(Some(msg.clone()))),
        _ => Err(arity_err("ping")),
    }
}

fn echo(a: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::Echo(a[1].clone()))
}

fn quit(_: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::Quit)
}

fn reset(_: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::Reset)
}

fn select(a: &[Bytes]) -> Result<Command, OpError> {
    let id = c_int(&a[1], None)?;
    let db = usize::try_from(id).ok().filter(|&db| db < DATABASES);
    conn(ConnCmd::Select(db.ok_or(OpError::DbIndexOutOfRange)?))
}

fn auth(a: &[Bytes]) -> Result<Command, OpError> {
    match a {
        [_, pass] => conn(ConnCmd::Auth {
            user: None,
            pass: pass.clone(),
        }),
        [_, user, pass] => conn(ConnCmd::Auth {
            user: Some(user.clone()),
            pass: pass.clone(),
        }),
        _ => Err(OpError::Syntax),
    }
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]] (`helloCommand`).
fn hello(a: &[Bytes]) -> Result<Command, OpError> {
    let mut proto = None;
    if let Some(ver) = a.get(1) {
        let ver = parse_i64(ver)
            .ok_or_else(|| err("Protocol version is not an integer or out of range"))?;
        match u8::try_from(ver) {
            Ok(v @ (2 | 3)) => proto = Some(v),
            _ => {
                return Err(OpError::Other(
                    "NOPROTO unsupported protocol version".into(),
                ));
            }
        }
    }
    let (mut auth, mut setname) = (None, None);
    let mut j = 2;
    while j < a.len() {
        let more = a.len() - 1 - j;
        if is(&a[j], "auth") && more >= 2 {
            auth = Some((a[j + 1].clone(), a[j + 2].clone()));
            j += 2;
        } else if is(&a[j], "setname") && more >= 1 {
            if !is_valid_client_name(&a[j + 1]) {
                return Err(bad_client_name());
            }
            setname = Some(a[j + 1].clone());
            j += 1;
        } else {
            return Err(err(format!(
                "Syntax error in HELLO option '{}'",
                show(&a[j])
            )));
        }
        j += 1;
    }
    conn(ConnCmd::Hello {
        proto,
        auth,
        setname,
    })
}

fn client_id(_: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::ClientId)
}

fn client_info(_: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::ClientInfo)
}

fn client_getname(_: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::ClientGetName)
}

fn client_help(_: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::ClientHelp)
}

fn client_setname(a: &[Bytes]) -> Result<Command, OpError> {
    if !is_valid_client_name(&a[2]) {
        return Err(bad_client_name());
    }
    conn(ConnCmd::ClientSetName(a[2].clone()))
}

fn client_no_evict(a: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::ClientNoEvict(on_off(&a[2])?))
}

fn client_no_touch(a: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::ClientNoTouch(on_off(&a[2])?))
}

fn client_setinfo(a: &[Bytes]) -> Result<Command, OpError> {
    let attr = if is(&a[2], "lib-name") {
        ClientInfoAttr::LibName
    } else if is(&a[2], "lib-ver") {
        ClientInfoAttr::LibVer
    } else {
        return Err(err(format!("Unrecognized option '{}'", show(&a[2]))));
    };
    if !is_valid_client_name(&a[3]) {
        let msg = format!(
            "{} cannot contain spaces, newlines or special characters.",
            show(&a[2])
        );
        return Err(err(msg));
    }
    conn(ConnCmd::ClientSetInfo {
        attr,
        value: a[3].clone(),
    })
}

/// CLIENT PAUSE timeout [WRITE|ALL] (`clientCommand`): the mode is checked before the timeout,
/// as Redis does; the server adds the timeout to its clock.
fn client_pause(a: &[Bytes]) -> Result<Command, OpError> {
    let all = match a {
        [_, _, _] => true,
        [_, _, _, mode] if is(mode, "write") => false,
        [_, _, _, mode] if is(mode, "all") => true,
        [_, _, _, _] => return Err(err("CLIENT PAUSE mode must be WRITE or ALL")),
        _ => return Err(super::server::subcommand_syntax_error(&a[0], &a[1])),
    };
    let timeout =
        parse_i64(&a[2]).ok_or_else(|| err("timeout is not an integer or out of range"))?;
    let timeout_ms = u64::try_from(timeout).map_err(|_| err("timeout is negative"))?;
    conn(ConnCmd::ClientPause { timeout_ms, all })
}

fn client_unpause(_: &[Bytes]) -> Result<Command, OpError> {
    conn(ConnCmd::ClientUnpause)
}

/// `getClientTypeByName`, normalised (`slave` is `replica`).
fn client_type(name: &[u8]) -> Result<Bytes, OpError> {
    const TYPES: &[(&str, &[u8])] = &[
        ("normal", b"normal"),
        ("master", b"master"),
        ("replica", b"replica"),
        ("slave", b"replica"),
        ("pubsub", b"pubsub"),
    ];
    TYPES
        .iter()
        .find(|(t, _)| is(name, t))
        .map(|&(_, canonical)| Bytes::from_static(canonical))
        .ok_or_else(|| err(format!("Unknown client type '{}'", show(name))))
}

/// CLIENT LIST [TYPE type] | [ID id [id ...]].
fn client_list(a: &[Bytes]) -> Result<Command, OpError> {
    match a {
        [_, _] => conn(ConnCmd::ClientList {
            ids: Vec::new(),
            type_: None,
        }),
        [_, _, opt, t] if is(opt, "type") => conn(ConnCmd::ClientList {
            ids: Vec::new(),
            type_: Some(client_type(t)?),
        }),
        [_, _, opt, ids @ ..] if is(opt, "id") && !ids.is_empty() => {
            let ids = ids
                .iter()
                .map(|id| parse_i64(id).ok_or_else(|| err("Invalid client ID")))
                // Client ids start at 1, so a negative id (which matches nothing) becomes 0.
                .map(|id| id.map(|id| u64::try_from(id).unwrap_or(0)))
                .collect::<Result<Vec<_>, _>>()?;
            conn(ConnCmd::ClientList { ids, type_: None })
        }
        _ => Err(OpError::Syntax),
    }
}

/// CLIENT KILL addr | CLIENT KILL <filter> <value> ... (`clientKillCommand`).
fn client_kill(a: &[Bytes]) -> Result<Command, OpError> {
    if let [_, _, addr] = a {
        return conn(ConnCmd::ClientKill(ClientKillFilter::Legacy(addr.clone())));
    }
    let mut f = KillFilters {
        skipme: true,
        ..KillFilters::default()
    };
    let mut i = 2;
    while i < a.len() {
        let Some(value) = a.get(i + 1) else {
            return Err(OpError::Syntax);
        };
        let opt = &a[i];
        if is(opt, "id") {
            let id = parse_i64(value)
                .and_then(|id| u64::try_from(id).ok())
                .filter(|&id| id >= 1);
            f.id = Some(id.ok_or_else(|| err("client-id should be greater than 0"))?);
        } else if is(opt, "type") {
            f.type_ = Some(client_type(value)?);
        } else if is(opt, "addr") {
            f.addr = Some(value.clone());
        } else if is(opt, "laddr") {
            f.laddr = Some(value.clone());
        } else if is(opt, "user") {
            f.user = Some(value.clone());
        } else if is(opt, "skipme") {
            f.skipme = if is(value, "yes") {
                true
            } else if is(value, "no") {
                false
            } else {
                return Err(OpError::Syntax);
            };
        } else if is(opt, "maxage") {
            let age = parse_i64(value);
            f.maxage = Some(age.ok_or_else(|| err("maxage is not an integer or out of range"))?);
        } else {
            return Err(OpError::Syntax);
        }
        i += 2;
    }
    conn(ConnCmd::ClientKill(ClientKillFilter::Filters(f)))
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
