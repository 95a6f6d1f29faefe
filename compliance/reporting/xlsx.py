"""The Excel audit workbook: a file auditors and reviewers can work in, rebuilt on every audit.

Sheets: Cover, Summary, Findings, Resolved, Claims, Rules, Checklist, Upcoming, Waivers, Inputs.

Written in openpyxl's write-only (streaming) mode so 100,000 findings fit in seconds and tens of MiB.
Safety rules, enforced for every cell:
- untrusted text never becomes a formula or an error value: it is always a string cell (`t="inlineStr"`),
  also when it begins with `=`, `+`, `-`, `@`, a tab or a CR;
- characters XML cannot carry become U+FFFD (visible, one for one);
- text longer than Excel's 32,767-character cell limit is cut with a visible marker; the JSON report keeps it.
The file is written atomically, and reviewer entries of the workbook being replaced (or of `previous`) are
carried over by stable finding id; findings that disappeared move to the Resolved sheet with their entries.
"""
from __future__ import annotations

import datetime as dt
import math
import os
import re
import shutil
import tempfile
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple
from zipfile import ZIP_DEFLATED, ZipFile

from lxml import etree

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.chart import BarChart, Reference
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.writer.excel import ExcelWriter

from ..errors import InputError, Problem
from ..report import FINDING_OUTCOMES, SEVERITY_ORDER, ClaimRecord, Outcome, Report
from .atomic import atomic_path
from .common import (citation_text, findings_digest, location_text, penalty_text, severity_key, value_text,
                     waiver_text, why_text, xml_safe)
from .xlsx_read import XlsxReader

WORKBOOK_MARKER = "launch-compliance-workbook"
WORKBOOK_FORMAT = "1"
MAX_CELL_CHARS = 32767  # Excel's limit, counted in UTF-16 code units

REVIEW_STATUSES = ("open", "in_progress", "fixed", "accepted_risk", "false_positive", "waived")
REVIEWER_COLUMNS = ("Status", "Owner", "Due date", "Reviewer", "Sign-off date", "Comment")
ID_HEADER = "Finding ID"
CHANGE_HEADER = "Change since last audit"
RESOLVED_HEADER = "Resolved in audit"

SEVERITIES = tuple(sorted(SEVERITY_ORDER, key=SEVERITY_ORDER.get, reverse=True))  # critical ... info
SEVERITY_COLOURS = {  # fill, font; the word is always printed too
    "critical": ("C00000", "FFFFFF"),
    "high": ("F4B084", "000000"),
    "medium": ("FFE699", "000000"),
    "low": ("DDEBF7", "000000"),
    "info": ("EDEDED", "000000"),
}
HIGHLIGHT_COLOURS = {"critical": "C00000", "high": "C55A11", "medium": "806000", "low": "1F4E79", "info": "595959"}
RESULT_COLOURS = {"pass": ("C6EFCE", "006100"), "fail": ("FFC7CE", "9C0006"), "error": ("C00000", "FFFFFF")}

SEVERITY_MEANING = {
    "critical": "Launch blocker: illegal as described, high penalties or bans likely.",
    "high": "Must be fixed before launch.",
    "medium": "Fix before launch or accept the risk with sign-off.",
    "low": "Good practice or low exposure; plan a fix.",
    "info": "For information; no action required.",
}
STATUS_MEANING = {
    "open": "Not yet handled.",
    "in_progress": "Owner is working on it.",
    "fixed": "Fixed; the next audit should no longer report it.",
    "accepted_risk": "Risk accepted by an accountable approver (record who in Comment).",
    "false_positive": "The rule does not apply as reported (explain in Comment).",
    "waived": "Covered by an approved waiver (waivers file).",
}
OUTCOME_MEANING = {
    "fail": "The rule's failure condition holds for this subject.",
    "needs_info": "Facts the rule needs are missing from the launch description.",
    "waived": "Failed, but an unexpired waiver applies; still shown.",
    "error": "Could not be evaluated; never treated as a pass.",
    "pass": "Complies.",
    "not_applicable": "The rule does not apply to this subject.",
}
CHANGE_MEANING = {
    "new": "Not in the previous workbook.",
    "still open": "Also reported by the previous audit; reviewer entries carried over.",
    "reopened": "Had been resolved and is reported again; reviewer entries carried over.",
    "resolved": "No longer reported (Resolved sheet); reviewer entries kept.",
}

S_COVER, S_SUMMARY, S_FINDINGS, S_RESOLVED, S_CLAIMS = "Cover", "Summary", "Findings", "Resolved", "Claims"
S_RULES, S_CHECKLIST, S_UPCOMING, S_WAIVERS, S_INPUTS = "Rules", "Checklist", "Upcoming", "Waivers", "Inputs"
RULES_SHEET_DETAIL_LIMIT = 250_000  # outcomes; above it not-applicable rows are collapsed per rule
SHEETS = (S_COVER, S_SUMMARY, S_FINDINGS, S_RESOLVED, S_CLAIMS, S_RULES, S_CHECKLIST, S_UPCOMING, S_WAIVERS, S_INPUTS)
SHEET_PURPOSE = {
    S_FINDINGS: "One row per finding, with reviewer columns",
    S_RESOLVED: "Findings no longer reported, with their reviewer entries",
    S_CLAIMS: "Risky ad claims highlighted in each material",
    S_RULES: "Every rule's outcome per subject (coverage)",
    S_CHECKLIST: "Launch readiness by area, and the action plan",
    S_UPCOMING: "Rules not yet in force on the as-of date",
    S_WAIVERS: "Waivers: applied, expired or unused",
    S_INPUTS: "The launch description as field path -> value",
}


# --------------------------------------------------------------------------------------------- cell text

