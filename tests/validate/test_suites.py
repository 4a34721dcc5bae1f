"""Suites are files: derived from the contracts the first time, read from the file after; GX stays out of
the CLI's import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ims_indicators.contracts import contract
from ims_indicators.validate.suites import HELPER_COLUMNS, country_codes, load_suite, suite_path

REPO = Path(__file__).resolve().parents[2]
DATASETS = tuple(sorted(p.stem for p in (REPO / "expectations").glob("*.json")))


@pytest.mark.parametrize("dataset", DATASETS)
def test_committed_suite_agrees_with_the_contract(dataset: str):
    """The reviewed suite file is the truth for row rules; it must still guard every column as the contract says."""
    suite = json.loads((REPO / "expectations" / f"{dataset}.json").read_text())
    assert suite["name"] == dataset
    spec = contract(dataset)
    known = {*spec.names, "submission_id", "source_row", *HELPER_COLUMNS}
    by_type: dict[str, list[dict]] = {}
    for e in suite["expectations"]:
        assert e["meta"]["reason"] and e["severity"] in ("critical", "warning", "info"), e
        kw = e["kwargs"]
        named = [*kw.get("column_list", []), *(kw[k] for k in ("column", "column_A", "column_B") if k in kw)]
        assert set(named) <= known, f"{dataset}: {e['type']} names {set(named) - known}, not in the contract"
        by_type.setdefault(e["type"], []).append(e)
    critical_not_null = {e["kwargs"]["column"] for e in by_type["expect_column_values_to_not_be_null"]
                         if e["severity"] == "critical" and "row_condition" not in e["kwargs"]}
    assert set(spec.required) <= critical_not_null, f"required without a not-null: {set(spec.required) - critical_not_null}"
    in_set = {e["kwargs"]["column"]: e["kwargs"]["value_set"] for e in by_type.get("expect_column_values_to_be_in_set", [])}
    for c in spec.columns:
        if c.kind == "enum":
            assert in_set.get(c.name) == list(c.allowed), f"{c.name}: the suite's set differs from the contract"
        if c.kind == "country":
            assert set(in_set.get(c.name, [])) == set(country_codes()) and "XK" in in_set[c.name]
    between = [e["kwargs"] for e in by_type.get("expect_column_values_to_be_between", [])]
    for c in spec.columns:
        if c.min_value is not None:
            assert any(k["column"] == c.name and k.get("min_value") == c.min_value
                       and k.get("max_value") == c.max_value for k in between), f"{c.name}: no range {c.min_value}.."
    keys = [e["kwargs"]["column_list"] for e in by_type["expect_compound_columns_to_be_unique"]]
    assert ["submission_id", *spec.key] in keys
    assert [k for k in between if k["column"] == "_copy_no"] == [{"column": "_copy_no", "min_value": 1, "max_value": 1}]


def test_suite_created_from_code_then_read_from_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IMS_EXPECTATIONS_DIR", str(tmp_path / "exp"))
    path = suite_path("staffing")
    assert not path.exists()
    first = load_suite("staffing")
    assert path.exists() and json.loads(path.read_text())["expectations"] == first["expectations"]
    edited = json.loads(path.read_text())
    edited["expectations"] = edited["expectations"][:1]
    path.write_text(json.dumps(edited))
    assert load_suite("staffing")["expectations"] == edited["expectations"]  # the file wins from now on


def test_cli_import_does_not_import_great_expectations():
    code = ("import sys, ims_indicators.cli, ims_indicators.validate, ims_indicators.validate.cli; "
            "print(any(m.split('.')[0] == 'great_expectations' for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    helped = subprocess.run([sys.executable, "-m", "ims_indicators.cli", "validate", "--help"], capture_output=True,
                            text=True, check=False)
    assert helped.returncode == 0 and "--all" in helped.stdout


def _stage_schools(con, sid: str, rows: list[dict]) -> None:
    con.execute("INSERT INTO meta.submissions (submission_id, dataset, source, file_name, sha256, received_at, status, "
                "rows_in, rows_quarantined) VALUES (?, 'schools', 'school', 's.csv', ?, now(), 'staged', ?, 0)",
                [sid, sid, len(rows)])
    for n, r in enumerate(rows, start=2):
        con.execute("INSERT INTO staging.schools (submission_id, source_row, school_id, name, country_code, city, "
                    "network_role) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [sid, n, r["school_id"], r["name"], r["country_code"], r.get("city"), r["network_role"]])


def test_warning_reports_without_holding_back_and_a_broken_suite_says_so(home: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch):
    from ims_indicators.validate import check_staged
    from ims_indicators.validate.gxrun import SuiteError
    from ims_indicators.warehouse import open_warehouse

    folder = tmp_path / "exp"
    folder.mkdir()
    suite = json.loads((REPO / "expectations" / "schools.json").read_text())
    suite["expectations"].append({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "city"},
                                  "meta": {"family": "not_null", "reason": "city is empty; please add it"},
                                  "severity": "warning"})
    (folder / "schools.json").write_text(json.dumps(suite))
    monkeypatch.setenv("IMS_EXPECTATIONS_DIR", str(folder))
    good = {"school_id": "alpha", "name": "Alpha", "country_code": "DE", "city": "Berlin", "network_role": "partner"}
    with open_warehouse() as con:
        _stage_schools(con, "schools.w", [good, {**good, "school_id": "beta", "city": None}])
        [verdict] = check_staged(con, "schools", ["schools.w"])
        assert verdict.failures == []  # a warning is reported, the row kept
        runs = con.execute("SELECT severity, success, unexpected_count, observed_value FROM meta.validation_runs "
                           "WHERE column_name = 'city'").fetchall()
        assert runs == [("warning", False, 1, "1 of 2 rows unexpected: row 3: city is empty; please add it")]

        suite["expectations"].append({"type": "expect_column_values_to_not_be_null",
                                      "kwargs": {"column": "no_such_column"}, "meta": {"reason": "x"}})
        (folder / "schools.json").write_text(json.dumps(suite))
        with pytest.raises(SuiteError, match=r"expectations/schools.json: expect_column_values_to_not_be_null on "
                                             r"no_such_column cannot run"):
            check_staged(con, "schools", ["schools.w"])
