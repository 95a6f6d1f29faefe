"""Shared helpers for the benchmark scripts: machine description, medians, BENCHMARKS.md sections."""
from __future__ import annotations

import datetime as dt
import os
import platform
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "BENCHMARKS.md"


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{dt.date.today().isoformat()}, {platform.system()} {platform.machine()}, {os.cpu_count()} cores"
            f"{', ' + cpu if cpu else ''}, Python {platform.python_version()}")


def median(values: list[float]) -> float:
    return statistics.median(values)


def run_timed(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> tuple[float, float, int]:
    """Wall seconds and peak RSS (MB) of a child process, via /usr/bin/time-free getrusage of children."""
    import resource
    import time

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # ru_maxrss of children is the max over all waited children; measure one process per call to keep it honest.
    return wall, after.ru_maxrss / 1024, proc.returncode


def update_section(title: str, body: str) -> None:
    """Replace (or append) the '## <title>' section of BENCHMARKS.md."""
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else "# Benchmarks\n\nFigures from `bench/` scripts; medians of several runs on the machine named in each section.\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.M | re.S)
    section = f"## {title}\n\n{body.strip()}\n\n"
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    BENCHMARKS.write_text(text, encoding="utf-8")


def python() -> str:
    return sys.executable
