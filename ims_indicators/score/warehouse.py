"""Read ``marts.indicator_values``, score each academic year, write ``marts.label_results``,
``marts.label_robustness`` and ``marts.label_sensitivity``.

Each academic year is scored on its own (min-max and rank are cross-sections of one year). The three
tables are replaced whole by every run, so they always hold one model's latest results; every row
names the model (name, version, sha256 of the effective model) and the data snapshot it used.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pandas as pd

from ims_indicators import settings
from ims_indicators.score import engine, panel, robustness
from ims_indicators.score.model import DataError, ScoringModel
from ims_indicators.score.self_assessment import item_values

RESULTS, ROBUSTNESS, SENSITIVITY = "marts.label_results", "marts.label_robustness", "marts.label_sensitivity"


@dataclass
class WarehouseScores:
    results: pd.DataFrame
    robustness: pd.DataFrame | None
    sensitivity: pd.DataFrame | None


def read_indicator_values(con: duckdb.DuckDBPyConnection, year: str | None = None) -> pd.DataFrame:
    """Long indicator values (school_id, academic_year, indicator_id, value); NULL where not computable."""
    from ims_indicators.warehouse import sql_text, table_exists

    if not table_exists(con, "marts.indicator_values"):
        raise DataError("marts.indicator_values: table not found; compute the indicators first (ims indicators)")
    values = con.execute(sql_text("ims_indicators.score", "indicator_values.sql"), {"year": year}).df()
    items = item_values(con, year)
    return pd.concat([values, items], ignore_index=True) if len(items) else values


def wide_by_year(model: ScoringModel, long: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One wide table per academic year: the model's id column, one column per indicator and, for each
    indicator with a sampling error, ``<id>__base`` (denominator of a share or mean, numerator of a count).

    Self-assessment items (``sa_*``) may have no rows at all (nobody answered yet): they are missing values.
    """
    present = set(long["indicator_id"].astype(str))
    missing = [i for i in model.indicators if i not in present and not i.startswith("sa_")]
    if missing:
        raise DataError(
            f"marts.indicator_values: indicator {missing[0]!r} of model {model.label} has no rows"
            + (f" (nor {', '.join(missing[1:6])}{' …' if len(missing) > 6 else ''})" if len(missing) > 1 else "")
            + f"; indicator ids present: {', '.join(sorted(present)) or '(none)'}"
        )
    long = long[long["indicator_id"].isin(list(model.indicators))]
    if "numerator" not in long:
        long = long.assign(numerator=float("nan"), denominator=float("nan"))
    base_of = {i: "numerator" if ind.error == "count" else "denominator"
               for i, ind in model.indicators.items() if ind.error != "none"}
    long = long.assign(base=[r[base_of[i]] if i in base_of else float("nan")
                             for i, r in zip(long["indicator_id"], long[["numerator", "denominator"]].to_dict("records"))])
    out = {}
    for year, part in long.groupby("academic_year", sort=True):
        wide = part.pivot_table(index="school_id", columns="indicator_id", values="value", aggfunc="first",
                                dropna=False).reindex(columns=list(model.indicators))
        bases = part[part["indicator_id"].isin(list(base_of))].pivot_table(
            index="school_id", columns="indicator_id", values="base", aggfunc="first", dropna=False)
        bases = bases.reindex(index=wide.index, columns=list(base_of))
        bases.columns = [f"{c}{engine.BASE}" for c in bases.columns]
        wide = pd.concat([wide, bases], axis=1)
        wide = wide.reset_index().rename(columns={"school_id": model.columns.id})
        wide.columns.name = None
        out[str(year)] = wide
    return out


