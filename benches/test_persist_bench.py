"""Unit tests of persist_bench.py: RESP framing, the fill stream, percentiles, the baseline and
snapshot windows, the per-run rows and the tables.

Run: python3 -m unittest discover -s benches -p 'test_*.py'
"""

import io
import os
import tempfile
import unittest

import persist_bench as pb

NS = pb.NS


def parse_resp_commands(data):
    """Splits a stream of RESP arrays of bulk strings into lists of bytes."""
    out, pos = [], 0
    while pos < len(data):
        assert data[pos:pos + 1] == b"*"
        nl = data.index(b"\r\n", pos)
        n = int(data[pos + 1:nl])
        pos = nl + 2
        args = []
        for _ in range(n):
            assert data[pos:pos + 1] == b"$"
            nl = data.index(b"\r\n", pos)
            size = int(data[pos + 1:nl])
            args.append(data[nl + 2:nl + 2 + size])
            assert data[nl + 2 + size:nl + 4 + size] == b"\r\n"
            pos = nl + 4 + size
        out.append(args)
    return out


class Resp(unittest.TestCase):
    def test_reply_end(self):
        self.assertEqual(pb.reply_end(b"+OK\r\n"), 5)
        self.assertEqual(pb.reply_end(b"+OK\r"), 0)
        self.assertEqual(pb.reply_end(b"$-1\r\n"), 5)
        self.assertEqual(pb.reply_end(b"$3\r\nabc\r\n"), 9)
        self.assertEqual(pb.reply_end(b"$3\r\nabc\r"), 0)
        self.assertEqual(pb.reply_end(b"-ERR x\r\n"), 8)
        # Offsets: the second reply of a pipelined buffer.
        buf = b"+OK\r\n$2\r\nhi\r\n"
        self.assertEqual(pb.reply_end(buf, 5), len(buf))
        self.assertEqual(pb.reply_end(buf + b"$5\r\nab", len(buf)), 0)

    def test_gen_writes_exact_sets(self):
        out = io.BytesIO()
        pb.gen(7, 3, "t", 32, out)
        cmds = parse_resp_commands(out.getvalue())
        self.assertEqual([c[1] for c in cmds],
                         [b"key:0000000007", b"key:0000000008", b"key:0000000009"])
        self.assertTrue(all(c[0] == b"SET" and len(c[2]) == 32 for c in cmds))
        self.assertEqual(cmds[0][2], b"t" + b"0" * 30 + b"7")

    def test_gen_spans_chunks(self):
        out = io.BytesIO()
        pb.gen(0, 45001, "v", 11, out)
        cmds = parse_resp_commands(out.getvalue())
        self.assertEqual(len(cmds), 45001)
        self.assertEqual(cmds[-1][1], b"key:0000045000")
        self.assertEqual(cmds[-1][2], b"v0000045000")

    def test_gen_rejects_short_values(self):
        with self.assertRaises(ValueError):
            pb.gen(0, 1, "v", 10, io.BytesIO())


