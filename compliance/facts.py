"""Turn a launch description into flat facts: the only thing rules ever see.

A fact is a flat mapping of scalars and lists of scalars with a `kind` and a `ref` (its id in the
description). Nested objects are flattened with a prefix (company_name), dates become YYYYMMDD integers
with a derived `<field>_days_before_launch`, and subjects that run in markets carry `jurisdictions`.
Sections that are absent still give their singleton fact, so rules about them end in needs_info.
"""
from __future__ import annotations

import datetime as dt
import types
from dataclasses import dataclass, field
from typing import Any, Iterable, Union, get_args, get_origin

from pydantic import BaseModel

from .engine.conditions import normalise_value
from .engine.model import Fact
from .loading.jurisdictions import Jurisdictions
from .model.document import LaunchDescription
from .model import launch as L
from .model import readiness as R

DATE_SUFFIX = "_days_before_launch"


@dataclass
class FactMeta:
    path: tuple  # field path in the launch description
    label: str   # what a reviewer calls it: "material m1", "data item d2"


@dataclass
class FactSet:
    facts: list[Fact] = field(default_factory=list)
    meta: dict[tuple[str, str], FactMeta] = field(default_factory=dict)
    by_key: dict[tuple[str, str], Fact] = field(default_factory=dict)

    def add(self, fact: Fact, path: tuple, label: str) -> None:
        key = (fact["kind"], fact["ref"])
        if key in self.meta:
            raise ValueError(f"duplicate {fact['kind']} id {fact['ref']!r}")
        self.facts.append(fact)
        self.meta[key] = FactMeta(path, label)
        self.by_key[key] = fact

    def get(self, kind: str, ref: str) -> Fact:
        return self.by_key[(kind, ref)]

    def of_kind(self, kind: str) -> list[Fact]:
        return [f for f in self.facts if f["kind"] == kind]


def _flatten(model: BaseModel | None, prefix: str, out: dict, launch_date: int | None) -> None:
    if model is None:
        return
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            _flatten(value, f"{key}_", out, launch_date)
        elif isinstance(value, list):
            if value and isinstance(value[0], BaseModel):
                continue  # lists of objects become facts of their own kind
            out[key] = [normalise_value(v) for v in value]
        elif isinstance(value, dict):
            for k, v in value.items():
                out[f"{key}_{str(k).lower().replace('-', '_')}"] = normalise_value(v)
        elif value is not None:
            out[key] = normalise_value(value)
            if isinstance(value, dt.date) and launch_date is not None:
                out[key + DATE_SUFFIX] = (_as_date(launch_date) - value).days


