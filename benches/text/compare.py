#!/usr/bin/env python3
"""Compares moon-text with tantivy (tantivy-py) on the corpus exported by moon-text's bench.

    cargo run --release -p moon-text --example text_bench -- --export /tmp/moon-text-bench
    python3 benches/text/compare.py /tmp/moon-text-bench

    python3 benches/text/compare.py /tmp/moon-text-bench --resp 6399 [--pid PID] [--redis-benchmark]

With `--resp PORT` it also benchmarks a running `moon` through RESP (one client, plain
sockets): FT.CREATE + pipelined HSETs (indexing docs/s, batches of 200), then one query at a
time: term, exact phrase (two consecutive corpus words), prefix (4 chars + `*`) and fuzzy
(`%word%`) FT.SEARCH ... NOCONTENT LIMIT 0 10 (each list 5 times per measurement, best of
3), reporting q/s per wall second and, with
`--pid`, per CPU-second of the server process (utime + stime from /proc); and the top-10
overlap of the RESP term results with tantivy's. `--redis-benchmark` then measures server
throughput as a server is used: `redis-benchmark -c 8 -P 16` on PING and on FT.SEARCH for four
terms (most frequent .. rarest), NOCONTENT and with content, against tantivy's in-process
q/s for the same term (see rb_bench). The server should run with `--shards 1`
and an empty keyspace (the script sends FLUSHALL).

Creates a venv (benches/text/.venv, or $MOON_TEXT_VENV) with `tantivy` on first use and
re-runs itself inside it. Indexes corpus.tsv with one writer thread, a simple tokenizer +
lowercase + RediSearch's default stop words + English Snowball stemmer (the same analysis as
moon-text), then reports tantivy's docs/s, term-query QPS (top-10 BM25) and the mean top-10
overlap with moon_top10.tsv. Rates are medians of 3, per wall second and per CPU second
(time.process_time, all threads of the process; the machine may be shared).
"""
import os
import statistics
import subprocess
import sys
import time

STOPWORDS = ["a", "is", "the", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if",
             "in", "into", "it", "no", "not", "of", "on", "or", "such", "that", "their", "then",
             "there", "these", "they", "this", "to", "was", "will", "with"]


def ensure_tantivy():
    try:
        import tantivy  # noqa: F401
        return
    except ImportError:
        pass
    venv = os.environ.get("MOON_TEXT_VENV", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".venv"))
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", venv])
        subprocess.check_call([py, "-m", "pip", "install", "-q", "tantivy"])
    os.execv(py, [py] + sys.argv)


def timed(f, runs=3):
    walls, cpus, out = [], [], None
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        out = f()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), out


class Resp:
    """A minimal RESP2 client (no dependency): pipelined commands, parsed replies."""

    def __init__(self, port):
        import socket
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError(f"unexpected reply {line!r}")

    def pipeline(self, cmds):
        self.sock.sendall(b"".join(self.encode(c) for c in cmds))
        return [self.read() for _ in cmds]

    def call(self, *args):
        return self.pipeline([args])[0]


def server_cpu(pid):
    if pid is None:
        return None
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rates(label, n, wall, cpu):
    extra = f", {n / cpu:.0f} per server CPU-second" if cpu else ""
    print(f"moon RESP {label}: {n / wall:.0f}/s wall{extra}")


