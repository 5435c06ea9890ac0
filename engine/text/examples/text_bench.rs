//! Deterministic benchmark of moon-text: indexing rate, query throughput (top-10 BM25) and
//! snapshot encode/decode vs rebuild. Run:
//!   cargo run --release -p moon-text --example text_bench -- [--docs N] [--export DIR]
//! `--term-loop N` builds once and runs only the term queries N times (profiling).
//! `--queries-only` builds once and skips the snapshot part (profiling).
//! `--export DIR` writes `corpus.tsv` (id \t text), `queries.txt` (one term query per line)
//! and `moon_top10.tsv` (query \t doc ids by BM25) for benches/text/compare.py.

use std::fmt::Write as _;
use std::time::Instant;

use moon_text::analyzer::DEFAULT_STOPWORDS;
use moon_text::{Analyzer, FieldSpec, QueryTerm, Scorer, TextIndex};
use roaring::RoaringBitmap;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const VOCAB: usize = 30_000;

fn vocabulary(rng: &mut Rng) -> Vec<String> {
    let cons = [
        "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "st", "tr",
        "ch", "br",
    ];
    let vow = ["a", "e", "i", "o", "u", "ea", "ou"];
    let suf = ["", "", "", "s", "ing", "ed", "er", "ly", "ion", "ness"];
    let mut seen = std::collections::HashSet::new();
    let mut v: Vec<String> = DEFAULT_STOPWORDS.iter().map(|s| s.to_string()).collect();
    for w in &v {
        seen.insert(w.clone());
    }
    while v.len() < VOCAB {
        let mut w = String::new();
        for _ in 0..1 + rng.below(3) {
            w.push_str(cons[rng.below(cons.len())]);
            w.push_str(vow[rng.below(vow.len())]);
        }
        w.push_str(cons[rng.below(cons.len())]);
        w.push_str(suf[rng.below(suf.len())]);
        if seen.insert(w.clone()) {
            v.push(w);
        }
    }
    v
}

fn corpus(n: usize) -> (Vec<String>, Vec<String>) {
    let mut rng = Rng(42);
    let vocab = vocabulary(&mut rng);
    // Zipf (s = 1) over ranks: stop words are the most frequent words.
    let mut cdf = Vec::with_capacity(VOCAB);
    let mut acc = 0.0;
    for r in 0..VOCAB {
        acc += 1.0 / (r as f64 + 1.0);
        cdf.push(acc);
    }
    let docs = (0..n)
        .map(|_| {
            let len = 100 + rng.below(101);
            let mut s = String::with_capacity(len * 8);
            for i in 0..len {
                let u = rng.unit() * acc;
                let r = cdf.partition_point(|&c| c < u).min(VOCAB - 1);
                if i > 0 {
                    s.push(' ');
                }
                s.push_str(&vocab[r]);
            }
            s
        })
        .collect();
    (vocab, docs)
}

fn build(docs: &[String]) -> TextIndex {
    let mut idx = TextIndex::new(Analyzer::default(), vec![FieldSpec::new("body")])
        .unwrap_or_else(|e| panic!("{e}"));
    for (i, d) in docs.iter().enumerate() {
        idx.add_document(i as u32, &[(0, d)])
            .unwrap_or_else(|e| panic!("{e}"));
    }
    idx.maintain(0);
    idx
}

/// CPU time of this thread in seconds (Linux schedstat); the machine is shared, so rates are
/// reported both per wall second and per CPU second.
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|x| x.parse::<f64>().ok())
        })
        .map_or(0.0, |ns| ns / 1e9)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median over `runs` of (per-wall-second, per-CPU-second) rates, plus the summed result.
fn qps(runs: usize, n: usize, mut f: impl FnMut() -> usize) -> ((f64, f64), usize) {
    let mut rates = Vec::new();
    let mut cpu_rates = Vec::new();
    let mut sink = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let c = cpu_secs();
        sink += f();
        rates.push(n as f64 / t.elapsed().as_secs_f64());
        cpu_rates.push(n as f64 / (cpu_secs() - c).max(1e-9));
    }
    ((median(rates), median(cpu_rates)), sink)
}

