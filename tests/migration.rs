//! Connection migration (`migrate-connections`, SPEC §1.8) end to end with `--shards 2`: a
//! connection whose commands keep going to the other shard's keys moves there and keeps its
//! id, name, database and reply order; a long pipeline written in odd-sized pieces while it
//! moves is answered exactly once each, in order; WATCH state pins a connection; `no` turns
//! moves off. On both I/O backends, and under `appendfsync always`.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

use common::resp::encode;
use common::{Server, keys_on_shards};

fn migrated(con: &mut redis::Connection) -> u64 {
    let info: String = redis::cmd("INFO").arg("stats").query(con).expect("INFO");
    let fields = common::info_fields(&info);
    common::field(&fields, "migrated_connections")
        .parse()
        .expect("migrated_connections")
}

fn args(backend: &str) -> Vec<&str> {
    let mut a = common::TWO_SHARDS_NO_WAL.to_vec();
    a.extend(["--io", backend]);
    a
}

/// One key on each shard: whichever shard a connection lands on, one of them is foreign.
fn both_shard_keys(prefix: &str) -> Vec<String> {
    keys_on_shards(prefix, 2, 2)
}

fn moves_and_keeps_state(backend: &str) {
    let s = Server::start(&args(backend));
    let mut admin = s.client();
    let before = migrated(&mut admin);
    let mut con = s.client();
    let id: u64 = redis::cmd("CLIENT").arg("ID").query(&mut con).unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("mover")
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("SELECT").arg(3).query(&mut con).unwrap();
    let keys = both_shard_keys("mig");
    for key in &keys {
        for i in 1..=100i64 {
            let n: i64 = redis::cmd("INCR").arg(key).query(&mut con).unwrap();
            assert_eq!(n, i, "INCR {key} answered out of order");
        }
    }
    assert!(
        migrated(&mut admin) > before,
        "a connection that sent 100 commands to a foreign shard's key did not move"
    );
    let after_id: u64 = redis::cmd("CLIENT").arg("ID").query(&mut con).unwrap();
    assert_eq!(after_id, id, "the client id changed with the move");
    let name: String = redis::cmd("CLIENT").arg("GETNAME").query(&mut con).unwrap();
    assert_eq!(name, "mover");
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut admin).unwrap();
    let mine: Vec<&str> = list
        .lines()
        .filter(|l| l.contains(&format!("id={id} ")))
        .collect();
    assert_eq!(
        mine.len(),
        1,
        "CLIENT LIST shows the moved client once: {list}"
    );
    assert!(mine[0].contains("db=3") && mine[0].contains("name=mover"));
    // Still in db 3: the keys are there, not in db 0.
    for key in &keys {
        let v: i64 = redis::cmd("GET").arg(key).query(&mut con).unwrap();
        assert_eq!(v, 100);
        let in0: Option<i64> = redis::cmd("GET").arg(key).query(&mut admin).unwrap();
        assert_eq!(in0, None);
    }
    // CLIENT KILL finds it on its new shard.
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query(&mut admin)
        .unwrap();
    assert_eq!(killed, 1);
    assert!(redis::cmd("PING").query::<String>(&mut con).is_err());
}

#[test]
fn a_connection_moves_and_keeps_its_state_uring() {
    moves_and_keeps_state("uring");
}

#[test]
fn a_connection_moves_and_keeps_its_state_epoll() {
    moves_and_keeps_state("epoll");
}

