"""The panel stage: a peer panel's ratings of the model's standards settle a referred decision.

The model's ``panel`` section names the standards (one per label dimension at least), which quantitative
decisions the panel settles (``applies_to``, by default ``refer_to_panel``) and the combination rule:
``awarded`` when every standard is at least ``awarded.all_at_least`` and at least
``awarded.excellent_at_least`` are excellent; else ``conditional`` when every standard is at least
``conditional.all_at_least``; else ``not_awarded``. A school whose panel has not rated every standard keeps
``refer_to_panel`` and the reason names the standards still to rate.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from ims_indicators.score.model import RATINGS, Panel, PanelOutcome
from ims_indicators.warehouse import table_exists

RANK = {r: k for k, r in enumerate(RATINGS)}


def _meets(outcome: PanelOutcome, ratings: dict[str, str]) -> bool:
    floor = RANK[outcome.all_at_least]
    excellent = sum(r == "excellent" for r in ratings.values())
    return all(RANK[r] >= floor for r in ratings.values()) and excellent >= outcome.excellent_at_least


def panel_decision(panel: Panel, ratings: dict[str, str]) -> tuple[str | None, str]:
    """(decision, reason) from one school's ratings ``{standard: rating}``; decision None while incomplete."""
    unknown = sorted(set(ratings) - set(panel.standards))
    if unknown:
        return None, f"panel rated unknown standards {', '.join(unknown)}"
    missing = [s for s in panel.standards if s not in ratings]
    if missing:
        return None, f"panel ratings missing for {', '.join(missing)}"
    text = ", ".join(f"{s} {ratings[s]}" for s in panel.standards)
    if _meets(panel.awarded, ratings):
        return "awarded", f"panel: {text} (every standard at least {panel.awarded.all_at_least}, " \
                          f"{panel.awarded.excellent_at_least}+ excellent)"
    if panel.conditional is not None and _meets(panel.conditional, ratings):
        return "conditional", f"panel: {text} (every standard at least {panel.conditional.all_at_least})"
    return "not_awarded", f"panel: {text}"


def read_ratings(con: duckdb.DuckDBPyConnection, year: str | None = None) -> pd.DataFrame:
    """``curated.panel_assessment`` (school_id, academic_year, standard, rating, panel_size, date, rationale);
    empty when the table does not exist."""
    cols = ["school_id", "academic_year", "standard", "rating", "panel_size", "date", "rationale"]
    if not table_exists(con, "curated.panel_assessment"):
        return pd.DataFrame(columns=cols)
    return con.execute(f"select {', '.join(cols)} from curated.panel_assessment "  # cols: our constants
                       "where academic_year = coalesce($year, academic_year) "
                       "order by academic_year, school_id, standard", {"year": year}).df()


def settle(panel: Panel | None, decisions: pd.DataFrame, ratings: pd.DataFrame) -> pd.DataFrame:
    """Apply the panel to ``decisions`` (school_id, academic_year, decision, decision_reason): returns the
    frame with ``decision`` / ``decision_reason`` settled and ``decision_basis`` set to ``panel`` where it was."""
    out = decisions.copy()
    if "decision_basis" not in out:
        out["decision_basis"] = "score"
    if panel is None:
        return out
    by_key = {k: dict(zip(g["standard"], g["rating"])) for k, g in ratings.groupby(["school_id", "academic_year"])}
    for i, row in out.iterrows():
        if row["decision"] not in panel.applies_to:
            continue
        got = by_key.get((row["school_id"], row["academic_year"]))
        if not got:
            continue
        dec, reason = panel_decision(panel, got)
        out.at[i, "decision_reason"] = f"{row['decision_reason']}; {reason}" if row["decision_reason"] else reason
        if dec is not None:
            out.at[i, "decision"] = dec
            out.at[i, "decision_basis"] = "panel"
    return out
