"""One truth for claim rule ids: every rule id the claim detector can report (rules/claims/jurisdictions/*.yaml
and per-entry `rule_in` overrides in the lexicons) must be a `subject: claim` rule of that jurisdiction's
advertising pack whose applies_when admits the category, with the pack rule's citation; and the standalone
`compliance claims` command must name rules that the audit actually fails on the same text."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from compliance.engine.conditions import All, AnyOf, Leaf, Not, Quantified
from compliance.engine.reference import _Context
from compliance.loading.packs import load_library
from compliance.nlp.claims import CATEGORIES, ClaimDetector, default_lexicon_dir
from compliance.nlp.lexicon import load_jurisdiction, load_language

CLAIMS = default_lexicon_dir()
MAP_FILES = sorted((CLAIMS / "jurisdictions").glob("*.yaml"))


@pytest.fixture(scope="module")
def claim_rules():
    return {r.id: r for r in load_library().rules() if r.spec.subject == "claim"}


@pytest.fixture(scope="module")
def lexicons():
    return [load_language(CLAIMS, lang, CATEGORIES) for lang in ("en", "zh")]


def _admits(cond, subject: dict):
    """Three-valued: could a claim fact with just these fields (category, rule) be in the rule's scope?
    Fields the detector does not fix (text, severity, product ...) are unknown; joins on other facts
    (exists/absent) are unknown too, since they depend on the rest of the launch."""
    if cond is None:
        return True
    if isinstance(cond, Quantified):
        return None
    if isinstance(cond, Not):
        value = _admits(cond.item, subject)
        return None if value is None else not value
    if isinstance(cond, (All, AnyOf)):
        values = [_admits(c, subject) for c in cond.items]
        if isinstance(cond, All):
            return False if False in values else (None if None in values else True)
        return True if True in values else (None if None in values else False)
    assert isinstance(cond, Leaf)
    return _Context(subject, {}, {}).leaf(cond, None)


def _reported_rules(jmap, lexicons):
    """(category, rule id, where) for every rule id the detector can put on a finding in this jurisdiction."""
    out = [(cat, mapping.rule, f"categories.{cat}") for cat, mapping in jmap.categories.items()]
    for pack in lexicons:
        for entry in pack.entries:
            if entry.category is not None and jmap.id in entry.rule_in:
                out.append((entry.category, entry.rule_in[jmap.id], f"{pack.lang} entry {entry.id}"))
    return out


@pytest.mark.parametrize("path", MAP_FILES, ids=[p.stem for p in MAP_FILES])
def test_claim_rule_map_points_at_claim_rules_of_the_pack(path, claim_rules, lexicons):
    jmap = load_jurisdiction(path, CATEGORIES)
    problems = []
    for category, rule_id, where in _reported_rules(jmap, lexicons):
        rule = claim_rules.get(rule_id)
        if rule is None:
            problems.append(f"{where}: {rule_id} is not a subject: claim rule of any pack")
            continue
        if rule.jurisdiction != jmap.id:
            problems.append(f"{where}: {rule_id} belongs to {rule.jurisdiction}, not {jmap.id}")
        if _admits(rule.logic.applies_when, {"kind": "claim", "category": category, "rule": rule_id}) is False:
            problems.append(f"{where}: {rule_id}'s applies_when excludes category {category!r}")
        cite = rule.citation
        expected = {k: str(cite.get(k)) for k in ("law", "article", "url")}
        if jmap.citations.get(rule_id) != expected:
            problems.append(f"{where}: citation of {rule_id} differs from the pack: {jmap.citations.get(rule_id)} != {expected}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", MAP_FILES, ids=[p.stem for p in MAP_FILES])
def test_claim_rule_map_has_no_unused_citations(path, lexicons):
    jmap = load_jurisdiction(path, CATEGORIES)
    used = {rule for _, rule, _ in _reported_rules(jmap, lexicons)}
    assert set(jmap.citations) == used, f"unused citations: {sorted(set(jmap.citations) - used)}"


def test_every_category_has_a_claim_rule_in_every_jurisdiction(claim_rules):
    for path in MAP_FILES:
        jmap = load_jurisdiction(path, CATEGORIES)
        assert set(jmap.categories) == set(CATEGORIES)
        for category, mapping in jmap.categories.items():
            assert mapping.rule in claim_rules, (jmap.id, category, mapping.rule)


# ------------------------------------------------------------------ claims command vs audit
# Texts written by us. Each case: jurisdiction, market, material language, product category, text.
# Product categories are chosen so the category rules that depend on the product are in scope
# (e.g. a cure claim on a cosmetic, a health claim on an ordinary food).
AGREEMENT_CASES = [
    ("CN", "CN", "zh", "cosmetics", "全网最低价，最好的面霜，治疗痘痘，明星同款，效果优于同类产品"),
    ("CN", "CN", "zh", "ordinary_food", "增强免疫力，三天见效，无效退款，数据显示98%的用户满意"),
    ("CN", "CN", "zh", "other", "年化收益15%，稳赚不赔；国家机关推荐，限时抢购；小朋友快让妈妈买"),
    ("UK", "UK", "en", "cosmetics", "The No.1 cream. It cures acne, clinically proven, better than Brand X. Only 2 left! Lowest price."),
    ("UK", "UK", "en", "ordinary_food", "Boosts your immune system. Made in Britain. Eco-friendly packaging. Customers say it's magic."),
    ("UK", "UK", "en", "other", "I've just won! Bet now. Ask your parents to buy it."),
    ("EU", "DE", "en", "cosmetics", "The No.1 serum in Europe. It cures eczema. Results guaranteed. Doctor recommended. Eco-friendly."),
    ("EU", "FR", "en", "ordinary_food", "Boosts your immune system, 95% of users saw results. Limited time offer, lowest price ever."),
    ("US", "US", "en", "cosmetics", "#1 dermatologist brand. Cures eczema. Clinically proven, 95% saw results. Made in USA. Lowest prices."),
    ("US", "US-CA", "en", "supplement", "We guarantee results or your money back. Only 3 left in stock. Eco-friendly. Customers say it works."),
]


def _audit_failing_claim_rules(jurisdiction, market, lang, product_category, text):
    from compliance.audit import AuditOptions, Context, audit_loaded
    from compliance.loading.launch import load_launch_data

    ctx = _audit_failing_claim_rules.ctx = getattr(_audit_failing_claim_rules, "ctx", None) or Context.load(with_claims=True)
    data = {
        "launch": {"name": "claims agreement", "markets": [market], "launch_date": "2027-01-15"},
        "products": [{"id": "p1", "name": "Product", "category": product_category, "made_in": "CN"}],
        "materials": [{"id": "m1", "type": "ad", "language": lang, "product": "p1", "text": text}],
    }
    loaded = load_launch_data(data, ctx.jurisdictions, "agreement")
    report = audit_loaded(loaded, ctx, AuditOptions())
    return {o.rule for o in report.outcomes if o.subject_kind == "claim" and o.outcome == "fail"}


@pytest.mark.parametrize("case", AGREEMENT_CASES, ids=[f"{c[0]}-{c[3]}" for c in AGREEMENT_CASES])
def test_claims_command_rules_are_failing_claim_rules_of_the_audit(case):
    from compliance.cli_claims import claims

    jurisdiction, market, lang, product_category, text = case
    code = market if market == "US-CA" else jurisdiction  # the command takes claim jurisdictions (US-CA is an alias)
    result = CliRunner().invoke(claims, ["-", "-j", code, "--format", "json", "--fail-on", "never"], input=text)
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["findings"]
    flagged = {f["rule"] for f in findings if f["severity"] in ("medium", "high", "critical")}
    assert flagged, findings
    failing = _audit_failing_claim_rules(jurisdiction, market, lang, product_category, text)
    assert flagged <= failing, (f"claims command reports {sorted(flagged - failing)} that the audit does not fail; "
                                f"audit fails {sorted(failing)}")


def test_claims_detector_and_map_agree_on_rule_for_us_ca():
    detector = ClaimDetector()
    hits = detector.detect("Cures eczema.", "US-CA", "en")
    assert hits and all(h.rule.startswith("US-AD-") for h in hits)


# Where the claims command names a rule that the audit does not fail, on purpose (checked over every lexicon
# phrase with a cosmetic product made in CN): the pack rule is the right one for the category but judges a
# narrower set of statements than the detector flags.
# - CN-AD-02 fails only for state-organ wording (国家, 政府, 国务院, 特供, 驰名商标 ...); 权威部门, 权威机构, 院士,
#   授予, 中国名牌, 上榜品牌 are reported under it by the command and pass in the audit.
# - US-AD-09a judges factual scarcity or deadline statements only; pure sales pressure ("hurry", "act now",
#   "don't miss", 抢购, 秒杀) makes no checkable statement and is not applicable.
# - US-AD-11 fails only when the material makes a reduced-risk (modified-risk) claim; a plain tobacco or vape
#   mention is reported under it by the command and passes in the audit.
KNOWN_NARROWER = [
    ("CN", "CN", "zh", "权威机构推荐", "CN-AD-02"),
    ("US", "US", "en", "Hurry, act now.", "US-AD-09a"),
    ("US", "US", "en", "New vape flavours.", "US-AD-11"),
]


@pytest.mark.parametrize("case", KNOWN_NARROWER, ids=[c[4] for c in KNOWN_NARROWER])
def test_known_narrower_audit_rules_are_documented(case):
    jurisdiction, market, lang, text, rule = case
    hits = ClaimDetector().detect(text, jurisdiction, lang)
    assert any(h.rule == rule and h.severity in ("medium", "high", "critical") for h in hits)
    assert rule not in _audit_failing_claim_rules(jurisdiction, market, lang, "cosmetics", text), \
        f"{rule} now fails on {text!r}: remove it from KNOWN_NARROWER"
