"""Run the CLI in-process (one interpreter, one engine host), as a user would call it, with real exit codes."""
from __future__ import annotations

import subprocess
from pathlib import Path

from click.testing import CliRunner

from compliance.cli import main


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    runner = CliRunner()
    if cwd is not None:
        import os

        old = os.getcwd()
        os.chdir(cwd)
    try:
        result = runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        if cwd is not None:
            os.chdir(old)
    return subprocess.CompletedProcess(["compliance", *args], result.exit_code, result.stdout, result.stderr)
