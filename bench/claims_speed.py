"""Throughput of the claim detector vs a plain regular expression over the same lexicon.

Usage: .venv/bin/python bench/claims_speed.py [--mb 2] [--json]

Corpus: the dev-set texts of each language, repeated to about --mb megabytes (UTF-8) and fed one ad at
a time, as a batch job would. Baseline: one case-insensitive alternation of every lexicon phrase and
regex of that language (word-bounded for English), run with finditer over the same ads. Both run in
this process on one core; the pipelines are loaded before timing.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DEV = REPO.parent / "shared" / "data" / "claims-dev.jsonl"


def _baseline(detector, lang: str) -> re.Pattern[str]:
    pack = detector._packs[lang]
    parts: list[str] = []
    for entry in pack.entries:
        words = list(entry.phrases) + [lemma for lemma in entry.lemmas]
        for word in words:
            body = re.escape(word)
            parts.append(rf"(?<!\w){body}(?!\w)" if lang == "en" else body)
        parts.extend(f"(?:{p})" for p in entry.regex)
    parts.sort(key=len, reverse=True)
    return re.compile("|".join(parts), re.IGNORECASE)


def _corpus(path: Path, lang: str, megabytes: float, page_kb: float = 0) -> list[str]:
    """Dev texts of one language repeated to ~megabytes; page_kb > 0 joins them into pages of about
    that size (a product page carries many claims), 0 keeps one ad per document."""
    items = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    texts = [item["text"] for item in items if item["lang"] == lang]
    size = sum(len(t.encode()) for t in texts)
    docs = texts * max(1, int(megabytes * 1e6 / size))
    if page_kb <= 0:
        return docs
    pages, current, current_size = [], [], 0
    for doc in docs:
        current.append(doc)
        current_size += len(doc.encode())
        if current_size >= page_kb * 1000:
            pages.append("\n".join(current))
            current, current_size = [], 0
    if current:
        pages.append("\n".join(current))
    return pages


def measure(megabytes: float = 2.0, path: Path = DEFAULT_DEV, page_kb: float = 0) -> dict:
    from compliance.nlp.claims import ClaimDetector

    detector = ClaimDetector(cache_results=False)  # time detection, not the result cache
    jurisdiction = {"en": "UK", "zh": "CN"}
    result = {}
    for lang in ("en", "zh"):
        docs = _corpus(path, lang, megabytes, page_kb)
        size = sum(len(t.encode()) for t in docs)
        detector.detect("Best 最好", jurisdiction[lang], "auto")  # load both pipelines outside the timing
        pattern = _baseline(detector, lang)
        start, cpu = time.perf_counter(), time.process_time()
        regex_hits = sum(1 for doc in docs for _ in pattern.finditer(doc))
        regex_s, regex_cpu = time.perf_counter() - start, time.process_time() - cpu
        start, cpu = time.perf_counter(), time.process_time()
        hits = sum(len(detector.detect(doc, jurisdiction[lang], lang)) for doc in docs)
        detector_s, detector_cpu = time.perf_counter() - start, time.process_time() - cpu
        result[lang] = {
            "megabytes": round(size / 1e6, 2), "ads": len(docs),
            "regex_mb_s": round(size / 1e6 / regex_s, 2), "detector_mb_s": round(size / 1e6 / detector_s, 2),
            "regex_cpu_mb_s": round(size / 1e6 / regex_cpu, 2), "detector_cpu_mb_s": round(size / 1e6 / detector_cpu, 2),
            "ratio": round(regex_s / detector_s, 2), "regex_matches": regex_hits, "detector_findings": hits,
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=2.0, help="megabytes of text per language")
    parser.add_argument("--page-kb", type=float, default=0,
                        help="join ads into pages of about this many KB (0: one ad per document)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.mb, page_kb=args.page_kb)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for lang, r in result.items():
        print(f"{lang}: {r['megabytes']} MB in {r['ads']} documents | regex {r['regex_mb_s']} MB/s "
              f"(CPU {r['regex_cpu_mb_s']}) | detector {r['detector_mb_s']} MB/s (CPU {r['detector_cpu_mb_s']}) | "
              f"detector/regex speed ratio {r['ratio']}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
