//! What the in-process graph benchmarks of this crate share (`query_bench`, `load_bench`): a
//! deterministic generator, the thread's CPU clock, and `benches/graph`'s social dataset, so
//! both build the same graph from the same seed.

/// xorshift64: deterministic and cheap; not for anything but benchmark data.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// CPU nanoseconds of this thread (the machine is shared: rates per CPU time, not wall time).
pub fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(0)
}

/// `(id, name, age)` people.
pub type People = Vec<(u64, String, u64)>;

/// The dataset: `nodes` `(id, name, age)` people and `edges` `(a, b)` endpoints, Zipf(0.8)
/// over two random rankings (out and in), no self-loops.
pub fn social_dataset(nodes: u64, edges: u64) -> (People, Vec<(u64, u64)>) {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let people = (0..nodes)
        .map(|i| (i, format!("p{i}"), 18 + rng.below(63)))
        .collect();
    let mut cum = Vec::with_capacity(nodes as usize);
    let mut total = 0.0f64;
    for r in 0..nodes {
        total += 1.0 / ((r + 1) as f64).powf(0.8);
        cum.push(total);
    }
    let shuffled = |rng: &mut XorShift| {
        let mut v: Vec<u64> = (0..nodes).collect();
        for i in (1..v.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
        v
    };
    let out_rank = shuffled(&mut rng);
    let in_rank = shuffled(&mut rng);
    let pick = |rng: &mut XorShift| {
        let x = rng.unit() * total;
        cum.partition_point(|&c| c < x).min(nodes as usize - 1)
    };
    let pairs = (0..edges)
        .map(|_| {
            let a = out_rank[pick(&mut rng)];
            let mut b = in_rank[pick(&mut rng)];
            if a == b {
                b = (b + 1) % nodes;
            }
            (a, b)
        })
        .collect();
    (people, pairs)
}
