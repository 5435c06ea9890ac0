//! TLS for client connections (rustls, ring provider), terminated on the connection's own shard.
//!
//! Where it sits: the drivers only move bytes. A shard's driver owns a second listener for
//! `tls-port` and remembers which listener accepted each connection
//! ([`Driver::is_tls`](crate::driver::Driver::is_tls)); the worker gives such a connection a
//! [`TlsSession`] at accept. Ciphertext from `Event::Data` goes through [`on_data`] (`read_tls`
//! -> `process_new_packets` -> plaintext appended to `rbuf`), and [`stage_output`] turns the
//! plaintext replies in `out` (plus any handshake or alert records rustls wants to send) into
//! ciphertext just before the buffer is handed to `Driver::send`.
//!
//! Invariants:
//! - Plain connections pay one `Option` branch on the read and flush paths, nothing else.
//! - After [`stage_output`], `conn.out` holds only ciphertext; plaintext never reaches a driver.
//! - Handshake records are flushed even when there is no reply: a TLS connection is always
//!   marked dirty after its data, and [`stage_output`] checks `wants_write`.
//! - A TLS error never panics: it is logged at debug, the alert rustls queued (if any) is
//!   flushed, and the connection closes after that flush (`close_after_flush`).
//! - The rustls `ServerConfig` is built once at start-up from the config file paths
//!   ([`server_config`]) and shared read-only by every shard.

use std::io::{Read, Write};
use std::sync::{Arc, RwLock};

use anyhow::{Context, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection};

use crate::config::Config;
use crate::conn::Conn;

/// Plaintext written to rustls per step: bounds the ciphertext staged between two drains.
const SEAL_CHUNK: usize = 64 * 1024;

/// `tls-auth-clients`: whether a client certificate is requested and required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthClients {
    /// Not requested.
    No,
    /// Required and verified against `tls-ca-cert-file` (Redis's default).
    #[default]
    Yes,
    /// Verified if the client presents one.
    Optional,
}

impl AuthClients {
    /// Redis's name of the setting.
    pub fn name(self) -> &'static str {
        match self {
            AuthClients::No => "no",
            AuthClients::Yes => "yes",
            AuthClients::Optional => "optional",
        }
    }

    /// Parses Redis's values (case-insensitive, as Redis's enum configs).
    pub fn from_name(value: &str) -> Option<AuthClients> {
        match value.to_ascii_lowercase().as_str() {
            "no" => Some(AuthClients::No),
            "yes" => Some(AuthClients::Yes),
            "optional" => Some(AuthClients::Optional),
            _ => None,
        }
    }
}

/// The process-wide TLS server configuration: installed by the runtime before shards accept,
/// replaced by CONFIG SET of the TLS files (new connections use the new one, as in Redis).
/// Read once per accepted TLS connection, never per command.
#[derive(Default)]
pub(crate) struct TlsContext {
    config: RwLock<Option<Arc<ServerConfig>>>,
}

impl TlsContext {
    /// Installs (or replaces) the configuration.
    pub(crate) fn install(&self, config: Arc<ServerConfig>) {
        if let Ok(mut c) = self.config.write() {
            *c = Some(config);
        }
    }

    /// A new server-side session, or None if TLS is not configured or rustls refuses.
    pub(crate) fn session(&self) -> Option<Box<TlsSession>> {
        let config = self.config.read().ok()?.clone()?;
        match ServerConnection::new(config) {
            Ok(mut conn) => {
                // Replies queued before the handshake completes (e.g. "max number of
                // clients") wait in rustls; the worker bounds what it hands over per flush.
                conn.set_buffer_limit(None);
                Some(Box::new(TlsSession {
                    conn,
                    scratch: Vec::new(),
                    close_notify_sent: false,
                }))
            }
            Err(e) => {
                tracing::warn!("creating a TLS session failed: {e}");
                None
            }
        }
    }
}

