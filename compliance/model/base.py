"""Shared pieces of the launch description model."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")]
Date = dt.date


class Strict(BaseModel):
    """Unknown fields are errors (with a did-you-mean from the loader); values are not coerced loosely."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