def cell_text(value: Any) -> str:
    """Any value as text a cell can hold: XML-safe, at most 32,767 UTF-16 units, cut visibly."""
    text = xml_safe(value if isinstance(value, str) else value_text(value))
    if len(text) * 2 <= MAX_CELL_CHARS or _utf16_len(text) <= MAX_CELL_CHARS:
        return text
    return truncate(text)[0]


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def truncate(text: str) -> tuple[str, int]:
    """(cut text with marker, number of characters kept)."""
    marker = f" … [truncated: {len(text):,} chars, full text in JSON]"
    budget = MAX_CELL_CHARS - _utf16_len(marker)
    keep = budget
    while keep > 0 and _utf16_len(text[:keep]) > budget:
        keep -= max(1, (_utf16_len(text[:keep]) - budget) // 2)
    return text[:keep] + marker, keep


def _guard_needed(text: str) -> bool:
    # openpyxl turns '=...' into a formula and '#N/A'-like text into an error value: force a string cell.
    return text[:1] in ("=", "#")


# --------------------------------------------------------------------------------------------- styles

class _Styles:
    """Style arrays registered once per workbook, copied onto cells (much faster than per-cell objects)."""

    def __init__(self, ws) -> None:
        self.ws = ws

        def make(**attrs) -> Any:
            c = WriteOnlyCell(ws)
            for k, v in attrs.items():
                setattr(c, k, v)
            return copy(c._style)

        top = Alignment(vertical="top", wrap_text=True)
        self.header = make(font=Font(bold=True, color="FFFFFF"), fill=PatternFill("solid", fgColor="1F3864"),
                           alignment=top)
        self.reviewer_header = make(font=Font(bold=True, color="000000"), fill=PatternFill("solid", fgColor="FFD966"),
                                    alignment=top)
        self.title = make(font=Font(bold=True, size=16))
        self.subtitle = make(font=Font(bold=True, size=12))
        self.bold = make(font=Font(bold=True))
        self.wrap = make(alignment=top)
        self.link = make(font=Font(color="0563C1", underline="single"))
        self.date = make(number_format="yyyy-mm-dd")
        self.datetime = make(number_format="yyyy-mm-dd hh:mm")
        self.severity = {s: make(font=Font(bold=True, color=fg), fill=PatternFill("solid", fgColor=bg))
                         for s, (bg, fg) in SEVERITY_COLOURS.items()}
        self.result = {r: make(font=Font(bold=True, color=fg, size=12), fill=PatternFill("solid", fgColor=bg))
                       for r, (bg, fg) in RESULT_COLOURS.items()}


class _V(NamedTuple):
    """A value with a style (a registered style array) and optionally an internal hyperlink."""

    value: Any
    style: Any = None
    link: str | None = None


_LETTERS = [get_column_letter(i) for i in range(1, 16385)]


_XML_SPECIAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff&<>\r]")


