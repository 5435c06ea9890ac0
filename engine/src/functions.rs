//! The FUNCTION library catalog of a shard: every library's name and full code (shebang
//! included), as FUNCTION LOAD/DELETE/FLUSH/RESTORE leave it, with a version the Lua runtime
//! compares to know when to recompile. Also the pure-data parts of Redis 7.0's `function.c`
//! that need no Lua: the shebang parser (`functionExtractLibMetaData` + the name and engine
//! checks of `functionsCreateWithLibraryCtx`) and the FUNCTION DUMP/RESTORE payload codec.
//!
//! Invariants:
//! - every shard holds an identical catalog: the server applies each catalog write
//!   ([`FunctionOp`]) on all shards, and execution here is deterministic;
//! - a library's key is the `name=` of its own shebang (the parsers guarantee it), so a
//!   catalog rebuilt from codes alone (a DUMP payload, a snapshot) is the same catalog;
//! - `version` changes on every successful write, never on a read;
//! - `bytes` is exactly the sum of `name.len() + code.len()` over the libraries.
//!
//! Lua compile errors and function-name collisions across libraries are the runtime's to
//! check before it hands the op to the shards; nothing here runs Lua.

use std::collections::BTreeMap;

use bytes::Bytes;
use moon_formats::rdb::{self, Reader, Writer};

use crate::ir::ops::{FunctionOp, RestorePolicy};
use crate::ir::{OpError, Reply};
use crate::splitargs::split_args;

/// `RDB_OPCODE_FUNCTION2`: one library's code as an RDB string follows.
pub const RDB_OPCODE_FUNCTION2: u8 = 245;
/// `RDB_OPCODE_FUNCTION_PRE_GA`: 7.0 release candidates' layout (name, engine, optional
/// description, code), still accepted by RESTORE as 7.0 does.
pub const RDB_OPCODE_FUNCTION_PRE_GA: u8 = 246;

/// Per-library bookkeeping counted by [`FunctionCatalog::mem_bytes`] on top of the bytes of
/// name and code (two `Bytes` handles plus the map node's share).
const LIB_OVERHEAD: usize = 2 * std::mem::size_of::<Bytes>() + 16;

/// The libraries of a shard, by name (byte order), and the catalog version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionCatalog {
    libs: BTreeMap<Bytes, Bytes>,
    version: u64,
    bytes: usize,
}

impl FunctionCatalog {
    /// An empty catalog at version 0.
    pub fn new() -> FunctionCatalog {
        FunctionCatalog::default()
    }

    /// The code of library `name`.
    pub fn get(&self, name: &[u8]) -> Option<&Bytes> {
        self.libs.get(name)
    }

