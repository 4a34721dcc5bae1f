"""The indicator catalogue as the reports show it: the warehouse's table, else the YAML file, else the ids."""

from __future__ import annotations

import duckdb
import pandas as pd

import ims_indicators.report.privacy as privacy
from ims_indicators.report.read import read, with_columns


def catalogue_frame(con: duckdb.DuckDBPyConnection, values: pd.DataFrame) -> pd.DataFrame:
    cat = read(con, "marts.indicator_catalogue")
    if cat is None or cat.empty:
        try:  # the YAML the indicator stage reads
            from ims_indicators.indicators.catalogue import load_catalogue

            c = load_catalogue()
            cat = pd.DataFrame([{"indicator_id": i.id, "name": i.name, "dimension": i.dimension, "unit": i.unit,
                                 "direction": i.direction, "definition": i.definition, "position": n,
                                 "datasets": list(i.datasets)}
                                for n, i in enumerate(c.indicators)])
        except Exception:  # noqa: BLE001 - no catalogue at all: fall back to the ids in the data
            cat = pd.DataFrame({"indicator_id": sorted(set(values["indicator_id"].astype(str)))})
    cat = with_columns(cat, {"name": None, "dimension": "other", "unit": "", "direction": "higher", "definition": "",
                        "position": None, "datasets": None})
    cat["name"] = [n if isinstance(n, str) and n else i for n, i in zip(cat["name"], cat["indicator_id"])]
    cat["dimension"] = cat["dimension"].fillna("other").astype(str)
    cat["unit"] = cat["unit"].fillna("").astype(str)
    cat["direction"] = cat["direction"].fillna("higher").astype(str)
    cat["definition"] = cat["definition"].fillna("").astype(str)
    if cat["position"].isna().all():
        cat["position"] = range(len(cat))
    cat["people"] = [privacy.about_people(d, u) for d, u in zip(cat["datasets"], cat["unit"])]
    extra = sorted(set(values["indicator_id"].astype(str)) - set(cat["indicator_id"].astype(str)))
    if extra:  # values of indicators the catalogue no longer lists: still shown, under "other"
        cat = pd.concat([cat, pd.DataFrame({"indicator_id": extra, "name": extra, "dimension": "other", "unit": "",
                                            "direction": "higher", "definition": "", "people": True,
                                            "position": [10_000 + n for n in range(len(extra))]})],
                        ignore_index=True)
    return cat.sort_values("position", kind="stable").reset_index(drop=True)[
        ["indicator_id", "name", "dimension", "unit", "direction", "definition", "people", "position"]]