def snapshot(part: pd.DataFrame, year: str) -> str:
    """Content hash of the indicator values one year's scores were computed from."""
    text = part.sort_values(list(part.columns[:1])).to_csv(index=False, lineterminator="\n")
    return f"marts.indicator_values@{year}:sha256:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def score_warehouse(con: duckdb.DuckDBPyConnection, model: ScoringModel, draws: int | None = None,
                    seed: int | None = None, year: str | None = None) -> WarehouseScores:
    """Score every academic year found (or only ``year``); robustness when ``draws`` > 0."""
    long = read_indicator_values(con, year)
    if long.empty:
        raise DataError("marts.indicator_values: no rows" + (f" for academic year {year}" if year else ""))
    n_draws = model.robustness.draws if draws is None else draws
    results, robs, sens = [], [], []
    id_col = model.columns.id
    ratings = panel.read_ratings(con, year)
    for yr, wide in wide_by_year(model, long).items():
        snap = snapshot(wide, yr)
        res = engine.score_table(model, wide, snapshot=snap, source=f"marts.indicator_values ({yr})",
                                 min_units=settings.min_schools_per_year())
        table = res.table.copy()
        table.insert(1, "academic_year", yr)
        rob = None
        if n_draws > 0:
            data = engine.read_table(model, wide, f"marts.indicator_values ({yr})")
            ev = robustness.Evaluator(model, data)
            mc = robustness.monte_carlo(model, data, n_draws, seed, evaluator=ev)
            s = robustness.sensitivity(model, data, seed=seed, evaluator=ev) \
                if model.robustness.sensitivity.enabled else None
            rob = robustness.robustness_table(model, res.table, mc, s)
            rob.insert(1, "academic_year", yr)
            if s is not None and len(s):
                s = s.rename(columns={"unit": id_col})
                s.insert(1, "academic_year", yr)
                s["model_name"], s["model_version"], s["data_snapshot"] = model.name, model.version, snap
                sens.append(s)
        if model.decision is not None:
            table = final_decisions(model, table, rob, ratings)
            if rob is not None:  # the robustness rows show the final decision too
                rob["decision"] = table["decision"].to_numpy()
                rob["decision_reason"] = table["decision_reason"].to_numpy()
        results.append(table)
        if rob is not None:
            robs.append(rob)
    scored_at = datetime.now(UTC).replace(tzinfo=None)
    out = pd.concat(results, ignore_index=True)
    out["scored_at"] = scored_at
    rob_df = pd.concat(robs, ignore_index=True) if robs else None
    if rob_df is not None:
        rob_df["scored_at"] = scored_at
    sens_df = pd.concat(sens, ignore_index=True) if sens else None
    return WarehouseScores(out, rob_df, sens_df)


def final_decisions(model: ScoringModel, table: pd.DataFrame, rob: pd.DataFrame | None,
                    ratings: pd.DataFrame) -> pd.DataFrame:
    """The published decision: the one the Monte Carlo supports (``decision.probability``), else the nominal
    one; then the panel settles the cases it applies to. Keeps ``nominal_decision`` and every reason."""
    table = table.copy()
    table["nominal_decision"] = table["decision"]
    table["decision_reason"] = ""
    table["decision_basis"] = "score"
    if rob is not None and "decision_reason" in rob and model.decision.probability is not None:
        table["decision"] = rob["decision"].to_numpy()
        table["decision_reason"] = rob["decision_reason"].to_numpy()
        table["decision_basis"] = "monte_carlo"
    return panel.settle(model.panel, table, ratings)


def write_scores(con: duckdb.DuckDBPyConnection, scores: WarehouseScores) -> dict[str, int]:
    """Replace the label tables in one transaction; returns rows written per table."""
    written = {}
    con.execute("create schema if not exists marts")
    con.execute("begin transaction")
    try:
        for name, frame in ((RESULTS, scores.results), (ROBUSTNESS, scores.robustness),
                            (SENSITIVITY, scores.sensitivity)):
            if frame is None:
                continue
            frame = frame.copy()
            for col in frame.columns:  # object columns holding None/str only -> VARCHAR
                if frame[col].dtype == object:
                    frame[col] = frame[col].astype("string")
            con.register("label_frame", frame)
            con.execute(f"create or replace table {name} as select * from label_frame")  # name: our constant
            con.unregister("label_frame")
            written[name] = len(frame)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return written