    /// `(name, code)` of every library, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &Bytes)> {
        self.libs.iter()
    }

    /// Number of libraries.
    pub fn len(&self) -> usize {
        self.libs.len()
    }

    /// True without libraries.
    pub fn is_empty(&self) -> bool {
        self.libs.is_empty()
    }

    /// Bumped by every change: a runtime that compiled another version must reload.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Adds or replaces library `name`.
    pub fn insert(&mut self, name: Bytes, code: Bytes) {
        self.bytes += name.len() + code.len();
        if let Some(old) = self.libs.insert(name.clone(), code) {
            self.bytes -= name.len() + old.len();
        }
        self.changed();
    }

    /// Removes library `name`; false if there is none.
    pub fn remove(&mut self, name: &[u8]) -> bool {
        match self.libs.remove(name) {
            Some(code) => {
                self.bytes -= name.len() + code.len();
                self.changed();
                true
            }
            None => false,
        }
    }

    /// Removes every library.
    pub fn clear(&mut self) {
        self.libs.clear();
        self.bytes = 0;
        self.changed();
    }

    /// Replaces the whole catalog by `libs` (a later duplicate name wins).
    pub fn replace_all(&mut self, libs: Vec<(Bytes, Bytes)>) {
        self.libs.clear();
        self.bytes = 0;
        for (name, code) in libs {
            self.bytes += name.len() + code.len();
            if let Some(old) = self.libs.insert(name.clone(), code) {
                self.bytes -= name.len() + old.len();
            }
        }
        self.changed();
    }

    /// `(name, code)` pairs of every library, in name order (cheap: reference counts).
    pub fn to_vec(&self) -> Vec<(Bytes, Bytes)> {
        self.libs
            .iter()
            .map(|(n, c)| (n.clone(), c.clone()))
            .collect()
    }

    /// Estimated heap bytes held by the catalog.
    pub fn mem_bytes(&self) -> usize {
        self.bytes + self.libs.len() * LIB_OVERHEAD
    }

    /// FUNCTION DUMP's payload of the whole catalog.
    pub fn dump(&self) -> Vec<u8> {
        dump_payload(self.libs.values())
    }

    fn changed(&mut self) {
        self.version = self.version.wrapping_add(1);
        debug_assert_eq!(
            self.bytes,
            self.libs
                .iter()
                .map(|(n, c)| n.len() + c.len())
                .sum::<usize>()
        );
    }

    /// Executes a catalog op with Redis 7.0's replies and error texts (the checks that need
    /// Lua were done by the runtime before).
    pub fn apply(&mut self, op: &FunctionOp) -> Reply {
        match op {
            FunctionOp::Load {
                name,
                code,
                replace,
            } => {
                if !replace && self.libs.contains_key(name) {
                    return already_exists_quoted(name).into();
                }
                self.insert(name.clone(), code.clone());
                Reply::Bulk(name.clone())
            }
            FunctionOp::Delete { name } => {
                if self.remove(name) {
                    Reply::Ok
                } else {
                    OpError::Other("ERR Library not found".into()).into()
                }
            }
            FunctionOp::Flush => {
                self.clear();
                Reply::Ok
            }
            FunctionOp::Dump => Reply::Bulk(Bytes::from(self.dump())),
            FunctionOp::Restore { libs, policy } => {
                match policy {
                    RestorePolicy::Flush => self.replace_all(libs.clone()),
                    RestorePolicy::Append | RestorePolicy::Replace => {
                        if *policy == RestorePolicy::Append
                            && let Some((name, _)) =
                                libs.iter().find(|(n, _)| self.libs.contains_key(n))
                        {
                            // `libraryJoin`'s text: no quotes around the name.
                            return OpError::Other(format!(
                                "ERR Library {} already exists",
                                String::from_utf8_lossy(c_str(name))
                            ))
                            .into();
                        }
                        for (name, code) in libs {
                            self.bytes += name.len() + code.len();
                            if let Some(old) = self.libs.insert(name.clone(), code.clone()) {
                                self.bytes -= name.len() + old.len();
                            }
                        }
                        self.changed();
                    }
                }
                Reply::Ok
            }
        }
    }
}

/// `Library '<name>' already exists` (`functionsCreateWithLibraryCtx`'s text).
fn already_exists_quoted(name: &[u8]) -> OpError {
    OpError::Other(format!(
        "ERR Library '{}' already exists",
        String::from_utf8_lossy(name)
    ))
}

/// The bytes before the first NUL, as a C `%s` prints them.
fn c_str(b: &[u8]) -> &[u8] {
    &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]
}

/// What a library's shebang line declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryMeta {
    /// The engine after `#!` (Redis matches it case-insensitively; only `lua` exists).
    pub engine: Bytes,
    /// The `name=` value, checked against Redis's library-name charset.
    pub name: Bytes,
}

