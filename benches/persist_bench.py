#!/usr/bin/env python3
"""Clients, samplers and tables of benches/persistence.sh (standard library only).

Owns:
- `gen`: the RESP stream of a fill (`SET key:%010d <value>`) for `redis-cli --pipe`;
- `load`: an open-loop GET/SET load at a fixed rate that records every request's latency;
- `rss`: a sampler of a process's VmRSS (plus its children's, for a fork-based snapshot) and,
  less often, PSS (proportional set size, which counts a page shared by parent and child once);
- `bgsave`, `wait-idle`, `ready`, `info`: one-connection RESP clients that time a snapshot,
  wait until no snapshot/rewrite runs, and time a restart until PING answers PONG;
- `snap-row`, `restart-row`, `snap-report`, `restart-report`, `aof-targets`: the per-run rows
  and the markdown tables (medians over rounds, paired moon/redis ratios).

Clocks: every timestamp exchanged between these commands is CLOCK_MONOTONIC in nanoseconds
(`time.monotonic_ns()`, system-wide on Linux), so a window measured by `bgsave` can cut the
records of `load` and `rss` running in other processes. `ready` alone takes a wall-clock start
(bash's $EPOCHREALTIME) because the shell has no monotonic clock.

Latency is measured from each request's intended send time (a fixed schedule of `rate`
requests per second, spread over the connections), as wrk2 does: a server that stalls delays
every request scheduled during the stall, not only the few in flight (no coordinated omission).
The service time (from the actual send) is recorded too.
"""

import argparse
import csv
import math
import os
import random
import selectors
import signal
import socket
import statistics
import sys
import time
from array import array
from collections import deque

NS = 1_000_000_000
MIB_KIB = 1024


# --------------------------------------------------------------------------------- RESP bits


def resp(*args):
    """One command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def reply_end(buf, pos=0):
    """End offset of the RESP2 reply starting at `pos` in `buf` (simple, error, integer or
    bulk), or 0 when it is incomplete. Arrays are not needed by these clients."""
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        return 0
    if buf[pos:pos + 1] == b"$":
        n = int(buf[pos + 1:nl])
        if n < 0:
            return nl + 2
        end = nl + 2 + n + 2
        return end if len(buf) >= end else 0
    return nl + 2


class Client:
    """A blocking one-request-at-a-time RESP client with a timeout on every call."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def call(self, *args):
        """Sends one command; returns the reply as bytes (bulk payload, or the simple/error/
        integer line with its type byte) or None for a nil bulk."""
        self.sock.sendall(resp(*args))
        while True:
            end = reply_end(self.buf)
            if end:
                break
            data = self.sock.recv(1 << 20)
            if not data:
                raise ConnectionError("server closed the connection")
            self.buf += data
        raw = bytes(self.buf[:end])
        del self.buf[:end]
        if raw.startswith(b"$"):
            if raw.startswith(b"$-1"):
                return None
            return raw[raw.index(b"\r\n") + 2:-2]
        return raw[:-2]

    def close(self):
        self.sock.close()


def parse_info(text):
    fields = {}
    for line in text.decode(errors="replace").splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            fields[k] = v.strip()
    return fields


def info_persistence(cli):
    return parse_info(cli.call("INFO", "persistence") or b"")


def busy(fields):
    return fields.get("rdb_bgsave_in_progress") == "1" or \
        fields.get("aof_rewrite_in_progress") == "1"


# ------------------------------------------------------------------------------------- fill


def gen(start, count, tag, size, out):
    """Writes `SET key:%010d <tag><index zero-padded>` for start..start+count as RESP."""
    if size < 11 or len(tag) != 1:
        raise ValueError("size must be >= 11 and tag one character")
    tmpl = (b"*3\r\n$3\r\nSET\r\n$14\r\nkey:%010d\r\n$" + b"%d" % size + b"\r\n" + tag.encode()
            + b"%0" + b"%d" % (size - 1) + b"d\r\n")
    chunk = 20000
    for lo in range(start, start + count, chunk):
        hi = min(lo + chunk, start + count)
        out.write(b"".join([tmpl % (i, i) for i in range(lo, hi)]))


# ------------------------------------------------------------------------------------- load


