"""The whole launch description file."""
from __future__ import annotations

from pydantic import Field

from .base import Strict
from .launch import (Commerce, IntellectualProperty, Launch, Material, PersonalData, Product, Substantiation, Tax)
from .readiness import Readiness

SCHEMA_VERSION = "1"


class LaunchDescription(Strict):
    schema_version: str = Field(SCHEMA_VERSION, description="Version of this file format")
    launch: Launch
    products: list[Product] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    personal_data: PersonalData | None = None
    materials: list[Material] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    substantiation: list[Substantiation] = Field(default_factory=list)  # a factory: pydantic deep-copies a literal [] per model
    commerce: Commerce | None = None
    ip: IntellectualProperty | None = None
    tax: Tax | None = None
    readiness: Readiness | None = None


def json_schema() -> dict:
    schema = LaunchDescription.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "launch-compliance launch description"
    return schema
