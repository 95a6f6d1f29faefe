"""Score the claim detector on the labelled dev set (real ad texts with regulator verdicts).

Usage: .venv/bin/python bench/claims_eval.py [PATH] [--json]

An item counts as flagged when it has a finding of severity medium or higher. Items whose language
has no lexicon (e.g. German, French) are not checked and count as not flagged; they are listed.
Prints precision, recall, F1 and the precision-weighted score T*(T/(T+F))^2 (proselint) per
jurisdiction and overall, plus the misclassified ids.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DEV = REPO.parent / "shared" / "data" / "claims-dev.jsonl"
FLAG_LEVELS = frozenset({"medium", "high", "critical"})


def _scores(tp: int, fp: int, fn: int, tn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    weighted = tp * (tp / (tp + fp)) ** 2 if tp + fp else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": round(precision, 4), "recall": round(recall, 4),
            "f1": round(f1, 4), "weighted": round(weighted, 2)}


def evaluate(path: Path = DEFAULT_DEV, detector=None) -> dict:
    from compliance.nlp.claims import ClaimDetector, UnsupportedLanguage

    detector = detector or ClaimDetector()
    counts: dict[str, list[int]] = {}
    misclassified: list[dict] = []
    not_checked: list[str] = []
    with Path(path).open(encoding="utf-8") as handle:
        items = [json.loads(line) for line in handle if line.strip()]
    for item in items:
        jur = item["jurisdiction"]
        try:
            hits = detector.detect(item["text"], jur, item.get("lang", "auto"))
        except UnsupportedLanguage:
            hits = []
            not_checked.append(item["id"])
        flagged = any(h.severity in FLAG_LEVELS for h in hits)
        truth = item["label"] == "violation"
        cell = counts.setdefault(jur, [0, 0, 0, 0])  # tp fp fn tn
        index = 0 if flagged and truth else 1 if flagged else 2 if truth else 3
        cell[index] += 1
        if index in (1, 2):
            misclassified.append({
                "id": item["id"], "label": item["label"], "flagged": flagged,
                "findings": [f"{h.severity}:{h.category}:{h.text}" for h in hits if h.severity in FLAG_LEVELS][:6],
            })
    per = {jur: _scores(*cell) for jur, cell in sorted(counts.items())}
    total = [sum(cell[i] for cell in counts.values()) for i in range(4)]
    return {"dataset": str(path), "items": len(items), "per_jurisdiction": per, "overall": _scores(*total),
            "misclassified": misclassified, "not_checked": not_checked}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(DEFAULT_DEV))
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if not Path(args.path).is_file():
        print(f"{args.path}: no such file", file=sys.stderr)
        return 2
    result = evaluate(Path(args.path))
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print(f"dataset: {result['dataset']} ({result['items']} items)")
    print(f"{'scope':8} {'TP':>3} {'FP':>3} {'FN':>3} {'TN':>3} {'prec':>6} {'recall':>6} {'F1':>6} {'T*(T/(T+F))^2':>14}")
    for name, s in [*result["per_jurisdiction"].items(), ("overall", result["overall"])]:
        print(f"{name:8} {s['tp']:3} {s['fp']:3} {s['fn']:3} {s['tn']:3} {s['precision']:6.3f} {s['recall']:6.3f} "
              f"{s['f1']:6.3f} {s['weighted']:14.2f}")
    if result["not_checked"]:
        print("not checked (no lexicon for the language):", ", ".join(result["not_checked"]))
    print("misclassified:")
    for miss in result["misclassified"]:
        kind = "FP" if miss["flagged"] else "FN"
        print(f"  {kind} {miss['id']}  {'; '.join(miss['findings'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
