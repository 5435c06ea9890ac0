//! Runs a query nested to the limit on a thread with a given stack size (KiB):
//! `cargo run -p moon-cypher --example stack_probe -- 256`.
fn main() {
    let kb: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2048);
    let n = moon_cypher::limits::MAX_NESTING_DEPTH / 2;
    let q = format!("RETURN {}1{}", "({a: ".repeat(n), "})".repeat(n));
    let r = std::thread::Builder::new()
        .stack_size(kb << 10)
        .spawn(move || moon_cypher::compile(&q).map(|_| ()).map_err(|e| e.message))
        .map(|h| h.join());
    println!("{kb} KiB, {n} levels of ({{a: : {r:?}");
}