def _esc(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def _xml_text(text: str) -> str:
    """Cell text ready for <t>: safe, cut, escaped. The common case (short, plain) costs one regex search."""
    if len(text) <= MAX_CELL_CHARS // 2 and _XML_SPECIAL_RE.search(text) is None:
        return text
    return _esc(cell_text(text))


class _StreamSheet(WriteOnlyWorksheet):
    """A write-only sheet whose rows we serialise ourselves, several times faster than openpyxl's cells.

    openpyxl still writes everything around the rows (views, columns, filter, validations, drawing); on close
    our <sheetData> content is spliced into its output. Every text cell is `t="inlineStr"`: never a formula.
    """

    def __init__(self, parent: Workbook, title: str) -> None:
        super().__init__(parent, title)
        fd, name = tempfile.mkstemp(prefix="lc-rows-", suffix=".xml")
        self._rows_path = name
        self._rows_out = os.fdopen(fd, "w", encoding="utf-8", newline="", buffering=1 << 20)
        self._row_idx = 0
        self._sids: dict[int, int] = {}
        self._tails: dict[str, str] = {}
        self._date_style: Any = None

    def _sid(self, style: Any) -> int:
        key = id(style)
        sid = self._sids.get(key)
        if sid is None:
            sid = self._sids[key] = self.parent._cell_styles.add(style)
        return sid

    def _str_tail(self, v: str) -> str:
        """The part of a text cell after its reference; repeated short texts are cached."""
        cached = self._tails.get(v)
        if cached is None:
            cached = f' t="inlineStr"><is><t xml:space="preserve">{_xml_text(v)}</t></is></c>'
            if len(v) <= 80 and len(self._tails) < 50_000:
                self._tails[v] = cached
        return cached

    def write_values(self, values: Iterable[Any]) -> None:
        self._row_idx += 1
        r = str(self._row_idx)
        parts = ['<row r="', r, '">']
        add = parts.append
        letters = _LETTERS
        tails = self._tails
        for i, v in enumerate(values):
            if v is None:
                continue
            s = ""
            t = type(v)
            if t is _V:
                if v.style is not None:
                    s = f' s="{self._sid(v.style)}"'
                v = v.value
                if v is None or v == "":
                    if s:
                        add(f'<c r="{letters[i]}{r}"{s}/>')
                    continue
                t = type(v)
            if t is str:
                if v:
                    add(f'<c r="{letters[i]}{r}"{s}{tails.get(v) or self._str_tail(v)}')
            elif t is bool:
                add(f'<c r="{letters[i]}{r}"{s} t="b"><v>{int(v)}</v></c>')
            elif t is int or (t is float and math.isfinite(v)):
                add(f'<c r="{letters[i]}{r}"{s}><v>{v!r}</v></c>')
            elif isinstance(v, (dt.datetime, dt.date)):
                if isinstance(v, dt.datetime):
                    v = v.replace(tzinfo=None)
                if not s:
                    s = f' s="{self._sid(self._date_style)}"'
                add(f'<c r="{letters[i]}{r}"{s}><v>{to_excel(v, self.parent.epoch)!r}</v></c>')
            elif isinstance(v, CellRichText):
                add(f'<c r="{letters[i]}{r}"{s} t="inlineStr">{etree.tostring(v.to_tree(), encoding="unicode")}</c>')
            else:  # anything else is shown as its text
                add(f'<c r="{letters[i]}{r}"{s}{self._str_tail(cell_text(v))}')
        add("</row>")
        self._rows_out.write("".join(parts))

    def close(self) -> None:
        super().close()
        self._rows_out.close()
        out = self._writer.out
        with open(out, "rb") as handle:
            shell = handle.read()
        marker = b"<sheetData></sheetData>"
        at = shell.find(marker)
        if at < 0:
            at, marker = shell.find(b"<sheetData/>"), b"<sheetData/>"
        if at < 0:  # pragma: no cover - openpyxl changed its output
            raise RuntimeError("openpyxl sheet XML without an empty sheetData element")
        spliced = out + ".rows"
        with open(spliced, "wb") as dst, open(self._rows_path, "rb") as rows:
            dst.write(shell[:at] + b"<sheetData>")
            shutil.copyfileobj(rows, dst, 1 << 20)
            dst.write(b"</sheetData>" + shell[at + len(marker):])
        os.replace(spliced, out)
        self.discard()

    def discard(self) -> None:
        if not self._rows_out.closed:
            self._rows_out.close()
        try:
            os.unlink(self._rows_path)
        except FileNotFoundError:
            pass


class _Sheet:
    """A sheet plus the small helpers every sheet needs. `fast` sheets stream their rows as XML text;
    the others (Cover, Summary: hyperlinks, chart, few rows) go through openpyxl's cells."""

    def __init__(self, wb: Workbook, title: str, styles: _Styles | None = None, fast: bool = True) -> None:
        assert len(title) <= 31 and not set(title) & set("\\*?:/[]"), title
        if fast:
            self.ws = _StreamSheet(wb, title)
            wb._add_sheet(self.ws)
        else:
            self.ws = wb.create_sheet(title)
        self.fast = fast
        self.title = title
        self.styles = styles or _Styles(self.ws)
        if fast:
            self.ws._date_style = self.styles.date
        self.row = 0

    # values ------------------------------------------------------------------------------------------
    @staticmethod
    def cell(value: Any, style: Any = None, hyperlink: str | None = None) -> Any:
        if style is None and hyperlink is None:
            return value
        return _V(value, style, hyperlink)

    def sev(self, severity: str | None) -> Any:
        return _V(severity, self.styles.severity.get(severity)) if severity else None

    def _to_cell(self, v: Any) -> Any:
        """openpyxl backend: a value or a WriteOnlyCell, safe text, never a formula."""
        style = link = None
        if type(v) is _V:
            v, style, link = v
        if v is None or v == "":
            if style is None:
                return None
            v = None
        elif isinstance(v, dt.datetime):
            v = v.replace(tzinfo=None)
            style = style or self.styles.date
        elif isinstance(v, dt.date):
            style = style or self.styles.date
        elif isinstance(v, (bool, int, float, CellRichText)):
            pass
        else:
            v = cell_text(v)
            if style is None and link is None and not _guard_needed(v):
                return v
        c = WriteOnlyCell(self.ws, v)
        if isinstance(v, str):
            c.data_type = "s"
        if style is not None:
            c._style = copy(style)
        if link:
            c.hyperlink = Hyperlink(ref="", location=link, display=str(v))
        return c

    def append(self, values: Iterable[Any]) -> None:
        if self.fast:
            self.ws.write_values(values)
        else:
            self.ws.append([self._to_cell(v) for v in values])
        self.row += 1

    def header(self, headers: Iterable[str], reviewer: Iterable[str] = ()) -> None:
        reviewer = set(reviewer)
        self.append([_V(h, self.styles.reviewer_header if h in reviewer else self.styles.header) for h in headers])

    def widths(self, widths: Iterable[float]) -> None:
        for i, w in enumerate(widths, 1):
            self.ws.column_dimensions[get_column_letter(i)].width = w

    def protect(self) -> None:
        """Rebuilt on every audit: protected (no password) so nobody types where it would be lost.
        Selecting, copying, filtering and resizing still work."""
        p = self.ws.protection
        p.sheet = True
        p.autoFilter = p.sort = p.formatColumns = p.formatRows = False
        p.selectLockedCells = p.selectUnlockedCells = False

    def blank(self) -> None:
        self.append([])

    def table_frame(self, first_row: int, ncols: int, last_row: int, freeze: str | None = None) -> None:
        self.ws.auto_filter.ref = f"A{first_row}:{get_column_letter(ncols)}{max(last_row, first_row)}"
        if freeze:
            self.ws.freeze_panes = freeze
            self.ws.print_title_rows = "1:1"  # printed pages repeat the header
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True


# --------------------------------------------------------------------------------------------- findings

Getter = Callable[[Outcome], Any]
FINDING_COLUMNS: list[tuple[str, float, Getter]] = [
    (ID_HEADER, 14, lambda o: o.finding_id),
    ("Rule", 16, lambda o: o.rule),
    ("Jurisdiction", 11, lambda o: o.jurisdiction),
    ("Domain", 15, lambda o: o.domain),
    ("Severity", 10, lambda o: o.severity),
    ("Outcome", 11, lambda o: o.outcome),
    ("Title", 40, lambda o: o.title + (f" / {o.title_zh}" if o.title_zh else "")),
    ("Subject", 30, lambda o: o.subject_label or o.subject),
    ("Message", 50, lambda o: o.message),
    ("Citation", 40, lambda o: citation_text(o.citation)),
    ("Evidence", 40, lambda o: o.evidence),
    ("Location", 32, lambda o: location_text(o.location)),
    ("Why", 40, lambda o: why_text(o.why)),
    ("Penalty exposure", 32, lambda o: penalty_text(o.penalty)),
    ("Remediation", 50, lambda o: o.remediation),
    ("Waiver", 30, lambda o: waiver_text(o.waiver)),
    ("Rule status", 11, lambda o: o.status),
]
FINDING_HEADERS = [c[0] for c in FINDING_COLUMNS]
REVIEWER_WIDTHS = {"Status": 14, "Owner": 16, "Due date": 12, "Reviewer": 16, "Sign-off date": 13, "Comment": 40}
KNOWN_HEADERS = set(FINDING_HEADERS) | set(REVIEWER_COLUMNS) | {CHANGE_HEADER, RESOLVED_HEADER}
_AUDIT_HEADERS = (set(FINDING_HEADERS) | {CHANGE_HEADER, RESOLVED_HEADER}) - {ID_HEADER}  # rewritten by each audit


@dataclass
class PreviousRow:
    finding_id: str | None
    values: dict[str, Any]
    sheet: str  # Findings | Resolved

    def reviewer_values(self, extra: list[str]) -> list[Any]:
        return [self.values.get(h) for h in (*REVIEWER_COLUMNS, *extra)]

    def has_reviewer_data(self, extra: list[str]) -> bool:
        return any(v not in (None, "") for v in self.reviewer_values(extra))


@dataclass
class PreviousWorkbook:
    path: Path
    rows: list[PreviousRow] = field(default_factory=list)
    extra_headers: list[str] = field(default_factory=list)  # columns a reviewer added; carried too
    cover: dict[str, Any] = field(default_factory=dict)  # key -> value of its Cover sheet (launch, run time)


def _not_ours(path: Path, why: str) -> InputError:
    return InputError(Problem("E410", f"cannot carry reviewer entries over from {path}: {why}", str(path),
                              expected="an audit workbook written by `compliance audit` (or choose another --xlsx "
                                       "path, or pass --previous)"))


def read_previous(path: Path, current_ids: set[str] | None = None) -> PreviousWorkbook:
    """Reviewer entries of an earlier workbook, by finding id. Raises InputError if it is not ours.

    Rows of findings in `current_ids` keep only their reviewer cells (the rest is rewritten from the new
    audit anyway); other rows keep every cell, for the Resolved sheet."""
    path = Path(path)
    if not path.exists():
        raise InputError(Problem("E411", f"previous workbook {path} does not exist", str(path)))
    if not path.is_file():
        raise _not_ours(path, "not a file")
    try:
        reader = XlsxReader(path)
    except Exception as exc:  # zip, XML, encryption: all mean "not a workbook we can read"
        raise _not_ours(path, f"not a readable .xlsx file ({type(exc).__name__}: {exc})") from None
    try:
        if S_FINDINGS not in reader.sheets:
            raise _not_ours(path, "it has no Findings sheet")
        if WORKBOOK_MARKER not in reader.custom_properties() and S_COVER not in reader.sheets:
            raise _not_ours(path, "it is not a launch-compliance audit workbook")
        prev = PreviousWorkbook(path)
        if S_COVER in reader.sheets:
            for i, row in enumerate(reader.rows(S_COVER)):
                if i > 60:
                    break
                if len(row) >= 2 and isinstance(row[0], str) and row[0] not in prev.cover:
                    prev.cover[row[0]] = row[1]
        for sheet in (S_FINDINGS, S_RESOLVED):
            if sheet in reader.sheets:
                _read_sheet(path, reader, sheet, prev, current_ids or set())
        return prev
    except InputError:
        raise
    except Exception as exc:
        raise _not_ours(path, f"unreadable ({type(exc).__name__}: {exc})") from None
    finally:
        reader.close()


def _read_sheet(path: Path, reader: XlsxReader, sheet: str, prev: PreviousWorkbook, current_ids: set[str]) -> None:
    """Rows of a Findings or Resolved sheet. A row of a finding that is still reported only needs its
    reviewer cells (the audit columns are rewritten), so the others are not even decoded."""
    raw = reader.raw_rows(sheet)
    first = next(raw, None)
    headers = [str(h).strip() if h is not None else None for h in _decode(reader, first or [])]
    if not any(headers):
        raise _not_ours(path, f"the {sheet} sheet has no header row")
    missing = [h for h in (ID_HEADER, *REVIEWER_COLUMNS) if h not in headers]
    if missing:
        raise _not_ours(path, f"the {sheet} sheet lacks the column(s) {', '.join(missing)}")
    id_col = headers.index(ID_HEADER)
    audit_cols = {i for i, h in enumerate(headers) if h in _AUDIT_HEADERS}
    for name in headers:  # a reviewer's own column keeps its place even while empty
        if name and name not in KNOWN_HEADERS and name not in prev.extra_headers:
            prev.extra_headers.append(name)
    for cells in raw:
        fid = None
        for col, c in cells:
            if col == id_col:
                value = reader.value(c)
                fid = str(value).strip() if value not in (None, "") else None
                break
        slim = fid is not None and fid in current_ids
        values: dict[str, Any] = {}
        for col, c in cells:
            if slim and col in audit_cols:
                continue
            v = reader.value(c)
            if v in (None, ""):
                continue
            name = headers[col] if col < len(headers) and headers[col] else f"Column {get_column_letter(col + 1)}"
            if name not in KNOWN_HEADERS and name not in prev.extra_headers:
                prev.extra_headers.append(name)
            values[name] = v
        if not values:
            continue
        prev.rows.append(PreviousRow(fid, values, sheet))


def _decode(reader: XlsxReader, cells: list) -> list[Any]:
    values: list[Any] = []
    for col, c in cells:
        if col >= len(values):
            values.extend([None] * (col + 1 - len(values)))
        values[col] = reader.value(c)
    return values


@dataclass
class _Carry:
    """The result of matching previous rows to this audit's findings."""

    by_id: dict[str, PreviousRow]
    resolved: list[tuple[PreviousRow, str]]  # row, change label
    extra: list[str]


def _carry(findings: list[Outcome], prev: PreviousWorkbook | None, run_at: str) -> _Carry:
    if prev is None:
        return _Carry({}, [], [])
    current = {f.finding_id for f in findings}
    by_id: dict[str, PreviousRow] = {}
    resolved: list[tuple[PreviousRow, str]] = []
    # Findings rows first: if an id is in both sheets, the live row's entries win and the other is kept too.
    for r in sorted(prev.rows, key=lambda r: r.sheet != S_FINDINGS):
        if r.finding_id and r.finding_id in current and r.finding_id not in by_id:
            by_id[r.finding_id] = r
            continue
        if r.finding_id and r.finding_id in current:
            if r.has_reviewer_data(prev.extra_headers) and \
                    r.reviewer_values(prev.extra_headers) != by_id[r.finding_id].reviewer_values(prev.extra_headers):
                resolved.append((r, "duplicate row (finding still open)"))
            continue
        if r.sheet == S_FINDINGS:
            r.values.setdefault(RESOLVED_HEADER, run_at)
        resolved.append((r, "resolved"))
    return _Carry(by_id, resolved, list(prev.extra_headers))


def _finding_headers(extra: list[str]) -> list[str]:
    return [*FINDING_HEADERS, CHANGE_HEADER, *REVIEWER_COLUMNS, *extra]


def _status_validation(sheet: _Sheet, col: int, last_row: int) -> None:
    dv = DataValidation(type="list", formula1='"' + ",".join(REVIEW_STATUSES) + '"', allow_blank=True,
                        showErrorMessage=True, errorTitle="Review status",
                        error="Choose one of: " + ", ".join(REVIEW_STATUSES),
                        promptTitle="Review status", prompt="open, in_progress, fixed, accepted_risk, "
                                                             "false_positive or waived", showInputMessage=True)
    letter = get_column_letter(col)
    dv.add(f"{letter}2:{letter}{max(last_row, 2)}")
    sheet.ws.data_validations.append(dv)


def _write_findings(sheet: _Sheet, findings: list[Outcome], carry: _Carry, has_previous: bool) -> None:
    headers = _finding_headers(carry.extra)
    sheet.widths([c[1] for c in FINDING_COLUMNS] + [14] + [REVIEWER_WIDTHS[h] for h in REVIEWER_COLUMNS]
                 + [20] * len(carry.extra))
    sheet.table_frame(1, len(headers), len(findings) + 1, freeze="B2")
    _status_validation(sheet, len(FINDING_HEADERS) + 2, len(findings) + 1)
    sheet.header(headers, (*REVIEWER_COLUMNS, *carry.extra))
    sev_col = FINDING_HEADERS.index("Severity")
    getters = [c[2] for c in FINDING_COLUMNS]
    n_extra = len(REVIEWER_COLUMNS) + len(carry.extra)
    for o in findings:
        row = [g(o) for g in getters]
        row[sev_col] = sheet.sev(o.severity)
        prev = carry.by_id.get(o.finding_id)
        if prev is None:
            row.append("new")
            row.append("waived" if o.outcome == "waived" else "open")
            row.extend([None] * (n_extra - 1))
        else:
            row.append("reopened" if prev.sheet == S_RESOLVED else "still open")
            row.extend(prev.reviewer_values(carry.extra))
        sheet.append(row)


def _write_resolved(sheet: _Sheet, carry: _Carry) -> None:
    headers = [*FINDING_HEADERS, CHANGE_HEADER, RESOLVED_HEADER, *REVIEWER_COLUMNS, *carry.extra]
    sheet.widths([c[1] for c in FINDING_COLUMNS] + [14, 20] + [REVIEWER_WIDTHS[h] for h in REVIEWER_COLUMNS]
                 + [20] * len(carry.extra))
    sheet.table_frame(1, len(headers), len(carry.resolved) + 1, freeze="B2")
    _status_validation(sheet, len(FINDING_HEADERS) + 3, len(carry.resolved) + 1)
    sheet.header(headers, (*REVIEWER_COLUMNS, *carry.extra))
    for r, change in carry.resolved:
        row = []
        for h in headers:
            v = change if h == CHANGE_HEADER else r.values.get(h)
            row.append(sheet.sev(v) if h == "Severity" and v in SEVERITY_ORDER else v)
        sheet.append(row)


# --------------------------------------------------------------------------------------------- other sheets

def _failed_counts(report: Report) -> tuple[dict[str, dict[str, int]], dict[str, int], list[str]]:
    by_sev_jur: dict[str, dict[str, int]] = {s: {} for s in SEVERITIES}
    by_domain: dict[str, int] = {}
    jurs: list[str] = []
    for o in report.findings:
        if o.outcome != "fail":
            continue
        if o.jurisdiction not in jurs:
            jurs.append(o.jurisdiction)
        row = by_sev_jur.setdefault(o.severity, {})
        row[o.jurisdiction] = row.get(o.jurisdiction, 0) + 1
        by_domain[o.domain] = by_domain.get(o.domain, 0) + 1
    ordered = [j for j in report.jurisdictions if j in jurs] + sorted(j for j in jurs if j not in report.jurisdictions)
    return by_sev_jur, by_domain, ordered


def _write_cover(sheet: _Sheet, report: Report, fail_on: str, prev: PreviousWorkbook | None, carry: _Carry,
                 digest: str) -> None:
    st = sheet.styles
    sheet.widths([28, 70, 16, 16, 10, 68])
    sheet.append([sheet.cell("Launch compliance audit", st.title)])
    sheet.append([sheet.cell(report.launch_name, st.subtitle)])
    sheet.blank()
    result = report.result(fail_on)
    counts = report.counts()
    kv: list[tuple[str, Any]] = [
        ("Overall result", None),
        ("Fail on", f"{fail_on} and above (exit code decided by this threshold)"),
        ("Tool", f"launch-compliance {report.tool_version}"),
        ("Launch", report.launch_name),
        ("Launch file", report.launch_file),
        ("Launch file SHA-256", report.launch_sha256),
        ("As-of date", report.as_of),
        ("Run at (UTC)", report.run_at),
        ("Markets", ", ".join(report.markets)),
        ("Jurisdictions", ", ".join(report.jurisdictions)),
        ("Findings", f"{len(report.findings)} ("
                     + ", ".join(f"{k} {counts.get(k, 0)}" for k in FINDING_OUTCOMES) + ")"),
        ("Outcomes", ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))),
        ("Findings digest (SHA-256)", digest),
        ("Digest note", "Saved workbooks are never byte-identical; the digest of the findings is."),
        ("Reviewer work", "Type in the reviewer columns of Findings (and Resolved): they are carried over to the "
                          "next audit by finding id. Other sheets are rebuilt each audit and protected (no password)."),
        ("Previous workbook", f"{prev.path}, audit of {prev.cover.get('Run at (UTC)', 'unknown date')} (reviewer "
                              f"entries carried over; {len(carry.resolved)} row(s) in Resolved)"
                              if prev else "none (first audit of this workbook)"),
    ]
    if prev and prev.cover.get("Launch") not in (None, report.launch_name):
        kv.append(("Warning", f"the previous workbook is for launch {prev.cover.get('Launch')!r}, not "
                              f"{report.launch_name!r}: its findings appear as resolved"))
    for key, value in kv:
        if key == "Overall result":
            sheet.append([sheet.cell(key, st.bold), sheet.cell(result.upper(), st.result[result])])
        else:
            sheet.append([sheet.cell(key, st.bold), sheet.cell(value)])
    for err in report.engine_errors:
        sheet.append([sheet.cell("Engine error", st.bold), sheet.cell(err)])
    for warning in report.warnings:
        sheet.append([sheet.cell("Warning", st.bold), sheet.cell(warning)])
    sheet.blank()
    sheet.append([sheet.cell("Rule packs", st.subtitle)])
    sheet.header(["Pack", "Version", "Jurisdiction", "Domain", "Rules", "SHA-256"])
    for p in report.packs:
        sheet.append([p.get("id"), p.get("version"), p.get("jurisdiction"), p.get("domain"), p.get("rules"), p.get("sha256")])
    sheet.blank()
    sheet.append([sheet.cell("Legend: severities", st.subtitle)])
    for s in SEVERITIES:
        sheet.append([sheet.sev(s), sheet.cell(SEVERITY_MEANING[s])])
    sheet.blank()
    sheet.append([sheet.cell("Legend: outcomes", st.subtitle)])
    for k, v in OUTCOME_MEANING.items():
        sheet.append([sheet.cell(k, st.bold), v])
    sheet.blank()
    sheet.append([sheet.cell("Legend: review statuses (Findings › Status)", st.subtitle)])
    for k, v in STATUS_MEANING.items():
        sheet.append([sheet.cell(k, st.bold), v])
    sheet.blank()
    sheet.append([sheet.cell(f"Legend: {CHANGE_HEADER.lower()}", st.subtitle)])
    for k, v in CHANGE_MEANING.items():
        sheet.append([sheet.cell(k, st.bold), v])


