"""Visible text and line/column mapping for HTML and Markdown files (our own files in claims_cases/)."""
from __future__ import annotations

from pathlib import Path

import pytest

from compliance.nlp.materials import line_col, visible_text

CASES = Path(__file__).parent / "claims_cases"


def test_materials_html_skips_script_style_comments_and_decodes_entities():
    raw = (CASES / "product_page.html").read_text(encoding="utf-8")
    text, offsets = visible_text(raw, "html")
    assert "var headline" not in text and ".best" not in text and "world's first" not in text
    assert "Glow Serum & more" in text and "Clinically proven — the No.1 brand." in text
    assert len(offsets) == len(text)
    amp = text.index("&")
    assert raw[offsets[amp]:offsets[amp] + 5] == "&amp;"


def test_materials_html_offsets_map_to_line_and_column():
    raw = (CASES / "product_page.html").read_text(encoding="utf-8")
    text, offsets = visible_text(raw, "html")
    i = text.index("cures")
    assert raw[offsets[i]:offsets[i] + 5] == "cures"
    assert line_col(raw, offsets[i]) == (10, 19)


def test_materials_markdown_strips_markup_and_link_targets():
    raw = (CASES / "launch_copy.md").read_text(encoding="utf-8")
    text, offsets = visible_text(raw, "markdown")
    assert "**" not in text and "https://" not in text and "#" not in text and ">" not in text
    assert "Meet the eco-friendly bottle." in text
    for word, where in (("eco-friendly", (3, 12)), ("clinically proven", (6, 12)), ("Hurry", (8, 3))):
        i = text.index(word)
        assert raw[offsets[i]:offsets[i] + len(word)] == word
        assert line_col(raw, offsets[i]) == where


def test_materials_plain_text_is_identity_and_line_col_is_one_based():
    text, offsets = visible_text("ab\ncd", "text")
    assert text == "ab\ncd" and offsets == [0, 1, 2, 3, 4]
    assert line_col("ab\ncd", 0) == (1, 1) and line_col("ab\ncd", 4) == (2, 2)


def test_materials_unknown_format_is_an_error():
    with pytest.raises(ValueError):
        visible_text("x", "pdf")
