"""The model file: loading, validation messages and --set overrides."""

from __future__ import annotations

import pandas as pd
import pytest

from ims_indicators.score.engine import score_table
from ims_indicators.score.model import DataError, ModelError, load_model, model_from_dict

from .conftest import MODELS, small_raw, small_table

LABEL_IDS = ["qa_valid_accreditation", "qa_wfme_recognised", "aa_submission_completeness", "qa_open_conditions",
             "qa_ects_recognition_rate", "staff_international_share", "staff_international_experience",
             "staff_outgoing_mobility_per_100_fte", "staff_trained_share", "staff_teaching_english_share",
             "sa_org_international_structure", "sa_fin_internationalisation_budget", "sa_staff_recruitment",
             "sa_staff_international_promotion", "sa_acad_international_intake", "sa_acad_recognition",
             "sa_acad_english_teaching", "sa_acc_strategy_targets", "sa_acc_public_report", "sa_acc_quality_cycle",
             "mob_outgoing_per_100_graduates", "mob_incoming_per_100_students", "mob_international_degree_share",
             "mob_balance", "mob_partner_countries", "mob_ects_english_share", "survey_overall_study_situation",
             "survey_teaching", "survey_clinical_training"]


def test_label_v1_loads():
    m = load_model(MODELS / "label_v1.yaml")
    assert sorted(m.indicators) == sorted(LABEL_IDS)
    assert m.tree.root == "overall"
    assert m.tree.dimensions == ["quality_assurance", "staff", "autonomy_accountability", "student_mobility",
                                 "teaching_learning"]
    assert m.tree.gate_only == ["qa_valid_accreditation", "qa_wfme_recognised", "aa_submission_completeness"]
    assert m.gate_exprs["accreditation"].names() == {"qa_valid_accreditation", "qa_wfme_recognised"}


def test_label_v2_scores_no_submission_behaviour():
    """Issue 14: data quality is a publication condition, never part of the score; a new major version."""
    m = load_model(MODELS / "label_v1.yaml")
    assert m.version.split(".")[0] == "2"
    assert not [i for i in m.tree.indicators if i.startswith("aa_")]
    assert m.gates["publication"].on_fail == "insufficient_data"
    assert m.gate_exprs["publication"].names() == {"aa_submission_completeness"}
    autonomy = [i for i in m.tree.indicators if m.indicators[i].parent == "autonomy_accountability"]
    assert autonomy and all(i.startswith("sa_") for i in autonomy)
    assert m.impute.method == "worst" and m.decision.probability.awarded == 0.8
    assert not m.robustness.normalise and not m.robustness.impute  # no relative normalisation varied
    assert set(m.panel.standards) >= set(m.tree.dimensions) - {"overall"}


def test_coinr_model_tree():
    m = load_model(MODELS / "coinr_asem.yaml")
    assert len(m.tree.indicators) == 49 and m.tree.root == "Index"
    assert [lev for lev, *_ in m.tree.levels] == [2, 3, 4]


@pytest.mark.parametrize("key, value, check", [
    ("normalise.method", "zscore", lambda m: m.normalise.method == "zscore"),
    ("aggregate.method", "geometric", lambda m: m.aggregate.method == "geometric"),
    ("aggregate.by_level.3", "harmonic", lambda m: m.aggregate.by_level[3] == "harmonic"),
    ("normalise.range", "[0, 10]", lambda m: m.normalise.range == (0, 10)),
    ("indicators.a.weight", "2.5", lambda m: m.indicators["a"].weight == 2.5),
    ("decision.awarded.overall_min", "70", lambda m: m.decision.awarded.overall_min == 70),
    ("robustness.impute", "[none, mean]", lambda m: m.robustness.impute == ["none", "mean"]),
])
def test_set_overrides(key, value, check):
    m = model_from_dict(small_raw(), "small", [f"{key}={value}"])
    assert check(m)
    assert m.sha256() != model_from_dict(small_raw(), "small").sha256()


@pytest.mark.parametrize("assignment, message", [
    ("normalize.method=zscore", "unknown key 'normalize'"),
    ("normalise.methd=zscore", "unknown key 'normalise.methd' (valid: method, range, mean_sd, m_sd"),
    ("normalise.method=fancy", "normalise.method: Input should be"),
    ("indicators.zz.weight=2", "no 'zz' in indicators"),
    ("indicators.a.weight=-1", "indicators.a.weight: Input should be greater than or equal to 0"),
    ("normalise.method.x=1", "is a value"),
    ("normalise", "expected KEY=VALUE"),
    ("aggregate.by_level.1=geometric", "level 1 is not an aggregation level"),
])
def test_bad_overrides_name_the_key(assignment, message):
    with pytest.raises(ModelError, match=None) as exc:
        model_from_dict(small_raw(), "small", [assignment])
    assert message in str(exc.value)


@pytest.mark.parametrize("change, message", [
    (lambda r: r["indicators"]["a"].update(parent="nowhere"), "indicators.a.parent: 'nowhere' is not an aggregate"),
    (lambda r: r["aggregates"]["d1"].update(parent="d2"), "children sit at different levels"),
    (lambda r: r["aggregates"].update(extra={}), "exactly one aggregate must have no parent"),
    (lambda r: r["gates"]["accreditation"].update(rule="accreditd >= 1"), "accreditd is not an indicator"),
    (lambda r: r["gates"]["accreditation"].update(rule="accredited >="), "gates.accreditation.rule"),
    (lambda r: r["indicators"]["b"].pop("target"), "indicators.b.target: needed by the distance_to_target"),
    (lambda r: r["indicators"]["c"].update(worst=-5), "disagree with direction -1"),
    (lambda r: r.update(impute={"method": "group_mean"}), "impute.group"),
    (lambda r: r["indicators"]["a"].update(colour="red"), "indicators.a.colour: Extra inputs are not permitted"),
])
def test_invalid_models_are_explained(change, message):
    raw = small_raw()
    change(raw)
    with pytest.raises(ModelError) as exc:
        model_from_dict(raw, "small")
    assert message in str(exc.value)


def test_cycle_is_refused():
    raw = small_raw()
    raw["aggregates"] = {"d1": {"parent": "d2"}, "d2": {"parent": "d1"}, "overall": {}}
    raw["indicators"]["c"]["parent"] = "overall"
    raw["indicators"]["e"]["parent"] = "overall"
    with pytest.raises(ModelError):
        model_from_dict(raw, "small")


def test_bad_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ModelError, match="not valid YAML"):
        load_model(bad)
    with pytest.raises(ModelError, match="model file not found"):
        load_model(tmp_path / "nope.yaml")


def test_indicator_missing_from_data_is_named(model):
    with pytest.raises(DataError, match="indicator 'e' of model small 0.1 is missing from the data"):
        score_table(model, small_table().drop(columns=["e"]))


def test_label_v1_names_missing_indicator():
    m = load_model(MODELS / "label_v1.yaml")
    df = pd.DataFrame({"school_id": ["x"], **{i: [1.0] for i in LABEL_IDS if i != "mob_balance"}})
    with pytest.raises(DataError, match="indicator 'mob_balance'"):
        score_table(m, df)


def test_non_numeric_cell_and_duplicate_id(model, table):
    with pytest.raises(DataError, match="row 3, column a: expected a number, found 'n/a!'"):
        score_table(model, table.astype({"a": object}).assign(a=[1, "n/a!", 3, 4]))
    with pytest.raises(DataError, match="row 3, column school_id: duplicate unit id 's1'"):
        score_table(model, table.assign(school_id=["s1", "s1", "s3", "s4"]))