def _write_summary(sheet: _Sheet, report: Report, fail_on: str) -> None:
    st = sheet.styles
    by_sev_jur, by_domain, jurs = _failed_counts(report)
    sheet.widths([22] + [12] * max(len(jurs) + 1, 4))
    sheet.append([sheet.cell("Summary", st.title)])
    result = report.result(fail_on)
    sheet.append([sheet.cell("Overall result", st.bold), sheet.cell(result.upper(), st.result[result]),
                  f"fail on {fail_on}"])
    sheet.blank()
    sheet.append([sheet.cell("Failed findings by severity and jurisdiction", st.subtitle)])
    sheet.header(["Severity", *jurs, "Total"])
    table_top = sheet.row  # header row number
    for s in SEVERITIES:
        row = by_sev_jur.get(s, {})
        sheet.append([sheet.sev(s), *[row.get(j, 0) for j in jurs], sum(row.values())])
    totals = [sum(by_sev_jur.get(s, {}).get(j, 0) for s in SEVERITIES) for j in jurs]
    sheet.append([sheet.cell("Total", st.bold), *totals, sum(totals)])
    table_bottom = sheet.row - 1  # last severity row
    sheet.blank()
    sheet.append([sheet.cell("Failed findings by domain", st.subtitle)])
    sheet.header(["Domain", "Failed"])
    for d, n in sorted(by_domain.items(), key=lambda kv: (-kv[1], kv[0])):
        sheet.append([d, n])
    if not by_domain:
        sheet.append(["(none)", 0])
    sheet.blank()
    sheet.append([sheet.cell("All outcomes", st.subtitle)])
    sheet.header(["Outcome", "Count"])
    counts = report.counts()
    for k in ("fail", "needs_info", "waived", "error", "pass", "not_applicable"):
        sheet.append([k, counts.get(k, 0)])
    sheet.blank()
    sheet.append([sheet.cell("Sheets", st.subtitle)])
    for title in SHEETS[2:]:
        sheet.append([sheet.cell(title, st.link, hyperlink=f"'{title}'!A1"), SHEET_PURPOSE.get(title, "")])
    chart_anchor_row = 4
    if jurs:
        chart = BarChart()
        chart.type = "col"
        chart.grouping = "stacked"
        chart.overlap = 100
        chart.title = "Failed findings by severity"
        chart.y_axis.title = "Findings"
        chart.x_axis.title = "Severity"
        data = Reference(sheet.ws, min_col=2, max_col=1 + len(jurs), min_row=table_top, max_row=table_bottom)
        cats = Reference(sheet.ws, min_col=1, min_row=table_top + 1, max_row=table_bottom)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(cats)
        chart.height, chart.width = 8, 16
        sheet.ws.add_chart(chart, f"{get_column_letter(len(jurs) + 4)}{chart_anchor_row}")


