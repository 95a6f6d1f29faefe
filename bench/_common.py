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


_WRAPPER = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
            "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode; "
            "w = time.perf_counter() - t; "
            "print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, rc)")


def run_timed(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit code of one child process (measured by a small wrapper process)."""
    out = subprocess.run([sys.executable, "-c", _WRAPPER, *cmd], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    wall, rss, rc = out.stdout.split()
    return float(wall), float(rss), int(rc)


def update_section(title: str, body: str) -> None:
    """Replace (or append) the '## <title>' section of BENCHMARKS.md."""
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else "# Benchmarks\n\nFigures from `bench/` scripts; medians of several runs on the machine named in each section.\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.M | re.S)
    section = f"## {title}\n\n{body.strip()}\n\n"
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    BENCHMARKS.write_text(text, encoding="utf-8")
