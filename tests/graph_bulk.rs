//! Bulk graph loads end to end against `moon --shards 2`: `UNWIND $rows` batches as the graph
//! benchmark sends them, 2-hop counts from a hub that stay exact while the server's idle tick
//! compacts what the load left in the adjacency deltas, and the slow logs (SLOWLOG, which cuts
//! arguments as Redis does, and GRAPH.SLOWLOG, which keeps whole queries) after big queries.

mod common;

use common::Server;
use common::resp::Conn;

const KEY: &str = "bulk";

fn query(c: &mut Conn, text: &str) -> common::Reply {
    let r = c.cmd(&["GRAPH.QUERY", KEY, text, "--compact"]);
    assert!(
        matches!(&r, common::Reply::Array(items) if !items.is_empty()),
        "{text:.80}: {r:?}"
    );
    r
}

/// The single integer of a one-row, one-column `--compact` result.
fn scalar(c: &mut Conn, text: &str) -> i64 {
    let r = query(c, text);
    r.items()[1].items()[0].items()[0].items()[1].int()
}

/// `n` nodes and `m` edges between them, skewed so that node 0 is a hub.
fn edges(n: u64, m: u64) -> Vec<(u64, u64)> {
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..m)
        .map(|_| {
            let a = if next() % 8 == 0 { 0 } else { next() % n };
            (a, next() % n)
        })
        .collect()
}

fn load(c: &mut Conn, n: u64, pairs: &[(u64, u64)], batch: usize) {
    query(c, "CREATE INDEX FOR (p:P) ON (p.id)");
    let ids: Vec<u64> = (0..n).collect();
    for chunk in ids.chunks(batch) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|i| format!("{{id:{i},name:'p{i}'}}"))
            .collect();
        query(
            c,
            &format!(
                "CYPHER rows=[{}] UNWIND $rows AS r CREATE (:P {{id: r.id, name: r.name}})",
                rows.join(",")
            ),
        );
    }
    for chunk in pairs.chunks(batch) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|(a, b)| format!("{{a:{a},b:{b}}}"))
            .collect();
        query(
            c,
            &format!(
                "CYPHER rows=[{}] UNWIND $rows AS e MATCH (a:P {{id: e.a}}), (b:P {{id: e.b}}) \
                 CREATE (a)-[:R]->(b)",
                rows.join(",")
            ),
        );
    }
}

/// Paths `(h)-[e1]->(b)-[e2]->(f)` with `e1 != e2`, counted from the edge list.
fn two_hops(pairs: &[(u64, u64)], h: u64) -> i64 {
    let out = |v: u64| pairs.iter().filter(|p| p.0 == v).count() as i64;
    pairs
        .iter()
        .filter(|p| p.0 == h)
        // The only way e2 can be e1 is a self-loop at h, followed twice.
        .map(|&(_, b)| out(b) - i64::from(b == h))
        .sum()
}

fn hop_counts(c: &mut Conn, probes: &[u64]) -> Vec<i64> {
    probes
        .iter()
        .flat_map(|h| {
            [
                scalar(
                    c,
                    &format!("CYPHER id={h} MATCH (p:P {{id: $id}})-[:R]->(f) RETURN count(f)"),
                ),
                scalar(
                    c,
                    &format!(
                        "CYPHER id={h} MATCH (p:P {{id: $id}})-[:R]->()-[:R]->(f) RETURN count(f)"
                    ),
                ),
            ]
        })
        .collect()
}

#[test]
fn hub_counts_stay_exact_while_the_idle_tick_compacts() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    let (n, pairs) = (3000, edges(3000, 24_000));
    load(&mut c, n, &pairs, 2000);
    let probes = [0, 1, 7, 2999];
    let want: Vec<i64> = probes
        .iter()
        .flat_map(|&h| {
            let out = pairs.iter().filter(|p| p.0 == h).count() as i64;
            [out, two_hops(&pairs, h)]
        })
        .collect();
    assert!(
        want[0] > 2500 && want[1] > 20_000,
        "node 0 is a hub: {want:?}"
    );
    assert_eq!(hop_counts(&mut c, &probes), want, "right after the load");
    // Ticks run every 100 ms; a few of them finish any compaction the load left.
    for _ in 0..6 {
        std::thread::sleep(std::time::Duration::from_millis(250));
        assert_eq!(hop_counts(&mut c, &probes), want, "while the tick compacts");
    }
    // Writes after an idle compaction: deletions become dead entries of the new CSR.
    let doomed = "MATCH (a:P {id: 0})-[r:R]->(b:P) WHERE b.id < 100";
    let gone = scalar(&mut c, &format!("{doomed} RETURN count(r)"));
    query(&mut c, &format!("{doomed} DELETE r"));
    let kept: Vec<(u64, u64)> = pairs
        .iter()
        .copied()
        .filter(|&(a, b)| !(a == 0 && b < 100))
        .collect();
    assert!(gone > 0);
    assert_eq!(gone as usize, pairs.len() - kept.len());
    let want: Vec<i64> = probes
        .iter()
        .flat_map(|&h| {
            let out = kept.iter().filter(|p| p.0 == h).count() as i64;
            [out, two_hops(&kept, h)]
        })
        .collect();
    assert_eq!(hop_counts(&mut c, &probes), want, "after deleting");
    std::thread::sleep(std::time::Duration::from_millis(600));
    assert_eq!(
        hop_counts(&mut c, &probes),
        want,
        "after the next idle compaction"
    );
}

#[test]
fn slow_logs_after_a_big_query() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]),
        common::Reply::ok()
    );
    let rows: Vec<String> = (0..20_000).map(|i| format!("{{id:{i}}}")).collect();
    let text = format!(
        "CYPHER rows=[{}] UNWIND $rows AS r CREATE (:N {{id: r.id}})",
        rows.join(",")
    );
    assert!(text.len() > 200_000);
    query(&mut c, &text);
    assert_eq!(scalar(&mut c, "MATCH (n:N) RETURN count(n)"), 20_000);
    // SLOWLOG cuts the query to 128 bytes, as Redis does.
    let entries = c.cmd(&["SLOWLOG", "GET", "10"]).items();
    let big = entries
        .iter()
        .map(|e| e.items()[3].items())
        .find(|argv| argv.len() == 4 && argv[2].text().starts_with("CYPHER rows=[{id:0}"))
        .expect("the big query is in SLOWLOG");
    assert_eq!(big[0].text(), "GRAPH.QUERY");
    assert_eq!(big[1].text(), KEY);
    let cut = format!("{}... ({} more bytes)", &text[..128], text.len() - 128);
    assert_eq!(big[2].text(), cut);
    assert_eq!(big[3].text(), "--compact");
    // GRAPH.SLOWLOG keeps the whole query text.
    let slow = c.cmd(&["GRAPH.SLOWLOG", KEY]).items();
    let whole = slow
        .iter()
        .find(|e| e.items()[2].text().len() == text.len())
        .expect("the big query is in GRAPH.SLOWLOG");
    assert_eq!(whole.items()[1].text(), "GRAPH.QUERY");
    assert_eq!(whole.items()[2].text(), text);
}
