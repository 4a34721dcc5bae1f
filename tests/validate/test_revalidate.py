"""Revalidation after a suite change: tighten a suite (a tmp copy of expectations/ via IMS_EXPECTATIONS_DIR),
``ims validate --all`` holds the rows back; loosen it again and they are released."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from ims_indicators.cli import app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_copy(demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    shutil.copytree(demo_home, home, ignore=shutil.ignore_patterns("gx", "reports", "*.lock*"))
    shutil.copytree(REPO / "expectations", tmp_path / "expectations")
    monkeypatch.setenv("IMS_HOME", str(home))
    monkeypatch.setenv("IMS_EXPECTATIONS_DIR", str(tmp_path / "expectations"))
    return home


def _state(home: Path, max_participants: int) -> dict:
    with duckdb.connect(str(home / "data" / "warehouse.duckdb"), read_only=True) as con:
        big = set(con.execute("""SELECT s.submission_id, s.source_row FROM staging.mobility s
                                 JOIN meta.submissions m USING (submission_id)
                                 WHERE m.status <> 'rejected' AND m.superseded_by IS NULL
                                   AND s.participants > ?""", [max_participants]).fetchall())
        held = set(con.execute("""SELECT q.submission_id, q.source_row FROM meta.quarantine q
                                  JOIN staging.mobility s USING (submission_id, source_row)
                                  WHERE q.rule = 'expect_column_values_to_be_between'
                                    AND q.column_name = 'participants' AND s.participants > ?""",
                               [max_participants]).fetchall())
        curated = set(con.execute("SELECT submission_id, source_row FROM curated.mobility").fetchall())
        parquet = set(con.execute("SELECT submission_id, source_row FROM read_parquet(?, hive_partitioning = false)",
                                  [str(home / "data" / "curated" / "mobility" / "*" / "*.parquet")]).fetchall())
        held_any = set(con.execute("SELECT submission_id, source_row FROM meta.quarantine").fetchall())
        total_held = con.execute("SELECT count(DISTINCT (submission_id, source_row)) FROM meta.quarantine") \
            .fetchall()[0][0]
    return {"big": big, "held": held, "curated": curated, "parquet": parquet, "total_held": total_held,
            "clean_big": big - held_any}


def _set_max(path: Path, max_value: int | None) -> None:
    suite = json.loads(path.read_text())
    for e in suite["expectations"]:
        if e["type"] == "expect_column_values_to_be_between" and e["kwargs"].get("column") == "participants":
            if max_value is None:
                e["kwargs"].pop("max_value", None)
                e["meta"]["reason"] = "participants {participants} is below the minimum 1"
            else:
                e["kwargs"]["max_value"] = max_value
                e["meta"]["reason"] = f"participants {{participants}} is not between 1 and {max_value}"
    path.write_text(json.dumps(suite, indent=2))


def test_tighten_then_loosen(demo_copy: Path, tmp_path: Path):
    suite = tmp_path / "expectations" / "mobility.json"
    before = _state(demo_copy, 3)
    clean_big = before["clean_big"]  # rows over the new maximum that no other rule holds back
    assert clean_big and not before["held"] and clean_big <= before["curated"]

    _set_max(suite, 3)
    t = time.monotonic()
    result = CliRunner().invoke(app, ["validate", "--all", "--dataset", "mobility", "--json"])
    elapsed = time.monotonic() - t
    assert result.exit_code == 0, result.output
    outcomes = json.loads(result.stdout)
    tight = _state(demo_copy, 3)
    assert tight["held"] == tight["big"] == before["big"]
    assert not (tight["big"] & tight["curated"]) and not (tight["big"] & tight["parquet"])
    with duckdb.connect(str(demo_copy / "data" / "warehouse.duckdb"), read_only=True) as con:
        reasons = {r for (r,) in con.execute("SELECT q.reason FROM meta.quarantine q JOIN staging.mobility s "
                                             "USING (submission_id, source_row) WHERE s.participants > 3").fetchall()}
    assert {r for r in reasons if r.startswith("participants ")} == \
        {f"participants {n} is not between 1 and 3" for n in range(4, 7)} & reasons
    assert sum(o["rows_newly_quarantined"] for o in outcomes) == len(clean_big)
    assert sum(o["rows_released"] for o in outcomes) == 0
    assert tight["total_held"] == before["total_held"] + len(clean_big)
    assert elapsed < 60, f"revalidating the demo's mobility took {elapsed:.0f} s"

    _set_max(suite, None)
    result = CliRunner().invoke(app, ["validate", "--all", "--dataset", "mobility", "--json"])
    assert result.exit_code == 0, result.output
    outcomes = json.loads(result.stdout)
    loose = _state(demo_copy, 3)
    assert not loose["held"]
    assert clean_big <= loose["curated"] and clean_big <= loose["parquet"]
    assert sum(o["rows_released"] for o in outcomes) == len(clean_big)
    assert loose["total_held"] == before["total_held"]
    assert loose["curated"] == before["curated"]


def test_validate_without_all_checks_what_is_staged(demo_copy: Path):
    result = CliRunner().invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "0 staged submission(s) validated" in result.stdout
    assert (demo_copy / "reports" / "validation" / "index.html").exists()


def test_unknown_dataset_is_refused(demo_copy: Path):
    result = CliRunner().invoke(app, ["validate", "--all", "--dataset", "nope"])
    assert result.exit_code == 1
    assert "unknown dataset" in result.stderr
