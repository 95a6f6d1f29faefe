"""The claim-detection result cache: a hit gives exactly what a fresh detection gives, without loading
spaCy or jieba; the key covers everything a result depends on; a broken entry is a miss; a catalogue of
many texts makes a bounded number of files. Texts are ours or the shared dev set's (read, never edited)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.nlp import result_cache
from compliance.nlp.claims import ClaimDetector, default_lexicon_dir

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "data" / "claims-dev.jsonl"

OWN = [
    ("The No.1 cream, clinically proven to cure acne. Guaranteed results!", "UK", "en"),
    ("It's not the best cream, but the No.1 brand. Why pay more? \"Best\" is a banned word.", "US", "en"),
    ("Ranked #1 by RootMetrics, according to a 2024 survey (source: Ookla). Hurry - only 3 left!", "EU", "auto"),
    ("全网最低价，最好的面霜，治疗痘痘", "CN", "zh"),
    ("不是最好的，而是第一品牌。难道不是最好的吗？限时抢购，仅剩3件！明星同款", "CN", "zh"),
    ("品质NO.1，best seller，国家级产品，100%有效", "CN", "auto"),
]


def _requests() -> list[tuple[str, str, str]]:
    requests = list(OWN)
    if DEV.is_file():
        probe = ClaimDetector(cache_results=False)
        for line in DEV.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if probe.supports(row["jurisdiction"], row["lang"]):
                requests.append((row["text"], row["jurisdiction"], row["lang"]))
    return requests


@pytest.fixture()
def cache_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("COMPLIANCE_NO_CACHE", raising=False)
    return tmp_path


def _warm(requests, substantiation=(), **kwargs) -> None:
    detector = ClaimDetector(**kwargs)
    for text, jur, lang in requests:
        detector.detect(text, jur, lang, substantiation)
    detector.flush_cache()


def test_cached_findings_equal_fresh_detection(cache_dir):
    requests = _requests()
    fresh = ClaimDetector(cache_results=False)
    expected = [fresh.detect(*request) for request in requests]
    assert sum(map(len, expected)) > 10
    _warm(requests)
    cached = ClaimDetector()
    got = [cached.detect(*request) for request in requests]
    assert not cached._matchers  # every result came from the cache, nothing was detected
    assert got == expected       # full ClaimHit objects, field by field
    assert [[h.as_dict() for h in hits] for hits in got] == [[h.as_dict() for h in hits] for hits in expected]


def test_a_fully_cached_audit_of_texts_imports_neither_spacy_nor_jieba(cache_dir):
    _warm(OWN)
    code = ("import json, sys; from compliance.nlp.claims import ClaimDetector; d = ClaimDetector(); "
            f"hits = [[h.as_dict() for h in d.detect(*r)] for r in {OWN!r}]; "
            "print(json.dumps([hits, 'spacy' in sys.modules, 'jieba' in sys.modules]))")
    env = dict(os.environ, COMPLIANCE_CACHE_DIR=str(cache_dir))
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    hits, spacy_loaded, jieba_loaded = json.loads(done.stdout)
    assert (spacy_loaded, jieba_loaded) == (False, False)
    fresh = ClaimDetector(cache_results=False)
    assert hits == [[h.as_dict() for h in fresh.detect(*r)] for r in OWN]


def test_findings_reach_the_next_process_through_the_exit_flush(cache_dir):
    code = ("from compliance.nlp.claims import ClaimDetector; d = ClaimDetector(); "
            f"d.detect({OWN[0][0]!r}, 'UK', 'en')")
    env = dict(os.environ, COMPLIANCE_CACHE_DIR=str(cache_dir))
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True, timeout=120)
    detector = ClaimDetector()
    assert detector.detect(OWN[0][0], "UK", "en")
    assert not detector._matchers


@pytest.mark.parametrize("change", ["substantiation", "jurisdiction", "language", "text"])
def test_every_input_of_a_result_is_part_of_its_key(cache_dir, change):
    text = "The No.1 cream, clinically proven to cure acne."
    proof = [("clinically proven", "Study 2024-17")]
    _warm([(text, "UK", "en")], substantiation=proof)
    request = {"substantiation": (text, "UK", "en", ()), "jurisdiction": (text, "US", "en", proof),
               "language": (text, "UK", "auto", proof), "text": (text + " ", "UK", "en", proof)}[change]
    detector = ClaimDetector()
    got = detector.detect(*request)
    assert detector._matchers, "a request that differs from the cached one must be detected afresh"
    assert got == ClaimDetector(cache_results=False).detect(*request)


def test_jurisdiction_aliases_share_entries_and_the_same_request_hits(cache_dir):
    text = "The No.1 cream, clinically proven to cure acne."
    _warm([(text, "UK", "en")])
    detector = ClaimDetector()
    detector.detect(text, "uk", "en")
    assert not detector._matchers


def test_a_change_in_the_claims_data_invalidates_the_cache(cache_dir, tmp_path):
    lexicons = tmp_path / "claims"
    shutil.copytree(default_lexicon_dir(), lexicons)
    text = "The No.1 cream, clinically proven to cure acne."
    _warm([(text, "UK", "en")], lexicon_dir=lexicons)
    unchanged = ClaimDetector(lexicons)
    unchanged.detect(text, "UK", "en")
    assert not unchanged._matchers
    context = lexicons / "en" / "context.yaml"
    context.write_text(context.read_text(encoding="utf-8") + "\n# reviewed\n", encoding="utf-8")
    detector = ClaimDetector(lexicons)
    detector.detect(text, "UK", "en")
    assert detector._matchers


@pytest.mark.parametrize("damage", ["truncated", "not json", "wrong shape", "wrong field type", "wrong row length"])
def test_a_corrupted_entry_is_a_miss(cache_dir, damage):
    request = OWN[0]
    _warm([request])
    shards = list((cache_dir / result_cache.NAMESPACE).glob("*.json"))
    assert len(shards) == 1
    entries = json.loads(shards[0].read_text(encoding="utf-8"))
    (key, rows), = entries.items()
    if damage == "truncated":
        shards[0].write_text(shards[0].read_text(encoding="utf-8")[:-20], encoding="utf-8")
    elif damage == "not json":
        shards[0].write_bytes(b"\x00\xffgarbage")
    else:
        if damage == "wrong shape":
            rows = {"hits": rows}
        elif damage == "wrong field type":
            rows[0][0] = str(rows[0][0])
        else:
            rows[0] = rows[0][:-1]
        shards[0].write_text(json.dumps({key: rows}), encoding="utf-8")
    detector = ClaimDetector()
    got = detector.detect(*request)
    assert detector._matchers
    assert got == ClaimDetector(cache_results=False).detect(*request)
    detector.flush_cache()  # the miss rewrites the entry
    repaired = ClaimDetector()
    assert repaired.detect(*request) == got and not repaired._matchers


def test_no_cache_switch_writes_nothing(cache_dir, monkeypatch):
    monkeypatch.setenv("COMPLIANCE_NO_CACHE", "1")
    _warm(OWN)
    assert not (cache_dir / result_cache.NAMESPACE).exists()


def test_a_large_catalogue_makes_a_bounded_number_of_files(cache_dir):
    requests = [(f"Material {n}: the best cream, clinically proven.", "UK", "en") for n in range(600)]
    _warm(requests)
    files = list((cache_dir / result_cache.NAMESPACE).glob("*.json"))
    assert len(files) <= result_cache.SHARDS
    detector = ClaimDetector()
    assert all(detector.detect(*r) for r in requests[::50]) and not detector._matchers


def test_a_shard_keeps_only_its_newest_entries(cache_dir, monkeypatch):
    monkeypatch.setattr(result_cache, "SHARDS", 1)
    monkeypatch.setattr(result_cache, "MAX_PER_SHARD", 5)
    requests = [(f"Offer {n}: the best price.", "UK", "en") for n in range(8)]
    _warm(requests)
    (shard,) = (cache_dir / result_cache.NAMESPACE).glob("*.json")
    assert len(json.loads(shard.read_text(encoding="utf-8"))) == 5
    detector = ClaimDetector()
    detector.detect(*requests[-1])
    assert not detector._matchers
    detector.detect(*requests[0])
    assert detector._matchers


def test_lazy_jieba_dictionary_equals_jiebas_own_and_segments_the_same(cache_dir):
    import jieba

    from compliance.nlp import jieba_dict

    reference = jieba.Tokenizer()
    full, total = reference.gen_pfdict(reference.get_dict_file())
    path = cache_dir / "prefix-test"
    groups, built_total = jieba_dict.build_groups(jieba_dict.read_lines(reference.get_dict_file()))
    jieba_dict.write_file(path, groups, built_total)
    lazy, lazy_total = jieba_dict.open_file(path, lambda: pytest.fail("the file should not need a rebuild"))
    assert lazy_total == total == built_total
    assert all(key in lazy and lazy[key] == freq and lazy.get(key) == freq for key, freq in full.items())
    assert sum(len(g) for g in groups.values()) == len(full)
    for absent in ("", "x不存在词", "😀", "面霜面霜面霜"):
        assert (absent in lazy) == (absent in full) and lazy.get(absent) == full.get(absent)
    lazy_tokenizer = jieba.Tokenizer()
    lazy_tokenizer.FREQ, lazy_tokenizer.total, lazy_tokenizer.initialized = lazy, lazy_total, True
    reference.FREQ, reference.total, reference.initialized = full, total, True
    texts = [t for t, _, _ in OWN] + ["路口交通拥堵，榜首选手夺冠，最先进的第一品牌，国家级产品"]
    for text in texts:
        assert list(lazy_tokenizer.cut(text)) == list(reference.cut(text)), text


@pytest.mark.parametrize("damage", ["header", "block"])
def test_a_damaged_jieba_dictionary_file_is_rebuilt_or_ignored(cache_dir, damage):
    import jieba

    from compliance.nlp import jieba_dict

    reference = jieba.Tokenizer()
    path = cache_dir / "prefix-test"
    groups, total = jieba_dict.build_groups(jieba_dict.read_lines(reference.get_dict_file()))
    jieba_dict.write_file(path, groups, total)
    raw = path.read_bytes()
    if damage == "header":
        path.write_bytes(b"{not json\n" + raw.split(b"\n", 1)[1])
        assert jieba_dict.open_file(path, dict) is None
        return
    header, body = raw.split(b"\n", 1)
    needle = "\n面霜\t".encode()   # inside the block the lookup below reads
    assert needle in body
    path.write_bytes(header + b"\n" + body.replace(needle, b"\n" + b"\xff" * (len(needle) - 2) + b"\t", 1))
    full = {"面霜": 7}
    lazy, _ = jieba_dict.open_file(path, lambda: full)
    assert lazy.get("面霜") == 7 and lazy.get("最好") is None  # the rebuilt dict answers every lookup


def _english_texts() -> list[str]:
    return [text for text, _, lang in _requests() if lang != "zh"] + [
        "Don't miss out: the U.S.'s No.1 best-selling, clinically-proven serum (99.9% pure) at https://x.example/a?b=1!",
        "It's 5x faster, e.g. 3 p.m. — can't stop, won't stop; #1 brand… “Best” ever?"]


def test_the_detectors_english_tokenizer_tokenizes_like_spacy_blank_english():
    from compliance.nlp import pipelines

    blank, tokenizer = pipelines.english(), pipelines.english_tokenizer()
    for text in _english_texts():
        expected = [(t.idx, t.text, t.lower_, t.whitespace_) for t in blank.make_doc(text.lower())]
        assert [(t.idx, t.text, t.lower_, t.whitespace_) for t in tokenizer(text.lower())] == expected, text


def test_english_matcher_from_cached_phrases_and_inflections_equals_one_built_from_scratch(cache_dir, monkeypatch):
    from compliance.nlp import pipelines
    from compliance.nlp.matching import EnglishMatcher

    pack = ClaimDetector(cache_results=False)._packs["en"]
    monkeypatch.setenv("COMPLIANCE_NO_CACHE", "1")
    scratch = EnglishMatcher(pack, pipelines.english())
    monkeypatch.delenv("COMPLIANCE_NO_CACHE")
    EnglishMatcher(pack, pipelines.english_tokenizer())  # writes the phrase-token and inflection entries
    assert {p.name for p in cache_dir.iterdir()} >= {"phrase-tokens", "inflections"}
    cached = EnglishMatcher(pack, pipelines.english_tokenizer())
    assert cached.first_token.pattern == scratch.first_token.pattern
    for text in _english_texts():
        folded = text.lower()
        assert [(h.start, h.end, h.entry.id) for h in cached.find(folded)] == \
               [(h.start, h.end, h.entry.id) for h in scratch.find(folded)], text


def test_cached_phrase_tokens_that_do_not_spell_their_text_are_a_miss(cache_dir):
    from compliance.nlp import pipelines

    tokenizer = pipelines.english_tokenizer()
    texts = ["clinically proven", "don't", "no.1"]
    fresh = [[t.text for t in doc] for doc in pipelines.phrase_docs(tokenizer, tokenizer.vocab, texts)]
    (entry,) = (cache_dir / "phrase-tokens").glob("*.json")
    good = json.loads(entry.read_text(encoding="utf-8"))
    damaged = [
        [[["clinically", "proven"], [True, False]], [["do", "n't"], [False, False]], [["no.2"], [False]]],
        [[["clinically", "proven"], [False, False]], [["do", "n't"], [False, False]], [["no.1"], [False]]],
        good[:2], {"0": good}, [[["clinically", "proven"], [True]], *good[1:]],
    ]
    for value in damaged:
        entry.write_text(json.dumps(value), encoding="utf-8")
        docs = pipelines.phrase_docs(tokenizer, tokenizer.vocab, texts)
        assert [[t.text for t in doc] for doc in docs] == fresh == [["clinically", "proven"], ["do", "n't"], ["no.1"]]


def test_cached_inflections_equal_the_lookup_table(cache_dir):
    from compliance.nlp import pipelines

    words = ["cure", "guarantee", "say", "goodbye"]
    first = pipelines.inflection_table(words)
    again = pipelines.inflection_table(reversed(words))
    assert first == again == {w: sorted(pipelines.inflections(w)) for w in words}
    assert "cured" in first["cure"] and "said" in first["say"]
