//! Key expiry end to end: lazy expiry (an expired key reads as missing the moment its time has
//! passed, whatever the active cycle did) and active expiry (keys nobody touches are reclaimed
//! by the background cycle, so DBSIZE falls to zero on its own).

mod common;

use std::time::Duration;

use common::{Reply, Server, wait_until};

#[test]
fn lazy_expiry_hides_expired_keys() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("SET k v PX 50"), Reply::ok());
    assert_eq!(c.q("SET keep v"), Reply::ok());
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(c.q("GET k"), Reply::NilBulk);
    assert_eq!(c.q("EXISTS k"), Reply::Int(0));
    assert_eq!(c.q("TTL k"), Reply::Int(-2));
    assert_eq!(c.q("GET keep"), Reply::bulk("v"));

    // Every read path agrees that an expired key is gone.
    c.q("SET a 1 PX 30");
    c.q("SET b 2 PX 30");
    std::thread::sleep(Duration::from_millis(80));
    assert_eq!(
        c.q("MGET a b keep"),
        Reply::Array(vec![Reply::NilBulk, Reply::NilBulk, Reply::bulk("v")])
    );
    assert_eq!(c.q("STRLEN a"), Reply::Int(0));
    assert_eq!(
        c.q("INCR b"),
        Reply::Int(1),
        "INCR on an expired key starts from 0"
    );
    assert_eq!(c.q("TTL b"), Reply::Int(-1));
    assert_eq!(
        c.q("SET a x NX"),
        Reply::ok(),
        "NX sees the expired key as absent"
    );
}

#[test]
fn active_expiry_reclaims_untouched_keys() {
    let s = Server::start(&["--hz", "10"]);
    let mut c = s.conn();
    let mut buf = Vec::new();
    for i in 0..1000 {
        buf.extend(common::resp::encode(&[
            "SET",
            &format!("exp:{i}"),
            "v",
            "PX",
            "100",
        ]));
    }
    c.send_raw(&buf);
    for _ in 0..1000 {
        assert_eq!(c.read(), Reply::ok());
    }
    c.q("SET keep v");
    // Only DBSIZE is asked, which must not itself expire keys one by one.
    let drained = wait_until(Duration::from_secs(20), || c.q("DBSIZE") == Reply::Int(1));
    assert!(drained, "active expiry left {:?} keys", c.q("DBSIZE"));
    assert_eq!(c.q("GET keep"), Reply::bulk("v"));
}

#[test]
fn expired_keys_leave_keys_and_scan_listings() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("SET live 1");
    c.q("SET gone 1 PX 20");
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(c.q("KEYS *"), Reply::bulks(&["live"]));
    assert_eq!(c.q("RANDOMKEY"), Reply::bulk("live"));
}
