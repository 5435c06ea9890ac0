#!/usr/bin/env python3
"""Lua scripting as client libraries and applications use it, checked over redis-py.

Run against any Redis-compatible server: `python3 scripting_clients.py --port 6379`. Driven by
tests/scripting_clients.rs (against moon with 4 shards, or the reference redis-server).

Sections (each reports its own failure; the exit code is 1 if any failed):
  lock         redis-py's Lock (EVALSHA of its release/extend/reacquire scripts): acquire,
               contention, non-owner release, extend, reacquire, expiry, and N threads
               incrementing a counter under the lock (the lock and the counter live on
               different shards).
  ratelimit    a fixed-window limiter (INCR + EXPIRE on the first hit) and a sliding-window
               limiter (ZREMRANGEBYSCORE + ZCARD + ZADD + PEXPIRE): exact allow/deny counts for
               bursts, recovery after the window.
  jobqueue     a BullMQ/Sidekiq-style queue: a take script moving a job id from the wait list to
               the active list (LMOVE or RPOPLPUSH) and recording its owner with HSET, an ack
               script; several consumer threads; every job processed exactly once.
  scriptcache  SCRIPT LOAD/EXISTS/FLUSH and Script.__call__ reloading after a flush (the
               NOSCRIPT fallback), also inside a pipeline.

Key names carry no {hash tag}; `spread` picks names that fall on distinct shards of a
`--shards`-shard moon (Redis Cluster's CRC16 slot, slots split evenly), so multi-key scripts
cross shards there.
"""

import argparse
import collections
import hashlib
import sys
import threading
import time
import traceback
import uuid

try:
    import redis
    from redis.exceptions import LockError, LockNotOwnedError, NoScriptError, ResponseError
except ImportError as e:  # the Rust wrapper installs redis-py; say so plainly if it did not
    print(f"FAIL: redis-py is not importable: {e}", file=sys.stderr)
    sys.exit(2)

ARGS = None
# Set when a worker thread fails, so its siblings stop instead of waiting out their timeouts.
ABORT = threading.Event()


class CheckFailed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def eq(got, want, what):
    if got != want:
        raise CheckFailed(f"{what}: got {got!r}, want {want!r}")


def client(**kw):
    opts = dict(host="127.0.0.1", port=ARGS.port, socket_timeout=20, socket_connect_timeout=10)
    opts.update(kw)
    return redis.Redis(**opts)


def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def shard_of(key, shards):
    return (crc16(key.encode()) % 16384) * shards // 16384


def spread(*prefixes):
    """One `prefix:N` name per prefix, on pairwise distinct shards (cycling when more prefixes
    than shards)."""
    shards = ARGS.shards
    used = []
    names = []
    for i, prefix in enumerate(prefixes):
        if i % shards == 0:
            used = []
        n = 0
        while shard_of(f"{prefix}:{n}", shards) in used:
            n += 1
        name = f"{prefix}:{n}"
        used.append(shard_of(name, shards))
        names.append(name)
    return names


