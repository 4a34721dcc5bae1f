"""Monte Carlo and sensitivity: consistency with the nominal run, probabilities, intervals, drivers."""

from __future__ import annotations

import numpy as np
import pytest

from ims_indicators.score import engine, robustness
from ims_indicators.score.model import load_model

from .conftest import ASEM, MODELS, small_model, small_raw, small_table


def run(model, df, draws=300, seed=1):
    data = engine.read_table(model, df)
    ev = robustness.Evaluator(model, data)
    mc = robustness.monte_carlo(model, data, draws, seed, evaluator=ev)
    sens = robustness.sensitivity(model, data, n=64, seed=seed, evaluator=ev)
    return mc, sens, robustness.robustness_table(model, engine.score_table(model, df).table, mc, sens)


def test_no_uncertainty_reproduces_the_nominal_run():
    rob = small_raw()["robustness"] | {"weights": {"spread": 0.0}, "targets": {"spread": 0.0},
                                       "normalise": [], "aggregate": []}
    model = small_model(robustness=rob)
    df = small_table()
    mc, _, table = run(model, df, draws=50)
    nominal = engine.score_table(model, df).table
    np.testing.assert_allclose(mc.overall, np.broadcast_to(nominal["overall"].to_numpy(), mc.overall.shape))
    assert (table["p_awarded"].to_numpy() == (nominal["decision"] == "awarded").to_numpy()).all()
    np.testing.assert_allclose(table["overall_p05"], table["overall_p95"])


def test_each_draw_equals_a_nominal_run_with_its_parameters():
    model, df = small_model(), small_table()
    data = engine.read_table(model, df)
    ev = robustness.Evaluator(model, data)
    u = np.random.default_rng(3).random((5, ev.n_columns))
    overall, codes = ev.evaluate(u, chunk=2)
    w = ev._weights(ev._split(u)["weights"])
    t, _ = ev._targets(ev._split(u)["targets"])
    for k in range(5):
        norm = ("distance_to_target", "minmax")[int(u[k, -2] * 2)]
        agg = ("arithmetic", "geometric")[int(u[k, -1] * 2)]
        ov = {f"indicators.{i}.target": float(t[k, j]) for j, i in enumerate(model.tree.indicators)}
        ov |= {f"indicators.{n}.weight" if n in model.indicators else f"aggregates.{n}.weight": float(w[k, j])
               for j, n in enumerate(model.tree.nodes)}
        sets = [f"{key}={v!r}" for key, v in ov.items()] + [f"normalise.method={norm}", f"aggregate.method={agg}"]
        one = engine.score_table(small_model_with(sets), df).table
        np.testing.assert_allclose(overall[k], one["overall"], rtol=1e-12)
        assert [("not_awarded", "conditional", "awarded")[c] for c in codes[k]] == list(one["decision"])


def small_model_with(sets):
    from ims_indicators.score.model import model_from_dict

    return model_from_dict(small_raw(), "small", sets)


def test_probabilities_and_score_intervals():
    _mc, sens, table = run(small_model(), small_table())
    p = table[["p_awarded", "p_conditional", "p_not_awarded"]].sum(axis=1)
    np.testing.assert_allclose(p, 1.0)
    s3 = table.set_index("school_id").loc["s3"]
    assert s3["p_not_awarded"] == 1.0  # the gate fails whatever the weights
    assert s3["main_driver"] is None  # its decision never moves
    for name in ("overall", "d1", "d2"):
        assert (table[f"{name}_p05"] <= table[f"{name}_median"]).all()
        assert (table[f"{name}_median"] <= table[f"{name}_p95"]).all()
    assert not any(c.startswith("rank") for c in table.columns)  # a label, not a league table
    assert set(sens["factor"]) == {"weights", "targets", "normalise", "aggregate"}
    assert set(sens["output"]) == {"overall", "decision"}
    assert ((sens["total_order"] >= -0.1) & (sens["total_order"] <= 1.5)).all()


def test_monte_carlo_is_reproducible():
    a = run(small_model(), small_table(), draws=100, seed=5)[0]
    b = run(small_model(), small_table(), draws=100, seed=5)[0]
    np.testing.assert_array_equal(a.overall, b.overall)


def test_single_driver_gets_all_the_variance():
    rob = {"draws": 100, "weights": None, "targets": None, "normalise": ["distance_to_target", "minmax"],
           "aggregate": [], "impute": []}
    _, sens, _table = run(small_model(robustness=rob), small_table())
    moved = sens[(sens.output == "overall") & (sens.unit != "s3")]
    np.testing.assert_allclose(moved["first_order"], 1.0, atol=1e-9)
    np.testing.assert_allclose(moved["total_order"], 1.0, atol=1e-9)


def test_dirichlet_keeps_each_sibling_groups_total():
    rob = small_raw()["robustness"] | {"weights": {"method": "dirichlet", "concentration": 20}}
    model = small_model(robustness=rob)
    ev = robustness.Evaluator(model, engine.read_table(model, small_table()))
    w = ev._weights(np.random.default_rng(0).random((1000, len(model.tree.nodes) - 1)))
    nodes = model.tree.nodes
    np.testing.assert_allclose(w[:, [nodes.index("a"), nodes.index("b")]].sum(axis=1), 2.0)
    np.testing.assert_allclose(w[:, [nodes.index("c"), nodes.index("e")]].sum(axis=1), 4.0)
    assert w[:, nodes.index("e")].mean() == pytest.approx(3.0, abs=0.1)  # centred on the nominal share


def test_coinr_monte_carlo_with_imputation_choice():
    import pandas as pd

    model = load_model(MODELS / "coinr_asem.yaml")
    mc, sens, table = run(model, pd.read_csv(ASEM / "raw_indicators.csv"), draws=200)
    assert mc.codes is None and "p_awarded" not in table
    assert table["overall_median"].between(0, 100).all()
    assert set(sens["factor"]) == {"weights", "impute", "normalise", "aggregate"}
