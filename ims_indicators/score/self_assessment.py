"""The self-assessment items (``catalogue/self_assessment.yaml``) and how an answer scores on 0..1.

The label's "Autonomy and accountability" dimension is computed from these item scores: each scored item
is an indicator of the model (``sa_*``). Rules: ``yes_no`` 1 / 0; ``share`` ``min(share / target, 1)``;
``scale_1_4`` ``(answer - 1) / 3``; ``text`` is evidence, never scored. An answer that does not read as
its type scores as missing (the model then imputes the worst value).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field

from ims_indicators.score.model import ModelError
from ims_indicators.warehouse import table_exists

YES = {"yes", "y", "ja", "oui", "si", "sì", "tak", "true", "1"}
NO = {"no", "n", "nein", "non", "nie", "false", "0"}


class Scoring(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: Literal["yes_no", "share_to_target", "scale_1_4", "none"]
    target: float | None = Field(None, gt=0, le=1)


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    dimension: str
    question: str
    answer_type: Literal["yes_no", "share", "scale_1_4", "text"]
    scoring: Scoring
    source: str
    levels: dict[int, str] | None = None

    @property
    def scored(self) -> bool:
        return self.answer_type != "text"


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str
    dimension: str
    items: list[Item]

    def scored_ids(self) -> list[str]:
        return [i.id for i in self.items if i.scored]


def catalogue_file() -> Path:
    from ims_indicators import settings

    return settings.catalogue_path().with_name("self_assessment.yaml")


@cache
def _load(path: str, mtime: float) -> Catalogue:
    try:
        cat = Catalogue.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ModelError(f"{path}: not a valid self-assessment catalogue ({exc})") from None
    for item in cat.items:
        expected = {"yes_no": "yes_no", "share": "share_to_target", "scale_1_4": "scale_1_4", "text": "none"}
        if item.scoring.rule != expected[item.answer_type]:
            raise ModelError(f"{path}: item {item.id}: answer type {item.answer_type} needs scoring rule "
                             f"{expected[item.answer_type]}, found {item.scoring.rule}")
        if item.answer_type == "share" and item.scoring.target is None:
            raise ModelError(f"{path}: item {item.id}: a share needs scoring.target")
    return cat


def load_catalogue(path: Path | None = None) -> Catalogue:
    p = Path(path or catalogue_file())
    if not p.is_file():
        raise ModelError(f"{p}: self-assessment catalogue not found")
    return _load(str(p), p.stat().st_mtime)


_NUMBER = re.compile(r"^\s*([-+]?\d+(?:[.,]\d+)?)\s*(%?)\s*$")


def score_answer(item: Item, answer: object) -> float | None:
    """The item's score on 0..1 for one answer as sent; None when unscored or unreadable."""
    if not item.scored or answer is None or (isinstance(answer, float) and pd.isna(answer)):
        return None
    text = str(answer).strip().lower()
    if item.answer_type == "yes_no":
        return 1.0 if text in YES else 0.0 if text in NO else None
    m = _NUMBER.match(text)
    if not m:
        return None
    value = float(m.group(1).replace(",", "."))
    if item.answer_type == "share":
        share = value / 100 if m.group(2) else value
        if not 0 <= share <= 1:
            return None
        return min(share / float(item.scoring.target), 1.0)  # type: ignore[arg-type]
    if value not in (1, 2, 3, 4):
        return None
    return (value - 1) / 3


def item_values(con: duckdb.DuckDBPyConnection, year: str | None = None,
                catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Scored items as long indicator values (school_id, academic_year, indicator_id, value) from
    ``curated.self_assessment``; empty when the table does not exist or holds nothing."""
    from ims_indicators.warehouse import sql_text

    cols = ["school_id", "academic_year", "indicator_id", "value"]
    if not table_exists(con, "curated.self_assessment"):
        return pd.DataFrame(columns=cols)
    rows = con.execute(sql_text("ims_indicators.score", "self_assessment.sql"), {"year": year}).fetchall()
    if not rows:
        return pd.DataFrame(columns=cols)
    cat = catalogue or load_catalogue()
    items = {i.id: i for i in cat.items if i.scored}
    out = [(s, y, i, score_answer(items[i], a)) for s, y, i, a in rows if i in items]
    return pd.DataFrame(out, columns=cols).astype({"value": float})