def _spans(text_len: int, claims: list[ClaimRecord]) -> list[tuple[int, int, str | None]]:
    """Split [0, text_len) into runs, each with the highest severity of the claims covering it (or None)."""
    events: dict[int, list[tuple[int, str]]] = {}
    for c in claims:
        start, end = max(0, c.start), min(text_len, c.end)
        if end <= start:
            continue
        events.setdefault(start, []).append((+1, c.severity))
        events.setdefault(end, []).append((-1, c.severity))
    points = sorted({0, text_len, *events})
    active: dict[str, int] = {}
    out: list[tuple[int, int, str | None]] = []
    for a, b in zip(points, points[1:]):
        for delta, sev in events.get(a, []):
            active[sev] = active.get(sev, 0) + delta
        live = [s for s, n in active.items() if n > 0]
        top = max(live, key=lambda s: SEVERITY_ORDER.get(s, -1)) if live else None
        if out and out[-1][2] == top and out[-1][1] == a:
            out[-1] = (out[-1][0], b, top)
        else:
            out.append((a, b, top))
    return out


def highlighted_text(text: str, claims: list[ClaimRecord]) -> CellRichText | str:
    """The material text as rich text: risky spans bold, underlined and coloured by severity."""
    safe = xml_safe(text)  # one for one: offsets stay valid
    cut = None
    if _utf16_len(safe) > MAX_CELL_CHARS:
        safe_cut, keep = truncate(safe)
        cut, safe = safe_cut[keep:], safe[:keep]
    if not claims or not safe:
        return safe + (cut or "")
    fonts = {s: InlineFont(b=True, u="double" if SEVERITY_ORDER.get(s, 0) >= 3 else "single",
                           color=HIGHLIGHT_COLOURS.get(s, "C00000")) for s in SEVERITY_ORDER}
    plain = InlineFont()
    parts: list[Any] = []
    for a, b, sev in _spans(len(safe), claims):
        parts.append(TextBlock(fonts.get(sev, fonts["high"]) if sev else plain, safe[a:b]))
    if cut:
        parts.append(TextBlock(InlineFont(i=True), cut))
    return CellRichText(parts)


