#!/usr/bin/env python3
"""Side-by-side vector search benchmark: moon-vector vs hnswlib vs faiss, same data, same ground truth.

Creates a venv (default target/vector-venv) with numpy, hnswlib and faiss-cpu; builds
moon-vector's `vector_bench` example (release); writes the dataset file with it (seeded clustered
synthetic set, or pass --file); measures, single-threaded and pinned with `taskset -c CPU` when
available:

  moon   FP32 HNSW, TQ1/2/4/8 HNSW (+ exact rerank of the beam), FLAT   (vector_bench)
  hnswlib  HNSW, M=16, efC=200, num_threads=1, batch knn_query per ef
  faiss    IndexHNSWFlat(M=16, efC=200) and IndexHNSWSQ(QT_8bit, M=16), omp 1 thread

Each configuration runs --runs times (default 3); the table shows the median insert rate, recall@10
and QPS per EF_RUNTIME. Rates are per CPU second of the benchmark thread (CLOCK_THREAD_CPUTIME_ID /
schedstat), not wall time: the machine is shared, and CPU time is what stays comparable. See
README.md.
"""
import argparse
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
K = 10


def ensure_venv(venv: Path) -> Path:
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    probe = subprocess.run([str(py), "-c", "import numpy, hnswlib, faiss"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run([str(py), "-m", "pip", "install", "-q", "numpy", "hnswlib", "faiss-cpu"], check=True)
    return py


def pin(cpu):
    return ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []


def bench_binary(target_dir: Path) -> Path:
    env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir))
    subprocess.run(["cargo", "build", "--release", "-p", "moon-vector", "--example", "vector_bench"],
                   cwd=ROOT, env=env, check=True)
    return target_dir / "release" / "examples" / "vector_bench"


# --- the library side, run inside the venv -------------------------------------------------

LIB_RUNNER = r'''
import struct, sys, time, json
import numpy as np
K = 10
def load(path):
    b = open(path, "rb").read()
    assert b[:4] == b"MVEC"
    _, n, nq, dim, k = struct.unpack_from("<5I", b, 4)
    at = 24
    base = np.frombuffer(b, dtype="<f4", count=n * dim, offset=at).reshape(n, dim); at += n * dim * 4
    qs = np.frombuffer(b, dtype="<f4", count=nq * dim, offset=at).reshape(nq, dim); at += nq * dim * 4
    gt = np.frombuffer(b, dtype="<u4", count=nq * k, offset=at).reshape(nq, k)[:, :10]
    return np.ascontiguousarray(base), np.ascontiguousarray(qs), gt
def recall(labels, gt):
    return float(np.mean([len(set(l[:10]) & set(g)) / 10.0 for l, g in zip(labels, gt)]))
lib, path, efs = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split(",")]
base, qs, gt = load(path)
n, dim = base.shape
out = {"rows": []}
if lib == "hnswlib":
    import hnswlib
    idx = hnswlib.Index(space="l2", dim=dim)
    idx.init_index(max_elements=n, M=16, ef_construction=200, random_seed=100)
    idx.set_num_threads(1)
    t = time.thread_time(); idx.add_items(base, np.arange(n), num_threads=1); secs = time.thread_time() - t
    out["insert_rate"] = n / secs
    out["mem_per_vector"] = dim * 4 + (2 * 16 + 1) * 4 + 8  # data + level-0 links + label
    for ef in efs:
        idx.set_ef(max(ef, K))
        t = time.thread_time(); labels, _ = idx.knn_query(qs, k=K, num_threads=1); s = time.thread_time() - t
        out["rows"].append((ef, recall(labels, gt), len(qs) / s))
else:
    import faiss
    faiss.omp_set_num_threads(1)
    if lib == "faiss-hnsw":
        idx = faiss.IndexHNSWFlat(dim, 16)
        out["mem_per_vector"] = dim * 4 + (2 * 16) * 4 + 8
    else:
        idx = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, 16)
        out["mem_per_vector"] = dim + (2 * 16) * 4 + 8
    idx.hnsw.efConstruction = 200
    t = time.thread_time()
    if not idx.is_trained: idx.train(base)
    idx.add(base); secs = time.thread_time() - t
    out["insert_rate"] = n / secs
    for ef in efs:
        idx.hnsw.efSearch = max(ef, K)
        t = time.thread_time(); _, labels = idx.search(qs, K); s = time.thread_time() - t
        out["rows"].append((ef, recall(labels, gt), len(qs) / s))
print(json.dumps(out))
'''


