"""spaCy blank pipelines, built lazily and at most once per process (no model downloads, no network)."""
from __future__ import annotations

import logging
from functools import lru_cache

import spacy
from spacy.language import Language


@lru_cache(maxsize=None)
def english() -> Language:
    """Blank English with the lookup lemmatizer (spacy-lookups-data).

    Matching runs on ``make_doc`` (tokenizer only): running the lemmatizer on every token costs more
    than everything else together, so lemma patterns are expanded once, at load time, into all the
    inflected forms the same lookup table knows (see ``inflections``).
    """
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


@lru_cache(maxsize=None)
def _forms_by_lemma() -> dict[str, frozenset[str]]:
    import spacy_lookups_data
    from spacy.util import load_language_data

    table = load_language_data(spacy_lookups_data.en["lemma_lookup"])
    forms: dict[str, set[str]] = {}
    for form, lemma in table.items():
        forms.setdefault(lemma.lower(), set()).add(form.lower())
    return {lemma: frozenset(values) for lemma, values in forms.items()}


def inflections(lemma: str) -> frozenset[str]:
    """Every form whose lookup lemma is ``lemma`` ("cure" -> cures, cured, curing), plus the lemma."""
    return _forms_by_lemma().get(lemma.lower(), frozenset()) | {lemma.lower()}


@lru_cache(maxsize=None)
def chinese() -> Language:
    """Blank Chinese with the jieba segmenter. Segmenting whole texts is slow (about 1 MB/s), so the
    detector segments only small windows around candidate hits with the pipeline's own segmenter."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.make_doc("预热")  # loads jieba's dictionary now rather than inside the first detection
    return nlp


def jieba_words(nlp: Language, text: str) -> list[str]:
    """The words spaCy's zh tokenizer would produce for ``text``, without building a Doc."""
    return [word for word in nlp.tokenizer.jieba_seg.cut(text, cut_all=False) if word]