def where(exc):
    """The frames of this program an exception passed through (redis-py's are noise here)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == __file__]
    return "".join(traceback.format_list(frames))


def run_threads(count, target):
    """Runs target(i) on `count` threads; re-raises the first exception any of them raised."""
    errors = []
    ABORT.clear()

    def wrap(i):
        try:
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported in the main thread
            errors.append((i, e, where(e)))
            ABORT.set()

    threads = [threading.Thread(target=wrap, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    check(not any(t.is_alive() for t in threads), "threads still running after 120 s (hang?)")
    if errors:
        i, e, tb = errors[0]
        raise CheckFailed(f"thread {i} failed: {e!r}\n{tb}")


# --- 1. redis-py's Lock ------------------------------------------------------------------


def lock_basics(protocol):
    r1 = client(protocol=protocol)
    r2 = client(protocol=protocol)
    (name,) = spread(f"lock:basic{protocol}")
    r1.delete(name)

    a = r1.lock(name, timeout=5, blocking_timeout=0.2, sleep=0.05)
    check(a.acquire(), "first acquire of a free lock failed")
    check(a.locked() and a.owned(), "holder: locked() and owned() must be true")
    pttl = r1.pttl(name)
    check(4000 < pttl <= 5000, f"lock PTTL after acquire with timeout=5: {pttl}")

    b = r2.lock(name, timeout=5, blocking_timeout=0.3, sleep=0.05)
    t0 = time.monotonic()
    check(not b.acquire(), "second client acquired a held lock")
    waited = time.monotonic() - t0
    check(0.2 <= waited < 3.0, f"blocking acquire gave up after {waited:.3f}s, want ~0.3s")
    check(not b.acquire(blocking=False), "non-blocking acquire of a held lock succeeded")
    check(b.locked() and not b.owned(), "other client: locked() true, owned() false")

    # A lock object carrying a foreign token: every owner-only script must refuse it.
    intruder = r2.lock(name, timeout=5)
    for what, op in (("release", intruder.release), ("extend", lambda: intruder.extend(5)),
                     ("reacquire", intruder.reacquire)):
        intruder.local.token = b"not-the-owner"  # release() clears it
        try:
            op()
        except LockNotOwnedError:
            pass
        else:
            raise CheckFailed(f"{what} by a non-owner did not raise LockNotOwnedError")
    check(a.owned(), "a non-owner's release/extend/reacquire changed the lock")

    check(a.extend(10) is True, "extend(10) by the owner")
    pttl = r1.pttl(name)
    check(13000 < pttl <= 15000, f"PTTL after extend(10) (adds to ~5000): {pttl}")
    check(a.extend(3, replace_ttl=True) is True, "extend(3, replace_ttl=True)")
    pttl = r1.pttl(name)
    check(2000 < pttl <= 3000, f"PTTL after extend(3, replace_ttl=True): {pttl}")
    check(a.reacquire() is True, "reacquire by the owner")
    pttl = r1.pttl(name)
    check(4000 < pttl <= 5000, f"PTTL after reacquire (timeout=5): {pttl}")

    a.release()
    check(not a.locked() and not a.owned(), "after release: not locked, not owned")
    eq(r1.exists(name), 0, "lock key after release")
    try:
        a.release()
    except LockError:
        pass
    else:
        raise CheckFailed("releasing an unlocked lock did not raise LockError")

    check(b.acquire(), "second client could not acquire the released lock")
    check(b.owned() and not a.owned(), "ownership moved to the second client")
    b.release()

    # A lock without timeout cannot be extended (client-side) but must still release by script.
    forever = r1.lock(name)
    check(forever.acquire(blocking=False), "acquire of a lock without timeout")
    eq(r1.pttl(name), -1, "PTTL of a lock without timeout")
    forever.release()
    eq(r1.exists(name), 0, "lock key after releasing the timeout-less lock")

    # The context manager form.
    with r1.lock(name, timeout=5, blocking_timeout=1) as held:
        check(held.owned(), "context-manager lock owned inside the block")
        check(not r2.lock(name, timeout=5).acquire(blocking=False), "held inside the with")
    eq(r1.exists(name), 0, "lock key after the with block")


def lock_expiry():
    r1, r2 = client(), client()
    (name,) = spread("lock:expiry")
    r1.delete(name)
    a = r1.lock(name, timeout=0.3)
    check(a.acquire(blocking=False), "acquire with timeout=0.3")
    b = r2.lock(name, timeout=5, blocking_timeout=3, sleep=0.02)
    t0 = time.monotonic()
    check(b.acquire(), "the lock did not expire for a blocked waiter within 3 s")
    waited = time.monotonic() - t0
    check(0.15 <= waited < 2.5, f"waiter got an expiring (0.3 s) lock after {waited:.3f}s")
    check(b.owned() and not a.owned(), "after expiry the waiter owns the lock")
    # The expired holder's late release must not free the new holder's lock.
    try:
        a.release()
    except LockNotOwnedError:
        pass
    else:
        raise CheckFailed("release by the expired holder did not raise LockNotOwnedError")
    check(b.owned(), "the expired holder's release removed the new holder's lock")
    try:
        a.local.token = b"stale"
        a.extend(1)
    except LockNotOwnedError:
        pass
    else:
        raise CheckFailed("extend of an expired lock did not raise LockNotOwnedError")
    b.release()


def lock_contention():
    threads, rounds = 8, 40
    lock_name, counter, inside = spread("lock:contended", "counter:locked", "inside:locked")
    setup = client()
    setup.delete(lock_name, counter, inside)
    overlaps = []

    def worker(i):
        r = client()
        lock = r.lock(lock_name, timeout=10, sleep=0.002)
        for _ in range(rounds):
            deadline = time.monotonic() + 60
            while not lock.acquire(blocking_timeout=0.5):
                if ABORT.is_set():
                    return
                check(time.monotonic() < deadline, f"thread {i}: no lock within 60 s")
            try:
                # Mutual exclusion seen from the server: at most one holder inside.
                if r.incr(inside) != 1:
                    overlaps.append(i)
                value = r.get(counter)
                r.set(counter, int(value or 0) + 1)
                r.decr(inside)
            finally:
                lock.release()

    run_threads(threads, worker)
    eq(overlaps, [], "threads that found another holder inside the lock")
    eq(int(setup.get(counter) or 0), threads * rounds, "counter incremented under the lock")
    eq(setup.exists(lock_name), 0, "lock key after the contention run")


# --- 2. rate limiters --------------------------------------------------------------------

FIXED_WINDOW = """
local current = redis.call('INCR', KEYS[1])
if current == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return current
"""

# KEYS[1] the window's sorted set; ARGV: now (ms), window (ms), limit, unique request id.
# Returns {allowed (1/0), requests counted in the window}.
SLIDING_WINDOW = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
    redis.call('ZADD', key, now, ARGV[4])
    redis.call('PEXPIRE', key, window)
    return {1, count + 1}
end
return {0, count}
"""

