"""Templates generated from the contracts: every dataset, XLSX and CSV, filled and read back by the real reader."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from ims_indicators.cli import app
from ims_indicators.collection.templates import datasets, definition, write_template
from ims_indicators.contracts import CONTRACTS, Column, contract
from ims_indicators.read import read_submission

SCHOOL, YEAR = "charite", "2023/24"


def typed_value(col: Column, i: int):
    """A valid value of the column's kind for row ``i`` (what a keyholder would type)."""
    if col.name == "school_id":
        return SCHOOL
    if col.name == "academic_year":
        return YEAR
    lo = 0 if col.min_value is None else col.min_value
    if col.kind == "enum":
        return col.allowed[i % len(col.allowed)]
    if col.kind == "country":
        return ("DE", "FR", "IT")[i % 3]
    if col.kind == "bool":
        return i % 2 == 0
    if col.kind == "date":
        return dt.date(2023, 10, 1 + i)
    if col.kind == "int":
        return int(lo) + i if col.max_value is None else int(lo) + i % int(col.max_value - lo + 1)
    if col.kind == "float":
        return lo + 0.5 + i if col.max_value is None else lo + 0.25
    if col.kind == "slug":
        return f"school-{i}"
    if col.kind == "year":
        return YEAR
    return f"{col.name} value {i}"  # text, pseudonym


def typed_rows(dataset: str, n: int = 3) -> list[dict]:
    spec = contract(dataset)
    skip = {c for form in spec.forms[1:] for c in form} - set(spec.forms[0]) if spec.forms else set()
    return [{c.name: typed_value(c, i) for c in spec.columns if c.name not in skip} for i in range(n)]


def expected(dataset: str, rows: list[dict]) -> list[dict]:
    """What the reader gives back: every contract column exactly as typed (defaults where a column was left out)."""
    spec = contract(dataset)
    return [{c.name: row.get(c.name, c.default) for c in spec.columns} for row in rows]


def read_back(path: Path, dataset: str) -> tuple[list[dict], list[dict]]:
    con = duckdb.connect()
    per_year = CONTRACTS[dataset].per_year
    table, _, failures, _ = read_submission(con, path, dataset, school_id=SCHOOL if per_year else None,
                                         academic_year=YEAR if per_year else None)
    cur = con.execute(f"SELECT * EXCLUDE (source_row) FROM {table} ORDER BY source_row")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()], failures


@pytest.mark.parametrize("dataset", datasets())
def test_xlsx_template_round_trip(home: Path, dataset: str) -> None:
    path = write_template(dataset, home / "t", SCHOOL, YEAR, "xlsx")
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    names = [c.value for c in ws[2]]
    assert names == contract(dataset).names
    rows = typed_rows(dataset)
    for row in rows:
        ws.append([row.get(n) for n in names])
    wb.save(path)
    got, failures = read_back(path, dataset)
    assert failures == []
    assert got == expected(dataset, rows)


@pytest.mark.parametrize("dataset", datasets())
def test_csv_template_round_trip(home: Path, dataset: str) -> None:
    path = write_template(dataset, home / "t", SCHOOL, YEAR, "csv")
    rows = typed_rows(dataset)
    with path.open("a", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        for row in rows:
            w.writerow(["" if row.get(n) is None else str(row.get(n)).lower() if isinstance(row.get(n), bool)
                        else row.get(n) for n in contract(dataset).names])
    got, failures = read_back(path, dataset)
    assert failures == []
    assert got == expected(dataset, rows)


def test_xlsx_has_dropdowns_validation_messages_and_readme(home: Path) -> None:
    path = write_template("mobility", home / "t", SCHOOL, YEAR)
    wb = load_workbook(path)
    assert wb.sheetnames == ["mobility", "README", "lists"]
    ws = wb["mobility"]
    spec = contract("mobility")
    by_col: dict[str, object] = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            by_col[spec.names[rng.min_col - 1]] = dv
    assert set(by_col) == set(spec.names)  # every column validated and explained
    lists = wb["lists"]
    for col in spec.columns:
        dv = by_col[col.name]
        assert dv.prompt == definition(col)[:255] and dv.showInputMessage
        if col.kind in ("enum", "country", "bool") or col.name in ("school_id", "academic_year"):
            assert dv.type == "list", col.name
            letter = dv.formula1.split("!$")[1].split("$")[0]
            values = [c.value for c in lists[letter][1:] if c.value is not None]
            if col.kind == "enum":
                assert values == list(col.allowed)
        elif col.kind in ("int", "float"):
            assert dv.type == ("whole" if col.kind == "int" else "decimal")
        elif col.kind == "date":
            assert dv.type == "date"
    assert [c.value for c in lists["A"][1:] if c.value] == [SCHOOL]  # school pre-filled as the only choice
    readme = [[c.value for c in r] for r in wb["README"].iter_rows()]
    flat = {r[0]: r[1] for r in readme if r and r[0]}
    assert flat["submission deadline"] == "2024-11-30" and "student_survey" in flat["required datasets"]
    assert "due 2024-11-30" in ws["A1"].value and SCHOOL in ws["A1"].value and YEAR in ws["A1"].value
    assert {r[0] for r in readme if r and r[0]} >= set(spec.names)


def test_new_contract_gets_a_template_without_code_change(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ims_indicators.contracts import Contract

    extra = Contract("self_assessment_demo", "school × year × item",
                     (CONTRACTS["enrolment"].columns[0], CONTRACTS["enrolment"].columns[1],
                      Column("item_id", "enum", True, ("a1", "a2")), Column("evidence", "text")),
                     key=("school_id", "academic_year", "item_id"))
    monkeypatch.setitem(CONTRACTS, "self_assessment_demo", extra)
    assert "self_assessment_demo" in datasets()
    path = write_template("self_assessment_demo", home / "t", SCHOOL, YEAR)
    assert [c.value for c in load_workbook(path).worksheets[0][2]] == ["school_id", "academic_year", "item_id",
                                                                        "evidence"]


def test_cli_template(home: Path) -> None:
    runner = CliRunner()
    out = home / "m.xlsx"
    res = runner.invoke(app, ["template", "mobility", "--school", SCHOOL, "--year", "2023-24", "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    assert out.is_file() and str(out) in res.stdout
    res = runner.invoke(app, ["template", "nope", "--out", str(home / "x.xlsx")])
    assert res.exit_code == 1 and "unknown dataset 'nope'" in res.stderr
    res = runner.invoke(app, ["template", "staffing", "--year", "2023", "--out", str(home / "x.xlsx")])
    assert res.exit_code == 1 and "expected an academic year" in res.stderr