def _write_claims(sheet: _Sheet, report: Report) -> None:
    st = sheet.styles
    sheet.widths([18, 10, 70, 12, 16, 16, 7, 8, 20, 40, 20, 22, 40, 40])  # C holds the material text
    by_material: dict[str, list[ClaimRecord]] = {}
    for c in report.claims:
        by_material.setdefault(c.material, []).append(c)
    sheet.append([sheet.cell("Materials: risky spans in bold, underlined (double for high and critical) and "
                             "coloured by severity; details per claim below", st.bold)])
    sheet.header(["Material", "Claims", "Scanned text"])
    materials = list(report.materials) + [m for m in by_material if m not in report.materials]
    for mid in materials:
        text = report.materials.get(mid, "")
        rich = highlighted_text(text, by_material.get(mid, []))
        sheet.append([mid, len(by_material.get(mid, [])), sheet.cell(rich, st.wrap)])
    if not materials:
        sheet.append(["(no material text in this launch)"])
    sheet.blank()
    sheet.append([sheet.cell("Claims", st.subtitle)])
    headers = ["Material", "Severity", "Matched text", "Jurisdiction", "Category", "Rule", "Line", "Column", "File",
               "Context", "Exception", "Substantiated by", "Explanation", "Suggestion"]
    sheet.header(headers)
    first = sheet.row
    for c in sorted(report.claims, key=lambda c: (c.material, c.start, c.jurisdiction)):
        sheet.append([c.material, sheet.sev(c.severity), c.text, c.jurisdiction, c.category, c.rule, c.line, c.column,
                      c.file, " | ".join(c.context), c.exception, c.substantiated_by, c.explanation, c.suggestion])
    sheet.table_frame(first, len(headers), sheet.row)