# The same limiter reading the server's clock, as most applications write it.
SLIDING_WINDOW_SERVER_TIME = """
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
    redis.call('ZADD', key, now, ARGV[3])
    redis.call('PEXPIRE', key, window)
    return 1
end
return 0
"""


def fixed_window():
    r = client()
    limiter = r.register_script(FIXED_WINDOW)
    user_a, user_b = spread("rate:fixed:alice", "rate:fixed:bob")
    r.delete(user_a, user_b)
    limit, window = 10, 2
    lock = threading.Lock()
    counts = collections.Counter()

    def burst(i):
        rc = client()
        mine = rc.register_script(FIXED_WINDOW)
        for _ in range(10):
            n = mine(keys=[user_a], args=[window])
            check(isinstance(n, int), f"limiter returned {n!r}, want an integer")
            with lock:
                counts["allowed" if n <= limit else "denied"] += 1

    t0 = time.monotonic()
    run_threads(4, burst)
    elapsed = time.monotonic() - t0
    check(elapsed < window, f"a burst of 40 calls took {elapsed:.2f}s, longer than the window")
    eq(dict(counts), {"allowed": 10, "denied": 30}, "fixed window: 40 hits, limit 10")
    eq(int(r.get(user_a)), 40, "fixed window counter")
    pttl = r.pttl(user_a)
    check(0 < pttl <= 2000, f"fixed window PTTL (EXPIRE 2 on the first hit only): {pttl}")
    # Another user's window is independent.
    eq(limiter(keys=[user_b], args=[window]), 1, "first hit of another user")
    # After the window the key is gone and the budget is back.
    time.sleep(window + 0.15)
    eq(r.exists(user_a), 0, "fixed window key after the window")
    allowed = sum(1 for _ in range(15) if limiter(keys=[user_a], args=[window]) <= limit)
    eq(allowed, 10, "fixed window: allowed in the next window")


def sliding_window():
    r = client()
    limiter = r.register_script(SLIDING_WINDOW)
    (key,) = spread("rate:sliding")
    r.delete(key)
    window, limit = 1000, 5
    base = 1_700_000_000_000

    def hit(offset):
        return limiter(keys=[key], args=[base + offset, window, limit, uuid.uuid4().hex])

    eq([hit(t) for t in range(5)], [[1, 1], [1, 2], [1, 3], [1, 4], [1, 5]], "first 5 hits")
    eq([hit(500), hit(999)], [[0, 5], [0, 5]], "hits 6 and 7 inside the window")
    # At t=1000 the hit at t=0 leaves the window (score <= now - window).
    eq(hit(1000), [1, 5], "hit at t=1000 (one slot freed)")
    eq(hit(1000), [0, 5], "second hit at t=1000")
    eq(hit(1003), [1, 3], "hit at t=1003 (t=1..3 left the window; 4 and 1000 remain)")
    eq([score for _, score in r.zrange(key, 0, -1, withscores=True)],
       [float(base + t) for t in (4, 1000, 1003)], "scores in the window")
    pttl = r.pttl(key)
    check(0 < pttl <= window, f"sliding window PTTL: {pttl}")
    eq(hit(5000), [1, 1], "after a long pause only the new hit counts")

    # Real time, server clock: a burst of 30 with a limit of 10 in 400 ms from 3 threads.
    timed = r.register_script(SLIDING_WINDOW_SERVER_TIME)
    (tkey,) = spread("rate:sliding:time")
    r.delete(tkey)
    lock = threading.Lock()
    results = []

    def burst(i):
        rc = client()
        for _ in range(10):
            got = timed(keys=[tkey], args=[400, 10, uuid.uuid4().hex], client=rc)
            with lock:
                results.append(got)

    t0 = time.monotonic()
    run_threads(3, burst)
    elapsed = time.monotonic() - t0
    if elapsed < 0.35:  # otherwise the window slid during the burst and counts may differ
        eq(collections.Counter(results), collections.Counter({1: 10, 0: 20}),
           "server-clock sliding window: 30 hits, limit 10")
    else:
        check(results.count(1) >= 10, f"burst too slow ({elapsed:.2f}s) yet < 10 allowed")
    time.sleep(0.5)
    t0 = time.monotonic()
    allowed = sum(timed(keys=[tkey], args=[400, 10, uuid.uuid4().hex]) for _ in range(12))
    if time.monotonic() - t0 < 0.35:
        eq(allowed, 10, "server-clock sliding window after the window")
    else:
        check(allowed >= 10, f"server-clock sliding window after the window: {allowed} < 10")


