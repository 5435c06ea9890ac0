#!/usr/bin/env python3
"""Soak-and-fault test of moon's durability: a mixed read/write workload while the server is
kill -9'd and restarted on the same data directory, checking that no acknowledged write is lost.

Each client thread owns its keys, so it keeps an exact model of every key as of the last
ACKNOWLEDGED write. An operation whose reply never arrived (the server died under it) is
*uncertain*: its key accepts the state before or after it, and the key is re-read and resynced
to what the server kept. After every restart and at the end, a checker reads every key and
compares it with the model:

- lost write: the server holds an older state of the key (the model's history has it), i.e.
  an acknowledged write is gone;
- mismatch: a state the model cannot explain at all.

Invariants: the workload pauses while the checker runs (models are stable), and no client
retries a command on its own (redis-py is given zero retries), so a write reaches the server at
most once. Exits 1 on any loss or mismatch, 2 on a harness failure (server will not start).

Usage: tests/soak/soak.sh [--seconds 300] [--threads 8] ... (see --help); soak.sh provides
redis-py in a venv under target/. MOON_BIN picks the binary (default target/release/moon,
built with `cargo build --release --bin moon` when missing).
"""

import argparse
import collections
import os
import random
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# States of a key the model remembers, newest last: a server state equal to an older one is
# a rolled-back (lost) write rather than an unexplained value.
HISTORY = 64
# Errors that mean "the connection died under the command": its outcome is unknown.
CONN_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)
# Long TTL set by EXPIRE: never reached during a run, so the key's existence stays exact.
LONG_TTL = 100_000


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Server:
    """The moon process under test; restarts reuse the same data directory and port."""

    def __init__(self, binary, shards, data_dir, port, extra=()):
        self.binary = binary
        self.extra = list(extra)
        self.shards = shards
        self.dir = data_dir
        self.port = port
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        logf = open(os.path.join(self.dir, f"moon-{self.starts}.log"), "wb")
        self.proc = subprocess.Popen(
            [self.binary] + self.flags(),
            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logf.close()
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moon exited with {self.proc.returncode} at start; "
                                   f"see {self.dir}/moon-{self.starts}.log")
            try:
                if client(self.port, timeout=1).ping():
                    return
            except CONN_ERRORS:
                time.sleep(0.05)
        raise RuntimeError("moon did not answer PING within 60 s")

    def flags(self):
        """moon's flags: the defaults, each overridden by an `--extra` flag of the same name
        (clap refuses a flag given twice)."""
        flags = {"--port": str(self.port), "--shards": str(self.shards), "--appendonly": "yes",
                 "--appendfsync": "always", "--dir": self.dir}
        it = iter(self.extra)
        for name in it:
            flags[name] = next(it, "")
        return [x for pair in flags.items() for x in pair]

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()


