//! The `moon` binary: parse flags and the config file, set up logging, run the server.

use clap::Parser;
use moon::config::{Cli, Config};

fn init_logging(cfg: &Config) {
    let level = match cfg.loglevel.as_str() {
        "debug" => "debug",
        "verbose" => "info",
        "warning" | "nothing" => "warn",
        _ => "info",
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(level)
        .with_target(false)
        .with_ansi(false);
    if cfg.logfile.is_empty() {
        builder.with_writer(std::io::stderr).init();
    } else {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&cfg.logfile)
        {
            Ok(file) => builder.with_writer(std::sync::Mutex::new(file)).init(),
            Err(e) => {
                builder.with_writer(std::io::stderr).init();
                tracing::warn!(
                    "cannot open logfile {}: {e}; logging to stderr",
                    cfg.logfile
                );
            }
        }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let cfg = match Config::load(cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("moon: {e:#}");
            return std::process::ExitCode::from(1);
        }
    };
    init_logging(&cfg);
    match moon::runtime::run(cfg) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("fatal: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
