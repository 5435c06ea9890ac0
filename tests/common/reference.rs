//! A real redis-server for differential tests: started on a free loopback port with
//! persistence off, killed on drop. Tests that need it skip (saying so) when it is absent.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::Conn;

/// A redis-server child process.
pub struct Reference {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Reference {
    /// Starts redis-server, or prints `SKIPPED <what>: redis-server is not installed` and
    /// answers `None`. Panics if it is installed but does not come up.
    pub fn start(what: &str) -> Option<Reference> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .ok()?;
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            eprintln!("SKIPPED {what}: redis-server is not installed");
            return None;
        };
        let r = Reference { child, port };
        let ready = super::wait_until(Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", r.port)).is_ok()
        });
        assert!(ready, "redis-server did not start");
        Some(r)
    }

    /// A raw connection to it.
    pub fn conn(&self) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to redis-server");
        s.set_read_timeout(Some(super::IO_TIMEOUT))
            .expect("read timeout");
        Conn::new(s)
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