/// Writes `n` INCRs of each key as one stream cut into odd-sized pieces, while another thread
/// reads the replies: each is answered once, in order, across however many moves.
fn pipeline_survives_moves(args: &[&str]) {
    let s = Server::start(args);
    let mut admin = s.client();
    let before = migrated(&mut admin);
    let keys = both_shard_keys("pipe");
    let n = 3000usize;
    let mut bytes = Vec::new();
    for key in &keys {
        for _ in 0..n {
            bytes.extend(encode(&["INCR".to_string(), key.clone()]));
        }
    }
    let mut sock = s.raw();
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let reader = sock.try_clone().unwrap();
    let total = keys.len() * n;
    let read = std::thread::spawn(move || {
        let mut r = BufReader::new(reader);
        let mut got = Vec::with_capacity(total);
        let mut line = String::new();
        for _ in 0..total {
            line.clear();
            r.read_line(&mut line).expect("reply");
            got.push(line.trim_end().to_string());
        }
        got
    });
    for (i, piece) in bytes.chunks(4093).enumerate() {
        sock.write_all(piece).unwrap();
        if i % 3 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let got = read.join().expect("reader");
    let want: Vec<String> = keys
        .iter()
        .flat_map(|_| (1..=n).map(|i| format!(":{i}")))
        .collect();
    assert_eq!(got.len(), want.len());
    if let Some(i) = (0..want.len()).find(|&i| got[i] != want[i]) {
        panic!("reply {i} is {:?}, expected {:?}", got[i], want[i]);
    }
    assert!(
        migrated(&mut admin) > before,
        "the pipelined connection never moved"
    );
}

#[test]
fn a_pipeline_written_in_pieces_survives_moves_uring() {
    pipeline_survives_moves(&args("uring"));
}

/// Under `appendfsync always` replies wait for the WAL commit in flight (SPEC §1.7): a
/// connection moves only once nothing of its output is held.
#[test]
fn a_pipeline_survives_moves_under_appendfsync_always() {
    pipeline_survives_moves(&common::TWO_SHARDS_WAL_ALWAYS);
}

#[test]
fn a_pipeline_written_in_pieces_survives_moves_epoll() {
    pipeline_survives_moves(&args("epoll"));
}

#[test]
fn watch_pins_a_connection_and_still_aborts() {
    let s = Server::start(&common::TWO_SHARDS_NO_WAL);
    let mut admin = s.client();
    let before = migrated(&mut admin);
    let mut con = s.client();
    let watched = keys_on_shards("watched", 1, 2).remove(0);
    let _: () = redis::cmd("WATCH").arg(&watched).query(&mut con).unwrap();
    // One of these keys is on the other shard: without the pin the connection would move.
    for key in both_shard_keys("watch") {
        for _ in 0..100 {
            let _: Option<String> = redis::cmd("GET").arg(&key).query(&mut con).unwrap();
        }
    }
    let _: () = redis::cmd("SET")
        .arg(&watched)
        .arg("changed")
        .query(&mut admin)
        .unwrap();
    let res: Option<Vec<String>> = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg(&watched)
        .arg("mine")
        .query(&mut con)
        .unwrap();
    assert_eq!(res, None, "EXEC after a watched key changed must abort");
    let v: String = redis::cmd("GET").arg(&watched).query(&mut admin).unwrap();
    assert_eq!(v, "changed");
    // The admin connection's own few commands never reach the threshold.
    assert_eq!(migrated(&mut admin), before, "a watching connection moved");
}

#[test]
fn config_no_turns_moves_off() {
    let mut a = common::TWO_SHARDS_NO_WAL.to_vec();
    a.extend(["--migrate-connections", "no"]);
    let s = Server::start(&a);
    let mut con = s.client();
    let v: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("migrate-connections")
        .query(&mut con)
        .unwrap();
    assert_eq!(v, ["migrate-connections", "no"]);
    for key in both_shard_keys("off") {
        for _ in 0..200 {
            let _: i64 = redis::cmd("INCR").arg(&key).query(&mut con).unwrap();
        }
    }
    assert_eq!(migrated(&mut con), 0);
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("migrate-connections")
        .arg("yes")
        .query(&mut con)
        .unwrap();
    // The setting is read at the next tick (at most 1/hz s).
    std::thread::sleep(Duration::from_millis(300));
    for key in both_shard_keys("on") {
        for _ in 0..200 {
            let _: i64 = redis::cmd("INCR").arg(&key).query(&mut con).unwrap();
        }
    }
    assert!(
        migrated(&mut con) > 0,
        "CONFIG SET migrate-connections yes had no effect"
    );
}
