"""`ims score` on the warehouse and on a CSV, and its error handling (exit 1, no traceback)."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from ims_indicators.score.cli import score_command
from ims_indicators.score.model import DataError, load_model
from ims_indicators.score.warehouse import score_warehouse, write_scores

from .conftest import ASEM, MODELS, small_table
from .test_model import LABEL_IDS

DIMENSIONS = ["quality_assurance", "staff", "autonomy_accountability", "student_mobility"]


@pytest.fixture
def app() -> typer.Typer:
    a = typer.Typer()
    a.command("score")(score_command)
    a.command("other")(lambda: None)
    return a


def indicator_values(n_schools: int = 8, years=("2022/23", "2023/24"), drop: str | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    model = load_model(MODELS / "label_v1.yaml")
    rows = []
    for year in years:
        for s in range(n_schools):
            for i in LABEL_IDS:
                if i == drop:
                    continue
                ind = model.indicators[i]
                if i == "aa_submission_completeness":
                    v = 0.5 if s == 6 else 1.0  # school 6 sent half its datasets: insufficient data
                elif ind.parent is None:
                    v = float(s != 3)  # school 3 has no valid accreditation
                else:
                    lo, hi = sorted([ind.worst, ind.target])
                    v = lo + (hi - lo) * rng.uniform(0.2, 1.1)
                computable = not (s == 5 and i == "mob_balance")
                den = 40.0 if ind.error != "none" else None
                num = v * den if den else None
                rows.append((f"school{s}", year, i, v, num, den, computable, None if computable else "n < 5"))
    return pd.DataFrame(rows, columns=["school_id", "academic_year", "indicator_id", "value", "numerator",
                                       "denominator", "computable", "reason"])


def make_warehouse(path, frame: pd.DataFrame) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.register("iv", frame)
        con.execute("""create table marts.indicator_values as select school_id::VARCHAR school_id,
                       academic_year::VARCHAR academic_year, indicator_id::VARCHAR indicator_id, value::DOUBLE value,
                       numerator::DOUBLE numerator, denominator::DOUBLE denominator,
                       computable::BOOLEAN computable, reason::VARCHAR reason from iv""")


def test_score_warehouse_writes_label_tables(tmp_path):
    db = tmp_path / "w.duckdb"
    make_warehouse(db, indicator_values())
    model = load_model(MODELS / "label_v1.yaml")
    with duckdb.connect(str(db)) as con:
        scores = score_warehouse(con, model, draws=200, seed=1)
        written = write_scores(con, scores)
        res = con.execute("select * from marts.label_results order by academic_year, school_id").df()
        rob = con.execute("select * from marts.label_robustness").df()
        sens = con.execute("select * from marts.label_sensitivity").df()
    assert written["marts.label_results"] == 16 and len(rob) == 16 and len(sens) > 0
    for col in ["school_id", "academic_year", *DIMENSIONS, "overall", "decision", "reasons", "model_version",
                "data_snapshot"]:
        assert col in res.columns
    assert set(res["model_version"]) == {"2.0.0"} and set(res["model_name"]) == {"label_v1"}
    assert res["data_snapshot"].str.startswith("marts.indicator_values@").all()
    assert res.groupby("academic_year")["data_snapshot"].nunique().eq(1).all()
    s3 = res[res.school_id == "school3"]
    assert (s3["decision"] == "not_awarded").all() and s3["reasons"].str.contains("gate accreditation").all()
    assert set(res["decision"]) <= {"awarded", "conditional", "not_awarded", "refer_to_panel", "insufficient_data"}
    assert (res.loc[res.school_id == "school6", "decision"] == "insufficient_data").all()
    assert "mob_balance" in res.loc[res.school_id == "school5", "imputed"].iloc[0]  # impute worst
    merged = res.merge(rob, on=["school_id", "academic_year"], suffixes=("", "_rob"))
    assert (merged.loc[merged.decision == "awarded", "p_awarded"] >= 0.8).all()
    assert (merged.loc[merged.decision == "not_awarded", "p_not_awarded"] >= 0.8).all()
    assert (merged["decision"] == merged["decision_rob"]).all()
    for col in ["p_awarded", "p_conditional", "p_not_awarded", "overall_p05", "overall_p95", "staff_p05",
                "main_driver", "decision_reason"]:
        assert col in rob.columns
    assert not [c for c in rob.columns if c.startswith("rank")]
    np.testing.assert_allclose(rob[["p_awarded", "p_conditional", "p_not_awarded"]].sum(axis=1), 1.0)


def test_missing_indicator_in_warehouse_is_named(tmp_path):
    db = tmp_path / "w.duckdb"
    make_warehouse(db, indicator_values(drop="staff_trained_share"))
    with duckdb.connect(str(db)) as con, pytest.raises(DataError, match="indicator 'staff_trained_share'"):
        score_warehouse(con, load_model(MODELS / "label_v1.yaml"), draws=0)


def test_cli_warehouse_mode(tmp_path, monkeypatch, app):
    monkeypatch.setenv("IMS_HOME", str(tmp_path))
    monkeypatch.setenv("IMS_WAREHOUSE", str(tmp_path / "data" / "warehouse.duckdb"))
    (tmp_path / "data").mkdir()
    make_warehouse(tmp_path / "data" / "warehouse.duckdb", indicator_values(n_schools=5, years=("2023/24",)))
    res = CliRunner().invoke(app, ["score", "--model", str(MODELS / "label_v1.yaml"), "--draws", "100", "--json",
                                   "--out", str(tmp_path / "results.csv")])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert len(payload["results"]) == 5 and len(payload["robustness"]) == 5
    assert len(pd.read_csv(tmp_path / "results.csv")) == 5
    assert "marts.label_results: 5 rows" in res.stderr


def test_cli_warehouse_without_indicator_values(tmp_path, monkeypatch, app):
    monkeypatch.setenv("IMS_HOME", str(tmp_path))
    res = CliRunner().invoke(app, ["score", "--model", str(MODELS / "label_v1.yaml")])
    assert res.exit_code == 1
    assert "marts.indicator_values: table not found" in res.stderr and "Traceback" not in res.output


def test_cli_csv_with_set_and_draws(tmp_path, app):
    src = tmp_path / "in.csv"
    small_table().to_csv(src, index=False)
    model = tmp_path / "m.yaml"
    import yaml

    from .conftest import small_raw

    model.write_text(yaml.safe_dump(small_raw()))
    out = tmp_path / "out" / "scores.csv"
    res = CliRunner().invoke(app, ["score", "--model", str(model), "--input", str(src), "--out", str(out),
                                   "--set", "aggregate.method=geometric", "--draws", "100", "--seed", "3"])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out)
    assert got.loc[got.school_id == "s1", "overall"].iloc[0] < 73.75  # geometric <= arithmetic
    assert (tmp_path / "out" / "scores_robustness.csv").exists()
    assert (tmp_path / "out" / "scores_sensitivity.csv").exists()


def test_cli_semicolon_csv_to_stdout(tmp_path, app):
    src = tmp_path / "in.csv"
    small_table().to_csv(src, index=False, sep=";", decimal=",")
    model = tmp_path / "m.yaml"
    import yaml

    from .conftest import small_raw

    model.write_text(yaml.safe_dump(small_raw()))
    res = CliRunner().invoke(app, ["score", "--model", str(model), "--input", str(src)])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("school_id,region,overall,d1,d2,rank,decision")


@pytest.mark.parametrize("args, message", [
    (["--model", "nope.yaml", "--input", "x.csv"], "model file not found"),
    (["--set", "normalise.methd=zscore"], "unknown key 'normalise.methd'"),
    (["--set", "aggregate.method=median"], "aggregate.method: Input should be"),
    (["--input", "missing.csv"], "missing.csv: input file not found"),
    (["--input", str(ASEM / "expected_index.csv")], "column 'GDP_group'"),
])
def test_cli_errors_exit_1_without_traceback(app, args, message):
    if "--model" not in args:
        args = ["--model", str(MODELS / "coinr_asem.yaml"), *args]
        if "--input" not in args:
            args += ["--input", str(ASEM / "raw_indicators.csv")]
    res = CliRunner().invoke(app, ["score", *args])
    assert res.exit_code == 1, res.output
    assert message in res.stderr
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


def test_self_assessment_and_panel_from_curated_tables(tmp_path):
    """A&A comes from curated.self_assessment (scored by the catalogue); the panel settles a referred school."""
    from ims_indicators.contracts import SELF_ASSESSMENT_ITEMS

    frame = indicator_values(n_schools=4, years=("2023/24",))
    frame = frame[~frame["indicator_id"].str.startswith("sa_")]
    db = tmp_path / "w.duckdb"
    make_warehouse(db, frame)
    # the panel settles every decision here, so its effect does not depend on the Monte Carlo's outcome
    model = load_model(MODELS / "label_v1.yaml", ["panel.applies_to=[refer_to_panel, conditional, not_awarded, awarded]"])
    with duckdb.connect(str(db)) as con:
        con.execute("create schema curated")
        con.execute("create table curated.self_assessment (school_id VARCHAR, academic_year VARCHAR, "
                    "item_id VARCHAR, answer VARCHAR, evidence VARCHAR)")
        answers = {"yes_no": "yes", "share": "0.05", "scale_1_4": "4", "text": "context"}
        from ims_indicators.demo.assessment import ANSWER_TYPES

        for s in ("school0", "school1"):  # school2 and school3 sent no self-assessment
            con.executemany("insert into curated.self_assessment values (?, '2023/24', ?, ?, '')",
                            [(s, i, answers[ANSWER_TYPES[i]] if s == "school0" else "no")
                             for i in SELF_ASSESSMENT_ITEMS])
        con.execute("create table curated.panel_assessment (school_id VARCHAR, academic_year VARCHAR, "
                    "standard VARCHAR, rating VARCHAR, panel_size BIGINT, date DATE, rationale VARCHAR)")
        con.executemany("insert into curated.panel_assessment values (?, '2023/24', ?, ?, 3, '2024-03-01', 'r')",
                        [("school0", std, "excellent") for std in model.panel.standards])
        res = score_warehouse(con, model, draws=100, seed=1).results.set_index("school_id")
    assert res.loc["school0", "autonomy_accountability"] == pytest.approx(100.0)  # every item at the top
    assert res.loc["school1", "autonomy_accountability"] < 10  # "no" scores 0 (shares and scales unreadable)
    assert res.loc["school2", "autonomy_accountability"] == 0.0  # nothing sent: worst, never skipped
    assert "sa_acc_public_report" in res.loc["school2", "imputed"]
    s0 = res.loc["school0"]
    assert s0["decision"] == "awarded" and s0["decision_basis"] == "panel" and "panel:" in s0["decision_reason"]
    assert (res.drop(index="school0")["decision_basis"] != "panel").all()  # no ratings, no panel
