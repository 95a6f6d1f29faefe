"""Claim detector behaviour users rely on. Cases are written by us (see tests/claims_cases/README.md)."""
from __future__ import annotations

import pytest

from compliance.nlp.claims import CATEGORIES, ClaimDetector, ClaimHit, UnsupportedLanguage

FLAG = {"medium", "high", "critical"}


@pytest.fixture(scope="session")
def detector() -> ClaimDetector:
    return ClaimDetector()


def hits_for(detector, text, jurisdiction="UK", lang="auto", **kw) -> list[ClaimHit]:
    return detector.detect(text, jurisdiction, lang, **kw)


def find(hits, text):
    matches = [h for h in hits if h.text == text]
    assert matches, f"no hit {text!r} in {[(h.text, h.category) for h in hits]}"
    return matches[0]


def flagged(hits):
    return [h for h in hits if h.severity in FLAG]


# ---------------------------------------------------------------- API shape
def test_detector_hit_fields_offsets_and_citation(detector):
    text = "It cures acne. The No.1 brand."
    hit = find(hits_for(detector, text, "UK"), "No.1")
    assert text[hit.start:hit.end] == "No.1"
    assert hit.category in CATEGORIES and hit.lang == "en"
    assert hit.rule == "UK-AD-05"
    assert set(hit.citation) == {"law", "article", "url"}
    assert hit.explanation and hit.suggestion


def test_detector_rule_ids_per_jurisdiction(detector):
    assert find(hits_for(detector, "全网第一", "CN"), "全网第一").rule == "CN-AD-01"
    assert find(hits_for(detector, "It cures warts", "US-CA"), "cures").rule == "US-AD-02a"
    assert find(hits_for(detector, "100% eco-friendly", "EU"), "eco-friendly").rule == "EU-AD-04a"
    assert find(hits_for(detector, "Made in USA", "US"), "Made in USA").rule == "US-AD-05a"


def test_detector_unsupported_language_and_jurisdiction_raise(detector):
    with pytest.raises(UnsupportedLanguage):
        detector.detect("Klimaneutral", "EU", "de")
    with pytest.raises(UnsupportedLanguage):
        detector.detect("best", "JP", "en")
    assert detector.supports("US-CA", "en") and detector.supports("CN", "zh")
    assert not detector.supports("EU", "fr")


def test_detector_lemmas_match_inflections(detector):
    for text in ("It cured my cold", "curing everything", "It heals scars"):
        assert any(h.category == "medical" for h in hits_for(detector, text)), text


# ---------------------------------------------------------------- Chinese allow-list and segmentation
@pytest.mark.parametrize("text", ["最近上新", "最终解释权归本店所有", "最后一步", "最初的设计", "第一次购买", "第一章 产品介绍",
                                  "这是唯一的办法"])
def test_detector_zh_allowed_longer_span_suppresses_hit(detector, text):
    assert not [h for h in hits_for(detector, text, "CN") if h.category == "absolute"], text


def test_detector_zh_prefix_extended_to_word_and_flagged(detector):
    hit = find(hits_for(detector, "采用最先进的工艺", "CN"), "最先进")
    assert hit.severity == "high" and hit.rule == "CN-AD-01"


def test_detector_zh_hit_across_word_boundary_is_dropped(detector):
    # 首选 would be found as characters inside 榜首选手, but jieba splits 榜首/选手.
    assert not [h for h in hits_for(detector, "他是榜首选手", "CN") if h.category == "absolute"]


def test_detector_zh_ordinal_is_not_first(detector):
    assert not [h for h in hits_for(detector, "第一百二十名", "CN") if h.text.startswith("第一")]


# ---------------------------------------------------------------- context rules
def test_detector_negation_same_clause_clears(detector):
    hit = find(hits_for(detector, "We do not claim it is the best.", "US"), "best")
    assert hit.severity == "info" and "negated" in hit.context
    hit = find(hits_for(detector, "我们不是第一", "CN"), "第一")
    assert hit.severity == "info" and "negated" in hit.context


def test_detector_negation_does_not_cross_clauses(detector):
    hit = find(hits_for(detector, "我们不打折，全网第一", "CN"), "全网第一")
    assert hit.severity == "high"


def test_detector_prohibition_clears(detector):
    hits = hits_for(detector, "广告中禁止使用国家级、最高级、最佳等用语", "CN")
    assert hits and all(h.severity == "info" for h in hits)
    assert any("prohibited" in h.context for h in hits)


def test_detector_quoted_mention_clears_but_testimonial_counts(detector):
    hit = find(hits_for(detector, 'Never write "miracle" in a headline', "UK"), "miracle")
    assert hit.severity == "info"
    hit = find(hits_for(detector, '“This miracle cream changed everything for my skin overnight,” says Ann.', "UK"),
               "miracle")
    assert hit.severity == "medium"