# --- 3. job queue ------------------------------------------------------------------------

ADD_JOB = """
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return redis.call('LPUSH', KEYS[1], ARGV[1])
"""

# KEYS: wait, active, owners, payloads. ARGV: consumer. Returns {id, payload} or nil.
TAKE_LMOVE = """
local id = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
if not id then
    return false
end
redis.call('HSET', KEYS[3], id, ARGV[1])
return {id, redis.call('HGET', KEYS[4], id)}
"""

TAKE_RPOPLPUSH = """
local id = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])
if not id then
    return false
end
redis.call('HSET', KEYS[3], id, ARGV[1])
return {id, redis.call('HGET', KEYS[4], id)}
"""

# KEYS: active, owners, payloads, done. ARGV: id, consumer. 1 = acked, 0 = not this
# consumer's job.
ACK = """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then
    return 0
end
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then
    return 0
end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return redis.call('SADD', KEYS[4], ARGV[1])
"""


def job_queue():
    r = client()
    wait, active, owners, payloads, done = spread(
        "queue:wait", "queue:active", "queue:owners", "queue:payloads", "queue:done")
    r.delete(wait, active, owners, payloads, done)
    jobs, consumers = 300, 6
    add = r.register_script(ADD_JOB)
    for j in range(jobs):
        eq(add(keys=[wait, payloads], args=[f"job-{j}", f"payload-{j}"]), j + 1, "LPUSH length")
    eq(r.hlen(payloads), jobs, "payloads stored")

    # The script replies as an application sees them.
    take = r.register_script(TAKE_LMOVE)
    ack = r.register_script(ACK)
    eq(take(keys=[wait, active, owners, payloads], args=["probe"]),
       [b"job-0", b"payload-0"], "take returns {id, payload} of the oldest job")
    eq(ack(keys=[active, owners, payloads, done], args=["job-0", "someone-else"]), 0,
       "ack by another consumer")
    eq(ack(keys=[active, owners, payloads, done], args=["job-unknown", "probe"]), 0,
       "ack of an unknown job")
    eq(r.lrange(active, 0, -1), [b"job-0"], "active list holds the taken job")
    eq(r.hget(owners, "job-0"), b"probe", "owner recorded")
    eq(ack(keys=[active, owners, payloads, done], args=["job-0", "probe"]), 1, "ack by owner")
    eq(ack(keys=[active, owners, payloads, done], args=["job-0", "probe"]), 0, "second ack")

    lock = threading.Lock()
    processed = []

    def consumer(i):
        rc = client()
        me = f"consumer-{i}"
        mine = rc.register_script(TAKE_LMOVE if i % 2 == 0 else TAKE_RPOPLPUSH)
        acker = rc.register_script(ACK)
        while not ABORT.is_set():
            got = mine(keys=[wait, active, owners, payloads], args=[me])
            if got is None:
                return
            check(isinstance(got, list) and len(got) == 2, f"take returned {got!r}")
            job_id, payload = got[0].decode(), got[1].decode()
            eq(payload, "payload-" + job_id.split("-")[1], f"payload of {job_id}")
            with lock:
                processed.append(job_id)
            eq(acker(keys=[active, owners, payloads, done], args=[job_id, me]), 1,
               f"{me} acking {job_id}")

    run_threads(consumers, consumer)
    counts = collections.Counter(processed)
    twice = [j for j, n in counts.items() if n > 1]
    eq(twice, [], "jobs processed more than once")
    eq(len(counts), jobs - 1, "distinct jobs processed by the consumers")
    eq(r.scard(done), jobs, "done set")
    for key in (wait, active, owners, payloads):
        eq(r.exists(key), 0, f"{key} after the run (emptied collections are deleted)")


# --- 4. script cache ---------------------------------------------------------------------