class LoadConn:
    __slots__ = ("sock", "buf", "out", "inflight")

    def __init__(self, sock):
        self.sock, self.buf, self.out = sock, bytearray(), bytearray()
        # (intended_ns, sent_ns, op) of the requests sent and not yet answered, in order.
        self.inflight = deque()


def run_load(port, rate, conns, keys, write_pct, size, max_secs, out_path, seed):
    """Open-loop GET/SET load until SIGTERM (or max_secs); writes one line per request:
    `intended_ns corrected_us service_us op status` (op 0 GET, 1 SET; status 0 ok, 1 GET
    miss, 2 error reply).

    Request k is due at start + k / rate and goes, on time, to connection k mod conns, even if
    that connection still waits for earlier replies (pipelining): a slow or stalled server
    delays replies, never the schedule. corrected = reply - due time; service = reply - send
    time; their difference is the load generator's own lag (it should stay well below 1 ms).
    """
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    rng = random.Random(seed)
    interval = NS / rate
    sel = selectors.DefaultSelector()
    t_connect = time.monotonic_ns()
    pool = []
    for _ in range(conns):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # One PING per connection: the schedule starts once every connection is served.
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        if s.recv(64) != b"+PONG\r\n":
            raise ConnectionError("a load connection did not answer PING")
        s.setblocking(False)
        c = LoadConn(s)
        pool.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    start = time.monotonic_ns()
    connect_ms = (start - t_connect) / 1e6
    value = b"l" * size
    set_head = b"*3\r\n$3\r\nSET\r\n$14\r\nkey:"
    set_tail = b"\r\n$%d\r\n%s\r\n" % (size, value)
    get_head = b"*2\r\n$3\r\nGET\r\n$14\r\nkey:"
    t_int, t_corr, t_serv, ops, status = (array("q"), array("q"), array("q"), array("b"),
                                          array("b"))
    deadline = start + int(max_secs * NS)
    write_frac = write_pct / 100.0
    k = 0
    while not stop:
        now = time.monotonic_ns()
        if now >= deadline:
            break
        while True:
            due = start + int(k * interval)
            if due > now:
                break
            c = pool[k % conns]
            op = 1 if rng.random() < write_frac else 0
            key = b"%010d" % rng.randrange(keys)
            c.out += set_head + key + set_tail if op else get_head + key + b"\r\n"
            c.inflight.append((due, now, op))
            k += 1
        for c in pool:
            if c.out:
                try:
                    n = c.sock.send(c.out)
                except BlockingIOError:
                    n = 0
                del c.out[:n]
        wait = max(0, start + int(k * interval) - time.monotonic_ns()) / NS
        for sk, _ in sel.select(min(wait, 0.01)):
            c = sk.data
            try:
                data = c.sock.recv(1 << 16)
            except BlockingIOError:
                continue
            if not data:
                raise ConnectionError("server closed a load connection")
            c.buf += data
            done = time.monotonic_ns()
            pos = 0
            while True:
                end = reply_end(c.buf, pos)
                if not end:
                    break
                st = 2 if c.buf[pos:pos + 1] == b"-" else (
                    1 if c.buf[pos:pos + 3] == b"$-1" else 0)
                pos = end
                due, sent, op = c.inflight.popleft()
                t_int.append(due)
                t_corr.append((done - due) // 1000)
                t_serv.append((done - sent) // 1000)
                ops.append(op)
                status.append(st)
            del c.buf[:pos]
    with open(out_path, "w") as f:
        f.write(f"# start_ns {start} rate {rate} conns {conns} connect_ms {connect_ms:.1f}\n")
        for row in zip(t_int, t_corr, t_serv, ops, status):
            f.write("%d %d %d %d %d\n" % row)


def read_load(path):
    start, rows = None, []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                start = int(line.split()[2])
                continue
            rows.append(tuple(int(x) for x in line.split()))
    return start, rows


# -------------------------------------------------------------------------------------- rss


def status_kib(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return 0


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0
    return 0


def descendants(pid):
    """Children (recursively) of every thread of pid: a fork-based snapshot's child."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except FileNotFoundError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    kids = [int(x) for x in f.read().split()]
            except FileNotFoundError:
                continue
            out += kids
            todo += kids
    return out


def run_rss(pid, out_path, interval_ms, pss_ms):
    """Samples until SIGTERM or until pid exits; one line per sample:
    `t_ns parent_rss_kib children_rss_kib n_children pss_kib` (pss -1 when not sampled)."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    step = interval_ms * 1_000_000
    pss_step = pss_ms * 1_000_000 if pss_ms > 0 else None
    next_pss = time.monotonic_ns()
    had_kids = False
    lines = []
    tick = time.monotonic_ns()
    while not stop:
        now = time.monotonic_ns()
        rss = status_kib(pid)
        if rss is None:
            break
        kids = descendants(pid)
        kid_rss = sum(status_kib(k) or 0 for k in kids)
        pss = -1
        # A fork child may live well under a second: sample as soon as one appears, then at
        # least every 100 ms while it lives.
        if pss_step is not None and (now >= next_pss or (kids and not had_kids)):
            pss = pss_kib(pid) + sum(pss_kib(k) for k in kids)
            next_pss = now + (min(pss_step, 100_000_000) if kids else pss_step)
        had_kids = bool(kids)
        lines.append(f"{now} {rss} {kid_rss} {len(kids)} {pss}\n")
        tick += step
        delay = tick - time.monotonic_ns()
        if delay > 0:
            time.sleep(delay / NS)
        else:
            tick = time.monotonic_ns()
    with open(out_path, "w") as f:
        f.writelines(lines)


def read_rss(path):
    with open(path) as f:
        return [tuple(int(x) for x in line.split()) for line in f if line.strip()]


# ----------------------------------------------------------------------- snapshot and restart


def wait_idle(cli, timeout, poll=0.02):
    deadline = time.monotonic() + timeout
    while True:
        fields = info_persistence(cli)
        if not busy(fields):
            return fields
        if time.monotonic() > deadline:
            raise TimeoutError("a snapshot or rewrite is still running")
        time.sleep(poll)


def run_bgsave(port, expect_saves, timeout, poll_ms):
    """BGSAVE, then INFO persistence every poll_ms until no snapshot runs and rdb_saves grew
    by expect_saves (moon counts one save per shard). Prints `t_start_ns t_end_ns
    rdb_last_cow_size attempts`. An error reply because a snapshot or rewrite (e.g. an
    automatic AOF rewrite) is already running: wait until idle and retry."""
    cli = Client(port, timeout=30)
    deadline = time.monotonic() + timeout
    for attempt in range(1, 11):
        before = wait_idle(cli, timeout)
        saves0 = int(before.get("rdb_saves", "0"))
        t1 = time.monotonic_ns()
        reply = cli.call("BGSAVE") or b""
        if reply.startswith(b"-"):
            if b"progress" in reply or b"child" in reply.lower():
                print(f"BGSAVE refused ({reply.decode(errors='replace')}); retrying",
                      file=sys.stderr)
                time.sleep(0.2)
                continue
            raise RuntimeError(f"BGSAVE: {reply.decode(errors='replace')}")
        while True:
            fields = info_persistence(cli)
            t2 = time.monotonic_ns()
            if fields.get("rdb_last_bgsave_status", "ok") != "ok" and \
                    int(fields.get("rdb_saves", "0")) == saves0 and not busy(fields):
                raise RuntimeError("BGSAVE failed (rdb_last_bgsave_status is not ok)")
            if not busy(fields) and int(fields.get("rdb_saves", "0")) >= saves0 + expect_saves:
                break
            if time.monotonic() > deadline:
                raise TimeoutError("BGSAVE did not finish in time")
            time.sleep(poll_ms / 1000)
        print(t1, t2, fields.get("rdb_last_cow_size", "0"), attempt)
        return
    raise RuntimeError("BGSAVE refused 10 times")


def run_ready(port, pid, since, timeout):
    """Prints the milliseconds from `since` (wall-clock seconds, bash's $EPOCHREALTIME) until
    PING answers PONG (a LOADING error or a refused connection means not yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not os.path.exists(f"/proc/{pid}"):
            raise RuntimeError(f"pid {pid} exited before answering PING")
        try:
            cli = Client(port, timeout=2)
            try:
                reply = cli.call("PING")
            finally:
                cli.close()
            if reply == b"+PONG":
                print(f"{(time.time() - since) * 1000:.1f}")
                return
        except (OSError, ConnectionError, ValueError):
            pass
        time.sleep(0.002)
    raise TimeoutError(f"no PONG on port {port} within {timeout} s")


def run_watch(port, pid_file, out, timeout):
    """Started before the server: polls PING every 2 ms and writes the wall-clock second of
    the first PONG to `out`, so a restart's time does not include this interpreter's start-up.
    Writes `out`.polling once polling; gives up if the pid written to `pid_file` (by the
    launcher, once it exists) exits, or after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    with open(out + ".polling", "w"):
        pass
    while time.monotonic() < deadline:
        try:
            cli = Client(port, timeout=2)
            try:
                reply = cli.call("PING")
            finally:
                cli.close()
            if reply == b"+PONG":
                pong = time.time()
                with open(out, "w") as f:
                    f.write(f"{pong:.6f}\n")
                return
        except (OSError, ConnectionError, ValueError):
            pass
        try:
            with open(pid_file) as f:
                pid = int(f.read().strip() or 0)
        except (FileNotFoundError, ValueError):
            pid = 0
        if pid and not os.path.exists(f"/proc/{pid}"):
            raise RuntimeError(f"pid {pid} exited before answering PING")
        time.sleep(0.002)
    raise TimeoutError(f"no PONG on port {port} within {timeout} s")


# -------------------------------------------------------------------------------- statistics


def pct(sorted_vals, p):
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_vals:
        return None
    k = max(0, math.ceil(p / 100 * len(sorted_vals)) - 1)
    return sorted_vals[k]


def answered_ns(r):
    return r[0] + r[1] * 1000


def window(rows, lo, hi, snapshot_start=None):
    """Corrected latencies (µs, ascending), GET misses and error replies of the requests due
    in [lo, hi). A request due before the snapshot started but answered after it belongs to
    the snapshot: with `snapshot_start`, a baseline window (hi == snapshot_start) leaves such
    requests out and a snapshot window (lo == snapshot_start) takes them in."""
    if snapshot_start is None:
        sel = [r for r in rows if lo <= r[0] < hi]
    elif hi == snapshot_start:
        sel = [r for r in rows if lo <= r[0] < hi and answered_ns(r) < snapshot_start]
    else:
        sel = [r for r in rows if lo <= r[0] < hi
               or (r[0] < lo and answered_ns(r) >= snapshot_start)]
    lat = sorted(r[1] for r in sel)
    misses = sum(1 for r in sel if r[4] == 1)
    errors = sum(1 for r in sel if r[4] == 2)
    return lat, misses, errors


SNAP_COLUMNS = [
    "round", "server", "keys", "snap_s", "base_s", "rss_pre_kib", "rss_peak_kib",
    "rss_after_kib", "pss_pre_kib", "pss_peak_kib", "cow_reported_kib", "base_p50_ms",
    "base_p99_ms", "base_max_ms", "snap_p50_ms", "snap_p99_ms", "snap_max_ms",
    "lag_p99_ms", "lag_max_ms", "base_rps", "snap_rps", "misses", "errors",
]


def snap_row(rnd, server, keys, load_path, rss_path, t1, t2, cow_bytes, settle_s):
    """One row of SNAP_COLUMNS: baseline window = the snapshot's length right before BGSAVE
    (shorter if the load ran less than that after `settle_s`), snapshot window = [t1, t2]."""
    start, rows = read_load(load_path)
    dur = t2 - t1
    base_lo = max(t1 - dur, start + int(settle_s * NS))
    base = window(rows, base_lo, t1, t1)
    snap = window(rows, t1, t2, t1)
    # The load generator's own lateness (send time - due time) over both windows.
    lag = sorted(r[1] - r[2] for r in rows if base_lo <= r[0] < t2)
    samples = read_rss(rss_path)
    pre = [s for s in samples if s[0] < t1]
    during = [s for s in samples if t1 <= s[0] <= t2]
    after = [s for s in samples if s[0] > t2]
    tot = lambda s: s[1] + s[2]  # noqa: E731  parent + fork children
    rss_pre = tot(pre[-1]) if pre else 0
    rss_peak = max((tot(s) for s in during), default=rss_pre)
    rss_after = tot(after[-1]) if after else rss_peak
    pss_pre = next((s[4] for s in reversed(pre) if s[4] >= 0), -1)
    pss_peak = max((s[4] for s in during if s[4] >= 0), default=-1)

    def ms(v):
        return "nan" if v is None else f"{v / 1000:.3f}"

    def rps(n, span):
        return f"{n / (span / NS):.0f}" if span > 0 else "nan"

    return [
        rnd, server, keys, f"{dur / NS:.3f}", f"{(t1 - base_lo) / NS:.3f}", rss_pre, rss_peak,
        rss_after, pss_pre, pss_peak, int(cow_bytes) // 1024,
        ms(pct(base[0], 50)), ms(pct(base[0], 99)), ms(base[0][-1] if base[0] else None),
        ms(pct(snap[0], 50)), ms(pct(snap[0], 99)), ms(snap[0][-1] if snap[0] else None),
        ms(pct(lag, 99)), ms(lag[-1] if lag else None),
        rps(len(base[0]), t1 - base_lo), rps(len(snap[0]), dur),
        base[1] + snap[1], base[2] + snap[2],
    ]


RESTART_COLUMNS = [
    "round", "server", "keys", "ready_ms", "log_ms", "snap_mib", "wal_mib", "wal_records",
    "rss_before_kib", "rss_after_kib", "dbsize_after", "tail_ok",
]


def log_recovery(server, path):
    """(load ms reported by the server's log, WAL records replayed) of one start."""
    import re
    ms, records = None, 0
    with open(path, errors="replace") as f:
        text = f.read()
    if server == "moon":
        done = [int(m) for m in re.findall(r"recovery done.*?\bms=(\d+)", text)]
        ms = max(done) if done else None
        records = sum(int(m) for m in re.findall(r"replayed the WAL.*?\brecords=(\d+)", text))
    else:
        m = re.findall(r"DB loaded from disk: ([0-9.]+) seconds", text)
        ms = float(m[-1]) * 1000 if m else None
    return ms, records


def read_tsv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def num(v):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) and x >= 0 else None


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=2):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def paired(rows, cand, ref, f):
    """Median over rounds of f(cand row) / f(ref row), same round."""
    by_round = {}
    for r in rows:
        by_round.setdefault(r["round"], {})[r["server"]] = r
    out = []
    for runs in by_round.values():
        if cand in runs and ref in runs:
            out.append(ratio(f(runs[cand]), f(runs[ref])))
    return med(out)


def verdict(value, limit, le=True):
    if value is None:
        return "not measured"
    ok = value <= limit if le else value >= limit
    return "met" if ok else "NOT met"


def snap_report(path, servers):
    rows = read_tsv(path)
    if not rows:
        return "no snapshot results\n"
    keys = rows[0]["keys"]
    rounds = len({r["round"] for r in rows})

    def per(r, a, b):
        return ratio(num(r[a]), num(r[b]))

    cols = ["server", "snapshot s", "baseline s", "RSS pre MiB", "RSS peak MiB",
            "RSS peak/pre", "RSS after MiB", "PSS peak/pre", "COW MiB (INFO)",
            "p99 base ms", "p99 snap ms", "p99 snap/base", "max base ms", "max snap ms",
            "max snap/base", "load lag p99/max ms", "req/s base/snap"]
    out = [f"### Snapshot under load: BGSAVE of {int(keys):,} keys",
           "", f"Medians of {rounds} round(s); ratios are per run, then the median.", "",
           "| " + " | ".join(cols) + " |", "|---" + "|---:" * (len(cols) - 1) + "|"]
    for s in servers:
        rs = [r for r in rows if r["server"] == s]
        if not rs:
            out.append("| " + s + " |" + " – |" * (len(cols) - 1))
            continue

        def m(key, div=1.0, rr=rs):
            v = med([num(r[key]) for r in rr])
            return None if v is None else v / div

        cells = [
            s, fmt(m("snap_s")), fmt(m("base_s")), fmt(m("rss_pre_kib", MIB_KIB), 1),
            fmt(m("rss_peak_kib", MIB_KIB), 1),
            fmt(med([per(r, "rss_peak_kib", "rss_pre_kib") for r in rs]), 3),
            fmt(m("rss_after_kib", MIB_KIB), 1),
            fmt(med([per(r, "pss_peak_kib", "pss_pre_kib") for r in rs]), 3),
            fmt(m("cow_reported_kib", MIB_KIB), 1),
            fmt(m("base_p99_ms"), 3), fmt(m("snap_p99_ms"), 3),
            fmt(med([per(r, "snap_p99_ms", "base_p99_ms") for r in rs])),
            fmt(m("base_max_ms"), 2), fmt(m("snap_max_ms"), 2),
            fmt(med([per(r, "snap_max_ms", "base_max_ms") for r in rs])),
            f"{fmt(m('lag_p99_ms'), 3)} / {fmt(m('lag_max_ms'), 1)}",
            f"{fmt(m('base_rps'), 0)} / {fmt(m('snap_rps'), 0)}",
        ]
        out.append("| " + " | ".join(cells) + " |")
    problems = [f"{r['server']} round {r['round']}: {r['misses']} GET misses, "
                f"{r['errors']} error replies" for r in rows
                if int(r["misses"]) or int(r["errors"])]
    cand, refs = servers[0], servers[1:]
    out.append("")
    for ref in refs:
        out.append(f"- {cand}/{ref}: RSS peak/pre ×" + fmt(paired(
            rows, cand, ref, lambda r: ratio(num(r["rss_peak_kib"]), num(r["rss_pre_kib"]))), 3)
            + ", p99 during snapshot ×" + fmt(paired(rows, cand, ref,
                                                      lambda r: num(r["snap_p99_ms"])))
            + ", max during snapshot ×" + fmt(paired(rows, cand, ref,
                                                      lambda r: num(r["snap_max_ms"])))
            + ", snapshot duration ×" + fmt(paired(rows, cand, ref, lambda r: num(r["snap_s"]))))
    cr = [r for r in rows if r["server"] == cand]
    rss_ratio = med([per(r, "rss_peak_kib", "rss_pre_kib") for r in cr])
    p99_ratio = med([per(r, "snap_p99_ms", "base_p99_ms") for r in cr])
    out.append(f"- target {cand} RSS peak ≤ 1.1 × pre-snapshot RSS: ×{fmt(rss_ratio, 3)} "
               f"({verdict(rss_ratio, 1.1)})")
    out.append(f"- target {cand} p99 during snapshot ≤ 2 × no-snapshot p99: ×{fmt(p99_ratio)} "
               f"({verdict(p99_ratio, 2.0)})")
    for r in rows:
        lag = num(r["lag_p99_ms"])
        if lag is not None and lag > 5:
            problems.append(f"{r['server']} round {r['round']}: the load generator itself ran "
                            f"late (p99 {lag:.1f} ms): its latencies include the load machine")
    for p in problems:
        out.append(f"- warning: {p}")
    return "\n".join(out) + "\n"


def timeline(load_path, t1, t2, bucket_s):
    """Per-bucket latency of one load run (by due time), the snapshot window marked."""
    start, rows = read_load(load_path)
    step = int(bucket_s * NS)
    buckets = {}
    for r in rows:
        buckets.setdefault((r[0] - start) // step, []).append(r)
    out = ["t_s\trequests\tp50_ms\tp99_ms\tmax_ms\tlag_max_ms\tsnapshot"]
    for b in sorted(buckets):
        lat = sorted(r[1] for r in buckets[b])
        lag = max(r[1] - r[2] for r in buckets[b])
        t = start + b * step
        mark = "yes" if t + step > t1 and t < t2 else ""
        out.append(f"{b * bucket_s:.2f}\t{len(lat)}\t{pct(lat, 50) / 1000:.3f}\t"
                   f"{pct(lat, 99) / 1000:.3f}\t{lat[-1] / 1000:.3f}\t{lag / 1000:.3f}\t{mark}")
    return "\n".join(out) + "\n"


def restart_report(path, servers):
    rows = read_tsv(path)
    if not rows:
        return "no restart results\n"
    keys = rows[0]["keys"]
    rounds = len({r["round"] for r in rows})
    cols = ["server", "start→PONG s", "load s (log)", "snapshot/RDB MiB", "WAL tail MiB",
            "WAL records replayed", "RSS before kill MiB", "RSS after restart MiB",
            "keys after", "tail writes present"]
    out = [f"### Restart: {int(keys):,} keys, SIGKILL then start until PING answers",
           "", f"Medians of {rounds} round(s).", "",
           "| " + " | ".join(cols) + " |", "|---" + "|---:" * (len(cols) - 1) + "|"]
    for s in servers:
        rs = [r for r in rows if r["server"] == s]
        if not rs:
            out.append("| " + s + " |" + " – |" * (len(cols) - 1))
            continue

        def m(key, div=1.0, rr=rs):
            v = med([num(r[key]) for r in rr])
            return None if v is None else v / div

        tails = sorted({r["tail_ok"] for r in rs})
        cells = [s, fmt(m("ready_ms", 1000), 3), fmt(m("log_ms", 1000), 3),
                 fmt(m("snap_mib"), 1), fmt(m("wal_mib"), 1), fmt(m("wal_records"), 0),
                 fmt(m("rss_before_kib", MIB_KIB), 1), fmt(m("rss_after_kib", MIB_KIB), 1),
                 fmt(m("dbsize_after"), 0), "/".join(tails)]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    cand = servers[0]
    for ref in servers[1:]:
        out.append(f"- {cand}/{ref} restart time ×" + fmt(paired(
            rows, cand, ref, lambda r: num(r["ready_ms"])), 3) + " (< 1 favours " + cand + ")")
    for r in rows:
        if r["tail_ok"] != "yes" or r["dbsize_after"] != r["keys"]:
            out.append(f"- warning: {r['server']} round {r['round']}: {r['dbsize_after']} keys "
                       f"after restart (expected {r['keys']}), tail writes present: "
                       f"{r['tail_ok']}")
    return "\n".join(out) + "\n"


def aof_targets(path, cand, ref):
    """Lines: per mode and pipeline, median paired throughput ratio; the -P 64 target."""
    rows = read_tsv(path)
    cells = {}
    for r in rows:
        cells.setdefault((r["mode"], r["pipeline"]), {}).setdefault(r["round"], {})[
            r["server"]] = float(r["rps"])
    out = []
    for (mode, p), by_round in cells.items():
        rs = [v[cand] / v[ref] for v in by_round.values()
              if cand in v and ref in v and v[ref] > 0]
        r = med(rs)
        line = f"- {mode}, -P {p}: {cand}/{ref} ops/s ×{fmt(r, 2)}"
        if p == "64":
            line += f" (target ≥ 1.5: {verdict(r, 1.5, le=False)})"
        out.append(line)
    return "\n".join(out) + "\n"


def append_row(path, columns, row):
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    with open(path, "a") as f:
        if new:
            f.write("\t".join(columns) + "\n")
        f.write("\t".join(str(x) for x in row) + "\n")


# -------------------------------------------------------------------------------------- main


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen", help="RESP SETs of key:%%010d to stdout")
    g.add_argument("--start", type=int, default=0)
    g.add_argument("--count", type=int, required=True)
    g.add_argument("--tag", default="v")
    g.add_argument("--size", type=int, default=32)
    g = sub.add_parser("load", help="open-loop GET/SET load until SIGTERM")
    g.add_argument("--port", type=int, required=True)
    g.add_argument("--rate", type=float, default=10000)
    g.add_argument("--conns", type=int, default=50)
    g.add_argument("--keys", type=int, required=True)
    g.add_argument("--write-pct", type=float, default=50)
    g.add_argument("--size", type=int, default=32)
    g.add_argument("--max-secs", type=float, default=3600)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--out", required=True)
    g = sub.add_parser("rss", help="sample VmRSS (and PSS) of a pid and its children")
    g.add_argument("--pid", type=int, required=True)
    g.add_argument("--out", required=True)
    g.add_argument("--interval-ms", type=int, default=10)
    g.add_argument("--pss-ms", type=int, default=500)
    g = sub.add_parser("bgsave", help="BGSAVE and wait; prints t_start_ns t_end_ns cow attempts")
    g.add_argument("--port", type=int, required=True)
    g.add_argument("--expect-saves", type=int, default=1)
    g.add_argument("--timeout", type=float, default=1800)
    g.add_argument("--poll-ms", type=float, default=10)
    g = sub.add_parser("wait-idle", help="wait until no snapshot or rewrite runs")
    g.add_argument("--port", type=int, required=True)
    g.add_argument("--timeout", type=float, default=1800)
    g = sub.add_parser("ready", help="ms from --since (epoch s) until PING answers PONG")
    g.add_argument("--port", type=int, required=True)
    g.add_argument("--pid", type=int, required=True)
    g.add_argument("--since", type=float, required=True)
    g.add_argument("--timeout", type=float, default=1800)
    g = sub.add_parser("watch", help="poll PING before a start; write the first PONG's time")
    g.add_argument("--port", type=int, required=True)
    g.add_argument("--pid-file", required=True)
    g.add_argument("--out", required=True)
    g.add_argument("--timeout", type=float, default=1800)
    g = sub.add_parser("info", help="one INFO field")
    g.add_argument("--port", type=int, required=True)
    g.add_argument("--section", default="persistence")
    g.add_argument("field")
    g = sub.add_parser("snap-row", help="append one snapshot row to a TSV")
    for a in ("--round", "--server", "--keys", "--load", "--rss", "--tsv"):
        g.add_argument(a, required=True)
    g.add_argument("--t1", type=int, required=True)
    g.add_argument("--t2", type=int, required=True)
    g.add_argument("--cow", type=int, default=0)
    g.add_argument("--settle", type=float, default=1.0)
    g = sub.add_parser("restart-row", help="append one restart row to a TSV")
    for a in ("--round", "--server", "--keys", "--log", "--tsv", "--ready-ms", "--snap-mib",
              "--wal-mib", "--rss-before", "--rss-after", "--dbsize", "--tail-ok"):
        g.add_argument(a, required=True)
    for name in ("snap-report", "restart-report"):
        g = sub.add_parser(name)
        g.add_argument("tsv")
        g.add_argument("--servers", default="moon redis")
    g = sub.add_parser("timeline", help="latency per time bucket of one load run")
    g.add_argument("--load", required=True)
    g.add_argument("--t1", type=int, required=True)
    g.add_argument("--t2", type=int, required=True)
    g.add_argument("--bucket", type=float, default=0.5, help="seconds")
    g = sub.add_parser("aof-targets")
    g.add_argument("tsv")
    g.add_argument("--cand", default="moon")
    g.add_argument("--ref", default="redis")
    a = p.parse_args(argv)

    if a.cmd == "gen":
        gen(a.start, a.count, a.tag, a.size, sys.stdout.buffer)
    elif a.cmd == "load":
        run_load(a.port, a.rate, a.conns, a.keys, a.write_pct, a.size, a.max_secs, a.out, a.seed)
    elif a.cmd == "rss":
        run_rss(a.pid, a.out, a.interval_ms, a.pss_ms)
    elif a.cmd == "bgsave":
        run_bgsave(a.port, a.expect_saves, a.timeout, a.poll_ms)
    elif a.cmd == "wait-idle":
        cli = Client(a.port, timeout=30)
        wait_idle(cli, a.timeout)
    elif a.cmd == "ready":
        run_ready(a.port, a.pid, a.since, a.timeout)
    elif a.cmd == "watch":
        run_watch(a.port, a.pid_file, a.out, a.timeout)
    elif a.cmd == "info":
        cli = Client(a.port, timeout=30)
        print(parse_info(cli.call("INFO", a.section) or b"").get(a.field, ""))
    elif a.cmd == "snap-row":
        append_row(a.tsv, SNAP_COLUMNS, snap_row(a.round, a.server, a.keys, a.load, a.rss,
                                                 a.t1, a.t2, a.cow, a.settle))
    elif a.cmd == "restart-row":
        log_ms, records = log_recovery(a.server, a.log)
        append_row(a.tsv, RESTART_COLUMNS, [
            a.round, a.server, a.keys, a.ready_ms,
            "nan" if log_ms is None else f"{log_ms:.1f}", a.snap_mib, a.wal_mib, records,
            a.rss_before, a.rss_after, a.dbsize, a.tail_ok])
    elif a.cmd == "snap-report":
        sys.stdout.write(snap_report(a.tsv, a.servers.split()))
    elif a.cmd == "restart-report":
        sys.stdout.write(restart_report(a.tsv, a.servers.split()))
    elif a.cmd == "timeline":
        sys.stdout.write(timeline(a.load, a.t1, a.t2, a.bucket))
    elif a.cmd == "aof-targets":
        sys.stdout.write(aof_targets(a.tsv, a.cand, a.ref))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
