"""Cold start of the claim detector: ClaimDetector() construction and the first detect() per language,
each measured in a fresh Python process (nothing imported or cached in memory).

Usage: .venv/bin/python bench/claims_coldstart.py [--runs 3] [--repo PATH] [--json]

Scenarios: English only (UK), Chinese only (CN), both. "jieba cold" points COMPLIANCE_CACHE_DIR at an
empty directory, so jieba's prefix dictionary is built from dict.txt instead of loaded from the cache
file. --repo measures another checkout's compliance package (e.g. the previous commit, exported with
`git archive`) with this venv. Reported: the median over --runs of wall-clock seconds (and process CPU).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
sys.path.insert(0, sys.argv[1])
from compliance.nlp.claims import ClaimDetector
detector = ClaimDetector(cache_results=False)  # time detection, not the result cache
t1 = time.perf_counter()
out = {"construct": t1 - t0}
for lang in sys.argv[2].split(","):
    start = time.perf_counter()
    if lang == "en":
        detector.detect("The No.1 cream, clinically proven to cure acne.", "UK", "en")
    else:
        detector.detect("全网最低价，最好的面霜，治疗痘痘", "CN", "zh")
    out["first_" + lang] = time.perf_counter() - start
out["total"] = time.perf_counter() - t0
out["cpu"] = time.process_time() - c0
print(json.dumps(out))
"""

SCENARIOS = [("en", "en", False), ("zh", "zh", False), ("en+zh", "en,zh", False), ("zh, jieba cold", "zh", True)]


def _run(repo: Path, langs: str, cold_jieba: bool) -> dict:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as empty:
        if cold_jieba:
            env["COMPLIANCE_CACHE_DIR"] = empty
            env["TMPDIR"] = empty  # older code keeps jieba's cache in the temp directory
        done = subprocess.run([sys.executable, "-c", _CHILD, str(repo), langs], env=env, capture_output=True,
                              text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(repo: Path = REPO, runs: int = 3) -> dict:
    result = {}
    for name, langs, cold in SCENARIOS:
        samples = [_run(repo, langs, cold) for _ in range(runs)]
        result[name] = {key: round(statistics.median(s[key] for s in samples), 2) for key in samples[0]}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout whose compliance package is measured")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    _run(args.repo, "en,zh", False)  # warm the OS file cache and jieba's cache file
    result = measure(args.repo, args.runs)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for name, r in result.items():
        firsts = " | ".join(f"first {k[6:]} detect {v}s" for k, v in r.items() if k.startswith("first_"))
        print(f"{name}: import + ClaimDetector() {r['construct']}s | {firsts} | total {r['total']}s (CPU {r['cpu']}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
