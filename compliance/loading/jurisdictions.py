"""Jurisdiction profiles: which packs apply to a market, and what a market inherits (DE -> EU, US-CA -> US)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import PackError, Problem
from ..resources import data_dir
from .yamlsafe import load_yaml_file, render_path

GLOBAL = "GLOBAL"


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    name_zh: str | None = None
    includes: list[str] = []
    markets: list[str] = []
    languages: list[str] = []
    currency: str | None = None
    claims_jurisdiction: str | None = None
    packs: list[str] = []


@dataclass
class Jurisdictions:
    profiles: dict[str, Profile]
    market_to_profile: dict[str, str]

    def resolve_market(self, market: str) -> list[str]:
        """Market code -> its jurisdiction chain, most specific first (DE -> [DE, EU])."""
        code = market.strip().upper()
        if code not in self.market_to_profile:
            raise KeyError(code)
        chain: list[str] = []
        todo = [self.market_to_profile[code]]
        while todo:
            current = todo.pop(0)
            if current not in chain:
                chain.append(current)
                todo.extend(self.profiles[current].includes)
        return chain

    def known_markets(self) -> list[str]:
        return sorted(self.market_to_profile)

    def claims_jurisdiction(self, jurisdiction: str) -> str | None:
        return self.profiles[jurisdiction].claims_jurisdiction


def load_jurisdictions(directory: Path | None = None) -> Jurisdictions:
    directory = directory or data_dir("jurisdictions")
    profiles: dict[str, Profile] = {}
    market_to_profile: dict[str, str] = {}
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise PackError(Problem("E201", "no jurisdiction profiles found", str(directory), expected="jurisdictions/*.yaml"))
    for path in files:
        loaded = load_yaml_file(path)
        try:
            profile = Profile.model_validate(loaded.data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = tuple(err["loc"])
            raise PackError(Problem("E202", err["msg"], str(path), loaded.source.line_of(loc), path=render_path(loc))) from None
        if profile.id != path.stem:
            raise PackError(Problem("E203", f"profile id {profile.id!r} does not match file name", str(path), 1,
                                    expected=f"id: {path.stem}"))
        profiles[profile.id] = profile
    for profile in profiles.values():
        for parent in profile.includes:
            if parent not in profiles:
                raise PackError(Problem("E204", f"{profile.id} includes unknown jurisdiction {parent!r}",
                                        str(directory / f"{profile.id}.yaml")))
        for market in profile.markets:
            # A member state's own profile wins over the union's market list.
            if market not in market_to_profile or profile.id == market:
                market_to_profile[market] = profile.id
    return Jurisdictions(profiles, market_to_profile)