def _write_rules(sheet: _Sheet, report: Report) -> None:
    headers = ["Rule", "Title", "Jurisdiction", "Domain", "Pack", "Severity", "Subject kind", "Subject", "Outcome",
               "Rule status", "Finding ID"]
    sheet.widths([16, 40, 11, 15, 22, 10, 14, 30, 13, 11, 14])
    detailed = report.outcomes
    collapsed: dict[str, tuple[Outcome, int]] = {}
    if len(detailed) > RULES_SHEET_DETAIL_LIMIT:
        # Excel holds 1,048,576 rows: on very large launches, not-applicable outcomes become one row per rule
        # (with their count); every outcome stays in the JSON report.
        detailed = []
        for o in report.outcomes.stored():
            if o.outcome == "not_applicable":
                first, count = collapsed.get(o.rule, (o, 0))
                collapsed[o.rule] = (first, count + 1)
            else:
                detailed.append(o)
        for run in report.outcomes.quiet_runs():
            if run.template.outcome == "not_applicable":
                first, count = collapsed.get(run.template.rule, (run.template, 0))
                collapsed[run.template.rule] = (first, count + len(run))
            else:
                detailed.extend(run)
    rows = sorted(detailed, key=lambda o: (o.jurisdiction, o.domain, o.rule, o.subject))
    summary_rows = sorted(collapsed.values(), key=lambda fc: (fc[0].jurisdiction, fc[0].domain, fc[0].rule))
    sheet.table_frame(1, len(headers), len(rows) + len(summary_rows) + 1, freeze="B2")
    sheet.header(headers)
    for o in rows:
        sheet.append([o.rule, o.title, o.jurisdiction, o.domain, o.pack, sheet.sev(o.severity), o.subject_kind,
                      o.subject_label or o.subject, o.outcome, o.status, o.finding_id if o.is_finding else None])
    for o, count in summary_rows:
        sheet.append([o.rule, o.title, o.jurisdiction, o.domain, o.pack, sheet.sev(o.severity), o.subject_kind,
                      f"{count:,} subjects (listed in the JSON report)", o.outcome, o.status, None])