def test_detector_genuine_question_clears_rhetorical_counts(detector):
    hit = find(hits_for(detector, "Is this the best serum for you?", "CN"), "best")
    assert hit.severity == "info" and "question" in hit.context
    hit = find(hits_for(detector, "难道这不是最好的吗？", "CN"), "最好")
    assert hit.severity == "high"


def test_detector_contrast_still_counts(detector):
    hit = find(hits_for(detector, "Not the cheapest, but the No.1 brand", "UK"), "No.1")
    assert hit.severity == "medium" and "contrast" in hit.context
    hit = find(hits_for(detector, "不是普通面膜，而是第一品牌", "CN"), "第一品牌")
    assert hit.severity == "high" and "contrast" in hit.context


def test_detector_double_negation_still_counts(detector):
    hit = find(hits_for(detector, "不极致不出品", "CN"), "极致")
    assert hit.severity == "high" and "double_negation" in hit.context
    hit = find(hits_for(detector, "It is not true that this is not the No.1 brand", "UK"), "No.1")
    assert hit.severity == "medium" and "double_negation" in hit.context


def test_detector_emphatic_assertion_counts(detector):
    hit = find(hits_for(detector, "它就是第一品牌", "CN"), "第一品牌")
    assert hit.severity == "high" and "emphatic" in hit.context


# ---------------------------------------------------------------- SAMR 2023 exceptions
@pytest.mark.parametrize("text,word,exception", [
    ("坚持顾客第一的理念", "第一", "business_philosophy"),
    ("最佳使用时间为睡前", "最佳", "usage_tip"),
    ("符合国家标准特级", "特级", None),  # not a lexicon term: nothing to lower
    ("节目《最强大脑》热播", "最强", "trademark"),
    ("荣获2022年度最佳设计奖", "最佳", "award"),
    ("本品牌史上最轻的一代产品", "最轻", "self_comparison"),
    ("据中国连锁协会统计，2023年华东地区销量第一", "第一", "qualified_fact"),
])
def test_detector_samr_exceptions_lower_or_clear(detector, text, word, exception):
    hits = [h for h in hits_for(detector, text, "CN") if h.text.startswith(word)]
    if exception is None:
        assert not hits
        return
    assert hits, text
    assert hits[0].exception == exception and hits[0].severity in {"info", "low"}


def test_detector_medical_and_financial_never_downgraded(detector):
    hits = hits_for(detector, "荣获金奖，治疗效果最好", "CN")
    assert find(hits, "最好").severity == "high"  # absolute term in a medical clause
    hit = find(hits_for(detector, "据协会统计，2023年保本收益第一", "CN"), "保本")
    assert hit.severity == "high" and hit.exception is None


def test_detector_english_qualified_fact_with_source_is_low(detector):
    assert find(hits_for(detector, "Ranked #1 by Kantar in 2024", "UK"), "#1").severity == "low"
    assert find(hits_for(detector, "Voted #1 serum", "UK"), "#1").severity == "medium"


# ---------------------------------------------------------------- normalisation, mixed text
def test_detector_fullwidth_and_case_map_to_original_offsets(detector):
    text = "品质ＮＯ．１，BEST choice"
    hits = hits_for(detector, text, "CN")
    no1 = [h for h in hits if h.text == "ＮＯ．１"]
    assert no1 and text[no1[0].start:no1[0].end] == "ＮＯ．１"
    best = find(hits, "BEST")
    assert best.lang == "en" and best.severity == "high"  # absolute terms are banned in CN in any language


def test_detector_mixed_text_checks_both_languages(detector):
    hits = hits_for(detector, "全网第一 clinically proven serum", "CN", "zh")
    assert {h.lang for h in flagged(hits)} == {"zh", "en"}


def test_detector_offsets_survive_expanding_characters(detector):
    text = "ﬁne ﬁbre, clinically proven"
    hit = find(hits_for(detector, text, "UK"), "clinically proven")
    assert text[hit.start:hit.end] == "clinically proven"


# ---------------------------------------------------------------- substantiation, disclosure
def test_detector_substantiated_claim_is_info_with_evidence(detector):
    text = "Clinically proven to reduce wrinkles."
    hits = hits_for(detector, text, "UK", substantiation=[("clinically proven", "Study RX-12, 2024, n=120")])
    hit = find(hits, "Clinically proven")
    assert hit.severity == "info" and hit.substantiated_by == "Study RX-12, 2024, n=120"
    assert find(hits_for(detector, text, "UK"), "Clinically proven").severity == "medium"


def test_detector_cn_absolute_not_cured_by_evidence(detector):
    hit = find(hits_for(detector, "全网第一", "CN", substantiation=[("全网第一", "report")]), "全网第一")
    assert hit.severity == "high" and hit.substantiated_by == "report"


def test_detector_disclosed_endorsement_is_low(detector):
    assert find(hits_for(detector, "I got sent this serum", "UK"), "I got sent").severity == "medium"
    assert find(hits_for(detector, "I got sent this serum #ad", "UK"), "I got sent").severity == "low"
