//! TLS end to end: certificates made here with rcgen (a CA, a server certificate for
//! 127.0.0.1/localhost, a client certificate from the CA, and a second "wrong" CA with its own
//! client certificate), servers on `--io uring` and `--io epoll` with the plain and TLS ports
//! side by side, `tls-auth-clients yes|optional|no`, an untrusted server certificate,
//! `port 0`, and `redis-cli --tls`.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{IO_TIMEOUT, Server};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use redis::{ClientTlsConfig, TlsCertificates};

/// PEM files of one test's PKI, in their own temp dir (removed on drop).
struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(name)).expect("read pem")
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn new_ca(name: &str) -> (rcgen::Certificate, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().expect("ca key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key).expect("ca cert");
    (cert, Issuer::new(params, key))
}

fn leaf(
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
    issuer: &Issuer<'static, KeyPair>,
) -> (String, String) {
    let key = KeyPair::generate().expect("leaf key");
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).expect("leaf params");
    params
        .distinguished_name
        .push(DnType::CommonName, "moon test");
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, issuer).expect("sign leaf");
    (cert.pem(), key.serialize_pem())
}

/// ca.pem, server.{crt,key}, client.{crt,key} (from ca), wrong-ca.pem, wrong.{crt,key}.
fn make_pki() -> Pki {
    let dir = common::fresh_dir();
    let (ca, issuer) = new_ca("Moon Test CA");
    let (wrong_ca, wrong_issuer) = new_ca("Wrong CA");
    let (server_crt, server_key) = leaf(
        &["localhost", "127.0.0.1"],
        ExtendedKeyUsagePurpose::ServerAuth,
        &issuer,
    );
    let (client_crt, client_key) = leaf(&["client"], ExtendedKeyUsagePurpose::ClientAuth, &issuer);
    let (wrong_crt, wrong_key) = leaf(
        &["client"],
        ExtendedKeyUsagePurpose::ClientAuth,
        &wrong_issuer,
    );
    for (name, text) in [
        ("ca.pem", ca.pem()),
        ("wrong-ca.pem", wrong_ca.pem()),
        ("server.crt", server_crt),
        ("server.key", server_key),
        ("client.crt", client_crt),
        ("client.key", client_key),
        ("wrong.crt", wrong_crt),
        ("wrong.key", wrong_key),
    ] {
        std::fs::write(dir.join(name), text).expect("write pem");
    }
    Pki { dir }
}

/// The redis crate's rustls needs a process default provider: ring, as the server.
fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Flags of a TLS server on `tls_port`.
fn tls_args(pki: &Pki, tls_port: u16, auth: &str) -> Vec<String> {
    vec![
        "--tls-port".into(),
        tls_port.to_string(),
        "--tls-cert-file".into(),
        pki.path("server.crt"),
        "--tls-key-file".into(),
        pki.path("server.key"),
        "--tls-ca-cert-file".into(),
        pki.path("ca.pem"),
        "--tls-auth-clients".into(),
        auth.into(),
    ]
}

