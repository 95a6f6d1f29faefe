"""Growth: generated launches with 10, 100, 1,000 and 10,000 materials and data flows; time and peak memory per size.

Target: linear growth; 10,000 materials in under 30 s and under 600 MB.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import ROOT, machine, median, run_timed, update_section  # noqa: E402

EN_TEXTS = [
    "Our new serum is the best in the UK and clinically proven to reduce wrinkles by 95%.",
    "Try the app free for 30 days. Cancel anytime.",
    "Made with recycled packaging. Ask your pharmacist for advice.",
    "Limited stock: order today and save 50% on your first box.",
]
ZH_TEXTS = ["全网最低价，第一品牌，限时抢购！", "本品采用天然成分，温和不刺激。", "最近上新，欢迎选购。", "国家级品质，100%有效"]


def launch(n: int) -> dict:
    markets = ["CN", "DE", "UK", "US-CA"]
    materials = []
    for i in range(n):
        zh = i % 4 == 0
        materials.append({"id": f"m{i}", "type": "ad", "channel": "social", "market": "CN" if zh else markets[1 + i % 3],
                          "language": "zh" if zh else "en", "product": f"p{i % 20}",
                          "text": (ZH_TEXTS if zh else EN_TEXTS)[i % 4], "labelled_as_ad": i % 3 != 0})
    items = [{"id": f"d{i}", "name": f"Field {i}", "category": "health" if i % 5 == 0 else "contact",
              "sensitive": i % 5 == 0, "special_category": i % 5 == 0, "lawful_basis": "consent", "necessary": i % 2 == 0,
              "retention_days": 365} for i in range(n)]
    consents = [{"id": f"c{i}", "purpose": "service", "covers": [f"d{i}"], "separate": i % 2 == 0, "explicit": True,
                 "preticked": False} for i in range(0, n, 2)]
    transfers = [{"id": f"t{i}", "to_country": "US", "mechanism": "scc" if i % 3 else "none", "data_items": [f"d{i}"]}
                 for i in range(0, n, 10)]
    return {
        "launch": {"name": f"Growth {n}", "markets": markets, "launch_date": "2027-03-01",
                   "company": {"name": "Bench Ltd", "country": "DE"}},
        "products": [{"id": f"p{i}", "name": f"Product {i}", "category": "cosmetics" if i % 2 else "ordinary_food"} for i in range(20)],
        "personal_data": {"collects": True, "items": items, "consents": consents, "transfers": transfers},
        "materials": materials,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = ["| materials + data items | empty cache: wall (s, median) | peak RSS (MB) | s per 1,000 materials | "
            "warm cache: wall (s) | peak RSS (MB) | exit |", "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"growth-{n}.yaml"
            path.write_text(yaml.safe_dump(launch(n), allow_unicode=True, sort_keys=False), encoding="utf-8")
            runs_n = args.runs if n < 10_000 else 1

            def audit(i: int, cache: str) -> tuple[float, float, int]:
                cmd = [sys.executable, "-m", "compliance", "audit", str(path), "--format", "none",
                       "--xlsx", str(Path(tmp) / f"g{n}-{cache}-{i}.xlsx")]
                env = dict(os.environ, COMPLIANCE_CACHE_DIR=str(Path(tmp) / f"cache-{n}-{cache}-{i if cache == 'empty' else 0}"))
                return run_timed(cmd, cwd=ROOT, env=env)

            empty = [audit(i, "empty") for i in range(runs_n)]
            audit(0, "warm")  # fills the cache
            warm = [audit(i + 1, "warm") for i in range(runs_n)]
            wall, rss = median([r[0] for r in empty]), median([r[1] for r in empty])
            warm_wall, warm_rss = median([r[0] for r in warm]), median([r[1] for r in warm])
            rows.append(f"| {n:,} + {n:,} | {wall:.2f} | {rss:.0f} | {1000 * wall / n:.2f} | {warm_wall:.2f} | "
                        f"{warm_rss:.0f} | {empty[0][2]} |")
            print(rows[-1], flush=True)
    update_section("Growth with launch size", f"Machine: {machine()}. Generated launches (`bench/growth_bench.py`): N materials "
                   "(mixed English/Chinese ad copy, 4 markets) and N data items with consents and transfers; a cold "
                   "`compliance audit` writing a new workbook, with an empty per-user cache (the first audit) and a warm one "
                   "(a repeat; the claims cache holds the detector's findings per text). Target: linear; 10,000 in under 30 s and 600 MB.\n\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
