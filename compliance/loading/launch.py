"""Load and validate a launch description: safe YAML, strict schema, errors at file:line with a did-you-mean."""
from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ..errors import InputError, Problem
from ..model.document import LaunchDescription
from .jurisdictions import Jurisdictions
from .yamlsafe import SourceMap, load_yaml_file, render_path

MAX_TEXT_FILE_BYTES = 5 * 1024 * 1024


@dataclass
class LoadedLaunch:
    doc: LaunchDescription
    source: SourceMap
    file: str
    sha256: str
    base_dir: Path
    raw_data: dict


def _model_at(loc: tuple, root_model: type[BaseModel] = LaunchDescription) -> type[BaseModel] | None:
    """The pydantic model that owns the field at `loc`, to suggest a close field name."""
    model: type[BaseModel] | None = root_model
    for part in loc[:-1]:
        if model is None or isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        if info is None:
            return None
        model = _inner_model(info.annotation)
    return model


def _inner_model(annotation) -> type[BaseModel] | None:
    from typing import get_args

    stack = [annotation]
    while stack:
        ann = stack.pop()
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            return ann
        stack.extend(get_args(ann))
    return None


def validation_problems(exc: ValidationError, file: str, source: SourceMap, root: tuple = (),
                        root_model: type[BaseModel] = LaunchDescription) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors():
        loc = root + tuple(p for p in err["loc"] if not (isinstance(p, str) and (p.startswith("function-") or p in ("str", "list[str]"))))
        code, msg, expected = "E120", err["msg"], None
        if err["type"] == "extra_forbidden":
            model = _model_at(loc[len(root):], root_model)
            options = sorted(model.model_fields) if model else []
            close = difflib.get_close_matches(str(loc[-1]), options, n=1)
            code = "E121"
            msg = f"unknown field {loc[-1]!r}" + (f"; did you mean {close[0]!r}?" if close else "")
            expected = f"one of: {', '.join(options)}" if options and not close else None
        elif err["type"] == "missing":
            code, msg = "E122", f"missing required field {loc[-1]!r}"
            expected = f"a value for {loc[-1]!r}"
        elif err["type"] == "literal_error":
            code = "E123"
            expected = err.get("ctx", {}).get("expected")
            msg = f"invalid value {err.get('input')!r}"
        elif "date" in err["type"]:
            code = "E124"
            msg = f"invalid date {err.get('input')!r}: {err['msg']}"
            expected = "a date YYYY-MM-DD"
        problems.append(Problem(code, msg, file, source.line_of(loc), path=render_path(loc), expected=expected))
    return problems


def parse_launch(data: object, source: SourceMap, file: str) -> LaunchDescription:
    if not isinstance(data, dict):
        raise InputError(Problem("E119", "the launch description must be a mapping", file, 1,
                                 expected="top-level keys such as launch, products, materials"))
    try:
        return LaunchDescription.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_problems(exc, file, source)) from None


