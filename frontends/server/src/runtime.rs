//! Start-up: bind one SO_REUSEPORT listener per shard, build the N×N mailboxes and wakers,
//! start one thread per shard running its [`Worker`](crate::worker::Worker), and wait for
//! shutdown (SHUTDOWN, SIGTERM or SIGINT).

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;

use anyhow::Context;
use socket2::{Domain, Socket, Type};

use crate::config::Config;
use crate::driver::{self, IoBackend, Listeners, Waker};
use crate::mailbox::build_rings;
use crate::shared::Shared;
use crate::worker::Worker;

/// Stack of a shard thread: 4× moon-cypher's red zone (`limits::STACK_RED_ZONE_BYTES`, 4 MiB),
/// which must stay free below the serve loop's frames for queries to compile in place.
const SHARD_STACK_BYTES: usize = 16 << 20;

fn bind_listener(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket
        .bind(&addr.into())
        .with_context(|| format!("binding {addr}"))?;
    socket.listen(511)?;
    Ok(socket.into())
}

/// Run the server until shutdown. Blocks the calling thread.
pub fn run(config: Config) -> anyhow::Result<()> {
    crate::contain::install_panic_hook();
    let resolve = |port: u16| -> anyhow::Result<SocketAddr> {
        (config.bind.as_str(), port)
            .to_socket_addrs()
            .with_context(|| format!("resolving bind address {}", config.bind))?
            .next()
            .context("bind address resolves to nothing")
    };
    let addr = resolve(config.port)?;
    // As Redis: `port 0` turns plain TCP off; TLS listens on `tls-port` when it is set.
    let tls_addr = if crate::tls::enabled(&config) {
        Some(resolve(config.tls_port)?)
    } else {
        None
    };
    if config.port == 0 && tls_addr.is_none() {
        anyhow::bail!("Configured to not listen anywhere, exiting.");
    }
    let tls_config = match tls_addr {
        Some(_) => Some(crate::tls::server_config(&config).context("setting up TLS")?),
        None => None,
    };
    let shards = config.shards;
    std::fs::create_dir_all(&config.dir)
        .with_context(|| format!("creating data directory {}", config.dir.display()))?;
    let recovered = crate::persist::recover_all(&config)?;
    let admin = crate::admin::bind(&config)?;
    let mut listeners = Vec::with_capacity(shards);
    for _ in 0..shards {
        listeners.push(Listeners {
            plain: (config.port != 0)
                .then(|| bind_listener(addr))
                .transpose()?,
            tls: tls_addr.map(bind_listener).transpose()?,
        });
    }
    let wakers = (0..shards)
        .map(|_| Waker::new())
        .collect::<std::io::Result<Vec<_>>>()?;
    let want_io = config.io;
    let shared = Arc::new(Shared::new(config, wakers.clone()));
    shared.acl.load_startup(&shared.config())?;
    if let Some(tls) = tls_config {
        shared.tls.install(tls);
    }
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, shared.shutdown.clone())?;
    }
    let admin_addr = admin.as_ref().and_then(|l| l.local_addr().ok());
    if let Some(listener) = admin {
        crate::admin::spawn(shared.clone(), listener)?;
    }
    let (outboxes, inboxes) = build_rings(shards);
    let mut threads = Vec::with_capacity(shards);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    for (id, (((listener, outbox), inbox), state)) in listeners
        .into_iter()
        .zip(outboxes)
        .zip(inboxes)
        .zip(recovered)
        .enumerate()
    {
        let shared_t = shared.clone();
        let waker = wakers[id].clone();
        let ready = ready_tx.clone();
        let handle = std::thread::Builder::new()
            .name(format!("moon-shard-{id}"))
            // Above moon-cypher's red zone (STACK_RED_ZONE_BYTES), so compiling a query runs on
            // this stack instead of mapping a fresh one per query (measured: mmap/munmap and
            // page faults were a third of a point lookup's CPU). Only touched pages are used.
            .stack_size(SHARD_STACK_BYTES)
            .spawn(move || {
                // The ring is created on the thread that uses it: io_uring's SINGLE_ISSUER
                // and DEFER_TASKRUN require the submitter to be the creating task.
                let drv = match driver::build(want_io, listener, &waker) {
                    Ok(d) => d,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok(drv.backend()));
                Worker::new(id, shared_t, drv, (outbox, inbox), state).run()
            })?;
        threads.push(handle);
    }
    drop(ready_tx);
    let mut backend = None;
    for _ in 0..shards {
        match ready_rx.recv() {
            Ok(Ok(b)) => {
                backend.get_or_insert(b);
            }
            Ok(Err(e)) => {
                shared.request_shutdown();
                return Err(anyhow::anyhow!("starting a shard's I/O driver: {e}"));
            }
            Err(_) => {
                shared.request_shutdown();
                anyhow::bail!("a shard thread died during start-up");
            }
        }
    }
    if let Ok(mut b) = shared.io_backend.write() {
        *b = backend;
    }
    crate::logging::banner(
        &shared.config(),
        match backend {
            Some(IoBackend::Epoll) => "epoll",
            _ => "io_uring",
        },
        &persistence_mode(&shared.config()),
        admin_addr,
    );
    // The banner above carries the version, shards, backend and persistence mode.
    tracing::info!("Moon ready to accept connections on {addr}");
    if let Some(tls_addr) = tls_addr {
        tracing::info!("Moon ready to accept TLS connections on {tls_addr}");
    }
    // Wait for the shard threads. A signal sets the shutdown flag; workers see it within a tick.
    let mut failed = false;
    for t in threads {
        if t.join().is_err() {
            failed = true;
        }
    }
    shared.request_shutdown();
    if failed {
        anyhow::bail!("a shard thread panicked");
    }
    tracing::info!("Moon is now ready to exit, bye bye...");
    Ok(())
}

/// The startup banner's persistence summary.
fn persistence_mode(cfg: &Config) -> String {
    let snap = if cfg.save.is_empty() {
        "no save rules".to_string()
    } else {
        format!(
            "save {}",
            cfg.save
                .iter()
                .map(|(s, c)| format!("{s} {c}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    if cfg.appendonly {
        format!("wal appendfsync {}, {snap}", cfg.appendfsync.name())
    } else {
        format!("snapshots only, {snap}")
    }
}