def run_lib(py: Path, lib: str, data: Path, efs: str, cpu):
    r = subprocess.run(pin(cpu) + [str(py), "-c", LIB_RUNNER, lib, str(data), efs],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{lib} failed:\n{r.stderr}")
    import json
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_moon(binary: Path, data: Path, efs: str, variants: str, cpu, disk: str):
    r = subprocess.run(pin(cpu) + [str(binary), "--file", str(data), "--efs", efs, "--variants", variants,
                                   "--disk", disk], capture_output=True, text=True, check=True)
    out = {}
    for line in r.stdout.splitlines():
        m = re.match(r"(\S+)\s+ef=(\d+)\s+recall@10=([\d.]+)\s+QPS=(\d+)", line)
        if m:
            out.setdefault(m.group(1), {"rows": []})["rows"].append((int(m.group(2)), float(m.group(3)), float(m.group(4))))
            continue
        m = re.match(r"(\S+)\s+.*mem/vector (\d+) B", line)
        if m:
            e = out.setdefault(m.group(1), {"rows": []})
            e["mem_per_vector"] = float(m.group(2))
            rate = re.search(r"insert rate (\d+)/s", line)
            if rate:
                e["insert_rate"] = float(rate.group(1))
    return out


def median_merge(runs):
    """Median per (name, ef) over runs."""
    merged = {}
    for name in runs[0]:
        rows = {}
        for run in runs:
            for ef, rec, qps in run.get(name, {}).get("rows", []):
                rows.setdefault(ef, ([], []))
                rows[ef][0].append(rec)
                rows[ef][1].append(qps)
        ins = [r[name]["insert_rate"] for r in runs if r.get(name, {}).get("insert_rate")]
        merged[name] = {
            "insert_rate": statistics.median(ins) if ins else None,
            "mem_per_vector": runs[0][name].get("mem_per_vector"),
            "rows": {ef: (statistics.median(v[0]), statistics.median(v[1])) for ef, v in rows.items()},
        }
    return merged


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--file", help="existing MVEC dataset file (else generated)")
    ap.add_argument("--efs", default="10,20,40,80,160,320")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cpu", type=int, default=1, help="CPU to pin to (taskset), -1 for none")
    ap.add_argument("--venv", default=str(ROOT / "target" / "vector-venv"))
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")))
    ap.add_argument("--moon-variants", default="fp32,tq1,tq2,tq4,tq8")
    ap.add_argument("--libs", default="hnswlib,faiss-hnsw,faiss-hnsw-sq8")
    args = ap.parse_args()
    cpu = None if args.cpu < 0 else args.cpu

    py = ensure_venv(Path(args.venv))
    binary = bench_binary(Path(args.target_dir))
    data = Path(args.file) if args.file else ROOT / "target" / f"moon-vector-{args.n}x{args.dim}-{args.queries}.mvec"
    if not data.exists():
        subprocess.run([str(binary), "--n", str(args.n), "--dim", str(args.dim), "--queries", str(args.queries),
                        "--write", str(data)], check=True)
    disk = "/tmp"
    runs = []
    for i in range(args.runs):
        t = time.time()
        res = run_moon(binary, data, args.efs, args.moon_variants, cpu, disk)
        for lib in [l for l in args.libs.split(",") if l]:
            res[lib] = run_lib(py, lib, data, args.efs, cpu)
        runs.append(res)
        print(f"run {i + 1}/{args.runs} done in {time.time() - t:.0f}s", file=sys.stderr)
    merged = median_merge(runs)
    efs = [int(e) for e in args.efs.split(",")]
    print(f"dataset {data.name}; median of {args.runs} runs; single thread" + (f", taskset -c {cpu}" if cpu is not None else ""))
    head = f"{'index':<16}{'insert/s':>10}{'B/vector':>10}" + "".join(f"{'ef=' + str(e):>18}" for e in efs)
    print(head)
    print(" " * 36 + "".join(f"{'recall   QPS':>18}" for _ in efs))
    for name, m in merged.items():
        ins = f"{m['insert_rate']:.0f}" if m["insert_rate"] else "(reused)"
        mem = f"{m['mem_per_vector']:.0f}" if m["mem_per_vector"] else "-"
        if list(m["rows"]) == [0]:  # FLAT: one exact scan, no ef
            rec, qps = m["rows"][0]
            print(f"{name:<16}{ins:>10}{mem:>10}   exact scan: recall {rec:.4f}, QPS {qps:.0f}")
            continue
        cells = "".join(f"{m['rows'][e][0]:>10.4f}{m['rows'][e][1]:>8.0f}" if e in m["rows"] else f"{'-':>18}" for e in efs)
        print(f"{name:<16}{ins:>10}{mem:>10}{cells}")


if __name__ == "__main__":
    main()