fn start(pki: &Pki, auth: &str, extra: &[&str]) -> (Server, u16) {
    let tls_port = free_port();
    let mut args: Vec<String> = vec!["--shards".into(), "2".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(tls_args(pki, tls_port, auth));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    (Server::start(&refs), tls_port)
}

/// A TLS connection trusting `root`, presenting `client` ("client" or "wrong") if given,
/// and proven by a PING (with TLS 1.3 a refused client certificate shows on first use).
fn tls_conn(
    pki: &Pki,
    port: u16,
    root: &str,
    client: Option<&str>,
) -> redis::RedisResult<redis::Connection> {
    install_provider();
    let certs = TlsCertificates {
        client_tls: client.map(|c| ClientTlsConfig {
            client_cert: pki.read(&format!("{c}.crt")),
            client_key: pki.read(&format!("{c}.key")),
        }),
        root_cert: Some(pki.read(root)),
    };
    let client = redis::Client::build_with_tls(format!("rediss://127.0.0.1:{port}/"), certs)?;
    let mut con = client.get_connection_with_timeout(Duration::from_secs(10))?;
    con.set_read_timeout(Some(IO_TIMEOUT))?;
    con.set_write_timeout(Some(IO_TIMEOUT))?;
    let pong: String = redis::cmd("PING").query(&mut con)?;
    assert_eq!(pong, "PONG");
    Ok(con)
}

fn good(pki: &Pki, port: u16) -> redis::Connection {
    tls_conn(pki, port, "ca.pem", Some("client")).expect("TLS connection with a good cert")
}

/// Real traffic over TLS: small commands, a 1000-command pipeline and a multi-MB value, so
/// replies and requests span many TLS records.
fn exercise(con: &mut redis::Connection) {
    let _: () = redis::cmd("SET").arg("k").arg("v").query(con).expect("SET");
    let v: String = redis::cmd("GET").arg("k").query(con).expect("GET");
    assert_eq!(v, "v");
    let mut pipe = redis::pipe();
    for i in 0..1000 {
        pipe.cmd("SET").arg(format!("p{i}")).arg(i).ignore();
    }
    for i in 0..1000 {
        pipe.cmd("GET").arg(format!("p{i}"));
    }
    let got: Vec<i64> = pipe.query(con).expect("pipeline");
    assert_eq!(got, (0..1000).collect::<Vec<i64>>());
    let big: Vec<u8> = (0..3 * 1024 * 1024 + 17).map(|i| (i % 251) as u8).collect();
    let _: () = redis::cmd("SET")
        .arg("big")
        .arg(&big)
        .query(con)
        .expect("SET big");
    let back: Vec<u8> = redis::cmd("GET").arg("big").query(con).expect("GET big");
    assert_eq!(back.len(), big.len());
    assert!(back == big, "big value corrupted over TLS");
    let n: i64 = redis::cmd("STRLEN").arg("big").query(con).expect("STRLEN");
    assert_eq!(n, big.len() as i64);
}

fn check_backend(io: &str) {
    let pki = make_pki();
    let (s, tls_port) = start(&pki, "yes", &["--io", io]);
    // Several connections so both shards' TLS listeners take some.
    let mut conns: Vec<redis::Connection> = (0..4).map(|_| good(&pki, tls_port)).collect();
    for con in &mut conns {
        exercise(con);
    }
    // The plain port serves at the same time and sees the same data.
    let mut plain = s.client();
    let v: String = redis::cmd("GET")
        .arg("k")
        .query(&mut plain)
        .expect("plain GET");
    assert_eq!(v, "v");
    let n: i64 = redis::cmd("STRLEN")
        .arg("big")
        .query(&mut plain)
        .expect("plain STRLEN");
    assert_eq!(n, 3 * 1024 * 1024 + 17);
    // tls-auth-clients yes: no certificate, or one from another CA, is refused.
    assert!(
        tls_conn(&pki, tls_port, "ca.pem", None).is_err(),
        "a client without a certificate was accepted"
    );
    assert!(
        tls_conn(&pki, tls_port, "ca.pem", Some("wrong")).is_err(),
        "a client certificate from the wrong CA was accepted"
    );
    // The refused handshakes did not disturb the good connections.
    let con = conns.first_mut().expect("a connection");
    let v: String = redis::cmd("GET")
        .arg("k")
        .query(con)
        .expect("GET after refusals");
    assert_eq!(v, "v");
    // CLIENT LIST / CLIENT INFO of a TLS client name the TLS port as its local address.
    let info: String = redis::cmd("CLIENT")
        .arg("INFO")
        .query(con)
        .expect("CLIENT INFO");
    assert!(
        info.contains(&format!("laddr=127.0.0.1:{tls_port}")),
        "CLIENT INFO: {info}"
    );
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query(con)
        .expect("CLIENT LIST");
    assert!(list.lines().count() >= 5, "CLIENT LIST: {list}");
    drop(conns);
    assert!(!s.log().contains("panicked"), "{}", s.log());
}

#[test]
fn tls_on_io_uring() {
    check_backend("uring");
}

#[test]
fn tls_on_epoll() {
    check_backend("epoll");
}

#[test]
fn optional_client_certificates() {
    let pki = make_pki();
    let (_s, tls_port) = start(&pki, "optional", &[]);
    let mut con = tls_conn(&pki, tls_port, "ca.pem", None).expect("optional: no cert works");
    let _: () = redis::cmd("SET")
        .arg("a")
        .arg("1")
        .query(&mut con)
        .expect("SET");
    good(&pki, tls_port);
    assert!(
        tls_conn(&pki, tls_port, "ca.pem", Some("wrong")).is_err(),
        "optional still verifies a presented certificate"
    );
}

#[test]
fn untrusted_server_certificate_fails_the_client() {
    let pki = make_pki();
    let (_s, tls_port) = start(&pki, "no", &[]);
    assert!(
        tls_conn(&pki, tls_port, "wrong-ca.pem", None).is_err(),
        "the client trusted a server certificate from another CA"
    );
    // tls-auth-clients no: no certificate needed when the client trusts the right CA.
    tls_conn(&pki, tls_port, "ca.pem", None).expect("auth-clients no without a cert");
}

#[test]
fn config_get_and_set_of_tls_parameters() {
    let pki = make_pki();
    let (s, tls_port) = start(&pki, "optional", &[]);
    let mut c = s.client();
    let got: Vec<(String, String)> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("tls-*")
        .query(&mut c)
        .expect("CONFIG GET");
    let get = |name: &str| {
        got.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{name} missing from {got:?}"))
    };
    assert_eq!(get("tls-port"), tls_port.to_string());
    assert_eq!(get("tls-cert-file"), pki.path("server.crt"));
    assert_eq!(get("tls-key-file"), pki.path("server.key"));
    assert_eq!(get("tls-ca-cert-file"), pki.path("ca.pem"));
    assert_eq!(get("tls-auth-clients"), "optional");

    let set = |c: &mut redis::Connection, name: &str, value: &str| {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg(name)
            .arg(value)
            .query::<()>(c)
            .map_err(|e| e.to_string())
    };
    // As Redis: a bad file is refused and the running configuration is kept.
    let e = set(&mut c, "tls-cert-file", "/nonexistent/cert.pem").expect_err("bad file");
    assert!(
        e.contains(
            "CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs."
        ),
        "{e}"
    );
    let e = set(&mut c, "tls-auth-clients", "maybe").expect_err("bad enum");
    assert!(
        e.contains("argument(s) must be one of the following: no, yes, optional"),
        "{e}"
    );
    // Still optional: a wrong certificate is refused, none is fine.
    assert!(tls_conn(&pki, tls_port, "ca.pem", Some("wrong")).is_err());
    // Changing tls-auth-clients applies to new connections.
    set(&mut c, "tls-auth-clients", "yes").expect("CONFIG SET tls-auth-clients yes");
    assert!(
        tls_conn(&pki, tls_port, "ca.pem", None).is_err(),
        "tls-auth-clients yes set at run time was not applied"
    );
    good(&pki, tls_port);
    set(&mut c, "tls-auth-clients", "no").expect("CONFIG SET tls-auth-clients no");
    tls_conn(&pki, tls_port, "ca.pem", None).expect("tls-auth-clients no at run time");
    if common::is_reference() {
        // Redis can move its TLS port at run time; Moon binds it at start-up only.
        return;
    }
    let e = set(&mut c, "tls-port", "1").expect_err("tls-port is immutable in Moon");
    assert!(e.contains("can't set immutable config"), "{e}");
}

#[test]
fn tls_defaults_match_redis() {
    let s = Server::start(&[]);
    let mut c = s.client();
    let got: Vec<(String, String)> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("tls-*")
        .query(&mut c)
        .expect("CONFIG GET");
    for (name, want) in [
        ("tls-port", "0"),
        ("tls-cert-file", ""),
        ("tls-key-file", ""),
        ("tls-ca-cert-file", ""),
        ("tls-auth-clients", "yes"),
    ] {
        assert!(
            got.iter().any(|(n, v)| n == name && v == want),
            "{name} should be {want:?} in {got:?}"
        );
    }
}

#[test]
fn redis_cli_over_tls() {
    let pki = make_pki();
    let (_s, tls_port) = start(&pki, "yes", &[]);
    let out = Command::new("redis-cli")
        .args(["--tls", "--cacert"])
        .arg(pki.path("ca.pem"))
        .arg("--cert")
        .arg(pki.path("client.crt"))
        .arg("--key")
        .arg(pki.path("client.key"))
        .args(["-h", "127.0.0.1", "-p", &tls_port.to_string(), "ping"])
        .stdin(Stdio::null())
        .output();
    match out {
        Err(e) => {
            println!("SKIPPED redis-cli part: redis-cli not runnable ({e})");
        }
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                text.trim(),
                "PONG",
                "redis-cli stdout {text:?} stderr {err:?}"
            );
        }
    }
}

