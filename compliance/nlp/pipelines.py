"""spaCy blank pipelines, built lazily and at most once per process (no model downloads, no network)."""
from __future__ import annotations

import logging
from functools import lru_cache

import spacy
from spacy.language import Language


@lru_cache(maxsize=None)
def english() -> Language:
    """Tokenizer plus lookup lemmas from spacy-lookups-data ("cures" -> "cure")."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


@lru_cache(maxsize=None)
def chinese() -> Language:
    """jieba word segmentation; used around candidate hits only, because segmenting whole texts is slow."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.make_doc("预热")  # loads jieba's dictionary now rather than inside the first detection
    return nlp
