"""Shared fixtures: a small label-like model and table whose scores can be computed by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ims_indicators.score.model import ScoringModel, model_from_dict

ROOT = Path(__file__).resolve().parents[2]
ASEM = ROOT / "tests" / "data" / "coinr_asem"
MODELS = ROOT / "models"


def small_raw() -> dict:
    """Two dimensions of two indicators; distance to target on 0..100 (target 100, worst 0, except c)."""
    return {
        "name": "small", "version": "0.1",
        "columns": {"id": "school_id", "groups": ["region"]},
        "indicators": {
            "accredited": {},
            "a": {"parent": "d1", "target": 100, "worst": 0},
            "b": {"parent": "d1", "target": 100, "worst": 0},
            "c": {"parent": "d2", "direction": -1, "target": 0, "worst": 10},
            "e": {"parent": "d2", "target": 100, "worst": 0, "weight": 3},
        },
        "aggregates": {"d1": {"parent": "overall"}, "d2": {"parent": "overall"}, "overall": {}},
        "impute": {"method": "none", "group": "region"},
        "normalise": {"method": "distance_to_target"},
        "gates": {"accreditation": {"rule": "accredited >= 1"}},
        "decision": {"awarded": {"overall_min": 60, "dimension_min": 40},
                     "conditional": {"overall_min": 45, "dimension_min": 25}},
        "robustness": {"draws": 200, "weights": {"spread": 0.25}, "targets": {"spread": 0.1},
                       "normalise": ["distance_to_target", "minmax"], "aggregate": ["arithmetic", "geometric"],
                       "sensitivity": {"n": 64}},
    }


def small_model(**overrides) -> ScoringModel:
    raw = small_raw()
    raw.update(overrides)
    return model_from_dict(raw, "small")


def small_table() -> pd.DataFrame:
    return pd.DataFrame({
        "school_id": ["s1", "s2", "s3", "s4"],
        "region": ["n", "n", "s", "s"],
        "accredited": [1, 1, 0, 1],
        "a": [80.0, 50.0, 90.0, 20.0],
        "b": [60.0, 30.0, 90.0, 10.0],
        "c": [0.0, 5.0, 1.0, 8.0],
        "e": [70.0, 40.0, 100.0, 30.0],
    })


@pytest.fixture
def model() -> ScoringModel:
    return small_model()


@pytest.fixture
def table() -> pd.DataFrame:
    return small_table()
