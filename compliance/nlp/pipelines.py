"""spaCy blank pipelines and the jieba segmenter, built lazily and at most once per process (no model
downloads, no network). Nothing here is imported or loaded until a text of that language arrives."""
from __future__ import annotations

import json
import logging
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from compliance.cache import cache_dir, entry_path, read_json, write_json
from compliance.nlp import jieba_dict

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokenizer import Tokenizer
    from spacy.tokens import Doc
    from spacy.vocab import Vocab


@lru_cache(maxsize=None)
def english() -> Language:
    """Blank English: tokenizer only (the detector uses the same tokenizer from ``english_tokenizer()``).

    Matching runs on ``make_doc``. Lemma patterns are expanded once, at load time, into all the
    inflected forms the spacy-lookups-data lemma table knows (see ``inflections``), which gives the
    lookup lemmatizer's result without running (or even loading) a lemmatizer.
    """
    import spacy

    return spacy.blank("en")


@lru_cache(maxsize=None)
def english_tokenizer() -> Tokenizer:
    """The tokenizer of ``english()``, built with the same vocabulary and arguments as spaCy's tokenizer
    factory ("spacy.Tokenizer.v1") builds it for a blank English pipeline, without the config
    resolution of ``spacy.blank`` (~0.1 s of a cold start). Matching needs nothing else."""
    from spacy import util
    from spacy.lang.en import English
    from spacy.tokenizer import Tokenizer
    from spacy.vocab import create_vocab

    defaults = English.Defaults
    return Tokenizer(
        create_vocab(English.lang, defaults),
        rules=defaults.tokenizer_exceptions,
        prefix_search=util.compile_prefix_regex(defaults.prefixes).search if defaults.prefixes else None,
        suffix_search=util.compile_suffix_regex(defaults.suffixes).search if defaults.suffixes else None,
        infix_finditer=util.compile_infix_regex(defaults.infixes).finditer if defaults.infixes else None,
        token_match=defaults.token_match,
        url_match=defaults.url_match,
    )


def phrase_docs(make_doc: Callable[[str], Doc], vocab: Vocab, texts: list[str]) -> list[Doc]:
    """``make_doc(text)`` for each text, as Docs rebuilt from cached words and spaces when possible:
    tokenizing ~1,000 new phrases costs ~0.08 s of a cold start, rebuilding them ~0.02 s. A Doc made
    from the same words has the same tokens (text, LOWER) for the PhraseMatcher."""
    from spacy.tokens import Doc

    from compliance.nlp.result_cache import dependency_versions

    path = entry_path("phrase-tokens", dependency_versions(), json.dumps(texts, ensure_ascii=False))
    cached = read_json(path)
    if _valid_tokens(cached, texts):
        return [Doc(vocab, words=words, spaces=spaces) for words, spaces in cached]
    docs = [make_doc(text) for text in texts]
    write_json(path, [[[t.text for t in doc], [bool(t.whitespace_) for t in doc]] for doc in docs])
    return docs


def _valid_tokens(value: Any, texts: list[str]) -> bool:
    """Exactly one [words, spaces] per text, and the words and spaces spell that text back."""
    if not isinstance(value, list) or len(value) != len(texts):
        return False
    for item, text in zip(value, texts):
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], list) and isinstance(item[1], list)
                and len(item[0]) == len(item[1]) and all(isinstance(w, str) and w for w in item[0])
                and all(isinstance(b, bool) for b in item[1])):
            return False
        if "".join(w + (" " if b else "") for w, b in zip(*item)) != text:
            return False
    return True


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


def inflection_table(lemmas: Iterable[str]) -> dict[str, list[str]]:
    """``inflections`` of each lemma (sorted lists), cached as JSON: loading and inverting the whole
    lookup table costs ~0.1 s of a cold start, the forms of the lexicon's few hundred lemmas ~1 ms."""
    from compliance.nlp.result_cache import dependency_versions

    words = sorted({lemma.lower() for lemma in lemmas})
    path = entry_path("inflections", dependency_versions(), "\n".join(words))
    cached = read_json(path)
    if (isinstance(cached, dict) and sorted(cached) == words
            and all(isinstance(v, list) and all(isinstance(f, str) for f in v) for v in cached.values())):
        return cached
    table = {word: sorted(inflections(word)) for word in words}
    write_json(path, table)
    return table


@lru_cache(maxsize=None)
def chinese() -> Language:
    """Blank Chinese with the jieba segmenter, for callers that want a Doc. The detector does not
    build one: it needs word boundaries of a few short windows only, and takes them from
    ``jieba_tokenizer()``, the same segmenter with the same dictionary and settings
    (spaCy's zh tokenizer calls ``jieba.cut(text, cut_all=False)`` and drops empty words)."""
    import spacy

    jieba_tokenizer()
    return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})


def _import_jieba():
    """``import jieba``, ~0.1 s faster: jieba's _compat imports pkg_resources only to open its own data
    files and, when that import fails, opens the same files directly. pkg_resources is hidden only if
    nothing has imported it yet, and only for this import."""
    import sys

    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        import jieba
        return jieba
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # makes `import pkg_resources` fail
    try:
        import jieba
    finally:
        if sys.modules.get("pkg_resources", 0) is None:
            del sys.modules["pkg_resources"]
    return jieba


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
    return directory / f"jieba-{jieba.__version__}-{stat.st_size}-{stat.st_mtime_ns}.prefix"


def _full_dictionary(tokenizer) -> dict[str, int]:
    return tokenizer.gen_pfdict(tokenizer.get_dict_file())[0]


@lru_cache(maxsize=None)
def jieba_tokenizer():
    """jieba's default tokenizer (default dictionary, as spaCy's zh tokenizer uses it), with its prefix
    dictionary read lazily from the user cache directory (``jieba_dict``): a process reads only the
    parts its windows look at. The cache is keyed by jieba's version and the dictionary file's size and
    mtime; it is built from dict.txt on first use, by jieba's own rules."""
    jieba = _import_jieba()
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.dt
    if tokenizer.initialized:
        return tokenizer
    path = _dictionary_cache(tokenizer)
    rebuild = partial(_full_dictionary, tokenizer)
    opened = jieba_dict.open_file(path, rebuild) if path is not None else None
    if opened is None:
        try:
            groups, total = jieba_dict.build_groups(jieba_dict.read_lines(tokenizer.get_dict_file()))
        except ValueError:  # a malformed dictionary: jieba's own loader reports it
            tokenizer.initialize()
            return tokenizer
        if path is not None:
            jieba_dict.write_file(path, groups, total)
            opened = jieba_dict.open_file(path, rebuild)
        if opened is None:  # no usable cache: the whole dict, as jieba would hold it
            opened = ({key: freq for group in groups.values() for key, freq in group.items()}, total)
    tokenizer.FREQ, tokenizer.total = opened
    tokenizer.initialized = True
    return tokenizer


def jieba_words(text: str) -> list[str]:
    """The words spaCy's zh tokenizer would produce for ``text``, without building a Doc."""
    return [word for word in jieba_tokenizer().cut(text, cut_all=False) if word]
