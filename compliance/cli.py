"""Command line: a thin layer over compliance.audit and compliance.reporting.

Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 bad input or usage, 3 internal error.
"""
from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import ContextManager

import click

from . import __version__
from .errors import ComplianceError
from .report import SEVERITY_ORDER

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
SEVERITY = click.Choice(list(SEVERITY_ORDER))


def _fail(exc: ComplianceError) -> None:
    for problem in exc.problems:
        click.echo(problem.render(), err=True)
    sys.exit(exc.exit_code)


# Commands imported only when run or listed, so that `compliance audit` does not load the claims CLI.
_LAZY_COMMANDS = {"claims": ("compliance.cli_claims", "claims")}


class _Group(click.Group):
    """Turns every error into the documented exit code: usage 2, internal 3, never a traceback by default."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in _LAZY_COMMANDS:
            module_name, attribute = _LAZY_COMMANDS[cmd_name]
            try:
                command = getattr(importlib.import_module(module_name), attribute)
            except ImportError:  # pragma: no cover - only while the detector is being built
                return None
            self.add_command(command, cmd_name)
        return command

    def main(self, *args, **kwargs):  # type: ignore[override]
        kwargs.setdefault("standalone_mode", False)
        try:
            rv = super().main(*args, **kwargs)
            return sys.exit(rv if isinstance(rv, int) else 0)
        except ComplianceError as exc:
            _fail(exc)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(EXIT_INTERNAL)
        except click.ClickException as exc:
            exc.show()
            sys.exit(EXIT_INPUT)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except SystemExit:
            raise
        except KeyboardInterrupt:
            sys.exit(130)
        except Exception as exc:  # a crash is never a pass
            if os.environ.get("COMPLIANCE_DEBUG"):
                raise
            click.echo(f"internal error: {type(exc).__name__}: {exc} (set COMPLIANCE_DEBUG=1 for a traceback)", err=True)
            sys.exit(EXIT_INTERNAL)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="compliance")
def main() -> None:
    """Audit a product launch against the law of every market it enters."""


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; expected YYYY-MM-DD", param_hint="--as-of") from None


def _progress(message: str, quiet: bool) -> ContextManager[None]:
    """The console spinner; rich is only imported when stderr is a terminal, the only place it ever shows."""
    if quiet or not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return nullcontext()
    from .reporting.console import progress

    return progress(message, quiet=quiet)


@main.command()
@click.argument("launch_file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["console", "json", "sarif", "junit", "none"]), default=None,
              help="What to print on stdout (default: console on a terminal, json otherwise).")
@click.option("--xlsx", "xlsx_path", type=click.Path(path_type=Path), default=None,
              help="Audit workbook path (default reports/<launch>-audit.xlsx).")
@click.option("--no-xlsx", is_flag=True, help="Do not write the workbook.")
@click.option("--json-out", type=click.Path(path_type=Path), default=None, help="Also write the JSON report here.")
@click.option("--sarif-out", type=click.Path(path_type=Path), default=None, help="Also write SARIF 2.1.0 here.")
@click.option("--junit-out", type=click.Path(path_type=Path), default=None, help="Also write JUnit XML here.")
@click.option("--as-of", "as_of", default=None, help="Date deciding which rules are in force (default: the launch date).")
@click.option("--fail-on", type=SEVERITY, default="high", show_default=True, help="Exit 1 if a finding is at or above this.")
@click.option("--min-severity", type=SEVERITY, default="info", show_default=True, help="Hide findings below this in outputs.")
@click.option("--waivers", type=click.Path(path_type=Path), default=None, help="Waivers file (YAML).")
@click.option("--previous", type=click.Path(path_type=Path), default=None,
              help="Earlier workbook whose reviewer entries are carried over (default: the workbook being replaced).")
@click.option("--engine", type=click.Choice(["durable", "reference"]), default="durable", hidden=True)
@click.option("--quiet", "-q", is_flag=True, help="No progress or console summary.")
def audit(launch_file: Path, fmt: str | None, xlsx_path: Path | None, no_xlsx: bool, json_out: Path | None,
          sarif_out: Path | None, junit_out: Path | None, as_of: str | None, fail_on: str, min_severity: str,
          waivers: Path | None, previous: Path | None, engine: str, quiet: bool) -> int:
    """Audit LAUNCH_FILE and write the audit workbook."""
    from .audit import AuditOptions, run_audit
    from .reporting import outputs

    with _progress(f"Auditing {launch_file} ...", quiet):
        report = run_audit(launch_file, AuditOptions(as_of=_date(as_of), waivers=waivers, engine=engine))
    if fmt is None:
        fmt = "console" if sys.stdout.isatty() else "json"
    if not no_xlsx:
        xlsx_path = xlsx_path or outputs.default_workbook_path(report)
    written = outputs.write_all(report, xlsx=None if no_xlsx else xlsx_path, json_path=json_out, sarif=sarif_out,
                                junit=junit_out, previous=previous, fail_on=fail_on, min_severity=min_severity)
    outputs.print_stdout(report, fmt, fail_on, min_severity, written, quiet)
    from .report import exit_code
    return exit_code(report, fail_on)


@main.command()
@click.argument("launch_files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(launch_files: tuple[Path, ...]) -> int:
    """Check launch descriptions without auditing them."""
    from .loading.jurisdictions import load_jurisdictions
    from .loading.launch import load_launch

    jurisdictions = load_jurisdictions()
    problems: list = []
    for launch_file in launch_files:
        try:
            doc = load_launch(launch_file, jurisdictions).doc
        except ComplianceError as exc:
            problems.extend(exc.problems)
            continue
        click.echo(f"{launch_file}: valid launch description '{doc.launch.name}' "
                   f"({len(doc.launch.markets)} markets, {len(doc.materials)} materials, {len(doc.products)} products)")
    if problems:
        from .errors import InputError

        raise InputError(problems)
    return EXIT_OK


@main.command()
def schema() -> int:
    """Print the JSON Schema of the launch description (for editor autocompletion)."""
    from .model.document import json_schema

    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))
    return EXIT_OK


@main.group()
def rules() -> None:
    """List, show and test the rule packs."""


@rules.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--jurisdiction", default=None, help="Only rules of this jurisdiction.")
def rules_list(fmt: str, jurisdiction: str | None) -> int:
    """Every rule with its citation, penalty, dates and number of tests."""
    from .audit import Context
    from .reporting.rules_doc import rule_catalog, render_catalog_text

    catalog = rule_catalog(Context.load(with_claims=False).library, jurisdiction)
    click.echo(json.dumps(catalog, indent=2, ensure_ascii=False) if fmt == "json" else render_catalog_text(catalog))
    return EXIT_OK


@rules.command("show")
@click.argument("rule_id")
def rules_show(rule_id: str) -> int:
    """Everything about one rule: law, penalty, logic, tests."""
    from .audit import Context
    from .reporting.rules_doc import render_rule

    library = Context.load(with_claims=False).library
    try:
        rule = library.rule(rule_id)
    except KeyError:
        import difflib

        import re

        ids = [r.id for r in library.rules()]
        padded = re.sub(r"-(\d)(?=$|[a-z-])", r"-0\1", rule_id.upper())  # CN-AD-1 -> CN-AD-01
        close = ([padded] if padded in ids else []) + difflib.get_close_matches(rule_id.upper(), ids, n=3)
        close = list(dict.fromkeys(close))[:3]
        raise click.UsageError(f"unknown rule {rule_id!r}" + (f"; did you mean {', '.join(close)}?" if close else ""))
    click.echo(render_rule(rule))
    return EXIT_OK


main.add_command(rules_show, "explain")


@rules.command("test")
@click.argument("rule_ids", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def rules_test(rule_ids: tuple[str, ...], fmt: str) -> int:
    """Run every rule's inline tests (fail and pass cases)."""
    from .audit import Context
    from .ruletest import run_rule_tests

    results = run_rule_tests(Context.load(), set(rule_ids) or None)
    failed = [r for r in results if not r.ok]
    if fmt == "json":
        click.echo(json.dumps([r.__dict__ for r in results], indent=2, ensure_ascii=False))
    else:
        for r in failed:
            click.echo(f"FAIL {r.rule} :: {r.name}: expected {r.expected}, got {r.got} ({r.detail})")
        rule_count = len({r.rule for r in results})
        click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed ({rule_count} rules)")
    return EXIT_FINDINGS if failed else EXIT_OK


@main.command()
@click.option("--market", "markets", multiple=True, required=True, help="Market code, repeatable: CN, DE, UK, US-CA ...")
@click.option("--name", default="My launch", help="Launch name.")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=Path("launch.yaml"), show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(markets: tuple[str, ...], name: str, output: Path, force: bool) -> int:
    """Write a commented starter launch.yaml for the markets you name."""
    from .loading.jurisdictions import load_jurisdictions
    from .reporting.atomic import write_text_atomic
    from .starter import starter_yaml

    jur = load_jurisdictions()
    for m in markets:
        if m.upper() not in jur.market_to_profile:
            raise click.BadParameter(f"unknown market {m!r}", param_hint="--market")
    if output.exists() and not force:
        raise click.UsageError(f"{output} exists; use --force to overwrite")
    write_text_atomic(output, starter_yaml(name, [m.upper() for m in markets]))
    click.echo(f"wrote {output}; next: compliance validate {output}")
    return EXIT_OK
