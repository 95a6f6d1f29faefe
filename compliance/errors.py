"""Errors a user can act on, each with a stable code and a source position.

Codes are stable so users can grep them (E1xx input, E2xx rule packs, E3xx engine, E4xx waivers/outputs).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Problem:
    code: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: str | None = None  # field path such as materials[2].text
    expected: str | None = None

    def render(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: [{self.code}] {self.message}"
        if self.path:
            text += f" (at {self.path})"
        if self.expected:
            text += f"; expected {self.expected}"
        return text


class ComplianceError(Exception):
    """Base for errors that end an audit with a clear message."""

    exit_code = 3

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__("\n".join(p.render() for p in self.problems))


class InputError(ComplianceError):
    """Bad input from the user: launch file, waivers, options. Exit 2."""

    exit_code = 2


class PackError(ComplianceError):
    """A rule pack or jurisdiction profile is broken. Loud, never skipped. Exit 2."""

    exit_code = 2


class EngineError(ComplianceError):
    """The engine could not finish an evaluation. Exit 3."""

    exit_code = 3
