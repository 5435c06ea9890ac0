//! The admin endpoint: an HTTP/1.1 listener on its own thread (`admin-port`, off when 0;
//! `admin-bind`, default 127.0.0.1) serving `GET /metrics` in the Prometheus text format.
//! Any other path is 404, another method on `/metrics` is 405.
//!
//! Why a plain `std::net::TcpListener` loop and not an HTTP crate: the endpoint serves one
//! small page to a scraper every few seconds, so one thread answering one request per
//! connection (`Connection: close`) is enough, adds no thread pool, and keeps the whole
//! HTTP surface (a request line and headers, read with a size cap and timeouts) in this
//! file where it can be read at a glance.
//!
//! Invariants:
//! - The thread never touches a shard: it reads `Shared`'s atomics and the per-shard
//!   snapshots the shards publish on their tick (see [`metrics`]).
//! - A client cannot stall the endpoint for longer than [`IO_TIMEOUT`] to send its request
//!   (and as long again to read the reply), nor make it buffer more than [`MAX_REQUEST`]
//!   bytes; malformed or incomplete requests get 400.

pub mod metrics;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::config::Config;
use crate::shared::Shared;

/// Read/write timeout of one admin connection.
pub const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// Largest request head (request line and headers) accepted.
pub const MAX_REQUEST: usize = 8192;

/// Binds the endpoint if `admin-port` is set (done before the shards start, so a taken port
/// fails start-up as the main port does).
pub fn bind(config: &Config) -> anyhow::Result<Option<TcpListener>> {
    if config.admin_port == 0 {
        return Ok(None);
    }
    let addr: SocketAddr = (config.admin_bind.as_str(), config.admin_port)
        .to_socket_addrs()
        .with_context(|| format!("resolving admin-bind {}", config.admin_bind))?
        .next()
        .context("admin-bind resolves to nothing")?;
    let listener =
        TcpListener::bind(addr).with_context(|| format!("binding the admin endpoint {addr}"))?;
    Ok(Some(listener))
}

/// Serve the endpoint on a new thread until the process exits.
pub fn spawn(shared: Arc<Shared>, listener: TcpListener) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("moon-admin".into())
        .spawn(move || serve(&shared, &listener))?;
    Ok(())
}

fn serve(shared: &Shared, listener: &TcpListener) {
    for stream in listener.incoming() {
        if shared.shutting_down() {
            return;
        }
        match stream {
            Ok(s) => {
                if let Err(e) = handle(shared, s) {
                    tracing::debug!("admin request failed: {e}");
                }
            }
            Err(e) => {
                // EMFILE and the like: back off instead of spinning.
                tracing::warn!("admin endpoint accept failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    /// GET (or HEAD, `head` true) /metrics.
    Metrics { head: bool },
    /// Another method on /metrics.
    MethodNotAllowed,
    /// Any other path.
    NotFound,
    /// Not an HTTP/1.x request line.
    BadRequest,
}

/// Route a request head (everything up to the blank line).
fn route(head: &[u8]) -> Route {
    let Ok(text) = std::str::from_utf8(head) else {
        return Route::BadRequest;
    };
    let line = text.split("\r\n").next().unwrap_or("");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Route::BadRequest;
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || target.is_empty() {
        return Route::BadRequest;
    }
    let path = target.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET", "/metrics") => Route::Metrics { head: false },
        ("HEAD", "/metrics") => Route::Metrics { head: true },
        (_, "/metrics") => Route::MethodNotAllowed,
        _ => Route::NotFound,
    }
}

/// Read the request head: up to the first blank line, at most [`MAX_REQUEST`] bytes, within
/// [`IO_TIMEOUT`] in all (so a client trickling bytes cannot hold the thread either).
fn read_head(s: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let deadline = std::time::Instant::now() + IO_TIMEOUT;
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        s.set_read_timeout(Some(left))?;
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.truncate(end);
            return Ok(Some(buf));
        }
        if buf.len() >= MAX_REQUEST {
            return Ok(None);
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
    }
}

fn handle(shared: &Shared, mut s: TcpStream) -> std::io::Result<()> {
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    let route = match read_head(&mut s)? {
        Some(head) => route(&head),
        None => Route::BadRequest,
    };
    let (status, body, head_only, extra) = match route {
        Route::Metrics { head } => ("200 OK", metrics::Scrape::gather(shared).render(), head, ""),
        Route::MethodNotAllowed => (
            "405 Method Not Allowed",
            "Method Not Allowed\n".to_string(),
            false,
            "Allow: GET, HEAD\r\n",
        ),
        Route::NotFound => ("404 Not Found", "Not Found\n".to_string(), false, ""),
        Route::BadRequest => ("400 Bad Request", "Bad Request\n".to_string(), false, ""),
    };
    tracing::debug!("admin request {route:?}: {status}");
    let content_type = if matches!(route, Route::Metrics { .. }) {
        prometheus_client::encoding::prometheus_text::CONTENT_TYPE
    } else {
        "text/plain; charset=utf-8"
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    s.write_all(&out)?;
    s.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            route(b"GET /metrics HTTP/1.1\r\nHost: x"),
            Route::Metrics { head: false }
        );
        assert_eq!(
            route(b"GET /metrics?x=1 HTTP/1.0"),
            Route::Metrics { head: false }
        );
        assert_eq!(
            route(b"HEAD /metrics HTTP/1.1"),
            Route::Metrics { head: true }
        );
        assert_eq!(route(b"POST /metrics HTTP/1.1"), Route::MethodNotAllowed);
        assert_eq!(route(b"GET / HTTP/1.1"), Route::NotFound);
        assert_eq!(route(b"GET /metricsx HTTP/1.1"), Route::NotFound);
        assert_eq!(route(b"GET /metrics"), Route::BadRequest);
        assert_eq!(route(b"GET /metrics SPDY/3"), Route::BadRequest);
        assert_eq!(route(b"\xff\xfe"), Route::BadRequest);
        assert_eq!(route(b""), Route::BadRequest);
    }
}