def _write_checklist(sheet: _Sheet, report: Report, findings: list[Outcome], carry: _Carry) -> None:
    st = sheet.styles
    sheet.widths([14, 12, 30, 50, 10, 16, 12, 14])
    sheet.append([sheet.cell("Launch readiness by area", st.subtitle)])
    sheet.header(["Area", "Status", "Rules", "Failed", "Needs info", "Passed", "Items"])
    for row in report.checklist:
        sheet.append([row.get("area"), sheet.cell(row.get("status"), st.bold), row.get("rules", 0), row.get("failed", 0),
                      row.get("needs_info", 0), row.get("passed", 0), "\n".join(row.get("items", []))])
    if not report.checklist:
        sheet.append(["(no readiness rules evaluated)"])
    sheet.blank()
    sheet.append([sheet.cell("Action plan", st.subtitle)])
    sheet.append(["Owner, due date and status of findings come from the Findings sheet: edit them there (this sheet "
                  "is rebuilt on every audit). Action items come from the launch description."])
    headers = ["Source", "Ref", "Area / rule", "Action", "Severity", "Owner", "Due", "Status"]
    sheet.header(headers)
    first = sheet.row
    for a in report.action_items:
        sheet.append(["action item", a.get("id"), a.get("area"), a.get("description"), None, a.get("owner"),
                      a.get("due"), a.get("status")])
    for o in findings:
        if o.outcome not in ("fail", "needs_info", "error"):
            continue
        prev = carry.by_id.get(o.finding_id)
        owner = prev.values.get("Owner") if prev else None
        due = prev.values.get("Due date") if prev else None
        status = prev.values.get("Status") if prev else "open"
        sheet.append(["finding", o.finding_id, o.rule, o.remediation or o.message, sheet.sev(o.severity), owner, due,
                      status])
    sheet.table_frame(first, len(headers), sheet.row)



def _write_simple(sheet: _Sheet, headers: list[str], widths: list[float], rows: Iterable[list[Any]],
                  severity_col: int | None = None, empty: str = "(none)") -> None:
    sheet.widths(widths)
    rows = list(rows)
    sheet.table_frame(1, len(headers), len(rows) + 1, freeze="A2")
    sheet.header(headers)
    for r in rows:
        if severity_col is not None and r[severity_col] in SEVERITY_ORDER:
            r[severity_col] = sheet.sev(r[severity_col])
        sheet.append(r)
    if not rows:
        sheet.append([empty])


# --------------------------------------------------------------------------------------------- entry point

def build_workbook(report: Report, prev: PreviousWorkbook | None = None, fail_on: str = "high") -> Workbook:
    """The workbook, ready to save (exactly once). Call discard_workbook() if it is not saved."""
    wb = Workbook(write_only=True)
    digest = findings_digest(report)
    wb.custom_doc_props.append(StringProperty(name=WORKBOOK_MARKER, value=WORKBOOK_FORMAT))
    wb.custom_doc_props.append(StringProperty(name="findings-sha256", value=digest))
    wb.properties.title = cell_text(f"Compliance audit: {report.launch_name}")[:250]
    wb.properties.creator = f"launch-compliance {report.tool_version}"
    findings = sorted(report.findings, key=severity_key)
    carry = _carry(findings, prev, report.run_at)

    cover = _Sheet(wb, S_COVER, fast=False)
    styles = cover.styles
    sheets = {name: _Sheet(wb, name, styles, fast=name != S_SUMMARY) for name in SHEETS[1:]}
    try:
        _write_cover(cover, report, fail_on, prev, carry, digest)
        _write_summary(sheets[S_SUMMARY], report, fail_on)
        _write_findings(sheets[S_FINDINGS], findings, carry, prev is not None)
        _write_resolved(sheets[S_RESOLVED], carry)
        _write_claims(sheets[S_CLAIMS], report)
        _write_rules(sheets[S_RULES], report)
        _write_checklist(sheets[S_CHECKLIST], report, findings, carry)
        _write_simple(sheets[S_UPCOMING], ["Rule", "Title", "Jurisdiction", "Effective from", "Severity"],
                      [16, 50, 12, 14, 10],
                      ([u.get("rule"), u.get("title"), u.get("jurisdiction"), u.get("effective_from"), u.get("severity")]
                       for u in report.upcoming), severity_col=4, empty="(no rules pending on the as-of date)")
        _write_simple(sheets[S_WAIVERS], ["Rule", "Subject", "Justification", "Approver", "Reference", "Expiry",
                                          "State", "Line"], [16, 24, 50, 18, 18, 12, 10, 7],
                      ([w.rule, w.subject or "(all subjects)", w.justification, w.approver, w.reference, w.expires,
                        w.state, w.line] for w in report.waivers), empty="(no waivers file)")
        _write_simple(sheets[S_INPUTS], ["Field path", "Value", "Line"], [48, 80, 7],
                      ([p, v, line] for p, v, line in report.inputs))
        for name in (S_COVER, S_SUMMARY, S_CLAIMS, S_RULES, S_CHECKLIST, S_UPCOMING, S_WAIVERS, S_INPUTS):
            (cover if name == S_COVER else sheets[name]).protect()
    except BaseException:
        discard_workbook(wb)
        raise
    return wb


def _save(wb: Workbook, path: Path) -> None:
    """openpyxl's save_workbook with a faster deflate level (the file grows ~15%, saving takes a third)."""
    archive = ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True, compresslevel=1)
    try:
        ExcelWriter(wb, archive).save()
    finally:
        archive.close()


def discard_workbook(wb: Workbook) -> None:
    """Remove the temporary files of a workbook that was saved, failed to save or will not be saved."""
    for ws in wb.worksheets:
        if not ws.closed:  # the save failed before this sheet: end its XML stream so nothing is left behind
            try:
                WriteOnlyWorksheet.close(ws)
                ws._writer.cleanup()
            except Exception:  # pragma: no cover - best effort on an error path
                pass
        if isinstance(ws, _StreamSheet):
            ws.discard()


def write_workbook(report: Report, path: Path, previous: Path | None = None, fail_on: str = "high") -> Path:
    """Write the audit workbook atomically, carrying reviewer entries over from `previous`
    (default: the workbook at `path`, if there is one)."""
    path = Path(path)
    source = Path(previous) if previous is not None else (path if path.exists() else None)
    current = {o.finding_id for o in report.findings}
    prev = read_previous(source, current) if source is not None else None  # raises before anything is written
    try:
        with atomic_path(path) as tmp:
            wb = build_workbook(report, prev, fail_on)
            try:
                _save(wb, tmp)
            finally:
                discard_workbook(wb)
    except PermissionError as exc:
        raise InputError(Problem("E412", f"cannot write the workbook {path}: {exc.strerror or exc}", str(path),
                                 expected="a writable path (close the workbook if it is open in Excel)")) from None
    return path
