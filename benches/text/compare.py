#!/usr/bin/env python3
"""Compares moon-text with tantivy (tantivy-py) on the corpus exported by moon-text's bench.

    cargo run --release -p moon-text --example text_bench -- --export /tmp/moon-text-bench
    python3 benches/text/compare.py /tmp/moon-text-bench

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


def main():
    ensure_tantivy()
    import tantivy

    d = sys.argv[1] if len(sys.argv) > 1 else "/tmp/moon-text-bench"
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


if __name__ == "__main__":
    main()