def check_references(doc: LaunchDescription, source: SourceMap, file: str, jurisdictions: Jurisdictions) -> None:
    """Cross-field checks: known markets, unique ids, references to products, data items and assets."""
    problems: list[Problem] = []

    def bad(code: str, msg: str, loc: tuple, expected: str | None = None) -> None:
        problems.append(Problem(code, msg, file, source.line_of(loc), path=render_path(loc), expected=expected))

    known = jurisdictions.known_markets()

    def market_ok(market: str, loc: tuple) -> None:
        if market.upper() not in jurisdictions.market_to_profile:
            close = difflib.get_close_matches(market.upper(), known, n=1)
            bad("E130", f"unknown market {market!r}" + (f"; did you mean {close[0]!r}?" if close else ""), loc,
                "CN, EU, an EU member state code (DE, FR, ...), UK, US or US-<state>")

    for i, m in enumerate(doc.launch.markets):
        market_ok(m, ("launch", "markets", i))
    ids: dict[str, tuple] = {}

    def unique(kind: str, ident: str, loc: tuple) -> None:
        key = f"{kind}:{ident}"
        if key in ids:
            bad("E131", f"duplicate {kind} id {ident!r} (first on line {source.line_of(ids[key])})", loc, "unique ids")
        ids[key] = loc

    products = {p.id for p in doc.products}
    for i, p in enumerate(doc.products):
        unique("product", p.id, ("products", i, "id"))
    pd = doc.personal_data
    items = {x.id for x in pd.items} if pd else set()
    if pd:
        for section in ("items", "consents", "transfers", "processors", "cookies"):
            for i, x in enumerate(getattr(pd, section)):
                unique(section, x.id, ("personal_data", section, i, "id"))
        for i, c in enumerate(pd.consents):
            for j, ref in enumerate(c.covers):
                if ref not in items:
                    bad("E132", f"consent covers unknown data item {ref!r}", ("personal_data", "consents", i, "covers", j),
                        f"one of: {', '.join(sorted(items)) or '(no data items)'}")
        for i, t in enumerate(pd.transfers):
            for j, ref in enumerate(t.data_items):
                if ref not in items:
                    bad("E132", f"transfer names unknown data item {ref!r}", ("personal_data", "transfers", i, "data_items", j))
    assets = {a.id for a in doc.ip.assets} if doc.ip else set()
    for i, m in enumerate(doc.materials):
        unique("material", m.id, ("materials", i, "id"))
        if m.product and m.product not in products:
            bad("E133", f"material names unknown product {m.product!r}", ("materials", i, "product"),
                f"one of: {', '.join(sorted(products)) or '(no products)'}")
        for market in ([m.market] if isinstance(m.market, str) else m.market or []):
            market_ok(market, ("materials", i, "market"))
        for j, a in enumerate(m.assets):
            if a not in assets:
                bad("E134", f"material uses unknown asset {a!r}", ("materials", i, "assets", j))
    if doc.commerce:
        for i, p in enumerate(doc.commerce.prices):
            unique("price", p.id, ("commerce", "prices", i, "id"))
            if p.market:
                market_ok(p.market, ("commerce", "prices", i, "market"))
        for i, s in enumerate(doc.commerce.subscriptions):
            unique("subscription", s.id, ("commerce", "subscriptions", i, "id"))
    if doc.ip:
        for i, tm in enumerate(doc.ip.trademarks):
            unique("trademark", tm.id, ("ip", "trademarks", i, "id"))
            for j, reg in enumerate(tm.registrations):
                market_ok(reg.market, ("ip", "trademarks", i, "registrations", j, "market"))
            for j, market in enumerate(tm.used_in):
                market_ok(market, ("ip", "trademarks", i, "used_in", j))
        for i, a in enumerate(doc.ip.assets):
            unique("asset", a.id, ("ip", "assets", i, "id"))
            for j, market in enumerate(a.used_in):
                market_ok(market, ("ip", "assets", i, "used_in", j))
    if doc.readiness:
        for section in ("goals", "equipment", "backups", "training", "emergency_plans", "action_items"):
            for i, x in enumerate(getattr(doc.readiness, section)):
                unique(section, x.id, ("readiness", section, i, "id"))
    if problems:
        raise InputError(problems)


def load_launch(path: Path, jurisdictions: Jurisdictions) -> LoadedLaunch:
    display = str(path)
    loaded = load_yaml_file(path, display)
    doc = parse_launch(loaded.data, loaded.source, display)
    check_references(doc, loaded.source, display, jurisdictions)
    return LoadedLaunch(doc, loaded.source, display, hashlib.sha256(loaded.raw).hexdigest(), path.resolve().parent, loaded.data)


def load_launch_data(data: dict, jurisdictions: Jurisdictions, file: str = "<inline>") -> LoadedLaunch:
    """A launch given as data (rule inline tests): same validation, positions unknown."""
    source = SourceMap(file)
    doc = parse_launch(data, source, file)
    check_references(doc, source, file, jurisdictions)
    return LoadedLaunch(doc, source, file, "", Path.cwd(), data)


def read_material_text(base_dir: Path, relative: str, file: str, source: SourceMap, loc: tuple) -> str:
    """Read a text_file reference; it must stay inside the launch file's folder and be UTF-8."""
    from .yamlsafe import decode_text

    def bad(msg: str, expected: str) -> InputError:
        return InputError(Problem("E140", msg, file, source.line_of(loc), path=render_path(loc), expected=expected))

    target = (base_dir / relative)
    if target.is_symlink():
        raise bad(f"text_file {relative!r} is a symbolic link", "a regular file inside the launch file's folder")
    resolved = target.resolve()
    if not resolved.is_relative_to(base_dir.resolve()):
        raise bad(f"text_file {relative!r} points outside the launch file's folder", "a path inside the launch file's folder")
    if not resolved.is_file():
        raise bad(f"text_file {relative!r} not found", "an existing .txt, .md or .html file")
    if resolved.stat().st_size > MAX_TEXT_FILE_BYTES:
        raise bad(f"text_file {relative!r} is larger than {MAX_TEXT_FILE_BYTES // (1024 * 1024)} MiB", "a smaller file")
    return decode_text(resolved.read_bytes(), str(target), "text")
