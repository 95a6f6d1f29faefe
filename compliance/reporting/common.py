"""Text helpers shared by every output: how a citation, a location, a penalty or a waiver reads.

Pure functions of plain data; no output library is imported here.
"""
from __future__ import annotations

import re
from dataclasses import asdict, is_dataclass
from typing import Any, Iterable

from ..report import SEVERITY_ORDER, Outcome, Report

# Characters no XML 1.0 document may hold (openpyxl's ILLEGAL_CHARACTERS_RE plus lone surrogates and the
# two non-characters lxml refuses). They are replaced one for one, so text offsets stay valid.
XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"


def xml_safe(text: str) -> str:
    """Replace characters XML cannot carry with U+FFFD, one for one (visible, offsets kept)."""
    return XML_ILLEGAL_RE.sub(REPLACEMENT, text)


def severity_key(o: Outcome) -> tuple:
    return (-SEVERITY_ORDER.get(o.severity, -1), o.jurisdiction, o.rule, o.subject)


def sorted_findings(outcomes: Iterable[Outcome]) -> list[Outcome]:
    return sorted((o for o in outcomes if o.is_finding), key=severity_key)


def _num(value: float | int | None) -> str:
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def citation_text(citation: dict[str, Any] | None) -> str:
    if not citation:
        return ""
    parts = [str(citation.get("law") or "")]
    if citation.get("law_zh"):
        parts.append(f"({citation['law_zh']})")
    if citation.get("article"):
        parts.append(str(citation["article"]))
    text = " ".join(p for p in parts if p)
    if citation.get("url"):
        text += f" <{citation['url']}>"
    return text


def penalty_text(penalty: dict[str, Any] | None) -> str:
    """'10,000–200,000 CNY or up to 4% of turnover, per violation; basis: Art. 58' ."""
    if not penalty:
        return ""
    lo, hi, cur = penalty.get("min"), penalty.get("max"), penalty.get("currency") or ""
    parts: list[str] = []
    if lo is not None and hi is not None:
        parts.append(f"{_num(lo)}–{_num(hi)} {cur}".strip())
    elif hi is not None:
        parts.append(f"up to {_num(hi)} {cur}".strip())
    elif lo is not None:
        parts.append(f"at least {_num(lo)} {cur}".strip())
    if penalty.get("turnover_pct") is not None:
        pct = f"{penalty['turnover_pct']:g}% of turnover"
        parts.append(("or up to " if parts else "up to ") + pct)
    text = " ".join(parts)
    if penalty.get("per"):
        text += f", per {penalty['per']}" if text else f"per {penalty['per']}"
    if penalty.get("basis"):
        text += ("; " if text else "") + f"basis: {penalty['basis']}"
    if penalty.get("text"):
        text += ("; " if text else "") + str(penalty["text"])
    return text


def location_text(location: dict[str, Any] | None) -> str:
    """launch.yaml:42 (materials[2].text) — line 3, column 7 of the material text."""
    if not location:
        return ""
    out = str(location.get("file") or "")
    if location.get("line") is not None:
        out += f":{location['line']}"
    if location.get("path"):
        out += f" ({location['path']})" if out else str(location["path"])
    if location.get("text_line") is not None:
        where = f"line {location['text_line']}"
        if location.get("text_column") is not None:
            where += f", column {location['text_column']}"
        out += f" — {where} of material {location.get('material') or ''}".rstrip()
    return out


def value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set)):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def why_text(why: dict[str, Any] | None) -> str:
    if not why:
        return ""
    return "; ".join(f"{k} = {value_text(v)}" for k, v in why.items())


def waiver_text(waiver: dict[str, Any] | None) -> str:
    if not waiver:
        return ""
    text = f"waived by {waiver.get('approver', '?')}"
    if waiver.get("expires"):
        text += f" until {waiver['expires']}"
    text += f": {waiver.get('justification', '')}"
    if waiver.get("reference"):
        text += f" (ref {waiver['reference']})"
    return text


def message_of(o: Outcome) -> str:
    return o.message or o.title


def _json_default(value: Any) -> Any:
    return asdict(value) if is_dataclass(value) and not isinstance(value, type) else str(value)


def findings_digest(report: Report) -> str:
    return report.findings_digest()