"""Issue 14: decisions under uncertainty, sampling distributions, "a missing part never raises a score",
the panel stage and the self-assessment items."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ims_indicators.contracts import PANEL_STANDARDS, SELF_ASSESSMENT_ITEMS
from ims_indicators.score import engine, robustness
from ims_indicators.score.model import DECISION_ORDER, ModelError, ProbabilityRule, load_model, model_from_dict
from ims_indicators.score.panel import panel_decision, settle
from ims_indicators.score.self_assessment import load_catalogue, score_answer

from .conftest import MODELS, ROOT, small_raw

# ------------------------------------------------------------------------- decision rule at the boundaries
RULE = ProbabilityRule(awarded=0.8, not_awarded=0.8, conditional=0.8)


@pytest.mark.parametrize("p_aw, p_cond, p_na, expected", [
    (0.8, 0.1, 0.1, "awarded"),              # exactly on the boundary: awarded
    (0.7999, 0.1, 0.1001, "conditional"),    # just below: not awarded; P(conditional or better) 0.8999
    (0.1, 0.1, 0.8, "not_awarded"),          # exactly on the not-awarded boundary
    (0.1, 0.1001, 0.7999, "refer_to_panel"),  # just below both: the panel decides
    (0.5, 0.29, 0.21, "refer_to_panel"),     # P(conditional or better) 0.79
    (0.0, 0.8, 0.2, "conditional"),
])
def test_decision_rule_at_both_probability_boundaries(p_aw, p_cond, p_na, expected):
    decision, reason = robustness.decide(RULE, p_aw, p_cond, p_na)
    assert decision == expected and reason


def test_decision_thresholds_come_from_the_model_file():
    m = load_model(MODELS / "label_v1.yaml", ["decision.probability.awarded=0.9"])
    assert robustness.decide(m.decision.probability, 0.85, 0.15, 0.0)[0] == "conditional"
    with pytest.raises(ModelError, match="depend on who else submitted"):
        load_model(MODELS / "label_v1.yaml", ["robustness.normalise=[distance_to_target, minmax]"])


# ------------------------------------------------------------------------------- sampling distributions
Z = np.array([-1.0, 0.0, 1.0])


def test_share_draw_is_the_jeffreys_beta_spread():
    # k = 12 of n = 40: a = 12.5, b = 28.5, sd = sqrt(a b / ((a + b)^2 (a + b + 1)))
    sd = np.sqrt(12.5 * 28.5 / (41**2 * 42))
    np.testing.assert_allclose(robustness.perturb("share", np.full(3, 0.3), np.full(3, 40.0), Z),
                               [0.3 - sd, 0.3, 0.3 + sd])
    # clipped to [0, 1]; a bigger base gives a narrower spread
    assert robustness.perturb("share", np.array([1.0]), np.array([5.0]), np.array([3.0]))[0] == 1.0
    wide = robustness.perturb("share", np.array([0.3]), np.array([10.0]), np.array([1.0]))[0]
    assert wide - 0.3 > sd


def test_count_draw_is_poisson_around_the_count():
    # a rate 7.5 behind k = 15 events: k + z sqrt(k + 1/2), scaled back to the rate
    got = robustness.perturb("count", np.full(3, 7.5), np.full(3, 15.0), Z)
    np.testing.assert_allclose(got, 7.5 * (15 + Z * np.sqrt(15.5)) / 15)
    assert robustness.perturb("count", np.array([0.5]), np.array([1.0]), np.array([-5.0]))[0] == 0.0  # never < 0


def test_mean_draw_is_s_over_root_n():
    np.testing.assert_allclose(robustness.perturb("mean", np.full(3, 2.0), np.full(3, 25.0), Z, sd=1.0),
                               [1.8, 2.0, 2.2])


def test_monte_carlo_draws_follow_the_distributions():
    """Sampled through the Evaluator (uniforms -> normal quantiles): mean and sd as stated."""
    raw = small_raw()
    raw["indicators"]["a"] |= {"error": "share", "target": 1, "worst": 0}
    raw["robustness"] = {"data_error": True, "draws": 4000}
    raw["impute"] = {"method": "worst"}
    m = model_from_dict(raw)
    df = pd.DataFrame({"school_id": ["s1"], "region": ["n"], "accredited": [1], "a": [0.3], "a__base": [40.0],
                       "b": [50.0], "c": [5.0], "e": [50.0]})
    ev = robustness.Evaluator(m, engine.read_table(m, df))
    x = ev._data(ev.prepared["worst"].x, ev.prepared["worst"].kept, np.random.default_rng(2).random((4000, 1)))
    draws = x[:, 0, 0]
    assert draws.mean() == pytest.approx(0.3, abs=0.005)
    assert draws.std() == pytest.approx(np.sqrt(12.5 * 28.5 / (41**2 * 42)), rel=0.05)


# ------------------------------------------------------------------------ a missing part never raises
def never_raises_model():
    raw = small_raw()
    raw["impute"] = {"method": "worst"}
    raw["decision"]["probability"] = {"awarded": 0.8, "not_awarded": 0.8, "conditional": 0.8}
    raw["indicators"]["a"]["error"] = "share"
    raw["indicators"]["a"] |= {"target": 1, "worst": 0}
    raw["indicators"]["e"]["error"] = "count"
    raw["robustness"] = {"draws": 200, "weights": {"spread": 0.25}, "targets": {"spread": 0.1, "worst": True},
                         "thresholds": {"spread": 5}, "aggregate": ["arithmetic", "geometric"],
                         "leave_one_out": True, "data_error": True, "sensitivity": {"enabled": False}}
    return model_from_dict(raw, "never-raises")


MODEL = never_raises_model()
DATASETS = {"d1_dataset": ["a", "b"], "survey_like": ["c"], "e_dataset": ["e"]}

unit = st.fixed_dictionaries({
    "a": st.floats(0, 1), "b": st.floats(0, 100), "c": st.floats(0, 10), "e": st.floats(0, 100),
    "a__base": st.integers(1, 200).map(float), "e__base": st.integers(1, 50).map(float)})


def decide_all(df: pd.DataFrame) -> pd.DataFrame:
    data = engine.read_table(MODEL, df)
    nominal = engine.score_table(MODEL, df).table
    mc = robustness.monte_carlo(MODEL, data, 200, seed=3)
    rob = robustness.robustness_table(MODEL, nominal, mc)
    return nominal[["school_id", "overall"]].merge(rob, on="school_id")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units=st.lists(unit, min_size=1, max_size=4), who=st.integers(0, 3),
       removed=st.sets(st.sampled_from(sorted(DATASETS)), min_size=1))
def test_removing_a_dataset_never_raises_the_score_nor_the_decision(units, who, removed):
    df = pd.DataFrame(units)
    df.insert(0, "school_id", [f"s{k}" for k in range(len(df))])
    df["region"], df["accredited"] = "n", 1.0
    who = who % len(df)
    cut = df.copy()
    for ds in removed:
        for col in DATASETS[ds]:
            cut.loc[who, col] = np.nan
            if f"{col}__base" in cut:
                cut.loc[who, f"{col}__base"] = np.nan
    full, less = decide_all(df).iloc[who], decide_all(cut).iloc[who]
    if not np.isnan(less["overall"]):
        assert less["overall"] <= full["overall"] + 1e-9
    assert less["p_awarded"] <= full["p_awarded"] + 1e-12
    assert less["p_not_awarded"] >= full["p_not_awarded"] - 1e-12
    assert DECISION_ORDER[less["decision"]] <= DECISION_ORDER[full["decision"]]


def test_missing_survey_scores_the_bottom_not_skipped():
    """Before 2.0.0 a school without survey data skipped the dimension (weights rescaled): sending a weak
    survey could lower its score. Now the missing survey counts as worst."""
    df = pd.DataFrame({"school_id": ["s1"], "region": ["n"], "accredited": [1], "a": [0.8], "b": [80.0],
                       "c": [np.nan], "e": [np.nan]})
    t = engine.score_table(MODEL, df).table.iloc[0]
    assert t["d2"] == 0.0 and t["overall"] == pytest.approx((80 + 80) / 2 / 2)
    assert t["imputed"] == "c;e"


def test_every_label_decision_is_in_the_published_set():
    assert set(DECISION_ORDER) == {"awarded", "conditional", "not_awarded", "refer_to_panel", "insufficient_data"}


# ------------------------------------------------------------------------------------------- the panel
PANEL = load_model(MODELS / "label_v1.yaml").panel


def ratings(*values):
    return dict(zip(PANEL.standards, values))


@pytest.mark.parametrize("values, expected", [
    (("satisfactory", "satisfactory", "excellent", "satisfactory", "satisfactory"), "awarded"),
    (("satisfactory",) * 5, "conditional"),           # no excellent standard
    (("excellent", "partially", "excellent", "excellent", "excellent"), "conditional"),  # one only partially met
    (("excellent", "unsatisfactory", "excellent", "excellent", "excellent"), "not_awarded"),
])
def test_panel_combination_rules(values, expected):
    assert panel_decision(PANEL, ratings(*values))[0] == expected


def test_incomplete_panel_keeps_the_referral():
    dec, reason = panel_decision(PANEL, {"staff": "excellent"})
    assert dec is None and "missing for quality_assurance" in reason
    table = pd.DataFrame({"school_id": ["x", "y"], "academic_year": ["2023/24"] * 2,
                          "decision": ["refer_to_panel", "awarded"], "decision_reason": ["uncertain", "P ok"]})
    r = pd.DataFrame({"school_id": ["x", "y"] * 5, "academic_year": "2023/24",
                      "standard": [s for s in PANEL.standards for _ in range(2)], "rating": "excellent"})
    out = settle(PANEL, table, r)
    assert list(out["decision"]) == ["awarded", "awarded"] and list(out["decision_basis"]) == ["panel", "score"]
    assert out.loc[0, "decision_reason"].startswith("uncertain; panel:")  # both reasons kept


def test_panel_standards_match_the_contract_and_cover_every_dimension():
    m = load_model(MODELS / "label_v1.yaml")
    assert tuple(m.panel.standards) == PANEL_STANDARDS
    assert {s.dimension for s in m.panel.standards.values()} == set(m.tree.dimensions)


# ------------------------------------------------------------------------------------ self-assessment
CAT = load_catalogue(ROOT / "catalogue" / "self_assessment.yaml")
ITEM = {i.id: i for i in CAT.items}


@pytest.mark.parametrize("item, answer, expected", [
    ("sa_acc_public_report", "yes", 1.0), ("sa_acc_public_report", "Nein", 0.0), ("sa_acc_public_report", "maybe", None),
    ("sa_fin_internationalisation_budget", "0.025", 0.5),   # share / target 0.05
    ("sa_fin_internationalisation_budget", "2,5 %", 0.5),   # a percentage with a decimal comma
    ("sa_fin_internationalisation_budget", "0.2", 1.0),     # above the target: capped at 1
    ("sa_fin_internationalisation_budget", "1.5", None),    # not a share
    ("sa_acc_quality_cycle", "1", 0.0), ("sa_acc_quality_cycle", "3", 2 / 3), ("sa_acc_quality_cycle", "4", 1.0),
    ("sa_acc_quality_cycle", "5", None),
    ("sa_comments", "anything", None),                      # text: evidence, never scored
])
def test_each_item_type_scored_by_hand(item, answer, expected):
    got = score_answer(ITEM[item], answer)
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_catalogue_contract_and_model_agree():
    m = load_model(MODELS / "label_v1.yaml")
    assert tuple(i.id for i in CAT.items) == SELF_ASSESSMENT_ITEMS
    assert sorted(CAT.scored_ids()) == sorted(i for i in m.tree.indicators if i.startswith("sa_"))
    assert {i.answer_type for i in CAT.items} == {"yes_no", "share", "scale_1_4", "text"}
    dims = {i.dimension for i in CAT.items}
    assert {"organisational_autonomy", "financial_autonomy", "staffing_autonomy", "academic_autonomy",
            "accountability"} == dims
    assert all(i.source for i in CAT.items)


def test_decision_in_words_for_the_label_page():
    from ims_indicators.report.html import decision_certainty

    probs = {"awarded": 0.93, "conditional": 0.05, "not_awarded": 0.02}
    assert decision_certainty("awarded", probs) == "holds in 93% of plausible variations"
    assert decision_certainty("conditional", probs) == "holds in 98% of plausible variations"
    referred = decision_certainty("refer_to_panel", {"awarded": 0.5, "conditional": 0.3, "not_awarded": 0.2})
    assert referred.startswith("no outcome is sure enough") and "awarded, holds in 50%" in referred