class Stats(unittest.TestCase):
    def test_nearest_rank_percentile(self):
        values = list(range(1, 101))
        self.assertEqual(pb.pct(values, 50), 50)
        self.assertEqual(pb.pct(values, 99), 99)
        self.assertEqual(pb.pct(values, 100), 100)
        self.assertEqual(pb.pct([5], 99), 5)
        self.assertIsNone(pb.pct([], 99))

    def test_request_spanning_the_snapshot_start_counts_for_the_snapshot(self):
        t1 = 10 * NS
        rows = [
            (9 * NS, 1000, 1000, 0, 0),          # due and answered before: baseline
            (t1 - 1000, 50_000, 50_000, 0, 0),   # due before, answered after t1: snapshot
            (t1 + 5, 2000, 2000, 1, 1),          # due during: snapshot (a GET miss)
        ]
        base = pb.window(rows, 0, t1, t1)
        snap = pb.window(rows, t1, 20 * NS, t1)
        self.assertEqual(base, ([1000], 0, 0))
        self.assertEqual(snap, ([2000, 50_000], 1, 0))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class Rows(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        for name in os.listdir(self.dir):
            os.remove(os.path.join(self.dir, name))
        os.rmdir(self.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def snap_files(self, child_kib):
        start, t1, t2 = 1 * NS, 5 * NS, 7 * NS
        load = [f"# start_ns {start} rate 1000 conns 1 connect_ms 1.0"]
        # 1 ms latency before the snapshot, 4 ms during it, 1 ms after.
        for i in range(8000):
            t = start + i * NS // 1000
            lat = 4000 if t1 <= t < t2 else 1000
            load.append(f"{t} {lat} {lat - 10} {i % 2} 0")
        write(self.path("load"), "\n".join(load) + "\n")
        rss = []
        for i in range(90):
            t = start + i * NS // 10
            during = t1 <= t <= t2
            rss.append(f"{t} {1100 if during else 1000} {child_kib if during else 0} "
                       f"{1 if during and child_kib else 0} {1000 if i % 5 == 0 else -1}")
        write(self.path("rss"), "\n".join(rss) + "\n")
        return t1, t2

    def test_snap_row_windows_and_rss(self):
        t1, t2 = self.snap_files(child_kib=900)
        row = dict(zip(pb.SNAP_COLUMNS, pb.snap_row("1", "redis", "100", self.path("load"),
                                                    self.path("rss"), t1, t2, 2048, 1.0)))
        self.assertEqual(row["snap_s"], "2.000")
        # The baseline is as long as the snapshot, right before it.
        self.assertEqual(row["base_s"], "2.000")
        self.assertEqual(row["rss_pre_kib"], 1000)
        # Parent and fork child summed.
        self.assertEqual(row["rss_peak_kib"], 2000)
        self.assertEqual(row["base_p99_ms"], "1.000")
        self.assertEqual(row["snap_p99_ms"], "4.000")
        self.assertEqual(row["snap_max_ms"], "4.000")
        self.assertEqual(row["lag_p99_ms"], "0.010")
        self.assertEqual(row["cow_reported_kib"], 2)
        self.assertEqual(row["base_rps"], "1000")

    def test_baseline_shortened_when_the_load_ran_less(self):
        t1, t2 = self.snap_files(child_kib=0)
        # Settle of 3.5 s after the start at 1 s: only 0.5 s remain before t1 = 5 s.
        row = dict(zip(pb.SNAP_COLUMNS, pb.snap_row("1", "moon", "100", self.path("load"),
                                                    self.path("rss"), t1, t2, 0, 3.5)))
        self.assertEqual(row["base_s"], "0.500")

    def test_snap_report_targets(self):
        tsv = self.path("snap.tsv")
        t1, t2 = self.snap_files(child_kib=0)
        pb.append_row(tsv, pb.SNAP_COLUMNS, pb.snap_row(
            "1", "moon", "100", self.path("load"), self.path("rss"), t1, t2, 0, 1.0))
        t1, t2 = self.snap_files(child_kib=900)
        pb.append_row(tsv, pb.SNAP_COLUMNS, pb.snap_row(
            "1", "redis", "100", self.path("load"), self.path("rss"), t1, t2, 0, 1.0))
        text = pb.snap_report(tsv, ["moon", "redis"])
        self.assertIn("| moon | 2.00 | 2.00 | 1.0 | 1.1 | 1.100 |", text)
        self.assertIn("| redis | 2.00 | 2.00 | 1.0 | 2.0 | 2.000 |", text)
        self.assertIn("RSS peak ≤ 1.1 × pre-snapshot RSS: ×1.100 (met)", text)
        self.assertIn("p99 during snapshot ≤ 2 × no-snapshot p99: ×4.00 (NOT met)", text)
        self.assertIn("moon/redis: RSS peak/pre ×0.550", text)

    def test_log_recovery(self):
        moon = self.path("moon.log")
        write(moon, "INFO loaded snapshot x shard=1 keys=5 lsn=9 expired=0\n"
                    "INFO recovery done shard=1 ms=120\n"
                    "INFO replayed the WAL shard=0 records=37 next_lsn=99\n"
                    "INFO recovery done shard=0 ms=340\n")
        self.assertEqual(pb.log_recovery("moon", moon), (340, 37))
        redis = self.path("redis.log")
        write(redis, "* DB loaded from disk: 1.250 seconds\n")
        self.assertEqual(pb.log_recovery("redis", redis), (1250.0, 0))

    def test_restart_report(self):
        tsv = self.path("restart.tsv")
        for server, ready in (("moon", 500), ("redis", 1000)):
            pb.append_row(tsv, pb.RESTART_COLUMNS, ["1", server, "100", ready, "400", "1.0",
                                                     "0.5", "10", "2048", "2048", "100", "yes"])
        text = pb.restart_report(tsv, ["moon", "redis"])
        self.assertIn("| moon | 0.500 | 0.400 |", text)
        self.assertIn("moon/redis restart time ×0.500", text)
        self.assertNotIn("warning", text)

    def test_aof_targets(self):
        tsv = self.path("aof.tsv")
        write(tsv, "mode\tround\tserver\ttest\tpipeline\trequests\trps\tp50_ms\tp99_ms\tcpu_ticks\n"
                   "appendfsync always\t1\tmoon\tset\t64\t10\t300\t1\t1\t1\n"
                   "appendfsync always\t1\tredis\tset\t64\t10\t100\t1\t1\t1\n")
        self.assertIn("-P 64: moon/redis ops/s ×3.00 (target ≥ 1.5: met)", pb.aof_targets(
            tsv, "moon", "redis"))


if __name__ == "__main__":
    unittest.main()
