//! Fuzzes the server's configuration parsers: the config file (`moon <file>`, redis.conf
//! syntax: quoting, comments, one directive a line) through `Config::load`, and each line
//! as a CONFIG SET `name value` through `Config::set`, which sees client input.
//!
//! Checks, beyond "never panics": every parameter a resulting configuration reports (CONFIG GET
//! renders `Config::params`) is accepted back by `Config::set` and renders the same afterwards,
//! so what CONFIG GET shows can always be written to a config file and read again.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use moon::config::{Cli, Config};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = file();
    if std::fs::write(&path, text).is_err() {
        return;
    }
    let cli = Cli {
        config_file: Some(path.clone()),
        ..Cli::default()
    };
    if let Ok(cfg) = Config::load(cli) {
        check_round_trip(&cfg);
    }

    let mut cfg = Config::default();
    for line in text.lines() {
        let (name, value) = line.split_once(' ').unwrap_or((line, ""));
        let _ = cfg.set(&name.to_ascii_lowercase(), value);
    }
    check_round_trip(&cfg);
});

fn check_round_trip(cfg: &Config) {
    let params = cfg.params();
    let mut again = Config::default();
    for (name, value) in &params {
        if not_round_tripping().contains(name) {
            continue;
        }
        if let Err(e) = again.set(name, value) {
            panic!("CONFIG GET shows {name} = {value:?}, which set refuses: {e:#}");
        }
    }
    for ((name, a), (_, b)) in params.iter().zip(again.params().iter()) {
        if !not_round_tripping().contains(name) {
            assert_eq!(a, b, "{name} renders differently after a round trip");
        }
    }
}

/// Parameters whose *default* already does not round-trip (read-only or rendered in a form
/// only CONFIG GET uses): excluded, and listed by the fuzzer's first run on stderr.
fn not_round_tripping() -> &'static Vec<&'static str> {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let names: Vec<&'static str> = Config::default()
            .params()
            .into_iter()
            .filter(|(name, value)| Config::default().set(name, value).is_err())
            .map(|(name, _)| name)
            .collect();
        eprintln!("config_file: defaults that do not round-trip (skipped): {names:?}");
        names
    })
}

fn file() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let shm = PathBuf::from("/dev/shm");
        let base = if shm.is_dir() {
            shm
        } else {
            std::env::temp_dir()
        };
        base.join(format!("moon-fuzz-config-{}.conf", std::process::id()))
    })
    .clone()
}
