//! The `moon` binary: parse flags and the config file, set up logging, run the server.

use clap::Parser;
use moon::config::{Cli, Config};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let cfg = match Config::load(cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("moon: {e:#}");
            return std::process::ExitCode::from(1);
        }
    };
    if let Err(e) = moon::logging::init(&cfg.loglevel, &cfg.logfile) {
        eprintln!("moon: {e}");
        return std::process::ExitCode::from(1);
    }
    match moon::runtime::run(cfg) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("fatal: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
