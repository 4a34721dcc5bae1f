"""Everything the reports show, read from the warehouse once, as DataFrames (:func:`load`).

Readers are tolerant (:mod:`.read`): a mart that has not been built yet (benchmark, label scoring) or a column
another stage has not added yet becomes an empty or missing frame, and the page says what has not run.
Disclosure control (:mod:`.privacy`) is applied here, once, so no page or sheet can forget it: the frames carry
``withheld``, the count texts and the school labels each audience may see.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import duckdb
import pandas as pd

from ims_indicators import settings
import ims_indicators.report.privacy as privacy
from ims_indicators.report.catalogue import catalogue_frame
from ims_indicators.report.label_model import DIMENSION_NAMES, LabelModel, label_model
from ims_indicators.report.read import is_demo, read, with_columns
from ims_indicators.survey.report import SurveyData, load_survey

PREFERRED_PEER_SETS = ("network", "all", "whole_network", "ims")


class ReportError(Exception):
    """The reports cannot be written (message says why and what to run first)."""


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
    survey: SurveyData | None = None  # None: no survey mart
    panel: pd.DataFrame | None = None  # curated.panel_assessment (label page: the panel's ratings)

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


def _peer_set(groups: pd.DataFrame) -> str | None:
    sets = [str(s) for s in groups["peer_set"].dropna().unique()]
    for s in PREFERRED_PEER_SETS:
        if s in sets:
            return s
    if not sets:
        return None
    return groups["peer_set"].astype(str).value_counts().idxmax()


def load(con: duckdb.DuckDBPyConnection) -> ReportData:
    """Read every table the reports use; raise ReportError if there is nothing to report yet."""
    k = settings.suppress_below()
    values = read(con, "marts.indicator_values")
    if values is None:
        raise ReportError("marts.indicator_values: table not found; compute the indicators first (ims indicators)")
    values = with_columns(values, {"numerator": None, "denominator": None, "computable": True, "reason": None,
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
    schools = with_columns(schools, {"name": None, "country_code": None, "city": None, "erasmus_code": None,
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

    catalogue = catalogue_frame(con, values)
    values = privacy.withhold_values(values, catalogue, k)  # gone here, so no page or sheet can show it
    values = privacy.withhold_across_page(values, catalogue, k)  # ... nor from another row of the same page

    groups = read(con, "marts.benchmark_groups")
    peer_set, peer_sets = None, []
    if groups is not None:
        groups = with_columns(groups, {"peer_set": "network", "value": None, "che_group": None, "ume_group": None,
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

        groups = privacy.withhold_groups(groups, values)
    submissions = read(con, "meta.submissions")
    labels = read(con, "marts.label_results")
    if labels is not None:
        labels = with_columns(labels, {"academic_year": None, "decision": None, "reasons": "", "model_version": None})
        labels["school_id"] = labels["school_id"].astype(str)
        labels["academic_year"] = labels["academic_year"].astype(str)
    robustness = read(con, "marts.label_robustness")
    if robustness is not None:
        robustness["school_id"] = robustness["school_id"].astype(str)
        if "academic_year" in robustness:
            robustness["academic_year"] = robustness["academic_year"].astype(str)
    return ReportData(k=k, demo=is_demo(), schools=schools, catalogue=catalogue, values=values, groups=groups,
                      peer_set=peer_set, peer_sets=peer_sets, submissions=submissions, labels=labels,
                      robustness=robustness, model=label_model(labels), network=privacy.network_labels(schools),
                      panel=read(con, "curated.panel_assessment"), survey=load_survey(con, k))