ECHO_INCR = "return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}"


def script_cache():
    r = client()
    (key,) = spread("script:counter")
    r.delete(key)
    script = r.register_script(ECHO_INCR)
    eq(script.sha, hashlib.sha1(ECHO_INCR.encode()).hexdigest(), "register_script's sha")
    r.script_flush()
    eq(r.script_exists(script.sha), [False], "SCRIPT EXISTS before the first call")
    # First call: EVALSHA answers NOSCRIPT, redis-py loads it and retries.
    eq(script(keys=[key], args=["a"]), [key.encode(), b"a", 1], "first call (NOSCRIPT path)")
    eq(r.script_exists(script.sha), [True], "SCRIPT EXISTS after the call")
    eq(r.script_load(ECHO_INCR), script.sha, "SCRIPT LOAD returns the same sha")

    for mode in (None, "SYNC", "ASYNC"):
        check(r.script_flush(mode) is True, f"SCRIPT FLUSH {mode or ''} reply")
        eq(r.script_exists(script.sha), [False], f"SCRIPT EXISTS after SCRIPT FLUSH {mode}")
        try:
            r.evalsha(script.sha, 1, key, "x")
        except NoScriptError as e:
            check("No matching script" in str(e), f"NOSCRIPT message: {e}")
        else:
            raise CheckFailed(f"EVALSHA after SCRIPT FLUSH {mode} did not raise NoScriptError")
        got = script(keys=[key], args=["b"])
        check(isinstance(got, list) and got[:2] == [key.encode(), b"b"],
              f"call after SCRIPT FLUSH {mode}: {got!r}")
        eq(r.script_exists(script.sha, "0" * 40), [True, False], "SCRIPT EXISTS of two shas")
    eq(int(r.get(key)), 4, "INCR count after four calls")

    # Pipelines check SCRIPT EXISTS and load the missing scripts before EXEC.
    r.script_flush()
    pipe = r.pipeline(transaction=True)
    script(keys=[key], args=["p1"], client=pipe)
    pipe.get(key)
    script(keys=[key], args=["p2"], client=pipe)
    eq(pipe.execute(), [[key.encode(), b"p1", 5], b"5", [key.encode(), b"p2", 6]],
       "transaction pipeline after SCRIPT FLUSH")
    r.script_flush()
    pipe = r.pipeline(transaction=False)
    script(keys=[key], args=["p3"], client=pipe)
    eq(pipe.execute(), [[key.encode(), b"p3", 7]], "plain pipeline after SCRIPT FLUSH")

    # A script error surfaces as ResponseError, and the cache still works afterwards.
    bad = r.register_script("return redis.call('INCR', KEYS[1])")
    r.set(key + ":text", "not a number")
    try:
        bad(keys=[key + ":text"])
    except ResponseError as e:
        check("not an integer" in str(e), f"script error text: {e}")
    else:
        raise CheckFailed("INCR of a non-number inside a script did not raise")
    eq(script(keys=[key], args=["z"])[2], 8, "script after a failing script")
    r.delete(key, key + ":text")


SECTIONS = [
    ("lock: basics (RESP2)", lambda: lock_basics(2)),
    ("lock: basics (RESP3)", lambda: lock_basics(3)),
    ("lock: expiry", lock_expiry),
    ("lock: contention", lock_contention),
    ("ratelimit: fixed window", fixed_window),
    ("ratelimit: sliding window", sliding_window),
    ("jobqueue", job_queue),
    ("scriptcache", script_cache),
]


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--shards", type=int, default=4,
                   help="shards of the server under test, for placing keys (default 4)")
    p.add_argument("--only", default="", help="run only sections whose name contains this")
    ARGS = p.parse_args()
    try:
        client().ping()
    except redis.RedisError as e:
        print(f"FAIL: cannot reach the server on port {ARGS.port}: {e!r}", file=sys.stderr)
        return 1
    failed = []
    for name, fn in SECTIONS:
        if ARGS.only not in name:
            continue
        t0 = time.monotonic()
        try:
            fn()
        except CheckFailed as e:
            failed.append(name)
            print(f"FAIL {name}: {e}", flush=True)
        except Exception as e:  # noqa: BLE001 - a client or server error is a failure too
            failed.append(name)
            print(f"FAIL {name}: unexpected {e!r}\n{where(e)}", flush=True)
        else:
            print(f"ok   {name} ({time.monotonic() - t0:.2f}s)", flush=True)
    if failed:
        print(f"{len(failed)} section(s) failed: {', '.join(failed)}", flush=True)
        return 1
    print("all sections passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
