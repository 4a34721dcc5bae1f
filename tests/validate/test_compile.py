"""Parity: the compiled SQL of every suite in expectations/ finds exactly the rows Great Expectations finds.

The fixtures are written here from the contracts: a few hundred rows per dataset drawn from small pools of
valid, empty and wrong values, so every expectation of every suite fails on some rows (asserted), key clashes
and exact copies included. The expectation types are read from the suite files, so a new type without a SQL
form fails this test.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pandas as pd
import pytest

from ims_indicators.contracts import contract
from ims_indicators.validate.compile import UnsupportedExpectation, compile_suite, condition_sql
from ims_indicators.validate.frames import build_validation_frame, frames
from ims_indicators.validate.run import sql_findings
from ims_indicators.validate.gxrun import make_runner, run_chunks
from ims_indicators.warehouse import connect

REPO = Path(__file__).resolve().parents[2]
SUITES = {p.stem: json.loads(p.read_text()) for p in sorted((REPO / "expectations").glob("*.json"))}
TYPES_IN_USE = sorted({e["type"] for s in SUITES.values() for e in s["expectations"]})


def _pool(col) -> list:
    if col.kind == "enum":
        return [*col.allowed[:3], None, "zzz"]
    if col.kind == "country":
        return ["DE", "FR", None, "ZZ"]
    if col.kind == "year":
        return ["2023/24", "2022/23", None]
    if col.kind == "slug":
        return ["a-school", "b-school", None]
    if col.kind == "int":
        return [0, 1, 3, 20, -1, 7, None]
    if col.kind == "float":
        return [0.0, 2.5, 30.0, -1.5, 7.0, None]
    if col.kind == "date":
        return [dt.date(2022, 3, 1), dt.date(2023, 10, 1), dt.date(2024, 2, 1), dt.date(2025, 1, 1), None]
    if col.kind == "bool":
        return [True, False, None]
    return ["x", "y", None]  # text, pseudonym


def _staged(dataset: str, n: int = 400, seed: int = 7) -> pd.DataFrame:
    rng = random.Random(seed)
    spec = contract(dataset)
    pools = {c.name: _pool(c) for c in spec.columns}
    records = []
    for i in range(n):
        rec = {"submission_id": f"{dataset}.s{i % 2}", "source_row": i + 2}
        rec.update({name: rng.choice(pool) for name, pool in pools.items()})
        records.append(rec)
    for i in range(0, n, 37):  # exact copies of an earlier row of the same submission
        copy = dict(records[i])
        copy["source_row"] = n + 2 + i
        records.append(copy)
    optional = [c.name for c in spec.columns if not c.required and c.name not in spec.key]
    texts = [c.name for c in spec.columns if c.kind == "text" and c.name in optional]
    for i in range(5, n, 41) if texts else ():  # a key clash between rows empty but for one text column
        records[i].update({c: None for c in optional})
        clash = {**records[i], "source_row": 2 * n + i, texts[0]: "a different note"}
        records.append(clash)
    open_key = [c.name for c in spec.columns if c.name in spec.key and not c.required]  # e.g. a survey's
    for i in range(11, n, 43) if texts and open_key else ():  # summary rows: a key clash between two of them
        records[i].update({c: None for c in optional + open_key if c not in texts})
        records.append({**records[i], "source_row": 3 * n + i, texts[0]: "another note"})
    return pd.DataFrame(records)


def _load(con, dataset: str, df: pd.DataFrame) -> None:
    spec = contract(dataset)
    cols = ", ".join(f'"{c.name}" {c.sql_type}' for c in spec.columns)
    con.execute(f"CREATE OR REPLACE TABLE fixture (submission_id VARCHAR, source_row BIGINT, {cols})")
    con.register("_df", df)
    con.execute("INSERT INTO fixture SELECT * FROM _df")
    con.unregister("_df")


def _gx_findings(con, dataset: str, suite: dict) -> set[tuple]:
    n = build_validation_frame(con, dataset, sorted({f"{dataset}.s0", f"{dataset}.s1"}), "fixture", chunk=10**6)
    runner = make_runner(dataset, suite, mode="ephemeral", docs=False)
    found, _ = run_chunks(runner, frames(con, n))
    return {(f["submission_id"], f["source_row"], f["rule"], f["column"], f["reason"], f["severity"]) for f in found}


def _sql_findings(con, dataset: str, suite: dict) -> set[tuple]:
    """What production runs for large submissions and open data: the compiled suite over the frame view."""
    found, _ = sql_findings(con, dataset, suite, sorted({f"{dataset}.s0", f"{dataset}.s1"}), "fixture")
    return {(f["submission_id"], f["source_row"], f["rule"], f["column"], f["reason"], f["severity"]) for f in found}


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[set, set]]:
    con = connect(tmp_path_factory.mktemp("parity") / "w.duckdb")
    out = {}
    try:
        for dataset, suite in SUITES.items():
            _load(con, dataset, _staged(dataset))
            gx_found = _gx_findings(con, dataset, suite)
            out[dataset] = (gx_found, _sql_findings(con, dataset, suite))
    finally:
        con.close()
    return out


@pytest.mark.parametrize("dataset", sorted(SUITES))
def test_compiled_sql_finds_the_same_rows_and_reasons_as_great_expectations(findings, dataset: str):
    gx_found, sql_found = findings[dataset]
    assert gx_found, f"the {dataset} fixture makes no expectation fail"
    assert sql_found - gx_found == set(), sorted(sql_found - gx_found)[:5]
    assert gx_found - sql_found == set(), sorted(gx_found - sql_found)[:5]


@pytest.mark.parametrize("kind", TYPES_IN_USE)
def test_every_expectation_type_in_the_suites_is_compiled_and_exercised(findings, kind: str):
    """Each type used in expectations/*.json fails on some fixture rows in GX, and the SQL agrees on them."""
    gx_rows = {f for g, _ in findings.values() for f in g if f[2] == kind}
    sql_rows = {f for _, s in findings.values() for f in s if f[2] == kind}
    assert gx_rows, f"no fixture row fails {kind}: the parity test does not exercise it"
    assert gx_rows == sql_rows


def test_every_expectation_of_every_suite_fails_somewhere(findings):
    """Not only each type: each expectation (type × columns) is exercised by the fixtures."""
    for dataset, suite in SUITES.items():
        hit = {(f[2], f[3]) for f in findings[dataset][0]}
        for e in suite["expectations"]:
            kw = e["kwargs"]
            cols = [c for c in kw.get("column_list", []) if c != "submission_id"] or \
                [kw[k] for k in ("column", "column_A", "column_B") if kw.get(k)]
            assert (e["type"], ",".join(c for c in cols if not c.startswith("_")) or None) in hit, (dataset, e["type"],
                                                                                                   cols)


def test_an_unknown_expectation_type_is_refused_not_skipped():
    suite = {"expectations": [{"type": "expect_column_values_to_match_regex", "kwargs": {"column": "a",
                                                                                         "regex": "x"}}]}
    with pytest.raises(UnsupportedExpectation, match="expect_column_values_to_match_regex"):
        compile_suite(suite, "t", {"a": "VARCHAR", "submission_id": "VARCHAR", "source_row": "BIGINT"})
    with pytest.raises(UnsupportedExpectation, match="mostly"):
        compile_suite({"expectations": [{"type": "expect_column_values_to_not_be_null",
                                         "kwargs": {"column": "a", "mostly": 0.9}}]}, "t", {"a": "VARCHAR"})


def test_row_conditions_translate_pandas_syntax():
    assert condition_sql("_copy_no == 1 and score.isnull()") == '(coalesce("_copy_no" = 1, false) AND ("score" IS NULL))'
    with pytest.raises(UnsupportedExpectation):
        condition_sql("score.str.len() > 2")


def test_check_staged_gives_the_same_verdicts_and_records_with_either_engine(home: Path):
    """Large submissions are validated by the compiled SQL: same held rows, same meta.validation_runs counts."""
    from ims_indicators.validate.run import check_staged

    con = connect()
    try:
        _load(con, "mobility", _staged("mobility", n=300, seed=3))
        ids = ["mobility.s0", "mobility.s1"]
        results = {}
        for engine in ("gx", "sql"):
            verdicts = check_staged(con, "mobility", ids, table="fixture", docs=False, mode="ephemeral",
                                    engine=engine)
            runs = con.execute("SELECT submission_id, kind, rule, column_name, severity, success, element_count, "
                               "unexpected_count FROM meta.validation_runs ORDER BY ALL").fetchall()
            con.execute("DELETE FROM meta.validation_runs")
            results[engine] = ({(v.submission_id, f.source_row, f.rule, f.column, f.reason, f.stage)
                                for v in verdicts for f in v.failures}, runs)
        assert results["gx"][0] and results["gx"] == results["sql"]
    finally:
        con.close()
