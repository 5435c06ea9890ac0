//! Unit tests of `docs.rs`: lowering to the expected op/command and Redis's exact error texts.
use super::*;
use crate::commands::tests::argv;

fn simple_set(items: &[&str]) -> Reply {
    Reply::Set(
        items
            .iter()
            .map(|s| Reply::Simple(Bytes::copy_from_slice(s.as_bytes())))
            .collect(),
    )
}

fn key_spec(flags: &[&str]) -> Reply {
    let b = |s: &str| Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()));
    Reply::Map(vec![
        (b("flags"), simple_set(flags)),
        (
            b("begin_search"),
            Reply::Map(vec![
                (b("type"), b("index")),
                (b("spec"), Reply::Map(vec![(b("index"), Reply::Int(1))])),
            ]),
        ),
        (
            b("find_keys"),
            Reply::Map(vec![
                (b("type"), b("range")),
                (
                    b("spec"),
                    Reply::Map(vec![
                        (b("lastkey"), Reply::Int(0)),
                        (b("keystep"), Reply::Int(1)),
                        (b("limit"), Reply::Int(0)),
                    ]),
                ),
            ]),
        ),
    ])
}

#[test]
fn info_of_get() {
    let Reply::Array(entries) = command_info(&argv(&["GET"])) else {
        panic!()
    };
    assert_eq!(
        entries,
        vec![Reply::Array(vec![
            Reply::Bulk(Bytes::from_static(b"get")),
            Reply::Int(2),
            simple_set(&["readonly", "fast"]),
            Reply::Int(1),
            Reply::Int(1),
            Reply::Int(1),
            simple_set(&["@read", "@string", "@fast"]),
            Reply::Set(vec![]),
            Reply::Set(vec![key_spec(&["RO", "access"])]),
            Reply::Set(vec![]),
        ])]
    );
}

#[test]
fn info_of_set_and_unknown() {
    let Reply::Array(entries) = command_info(&argv(&["set", "nosuch"])) else {
        panic!()
    };
    let Reply::Array(set) = &entries[0] else {
        panic!()
    };
    assert_eq!(set[1], Reply::Int(-3));
    assert_eq!(set[2], simple_set(&["write", "denyoom"]));
    assert_eq!(set[6], simple_set(&["@write", "@string", "@slow"]));
    let Reply::Set(specs) = &set[8] else { panic!() };
    let Reply::Map(spec) = &specs[0] else {
        panic!()
    };
    assert_eq!(spec[0].0, Reply::Bulk(Bytes::from_static(b"notes")));
    assert_eq!(
        spec[1].1,
        simple_set(&["RW", "access", "update", "variable_flags"])
    );
    assert_eq!(entries[1], Reply::Nil);
}

#[test]
fn containers_list_their_subcommands() {
    let Reply::Array(entries) = command_info(&argv(&["client"])) else {
        panic!()
    };
    let Reply::Array(client) = &entries[0] else {
        panic!()
    };
    let Reply::Array(subs) = &client[9] else {
        panic!()
    };
    assert_eq!(subs.len(), 10);
    let Reply::Array(kill) = command_info(&argv(&["client|kill"])) else {
        panic!()
    };
    let Reply::Array(kill) = &kill[0] else {
        panic!()
    };
    assert_eq!(kill[0], Reply::Bulk(Bytes::from_static(b"client|kill")));
}

#[test]
fn all_and_count() {
    let Reply::Array(all) = command_info(&[]) else {
        panic!()
    };
    assert_eq!(Reply::Int(all.len() as i64), command_count());
    let Reply::Array(list) = command_list(None) else {
        panic!()
    };
    assert!(list.len() > all.len());
    assert!(list.contains(&Reply::Bulk(Bytes::from_static(b"client|setname"))));
    let Reply::Array(strings) =
        command_list(Some(&ListFilter::AclCat(Bytes::from_static(b"STRING"))))
    else {
        panic!()
    };
    assert_eq!(strings.len(), 22);
    let Reply::Array(cfg) =
        command_list(Some(&ListFilter::Pattern(Bytes::from_static(b"config|*"))))
    else {
        panic!()
    };
    assert_eq!(cfg.len(), 4);
    assert_eq!(
        command_list(Some(&ListFilter::Module(Bytes::new()))),
        Reply::Array(vec![])
    );
}

