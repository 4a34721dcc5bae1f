"""The vectorised Monte Carlo equals a plain per-draw reference on a small fixture, seed for seed.

The reference scores one draw at a time through the nominal path (``engine.score_table``): it writes the
draw's weights, targets, worst values, thresholds, aggregation and left-out indicator into the model file's
dict, and the draw's data-error values (the documented formulas, written out here) into the data.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from ims_indicators.score import engine, robustness
from ims_indicators.score.model import model_from_dict

from .conftest import small_raw

CODES = {"not_awarded": 0, "conditional": 1, "awarded": 2}


def label_raw() -> dict:
    """The small model with label 2.0's kind of uncertainty: every factor the label varies is on."""
    raw = small_raw()
    raw["impute"] = {"method": "worst"}
    raw["indicators"]["a"] |= {"target": 1, "worst": 0, "error": "share"}
    raw["indicators"]["c"] |= {"error": "mean", "sd": 2.0}
    raw["indicators"]["e"] |= {"error": "count"}
    raw["robustness"] = {"draws": 100, "weights": {"method": "uniform", "spread": 0.25},
                         "targets": {"spread": 0.1, "worst": True}, "thresholds": {"spread": 5},
                         "aggregate": ["arithmetic", "geometric"], "leave_one_out": True, "data_error": True,
                         "sensitivity": {"enabled": False}}
    return raw


def label_table() -> pd.DataFrame:
    """s2 misses b (imputed worst: never moves), s3 fails the gate, s4 sent a without its base (exact)."""
    return pd.DataFrame({
        "school_id": ["s1", "s2", "s3", "s4", "s5"],
        "region": ["n", "n", "s", "s", "s"],
        "accredited": [1, 1, 0, 1, 1],
        "a": [0.8, 0.55, 0.9, 0.6, 0.7], "a__base": [40.0, 12.0, 90.0, np.nan, 3.0],
        "b": [60.0, np.nan, 90.0, 70.0, 65.0],
        "c": [1.0, 5.0, 1.0, 3.0, 2.5], "c__base": [25.0, 9.0, 30.0, 16.0, 4.0],
        "e": [70.0, 40.0, 100.0, 50.0, 66.0], "e__base": [14.0, 8.0, 50.0, 20.0, 2.0],
    })


def drawn_value(kind: str, v: float, n: float, z: float, sd: float | None) -> float:
    """A value from its sampling distribution at normal quantile z, as docs/scoring.md states it."""
    if kind == "share":
        a, b = v * n + 0.5, n - v * n + 0.5
        return float(np.clip(v + z * np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1))), 0.0, 1.0))
    if kind == "count":
        return v * max(n + z * np.sqrt(n + 0.5), 0.0) / n
    return v + z * sd / np.sqrt(n)


def reference(raw: dict, df: pd.DataFrame, draws: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Overall, dimension scores and decision codes, one draw at a time (no vectorisation)."""
    model = model_from_dict(raw)
    inds = model.tree.indicators  # a, b, c, e
    nodes = [n for n in model.tree.nodes if n != model.tree.root]
    errors = [i for i in inds if raw["indicators"][i].get("error")]
    rob = raw["robustness"]
    # the documented layout: weights (non-root nodes), targets then worst values, thresholds, leave one out,
    # aggregate as uniforms; data error (unit-major, error indicators) as standard normals of the spawned stream
    n_u = len(nodes) + 2 * len(inds) + 1 + 1 + 1
    u = np.random.default_rng(seed).random((draws, n_u))
    z = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0]).standard_normal((draws, len(df) * len(errors)))
    overall = np.full((draws, len(df)), np.nan)
    dims = np.full((draws, len(df), 2), np.nan)
    codes = np.zeros((draws, len(df)), dtype=int)
    for k in range(draws):
        r = copy.deepcopy(raw)
        row = iter(u[k])
        for node in nodes:
            spec = r["indicators"][node] if node in r["indicators"] else r["aggregates"][node]
            spec["weight"] = spec.get("weight", 1.0) * (1 + rob["weights"]["spread"] * (2 * next(row) - 1))
        nominal = {i: (raw["indicators"][i]["target"], raw["indicators"][i]["worst"]) for i in inds}
        for i in inds:  # targets first ...
            t, w = nominal[i]
            r["indicators"][i]["target"] = t + (t - w) * rob["targets"]["spread"] * (2 * next(row) - 1)
        for i in inds:  # ... then worst values
            t, w = nominal[i]
            r["indicators"][i]["worst"] = w + (t - w) * rob["targets"]["spread"] * (2 * next(row) - 1)
        shift = rob["thresholds"]["spread"] * (2 * next(row) - 1)
        for level in ("awarded", "conditional"):
            for key in ("overall_min", "dimension_min"):
                r["decision"][level][key] += shift
        out = min(int(next(row) * (len(inds) + 1)), len(inds))  # 0 = none; every indicator has a sibling
        if out:
            r["indicators"][inds[out - 1]]["weight"] = 0.0
        r["aggregate"] = {"method": ("arithmetic", "geometric")[min(int(next(row) * 2), 1)]}
        data = df.copy()
        cells = iter(z[k])
        for unit in range(len(df)):
            for i in errors:
                q = next(cells)
                v, n = df.at[unit, i], df.at[unit, f"{i}__base"]
                if not (np.isnan(v) or np.isnan(n) or n <= 0):
                    data.at[unit, i] = drawn_value(raw["indicators"][i]["error"], v, n, q,
                                                   raw["indicators"][i].get("sd"))
        one = engine.score_table(model_from_dict(r), data).table
        overall[k] = one["overall"]
        dims[k] = one[["d1", "d2"]]
        codes[k] = one["decision"].map(CODES)
    return overall, dims, codes


@pytest.mark.parametrize("seed", [4, 11])
def test_vectorised_monte_carlo_equals_the_per_draw_reference(seed):
    raw, df = label_raw(), label_table()
    model = model_from_dict(raw)
    data = engine.read_table(model, df)
    ev = robustness.Evaluator(model, data)
    assert [(f.name, f.columns) for f in ev.factors] == [
        ("weights", 6), ("targets", 8), ("thresholds", 1), ("leave_one_out", 1), ("data_error", 15),
        ("aggregate", 1)]
    mc = robustness.monte_carlo(model, data, 60, seed, evaluator=ev, chunk=16)  # 4 chunks, the last one short
    overall, dims, codes = reference(raw, df, 60, seed)
    np.testing.assert_allclose(mc.overall, overall, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mc.dimensions, dims, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(mc.codes, codes)
    # the draws do move: both aggregations, a left-out indicator, moved data and all three decisions occur
    assert np.ptp(mc.overall, axis=0)[[0, 1, 3, 4]].min() > 1.0
    assert set(np.unique(mc.codes)) == {0, 1, 2}


def test_result_depends_on_the_seed_not_on_the_chunk():
    raw, df = label_raw(), label_table()
    model = model_from_dict(raw)
    data = engine.read_table(model, df)
    a = robustness.monte_carlo(model, data, 50, seed=2, chunk=7)
    b = robustness.monte_carlo(model, data, 50, seed=2)
    np.testing.assert_array_equal(a.overall, b.overall)
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_array_equal(a.dimensions, b.dimensions)
    c = robustness.monte_carlo(model, data, 50, seed=3)
    assert not np.array_equal(a.overall, c.overall)
