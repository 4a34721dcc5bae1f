"""Everything the reports show, read from the warehouse once, as DataFrames.

Readers are tolerant: a mart that has not been built yet (benchmark, label scoring) or a column another
stage has not added yet becomes an empty or missing frame, and the page says what has not run. Disclosure
control (:mod:`ims_indicators.report.privacy`) is applied here, once, so no page or sheet can forget it:
the frames carry ``withheld`` and the school labels each audience may see.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import duckdb
import pandas as pd

from ims_indicators import settings
from ims_indicators.report import privacy
from ims_indicators.warehouse import table_exists

DIMENSION_NAMES = {
    "quality_assurance": "Quality assurance",
    "staff": "Staff training and management",
    "autonomy_accountability": "Autonomy and accountability",
    "student_mobility": "Student mobility",
    "teaching_learning": "Teaching and learning experience",
}
PREFERRED_PEER_SETS = ("network", "all", "whole_network", "ims")


class ReportError(Exception):
    """The reports cannot be written (message says why and what to run first)."""


@dataclass
class LabelModel:
    """What the pages need from the scoring model: dimension names, gates and thresholds."""

    name: str
    version: str
    dimensions: dict[str, str] = field(default_factory=dict)  # id -> name, in model order
    overall: str = "overall"
    gates: dict[str, dict] = field(default_factory=dict)  # id -> {rule, description, on_fail}
    thresholds: dict[str, dict] = field(default_factory=dict)  # decision -> {overall_min, dimension_min}


@dataclass
class ReportData:
    k: int
    demo: bool
    schools: pd.DataFrame  # school_id, name, country_code, city, erasmus_code, network_role, consent_to_be_named
    catalogue: pd.DataFrame  # indicator_id, name, dimension, unit, direction, definition, position
    values: pd.DataFrame  # indicator_values + withheld
    groups: pd.DataFrame | None  # benchmark_groups of the main peer set + withheld (None: benchmark not run)
    peer_set: str | None
    peer_sets: list[str]
    submissions: pd.DataFrame | None
    labels: pd.DataFrame | None  # label_results (None: scoring not run)
    robustness: pd.DataFrame | None
    model: LabelModel | None
    network: dict[str, str]  # school_id -> label everybody may see (name or "peer N")
    generated_at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    cache: dict = field(default_factory=dict)
    survey: object = None  # ims_indicators.survey.report.SurveyData (None: no survey mart)

    @cached_property
    def values_by_school(self) -> dict[str, pd.DataFrame]:
        return {str(k): g for k, g in self.values.groupby("school_id", sort=False)}

    @cached_property
    def published_by_year(self) -> dict[str, pd.DataFrame]:
        """Per year, the values others may see (not withheld, computed)."""
        v = self.values[~self.values["withheld"] & self.values["value"].notna()]
        return {str(k): g for k, g in v.groupby("academic_year", sort=False)}

    @cached_property
    def groups_by_school(self) -> dict[str, pd.DataFrame]:
        if self.groups is None:
            return {}
        return {str(k): g for k, g in self.groups.groupby("school_id", sort=False)}

    @cached_property
    def label_records(self) -> dict[str, dict]:
        """Each school's latest label result as a dict."""
        if self.labels is None or self.labels.empty:
            return {}
        out: dict[str, dict] = {}
        for rec in self.labels.sort_values("academic_year").to_dict("records"):
            out[str(rec["school_id"])] = rec
        return out

    @cached_property
    def label_stats(self) -> dict[str, dict[str, tuple[float, float, float]]]:
        """Per year and score column (dimensions and overall): median, Q1, Q3 over the scored schools."""
        if self.labels is None or self.labels.empty or self.model is None:
            return {}
        cols = [c for c in [*self.model.dimensions, self.model.overall] if c in self.labels.columns]
        out: dict[str, dict[str, tuple[float, float, float]]] = {}
        for year, part in self.labels.groupby("academic_year"):
            out[str(year)] = {}
            for c in cols:
                x = pd.to_numeric(part[c], errors="coerce").dropna()
                out[str(year)][c] = (x.median(), x.quantile(0.25), x.quantile(0.75), len(x)) if len(x) else \
                    (math.nan, math.nan, math.nan, 0)
        return out

    @cached_property
    def robustness_records(self) -> dict[tuple[str, str | None], dict]:
        if self.robustness is None or self.robustness.empty:
            return {}
        has_year = "academic_year" in self.robustness.columns
        return {(str(r["school_id"]), str(r["academic_year"]) if has_year else None): r
                for r in self.robustness.to_dict("records")}

    @property
    def years(self) -> list[str]:
        return sorted(set(self.values["academic_year"].dropna().astype(str)))

    @property
    def latest_year(self) -> str | None:
        return self.years[-1] if self.years else None

    @property
    def school_ids(self) -> list[str]:
        return list(self.schools["school_id"].astype(str))

    @property
    def named(self) -> set[str]:
        """Schools that consented to be named."""
        return set(self.schools.loc[self.schools["consent_to_be_named"].astype(bool), "school_id"])

    def names(self) -> dict[str, str]:
        return {str(s): (str(n) if isinstance(n, str) and n else str(s))
                for s, n in zip(self.schools["school_id"], self.schools["name"])}

    def viewer(self, school_id: str) -> dict[str, str]:
        return privacy.viewer_labels(self.schools, school_id)

    def units(self) -> dict[str, str]:
        return dict(zip(self.catalogue["indicator_id"], self.catalogue["unit"]))

    def dimension_name(self, dim: str) -> str:
        if self.model and dim in self.model.dimensions:
            return self.model.dimensions[dim]
        return DIMENSION_NAMES.get(dim) or str(dim).replace("_", " ").capitalize()

    def dimensions(self) -> list[str]:
        seen: list[str] = []
        for d in self.catalogue["dimension"]:
            if d not in seen:
                seen.append(d)
        return seen