/// A server started by hand (the harness always passes a plain `--port`).
struct Raw {
    child: Child,
    dir: PathBuf,
}

impl Drop for Raw {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn wait_tls(pki: &Pki, port: u16, child: &mut Child, log: &Path) -> redis::Connection {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(con) = tls_conn(pki, port, "ca.pem", None) {
            return con;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "server exited: {status}\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "TLS port never answered");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn port_zero_serves_tls_only() {
    if common::is_reference() {
        println!("SKIPPED: starts the moon binary directly");
        return;
    }
    let pki = make_pki();
    let tls_port = free_port();
    let dir = common::fresh_dir();
    std::fs::create_dir_all(&dir).expect("dir");
    let log_path = dir.join("server.log");
    let log = std::fs::File::create(&log_path).expect("log");
    let mut args = vec![
        "--port".to_string(),
        "0".into(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--dir".into(),
        dir.display().to_string(),
        "--shards".into(),
        "2".into(),
    ];
    args.extend(tls_args(&pki, tls_port, "no"));
    let child = Command::new(env!("CARGO_BIN_EXE_moon"))
        .args(&args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("spawn moon");
    let mut raw = Raw { child, dir };
    let mut con = wait_tls(&pki, tls_port, &mut raw.child, &log_path);
    exercise(&mut con);
    let port: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("port")
        .query(&mut con)
        .expect("CONFIG GET port");
    assert_eq!(port, ["port", "0"]);
}

#[test]
fn tls_without_certificate_files_refuses_to_start() {
    if common::is_reference() {
        println!("SKIPPED: checks moon's start-up error");
        return;
    }
    let dir = common::fresh_dir();
    let (status, out) = Server::run_to_exit(&dir, &["--tls-port", &free_port().to_string()]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!status.success(), "started without certificates: {out}");
    assert!(out.contains("tls-cert-file"), "{out}");
}
