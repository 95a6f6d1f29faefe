"""The rule catalog is a committed surface; the bundled examples exercise every domain of their markets."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from tests.cli_runner import run

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "tests" / "snapshots" / "rules-list.json"


def _catalog() -> list[dict]:
    proc = run("rules", "list", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_rule_catalog_matches_the_committed_snapshot() -> None:
    current = {r["id"]: {"id": r["id"], "jurisdiction": r["jurisdiction"], "domain": r["domain"], "severity": r["severity"],
                         "subject": r["subject"],
                         "citation": {"law": r["citation"]["law"], "article": r["citation"].get("article")} if r.get("citation") else None}
               for r in _catalog()}
    snapshot = {r["id"]: r for r in json.loads(SNAPSHOT.read_text(encoding="utf-8"))}
    removed = sorted(set(snapshot) - set(current))
    assert not removed, f"rules removed from the catalog: {removed}"
    changed = sorted(i for i in snapshot if snapshot[i] != current[i])
    added = sorted(set(current) - set(snapshot))
    assert not changed and not added, (
        f"catalog changed (changed: {changed}, added: {added}); if intended, regenerate tests/snapshots/rules-list.json")


def test_rule_catalog_covers_every_jurisdiction_and_domain() -> None:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for r in _catalog():
        counts[(r["jurisdiction"], r["domain"])] += 1
    for jur in ("CN", "EU", "UK", "US"):
        for domain in ("data_protection", "advertising", "ecommerce", "ip"):
            assert counts[(jur, domain)] >= 8, (jur, domain)
        assert counts[(jur, "tax")] >= 3, jur
    assert sum(counts.values()) >= 160
    assert counts[("GLOBAL", "readiness")] >= 9


EXAMPLES = sorted(ROOT.glob("examples/*/launch.yaml"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_bundled_example_triggers_every_domain_of_its_markets(example: Path) -> None:
    report = json.loads(run("audit", str(example), "--format", "json", "--no-xlsx").stdout)
    failed = {(f["jurisdiction"], f["domain"]) for f in report["findings"] if f["outcome"] == "fail"}
    expected = {(p["jurisdiction"], p["domain"]) for p in report["packs"]}
    assert expected - failed == set(), f"domains without a finding: {sorted(expected - failed)}"


def test_readme_coverage_table_is_current() -> None:
    from compliance.audit import Context
    from compliance.reporting.rules_doc import coverage_markdown

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- coverage:start -->")[1].split("<!-- coverage:end -->")[0].strip()
    assert block == coverage_markdown(Context.load(with_claims=False).library).strip(), \
        "regenerate the README coverage table from compliance.reporting.rules_doc.coverage_markdown"


def test_readme_launch_example_is_valid(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## The launch description")[1].split("```yaml\n")[1].split("```")[0]
    path = tmp_path / "launch.yaml"
    path.write_text(block.replace("text_file: product_page.html", "text: 详见商品详情页"), encoding="utf-8")
    proc = run("validate", str(path))
    assert proc.returncode == 0, proc.stderr


def test_pack_file_must_be_named_after_its_domain(tmp_path: Path) -> None:
    from compliance.errors import PackError
    from compliance.loading.packs import load_pack

    source = (ROOT / "rules" / "cn" / "tax.yaml").read_text(encoding="utf-8")
    wrong = tmp_path / "taxes.yaml"
    wrong.write_text(source, encoding="utf-8")
    with pytest.raises(PackError) as exc:
        load_pack(wrong)
    assert exc.value.problems[0].code == "E221" and exc.value.problems[0].line
