#!/usr/bin/env python3
"""Restart time of a vector index: persisted contents (snapshot section 4) vs rebuild.

Loads an MVEC dataset (see README.md) into a fresh `moon --shards 2` (index first, so every HSET
indexes on the write path), SAVEs, and restarts twice on copies of the data directory:

  persisted  the snapshot as written: recovery loads the HNSW graphs (SPEC §8.2 section 4);
  rebuild    the same snapshot with each shard's contents made undecodable (the contents layout
             version byte set to 9, block CRC fixed): recovery falls back to the background
             scan, which is the behaviour before section 4 existed.

For each it reports the seconds from spawning the server to PING answering and to FT.INFO
showing `percent_indexed 1` with every doc, and checks the persisted restart answers 100 KNN
queries exactly as before the restart. Standard library only (a tiny RESP client).

    python3 benches/vector/persist.py --moon target/release/moon \
        --file target/moon-vector-100000x384-1000.mvec
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
import zlib
from pathlib import Path


class Resp:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if not isinstance(a, bytes):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def read(self):
        line = self.f.readline()
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError(f"bad reply {line!r}")

    def cmd(self, *args):
        self.s.sendall(self.encode(args))
        r = self.read()
        if isinstance(r, RuntimeError):
            raise r
        return r

    def pipeline(self, cmds):
        self.s.sendall(b"".join(self.encode(c) for c in cmds))
        return [self.read() for _ in cmds]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(moon, d, port):
    log = open(d / "server.log", "ab")
    p = subprocess.Popen(
        [moon, "--port", str(port), "--dir", str(d), "--shards", "2", "--appendonly", "no",
         "--save", ""], stdout=log, stderr=log)
    t0 = time.perf_counter()
    while True:
        try:
            c = Resp(port)
            c.cmd("PING")
            return p, c, t0, time.perf_counter() - t0
        except OSError:
            if p.poll() is not None:
                sys.exit(f"server exited: {(d / 'server.log').read_text()}")
            time.sleep(0.01)


def info(c):
    r = c.cmd("FT.INFO", "idx")
    m = {r[i].decode() if isinstance(r[i], bytes) else r[i]: r[i + 1] for i in range(0, len(r) - 1, 2)}
    return float(m["percent_indexed"]), int(m["num_docs"])


def wait_indexed(c, n, t0):
    while True:
        pct, docs = info(c)
        if pct == 1.0 and docs == n:
            return time.perf_counter() - t0
        time.sleep(0.02)


def knn(c, qs):
    return [c.cmd("FT.SEARCH", "idx", "*=>[KNN 10 @v $B]", "PARAMS", 2, "B", q, "NOCONTENT",
                  "DIALECT", 2) for q in qs]


def break_contents(d):
    """Sets the contents layout version byte of each shard's first section-4 part to 9."""
    for snap in d.glob("shard-*/*.snap"):
        b = bytearray(snap.read_bytes())
        index_off = struct.unpack_from("<Q", b, len(b) - 48 + 8)[0]
        blocks = struct.unpack_from("<Q", b, len(b) - 48 + 16)[0]
        for i in range(blocks):
            off, _, section = struct.unpack_from("<QIB", b, index_off + 16 * i)
            if section == 4:
                key_len = struct.unpack_from("<I", b, off + 24 + 6)[0]
                b[off + 24 + 10 + key_len + 16] = 9
                plen = struct.unpack_from("<I", b, off + 12)[0]
                crc = zlib.crc32(bytes(b[off:off + 20]) + bytes(b[off + 24:off + 24 + plen]))
                struct.pack_into("<I", b, off + 20, crc)
                break
        snap.write_bytes(bytes(b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moon", required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--limit", type=int, default=0, help="load only the first N vectors")
    a = ap.parse_args()
    raw = Path(a.file).read_bytes()
    assert raw[:4] == b"MVEC"
    _, n, nq, dim, _ = struct.unpack_from("<5I", raw, 4)
    if a.limit:
        n_use = min(n, a.limit)
    else:
        n_use = n
    row = dim * 4
    base = [raw[24 + i * row:24 + (i + 1) * row] for i in range(n_use)]
    qoff = 24 + n * row
    qs = [raw[qoff + i * row:qoff + (i + 1) * row] for i in range(min(nq, 100))]

    work = Path(tempfile.mkdtemp(prefix="moon-persist-bench-"))
    d = work / "data"
    d.mkdir()
    port = free_port()
    p, c, t0, _ = start(a.moon, d, port)
    c.cmd("FT.CREATE", "idx", "SCHEMA", "v", "VECTOR", "HNSW", 6, "TYPE", "FLOAT32", "DIM", dim,
          "DISTANCE_METRIC", "L2")
    t = time.perf_counter()
    for s in range(0, n_use, 1000):
        c.pipeline([("HSET", str(i), "v", base[i]) for i in range(s, min(n_use, s + 1000))])
    wait_indexed(c, n_use, t)
    print(f"loaded {n_use} x {dim} in {time.perf_counter() - t:.1f} s", flush=True)
    before = knn(c, qs)
    t = time.perf_counter()
    c.cmd("SAVE")
    print(f"SAVE {time.perf_counter() - t:.2f} s", flush=True)
    p.kill()
    p.wait()
    for line in (d / "server.log").read_text().splitlines():
        if "encoded FT index contents" in line:
            print("  " + line.strip())
    rb = work / "rebuild"
    shutil.copytree(d, rb)
    break_contents(rb)
    for name, dd in (("persisted", d), ("rebuild", rb)):
        port = free_port()
        p, c, t0, ping = start(a.moon, dd, port)
        ready = wait_indexed(c, n_use, t0)
        same = knn(c, qs) == before
        print(f"{name}: PING after {ping:.2f} s, percent_indexed 1 after {ready:.2f} s, "
              f"KNN answers identical: {same}", flush=True)
        p.kill()
        p.wait()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
