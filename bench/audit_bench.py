"""Cold audit of each bundled example, as a user runs it, against the floor of starting Python with the libraries.

Target: the audit takes at most 1.5x the floor, and under 2.5 s.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import ROOT, machine, median, run_timed, update_section  # noqa: E402

RUNS = 5
FLOOR = [sys.executable, "-c", "import spacy, openpyxl, durable.engine, pydantic, yaml"]


def _audit(example: Path, workbook: Path) -> list[str]:
    return [sys.executable, "-m", "compliance", "audit", str(example), "--format", "none", "--xlsx", str(workbook)]


def _cache_env(directory: Path) -> dict[str, str]:
    return dict(os.environ, COMPLIANCE_CACHE_DIR=str(directory))


def main() -> None:
    floor = [run_timed(FLOOR) for _ in range(RUNS)]
    floor_wall, floor_rss = median([f[0] for f in floor]), median([f[1] for f in floor])
    rows = ["| what | wall (s, median) | peak RSS (MB) | x floor | exit |", "|---|---|---|---|---|",
            f"| floor: python + import spaCy, openpyxl, durable-rules, pydantic, PyYAML | {floor_wall:.2f} | {floor_rss:.0f} | 1.00 | 0 |"]
    with tempfile.TemporaryDirectory() as tmp:
        for example in sorted(ROOT.glob("examples/*/launch.yaml")):
            name = example.parent.name
            # first audit on a machine: empty per-user cache, no earlier workbook
            first = [run_timed(_audit(example, Path(tmp) / f"{name}-first-{i}.xlsx"), cwd=ROOT,
                               env=_cache_env(Path(tmp) / f"cache-{name}-{i}")) for i in range(RUNS)]
            # a repeat audit, as users run it after editing: warm cache, the previous workbook carried over
            warm_env = _cache_env(Path(tmp) / f"cache-{name}-warm")
            workbook = Path(tmp) / f"{name}.xlsx"
            run_timed(_audit(example, workbook), cwd=ROOT, env=warm_env)
            repeat = [run_timed(_audit(example, workbook), cwd=ROOT, env=warm_env) for _ in range(RUNS)]
            for label, runs in (("first run, empty cache", first), ("repeat run, warm cache", repeat)):
                wall, rss = median([r[0] for r in runs]), median([r[1] for r in runs])
                rows.append(f"| `compliance audit {example.relative_to(ROOT)}` ({label}) | {wall:.2f} | {rss:.0f} | "
                            f"{wall / floor_wall:.2f} | {runs[0][2]} |")
                print(rows[-1], flush=True)
    update_section("Cold audit of the bundled examples", f"Machine: {machine()}. Median of {RUNS} cold runs (a new "
                   "process each time), each writing the workbook: the first audit on a machine (empty per-user cache: packs "
                   "parsed and checked, claims detected) and a repeat audit (warm cache, reviewer entries carried over from "
                   "the previous workbook). Exit 1 means findings at or above `--fail-on high`, as expected for the examples. "
                   "Target: at most 1.5x the floor and under 2.5 s.\n\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