def read(con: duckdb.DuckDBPyConnection, qualified: str) -> pd.DataFrame | None:
    """The whole table as a DataFrame, or None if it does not exist (names come from our own constants)."""
    if not table_exists(con, qualified):
        return None
    cur = con.execute(f"SELECT * FROM {qualified}")
    names = [d[0] for d in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=names)


def _ensure(df: pd.DataFrame, cols: dict[str, object]) -> pd.DataFrame:
    for c, default in cols.items():
        if c not in df.columns:
            df[c] = default
    return df


def is_demo() -> bool:
    """The bundled synthetic demo network is loaded (its generator leaves a manifest)."""
    raw = settings.raw_dir()
    return any(p.is_file() for p in (raw / "demo_manifest.json", raw.parent / "demo_manifest.json",
                                      settings.data_dir() / "demo_manifest.json"))


def _catalogue(con: duckdb.DuckDBPyConnection, values: pd.DataFrame) -> pd.DataFrame:
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
    cat = _ensure(cat, {"name": None, "dimension": "other", "unit": "", "direction": "higher", "definition": "",
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


def _label_model(labels: pd.DataFrame | None) -> LabelModel | None:
    if labels is None or labels.empty:
        return None
    name = str(labels["model_name"].dropna().iloc[0]) if "model_name" in labels and labels["model_name"].notna().any() \
        else "label_v1"
    version = str(labels["model_version"].dropna().iloc[0]) if "model_version" in labels \
        and labels["model_version"].notna().any() else ""
    lm = LabelModel(name=name, version=version)
    try:
        from ims_indicators.score.model import load_model

        m = load_model(settings.models_dir() / f"{name}.yaml")
        root = m.tree.root
        lm.overall = root
        lm.dimensions = {a: (agg.name or DIMENSION_NAMES.get(a, a)) for a, agg in m.aggregates.items()
                         if agg.parent == root}
        lm.gates = {g: {"rule": gate.rule, "description": gate.description or "", "on_fail": gate.on_fail}
                    for g, gate in (m.gates or {}).items()}
        if m.decision is not None:
            for dec in ("awarded", "conditional"):
                rule = getattr(m.decision, dec, None)
                if rule is not None:
                    lm.thresholds[dec] = {"overall_min": rule.overall_min, "dimension_min": rule.dimension_min}
    except Exception:  # noqa: BLE001 - no model file: dimension columns are the known ones present
        lm.dimensions = {d: n for d, n in DIMENSION_NAMES.items() if d in labels.columns}
    lm.dimensions = {d: n for d, n in lm.dimensions.items() if d in labels.columns}
    return lm


def _peer_set(groups: pd.DataFrame) -> str | None:
    sets = [str(s) for s in groups["peer_set"].dropna().unique()]
    for s in PREFERRED_PEER_SETS:
        if s in sets:
            return s
    if not sets:
        return None
    return groups["peer_set"].astype(str).value_counts().idxmax()


def _survey(con: duckdb.DuckDBPyConnection, k: int):
    from ims_indicators.survey.report import load_survey  # the student survey's section (own module)

    return load_survey(con, k)


def load(con: duckdb.DuckDBPyConnection) -> ReportData:
    """Read every table the reports use; raise ReportError if there is nothing to report yet."""
    k = settings.suppress_below()
    values = read(con, "marts.indicator_values")
    if values is None:
        raise ReportError("marts.indicator_values: table not found; compute the indicators first (ims indicators)")
    values = _ensure(values, {"numerator": None, "denominator": None, "computable": True, "reason": None,
                              "source": "school"})
    values["school_id"] = values["school_id"].astype(str)
    values["academic_year"] = values["academic_year"].astype(str)
    values["indicator_id"] = values["indicator_id"].astype(str)
    values["value"] = pd.to_numeric(values["value"], errors="coerce").astype(float)
    for c in ("numerator", "denominator"):
        values[c] = pd.to_numeric(values[c], errors="coerce").astype(float)

    schools = read(con, "curated.schools")
    if schools is None:
        schools = pd.DataFrame(columns=["school_id", "name"])
    schools = _ensure(schools, {"name": None, "country_code": None, "city": None, "erasmus_code": None,
                                "network_role": None, "consent_to_be_named": False})
    schools["school_id"] = schools["school_id"].astype(str)
    schools = schools.drop_duplicates("school_id", keep="last")
    unknown = sorted(set(values["school_id"]) - set(schools["school_id"]))
    if unknown:  # values of a school not in the registry: never named
        schools = pd.concat([schools, pd.DataFrame({"school_id": unknown, "name": unknown,
                                                    "consent_to_be_named": False})], ignore_index=True)
    schools["consent_to_be_named"] = [privacy.consented(c) for c in schools["consent_to_be_named"]]
    schools = schools.sort_values("school_id").reset_index(drop=True)[
        ["school_id", "name", "country_code", "city", "erasmus_code", "network_role", "consent_to_be_named"]]

    catalogue = _catalogue(con, values)
    units = dict(zip(catalogue["indicator_id"], catalogue["unit"]))
    people = dict(zip(catalogue["indicator_id"], catalogue["people"].astype(bool)))
    values["withheld"] = privacy.mark_withheld(values, units, k, people)
    withheld = values.set_index(["school_id", "academic_year", "indicator_id"])["withheld"]
    values.loc[values["withheld"], "value"] = float("nan")  # gone here, so no page or sheet can show it

    groups = read(con, "marts.benchmark_groups")
    peer_set, peer_sets = None, []
    if groups is not None:
        groups = _ensure(groups, {"peer_set": "network", "value": None, "che_group": None, "ume_group": None,
                                  "peer_n": None, "peer_median": None, "peer_q1": None, "peer_q3": None,
                                  "percentile": None, "change_1y": None, "change_3y": None, "reason": None})
        groups["school_id"] = groups["school_id"].astype(str)
        groups["academic_year"] = groups["academic_year"].astype(str)
        groups["indicator_id"] = groups["indicator_id"].astype(str)
        peer_sets = sorted(str(s) for s in groups["peer_set"].dropna().unique())
        peer_set = _peer_set(groups)
        if peer_set is not None:
            groups = groups[groups["peer_set"].astype(str) == peer_set]
        for c in ("value", "peer_median", "peer_q1", "peer_q3", "percentile", "change_1y", "change_3y", "peer_n"):
            groups[c] = pd.to_numeric(groups[c], errors="coerce").astype(float)
        groups = groups.reset_index(drop=True)

        def was_withheld(shift: int) -> pd.Series:
            years = groups["academic_year"].map(lambda y: shift_year(y, shift))
            key = pd.MultiIndex.from_arrays([groups["school_id"], years, groups["indicator_id"]])
            return pd.Series(withheld.reindex(key).fillna(False).astype(bool).to_numpy(), index=groups.index)

        groups["withheld"] = was_withheld(0)
        # a withheld value takes along what would give it back: the value, its percentile, the distance to the
        # median, and a change from or to it (the other year's value is shown)
        for c in ("value", "percentile", "median_distance"):
            if c in groups:
                groups.loc[groups["withheld"], c] = float("nan")
        groups.loc[groups["withheld"] | was_withheld(-1), "change_1y"] = float("nan")
        groups.loc[groups["withheld"] | was_withheld(-3), "change_3y"] = float("nan")

    submissions = read(con, "meta.submissions")
    labels = read(con, "marts.label_results")
    if labels is not None:
        labels = _ensure(labels, {"academic_year": None, "decision": None, "reasons": "", "model_version": None})
        labels["school_id"] = labels["school_id"].astype(str)
        labels["academic_year"] = labels["academic_year"].astype(str)
    robustness = read(con, "marts.label_robustness")
    if robustness is not None:
        robustness["school_id"] = robustness["school_id"].astype(str)
        if "academic_year" in robustness:
            robustness["academic_year"] = robustness["academic_year"].astype(str)
    return ReportData(k=k, demo=is_demo(), schools=schools, catalogue=catalogue, values=values, groups=groups,
                      peer_set=peer_set, peer_sets=peer_sets, submissions=submissions, labels=labels,
                      robustness=robustness, model=_label_model(labels), network=privacy.network_labels(schools),
                      survey=_survey(con, k))


def shift_year(year: str, by: int) -> str:
    """'2023/24' shifted by -1 -> '2022/23' (the canonical academic-year form)."""
    try:
        start = int(str(year)[:4]) + by
    except ValueError:
        return ""
    return f"{start}/{(start + 1) % 100:02d}"


# --- formatting (shared by pages, figures and the workbook) ---------------------------------------------------

def plot_value(value: object, unit: str) -> float | None:
    """A value on the scale a chart shows: shares as percent."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if math.isnan(v):
        return None
    return v * 100 if unit == "share" else v


def axis_suffix(unit: str) -> str:
    return {"share": " %", "per 100": "", "days": " d"}.get(unit, "")


def fmt_value(value: object, unit: str) -> str:
    """A value as a table shows it."""
    v = plot_value(value, unit)
    if v is None:
        return ""
    if unit == "share":
        return f"{v:.1f} %"
    if unit == "yes/no":
        return "yes" if v >= 0.5 else "no"
    if unit == "count":
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"
    if unit == "days":
        return f"{v:,.0f} d"
    return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"


def fmt_change(value: object, unit: str) -> str:
    v = plot_value(value, unit)
    if v is None:
        return ""
    if unit == "share":
        return f"{v:+.1f} pp"
    if unit == "yes/no":
        return "" if v == 0 else ("now yes" if v > 0 else "now no")
    return f"{v:+,.2f}"
