#!/usr/bin/env python3
"""Vector search through RESP: a release `moon --shards 1` vs hnswlib in-process, same data, same run.

Loads an MVEC dataset (see README.md; default: the 100,000 x 384 file compare.py writes) into a
fresh `moon` server with HSET pipelines (the index exists first, so every HSET indexes its vector
on the write path), runs the queries as `FT.SEARCH idx "*=>[KNN 10 @v $B]" PARAMS 2 B <blob>
NOCONTENT DIALECT 2` one at a time from ONE client, and reports:

  moon   insert rate (vectors/s until FT.SEARCH counts them all), QPS and recall@10 at Moon's
         default parameters (no EF_RUNTIME: the automatic beam) and at each --efs EF_RUNTIME,
         first from a redis-py client (raw `execute_command`), then (--client both/rust) from
         the Rust driver `vector_resp` (the `redis` crate, one query per round trip, built
         with `cargo build --release --example vector_resp` unless --rust-driver is given);
  hnswlib  M=16, ef_construction=200, one thread: insert rate, QPS and recall@10 per ef.

Times are wall clock (the RESP figure is what a client sees) and, for context, CPU time: the
server process's CPU time (the sum of its threads' /proc schedstat), hnswlib's thread time, and
for the Rust client its own CPU per query. Server and client are pinned to different CPUs with
taskset when --cpus is given (default "1,0": server on 1, client on 0; hnswlib runs on the
server's CPU).

    python3 benches/vector/resp.py --moon /tmp/moon-vec-bench
    python3 benches/vector/resp.py --moon /tmp/moon-vec-bench --file /tmp/moon-vector-20000x384-300.mvec
"""
import argparse
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
K = 10


