//! Logging: one `tracing` subscriber for the process, writing one line per event in Redis's
//! log format, with the level filter reloadable at run time (`CONFIG SET loglevel`).
//!
//! Line format (Redis's `serverLogRaw`): `pid:M dd Mon yyyy hh:mm:ss.mmm <c> message k=v ...`,
//! where `<c>` is Redis's level mark (`.` debug, `-` verbose, `*` notice, `#` warning). Times
//! are UTC (Redis uses local time; UTC needs no time-zone database and sorts across hosts).
//!
//! Level names are Redis's, mapped onto tracing's levels one step apart so that every Redis
//! level filters exactly the events of its own mark and above:
//! `debug` = TRACE, `verbose` = DEBUG, `notice` = INFO, `warning` = WARN (ERROR too),
//! `nothing` = off.
//!
//! Invariants:
//! - [`init`] installs the global subscriber at most once; [`set_level`] before (or without)
//!   it does nothing.
//! - The writer is stdout when `logfile` is empty, else the file opened in append mode; as
//!   Redis, a log file that cannot be opened stops start-up.

use std::sync::OnceLock;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Registry, reload};

/// The handle that swaps the level filter of the installed subscriber.
static RELOAD: OnceLock<reload::Handle<LevelFilter, Registry>> = OnceLock::new();

/// The tracing filter of a Redis `loglevel` name (unknown names: notice).
pub fn level_filter(loglevel: &str) -> LevelFilter {
    match loglevel {
        "debug" => LevelFilter::TRACE,
        "verbose" => LevelFilter::DEBUG,
        "warning" => LevelFilter::WARN,
        "nothing" => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    }
}

/// Redis's mark for an event's level.
fn level_mark(level: &Level) -> char {
    match *level {
        Level::TRACE => '.',
        Level::DEBUG => '-',
        Level::INFO => '*',
        _ => '#',
    }
}

/// Install the process's subscriber. Fails (with Redis's message) when `logfile` cannot be
/// opened for appending.
pub fn init(loglevel: &str, logfile: &str) -> Result<(), String> {
    let writer = if logfile.is_empty() {
        BoxMakeWriter::new(std::io::stdout)
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logfile)
            .map_err(|e| format!("Can't open the log file {logfile}: {e}"))?;
        BoxMakeWriter::new(std::sync::Mutex::new(file))
    };
    let (filter, handle) = reload::Layer::new(level_filter(loglevel));
    let fmt = tracing_subscriber::fmt::layer()
        .event_format(RedisFormat {
            pid: std::process::id(),
        })
        .with_writer(writer)
        .with_ansi(false);
    if tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .try_init()
        .is_ok()
    {
        let _ = RELOAD.set(handle);
    }
    Ok(())
}

/// Apply a new `loglevel` to the running subscriber (CONFIG SET loglevel).
pub fn set_level(loglevel: &str) {
    if let Some(handle) = RELOAD.get()
        && let Err(e) = handle.reload(level_filter(loglevel))
    {
        tracing::warn!("cannot change the log level: {e}");
    }
}

/// The start-up banner, logged at notice level once every shard's driver is up (so `io` is
/// the backend in use after the io_uring → epoll fallback). Build information is what Cargo
/// knows at compile time: no git hash is embedded.
pub fn banner(
    cfg: &crate::config::Config,
    io: &str,
    persistence: &str,
    admin: Option<std::net::SocketAddr>,
) {
    tracing::info!(
        "Moon version={}, bits={}, build={}, target={}-{}, pid={}, just started",
        env!("CARGO_PKG_VERSION"),
        usize::BITS,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        std::env::consts::ARCH,
        std::env::consts::OS,
        std::process::id()
    );
    let config_file = cfg
        .config_file
        .as_ref()
        .map_or_else(|| "none".to_string(), |p| p.display().to_string());
    tracing::info!(
        "Configuration: config file={config_file}, shards={}, io backend={io}, port={}, bind={}, tls-port={}",
        cfg.shards,
        cfg.port,
        cfg.bind,
        cfg.tls_port
    );
    let dir = std::fs::canonicalize(&cfg.dir).unwrap_or_else(|_| cfg.dir.clone());
    tracing::info!("Persistence: {persistence}, dir={}", dir.display());
    match admin {
        Some(addr) => tracing::info!("Admin endpoint: http://{addr}/metrics"),
        None => tracing::info!("Admin endpoint: off (admin-port 0)"),
    }
}

/// Redis's line format (see the module doc).
struct RedisFormat {
    pid: u32,
}

impl<S, N> FormatEvent<S, N> for RedisFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        write!(
            writer,
            "{}:M {} {} ",
            self.pid,
            timestamp(crate::shared::now_ms()),
            level_mark(event.metadata().level())
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `dd Mon yyyy hh:mm:ss.mmm` (UTC) of a Unix time in milliseconds.
pub fn timestamp(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{d:02} {} {y} {:02}:{:02}:{:02}.{:03}",
        MONTHS.get((m as usize).wrapping_sub(1)).unwrap_or(&"???"),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        unix_ms % 1000
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_level_names_map_one_step_apart() {
        assert_eq!(level_filter("debug"), LevelFilter::TRACE);
        assert_eq!(level_filter("verbose"), LevelFilter::DEBUG);
        assert_eq!(level_filter("notice"), LevelFilter::INFO);
        assert_eq!(level_filter("warning"), LevelFilter::WARN);
        assert_eq!(level_filter("nothing"), LevelFilter::OFF);
        assert_eq!(level_mark(&Level::TRACE), '.');
        assert_eq!(level_mark(&Level::DEBUG), '-');
        assert_eq!(level_mark(&Level::INFO), '*');
        assert_eq!(level_mark(&Level::WARN), '#');
        assert_eq!(level_mark(&Level::ERROR), '#');
    }

    #[test]
    fn timestamps_are_redis_shaped_utc() {
        assert_eq!(timestamp(0), "01 Jan 1970 00:00:00.000");
        // 2026-11-27 10:01:28.123 UTC.
        assert_eq!(timestamp(1_795_773_688_123), "27 Nov 2026 10:01:28.123");
        // A leap day.
        assert_eq!(timestamp(951_782_400_000), "29 Feb 2000 00:00:00.000");
    }
}