/// Parses the shebang of a library's code exactly as Redis 7.0 does
/// (`functionExtractLibMetaData`, then the name charset check and the engine lookup of
/// `functionsCreateWithLibraryCtx`), with its error texts.
pub fn parse_metadata(code: &[u8]) -> Result<LibraryMeta, OpError> {
    let err = |s: &str| OpError::Other(format!("ERR {s}"));
    if !code.starts_with(b"#!") {
        return Err(err("Missing library metadata"));
    }
    // Redis finds the line end with `strchr`: a NUL before it hides it.
    let line_end = code
        .iter()
        .position(|&b| b == b'\n' || b == 0)
        .filter(|&i| code.get(i) == Some(&b'\n'))
        .ok_or_else(|| err("Invalid library metadata"))?;
    let parts = match split_args(&code[..line_end]) {
        Some(parts) if !parts.is_empty() => parts,
        _ => return Err(err("Invalid library metadata")),
    };
    let engine = parts[0].get(2..).unwrap_or_default().to_vec();
    let mut name: Option<Vec<u8>> = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(err(
                    "Invalid metadata value, name argument was given multiple times",
                ));
            }
            name = Some(part[5..].to_vec());
            continue;
        }
        return Err(OpError::Other(format!(
            "ERR Invalid metadata value given: {}",
            String::from_utf8_lossy(c_str(part))
        )));
    }
    let name = name.ok_or_else(|| err("Library name was not given"))?;
    if !is_valid_library_name(&name) {
        return Err(err(
            "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
        ));
    }
    if !engine.eq_ignore_ascii_case(b"lua") {
        return Err(OpError::Other(format!(
            "ERR Engine '{}' not found",
            String::from_utf8_lossy(&engine)
        )));
    }
    Ok(LibraryMeta {
        engine: Bytes::from(engine),
        name: Bytes::from(name),
    })
}

/// `functionsVerifyName`: at least one character, all `[A-Za-z0-9_]`.
pub fn is_valid_library_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// C `isspace` in the C locale.
/// FUNCTION DUMP's payload of `codes` (Redis 7.0's `functionDumpCommand`): for each library
/// `RDB_OPCODE_FUNCTION2` and its code as an RDB string (LZF when it pays, as
/// `rdbSaveRawString`), then the RDB version and the CRC-64 footer of a DUMP payload.
pub fn dump_payload<'a>(codes: impl IntoIterator<Item = &'a Bytes>) -> Vec<u8> {
    let mut w = Writer::new();
    for code in codes {
        w.u8(RDB_OPCODE_FUNCTION2);
        w.string(code);
    }
    rdb::seal_payload(w.buf)
}

/// Decodes a FUNCTION RESTORE payload into `(name, code)` pairs in payload order, with Redis
/// 7.0's checks and texts (`functionRestoreCommand` / `rdbFunctionLoad`): the footer, each
/// opcode, each string, each shebang, and no library twice in one payload.
pub fn decode_dump_payload(payload: &[u8]) -> Result<Vec<(Bytes, Bytes)>, OpError> {
    let err = |s: &str| OpError::Other(format!("ERR {s}"));
    let object = rdb::open_payload(payload)
        .ok_or_else(|| err("DUMP payload version or checksum are wrong"))?;
    let mut r = Reader::new(object);
    let mut libs: Vec<(Bytes, Bytes)> = Vec::new();
    while !r.at_end() {
        let code = match r.u8() {
            Some(RDB_OPCODE_FUNCTION2) => r
                .string()
                .ok_or_else(|| err("Failed loading library payload"))?,
            Some(RDB_OPCODE_FUNCTION_PRE_GA) => pre_ga_code(&mut r)?,
            Some(_) => return Err(err("given type is not a function")),
            None => return Err(err("can not read data type")),
        };
        let meta = parse_metadata(&code)?;
        if libs.iter().any(|(n, _)| *n == meta.name) {
            return Err(already_exists_quoted(&meta.name));
        }
        libs.push((meta.name, Bytes::from(code)));
    }
    Ok(libs)
}

