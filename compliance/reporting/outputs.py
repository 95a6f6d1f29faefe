"""Turn a finished Report into files and stdout. Every file is written atomically."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from ..report import Report
from .atomic import write_text_atomic


def default_workbook_path(report: Report) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", report.launch_name).strip("-").lower() or "launch"
    return Path("reports") / f"{slug}-audit.xlsx"


def write_all(report: Report, xlsx: Path | None, json_path: Path | None, sarif: Path | None, junit: Path | None,
              previous: Path | None, fail_on: str, min_severity: str) -> list[Path]:
    # Each writer is imported only when its format is asked for: openpyxl and lxml alone take ~80 ms.
    written: list[Path] = []
    if xlsx is not None:
        from .xlsx import write_workbook

        write_workbook(report, xlsx, previous=previous, fail_on=fail_on)
        written.append(xlsx)
    if json_path is not None:
        from . import json_report

        write_text_atomic(json_path, json_report.render(report, fail_on, min_severity))
        written.append(json_path)
    if sarif is not None:
        from .sarif import render as render_sarif

        write_text_atomic(sarif, render_sarif(report, min_severity))
        written.append(sarif)
    if junit is not None:
        from .junit import render as render_junit

        write_text_atomic(junit, render_junit(report, fail_on))
        written.append(junit)
    return written


def print_stdout(report: Report, fmt: str, fail_on: str, min_severity: str, written: list[Path], quiet: bool) -> None:
    if fmt == "json":
        from . import json_report

        sys.stdout.write(json_report.render(report, fail_on, min_severity))
    elif fmt == "sarif":
        from .sarif import render as render_sarif

        sys.stdout.write(render_sarif(report, min_severity))
    elif fmt == "junit":
        from .junit import render as render_junit

        sys.stdout.write(render_junit(report, fail_on))
    elif fmt == "console" and not quiet:
        from .console import render_console

        render_console(report, fail_on, min_severity, written)
