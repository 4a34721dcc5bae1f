"""The indicator catalogue as the reports show it: the warehouse's table, else the YAML file, else the ids;
with the rule that places each indicator in a group (:func:`rule_text`) and the benchmark parameters."""

from __future__ import annotations

import duckdb
import pandas as pd

from ims_indicators.indicators.catalogue import Benchmark, CatalogueError, load_catalogue

import ims_indicators.report.privacy as privacy
from ims_indicators.report.read import read, with_columns


def catalogue_frame(con: duckdb.DuckDBPyConnection, values: pd.DataFrame) -> pd.DataFrame:
    cat = read(con, "marts.indicator_catalogue")
    if cat is None or cat.empty:
        try:  # the YAML the indicator stage reads
            c = load_catalogue()
            cat = pd.DataFrame([{"indicator_id": i.id, "name": i.name, "dimension": i.dimension, "unit": i.unit,
                                 "direction": i.direction, "definition": i.definition, "position": n,
                                 "datasets": list(i.datasets), "groups": i.groups,
                                 "cutoff_top": i.cutoffs.top if i.cutoffs else None,
                                 "cutoff_bottom": i.cutoffs.bottom if i.cutoffs else None, "group_note": i.group_note}
                                for n, i in enumerate(c.indicators)])
        except Exception:  # noqa: BLE001 - no catalogue at all: fall back to the ids in the data
            cat = pd.DataFrame({"indicator_id": sorted(set(values["indicator_id"].astype(str)))})
    cat = with_columns(cat, {"name": None, "dimension": "other", "unit": "", "direction": "higher", "definition": "",
                        "position": None, "datasets": None, "groups": "quartile", "cutoff_top": None,
                        "cutoff_bottom": None, "group_note": None})
    cat["name"] = [n if isinstance(n, str) and n else i for n, i in zip(cat["name"], cat["indicator_id"])]
    cat["dimension"] = cat["dimension"].fillna("other").astype(str)
    cat["unit"] = cat["unit"].fillna("").astype(str)
    cat["direction"] = cat["direction"].fillna("higher").astype(str)
    cat["definition"] = cat["definition"].fillna("").astype(str)
    if cat["position"].isna().all():
        cat["position"] = range(len(cat))
    cat["groups"] = cat["groups"].fillna("quartile").astype(str)
    cat["people"] = [privacy.about_people(d, u) for d, u in zip(cat["datasets"], cat["unit"])]
    bench = benchmark_rules()
    cat["rule_text"] = [rule_text(r, bench) for r in cat.to_dict("records")]
    extra = sorted(set(values["indicator_id"].astype(str)) - set(cat["indicator_id"].astype(str)))
    if extra:  # values of indicators the catalogue no longer lists: still shown, under "other"
        cat = pd.concat([cat, pd.DataFrame({"indicator_id": extra, "name": extra, "dimension": "other", "unit": "",
                                            "direction": "higher", "definition": "", "people": True,
                                            "groups": "quartile", "rule_text": "no catalogue entry",
                                            "position": [10_000 + n for n in range(len(extra))]})],
                        ignore_index=True)
    return cat.sort_values("position", kind="stable").reset_index(drop=True)[
        ["indicator_id", "name", "dimension", "unit", "direction", "definition", "people", "groups", "rule_text",
         "position"]]


def benchmark_rules() -> Benchmark:
    """The catalogue's benchmark parameters (its defaults if the file cannot be read)."""
    try:
        return load_catalogue().benchmark
    except CatalogueError:
        return Benchmark()


def _pct(x: float) -> str:
    return f"{100 * x:g} %"


def rule_text(ind: dict, bench: Benchmark) -> str:
    """Which rule places an indicator in a group, in words (legend, tables and the definitions page)."""
    rule = ind.get("groups") or "quartile"
    if rule == "quartile":
        u = bench.ume_cutoffs
        return (f"quartile groups (CHE): top = best {_pct(bench.che_top_share)}, bottom = worst "
                f"{_pct(bench.che_bottom_share)} of the peer values; near-equal values (within "
                f"{_pct(bench.boundary_tolerance)} of the peer range) share the better group and a crowded boundary "
                f"moves to the nearest clear gap (top and bottom each {_pct(bench.group_share_min)}–"
                f"{_pct(bench.group_share_max)}); A–E by distance d to the peer median: A ≥ {u.A:+g}, B ≥ {u.B:+g}, "
                f"C ≥ {u.C:+g}, D ≥ {u.D:+g}, else E, only with {bench.ume_min_peer_values} or more peer values")
    if rule == "fixed":
        lower = ind.get("direction") == "lower"
        top, bottom = ind.get("cutoff_top"), ind.get("cutoff_bottom")
        share = ind.get("unit") == "share"
        f = (lambda v: _pct(float(v))) if share else (lambda v: f"{float(v):g}")
        if top is None or bottom is None or pd.isna(top) or pd.isna(bottom):
            return "fixed cut-offs (CHE rating procedure)"
        return (f"fixed cut-offs (CHE rating procedure): top {'≤' if lower else '≥'} {f(top)}, bottom "
                f"{'>' if lower else '<'} {f(bottom)}; no A–E letter")
    if rule == "interval":
        return ("CHE confidence-interval rule for students' judgements: top/bottom when the whole 95 % interval "
                "lies below/above the peer mean of school means; no A–E letter")
    note = ind.get("group_note")
    return "no group (profile only)" + (f": {' '.join(str(note).split())}" if isinstance(note, str) and note else "")
