//! GRAPH.CONFIG: FalkorDB 4.x's module parameters, process-wide (as FalkorDB's are per
//! server), with FalkorDB's names, defaults, reply shapes and errors.
//!
//! Invariants: the table is touched only by GRAPH.CONFIG and by a query reading
//! `RESULTSET_SIZE`/`TIMEOUT_DEFAULT` (a short mutex hold, never on a plain-Redis path);
//! parameters FalkorDB fixes at load time refuse SET with FalkorDB's text. Moon honours
//! `RESULTSET_SIZE` (rows beyond it are dropped) and the timeouts (`query_timeout`); the others
//! are reported, and those that
//! configure FalkorDB machinery Moon does not have (thread pools, Bolt, the query cache) are
//! accepted and have no effect.

use std::sync::Mutex;

use bytes::Bytes;

use crate::ir::{OpError, Reply};

/// A parameter's value.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Val {
    Int(i64),
    Text(&'static str),
}

/// `(name, default, settable at run time)` in FalkorDB's `GET *` order.
const PARAMS: &[(&str, Val, bool)] = &[
    ("TIMEOUT", Val::Int(0), true),
    ("TIMEOUT_DEFAULT", Val::Int(0), true),
    ("TIMEOUT_MAX", Val::Int(0), true),
    ("CACHE_SIZE", Val::Int(25), false),
    ("ASYNC_DELETE", Val::Int(1), false),
    ("OMP_THREAD_COUNT", Val::Int(1), false),
    ("THREAD_COUNT", Val::Int(1), false),
    ("RESULTSET_SIZE", Val::Int(-1), true),
    ("VKEY_MAX_ENTITY_COUNT", Val::Int(100_000), true),
    ("MAX_QUEUED_QUERIES", Val::Int(4_294_967_295), true),
    ("QUERY_MEM_CAPACITY", Val::Int(0), true),
    ("DELTA_MAX_PENDING_CHANGES", Val::Int(10_000), true),
    ("NODE_CREATION_BUFFER", Val::Int(16_384), false),
    ("CMD_INFO", Val::Int(1), true),
    ("MAX_INFO_QUERIES", Val::Int(1000), true),
    ("EFFECTS_THRESHOLD", Val::Int(300), true),
    ("BOLT_PORT", Val::Int(65_535), false),
    ("DELAY_INDEXING", Val::Int(0), true),
    (
        "IMPORT_FOLDER",
        Val::Text("/var/lib/FalkorDB/import/"),
        false,
    ),
    ("TEMP_FOLDER", Val::Text("/tmp"), false),
];

/// Current integer values, by `PARAMS` position (text parameters are fixed).
static VALUES: Mutex<Vec<Option<i64>>> = Mutex::new(Vec::new());

fn err(text: &str) -> Reply {
    Reply::Err(OpError::Other(text.into()))
}

fn position(name: &[u8]) -> Option<usize> {
    PARAMS
        .iter()
        .position(|(n, _, _)| n.as_bytes().eq_ignore_ascii_case(name))
}

fn value_at(i: usize) -> Option<Val> {
    let (_, default, _) = PARAMS.get(i)?;
    let set = VALUES
        .lock()
        .map(|v| v.get(i).copied().flatten())
        .unwrap_or(None);
    Some(match set {
        Some(n) => Val::Int(n),
        None => default.clone(),
    })
}

fn pair(i: usize) -> Reply {
    let name = PARAMS.get(i).map_or("", |p| p.0);
    let v = match value_at(i) {
        Some(Val::Int(n)) => Reply::Int(n),
        Some(Val::Text(t)) => Reply::Bulk(Bytes::from_static(t.as_bytes())),
        None => Reply::Nil,
    };
    Reply::Array(vec![Reply::Bulk(Bytes::from_static(name.as_bytes())), v])
}

/// An integer parameter's current value.
pub fn int(name: &str) -> i64 {
    match position(name.as_bytes()).and_then(value_at) {
        Some(Val::Int(n)) => n,
        _ => 0,
    }
}

/// The time budget of one query in milliseconds (`None`: unlimited), from its `timeout`
/// argument (`asked_ms`, 0 = not given) and FalkorDB 4.x's rules: when TIMEOUT_MAX or
/// TIMEOUT_DEFAULT is on (non-zero) every query is limited — by `timeout`, which may not
/// exceed TIMEOUT_MAX, else TIMEOUT_DEFAULT, else TIMEOUT_MAX; otherwise (the deprecated
/// TIMEOUT mode) only read queries are, by `timeout`, else TIMEOUT. `Err` is FalkorDB's
/// error text.
pub fn query_timeout(asked_ms: u64, writes: bool) -> Result<Option<u64>, &'static str> {
    let as_ms = |n: i64| u64::try_from(n).unwrap_or(0);
    timeout_rule(
        asked_ms,
        writes,
        as_ms(int("TIMEOUT_MAX")),
        as_ms(int("TIMEOUT_DEFAULT")),
        as_ms(int("TIMEOUT")),
    )
}

