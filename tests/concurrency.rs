//! Many concurrent clients end to end: 200 threads, each with its own connection, doing
//! SET/GET/INCR on private and shared keys, across one and four shards; final values are exact
//! (no lost update, no cross-talk between connections).

mod common;

use std::sync::{Arc, Barrier};

use common::{Reply, Server};

const CLIENTS: usize = 200;
const ROUNDS: i64 = 50;
const SHARED: usize = 8;

fn hammer(shards: &str) {
    let s = Server::start(&["--shards", shards]);
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|t| {
            let mut c = s.conn();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let own = format!("own:{t}");
                for r in 0..ROUNDS {
                    let v = format!("{t}:{r}");
                    assert_eq!(c.cmd(&["SET", &own, &v]), Reply::ok());
                    assert_eq!(c.cmd(&["GET", &own]), Reply::bulk(&v));
                    assert_eq!(c.cmd(&["INCR", &format!("cnt:{t}")]), Reply::Int(r + 1));
                    let shared = format!("shared:{}", (t + r as usize) % SHARED);
                    assert!(c.cmd(&["INCR", &shared]).int() > 0);
                    assert!(c.q("INCR total").int() > 0);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("client thread");
    }
    let mut c = s.conn();
    let total = CLIENTS as i64 * ROUNDS;
    assert_eq!(c.q("GET total"), Reply::bulk(total.to_string()));
    let mut shared_sum = 0;
    for k in 0..SHARED {
        shared_sum += c
            .q(&format!("GET shared:{k}"))
            .text()
            .parse::<i64>()
            .unwrap();
    }
    assert_eq!(shared_sum, total);
    for t in 0..CLIENTS {
        assert_eq!(
            c.q(&format!("GET cnt:{t}")),
            Reply::bulk(ROUNDS.to_string())
        );
        assert_eq!(
            c.q(&format!("GET own:{t}")),
            Reply::bulk(format!("{t}:{}", ROUNDS - 1))
        );
    }
    assert_eq!(c.q("DBSIZE"), Reply::Int((2 * CLIENTS + SHARED + 1) as i64));
}

#[test]
fn two_hundred_clients_one_shard() {
    hammer("1");
}

#[test]
fn two_hundred_clients_four_shards() {
    hammer("4");
}
