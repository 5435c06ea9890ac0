#!/usr/bin/env python3
"""Parsing, statistics and input generation for the benchmark scripts (standard library only).

Owns: reading one `redis-benchmark -q --csv` result, turning the raw results file that
compare.sh writes into markdown tables (medians over rounds, paired ratios, geometric means),
and writing the RESP input that memory.sh feeds to `redis-cli --pipe` (datasets `strings`,
`hashes`, `zset`: see DATASETS).

Results file: tab-separated, one line per redis-benchmark run, columns RESULT_COLUMNS.
Invariants: a ratio is only formed between runs of the same mode, round, test and pipeline
(paired), so drift over the run affects both sides alike; the candidate (the first server
listed) is the numerator of every ratio.
"""

import argparse
import csv
import math
import os
import statistics
import sys
from collections import OrderedDict

RESULT_COLUMNS = [
    "mode", "round", "server", "test", "pipeline", "requests", "rps", "p50_ms", "p99_ms",
    "cpu_ticks",
]

MODE_TITLES = {
    "pinned": "pinned: servers on CPU 0 (moon --shards 1), redis-benchmark on CPU 1",
    "unpinned": "unpinned: moon --shards 2, references and redis-benchmark unpinned",
}


# redis-benchmark prints rows for helper runs it needs before the test asked for, e.g. `-t
# lrange_100` first prints "LPUSH (needed to benchmark LRANGE)": never the row of the test.
HELPER_ROW_MARK = "(needed to benchmark"


def row_test_name(label):
    """The test a CSV row label belongs to: its first word, upper case.

    Built-in tests are labelled by name, sometimes with a note ("MSET (10 keys)",
    "LRANGE_100 (first 100 elements)"); custom commands by their command line ("HGET myhash
    element:__rand_int__"). Helper rows give None.
    """
    if HELPER_ROW_MARK in label:
        return None
    return label.split(" ")[0].upper()


def parse_csv(text, test):
    """Returns (rps, p50_ms, p99_ms) of the row for `test` (matched on its first word)."""
    header = None
    for row in csv.reader(text.splitlines()):
        if not row:
            continue
        if row[0] == "test":
            header = row
            continue
        if header is None or row_test_name(row[0]) != test.upper():
            continue
        fields = dict(zip(header, row))
        try:
            return (float(fields["rps"]), float(fields.get("p50_latency_ms", "nan")),
                    float(fields.get("p99_latency_ms", "nan")))
        except (KeyError, ValueError):
            return None
    return None


def load_results(path):
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            for key in ("round", "pipeline", "requests", "cpu_ticks"):
                row[key] = int(row[key])
            for key in ("rps", "p50_ms", "p99_ms"):
                row[key] = float(row[key])
            rows.append(row)
    return rows


def cpu_us_per_req(row, ticks_per_s):
    return row["cpu_ticks"] / ticks_per_s * 1e6 / row["requests"]


def geomean(values):
    values = [v for v in values if v > 0 and math.isfinite(v)]
    if not values:
        return float("nan")
    return math.exp(sum(math.log(v) for v in values) / len(values))


def fmt(value, digits):
    if value is None or not math.isfinite(value):
        return "–"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def unique(values):
    return list(OrderedDict.fromkeys(values))


def paired_ratio(cells, cand, ref, key, invert=False):
    """Median over rounds of cand/ref (or ref/cand) for one row; None without a pair."""
    ratios = []
    for runs in cells.values():
        if cand in runs and ref in runs and runs[cand][key] > 0 and runs[ref][key] > 0:
            a, b = runs[cand][key], runs[ref][key]
            ratios.append(b / a if invert else a / b)
    return statistics.median(ratios) if ratios else None


class ModeReport:
    """Medians and ratios of one mode; rows keyed by (test, pipeline), cells by round."""

    def __init__(self, rows, ticks_per_s, servers=()):
        # The servers asked for come first and keep their columns even without a result (a
        # server that rejected every command still shows as "–"), so the candidate stays first.
        self.servers = unique(list(servers) + [r["server"] for r in rows])
        self.cand = self.servers[0]
        self.refs = self.servers[1:]
        self.rows = OrderedDict()
        for r in rows:
            r = dict(r, cpu_us=cpu_us_per_req(r, ticks_per_s))
            cells = self.rows.setdefault((r["test"], r["pipeline"]), {})
            cells.setdefault(r["round"], {})[r["server"]] = r
        self.rounds = len(unique(r["round"] for r in rows))

    def median(self, cells, server, key):
        values = [runs[server][key] for runs in cells.values() if server in runs]
        return statistics.median(values) if values else None

    def header(self):
        cols = ["test", "P"]
        cols += [f"{s} ops/s" for s in self.servers]
        cols += [f"{self.cand}/{s}" for s in self.refs]
        cols += [f"{s} CPU µs/req" for s in self.servers]
        cols += [f"{s} p99 ms" for s in self.servers]
        return cols

    def row(self, test, pipeline, cells):
        out = [test, str(pipeline)]
        out += [fmt(self.median(cells, s, "rps"), 0) for s in self.servers]
        out += [fmt(paired_ratio(cells, self.cand, s, "rps"), 2) for s in self.refs]
        out += [fmt(self.median(cells, s, "cpu_us"), 2) for s in self.servers]
        out += [fmt(self.median(cells, s, "p99_ms"), 3) for s in self.servers]
        return out

    def geomeans(self):
        """Lines: per pipeline, geomean of throughput ratios and of CPU ratios (ref/cand)."""
        lines = []
        for pipeline in unique(p for _, p in self.rows):
            parts = []
            for ref in self.refs:
                tput = [paired_ratio(c, self.cand, ref, "rps")
                        for (_, p), c in self.rows.items() if p == pipeline]
                cpu = [paired_ratio(c, self.cand, ref, "cpu_us", invert=True)
                       for (_, p), c in self.rows.items() if p == pipeline]
                tput = [v for v in tput if v is not None]
                cpu = [v for v in cpu if v is not None]
                parts.append(f"{self.cand}/{ref} ops/s ×{fmt(geomean(tput), 3)}, "
                             f"CPU/req {ref}/{self.cand} ×{fmt(geomean(cpu), 3)}")
            if parts:
                lines.append(f"- P{pipeline}: " + "; ".join(parts))
        return lines

    def render(self, mode):
        cols = self.header()
        title = MODE_TITLES.get(mode, mode)
        out = [f"### {title}", "", f"Medians of {self.rounds} round(s).", ""]
        out.append("| " + " | ".join(cols) + " |")
        out.append("|" + "|".join("---" if i < 1 else "---:" for i in range(len(cols))) + "|")
        for (test, pipeline), cells in self.rows.items():
            out.append("| " + " | ".join(self.row(test, pipeline, cells)) + " |")
        geo = self.geomeans()
        if geo:
            out += ["", "Geometric means of paired ratios (> 1 favours "
                    f"{self.cand}; CPU ratio is reference µs/req over {self.cand} µs/req):", ""]
            out += geo
        return "\n".join(out) + "\n"


