//! Start-up: bind one SO_REUSEPORT listener per shard, build the N×N mailboxes and wakers,
//! start one thread per shard running its [`Worker`](crate::worker::Worker), and wait for
//! shutdown (SHUTDOWN, SIGTERM or SIGINT).

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;

use anyhow::Context;
use socket2::{Domain, Socket, Type};

use crate::config::Config;
use crate::driver::{self, IoBackend, Waker};
use crate::mailbox::build_rings;
use crate::shared::Shared;
use crate::worker::Worker;

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
    let addr = (config.bind.as_str(), config.port)
        .to_socket_addrs()
        .with_context(|| format!("resolving bind address {}", config.bind))?
        .next()
        .context("bind address resolves to nothing")?;
    let shards = config.shards;
    std::fs::create_dir_all(&config.dir)
        .with_context(|| format!("creating data directory {}", config.dir.display()))?;
    let mut listeners = Vec::with_capacity(shards);
    for _ in 0..shards {
        listeners.push(bind_listener(addr)?);
    }
    let wakers = (0..shards)
        .map(|_| Waker::new())
        .collect::<std::io::Result<Vec<_>>>()?;
    let want_io = config.io;
    let shared = Arc::new(Shared::new(config, wakers.clone()));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, shared.shutdown.clone())?;
    }
    let (outboxes, inboxes) = build_rings(shards);
    let mut threads = Vec::with_capacity(shards);
    let mut backend = None;
    for (id, ((listener, outbox), inbox)) in
        listeners.into_iter().zip(outboxes).zip(inboxes).enumerate()
    {
        let drv = driver::build(want_io, listener, &wakers[id])?;
        backend.get_or_insert(drv.backend());
        let shared_t = shared.clone();
        let handle = std::thread::Builder::new()
            .name(format!("moon-shard-{id}"))
            .spawn(move || Worker::new(id, shared_t, drv, outbox, inbox).run())?;
        threads.push(handle);
    }
    if let Ok(mut b) = shared.io_backend.write() {
        *b = backend;
    }
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        shards,
        io = match backend {
            Some(IoBackend::Epoll) => "epoll",
            _ => "io_uring",
        },
        persistence = "none",
        "Moon ready to accept connections on {addr}"
    );
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