def _as_date(stamp: int) -> dt.date:
    return dt.date(stamp // 10000, stamp // 100 % 100, stamp % 100)


class FactBuilder:
    def __init__(self, doc: LaunchDescription, jurisdictions: Jurisdictions):
        self.doc = doc
        self.jur = jurisdictions
        self.launch_date = normalise_value(doc.launch.launch_date) if doc.launch.launch_date else None
        self.launch_jurisdictions = self._jurisdictions_of(doc.launch.markets)
        self.out = FactSet()

    def _jurisdictions_of(self, markets: Iterable[str]) -> list[str]:
        chain: list[str] = []
        for market in markets:
            for j in self.jur.resolve_market(market):
                if j not in chain:
                    chain.append(j)
        return chain

    def _market_fields(self, markets: list[str] | None) -> dict:
        markets = [m.upper() for m in markets] if markets else [m.upper() for m in self.doc.launch.markets]
        return {"markets": markets, "jurisdictions": self._jurisdictions_of(markets)}

    def _fact(self, kind: str, ref: str, model: BaseModel | None, path: tuple, label: str, **extra: Any) -> Fact:
        fact: Fact = {"kind": kind, "ref": ref}
        _flatten(model, "", fact, self.launch_date)
        for key, value in extra.items():
            if value is not None:
                fact[key] = normalise_value(value)
        fact.pop("id", None)
        self.out.add(fact, path, label)
        return fact

    def build(self) -> FactSet:
        d = self.doc
        launch = self._fact("launch", "launch", d.launch, ("launch",), "the launch",
                            jurisdictions=self.launch_jurisdictions,
                            product_categories=sorted({p.category for p in d.products}),
                            has_materials=bool(d.materials), has_products=bool(d.products))
        launch["markets"] = [m.upper() for m in d.launch.markets]
        for i, p in enumerate(d.products):
            self._fact("product", p.id, p, ("products", i), f"product {p.id}")
        pd = d.personal_data or L.PersonalData()
        self._fact("privacy", "privacy", pd, ("personal_data",), "personal data processing",
                   item_count=len(pd.items), sensitive_item_count=sum(1 for x in pd.items if x.sensitive),
                   special_item_count=sum(1 for x in pd.items if x.special_category))
        for kind, items, section in (("data_item", pd.items, "items"), ("consent", pd.consents, "consents"),
                                     ("transfer", pd.transfers, "transfers"), ("processor", pd.processors, "processors"),
                                     ("cookie", pd.cookies, "cookies")):
            for i, item in enumerate(items):
                self._fact(kind, item.id, item, ("personal_data", section, i), f"{kind.replace('_', ' ')} {item.id}")
        self._materials()
        for i, s in enumerate(d.substantiation):
            self._fact("substantiation", f"s{i + 1}", s, ("substantiation", i), f"substantiation {i + 1}")
        self._commerce()
        self._ip()
        self._tax()
        self._readiness()
        return self.out

    def _materials(self) -> None:
        products = {p.id: p for p in self.doc.products}
        for i, m in enumerate(self.doc.materials):
            markets = [m.market] if isinstance(m.market, str) else m.market
            product = products.get(m.product) if m.product else None
            self._fact("material", m.id, m, ("materials", i), f"material {m.id}", **self._market_fields(markets),
                       product_category=product.category if product else None,
                       has_text=bool(m.text or m.text_file), endorsement_count=len(m.endorsements))
            for j, e in enumerate(m.endorsements):
                self._fact("endorsement", f"{m.id}#e{j + 1}", e, ("materials", i, "endorsements", j),
                           f"endorsement {j + 1} in material {m.id}", material=m.id, **self._market_fields(markets))

    def _commerce(self) -> None:
        c = self.doc.commerce or L.Commerce()
        self._fact("commerce", "commerce", c, ("commerce",), "e-commerce setup")
        for kind, model_cls in (("seller", L.Seller), ("returns", L.Returns), ("reviews", L.Reviews), ("checkout", L.Checkout)):
            self._fact(kind, kind, getattr(c, kind) or model_cls(), ("commerce", kind), kind.replace("_", " "))
        for i, p in enumerate(c.prices):
            extra = self._market_fields([p.market] if p.market else None)
            if p.reference_price is not None and p.price is not None:
                extra["discount_pct"] = round(100 * (p.reference_price - p.price) / p.reference_price, 2) if p.reference_price else None
                for window in ("30", "7", "90"):
                    lowest = getattr(p, f"lowest_price_{window}_days")
                    if lowest is not None:
                        extra[f"reference_above_lowest_{window}_days"] = p.reference_price > lowest
            self._fact("price", p.id, p, ("commerce", "prices", i), f"price {p.id}", **extra)
        for i, s in enumerate(c.subscriptions):
            self._fact("subscription", s.id, s, ("commerce", "subscriptions", i), f"subscription {s.id}")

    def _ip(self) -> None:
        ip = self.doc.ip or L.IntellectualProperty()
        self._fact("ip", "ip", ip, ("ip",), "intellectual property")
        for i, tm in enumerate(ip.trademarks):
            self._fact("trademark", tm.id, tm, ("ip", "trademarks", i), f"trademark {tm.mark}")
            for j, reg in enumerate(tm.registrations):
                self._fact("tm_registration", f"{tm.id}@{reg.market.upper()}#{j + 1}", reg, ("ip", "trademarks", i, "registrations", j),
                           f"registration of {tm.mark} in {reg.market}", trademark=tm.id,
                           jurisdictions=self._jurisdictions_of([reg.market]), market=reg.market.upper())
            for market in (tm.used_in or self.doc.launch.markets):
                fields = self._market_fields([market])
                self._fact("tm_use", f"{tm.id}@{market.upper()}", None, ("ip", "trademarks", i), f"use of {tm.mark} in {market}",
                           trademark=tm.id, mark=tm.mark, market=market.upper(), jurisdictions=fields["jurisdictions"],
                           uses_registered_symbol=tm.uses_registered_symbol)
        for i, a in enumerate(ip.assets):
            self._fact("asset", a.id, a, ("ip", "assets", i), f"asset {a.id}")
            territories = {t.upper() for t in (a.licence.territories if a.licence else [])}
            for market in (a.used_in or self.doc.launch.markets):
                fields = self._market_fields([market])
                covers = None
                if territories:
                    covers = "WORLDWIDE" in territories or market.upper() in territories or any(
                        j in territories for j in fields["jurisdictions"])
                lic = a.licence
                self._fact("asset_use", f"{a.id}@{market.upper()}", None, ("ip", "assets", i), f"use of asset {a.id} in {market}",
                           asset=a.id, market=market.upper(), jurisdictions=fields["jurisdictions"],
                           licence_type=lic.type if lic else None, licence_covers_market=covers,
                           licence_expires=lic.expires if lic else None,
                           licence_expires_days_before_launch=(_as_date(self.launch_date) - lic.expires).days
                           if lic and lic.expires and self.launch_date else None,
                           commercial_use=lic.commercial_use if lic else None, ai_generated=a.ai_generated,
                           depicts_real_person=a.depicts_real_person, release_obtained=a.release_obtained)

    def _tax(self) -> None:
        t = self.doc.tax or L.Tax()
        self._fact("tax", "tax", t, ("tax",), "tax setup")
        for i, r in enumerate(t.registrations):
            self._fact("tax_registration", f"{r.market.upper()}-{r.type}", r, ("tax", "registrations", i),
                       f"{r.type} registration in {r.market}", jurisdictions=self._jurisdictions_of([r.market]))

    def _readiness(self) -> None:
        r = self.doc.readiness or R.Readiness()
        self._fact("readiness", "readiness", None, ("readiness",), "launch readiness",
                   goal_count=len(r.goals), equipment_count=len(r.equipment), backup_count=len(r.backups),
                   training_count=len(r.training), plan_count=len(r.emergency_plans),
                   goal_horizons=sorted({g.horizon for g in r.goals}),
                   plan_scenarios=sorted({p.scenario for p in r.emergency_plans}),
                   open_action_items=sum(1 for a in r.action_items if a.status != "done"))
        for kind, model_cls in (("power", R.Power), ("marketing", R.Marketing), ("content", R.Content),
                                ("legal_review", R.LegalReview), ("general", R.General)):
            attr = "legal" if kind == "legal_review" else kind
            self._fact(kind, kind, getattr(r, attr) or model_cls(), ("readiness", attr), kind.replace("_", " "))
        legal = r.legal or R.LegalReview()
        for kind, items, section in (("goal", r.goals, "goals"), ("equipment", r.equipment, "equipment"),
                                     ("backup", r.backups, "backups"), ("training", r.training, "training"),
                                     ("emergency_plan", r.emergency_plans, "emergency_plans"),
                                     ("action_item", r.action_items, "action_items")):
            for i, item in enumerate(items):
                self._fact(kind, item.id, item, ("readiness", section, i), f"{kind.replace('_', ' ')} {item.id}")
        covered = {m.upper() for m in legal.markets_covered}
        for market in self.doc.launch.markets:
            self._fact("market", market.upper(), None, ("launch", "markets"), f"market {market}",
                       jurisdictions=self._market_fields([market])["jurisdictions"], legal_review_covers=market.upper() in covered)


def build_facts(doc: LaunchDescription, jurisdictions: Jurisdictions) -> FactSet:
    return FactBuilder(doc, jurisdictions).build()


# -- the fields each kind has, for validating rule packs --------------------------------------------------
DATE_FIELDS: set[str] = {"licence_expires"}  # fields holding YYYYMMDD dates, to show them as dates


def display_value(name: str, value: Any) -> Any:
    """A fact value as a reviewer reads it: dates as YYYY-MM-DD, lists joined."""
    if name in DATE_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return f"{value // 10000:04d}-{value // 100 % 100:02d}-{value % 100:02d}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return value


def _model_fields(model_cls: type[BaseModel], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for name, info in model_cls.model_fields.items():
        ann = info.annotation
        # unwrap Optional/unions only: get_args(dict[str, int]) would otherwise yield (str, int)
        is_union = get_origin(ann) in (Union, types.UnionType)
        inner = [a for a in get_args(ann) if a is not type(None)] if is_union else [ann]
        target = inner[0] if inner else ann
        if isinstance(target, type) and issubclass(target, BaseModel):
            out |= _model_fields(target, f"{prefix}{name}_")
            continue
        if get_origin(target) is list and get_args(target) and isinstance(get_args(target)[0], type) \
                and issubclass(get_args(target)[0], BaseModel):
            continue
        if get_origin(target) is dict:
            out.add(prefix + name + "_*")  # flattened per key: expected_users_cn
            continue
        out.add(prefix + name)
        if "datetime.date" in repr(ann):
            out.add(prefix + name + DATE_SUFFIX)
            DATE_FIELDS.add(prefix + name)
    out.discard("id")
    return out


def has_field(kind: str, name: str) -> bool:
    fields = FACT_FIELDS.get(kind, set())
    return name in fields or any(f.endswith("_*") and name.startswith(f[:-1]) for f in fields)


_MARKET = {"markets", "jurisdictions"}
FACT_FIELDS: dict[str, set[str]] = {
    "launch": _model_fields(L.Launch) | {"jurisdictions", "product_categories", "has_materials", "has_products"},
    "product": _model_fields(L.Product),
    "privacy": _model_fields(L.PersonalData) | {"item_count", "sensitive_item_count", "special_item_count"},
    "data_item": _model_fields(L.DataItem), "consent": _model_fields(L.Consent),
    "transfer": _model_fields(L.Transfer), "processor": _model_fields(L.Processor), "cookie": _model_fields(L.Cookie),
    "material": _model_fields(L.Material) | _MARKET | {"product_category", "has_text", "endorsement_count", "claims_scanned"},
    "endorsement": _model_fields(L.Endorsement) | _MARKET | {"material"},
    "substantiation": _model_fields(L.Substantiation),
    "commerce": _model_fields(L.Commerce), "seller": _model_fields(L.Seller), "returns": _model_fields(L.Returns),
    "reviews": _model_fields(L.Reviews), "checkout": _model_fields(L.Checkout),
    "price": _model_fields(L.Price) | _MARKET | {"discount_pct", "reference_above_lowest_30_days",
                                                  "reference_above_lowest_7_days", "reference_above_lowest_90_days"},
    "subscription": _model_fields(L.Subscription),
    "ip": _model_fields(L.IntellectualProperty), "trademark": _model_fields(L.Trademark),
    "tm_registration": _model_fields(L.Registration) | {"trademark", "jurisdictions"},
    "tm_use": {"trademark", "mark", "market", "jurisdictions", "uses_registered_symbol"},
    "asset": _model_fields(L.Asset),
    "asset_use": {"asset", "market", "jurisdictions", "licence_type", "licence_covers_market", "licence_expires",
                  "licence_expires" + DATE_SUFFIX, "commercial_use", "ai_generated", "depicts_real_person", "release_obtained"},
    "tax": _model_fields(L.Tax), "tax_registration": _model_fields(L.TaxRegistration) | {"jurisdictions"},
    "readiness": {"goal_count", "equipment_count", "backup_count", "training_count", "plan_count", "goal_horizons",
                  "plan_scenarios", "open_action_items"},
    "power": _model_fields(R.Power), "marketing": _model_fields(R.Marketing), "content": _model_fields(R.Content),
    "legal_review": _model_fields(R.LegalReview), "general": _model_fields(R.General),
    "goal": _model_fields(R.Goal), "equipment": _model_fields(R.Equipment), "backup": _model_fields(R.Backup),
    "training": _model_fields(R.Training), "emergency_plan": _model_fields(R.EmergencyPlan),
    "action_item": _model_fields(R.ActionItem), "market": {"jurisdictions", "legal_review_covers"},
    # claim facts come from the ad-claim detector (compliance.nlp)
    "claim": {"material", "product", "product_category", "market", "jurisdictions", "channel", "lang", "category",
              "severity", "text", "rule", "exception", "context", "substantiated", "evidence", "start", "end", "line", "column"},
}