def report(path, servers=()):
    rows = load_results(path)
    if not rows:
        return "no results\n"
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    out = []
    for mode in unique(r["mode"] for r in rows):
        mode_rows = [r for r in rows if r["mode"] == mode]
        out.append(ModeReport(mode_rows, ticks_per_s, servers).render(mode))
    return "\n".join(out)


def resp_command(args):
    """One command as a RESP array of bulk strings (args are bytes)."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


def zset_score(i):
    """Score of member i: a bijection of 0..2^32 that scatters consecutive members, so the load
    does not arrive in score order (which would flatter structures that are cheap to append to).
    """
    return (i * 2654435761) % (1 << 32)


def strings_commands(count, _fields, _batch):
    """SET key:%010d <32 bytes> for i in 0..count."""
    for i in range(count):
        yield [b"SET", b"key:%010d" % i, b"%032d" % i]


def hashes_commands(count, fields, _batch):
    """HSET hash:%08d f0 v0 f1 v1 ... for i in 0..count: `fields` small fields per hash."""
    pairs = []
    for j in range(fields):
        pairs += [b"f%d" % j, b"v%d" % j]
    for i in range(count):
        yield [b"HSET", b"hash:%08d" % i] + pairs


def zset_commands(count, _fields, batch):
    """ZADD bigzset <score> member:%010d ..., `batch` members per command, `count` in all."""
    for start in range(0, count, batch):
        args = [b"ZADD", b"bigzset"]
        for i in range(start, min(start + batch, count)):
            args += [b"%d" % zset_score(i), b"member:%010d" % i]
        yield args


# name -> (command generator, what one unit of `count` is, in the memory table)
DATASETS = {
    "strings": (strings_commands, "key"),
    "hashes": (hashes_commands, "hash"),
    "zset": (zset_commands, "member"),
}


def command_count(dataset, count, batch):
    """How many commands (so replies) gen_resp writes for this dataset."""
    if dataset == "zset":
        return -(-count // batch)
    return count


def gen_resp(count, out_path, dataset="strings", fields=10, batch=100):
    """Writes the load of `dataset` (see DATASETS) as RESP arrays; returns the command count."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r} (expected {', '.join(DATASETS)})")
    if count < 0 or fields < 1 or batch < 1:
        raise ValueError("count must be >= 0, fields and batch >= 1")
    generate = DATASETS[dataset][0]
    n = 0
    with open(out_path, "wb") as f:
        for args in generate(count, fields, batch):
            f.write(resp_command(args))
            n += 1
    assert n == command_count(dataset, count, batch)
    return n


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("parse-csv", help="stdin: redis-benchmark --csv; prints rps p50 p99")
    p.add_argument("test")
    p = sub.add_parser("report", help="markdown tables from a results file")
    p.add_argument("results")
    p.add_argument("--servers", default="",
                   help="space-separated servers in column order, candidate first (default: "
                        "as they appear in the results)")
    p = sub.add_parser("gen-resp", help="write a load for memory.sh; prints the command count")
    p.add_argument("count", type=int, help="keys (strings), hashes, or zset members")
    p.add_argument("out")
    p.add_argument("--dataset", choices=list(DATASETS), default="strings")
    p.add_argument("--fields", type=int, default=10, help="fields per hash (hashes)")
    p.add_argument("--batch", type=int, default=100, help="members per ZADD (zset)")
    sub.add_parser("header", help="print the results file header")
    args = parser.parse_args(argv)

    if args.cmd == "parse-csv":
        parsed = parse_csv(sys.stdin.read(), args.test)
        if parsed is None:
            print(f"no {args.test} row in redis-benchmark output", file=sys.stderr)
            return 1
        print("\t".join(f"{v:.3f}" for v in parsed))
    elif args.cmd == "report":
        sys.stdout.write(report(args.results, args.servers.split()))
    elif args.cmd == "gen-resp":
        try:
            print(gen_resp(args.count, args.out, args.dataset, args.fields, args.batch))
        except ValueError as e:
            print(e, file=sys.stderr)
            return 2
    elif args.cmd == "header":
        print("\t".join(RESULT_COLUMNS))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