fn show(name: &str, r: (f64, f64)) {
    println!("{name}: {:.0} q/s wall, {:.0} q/s per CPU-second", r.0, r.1);
}

fn top10(idx: &TextIndex, cand: &RoaringBitmap, terms: &[QueryTerm]) -> Vec<(u32, f64)> {
    let st = idx.local_stats(terms);
    idx.top_k(cand, terms, &st, Scorer::Bm25, 10)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let n: usize = arg("--docs").and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let export = arg("--export");
    let (vocab, docs) = corpus(n);
    let words: usize = docs.iter().map(|d| d.split(' ').count()).sum();
    println!("corpus: {n} docs, {words} words, vocabulary {VOCAB}");

    let build_runs = if args.iter().any(|a| a == "--queries-only") {
        1
    } else {
        3
    };
    let mut idx = None;
    let (rates, _) = qps(build_runs, n, || {
        let built = build(&docs);
        let k = built.term_count();
        idx = Some(built);
        k
    });
    let idx = idx.unwrap_or_else(|| unreachable!());
    println!(
        "indexing: {:.0} docs/s wall, {:.0} docs/s per CPU-second (median of 3; {} terms, postings {:.1} MiB)",
        rates.0,
        rates.1,
        idx.term_count(),
        idx.postings_bytes() as f64 / (1 << 20) as f64
    );
    let all = idx.all_fields_mask();
    let mut rng = Rng(7);
    let skip = DEFAULT_STOPWORDS.len();
    let term_q: Vec<&str> = (0..500)
        .map(|_| vocab[skip + 20 + rng.below(3000)].as_str())
        .collect();
    let and_q: Vec<(&str, &str)> = (0..300)
        .map(|_| {
            (
                vocab[skip + rng.below(300)].as_str(),
                vocab[skip + rng.below(1500)].as_str(),
            )
        })
        .collect();
    let phrase_q: Vec<Vec<String>> = (0..300)
        .map(|_| {
            let d: Vec<&str> = docs[rng.below(n)].split(' ').collect();
            let toks: Vec<&str> = d
                .into_iter()
                .filter(|w| !DEFAULT_STOPWORDS.contains(w))
                .collect();
            let i = rng.below(toks.len() - 1);
            vec![toks[i].to_string(), toks[i + 1].to_string()]
        })
        .collect();
    let prefix_q: Vec<String> = (0..200)
        .map(|_| vocab[skip + rng.below(5000)].chars().take(4).collect())
        .collect();
    let fuzzy_q: Vec<&str> = (0..100)
        .map(|_| vocab[skip + rng.below(5000)].as_str())
        .collect();

    if let Some(loops) = arg("--term-loop").and_then(|s| s.parse::<usize>().ok()) {
        // Profiling aid: only the term-query loop, `loops` times.
        let mut sink = 0;
        for _ in 0..loops {
            for w in &term_q {
                let t = vec![idx.term(all, w, false)];
                sink += top10(&idx, &t[0].docs, &t).len();
            }
        }
        println!("term loop done ({sink})");
        return;
    }
    let (r, _) = qps(3, term_q.len(), || {
        term_q
            .iter()
            .map(|w| {
                let t = vec![idx.term(all, w, false)];
                top10(&idx, &t[0].docs, &t).len()
            })
            .sum()
    });
    show("term", r);
    // The server's path for a lone word: postings read directly, block-max pruned top-k.
    let (r, _) = qps(3, term_q.len(), || {
        term_q
            .iter()
            .map(|w| {
                let t = idx.term_keys(all, w, false);
                match idx.direct_count(&t) {
                    Some(n) => idx.top_k_direct(&t, &idx.stats_with(vec![n]), 10).len(),
                    None => {
                        let t = vec![idx.term(all, w, false)];
                        top10(&idx, &t[0].docs, &t).len()
                    }
                }
            })
            .sum()
    });
    show("term (direct postings, block-max pruned)", r);
    let dfs: u64 = term_q
        .iter()
        .map(|w| idx.term(all, w, false).docs.len())
        .sum();
    println!(
        "  (mean matching docs per term query: {})",
        dfs / term_q.len() as u64
    );
    let (r, _) = qps(3, and_q.len(), || {
        and_q
            .iter()
            .map(|(a, b)| {
                let t = vec![idx.term(all, a, false), idx.term(all, b, false)];
                let c = &t[0].docs & &t[1].docs;
                top10(&idx, &c, &t).len()
            })
            .sum()
    });
    show("2-term AND", r);
    let (r, hits) = qps(3, phrase_q.len(), || {
        phrase_q
            .iter()
            .map(|p| {
                let t: Vec<QueryTerm> = p.iter().map(|w| idx.term(all, w, false)).collect();
                let c = idx.phrase(&t, 0, true);
                top10(&idx, &c, &t).len()
            })
            .sum()
    });
    show("phrase", r);
    println!("  (phrase hits per run: {})", hits / 3);
    let (r, _) = qps(3, prefix_q.len(), || {
        prefix_q
            .iter()
            .map(|p| {
                let t = vec![idx.prefix(all, p, 200)];
                top10(&idx, &t[0].docs, &t).len()
            })
            .sum()
    });
    show("prefix (4 chars, ≤200 expansions)", r);
    let (r, _) = qps(3, fuzzy_q.len(), || {
        fuzzy_q
            .iter()
            .map(|w| {
                let t = vec![idx.fuzzy(all, w, 1, 200).unwrap_or_else(|e| panic!("{e}"))];
                top10(&idx, &t[0].docs, &t).len()
            })
            .sum()
    });
    show("fuzzy (distance 1)", r);

    if args.iter().any(|a| a == "--queries-only") {
        return;
    }
    // Snapshot vs rebuild on 10k docs.
    let m = n.min(10_000);
    let small = build(&docs[..m]);
    let mut buf = Vec::new();
    let mut enc = Vec::new();
    let mut dec = Vec::new();
    let mut reb = Vec::new();
    for _ in 0..3 {
        buf.clear();
        let t = cpu_secs();
        small.encode(&mut buf);
        enc.push((cpu_secs() - t) * 1e3);
        let t = cpu_secs();
        let back = TextIndex::decode(&buf).unwrap_or_else(|e| panic!("{e}"));
        dec.push((cpu_secs() - t) * 1e3);
        assert_eq!(back.num_docs(), m as u64);
        let t = cpu_secs();
        let again = build(&docs[..m]);
        reb.push((cpu_secs() - t) * 1e3);
        assert_eq!(again.num_docs(), m as u64);
    }
    println!(
        "snapshot ({m} docs): {:.1} MiB, encode {:.1} ms, decode {:.1} ms, rebuild from text {:.1} ms (CPU time, medians of 3)",
        buf.len() as f64 / (1 << 20) as f64,
        median(enc),
        median(dec),
        median(reb)
    );

    if let Some(dir) = export {
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
        let mut c = String::new();
        for (i, d) in docs.iter().enumerate() {
            let _ = writeln!(c, "{i}\t{d}");
        }
        std::fs::write(dir.join("corpus.tsv"), c).unwrap_or_else(|e| panic!("{e}"));
        let mut q = String::new();
        let mut top = String::new();
        for w in &term_q {
            let t = vec![idx.term(all, w, false)];
            let ids: Vec<String> = top10(&idx, &t[0].docs, &t)
                .iter()
                .map(|(d, _)| d.to_string())
                .collect();
            let _ = writeln!(q, "{w}");
            let _ = writeln!(top, "{w}\t{}", ids.join(" "));
        }
        std::fs::write(dir.join("queries.txt"), q).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("moon_top10.tsv"), top).unwrap_or_else(|e| panic!("{e}"));
        println!("exported corpus, queries and top-10s to {}", dir.display());
    }
}