def ensure_venv(venv: Path) -> Path:
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    probe = subprocess.run([str(py), "-c", "import numpy, hnswlib, redis"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run([str(py), "-m", "pip", "install", "-q", "numpy", "hnswlib", "redis==5.2.1"], check=True)
    return py


RUNNER = r'''
import json, os, struct, subprocess, sys, time
import numpy as np
import redis
K = 10
path, port, server_pid, efs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), [int(x) for x in sys.argv[4].split(",") if x]
lib_cpu, rust_driver, clients, quant = sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
b = open(path, "rb").read()
assert b[:4] == b"MVEC"
_, n, nq, dim, k = struct.unpack_from("<5I", b, 4)
at = 24
base = np.frombuffer(b, dtype="<f4", count=n * dim, offset=at).reshape(n, dim); at += n * dim * 4
qs = np.frombuffer(b, dtype="<f4", count=nq * dim, offset=at).reshape(nq, dim); at += nq * dim * 4
gt = np.frombuffer(b, dtype="<u4", count=nq * k, offset=at).reshape(nq, k)[:, :K]

def cpu_secs(pid):
    # Nanoseconds on CPU of every live thread (finer than /proc/PID/stat's clock ticks).
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(open(f"/proc/{pid}/task/{t}/schedstat").read().split()[0])
        except OSError:
            pass
    return total / 1e9

def recall(labels):
    return float(np.mean([len(set(l[:K]) & set(g.tolist())) / K for l, g in zip(labels, gt)]))

out = {"n": n, "dim": dim, "queries": nq}
r = redis.Redis(port=port)
attrs = ["TYPE", "FLOAT32", "DIM", dim, "DISTANCE_METRIC", "L2"] + (["QUANTIZATION", quant] if quant else [])
r.execute_command("FT.CREATE", "idx", "SCHEMA", "v", "VECTOR", "HNSW", len(attrs), *attrs)
c0, t0 = cpu_secs(server_pid), time.perf_counter()
for s in range(0, n, 1000):
    p = r.pipeline(transaction=False)
    for i in range(s, min(n, s + 1000)):
        p.execute_command("HSET", str(i), "v", base[i].tobytes())
    p.execute()
while int(r.execute_command("FT.SEARCH", "idx", "*", "LIMIT", 0, 0)[0]) < n:
    time.sleep(0.05)
out["moon_insert_wall"] = n / (time.perf_counter() - t0)
out["moon_insert_cpu"] = n / (cpu_secs(server_pid) - c0)
blobs = [q.tobytes() for q in qs]
rows = []
for ef in ([None] + efs) if clients != "rust" else []:
    query = "*=>[KNN 10 @v $B]" if ef is None else f"*=>[KNN 10 @v $B EF_RUNTIME {ef}]"
    labels = []
    c0, t0 = cpu_secs(server_pid), time.perf_counter()
    for q in blobs:
        rep = r.execute_command("FT.SEARCH", "idx", query, "PARAMS", 2, "B", q, "NOCONTENT", "DIALECT", 2)
        labels.append([int(x) for x in rep[1:]])
    wall = time.perf_counter() - t0
    cpu = cpu_secs(server_pid) - c0
    rows.append(("default" if ef is None else ef, recall(labels), nq / wall, nq / max(cpu, 1e-9)))
out["moon"] = rows
if rust_driver and clients != "python":
    rd = subprocess.run([rust_driver, "--file", path, "--port", str(port), "--server-pid", str(server_pid),
                         "--efs", ",".join(map(str, efs))], capture_output=True, text=True)
    if rd.returncode != 0:
        sys.exit(f"rust driver failed:\n{rd.stderr}")
    out["rust"] = json.loads(rd.stdout.strip().splitlines()[-1])["rust"]
info = r.execute_command("FT.INFO", "idx")
out["ft_info_vector"] = [x.decode() if isinstance(x, bytes) else x for x in info[info.index(b"attributes") + 1][0]]

if lib_cpu:
    os.sched_setaffinity(0, {int(lib_cpu)})
import hnswlib
idx = hnswlib.Index(space="l2", dim=dim)
idx.init_index(max_elements=n, M=16, ef_construction=200, random_seed=100)
idx.set_num_threads(1)
t0, c0 = time.perf_counter(), time.thread_time()
idx.add_items(base, np.arange(n), num_threads=1)
out["hnswlib_insert_wall"] = n / (time.perf_counter() - t0)
out["hnswlib_insert_cpu"] = n / (time.thread_time() - c0)
rows = []
for ef in efs:
    idx.set_ef(max(ef, K))
    labels = []
    t0, c0 = time.perf_counter(), time.thread_time()
    for q in qs:  # one query per call, as a client would ask
        l, _ = idx.knn_query(q, k=K, num_threads=1)
        labels.append(l[0])
    wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
    rows.append((ef, recall(labels), nq / wall, nq / cpu))
out["hnswlib"] = rows
print(json.dumps(out))
'''


def build_driver(target_dir: Path) -> str:
    env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir))
    subprocess.run(["cargo", "build", "--release", "--example", "vector_resp"], cwd=ROOT, env=env, check=True)
    return str(target_dir / "release" / "examples" / "vector_resp")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moon", default="/tmp/moon-vec-bench", help="release moon binary")
    ap.add_argument("--file", default=str(ROOT / "target" / "moon-vector-100000x384-1000.mvec"))
    ap.add_argument("--efs", default="10,20,30,40,60")
    ap.add_argument("--cpus", default="1,0", help="server CPU,client CPU for taskset; '' for none")
    ap.add_argument("--venv", default=str(ROOT / "target" / "vector-venv"))
    ap.add_argument("--client", choices=["both", "python", "rust"], default="both",
                    help="which one-connection client runs the queries")
    ap.add_argument("--rust-driver", default="", help="vector_resp binary (default: build it)")
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")))
    ap.add_argument("--quant", choices=["TQ1", "TQ2", "TQ4", "TQ8"], default="",
                    help="Moon's QUANTIZATION attribute on the vector field (default: none, FP32)")
    ap.add_argument("--idle-poll-us", type=int, default=-1,
                    help="the server's idle-poll-us (default: moon's default)")
    ap.add_argument("--io", choices=["uring", "epoll"], default="",
                    help="the server's I/O driver (default: moon's own choice)")
    args = ap.parse_args()
    py = ensure_venv(Path(args.venv))
    rust = args.rust_driver
    if args.client != "python" and not rust:
        rust = build_driver(Path(args.target_dir))
    cpus = [c for c in args.cpus.split(",") if c] if shutil.which("taskset") else []
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="moon-vec-resp-")
    cmd = [args.moon, "--port", str(port), "--shards", "1", "--dir", tmp, "--appendonly", "no", "--save", ""]
    if args.io:
        cmd += ["--io", args.io]
    if args.idle_poll_us >= 0:
        cmd += ["--idle-poll-us", str(args.idle_poll_us)]
    if cpus:
        cmd = ["taskset", "-c", cpus[0]] + cmd
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "log"), "w"))
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        client = [str(py), "-c", RUNNER, args.file, str(port), str(server.pid), args.efs, cpus[0] if cpus else "",
                  rust, args.client, args.quant]
        if len(cpus) > 1:
            client = ["taskset", "-c", cpus[1]] + client
        r = subprocess.run(client, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"client failed:\n{r.stderr}")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    import json
    o = json.loads(r.stdout.strip().splitlines()[-1])
    print(f"dataset {Path(args.file).name}: n={o['n']} dim={o['dim']} queries={o['queries']}; one client; "
          f"taskset server/client {args.cpus or 'none'}; quantization {args.quant or 'none (FP32)'}; "
          f"io {args.io or 'default'}; idle-poll-us {args.idle_poll_us if args.idle_poll_us >= 0 else 'default'}")
    print(f"moon RESP insert: {o['moon_insert_wall']:.0f}/s wall, {o['moon_insert_cpu']:.0f}/s per server CPU second")
    print(f"hnswlib insert:   {o['hnswlib_insert_wall']:.0f}/s wall, {o['hnswlib_insert_cpu']:.0f}/s per CPU second")
    print("QPS/CPU s: per server CPU second (moon), per thread CPU second (hnswlib); "
          "client us: the Rust client's CPU per query")
    print(f"{'index':<18}{'ef':>8}{'recall@10':>11}{'QPS wall':>10}{'QPS/CPU s':>11}{'client us':>11}")
    labels = {"moon": "moon RESP python", "rust": "moon RESP rust", "hnswlib": "hnswlib"}
    for name in ("moon", "rust", "hnswlib"):
        for row in o.get(name, []):
            ef, rec, qw, qc = row[:4]
            extra = f"{row[4]:>11.1f}" if len(row) > 4 else ""
            print(f"{labels[name]:<18}{str(ef):>8}{rec:>11.4f}{qw:>10.0f}{qc:>11.0f}{extra}")
    print("FT.INFO vector attributes:", " ".join(str(x) for x in o["ft_info_vector"]))


if __name__ == "__main__":
    main()
