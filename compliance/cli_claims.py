"""`compliance claims`: find risky advertising claims in files, stdin or a JSONL batch.

Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it, 2 bad input or usage
(message on stderr, file:line where relevant), 3 internal error.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Iterable

import click

SEVERITY_CHOICES = ("info", "low", "medium", "high", "critical")
_RANK = {name: rank for rank, name in enumerate(SEVERITY_CHOICES)}


class _BadInput(Exception):
    """A user-fixable problem: reported on stderr, exit code 2."""


def _detector():
    from compliance.nlp.claims import ClaimDetector

    return ClaimDetector()


def _finding(hit, raw: str, raw_start: int, raw_end: int, lines, file: str | None) -> dict:
    line, column = lines.line_col(raw_start)
    return {
        "file": file, "line": line, "column": column, "start": raw_start, "end": raw_end,
        "text": raw[raw_start:raw_end], "category": hit.category, "severity": hit.severity, "rule": hit.rule,
        "citation": hit.citation, "explanation": hit.explanation, "suggestion": hit.suggestion, "lang": hit.lang,
        "context": list(hit.context), "exception": hit.exception, "substantiated_by": hit.substantiated_by,
    }


def _scan(detector, raw: str, fmt: str, jurisdiction: str, lang: str, file: str | None,
          substantiation=()) -> list[dict]:
    from compliance.nlp.materials import LineIndex, to_raw_span, visible_text

    visible, offsets = visible_text(raw, fmt)
    lines = LineIndex(raw)
    findings = []
    for hit in detector.detect(visible, jurisdiction, lang, substantiation=substantiation):
        raw_start, raw_end = to_raw_span(offsets, hit.start, hit.end, len(raw))
        findings.append(_finding(hit, raw, raw_start, raw_end, lines, file))
    return findings


def _read(path: str) -> str:
    try:
        if path == "-":
            return sys.stdin.read()
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise _BadInput(f"{path}: is a directory") from None
    except UnicodeDecodeError as exc:
        raise _BadInput(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise _BadInput(f"{path}: cannot read ({exc.strerror})") from None


def _render_text(findings: Iterable[dict], out: IO[str]) -> None:
    count = 0
    for f in findings:
        count += 1
        where = f"{f['file'] or '<text>'}:{f['line']}:{f['column']}"
        extra = []
        if f["context"]:
            extra.append("context: " + ", ".join(f["context"]))
        if f["exception"]:
            extra.append("exception: " + f["exception"])
        if f["substantiated_by"]:
            extra.append("substantiated by: " + f["substantiated_by"])
        cite = f["citation"]
        out.write(f"{where}: {f['severity'].upper()} {f['category']} {f['rule']} \"{f['text']}\" "
                  f"[{f['start']}:{f['end']}]\n    {f['explanation']}\n    cite: {cite['law']} {cite['article']} "
                  f"<{cite['url']}>\n")
        if f["suggestion"]:
            out.write(f"    suggestion: {f['suggestion']}\n")
        if extra:
            out.write("    " + "; ".join(extra) + "\n")
    out.write(f"{count} finding(s)\n")


def _open_output(path: str | None):
    if path is None or path == "-":
        return sys.stdout, False
    try:
        return open(path, "w", encoding="utf-8"), True
    except OSError as exc:
        raise _BadInput(f"{path}: cannot write ({exc.strerror})") from None


def _run_batch(detector, source: str, output: str | None, default_jurisdiction: str | None,
               default_lang: str, min_severity: str) -> tuple[list[dict], bool]:
    from compliance.nlp.claims import UnsupportedLanguage

    raw = _read(source)
    name = "<stdin>" if source == "-" else source
    out, close = _open_output(output)
    all_findings: list[dict] = []
    malformed = False
    try:
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict):
                    raise ValueError("expected a JSON object")
                for key, kind in (("id", (str, int)), ("text", str)):
                    if key not in item:
                        raise ValueError(f"missing field '{key}'")
                    if not isinstance(item[key], kind):
                        raise ValueError(f"field '{key}' has the wrong type")
                jurisdiction = item.get("jurisdiction", default_jurisdiction)
                if not isinstance(jurisdiction, str):
                    raise ValueError("missing field 'jurisdiction'")
                lang = item.get("lang") or default_lang
                if not isinstance(lang, str):
                    raise ValueError("field 'lang' has the wrong type")
                pairs = item.get("substantiation") or []
                if not isinstance(pairs, list) or not all(
                        isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(x, str) for x in p)
                        for p in pairs):
                    raise ValueError("field 'substantiation' must be a list of [claim, evidence] pairs")
            except ValueError as exc:  # json.JSONDecodeError is a ValueError
                malformed = True
                message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                click.echo(f"{name}:{number}: malformed line: {message}", err=True)
                out.write(json.dumps({"line": number, "error": message}, ensure_ascii=False) + "\n")
                continue
            try:
                findings = _scan(detector, item["text"], "text", jurisdiction, lang, None,
                                 substantiation=[tuple(p) for p in pairs])
            except UnsupportedLanguage as exc:
                out.write(json.dumps({"id": item["id"], "findings": [], "not_checked": str(exc)},
                                     ensure_ascii=False) + "\n")
                continue
            all_findings.extend(findings)
            shown = [{k: v for k, v in f.items() if k != "file"} for f in findings
                     if _RANK[f["severity"]] >= _RANK[min_severity]]
            out.write(json.dumps({"id": item["id"], "findings": shown}, ensure_ascii=False) + "\n")
    finally:
        if close:
            out.close()
        else:
            out.flush()
    return all_findings, malformed


@click.command("claims")
@click.argument("files", nargs=-1, type=str)
@click.option("--jurisdiction", "-j", help="CN, EU, UK, US or US-CA (required for FILE mode).")
@click.option("--lang", default="auto", show_default=True, help="zh, en or auto (mixed text is always checked in both).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--input-format", type=click.Choice(["auto", "text", "markdown", "html"]), default="auto",
              show_default=True, help="How to read FILEs; auto goes by file extension.")
@click.option("--fail-on", type=click.Choice([*SEVERITY_CHOICES, "never"]), default="high", show_default=True,
              help="Exit 1 when a finding has this severity or higher.")
@click.option("--min-severity", type=click.Choice(SEVERITY_CHOICES), default="low", show_default=True,
              help="Hide findings below this severity (does not change the exit code).")
@click.option("--input-jsonl", type=str, help='Batch: JSON Lines {"id","text","jurisdiction","lang"?}; "-" = stdin.')
@click.option("--output", type=str, help="Write results here instead of stdout.")
@click.pass_context
def claims(ctx: click.Context, files: tuple[str, ...], jurisdiction: str | None, lang: str, output_format: str,
           input_format: str, fail_on: str, min_severity: str, input_jsonl: str | None, output: str | None) -> None:
    """Find risky advertising claims (absolute terms, medical, price, green ...) in FILEs."""
    if input_jsonl and files:
        raise click.UsageError("give FILEs or --input-jsonl, not both")
    if not input_jsonl and not files:
        raise click.UsageError("give at least one FILE ('-' for stdin) or --input-jsonl PATH")
    if not input_jsonl and not jurisdiction:
        raise click.UsageError("--jurisdiction is required with FILEs")
    try:
        code = _main(files, jurisdiction, lang, output_format, input_format, fail_on, min_severity, input_jsonl, output)
    except _BadInput as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)
    except click.exceptions.Exit:
        raise
    except Exception as exc:  # noqa: BLE001 - the contract is exit 3 with a message, never a traceback
        from compliance.nlp.lexicon import LexiconError

        if isinstance(exc, LexiconError):
            click.echo(f"error: claims data: {exc}", err=True)
            ctx.exit(2)
        click.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
        ctx.exit(3)
    ctx.exit(code)


def _main(files, jurisdiction, lang, output_format, input_format, fail_on, min_severity, input_jsonl, output) -> int:
    from compliance.nlp.claims import UnsupportedLanguage
    from compliance.nlp.materials import format_for_path

    detector = _detector()
    if input_jsonl:
        findings, malformed = _run_batch(detector, input_jsonl, output, jurisdiction, lang, min_severity)
        if malformed:
            return 2
        return _exit_for(findings, fail_on)
    if not detector.supports(jurisdiction, lang):
        raise _BadInput(f"no claims lexicon for jurisdiction {jurisdiction!r} and language {lang!r} "
                        f"(jurisdictions: {', '.join(detector.jurisdictions())}; languages: en, zh, auto)")
    findings: list[dict] = []
    for path in files:
        raw = _read(path)
        fmt = input_format if input_format != "auto" else ("text" if path == "-" else format_for_path(path))
        try:
            findings.extend(_scan(detector, raw, fmt, jurisdiction, lang, "<stdin>" if path == "-" else path))
        except UnsupportedLanguage as exc:
            raise _BadInput(f"{path}: {exc}") from None
    shown = [f for f in findings if _RANK[f["severity"]] >= _RANK[min_severity]]
    out, close = _open_output(output)
    try:
        if output_format == "json":
            out.write(json.dumps({"findings": shown}, ensure_ascii=False, indent=2) + "\n")
        else:
            _render_text(shown, out)
    finally:
        if close:
            out.close()
    return _exit_for(findings, fail_on)


def _exit_for(findings: list[dict], fail_on: str) -> int:
    if fail_on == "never":
        return 0
    return 1 if any(_RANK[f["severity"]] >= _RANK[fail_on] for f in findings) else 0


if __name__ == "__main__":  # pragma: no cover - handy when the main group is not wired yet
    sys.exit(claims())
