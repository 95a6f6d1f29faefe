"""The console summary (rich): result, counts, the most severe findings, files written.

Severity is always printed as a word (colour is only an aid); NO_COLOR turns colour off; text from the
launch (ad copy, names) is shown literally: never interpreted as markup, control characters neutralised.
Progress goes to stderr and only on a TTY.
"""
from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator

from rich.console import Console
from rich.text import Text

from ..report import SEVERITY_ORDER, Report
from .common import location_text, sorted_findings

TOP_N = 10
SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
RESULT_STYLE = {"pass": "bold green", "fail": "bold red", "error": "bold white on red"}
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _plain(value: object, limit: int | None = None) -> Text:
    text = _CONTROL_RE.sub("\ufffd", "" if value is None else str(value))
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return Text(text)


def _relative(location: dict | None) -> dict | None:
    """Show the launch file relative to the working directory when it is below it."""
    if not location or not location.get("file"):
        return location
    try:
        rel = Path(location["file"]).resolve().relative_to(Path.cwd())
    except (ValueError, OSError):
        return location
    return {**location, "file": str(rel)}


def make_console(file=None, stderr: bool = False) -> Console:
    no_color = bool(os.environ.get("NO_COLOR"))
    return Console(file=file, stderr=stderr, no_color=no_color, highlight=False, soft_wrap=False,
                   emoji=False, markup=False)


def render_console(report: Report, fail_on: str = "high", min_severity: str = "info",
                   written_paths: list[Path] | None = None, console: Console | None = None) -> None:
    out = console or make_console()
    result = report.result(fail_on)
    floor = SEVERITY_ORDER[min_severity]
    threshold = SEVERITY_ORDER[fail_on]
    findings = [o for o in sorted_findings(report.findings) if SEVERITY_ORDER.get(o.severity, 0) >= floor]
    blocking = [o for o in findings if o.outcome == "fail" and SEVERITY_ORDER.get(o.severity, 0) >= threshold]
    errors = [o for o in report.findings if o.outcome == "error"]

    line = Text()
    line.append(f" {result.upper()} ", style=RESULT_STYLE[result])
    if result == "error":
        line.append(f"  the audit could not finish: {len(errors)} rule(s) not evaluated"
                    f"{', ' + str(len(report.engine_errors)) + ' engine error(s)' if report.engine_errors else ''}")
    elif result == "fail":
        line.append(f"  {len(blocking)} finding(s) at or above {fail_on}")
    else:
        line.append(f"  nothing at or above {fail_on}")
    out.print(line)
    head = Text("Launch ")
    head.append_text(_plain(report.launch_name))
    head.append(f" ({_relative({'file': report.launch_file})['file']}) as of {report.as_of}; jurisdictions {', '.join(report.jurisdictions)}; "
                f"{len(report.outcomes)} checks")
    out.print(head)

    if findings:
        out.print()
        sev_order = sorted(SEVERITY_ORDER, key=SEVERITY_ORDER.get, reverse=True)
        for label, key in (("severity", "severity"), ("jurisdiction", "jurisdiction"), ("domain", "domain")):
            counts: dict[str, int] = {}
            for o in findings:
                if o.outcome == "fail":
                    counts[getattr(o, key)] = counts.get(getattr(o, key), 0) + 1
            keys = [k for k in sev_order if k in counts] if key == "severity" else sorted(counts, key=lambda k: (-counts[k], k))
            row = Text(f"Failed by {label}: ".ljust(24))
            for i, k in enumerate(keys):
                if i:
                    row.append(" · ")
                if key == "severity":
                    row.append(k.upper(), style=SEVERITY_STYLE.get(k, ""))
                else:
                    row.append_text(_plain(k))
                row.append(f" {counts[k]}")
            if not keys:
                row.append("none")
            out.print(row)
        others = {k: sum(o.outcome == k for o in findings) for k in ("needs_info", "waived", "error")}
        out.print(Text("Other findings: ".ljust(24) + " · ".join(f"{k} {n}" for k, n in others.items())))
        out.print()
        out.print(Text(f"Top findings ({min(TOP_N, len(findings))} of {len(findings)}):", style="bold"))
        for o in findings[:TOP_N]:
            line = Text("  ")
            line.append(o.severity.upper().ljust(8), style=SEVERITY_STYLE.get(o.severity, ""))
            line.append(" ")
            line.append_text(_plain(o.rule))
            if o.outcome != "fail":
                line.append(f" [{o.outcome}]")
            line.append("  ")
            line.append_text(_plain(o.subject_label or o.subject, 80))
            line.append(": ")
            line.append_text(_plain(o.message, 240))
            out.print(line)
            where = location_text(_relative(o.location))
            if where:
                out.print(Text("           at ") + _plain(where, 200), style="dim")
        if len(findings) > TOP_N:
            out.print(f"  ... and {len(findings) - TOP_N} more in the workbook and the JSON report.")
    for err in report.engine_errors:
        out.print(Text("ENGINE ERROR ", style="bold red") + _plain(err))
    for warning in report.warnings:
        out.print(Text("WARNING ", style="yellow") + _plain(warning))
    if written_paths:
        out.print()
        for p in written_paths:
            out.print(Text("wrote ") + _plain(p), soft_wrap=True)  # never break a path: it is copied


@contextmanager
def progress(message: str, quiet: bool = False, stream=None) -> Iterator[None]:
    """A spinner on stderr while work runs: only on a TTY, never with --quiet, in CI or with TERM=dumb."""
    stream = stream or sys.stderr
    interactive = (not quiet and hasattr(stream, "isatty") and stream.isatty() and not os.environ.get("CI")
                   and os.environ.get("TERM") != "dumb")
    if not interactive:
        with nullcontext():
            yield
        return
    console = make_console(file=stream)
    with console.status(message):
        yield
