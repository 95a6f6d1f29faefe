"""spaCy blank pipelines and the jieba segmenter, built lazily and at most once per process (no model
downloads, no network). Nothing here is imported or loaded until a text of that language arrives."""
from __future__ import annotations

import logging
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from compliance.cache import cache_dir

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language


@lru_cache(maxsize=None)
def english() -> Language:
    """Blank English: tokenizer only.

    Matching runs on ``make_doc``. Lemma patterns are expanded once, at load time, into all the
    inflected forms the spacy-lookups-data lemma table knows (see ``inflections``), which gives the
    lookup lemmatizer's result without running (or even loading) a lemmatizer.
    """
    import spacy

    return spacy.blank("en")


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
    """Blank Chinese with the jieba segmenter, for callers that want a Doc. The detector does not
    build one: it needs word boundaries of a few short windows only, and takes them from
    ``jieba_tokenizer()``, the same segmenter with the same dictionary and settings
    (spaCy's zh tokenizer calls ``jieba.cut(text, cut_all=False)`` and drops empty words)."""
    import spacy

    jieba_tokenizer()
    return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})


class _DataOnly(pickle.Unpickler):
    """Unpickler that refuses every class or function: the cache holds only a dict, str and int, so a
    tampered file cannot run code."""

    def find_class(self, module, name):  # pragma: no cover - only reached by a tampered file
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the jieba dictionary cache")


def _dictionary_cache(tokenizer) -> Path | None:
    directory = cache_dir()
    if directory is None:
        return None
    import jieba

    source = Path(tokenizer.get_dict_file().name)
    try:
        stat = source.stat()
    except OSError:
        return None
    return directory / f"jieba-{jieba.__version__}-{stat.st_size}-{stat.st_mtime_ns}.pickle"


@lru_cache(maxsize=None)
def jieba_tokenizer():
    """jieba's default tokenizer (default dictionary, as spaCy's zh tokenizer uses it), with its prefix
    dictionary cached in the user cache directory.

    Building the prefix dictionary from dict.txt takes one to two seconds; jieba's own marshal cache
    (kept in the temp directory, which is often wiped) loads in about the same time here, while a
    pickle of the same dict and total loads in less than half of it. The cache is keyed by jieba's
    version and the dictionary file's size and mtime, and read with an unpickler that allows no
    classes."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.dt
    if tokenizer.initialized:
        return tokenizer
    cache = _dictionary_cache(tokenizer)
    if cache is not None and cache.is_file():
        try:
            with cache.open("rb") as handle:
                freq, total = _DataOnly(handle).load()
            if isinstance(freq, dict) and isinstance(total, int):
                tokenizer.FREQ, tokenizer.total, tokenizer.initialized = freq, total, True
                return tokenizer
        except Exception:  # a broken cache is rebuilt below
            pass
    tokenizer.initialize()
    if cache is not None:
        try:
            with tempfile.NamedTemporaryFile("wb", dir=cache.parent, delete=False) as handle:
                pickle.dump((tokenizer.FREQ, tokenizer.total), handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(handle.name, cache)
        except OSError:
            pass
    return tokenizer


def jieba_words(text: str) -> list[str]:
    """The words spaCy's zh tokenizer would produce for ``text``, without building a Doc."""
    return [word for word in jieba_tokenizer().cut(text, cut_all=False) if word]