/// One connection's TLS state.
pub struct TlsSession {
    conn: ServerConnection,
    /// Reused buffer: the plaintext being sealed while `out` receives the ciphertext.
    scratch: Vec<u8>,
    close_notify_sent: bool,
}

impl std::fmt::Debug for TlsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSession")
            .field("handshaking", &self.conn.is_handshaking())
            .finish_non_exhaustive()
    }
}

impl TlsSession {
    /// Feeds ciphertext in and appends every plaintext byte it yields to `plain`. On error the
    /// session may hold an alert to send ([`TlsSession::seal`] drains it).
    pub fn decrypt(
        &mut self,
        mut cipher: &[u8],
        plain: &mut bytes::BytesMut,
    ) -> Result<(), String> {
        while !cipher.is_empty() {
            let n = self.conn.read_tls(&mut cipher).map_err(|e| e.to_string())?;
            let state = self.conn.process_new_packets().map_err(|e| e.to_string())?;
            let ready = state.plaintext_bytes_to_read();
            if ready > 0 {
                let start = plain.len();
                plain.resize(start + ready, 0);
                let got = match plain.get_mut(start..) {
                    Some(tail) => read_fully(self.conn.reader(), tail),
                    None => 0,
                };
                plain.truncate(start + got);
            }
            if n == 0 {
                // rustls took nothing (the peer closed its side): the rest is not TLS data.
                break;
            }
        }
        Ok(())
    }

    /// Encrypts `plain` (may be empty) and appends every record rustls has to send (handshake,
    /// application data, alerts) to `cipher`.
    pub fn seal(&mut self, plain: &[u8], cipher: &mut Vec<u8>) {
        let mut rest = plain;
        loop {
            if !rest.is_empty() {
                let take = rest.len().min(SEAL_CHUNK);
                let (now, later) = rest.split_at(take);
                // Unlimited buffer: rustls takes it all (buffered if still handshaking).
                if let Err(e) = self.conn.writer().write_all(now) {
                    tracing::debug!("TLS write failed: {e}");
                    return;
                }
                rest = later;
            }
            while self.conn.wants_write() {
                match self.conn.write_tls(cipher) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            if rest.is_empty() {
                return;
            }
        }
    }

    /// Queue a close_notify alert (once).
    pub fn close_notify(&mut self) {
        if !self.close_notify_sent {
            self.close_notify_sent = true;
            self.conn.send_close_notify();
        }
    }

    /// Still handshaking.
    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// Records wait to be written.
    pub fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }
}

