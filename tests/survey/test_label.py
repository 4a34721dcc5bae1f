"""The label model's survey dimension: a modest weight, lower judgements score higher, and a school without
survey data scores as with the worst survey (label 2.0.0: a missing part never raises a score)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ims_indicators.score.engine import score_table
from ims_indicators.score.model import load_model

MODEL = Path(__file__).resolve().parents[2] / "models" / "label_v1.yaml"
SURVEY = ["survey_overall_study_situation", "survey_teaching", "survey_clinical_training"]


@pytest.fixture(scope="module")
def model():
    return load_model(MODEL)


def good_school(model, survey: float | None) -> dict:
    """Every scored indicator at its target (score 100); survey means as given (None: no survey data)."""
    row = {}
    for i, ind in model.indicators.items():
        row[i] = 1.0 if ind.parent is None else ind.target
    for i in SURVEY:
        row[i] = np.nan if survey is None else survey
    return row


def test_survey_dimension_in_the_model(model):
    assert model.tree.dimensions[-1] == "teaching_learning"
    assert model.aggregates["teaching_learning"].weight == 0.5
    assert all(model.aggregates[d].weight == 1 for d in model.tree.dimensions[:-1])
    for i in SURVEY:
        ind = model.indicators[i]
        assert (ind.parent, ind.direction, ind.target, ind.worst) == ("teaching_learning", -1, 1.5, 3.5)


def test_scores_direction_missing_survey_and_screening(model):
    """Since 2.0.0 a missing survey counts as the worst survey (never better than sending one), and a school
    that sent under half of the scored indicators gets insufficient_data."""
    rows = {"best": good_school(model, 1.5), "poor": good_school(model, 3.5), "none": good_school(model, None)}
    scored = [i for i, ind in model.indicators.items() if ind.parent]
    assert len(scored) == 26
    kept = good_school(model, None)  # 13 of 26 sent (no survey, 10 other gaps): kept
    out = good_school(model, None)  # 12 of 26: screened out
    others = [i for i in scored if i not in SURVEY and not i.startswith("staff_")][:10]
    for i in others:
        kept[i] = out[i] = np.nan
    out["staff_trained_share"] = np.nan
    rows |= {"kept": kept, "out": out}
    df = pd.DataFrame([{"school_id": k, **v} for k, v in rows.items()])
    res = score_table(model, df).table.set_index("school_id")
    assert res.loc["best", "teaching_learning"] == pytest.approx(100)
    assert res.loc["poor", "teaching_learning"] == pytest.approx(0)
    # weight 0.5 of 4.5: a survey at the worst end costs 100 · 0.5 / 4.5 = 11.1 points overall
    assert res.loc["poor", "overall"] == pytest.approx(100 - 100 * 0.5 / 4.5)
    assert res.loc["none", "teaching_learning"] == 0 and res.loc["none", "overall"] == res.loc["poor", "overall"]
    assert res.loc["none", "overall"] <= res.loc["poor", "overall"] <= res.loc["best", "overall"]
    assert res.loc["none", "decision"] == "awarded"  # no minimum on the survey dimension
    assert res.loc["poor", "decision"] == "awarded"
    assert not np.isnan(res.loc["kept", "overall"])
    assert res.loc["out", "decision"] == "insufficient_data" and "screened out" in res.loc["out", "reasons"]