#[test]
fn docs() {
    let Reply::Map(docs) = command_docs(&argv(&["getset", "nosuch"])) else {
        panic!()
    };
    assert_eq!(docs.len(), 1);
    let Reply::Map(fields) = &docs[0].1 else {
        panic!()
    };
    let keys: Vec<_> = fields.iter().map(|(k, _)| k.clone()).collect();
    let bulk = |s: &'static str| Reply::Bulk(Bytes::from_static(s.as_bytes()));
    assert_eq!(
        keys,
        vec![
            bulk("summary"),
            bulk("since"),
            bulk("group"),
            bulk("complexity"),
            bulk("doc_flags"),
            bulk("deprecated_since"),
            bulk("replaced_by"),
        ]
    );
    let Reply::Map(all) = command_docs(&[]) else {
        panic!()
    };
    assert_eq!(Reply::Int(all.len() as i64), command_count());
}

#[test]
fn getkeys() {
    let keys = |parts: &[&str]| command_getkeys(&argv(parts));
    let bulks = |items: &[&str]| {
        Ok(Reply::Array(
            items
                .iter()
                .map(|s| Reply::Bulk(Bytes::copy_from_slice(s.as_bytes())))
                .collect(),
        ))
    };
    assert_eq!(keys(&["get", "k"]), bulks(&["k"]));
    assert_eq!(keys(&["mset", "a", "1", "b", "2"]), bulks(&["a", "b"]));
    assert_eq!(keys(&["rename", "a", "b"]), bulks(&["a", "b"]));
    assert_eq!(keys(&["object", "encoding", "k"]), bulks(&["k"]));
    assert_eq!(keys(&["del", "a", "b", "c"]), bulks(&["a", "b", "c"]));
    let e = |s: &str| Err(OpError::Other(s.to_owned()));
    assert_eq!(keys(&["nosuch", "k"]), e("ERR Invalid command specified"));
    assert_eq!(
        keys(&["ping", "k"]),
        e("ERR The command has no key arguments")
    );
    assert_eq!(keys(&["object"]), e("ERR The command has no key arguments"));
    assert_eq!(
        keys(&["get"]),
        e("ERR Invalid number of arguments specified for command")
    );
    assert_eq!(
        keys(&["object", "nosuch", "k"]),
        e("ERR Invalid command specified")
    );
}

#[test]
fn getkeys_and_flags_of_set() {
    let with_get = command_getkeys_and_flags(&argv(&["set", "k", "v", "get"]));
    let flags = |items: &[&str]| {
        Ok(Reply::Array(vec![Reply::Array(vec![
            Reply::Bulk(Bytes::from_static(b"k")),
            simple_set(items),
        ])]))
    };
    assert_eq!(with_get, flags(&["RW", "access", "update"]));
    assert_eq!(
        command_getkeys_and_flags(&argv(&["set", "k", "v"])),
        flags(&["OW", "update"])
    );
}

#[test]
fn help_replies() {
    let Reply::Array(lines) = client_help() else {
        panic!()
    };
    assert_eq!(
        lines[0],
        Reply::simple("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
    );
    assert_eq!(lines[lines.len() - 2], Reply::simple("HELP"));
    assert_eq!(
        lines[lines.len() - 1],
        Reply::simple("    Print this help.")
    );
    for reply in [config_help(), object_help(), command_help(), debug_help()] {
        assert!(matches!(reply, Reply::Array(ref l) if l.len() > 3));
    }
    assert_eq!(command_reply(&CommandSub::Count), Ok(command_count()));
}