def resp_bench(port, pid, docs, queries, tantivy_top):
    r = Resp(port)
    r.call("FLUSHALL")
    try:
        # FLUSHALL empties indexes but keeps their definitions (as RediSearch): start afresh.
        r.call("FT.DROPINDEX", "bench")
    except RuntimeError:
        pass
    r.call("FT.CREATE", "bench", "PREFIX", "1", "doc:", "SCHEMA", "body", "TEXT")
    c0, w0 = server_cpu(pid), time.perf_counter()
    batch = 200
    for at in range(0, len(docs), batch):
        r.pipeline([("HSET", f"doc:{i}", "body", text) for i, text in docs[at:at + batch]])
    wall = time.perf_counter() - w0
    cpu = server_cpu(pid) - c0 if pid else None
    rates(f"indexing ({len(docs)} docs, HSET pipelines of {batch})", len(docs), wall, cpu)
    info = r.call("FT.INFO", "bench")
    num_docs = info[info.index(b"num_docs") + 1]
    print(f"  FT.INFO num_docs {num_docs.decode()}")

    words = [t.split() for _, t in docs[:2000]]
    phrases = []
    for ws in words:
        for a, b in zip(ws, ws[1:]):
            if a not in STOPWORDS and b not in STOPWORDS:
                phrases.append(f'"{a} {b}"')
                break
        if len(phrases) >= len(queries):
            break
    prefixes = [q[:4] + "*" for q in queries if len(q) >= 4]
    fuzzies = [f"%{q}%" for q in queries if len(q) >= 4]

    def run(qs):
        out = {}
        for q in qs:
            rep = r.call("FT.SEARCH", "bench", q, "NOCONTENT", "LIMIT", "0", "10")
            out[q] = [int(k.split(b":")[1]) for k in rep[1:]]
        return out

    results = {}
    # Each measurement runs the list 5 times: the server's CPU time has clock-tick (10 ms)
    # resolution.
    reps = 5
    for label, qs in [("term", queries), ("phrase", phrases), ("prefix", prefixes), ("fuzzy", fuzzies)]:
        best = None
        for _ in range(3):
            c0, w0 = server_cpu(pid), time.perf_counter()
            for _ in range(reps):
                out = run(qs)
            wall = time.perf_counter() - w0
            cpu = server_cpu(pid) - c0 if pid else None
            if best is None or wall < best[0]:
                best = (wall, cpu)
            results[label] = out
        n = len(qs) * reps
        rates(f"{label} queries ({n}, top 10, one client, best of 3)", n, best[0], best[1])
    if tantivy_top is not None:
        overlaps = []
        for q in queries:
            a, b = set(results["term"][q]), set(tantivy_top[q])
            denom = max(len(a), len(b))
            overlaps.append(1.0 if denom == 0 else len(a & b) / denom)
        print(f"top-10 overlap moon RESP vs tantivy (BM25): mean {statistics.mean(overlaps):.3f}, "
              f"min {min(overlaps):.2f} over {len(queries)} term queries")


def rb_rps(port, clients, pipeline, n, *cmd):
    """Runs redis-benchmark for one command; returns its requests per second."""
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", str(clients), "-P", str(pipeline),
                          "-n", str(n), "-q", *cmd], capture_output=True, text=True, check=True).stdout
    # -q prints "<name>: <rps> requests per second..." (carriage-return progress lines first)
    line = out.replace("\r", "\n").strip().splitlines()[-1]
    return float(line.split(":", 1)[1].split()[0])


