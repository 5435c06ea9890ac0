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


def row(server, rnd, rps, ticks, test="set", pipeline=1, mode="pinned"):
    return [mode, str(rnd), server, test, str(pipeline), "1000", f"{rps}", "0.5", "1.0",
            str(ticks)]


class ParseCsvTest(unittest.TestCase):
    def test_reads_row_by_first_word(self):
        self.assertEqual(bench_stats.parse_csv(CSV, "mset"), (16367.95, 1.303, 10.039))

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

    def test_geomean(self):
        self.assertAlmostEqual(bench_stats.geomean([2.0, 8.0]), 4.0)
        self.assertTrue(bench_stats.geomean([]) != bench_stats.geomean([]))  # nan


class GenRespTest(unittest.TestCase):
    def test_first_command(self):
        fd, path = tempfile.mkstemp()
        os.close(fd)
        self.addCleanup(os.remove, path)
        bench_stats.gen_resp(2, path)
        with open(path, "rb") as f:
            data = f.read()
        first = (b"*3\r\n$3\r\nSET\r\n$14\r\nkey:0000000000\r\n$32\r\n" + b"0" * 32 + b"\r\n")
        self.assertTrue(data.startswith(first))
        self.assertEqual(data.count(b"*3\r\n"), 2)


if __name__ == "__main__":
    unittest.main()
