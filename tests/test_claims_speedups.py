"""The detector's shortcuts must not change results: loosened cue patterns and necessary-character
prefilters are sound, the per-sentence context fast path gives what the full analysis gives, and a
Chinese-only process neither imports spaCy nor rebuilds jieba's dictionary. Texts are written by us."""
from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.nlp.claims import CATEGORIES, ClaimDetector, default_lexicon_dir
from compliance.nlp.context import ContextJudge, TextGeometry, analyse, quoted_spans
from compliance.nlp.lexicon import _loosen, load_language, necessary_chars
from compliance.nlp.normalize import normalize

REPO = Path(__file__).resolve().parents[1]

TEXTS = {
    "en": [
        "It's not the best cream, but the No.1 brand. Why pay more? \"Best\" is a banned word.",
        "We never claim it cures acne; the words \"miracle cure\" are prohibited. Absolutely the finest!",
        "Ranked #1 by RootMetrics, according to a 2024 survey (source: Ookla). Our lightest yet.",
        "Hurry - only 3 left! Don't miss out. Isn't it the greatest? Customers say it works.",
        "A minor issue and the best results; cannot stop, knot tied, the best-selling serum.",
    ],
    "zh": [
        "不是最好的，而是第一品牌。难道不是最好的吗？所谓\"最佳\"是违禁词。",
        "本品不得宣传治疗功效，严禁使用\"最\"字样。绝对是全网第一！",
        "据2023年某省统计数据显示，销量第一；荣获年度大奖称号。顾客第一，最佳使用时间为早晨。",
        "不极致不出品，没有最好只有更好。《最强大脑》同款。本品牌史上最轻的一代产品。",
        "限时抢购，仅剩3件！明星同款，亲测有效，专家推荐。",
    ],
}


@pytest.fixture(scope="module")
def packs():
    return {lang: load_language(default_lexicon_dir(), lang, CATEGORIES) for lang in ("en", "zh")}


def _cue_items(lang):
    import yaml

    data = yaml.safe_load((default_lexicon_dir() / lang / "context.yaml").read_text(encoding="utf-8"))
    items = [i for name in ("negation", "prohibition", "contrast", "rhetorical", "emphatic", "mention") for i in data[name]]
    for exc in data["exceptions"]:
        items.extend(exc["regex"])
    return items


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_loosened_patterns_and_prefilters_match_wherever_the_original_matches_in_a_window(lang):
    rng = random.Random(7)
    texts = [normalize(t).text for t in TEXTS[lang]]
    for item in _cue_items(lang):
        original = re.compile(item)
        loose = re.compile(_loosen(item))
        needed = necessary_chars(loose)
        for text in texts:
            windows = [(0, len(text))] + [tuple(sorted(rng.sample(range(len(text) + 1), 2))) for _ in range(40)]
            for lo, hi in windows:
                if original.search(text[lo:hi]):
                    assert loose.search(text), (item, text[lo:hi])
                    assert needed is None or needed.search(text), (item, needed.pattern)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_context_fast_path_equals_full_analysis_for_every_candidate(lang, packs):
    pack = packs[lang]
    detector = ClaimDetector()
    matcher = detector._matcher(lang)
    for raw_text in TEXTS[lang]:
        text = normalize(raw_text).text
        geometry = TextGeometry(text)
        quotes = quoted_spans(text, pack.cues.quotes)
        judge = ContextJudge(text, geometry, pack.cues, quotes)
        hits = matcher.find(text)
        assert hits, raw_text
        for hit in hits:
            assert judge.analyse(hit.start, hit.end) == analyse(text, geometry, hit.start, hit.end, pack.cues, quotes), \
                (raw_text, text[hit.start:hit.end])


def _child(code: str, cache_dir: Path) -> str:
    env = dict(os.environ, COMPLIANCE_CACHE_DIR=str(cache_dir))
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_chinese_only_process_loads_no_spacy_and_caches_the_jieba_dictionary(tmp_path):
    # Two different texts: the second process must segment afresh (a repeated text would be a result-cache hit).
    code = ("import sys; from compliance.nlp.claims import ClaimDetector; d = ClaimDetector(); "
            "hits = d.detect({text!r}, 'CN', 'zh'); "
            "print(len(hits), 'spacy' in sys.modules, 'jieba' in sys.modules)")
    first = code.format(text="全网最低价，最好的面霜，治疗痘痘")
    second = code.format(text="全网最低价，最好的精华，治疗痘痘")
    assert _child(first, tmp_path).split() == ["3", "False", "True"]
    caches = list(tmp_path.glob("jieba-*.prefix"))  # the prefix dictionary, see compliance/nlp/jieba_dict.py
    assert len(caches) == 1
    stamp = caches[0].stat().st_mtime_ns
    assert _child(second, tmp_path).split() == ["3", "False", "True"]
    assert caches[0].stat().st_mtime_ns == stamp  # second process read the cache, did not rebuild it


def test_english_text_builds_the_english_pipeline_once():
    from compliance.nlp import pipelines

    detector = ClaimDetector(cache_results=False)  # cached results would skip the pipeline altogether
    detector.detect("The No.1 cream.", "UK", "en")
    detector.detect("Clinically proven.", "US", "en")
    # The detector needs only the tokenizer, built without spacy.blank's config machinery.
    assert pipelines.english_tokenizer.cache_info().currsize == 1


def test_chinese_fast_phrase_regex_finds_what_the_combined_regex_finds():
    matcher = ClaimDetector()._matcher("zh")
    texts = [normalize(t).text for t in TEXTS["zh"]] + [normalize(t).text for t in (
        "100%安全，cctv上榜品牌，全网第一", "效果100%，最好的选择", "最先进的第一品牌，唯一")]
    for text in texts:
        fast = [(m.span(), m.group()) for m in (matcher.plain_regex.finditer(text)
                                                 if not matcher.guarded_regex.search(text) else [])]
        combined = [(m.span(), m.group()) for m in matcher.phrase_regex.finditer(text)]
        if not matcher.guarded_regex.search(text):
            assert fast == combined, text
        found = sorted((h.start, h.end) for h in matcher.find(text) if h.entry.phrases)
        assert set(found) >= {span for span, _ in combined}, text