def rb_bench(port, pid, index, searcher, queries, clients=8, pipeline=16, n=200000):
    """Server throughput with redis-benchmark vs tantivy's in-process per-term rate.

    Four terms of the query list: the most frequent, the quartile, the median and the rarest
    (document frequency from tantivy). Per term: tantivy's in-process q/s (query parse + top-10
    search, 3000 times) and moon's redis-benchmark q/s (NOCONTENT, then with content), per
    wall second and, with --pid, per server CPU-second (the machine may be shared, so wall
    throughput understates the server).
    """
    df = sorted(((searcher.search(index.parse_query(q, ["body"]), 10).count, q) for q in queries),
                reverse=True)
    picks = [df[0], df[len(df) // 4], df[len(df) // 2], df[-1]]
    opts = f"-c {clients} -P {pipeline} -n {n}"

    def measured(n, *cmd):
        c0 = server_cpu(pid) if pid else None
        rps = rb_rps(port, clients, pipeline, n, *cmd)
        if pid is None:
            return f"{rps:.0f} q/s wall", rps
        cpu = server_cpu(pid) - c0
        per_cpu = n / cpu if cpu > 0 else float("inf")
        return f"{rps:.0f} q/s wall, {per_cpu:.0f} per server CPU-second", per_cpu

    ping, _ = measured(n * 5, "PING")
    print(f"redis-benchmark {opts} PING: {ping}")
    for count, q in picks:
        reps = 3000
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(reps):
            searcher.search(index.parse_query(q, ["body"]), 10)
        tw, tc = reps / (time.perf_counter() - t0), reps / (time.process_time() - c0)
        # Ratios compare like with like: CPU-second rates with --pid, wall rates without.
        tq = tw if pid is None else tc
        nc, ncr = measured(n, "FT.SEARCH", "bench", q, "NOCONTENT", "LIMIT", "0", "10")
        wc, wcr = measured(n // 4, "FT.SEARCH", "bench", q, "LIMIT", "0", "10")
        print(f"term {q!r} (df {count}): tantivy in-process {tw:.0f} q/s wall, {tc:.0f} per CPU-second; "
              f"moon redis-benchmark NOCONTENT {nc} ({ncr / tq:.2f}x), "
              f"with content {wc} ({wcr / tq:.2f}x)")


def main():
    ensure_tantivy()
    import tantivy

    args = sys.argv[1:]
    port = pid = None
    rb = "--redis-benchmark" in args
    if rb:
        args.remove("--redis-benchmark")
    if "--resp" in args:
        at = args.index("--resp")
        port = int(args[at + 1])
        del args[at:at + 2]
    if "--pid" in args:
        at = args.index("--pid")
        pid = int(args[at + 1])
        del args[at:at + 2]
    d = args[0] if args else "/tmp/moon-text-bench"
    docs = []
    with open(os.path.join(d, "corpus.tsv"), encoding="utf-8") as f:
        for line in f:
            i, text = line.rstrip("\n").split("\t", 1)
            docs.append((int(i), text))
    queries = [q.strip() for q in open(os.path.join(d, "queries.txt"), encoding="utf-8") if q.strip()]
    moon = {}
    for line in open(os.path.join(d, "moon_top10.tsv"), encoding="utf-8"):
        q, _, ids = line.rstrip("\n").partition("\t")
        moon[q] = [int(x) for x in ids.split()] if ids else []

    analyzer = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
                .filter(tantivy.Filter.lowercase())
                .filter(tantivy.Filter.custom_stopword(STOPWORDS))
                .filter(tantivy.Filter.stemmer("english"))
                .build())

    def build():
        sb = tantivy.SchemaBuilder()
        sb.add_unsigned_field("id", stored=True, indexed=True, fast=True)
        sb.add_text_field("body", stored=False, tokenizer_name="moon")
        schema = sb.build()
        index = tantivy.Index(schema)  # in RAM, like moon-text
        index.register_tokenizer("moon", analyzer)
        w = index.writer(heap_size=256_000_000, num_threads=1)
        for i, text in docs:
            doc = tantivy.Document()
            doc.add_unsigned("id", i)
            doc.add_text("body", text)
            w.add_document(doc)
        w.commit()
        w.wait_merging_threads()
        index.reload()
        return index

    wall, cpu, index = timed(build)
    n = len(docs)
    print(f"tantivy indexing: {n / wall:.0f} docs/s wall, {n / cpu:.0f} docs/s per CPU-second (median of 3)")
    searcher = index.searcher()

    def run_queries():
        res = {}
        for q in queries:
            query = index.parse_query(q, ["body"])
            hits = searcher.search(query, 10).hits
            res[q] = [searcher.doc(addr)["id"][0] for _, addr in hits]
        return res

    def run_queries_ids_only():
        k = 0
        for q in queries:
            k += len(searcher.search(index.parse_query(q, ["body"]), 10).hits)
        return k

    wall, cpu, _ = timed(run_queries_ids_only)
    nq = len(queries)
    print(f"tantivy term: {nq / wall:.0f} q/s wall, {nq / cpu:.0f} q/s per CPU-second "
          f"(median of 3, includes query parsing and Python call overhead)")
    res = run_queries()
    overlaps = []
    for q in queries:
        a, b = set(moon.get(q, [])), set(res[q])
        denom = max(len(a), len(b))
        overlaps.append(1.0 if denom == 0 else len(a & b) / denom)
    print(f"top-10 overlap moon vs tantivy (BM25): mean {statistics.mean(overlaps):.3f}, "
          f"min {min(overlaps):.2f} over {nq} term queries")
    if port is not None:
        resp_bench(port, pid, docs, queries, res)
        if rb:
            rb_bench(port, pid, index, searcher, queries)


if __name__ == "__main__":
    main()