/// A 7.0-RC library (name, engine, optional description, code) as the code Redis makes of it:
/// `#!<engine> name=<name>\n<code>`.
fn pre_ga_code(r: &mut Reader<'_>) -> Result<Vec<u8>, OpError> {
    let err = |s: &str| OpError::Other(format!("ERR {s}"));
    let name = r
        .string()
        .ok_or_else(|| err("Failed loading library name"))?;
    let engine = r
        .string()
        .ok_or_else(|| err("Failed loading engine name"))?;
    let has_desc = r
        .length()
        .ok_or_else(|| err("Failed loading library description indicator"))?;
    if has_desc != 0 {
        r.string()
            .ok_or_else(|| err("Failed loading library description"))?;
    }
    let blob = r
        .string()
        .ok_or_else(|| err("Failed loading library blob"))?;
    let mut code = b"#!".to_vec();
    code.extend_from_slice(c_str(&engine));
    code.extend_from_slice(b" name=");
    code.extend_from_slice(c_str(&name));
    code.push(b'\n');
    code.extend_from_slice(c_str(&blob));
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const MYLIB: &str = "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)";
    const LIB2: &str =
        "#!lua name=lib2\nredis.register_function('f2', function(keys, args) return 2 end)";

    /// FUNCTION DUMP of redis-server 7.0.15 holding `lib2` and `mylib` (the second code is
    /// LZF-compressed, the first raw).
    const REDIS_DUMP: &str = "f5405023216c7561206e616d653d6c6962320a72656469732e72656769737465725f66756e6374696f6e28276632272c2066756e6374696f6e286b6579732c2061726773292072657475726e203220656e6429f5c34056405b1f23216c7561206e616d653d6d796c69620a72656469732e72656769737465725f0b66756e6374696f6e28276d79400b02272c2040066012116b6579732c2061726773292072657475726e600c075b315d20656e64290a007a656030d30fd6a7";

    fn err(op: Reply) -> String {
        match op {
            Reply::Err(OpError::Other(s)) => s,
            other => panic!("not an error: {other:?}"),
        }
    }

    #[test]
    fn catalog_bookkeeping() {
        let mut c = FunctionCatalog::new();
        assert!(c.is_empty());
        assert_eq!((c.version(), c.mem_bytes()), (0, 0));
        c.insert(b("a"), b("#!lua name=a\n1"));
        c.insert(b("b"), b("#!lua name=b\n22"));
        assert_eq!(c.len(), 2);
        assert_eq!(c.version(), 2);
        assert_eq!(c.mem_bytes(), 1 + 14 + 1 + 15 + 2 * LIB_OVERHEAD);
        c.insert(b("a"), b("#!lua name=a\n333"));
        assert_eq!(c.get(b"a"), Some(&b("#!lua name=a\n333")));
        assert_eq!(c.mem_bytes(), 1 + 16 + 1 + 15 + 2 * LIB_OVERHEAD);
        let names: Vec<&Bytes> = c.iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec![&b("a"), &b("b")]);
        assert!(c.remove(b"a"));
        assert!(!c.remove(b"a"));
        assert_eq!(c.version(), 4);
        assert_eq!(c.mem_bytes(), 1 + 15 + LIB_OVERHEAD);
        c.replace_all(vec![(b("x"), b("1")), (b("y"), b("2")), (b("x"), b("3"))]);
        assert_eq!(c.to_vec(), vec![(b("x"), b("3")), (b("y"), b("2"))]);
        assert_eq!(c.mem_bytes(), 4 + 2 * LIB_OVERHEAD);
        c.clear();
        assert!(c.is_empty());
        assert_eq!((c.version(), c.mem_bytes()), (6, 0));
    }

    #[test]
    fn ops_have_redis_replies_and_errors() {
        let mut c = FunctionCatalog::new();
        let load = |name: &str, replace| FunctionOp::Load {
            name: b(name),
            code: b(&format!("#!lua name={name}\nreturn {}", u8::from(replace))),
            replace,
        };
        assert_eq!(c.apply(&load("mylib", false)), Reply::Bulk(b("mylib")));
        assert_eq!(
            err(c.apply(&load("mylib", false))),
            "ERR Library 'mylib' already exists"
        );
        assert_eq!(c.get(b"mylib"), Some(&b("#!lua name=mylib\nreturn 0")));
        assert_eq!(c.apply(&load("mylib", true)), Reply::Bulk(b("mylib")));
        assert_eq!(c.get(b"mylib"), Some(&b("#!lua name=mylib\nreturn 1")));
        let version = c.version();
        assert_eq!(
            c.apply(&FunctionOp::Dump),
            Reply::Bulk(Bytes::from(c.dump()))
        );
        assert_eq!(c.version(), version, "a read does not change the version");
        assert_eq!(
            err(c.apply(&FunctionOp::Delete { name: b("nope") })),
            "ERR Library not found"
        );
        assert_eq!(c.apply(&FunctionOp::Delete { name: b("mylib") }), Reply::Ok);
        assert!(c.is_empty());
        assert_eq!(c.apply(&FunctionOp::Flush), Reply::Ok);

        c.insert(b("lib2"), b("old"));
        c.insert(b("keep"), b("k"));
        let libs = decode_dump_payload(&unhex(REDIS_DUMP)).unwrap();
        let restore = |policy| FunctionOp::Restore {
            libs: libs.clone(),
            policy,
        };
        assert_eq!(
            err(c.apply(&restore(RestorePolicy::Append))),
            "ERR Library lib2 already exists"
        );
        assert_eq!(
            c.get(b"lib2"),
            Some(&b("old")),
            "a failed APPEND changes nothing"
        );
        assert_eq!(c.get(b"mylib"), None);
        assert_eq!(c.apply(&restore(RestorePolicy::Replace)), Reply::Ok);
        assert_eq!(
            c.to_vec(),
            vec![
                (b("keep"), b("k")),
                (b("lib2"), b(LIB2)),
                (b("mylib"), b(MYLIB))
            ]
        );
        c.remove(b"lib2");
        c.remove(b"mylib");
        assert_eq!(c.apply(&restore(RestorePolicy::Append)), Reply::Ok);
        assert_eq!(c.len(), 3);
        assert_eq!(c.apply(&restore(RestorePolicy::Flush)), Reply::Ok);
        assert_eq!(
            c.to_vec(),
            vec![(b("lib2"), b(LIB2)), (b("mylib"), b(MYLIB))]
        );
    }

    /// Each case's text is what redis-server 7.0.15 answered to FUNCTION LOAD of that code.
    #[test]
    fn metadata_errors_match_redis() {
        let names = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";
        let cases: &[(&[u8], &str)] = &[
            (b"return 1", "Missing library metadata"),
            (b"#!lua name=x", "Invalid library metadata"),
            (b"#!lua name=n\0x\nreturn 1", "Invalid library metadata"),
            (b"#!lua \"name=a\nreturn 1", "Invalid library metadata"),
            (b"#!lua name=\"a\"b\nreturn 1", "Invalid library metadata"),
            (
                b"#!lua name=mylib3 foo=bar\nx",
                "Invalid metadata value given: foo=bar",
            ),
            (
                b"#!lua name=n\rx\nreturn 1",
                "Invalid metadata value given: x",
            ),
            (
                b"#!lua name=ab name\nx",
                "Invalid metadata value given: name",
            ),
            (
                b"#!lua NAME=a name=b\nx",
                "Invalid metadata value, name argument was given multiple times",
            ),
            (b"#!lua\nreturn 1", "Library name was not given"),
            (b"#!  \nreturn 1", "Library name was not given"),
            (b"#!lua name=x-y\nreturn 1", names),
            (b"#!lua name=\nreturn 1", names),
            (b"#!lua \"name=a b\"\nreturn 1", names),
            (b"#!xyz name=x-y\nreturn 1", names),
            (b"#!xyz name=ok\nreturn 1", "Engine 'xyz' not found"),
            (
                b"#!xyz foo=1 name=ok\nx",
                "Invalid metadata value given: foo=1",
            ),
        ];
        for (code, want) in cases {
            assert_eq!(
                parse_metadata(code),
                Err(OpError::Other(format!("ERR {want}"))),
                "{}",
                String::from_utf8_lossy(code)
            );
        }
        let ok: &[(&[u8], &str)] = &[
            (b"#!lua name=mylib\nx", "mylib"),
            (b"#!LUA name=mylib2\nx", "mylib2"),
            (b"#!lua Name=ab\nx", "ab"),
            (b"#!lua 'name=ab'\nx", "ab"),
            (b"#!lua name=q\"x\"\nx", "qx"),
            (b"#!lua name=x\n", "x"),
            (b"#!lua\tname=A_9  \nx", "A_9"),
        ];
        for (code, name) in ok {
            let meta = parse_metadata(code).unwrap_or_else(|e| panic!("{code:?}: {e:?}"));
            assert_eq!(meta.name, b(name));
            assert!(meta.engine.eq_ignore_ascii_case(b"lua"));
        }
    }

    #[test]
    fn redis_payload_restores_into_moon() {
        let libs = decode_dump_payload(&unhex(REDIS_DUMP)).unwrap();
        assert_eq!(libs, vec![(b("lib2"), b(LIB2)), (b("mylib"), b(MYLIB))]);
    }

    /// Three libraries: a long one (LZF-compressed in the payload), a short one (raw) and one
    /// whose code has bytes of every kind in a Lua string.
    fn moon_libs() -> Vec<(&'static str, String)> {
        let long = "-- padding padding padding padding padding padding padding\n".repeat(20);
        vec![
            (
                "alpha",
                format!("#!lua name=alpha\n{long}redis.register_function('fa', function() return 'a' end)"),
            ),
            ("b_2", "#!lua name=b_2\nredis.register_function('fb', function() return 2 end)".into()),
            (
                "Z9",
                "#!LUA name=Z9 \nredis.register_function{function_name='fz', callback=function() return '\\0\\255' end, flags={'no-writes'}}".into(),
            ),
        ]
    }

    /// Moon's FUNCTION DUMP of [`moon_libs`], which redis-server 7.0.15 accepted
    /// (`FUNCTION RESTORE <payload>` answered OK and FUNCTION LIST WITHCODE showed both codes).
    const MOON_DUMP: &str = "f5c3407140781f23214c5541206e616d653d5a39200a72656469732e72656769737465725f6675066e6374696f6e7bc008005f60291027667a272c2063616c6c6261636b3d6675801c1f28292072657475726e20275c305c3235352720656e642c20666c6167733d7b270b6e6f2d777269746573277d7df5c3406844e51a23216c7561206e616d653d616c7068610a2d2d2070616464696e67e02707e0ff3ae01607e0ff3ae01607e0ff3ae01607e0e43a1d72656469732e72656769737465725f66756e6374696f6e28276661272c20e0000e10292072657475726e2027612720656e6429f5404523216c7561206e616d653d625f320a72656469732e72656769737465725f66756e6374696f6e28276662272c2066756e6374696f6e28292072657475726e203220656e64290a00da20eedcac4466a2";

    #[test]
    fn moon_payload_is_what_redis_accepted() {
        let mut c = FunctionCatalog::new();
        for (name, code) in moon_libs() {
            c.insert(b(name), b(&code));
        }
        let dump = c.dump();
        assert_eq!(dump, unhex(MOON_DUMP));
        assert_eq!(dump[0], RDB_OPCODE_FUNCTION2);
        assert_eq!(decode_dump_payload(&dump).unwrap(), c.to_vec());
        assert_eq!(FunctionCatalog::new().dump(), rdb::seal_payload(Vec::new()));
    }

    fn sealed(object: &[u8]) -> Vec<u8> {
        rdb::seal_payload(object.to_vec())
    }

    /// Each text is what redis-server 7.0.15 answered to FUNCTION RESTORE of that payload.
    #[test]
    fn bad_payloads_have_redis_errors() {
        let lib = b"#!lua name=zz\nredis.register_function('zf', function() return 1 end)";
        let mut two = vec![RDB_OPCODE_FUNCTION2];
        let mut w = Writer::new();
        w.string(lib);
        two.extend_from_slice(&w.buf);
        two.push(RDB_OPCODE_FUNCTION2);
        two.extend_from_slice(&w.buf);
        let mut v13 = sealed(&two[..two.len() / 2]);
        let n = v13.len();
        // Newer than any RDB version Moon reads (7.0 also refuses 11 and 12, which Moon's
        // RESTORE accepts like 7.4's).
        v13[n - 10] = 13;
        let crc = rdb::crc64(0, &v13[..n - 8]);
        v13[n - 8..].copy_from_slice(&crc.to_le_bytes());
        let mut flipped = unhex(REDIS_DUMP);
        flipped[5] ^= 1;
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (sealed(b"\x00\x03abc"), "given type is not a function"),
            (sealed(b"\xf6\x03abc"), "Failed loading engine name"),
            (sealed(b"\xf5\x30abc"), "Failed loading library payload"),
            (sealed(b"\xf5\x08return 1"), "Missing library metadata"),
            (sealed(b"\xf5\xc0\x05"), "Missing library metadata"),
            (
                sealed(b"\xf5\x17#!lua name=a-b\nreturn 1"),
                "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
            ),
            (
                sealed(b"\xf5\x15#!py name=ab\nreturn 1"),
                "Engine 'py' not found",
            ),
            (sealed(&two), "Library 'zz' already exists"),
            (v13, "DUMP payload version or checksum are wrong"),
            (flipped, "DUMP payload version or checksum are wrong"),
            (
                b"short".to_vec(),
                "DUMP payload version or checksum are wrong",
            ),
        ];
        for (payload, want) in cases {
            assert_eq!(
                decode_dump_payload(&payload),
                Err(OpError::Other(format!("ERR {want}"))),
                "{payload:?}"
            );
        }
        assert_eq!(decode_dump_payload(&sealed(b"")), Ok(Vec::new()));
    }

    #[test]
    fn pre_ga_libraries_are_translated() {
        let mut w = Writer::new();
        w.u8(RDB_OPCODE_FUNCTION_PRE_GA);
        w.string(b"old");
        w.string(b"LUA");
        w.len(1);
        w.string(b"a description");
        w.string(b"redis.register_function('f', function() return 1 end)");
        let libs = decode_dump_payload(&rdb::seal_payload(w.buf)).unwrap();
        assert_eq!(
            libs,
            vec![(
                b("old"),
                b("#!LUA name=old\nredis.register_function('f', function() return 1 end)")
            )]
        );
    }

    fn tmpdir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("moon-functions-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn run(s: &mut crate::shard::Shard, op: FunctionOp) -> Reply {
        let ctx = crate::ir::ExecCtx {
            db: 0,
            now_ms: 1_700_000_000_000,
            no_touch: false,
        };
        s.apply(&ctx, &crate::ir::Op::Functions(op))
    }

    /// The catalog goes through a snapshot file (section 2, written right after begin) and
    /// recovery loads it back; writes after `snapshot_begin` are not in the image.
    #[test]
    fn snapshot_carries_the_catalog() {
        use crate::persist::recover::{RecoveryOptions, recover};
        use crate::shard::{Shard, ShardConfig};
        use moon_formats::snapshot::{SnapshotHeader, SnapshotWriter, snapshot_file_name};

        let mut s = Shard::new(0, ShardConfig::default());
        for (name, code) in moon_libs() {
            let op = FunctionOp::Load {
                name: b(name),
                code: b(&code),
                replace: false,
            };
            assert_eq!(run(&mut s, op), Reply::Bulk(b(name)));
        }
        let set = crate::ir::Op::Set {
            key: b("k"),
            value: b("v"),
            cond: crate::ir::SetCond::Always,
            expire: crate::ir::ExpireSpec::Clear,
            get: false,
        };
        let ctx = crate::ir::ExecCtx {
            db: 0,
            now_ms: 1_700_000_000_000,
            no_touch: false,
        };
        assert_eq!(s.apply(&ctx, &set), Reply::Ok);
        let before = s.functions().to_vec();

        let mut w = SnapshotWriter::new(Vec::new(), &SnapshotHeader::new(0, 1, 0, 0)).unwrap();
        s.snapshot_begin().unwrap();
        s.snapshot_functions(&mut |n, c| w.add_function(n, c))
            .unwrap();
        // A catalog write after the image's instant stays out of it.
        assert_eq!(run(&mut s, FunctionOp::Flush), Reply::Ok);
        while !s
            .snapshot_step(8, &mut |db, k, exp, v| w.add_entry(db as u16, k, exp, v))
            .unwrap()
        {}
        let (bytes, summary) = w.finish().unwrap();
        assert_eq!(summary.entries, 4);

        let dir = tmpdir("snapshot");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(snapshot_file_name(0)), &bytes).unwrap();
        let mut back = Shard::new(0, ShardConfig::default());
        let opts = RecoveryOptions {
            skip_corrupt: false,
            now_ms: 1_700_000_000_000,
            shard_count: 1,
        };
        let parse = |_: &[Vec<u8>]| -> Result<crate::ir::Op, String> { Err("no WAL".into()) };
        let report = recover(&mut back, &dir, opts, &parse).unwrap();
        assert_eq!(report.snapshot.map(|(_, _, keys)| keys), Some(1));
        assert_eq!(back.functions().to_vec(), before);
        assert!(back.db(0).unwrap().peek(b"k", 0).is_some());

        // A library whose code names another library is damage, reported at its block.
        let mut w = SnapshotWriter::new(Vec::new(), &SnapshotHeader::new(0, 1, 0, 0)).unwrap();
        w.add_function(b"other", b"#!lua name=alpha\nreturn 1")
            .unwrap();
        let (bytes, _) = w.finish().unwrap();
        std::fs::write(dir.join(snapshot_file_name(0)), &bytes).unwrap();
        let mut bad = Shard::new(0, ShardConfig::default());
        let e = recover(&mut bad, &dir, opts, &parse).unwrap_err();
        assert!(e.to_string().contains("offset 64"), "{e}");
        let skip = RecoveryOptions {
            skip_corrupt: true,
            ..opts
        };
        let report = recover(&mut bad, &dir, skip, &parse).unwrap();
        assert_eq!(report.skipped.len(), 1);
        assert!(bad.functions().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Catalog ops never count as changes of watched keys.
    #[test]
    fn catalog_ops_do_not_touch_watched_keys() {
        use crate::shard::{Shard, ShardConfig, WatchFlag};
        let mut s = Shard::new(0, ShardConfig::default());
        let set = crate::ir::Op::Set {
            key: b("k"),
            value: b("v"),
            cond: crate::ir::SetCond::Always,
            expire: crate::ir::ExpireSpec::Clear,
            get: false,
        };
        let ctx = crate::ir::ExecCtx {
            db: 0,
            now_ms: 1_700_000_000_000,
            no_touch: false,
        };
        assert_eq!(s.apply(&ctx, &set), Reply::Ok);
        let flag = WatchFlag::default();
        s.watch(0, b("k"), flag.clone(), 0);
        let op = FunctionOp::Load {
            name: b("a"),
            code: b("#!lua name=a\nreturn 1"),
            replace: false,
        };
        assert_eq!(run(&mut s, op), Reply::Bulk(b("a")));
        assert_eq!(run(&mut s, FunctionOp::Flush), Reply::Ok);
        assert!(!flag.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(s.functions().version(), 2);
    }

    proptest! {
        /// Any catalog dumps to a payload that decodes to the same libraries.
        #[test]
        fn dump_payload_round_trips(
            libs in proptest::collection::btree_map(
                "[A-Za-z0-9_]{1,12}",
                proptest::collection::vec(any::<u8>(), 0..300),
                0..8,
            )
        ) {
            let mut c = FunctionCatalog::new();
            for (name, body) in &libs {
                let mut code = format!("#!lua name={name}\n").into_bytes();
                code.extend_from_slice(body);
                c.insert(b(name), Bytes::from(code));
            }
            let payload = c.dump();
            prop_assert_eq!(decode_dump_payload(&payload), Ok(c.to_vec()));
            let mut d = FunctionCatalog::new();
            d.apply(&FunctionOp::Restore { libs: c.to_vec(), policy: RestorePolicy::Flush });
            prop_assert_eq!(d.to_vec(), c.to_vec());
        }

        /// Neither decoder panics on arbitrary bytes.
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_metadata(&bytes);
            let _ = decode_dump_payload(&bytes);
            let _ = decode_dump_payload(&rdb::seal_payload(bytes));
        }
    }
}
