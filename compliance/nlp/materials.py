"""Ad materials as files: plain text, Markdown and HTML. Only the text a reader sees is scanned, and
every character of it keeps its offset in the raw file so findings map back to line and column."""
from __future__ import annotations

import re
from bisect import bisect_right
from html import unescape
from html.entities import name2codepoint
from html.parser import HTMLParser

FORMATS = ("text", "markdown", "html")
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "head"})
_KEPT_IN_HEAD = frozenset({"title"})
_BLOCK_TAGS = frozenset({"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
                         "table", "section", "article", "header", "footer", "nav", "aside", "main", "title", "blockquote",
                         "pre", "hr", "dd", "dt", "figcaption", "button", "label", "option"})
_VOID_TAGS = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"})


class _Builder:
    def __init__(self) -> None:
        self.chars: list[str] = []
        self.offsets: list[int] = []

    def add(self, text: str, offset: int) -> None:
        """Characters copied verbatim from raw[offset:]."""
        self.chars.append(text)
        self.offsets.extend(range(offset, offset + len(text)))

    def add_at(self, text: str, offset: int) -> None:
        """Characters that stand for one raw construct (an entity, a block break) at offset."""
        self.chars.append(text)
        self.offsets.extend([offset] * len(text))

    def result(self) -> tuple[str, list[int]]:
        return "".join(self.chars), self.offsets


class _LineIndex:
    def __init__(self, raw: str):
        self.starts = [0] + [m.end() for m in re.finditer("\n", raw)]

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col


class _VisibleHTML(HTMLParser):
    def __init__(self, raw: str):
        super().__init__(convert_charrefs=False)
        self.raw = raw
        self.lines = _LineIndex(raw)
        self.out = _Builder()
        self.skip_depth = 0
        self.in_head_title = False

    def _pos(self) -> int:
        line, col = self.getpos()
        return self.lines.offset(line, col)

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED_TAGS and tag not in _VOID_TAGS:
            self.skip_depth += 1
        if tag in _KEPT_IN_HEAD and self.skip_depth:
            self.in_head_title = True
        if tag in _BLOCK_TAGS:
            self.out.add_at("\n", self._pos())

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK_TAGS:
            self.out.add_at("\n", self._pos())

    def handle_endtag(self, tag):
        if tag in _KEPT_IN_HEAD:
            self.in_head_title = False
        if tag in _SKIPPED_TAGS and self.skip_depth:
            self.skip_depth -= 1
        if tag in _BLOCK_TAGS:
            self.out.add_at("\n", self._pos())

    def _visible(self) -> bool:
        return self.skip_depth == 0 or self.in_head_title

    def handle_data(self, data):
        if self._visible():
            start = self._pos()
            # With convert_charrefs=False the data is the raw text itself, so positions are exact.
            if self.raw.startswith(data, start):
                self.out.add(data, start)
            else:  # defensive: fall back to anchoring the chunk at its start
                self.out.add_at(data, start)

    def handle_entityref(self, name):
        if self._visible():
            text = chr(name2codepoint[name]) if name in name2codepoint else unescape(f"&{name};")
            self.out.add_at(text, self._pos())

    def handle_charref(self, name):
        if self._visible():
            self.out.add_at(unescape(f"&#{name};"), self._pos())


def _html(raw: str) -> tuple[str, list[int]]:
    parser = _VisibleHTML(raw)
    parser.feed(raw)
    parser.close()
    return parser.out.result()


# Markdown markup removed from the visible text; each pattern's named group "keep" is what a reader sees.
_MD_LINE_PREFIX = re.compile(r"^(?:[ \t]{0,3}(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d{1,9}[.)][ \t]+))+", re.M)
_MD_INLINE = re.compile(
    r"!?\[(?P<link>[^\]\n]*)\]\([^)\n]*\)"       # [text](url) and ![alt](url)
    r"|!?\[(?P<ref>[^\]\n]*)\]\[[^\]\n]*\]"      # [text][ref]
    r"|<(?:/?[a-zA-Z][^>\n]*|!--.*?--)>"         # inline HTML tags and comments
    r"|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);"  # entities
    r"|\*\*|__|~~|`+|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)"  # emphasis and code marks
)
_MD_FENCE = re.compile(r"^[ \t]{0,3}(?:```|~~~).*$", re.M)
_MD_REFDEF = re.compile(r"^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*\S.*$", re.M)
_MD_RULE = re.compile(r"^[ \t]{0,3}(?:[-*_][ \t]*){3,}$", re.M)


def _markdown(raw: str) -> tuple[str, list[int]]:
    dropped = [False] * len(raw)
    for pattern in (_MD_FENCE, _MD_REFDEF, _MD_RULE, _MD_LINE_PREFIX):
        for m in pattern.finditer(raw):
            for i in range(m.start(), m.end()):
                dropped[i] = True
    out = _Builder()
    pos = 0

    def copy(upto: int) -> None:
        start = None
        for i in range(pos, upto):
            if dropped[i]:
                if start is not None:
                    out.add(raw[start:i], start)
                    start = None
            elif start is None:
                start = i
        if start is not None:
            out.add(raw[start:upto], start)

    for m in _MD_INLINE.finditer(raw):
        if dropped[m.start()]:
            continue
        copy(m.start())
        keep = m.group("link") if m.group("link") is not None else m.group("ref")
        token = m.group()
        if keep is not None:
            inner = m.start() + token.index("[") + 1
            out.add(keep, inner)
        elif token.startswith("&"):
            out.add_at(unescape(token), m.start())
        pos = m.end()
    copy(len(raw))
    return out.result()


def visible_text(raw: str, fmt: str) -> tuple[str, list[int]]:
    """The text a reader sees and, for each of its characters, the offset of the raw character."""
    if fmt == "text":
        return raw, list(range(len(raw)))
    if fmt == "markdown":
        return _markdown(raw)
    if fmt == "html":
        return _html(raw)
    raise ValueError(f"unknown material format {fmt!r}; expected one of {', '.join(FORMATS)}")


def format_for_path(path: str) -> str:
    lower = path.lower()
    if lower.endswith((".html", ".htm", ".xhtml")):
        return "html"
    if lower.endswith((".md", ".markdown", ".mdown")):
        return "markdown"
    return "text"


def line_col(raw: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a raw offset."""
    offset = max(0, min(offset, len(raw)))
    line = raw.count("\n", 0, offset) + 1
    column = offset - (raw.rfind("\n", 0, offset) + 1) + 1
    return line, column


def to_raw_span(offsets: list[int], start: int, end: int, raw_length: int) -> tuple[int, int]:
    """Map a [start, end) span of visible text back to raw offsets."""
    if not offsets:
        return 0, 0
    if start >= len(offsets):
        return raw_length, raw_length
    raw_start = offsets[start]
    raw_end = offsets[end - 1] + 1 if end > start else raw_start
    return raw_start, raw_end


class LineIndex:
    """Fast line/column lookups for many offsets in one raw text."""

    def __init__(self, raw: str):
        self.starts = [0] + [m.end() for m in re.finditer("\n", raw)]

    def line_col(self, offset: int) -> tuple[int, int]:
        index = bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1