def client(port, timeout=10):
    return redis.Redis(port=port, socket_timeout=timeout, socket_connect_timeout=timeout,
                       retry=Retry(NoBackoff(), 0), single_connection_client=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- reading a key's state, canonically -------------------------------------------------

def read_state(conn, key, kind):
    """The key's value as a hashable, canonical Python value; None when the key is absent."""
    if kind in ("str", "ctr"):
        return conn.get(key)
    if kind == "list":
        v = conn.lrange(key, 0, -1)
        return tuple(v) if v else None
    if kind == "hash":
        v = conn.hgetall(key)
        return frozenset(v.items()) if v else None
    if kind == "set":
        v = conn.smembers(key)
        return frozenset(v) if v else None
    if kind == "zset":
        v = conn.zrange(key, 0, -1, withscores=True)
        return tuple((m, float(s)) for m, s in v) if v else None
    if kind == "stream":
        v = conn.xrange(key)
        if not v:
            return None
        ids = [tuple(int(p) for p in i.split(b"-")) for i, _ in v]
        if ids != sorted(set(ids)):
            return ("BAD-IDS", tuple(ids))
        # Entry IDs are the server's choice; the model knows the fields of each entry.
        return tuple(tuple(sorted(f.items())) for _, f in v)
    raise ValueError(kind)


# ---- the model -----------------------------------------------------------------------------

class Key:
    def __init__(self, name, kind):
        self.name = name
        self.kind = kind
        self.state = None  # as read_state() would return it
        self.history = collections.deque([None], maxlen=HISTORY)
        self.uncertain = None  # (state before, state after) of an op without a reply
        self.ttl = False  # a (long) TTL is set

    def acked(self, new_state):
        self.state = new_state
        self.history.append(new_state)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = collections.Counter()

    def add(self, name, n=1):
        with self.lock:
            self.c[name] += n


class Worker(threading.Thread):
    """One client: owns its keys and their exact model."""

    def __init__(self, idx, port, stats, gate, kills, rng_seed):
        super().__init__(daemon=True, name=f"worker-{idx}")
        self.idx = idx
        self.port = port
        self.stats = stats
        self.gate = gate
        self.rng = random.Random(rng_seed)
        self.seq = 0
        self.keys = []
        for kind, n in (("ctr", 3), ("str", 3), ("list", 3), ("hash", 3), ("set", 3),
                        ("zset", 3), ("stream", 2)):
            for i in range(n):
                self.keys.append(Key(f"soak:{idx}:{kind}:{i}".encode(), kind))
        self.by_kind = collections.defaultdict(list)
        for k in self.keys:
            self.by_kind[k.kind].append(k)
        self.conn = None
        self.stop = False
        self.parked = threading.Event()
        self.failure = None
        # Kill count, shared with the controller (a one-element list).
        self.kills = kills

    def uniq(self):
        self.seq += 1
        return f"w{self.idx}-{self.seq}".encode()

    def run(self):
        try:
            self.loop()
        except AssertionError as e:
            # A live read disagreed with the model, or a write answered an error.
            self.failure = str(e)
            self.stats.add("mismatches")
        finally:
            self.parked.set()

    def loop(self):
        while not self.stop:
            if not self.gate.is_set():
                self.conn = None
                self.parked.set()
                self.gate.wait()
                continue
            self.parked.clear()
            kills = self.kills[0]
            try:
                if self.conn is None:
                    self.conn = client(self.port)
                self.step()
            except CONN_ERRORS as e:
                self.conn = None
                # The server died under the command: the controller closes the gate and the
                # checker resolves the uncertain keys. If it did not die, resolve them here.
                time.sleep(0.5)
                if self.gate.is_set() and self.kills[0] == kills:
                    self.stats.add("unexpected_conn_errors")
                    log(f"{self.name}: connection error with the server up: {e!r}")
                    self.resolve_here()

    def resolve_here(self):
        try:
            conn = client(self.port)
            for k in self.keys:
                if k.uncertain is None:
                    continue
                got = read_state(conn, k.name, k.kind)
                before, after = k.uncertain
                k.uncertain = None
                k.ttl = False
                if got not in (before, after):
                    raise AssertionError(f"{k.name}: after a connection error {got!r}, "
                                         f"neither {before!r} nor {after!r}")
                k.acked(got)
        except CONN_ERRORS:
            pass  # the server did die after all: the checker resolves them

    def do(self, key, after, fn):
        """Runs the write `fn()`; on a reply the model takes `after`, without one the key is
        uncertain between its state and `after` (the exception propagates)."""
        before = key.state
        key.uncertain = (before, after)
        self.stats.add("ops")
        try:
            reply = fn()
        except redis.ResponseError as e:
            key.uncertain = None
            self.stats.add("error_replies")
            raise AssertionError(f"{key.name}: unexpected error reply {e}") from e
        except CONN_ERRORS:
            self.stats.add("uncertain_ops")
            raise
        key.uncertain = None
        key.acked(after)
        self.stats.add("acked_writes")
        return reply

    def step(self):
        c = self.conn
        r = self.rng
        kind = r.choice(("ctr", "str", "list", "hash", "set", "zset", "stream", "del",
                         "expire", "multi", "read"))
        if kind == "read":
            k = r.choice(self.keys)
            self.stats.add("ops")
            got = read_state(c, k.name, k.kind)
            if got != k.state:
                raise AssertionError(f"{k.name}: live read {got!r}, model {k.state!r}")
            return
        if kind == "del":
            k = r.choice(self.keys)
            self.do(k, None, lambda: c.delete(k.name))
            k.ttl = False
            return
        if kind == "expire":
            k = r.choice(self.keys)
            if k.state is None:
                return
            self.do(k, k.state, lambda: c.expire(k.name, LONG_TTL))
            k.ttl = True
            return
        if kind == "multi":
            self.multi()
            return
        k = r.choice(self.by_kind[kind])
        s = k.state
        if kind == "ctr":
            n = int(s or b"0") + 1
            self.do(k, str(n).encode(), lambda: c.incr(k.name))
            k.ttl = False if s is None else k.ttl
        elif kind == "str":
            v = self.uniq()
            self.do(k, v, lambda: c.set(k.name, v))
            k.ttl = False
        elif kind == "list":
            if s and (len(s) > 12 or r.random() < 0.4):
                self.do(k, s[:-1] or None, lambda: c.rpop(k.name))
                k.ttl = k.ttl and len(s) > 1
            else:
                v = self.uniq()
                self.do(k, (v,) + (s or ()), lambda: c.lpush(k.name, v))
        elif kind == "hash":
            d = dict(s or ())
            if d and (len(d) > 8 or r.random() < 0.4):
                f = r.choice(sorted(d))
                del d[f]
                self.do(k, frozenset(d.items()) or None, lambda: c.hdel(k.name, f))
                k.ttl = k.ttl and bool(d)
            else:
                f, v = f"f{r.randrange(10)}".encode(), self.uniq()
                d[f] = v
                self.do(k, frozenset(d.items()), lambda: c.hset(k.name, f, v))
        elif kind == "set":
            m = set(s or ())
            x = f"m{r.randrange(12)}".encode()
            if x in m and r.random() < 0.5:
                m.discard(x)
                self.do(k, frozenset(m) or None, lambda: c.srem(k.name, x))
                k.ttl = k.ttl and bool(m)
            else:
                m.add(x)
                self.do(k, frozenset(m), lambda: c.sadd(k.name, x))
        elif kind == "zset":
            z = dict(s or ())
            x = f"m{r.randrange(10)}".encode()
            if r.random() < 0.5:
                inc = r.randrange(1, 5)
                z[x] = z.get(x, 0.0) + inc
                self.do(k, zcanon(z), lambda: c.zincrby(k.name, inc, x))
            else:
                score = r.randrange(-100, 100)
                z[x] = float(score)
                self.do(k, zcanon(z), lambda: c.zadd(k.name, {x: score}))
        elif kind == "stream":
            v = self.uniq()
            entries = s or ()
            if len(entries) >= 20:
                # Trim first (acknowledged separately) so streams stay small.
                keep = entries[-10:]
                self.do(k, keep, lambda: c.xtrim(k.name, maxlen=10, approximate=False))
                entries = keep
            self.do(k, entries + (((b"v", v),),), lambda: c.xadd(k.name, {b"v": v}))

    def multi(self):
        """INCR + LPUSH + HSET in one MULTI/EXEC (keys usually on different shards)."""
        c, r = self.conn, self.rng
        ctr = r.choice(self.by_kind["ctr"])
        lst = r.choice(self.by_kind["list"])
        hsh = r.choice(self.by_kind["hash"])
        if lst.state and len(lst.state) > 12:
            return
        v = self.uniq()
        f = f"f{r.randrange(10)}".encode()
        after = {
            ctr: str(int(ctr.state or b"0") + 1).encode(),
            lst: (v,) + (lst.state or ()),
            hsh: frozenset({**dict(hsh.state or ()), f: v}.items()),
        }
        for k, a in after.items():
            k.uncertain = (k.state, a)
        self.stats.add("ops")
        pipe = c.pipeline(transaction=True)
        pipe.incr(ctr.name)
        pipe.lpush(lst.name, v)
        pipe.hset(hsh.name, f, v)
        try:
            pipe.execute()
        except CONN_ERRORS:
            self.stats.add("uncertain_ops")
            raise
        for k, a in after.items():
            k.uncertain = None
            k.acked(a)
        self.stats.add("acked_writes", 3)
        self.stats.add("multi_exec")


def zcanon(z):
    return tuple(sorted(((m, float(s)) for m, s in z.items()), key=lambda p: (p[1], p[0])))


# ---- the checker ---------------------------------------------------------------------------

def check_all(port, workers, stats, when):
    """Compares every key with its model; resyncs uncertain keys. Returns problems found."""
    conn = client(port, timeout=30)
    problems = []
    for w in workers:
        for k in w.keys:
            got = read_state(conn, k.name, k.kind)
            stats.add("keys_verified")
            if k.uncertain is not None:
                before, after = k.uncertain
                k.uncertain = None
                # Whether an uncertain SET/DEL/EXPIRE cleared or set the TTL is unknown.
                k.ttl = False
                if got == after:
                    k.acked(got)
                    stats.add("uncertain_applied")
                    continue
                if got == before:
                    stats.add("uncertain_dropped")
                    continue
            elif got == k.state:
                if k.ttl and got is not None and conn.ttl(k.name) <= 0:
                    problems.append(("mismatch", k, got, (k.state, ["TTL lost"])))
                    stats.add("mismatches")
                continue
            model = (k.state, list(k.history)[-4:])
            if got in list(k.history)[:-1]:
                problems.append(("lost", k, got, model))
                stats.add("writes_lost")
            else:
                problems.append(("mismatch", k, got, model))
                stats.add("mismatches")
            # Resync so one problem is reported once.
            k.acked(got)
    for kind, k, got, (model, tail) in problems:
        log(f"{when}: {kind.upper()} {k.name.decode()} ({k.kind}): server {got!r}, "
            f"model {model!r}, history tail {tail!r}")
    return problems


# ---- main ----------------------------------------------------------------------------------

def moon_binary():
    path = os.environ.get("MOON_BIN") or os.path.join(REPO, "target", "release", "moon")
    if not os.path.exists(path):
        log(f"{path} missing: cargo build --release --bin moon")
        subprocess.run(["cargo", "build", "--release", "--bin", "moon"], cwd=REPO, check=True)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=300, help="workload time (default 300)")
    ap.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--kill-min", type=float, default=10, help="min seconds between kills")
    ap.add_argument("--kill-max", type=float, default=30, help="max seconds between kills")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the data dir and logs")
    ap.add_argument("--moon-args", default="",
                    help="extra moon flags, `--name value` pairs replacing the defaults: e.g. "
                         "'--appendonly no' shows that the checker does catch lost writes")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    data_dir = tempfile.mkdtemp(prefix="moon-soak-")
    server = Server(moon_binary(), args.shards, data_dir, free_port(),
                    shlex.split(args.moon_args))
    log(f"seed {seed}, {args.threads} threads, {args.seconds:.0f}s, dir {data_dir}, "
        f"port {server.port}, binary {server.binary} {args.moon_args}")
    stats = Stats()
    gate = threading.Event()
    kills = [0]
    workers = [Worker(i, server.port, stats, gate, kills, rng.randrange(1 << 30))
               for i in range(args.threads)]
    problems = []
    failed = None
    try:
        server.start()
        gate.set()
        for w in workers:
            w.start()
        end = time.time() + args.seconds
        restarts = 0

        def pause():
            gate.clear()
            for w in workers:
                if not w.parked.wait(timeout=60):
                    raise RuntimeError(f"{w.name} did not park (stuck on the server?)")

        while True:
            nap = rng.uniform(args.kill_min, args.kill_max)
            if time.time() + nap >= end:
                time.sleep(max(0.0, end - time.time()))
                break
            time.sleep(nap)
            # Kill first, then close the gate: the kill lands while clients are mid-command.
            kills[0] += 1
            server.kill9()
            pause()
            # The files exactly as the kill left them (recovery truncates torn tails and later
            # snapshots drop segments): kept as evidence if this restart shows a problem.
            before = data_dir + ".before-restart"
            shutil.rmtree(before, ignore_errors=True)
            shutil.copytree(data_dir, before, ignore=shutil.ignore_patterns("*.log"))
            server.start()
            restarts += 1
            stats.add("restarts")
            found = check_all(server.port, workers, stats, f"after restart {restarts}")
            if found:
                kept = f"{data_dir}.evidence-{restarts}"
                os.rename(before, kept)
                log(f"files as the kill left them: {kept}")
            problems += found
            log(f"restart {restarts}: {stats.c['ops']} ops, {stats.c['acked_writes']} acked, "
                f"{stats.c['uncertain_ops']} uncertain, problems so far {len(problems)}")
            gate.set()
        pause()
        problems += check_all(server.port, workers, stats, "at the end (live)")
        # A final crash with everything acknowledged: all of it must come back.
        kills[0] += 1
        server.kill9()
        server.start()
        stats.add("restarts")
        problems += check_all(server.port, workers, stats, "at the end (after kill -9)")
    except AssertionError as e:
        failed = f"workload assertion: {e}"
    except (RuntimeError, OSError, redis.RedisError) as e:
        failed = f"harness: {e!r}"
    finally:
        for w in workers:
            w.stop = True
        gate.set()
        # kill -9, not a graceful stop: shutdown would snapshot and drop the WAL segments that
        # an investigation of a loss needs (the final state was verified already).
        if server.proc and server.proc.poll() is None:
            server.kill9()

    for w in workers:
        if w.ident is not None:
            w.join(timeout=5)
        if w.failure:
            log(f"{w.name}: MISMATCH {w.failure}")
            problems.append(("mismatch", w.name, w.failure))
    c = stats.c
    print()
    print(f"seed                  {seed}")
    print(f"operations executed   {c['ops']}")
    print(f"acknowledged writes   {c['acked_writes']}")
    print(f"MULTI/EXEC acked      {c['multi_exec']}")
    print(f"uncertain ops         {c['uncertain_ops']} "
          f"(applied {c['uncertain_applied']}, dropped {c['uncertain_dropped']})")
    print(f"restarts survived     {c['restarts']}")
    print(f"keys verified         {c['keys_verified']}")
    print(f"writes lost           {c['writes_lost']}")
    print(f"mismatches            {c['mismatches']}")
    print(f"unexpected conn errs  {c['unexpected_conn_errors']}")
    if failed:
        print(f"FAILED: {failed}")
    if problems or failed:
        print(f"data dir kept: {data_dir}")
    elif not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    shutil.rmtree(data_dir + ".before-restart", ignore_errors=True)
    if problems:
        sys.exit(1)
    if failed:
        sys.exit(2)


if __name__ == "__main__":
    main()
