"""Peer sets (``catalogue/peer_sets.yaml``): the network, a country, a region, a size class or a list."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ims_indicators import settings
from ims_indicators.indicators.catalogue import IndicatorError

_ID = r"^[a-z][a-z0-9_-]{0,62}$"


class PeerSetError(IndicatorError):
    """The peer-set file is invalid; the message names the entry and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(_Strict):
    name: str
    countries: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _iso(self) -> Region:
        bad = [c for c in self.countries if not (len(c) == 2 and c.isalpha() and c.isupper())]
        if bad:
            raise ValueError(f"countries: expected ISO 3166-1 alpha-2 codes such as DE; got {bad}")
        return self


class SizeClass(_Strict):
    """Students enrolled in the year (all programme levels): min inclusive, max exclusive."""

    id: str = Field(pattern=_ID)
    name: str
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, gt=0)


class PeerSet(_Strict):
    id: str = Field(pattern=_ID)
    kind: Literal["network", "country", "region", "size_class", "list"]
    name: str
    schools: list[str] = []

    @model_validator(mode="after")
    def _schools(self) -> PeerSet:
        if self.kind == "list" and not self.schools:
            raise ValueError("schools: a list peer set needs at least one school id")
        if self.kind != "list" and self.schools:
            raise ValueError(f"schools: only a list peer set names schools (this one is {self.kind})")
        return self


class PeerSets(_Strict):
    regions: dict[str, Region] = {}
    size_classes: list[SizeClass] = []
    peer_sets: list[PeerSet] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> PeerSets:
        ids = [p.id for p in self.peer_sets]
        if len(ids) != len(set(ids)):
            raise ValueError(f"peer_sets: ids used twice: {sorted({i for i in ids if ids.count(i) > 1})}")
        kinds = {p.kind for p in self.peer_sets}
        if "region" in kinds and not self.regions:
            raise ValueError("regions: a region peer set needs regions")
        if "size_class" in kinds and not self.size_classes:
            raise ValueError("size_classes: a size_class peer set needs size classes")
        seen: dict[str, str] = {}
        for rid, region in self.regions.items():
            for c in region.countries:
                if c in seen:
                    raise ValueError(f"regions.{rid}.countries: {c} is already in region {seen[c]}")
                seen[c] = rid
        bounds = sorted((s.min or 0, s.max if s.max is not None else float("inf"), s.id) for s in self.size_classes)
        for (lo, hi, sid) in bounds:
            if hi <= lo:
                raise ValueError(f"size_classes.{sid}: max must be above min")
        for (_, hi, a), (lo, _, b) in pairwise(bounds):
            if lo < hi:
                raise ValueError(f"size_classes: {a} and {b} overlap")
        return self


def load_peer_sets(path: Path | str | None = None) -> PeerSets:
    path = Path(path or settings.peer_sets_path())
    if not path.is_file():
        raise PeerSetError(f"{path}: peer-set file not found (set IMS_PEER_SETS or IMS_HOME)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return PeerSets.model_validate(data)
    except yaml.YAMLError as exc:
        raise PeerSetError(f"{path}: not valid YAML ({exc})") from None
    except ValidationError as exc:
        parts = []
        for e in exc.errors():
            loc = [str(p) for p in e["loc"]]
            if loc[:1] == ["peer_sets"] and len(loc) > 1 and loc[1].isdigit() and isinstance(data, dict):
                entry = (data.get("peer_sets") or [{}])[int(loc[1])]
                ident = entry.get("id") if isinstance(entry, dict) else None
                loc = [f"peer set {ident or '#' + str(int(loc[1]) + 1)}", *loc[2:]]
                where = loc[0] + (": " + ".".join(loc[1:]) if loc[1:] else "")
            else:
                where = ".".join(loc) or "(file)"
            msg = "missing (required)" if e["type"] == "missing" else e["msg"].removeprefix("Value error, ")
            if e["type"] in ("string_type", "int_type", "literal_error"):
                msg += f"; got {e.get('input')!r}" + (" (quote it: YAML reads NO, YES, ON, OFF as booleans)"
                                                     if isinstance(e.get("input"), bool) else "")
            parts.append(f"{where}: {msg}")
        raise PeerSetError(f"{path}: {'; '.join(parts)}") from None
