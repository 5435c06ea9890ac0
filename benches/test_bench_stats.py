"""Unit tests of bench_stats.py: CSV parsing, paired ratios, report rendering, RESP generation.

Run: python3 -m unittest discover -s benches -p 'test_*.py'
"""

import os
import tempfile
import unittest

import bench_stats

CSV = (
    '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",'
    '"p99_latency_ms","max_latency_ms"\n'
    '"MSET (10 keys)","16367.95","2.639","0.248","1.303","7.943","10.039","64.671"\n'
)


HEADER = ('"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",'
          '"p99_latency_ms","max_latency_ms"\n')

# What `redis-benchmark --csv -t lrange_100` prints: the helper LPUSH row comes first.
LRANGE_CSV = HEADER + (
    '"LPUSH (needed to benchmark LRANGE)","163934.42","4.356","0.376","3.751","8.431",'
    '"10.247","12.439"\n'
    '"LRANGE_100 (first 100 elements)","30627.87","16.773","1.512","16.079","27.759",'
    '"41.439","42.207"\n'
)

# A custom command is labelled by its command line.
HGET_CSV = HEADER + (
    '"HGET myhash element:__rand_int__","208333.33","3.077","0.560","2.559","5.767","6.359",'
    '"7.711"\n'
)


def row(server, rnd, rps, ticks, test="set", pipeline=1, mode="pinned"):
    return [mode, str(rnd), server, test, str(pipeline), "1000", f"{rps}", "0.5", "1.0",
            str(ticks)]


class ParseCsvTest(unittest.TestCase):
    def test_reads_row_by_first_word(self):
        self.assertEqual(bench_stats.parse_csv(CSV, "mset"), (16367.95, 1.303, 10.039))

    def test_lrange_row_not_helper_lpush(self):
        self.assertEqual(bench_stats.parse_csv(LRANGE_CSV, "lrange_100"),
                         (30627.87, 16.079, 41.439))
        # The helper row is never taken for an `lpush` test.
        self.assertIsNone(bench_stats.parse_csv(LRANGE_CSV, "lpush"))

    def test_custom_command_row(self):
        self.assertEqual(bench_stats.parse_csv(HGET_CSV, "hget"), (208333.33, 2.559, 6.359))
        self.assertIsNone(bench_stats.parse_csv(HGET_CSV, "hset"))

    def test_header_only_is_none(self):
        # What redis-benchmark prints for a test it does not know.
        self.assertIsNone(bench_stats.parse_csv(HEADER, "xadd"))

    def test_missing_row_is_none(self):
        self.assertIsNone(bench_stats.parse_csv(CSV, "get"))
        self.assertIsNone(bench_stats.parse_csv("", "set"))


class ReportTest(unittest.TestCase):
    def write(self, rows):
        fd, path = tempfile.mkstemp(suffix=".tsv")
        with os.fdopen(fd, "w") as f:
            f.write("\t".join(bench_stats.RESULT_COLUMNS) + "\n")
            for r in rows:
                f.write("\t".join(r) + "\n")
        self.addCleanup(os.remove, path)
        return path

    def test_paired_ratio_is_median_of_rounds(self):
        rows = [row("moon", 1, 100, 10), row("redis", 1, 100, 20),
                row("moon", 2, 200, 10), row("redis", 2, 100, 20),
                row("moon", 3, 300, 10), row("redis", 3, 300, 20)]
        out = bench_stats.report(self.write(rows))
        # Paired ratios 1, 2, 1 give 1.00; the ratio of medians (200/100) would give 2.00.
        self.assertIn("| set | 1 | 200 | 100 | 1.00 |", out)
        self.assertIn("moon/redis ops/s ×1.000, CPU/req redis/moon ×2.000", out)

    def test_missing_server_gives_dash(self):
        rows = [row("moon", 1, 200, 10), row("redis", 1, 100, 20),
                row("moon", 1, 50, 10, test="get")]
        out = bench_stats.report(self.write(rows))
        self.assertIn("| get | 1 | 50 | – | – |", out)

    def test_servers_without_results_keep_their_columns(self):
        # The candidate rejected every command: it stays first, its cells and ratios are "–".
        rows = [row("redis", 1, 100, 20), row("valkey", 1, 50, 10)]
        out = bench_stats.report(self.write(rows), ["moon", "redis", "valkey"])
        self.assertIn("| test | P | moon ops/s | redis ops/s | valkey ops/s | moon/redis | "
                      "moon/valkey |", out)
        self.assertIn("| set | 1 | – | 100 | 50 | – | – |", out)
        self.assertIn("- P1: moon/redis ops/s ×–, CPU/req redis/moon ×–; moon/valkey", out)

    def test_geomean(self):
        self.assertAlmostEqual(bench_stats.geomean([2.0, 8.0]), 4.0)
        self.assertTrue(bench_stats.geomean([]) != bench_stats.geomean([]))  # nan


class GenRespTest(unittest.TestCase):
    def gen(self, count, **kw):
        fd, path = tempfile.mkstemp()
        os.close(fd)
        self.addCleanup(os.remove, path)
        n = bench_stats.gen_resp(count, path, **kw)
        with open(path, "rb") as f:
            return n, f.read()

    def test_first_command(self):
        n, data = self.gen(2)
        first = (b"*3\r\n$3\r\nSET\r\n$14\r\nkey:0000000000\r\n$32\r\n" + b"0" * 32 + b"\r\n")
        self.assertTrue(data.startswith(first))
        self.assertEqual(data.count(b"*3\r\n"), 2)
        self.assertEqual(n, 2)

    def test_hashes(self):
        n, data = self.gen(3, dataset="hashes", fields=10)
        self.assertEqual(n, 3)
        first = bench_stats.resp_command(
            [b"HSET", b"hash:00000000"] + [w for j in range(10) for w in (b"f%d" % j, b"v%d" % j)])
        self.assertTrue(data.startswith(first))
        self.assertTrue(first.startswith(b"*22\r\n$4\r\nHSET\r\n$13\r\nhash:00000000\r\n"
                                         b"$2\r\nf0\r\n$2\r\nv0\r\n"))
        self.assertEqual(data.count(b"*22\r\n"), 3)
        self.assertIn(b"hash:00000002", data)

    def test_zset_batches_and_distinct_scores(self):
        n, data = self.gen(250, dataset="zset", batch=100)
        # 100 + 100 + 50 members.
        self.assertEqual(n, 3)
        self.assertEqual(data.count(b"*202\r\n"), 2)
        self.assertEqual(data.count(b"*102\r\n"), 1)
        self.assertEqual(data.count(b"member:"), 250)
        self.assertIn(b"member:0000000249", data)
        self.assertNotIn(b"member:0000000250", data)
        scores = {bench_stats.zset_score(i) for i in range(100000)}
        self.assertEqual(len(scores), 100000)
        self.assertEqual(bench_stats.command_count("zset", 1000000, 100), 10000)

    def test_zset_first_command(self):
        _, data = self.gen(1, dataset="zset")
        self.assertEqual(data, bench_stats.resp_command([b"ZADD", b"bigzset", b"0",
                                                         b"member:0000000000"]))

    def test_resp_command(self):
        self.assertEqual(bench_stats.resp_command([b"GET", b"k"]),
                         b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")

    def test_bad_dataset(self):
        with self.assertRaises(ValueError):
            self.gen(1, dataset="lists")


if __name__ == "__main__":
    unittest.main()