/// `query_timeout` over given parameter values.
fn timeout_rule(
    asked_ms: u64,
    writes: bool,
    max: u64,
    default: u64,
    legacy: u64,
) -> Result<Option<u64>, &'static str> {
    if max > 0 || default > 0 {
        if max > 0 && asked_ms > max {
            return Err(
                "The query TIMEOUT parameter value cannot exceed the TIMEOUT_MAX configuration parameter value",
            );
        }
        let t = [asked_ms, default, max].into_iter().find(|&t| t > 0);
        return Ok(t);
    }
    if writes {
        return Ok(None);
    }
    let t = if asked_ms > 0 { asked_ms } else { legacy };
    Ok((t > 0).then_some(t))
}

/// GRAPH.CONFIG GET name|*.
pub fn get(name: &[u8]) -> Reply {
    if name == b"*" {
        return Reply::Array((0..PARAMS.len()).map(pair).collect());
    }
    match position(name) {
        Some(i) => pair(i),
        None => err("Unknown configuration field"),
    }
}

/// GRAPH.CONFIG SET name value.
pub fn set(name: &[u8], value: &[u8]) -> Reply {
    let Some(i) = position(name) else {
        return err("Unknown configuration field");
    };
    if !PARAMS.get(i).is_some_and(|p| p.2) {
        return err("This configuration parameter cannot be set at run-time");
    }
    let pname = PARAMS.get(i).map_or("", |p| p.0);
    let failed = || {
        err(&format!(
            "Failed to set config value {pname} to {}",
            String::from_utf8_lossy(value)
        ))
    };
    let parsed = std::str::from_utf8(value)
        .ok()
        .and_then(|t| t.trim().parse::<i64>().ok());
    let Some(n) = parsed else {
        return failed();
    };
    if n < -1 || (n < 0 && pname != "RESULTSET_SIZE") {
        return failed();
    }
    // FalkorDB keeps TIMEOUT_DEFAULT ≤ TIMEOUT_MAX whenever TIMEOUT_MAX is on (non-zero).
    if pname == "TIMEOUT_DEFAULT" && int("TIMEOUT_MAX") > 0 && n > int("TIMEOUT_MAX") {
        return err(
            "TIMEOUT_DEFAULT configuration parameter cannot be set to a value higher than TIMEOUT_MAX",
        );
    }
    if pname == "TIMEOUT_MAX" && n > 0 && n < int("TIMEOUT_DEFAULT") {
        return err(
            "TIMEOUT_MAX configuration parameter cannot be set to a value lower than TIMEOUT_DEFAULT",
        );
    }
    let Ok(mut values) = VALUES.lock() else {
        return failed();
    };
    if values.len() < PARAMS.len() {
        values.resize(PARAMS.len(), None);
    }
    if let Some(slot) = values.get_mut(i) {
        *slot = Some(n);
    }
    Reply::Ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_set_and_errors() {
        assert_eq!(
            get(b"cache_size"),
            Reply::Array(vec![Reply::Bulk("CACHE_SIZE".into()), Reply::Int(25)])
        );
        assert_eq!(set(b"MAX_INFO_QUERIES", b"7"), Reply::Ok);
        assert_eq!(int("MAX_INFO_QUERIES"), 7);
        assert_eq!(set(b"MAX_INFO_QUERIES", b"1000"), Reply::Ok);
        assert_eq!(get(b"NOSUCH"), err("Unknown configuration field"));
        assert_eq!(
            set(b"THREAD_COUNT", b"4"),
            err("This configuration parameter cannot be set at run-time")
        );
        let Reply::Array(all) = get(b"*") else {
            panic!("not an array")
        };
        assert_eq!(all.len(), PARAMS.len());
    }

    #[test]
    fn timeout_rules_as_falkordb() {
        // Deprecated mode (MAX and DEFAULT off): reads only, `timeout` else TIMEOUT.
        assert_eq!(timeout_rule(0, false, 0, 0, 0), Ok(None));
        assert_eq!(timeout_rule(200, false, 0, 0, 0), Ok(Some(200)));
        assert_eq!(timeout_rule(0, false, 0, 0, 300), Ok(Some(300)));
        assert_eq!(timeout_rule(200, true, 0, 0, 300), Ok(None));
        // MAX/DEFAULT mode: reads and writes; `timeout` ≤ MAX, else DEFAULT, else MAX.
        assert_eq!(timeout_rule(200, true, 10_000, 0, 0), Ok(Some(200)));
        assert_eq!(timeout_rule(0, true, 300, 0, 0), Ok(Some(300)));
        assert_eq!(timeout_rule(0, false, 1000, 500, 0), Ok(Some(500)));
        assert_eq!(timeout_rule(0, false, 0, 500, 0), Ok(Some(500)));
        assert!(timeout_rule(20_000, false, 10_000, 0, 0).is_err());
    }
}