/// Reads into `buf` until it is full or the reader has nothing more; returns the bytes read.
fn read_fully(mut reader: impl Read, buf: &mut [u8]) -> usize {
    let mut got = 0;
    while let Some(tail) = buf.get_mut(got..) {
        if tail.is_empty() {
            break;
        }
        match reader.read(tail) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    got
}

/// A connection accepted on the TLS listener: give it a session and report the TLS port as
/// its local address. Without a session (TLS not configured) it is closed at once.
pub(crate) fn on_accept(conn: &mut Conn, shared: &crate::shared::Shared, tls_port: u16) {
    conn.tls = shared.tls.session();
    if conn.tls.is_none() {
        conn.close_after_flush = true;
    }
    if let Some(laddr) = conn.laddr.as_mut() {
        laddr.set_port(tls_port);
    }
}

/// Ciphertext arrived for a TLS connection: decrypt it into `rbuf`. A TLS error schedules
/// the close (after the alert is flushed) and is logged at debug, as Redis logs it at verbose.
pub(crate) fn on_data(conn: &mut Conn, cipher: &[u8]) {
    let Some(tls) = conn.tls.as_mut() else {
        conn.rbuf.extend_from_slice(cipher);
        return;
    };
    if let Err(e) = tls.decrypt(cipher, &mut conn.rbuf) {
        tracing::debug!(client = conn.id, "error reading from TLS client: {e}");
        conn.close_after_flush = true;
    }
}

/// Just before a send: seal the plaintext replies in `conn.out` (and any pending handshake or
/// alert records) so that `conn.out` holds the ciphertext to hand to the driver.
pub(crate) fn stage_output(conn: &mut Conn) {
    let Some(tls) = conn.tls.as_mut() else {
        return;
    };
    if conn.close_after_flush && conn.out.is_empty() && !tls.is_handshaking() {
        tls.close_notify();
    }
    if conn.out.is_empty() && !tls.wants_write() {
        return;
    }
    let mut plain = std::mem::take(&mut tls.scratch);
    std::mem::swap(&mut plain, &mut conn.out);
    tls.seal(&plain, &mut conn.out);
    plain.clear();
    tls.scratch = plain;
}

/// CONFIG SET hook: if the pairs name a TLS parameter, apply the new TLS configuration;
/// returns Redis's error reply text if that fails (the caller then changes nothing).
pub(crate) fn on_config_set(
    shared: &crate::shared::Shared,
    cfg: &Config,
    pairs: &[(bytes::Bytes, bytes::Bytes)],
) -> Option<String> {
    let name = pairs
        .iter()
        .map(|(n, _)| String::from_utf8_lossy(n).to_ascii_lowercase())
        .find(|n| n.starts_with("tls-"))?;
    reconfigure(shared, cfg)
        .err()
        .map(|e| format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {e}"))
}

/// CONFIG SET changed a TLS parameter: with TLS on, rebuild the rustls configuration from
/// `cfg` and use it for new connections. On failure (logged) nothing changes and the caller
/// answers Redis's error.
pub(crate) fn reconfigure(shared: &crate::shared::Shared, cfg: &Config) -> Result<(), String> {
    if !enabled(cfg) {
        return Ok(());
    }
    match server_config(cfg) {
        Ok(config) => {
            shared.tls.install(config);
            Ok(())
        }
        Err(e) => {
            tracing::warn!("TLS reconfiguration failed: {e:#}");
            Err("Unable to update TLS configuration. Check server logs.".into())
        }
    }
}

/// Whether `cfg` asks for a TLS listener.
pub fn enabled(cfg: &Config) -> bool {
    cfg.tls_port != 0
}

/// Builds the rustls server configuration from `tls-cert-file`, `tls-key-file`,
/// `tls-ca-cert-file` and `tls-auth-clients`. Errors name the file at fault.
pub fn server_config(cfg: &Config) -> anyhow::Result<Arc<ServerConfig>> {
    if cfg.tls_cert_file.is_empty() || cfg.tls_key_file.is_empty() {
        bail!("tls-port is set: tls-cert-file and tls-key-file are required");
    }
    let certs = CertificateDer::pem_file_iter(&cfg.tls_cert_file)
        .with_context(|| format!("reading tls-cert-file {}", cfg.tls_cert_file))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing tls-cert-file {}", cfg.tls_cert_file))?;
    if certs.is_empty() {
        bail!("tls-cert-file {} holds no certificate", cfg.tls_cert_file);
    }
    let key = PrivateKeyDer::from_pem_file(&cfg.tls_key_file)
        .with_context(|| format!("reading tls-key-file {}", cfg.tls_key_file))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?;
    let builder = if cfg.tls_auth_clients == AuthClients::No {
        builder.with_no_client_auth()
    } else {
        if cfg.tls_ca_cert_file.is_empty() {
            bail!(
                "tls-auth-clients {} needs tls-ca-cert-file",
                cfg.tls_auth_clients.name()
            );
        }
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(&cfg.tls_ca_cert_file)
            .with_context(|| format!("reading tls-ca-cert-file {}", cfg.tls_ca_cert_file))?
        {
            let cert =
                cert.with_context(|| format!("parsing tls-ca-cert-file {}", cfg.tls_ca_cert_file))?;
            roots
                .add(cert)
                .with_context(|| format!("adding a CA of {}", cfg.tls_ca_cert_file))?;
        }
        let mut verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
        if cfg.tls_auth_clients == AuthClients::Optional {
            verifier = verifier.allow_unauthenticated();
        }
        let verifier = verifier.build().context("building the client verifier")?;
        builder.with_client_cert_verifier(verifier)
    };
    let config = builder
        .with_single_cert(certs, key)
        .context("tls-cert-file and tls-key-file do not form a usable pair")?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_clients_names_round_trip() {
        for a in [AuthClients::No, AuthClients::Yes, AuthClients::Optional] {
            assert_eq!(AuthClients::from_name(a.name()), Some(a));
        }
        assert_eq!(AuthClients::from_name("YES"), Some(AuthClients::Yes));
        assert_eq!(AuthClients::from_name("maybe"), None);
        assert_eq!(AuthClients::default(), AuthClients::Yes);
    }

    #[test]
    fn missing_files_are_reported_not_panicked() {
        let cfg = Config {
            tls_port: 6380,
            ..Config::default()
        };
        let e = server_config(&cfg).err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("tls-cert-file")));
        let cfg = Config {
            tls_port: 6380,
            tls_cert_file: "/nonexistent/cert.pem".into(),
            tls_key_file: "/nonexistent/key.pem".into(),
            ..Config::default()
        };
        let e = server_config(&cfg).err().map(|e| format!("{e:#}"));
        assert!(e.is_some_and(|e| e.contains("/nonexistent/cert.pem")));
    }

    /// A session context over a self-signed localhost certificate, and a client config
    /// trusting it.
    fn pair() -> (TlsContext, Arc<rustls::ClientConfig>) {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
        let key = PrivateKeyDer::try_from(ck.signing_key.serialize_der()).expect("key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![ck.cert.der().clone()], key)
            .expect("server config");
        let mut roots = RootCertStore::empty();
        roots.add(ck.cert.der().clone()).expect("root");
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let ctx = TlsContext::default();
        ctx.install(Arc::new(server));
        (ctx, Arc::new(client))
    }

    #[test]
    fn garbage_ciphertext_is_an_error_with_an_alert() {
        let (ctx, _) = pair();
        let mut s = ctx.session().expect("session");
        let mut plain = bytes::BytesMut::new();
        let r = s.decrypt(b"*1\r\n$4\r\nPING\r\n", &mut plain);
        assert!(r.is_err());
        assert!(plain.is_empty());
        let mut out = Vec::new();
        s.seal(b"", &mut out);
        // An alert record: content type 21.
        assert_eq!(out.first(), Some(&21));
    }

    /// A full handshake and traffic both ways, the client's bytes fed one at a time (records
    /// split at every boundary) and a reply spanning many records.
    #[test]
    fn handshake_and_traffic_with_fragmented_input() {
        let (ctx, client_cfg) = pair();
        let mut server = ctx.session().expect("session");
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
        let mut client = rustls::ClientConnection::new(client_cfg, name).expect("client");
        let request = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".repeat(100);
        client.writer().write_all(&request).expect("client write");
        let reply: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        let (mut got_request, mut got_reply) = (bytes::BytesMut::new(), Vec::new());
        let mut replied = false;
        for _ in 0..100 {
            let mut wire = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut wire).expect("client write_tls");
            }
            for byte in wire.chunks(1) {
                server.decrypt(byte, &mut got_request).expect("decrypt");
            }
            let mut back = Vec::new();
            if got_request.len() == request.len() && !replied {
                replied = true;
                server.seal(&reply, &mut back);
            } else {
                server.seal(b"", &mut back);
            }
            let mut rd = back.as_slice();
            let mut buf = vec![0; 65536];
            while !rd.is_empty() {
                client.read_tls(&mut rd).expect("client read_tls");
                client.process_new_packets().expect("client process");
                // Drain as we go: rustls bounds the plaintext it holds unread.
                loop {
                    match client.reader().read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got_reply.extend_from_slice(&buf[..n]),
                    }
                }
            }
            if got_reply.len() == reply.len() {
                break;
            }
        }
        assert!(!server.is_handshaking());
        assert_eq!(&got_request[..], &request[..]);
        assert!(got_reply == reply, "reply corrupted");
    }
}
