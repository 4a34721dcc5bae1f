"""The demo network, ingested once per session (``demo_home``): every planted error is held back, nothing
else is, quarantined rows never reach curated or Parquet, and every result is kept."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ims_indicators.contracts import contract

DATASETS = ("schools", "enrolment", "mobility", "staffing", "accreditation")


@pytest.fixture
def demo(demo_home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IMS_HOME", str(demo_home))
    con = duckdb.connect(str(demo_home / "data" / "warehouse.duckdb"), read_only=True)
    yield demo_home, con
    con.close()


def _manifest(home: Path) -> dict:
    return json.loads((home / "data" / "raw" / "demo_manifest.json").read_text())


def test_quarantine_matches_planted_errors_exactly(demo):
    home, con = demo
    manifest = _manifest(home)
    by_path = dict(con.execute("SELECT stored_path, submission_id FROM meta.submissions").fetchall())
    planted = {(by_path[f"data/raw/{e['file']}"], e["source_row"]) for e in manifest["planted_errors"]}
    held = set(con.execute("SELECT DISTINCT submission_id, source_row FROM meta.quarantine").fetchall())
    assert len(planted) == manifest["planted_error_rows"] > 0
    assert sorted(planted - held) == [], "planted errors missed"
    assert sorted(held - planted) == [], "clean rows held back"


def test_refused_files_are_rejected(demo):
    home, con = demo
    refused = _manifest(home)["refused_files"]
    assert refused
    statuses = dict(con.execute("SELECT file_name, status FROM meta.submissions WHERE dataset = ? AND school_id = ? "
                                "AND academic_year = ?", [refused[0]["dataset"], refused[0]["school_id"],
                                                          refused[0]["academic_year"]]).fetchall())
    assert statuses == {Path(refused[0]["file"]).name: "rejected"}
    assert con.execute("SELECT count(*) FROM meta.submissions WHERE status = 'rejected'").fetchall()[0][0] == \
        len(refused)


def test_quarantined_rows_never_reach_curated_or_parquet(demo):
    home, con = demo
    for ds in DATASETS:
        leaked = con.execute(f"SELECT count(*) FROM curated.{ds} c JOIN meta.quarantine q "
                             "ON q.submission_id = c.submission_id AND q.source_row = c.source_row").fetchall()[0][0]
        assert leaked == 0, ds
        glob = str(home / "data" / "curated" / ds / "*" / "*.parquet")
        leaked = con.execute("SELECT count(*) FROM read_parquet(?, hive_partitioning = false) c JOIN meta.quarantine q "
                             "ON q.submission_id = c.submission_id AND q.source_row = c.source_row", [glob]).fetchall()[0][0]
        assert leaked == 0, ds
        # and every other staged row of a current accepted submission did reach curated
        missing = con.execute(f"""
            SELECT count(*) FROM staging.{ds} s JOIN meta.submissions m USING (submission_id)
            WHERE m.status IN ('accepted', 'accepted_with_quarantine') AND m.superseded_by IS NULL
              AND NOT EXISTS (SELECT 1 FROM meta.quarantine q WHERE q.submission_id = s.submission_id
                              AND q.source_row = s.source_row)
              AND NOT EXISTS (SELECT 1 FROM curated.{ds} c WHERE c.submission_id = s.submission_id
                              AND c.source_row = s.source_row)""").fetchall()[0][0]
        assert missing == 0, ds


def test_every_validated_submission_has_gx_and_cross_results(demo):
    _, con = demo
    kinds = dict(con.execute("""
        SELECT m.submission_id, list(DISTINCT r.kind ORDER BY r.kind)
        FROM meta.submissions m LEFT JOIN meta.validation_runs r USING (submission_id)
        WHERE m.status <> 'rejected' GROUP BY ALL""").fetchall())
    for sid, got in kinds.items():
        expected = ["gx"] if sid.startswith("schools.") else ["cross", "gx"]
        assert got == expected, sid
    # a failed expectation is recorded with the rows it counted
    n = con.execute("SELECT count(*) FROM meta.validation_runs WHERE NOT success AND unexpected_count > 0 "
                    "AND observed_value LIKE '%rows unexpected%'").fetchall()[0][0]
    assert n > 0
    statuses = dict(con.execute("SELECT status, count(*) FROM meta.submissions GROUP BY ALL").fetchall())
    assert statuses.get("accepted_with_quarantine", 0) > 0 and "staged" not in statuses


def test_reasons_are_concrete_sentences(demo):
    _, con = demo
    reasons = [r for (r,) in con.execute("SELECT reason FROM meta.quarantine").fetchall()]
    assert all("{" not in r and "}" not in r for r in reasons)
    assert any(r.startswith("participants 0 is below the minimum 1") for r in reasons)
    assert any(" is not one of outgoing, incoming" in r for r in reasons)
    assert any(" is before start_date " in r for r in reasons)


def test_quarantine_cli_lists_rows(demo):
    from typer.testing import CliRunner

    from ims_indicators.cli import app

    _, con = demo
    sid = con.execute("SELECT submission_id FROM meta.submissions WHERE status = 'accepted_with_quarantine' "
                      "ORDER BY 1 LIMIT 1").fetchall()[0][0]
    con.close()  # the CLI opens the warehouse itself
    result = CliRunner().invoke(app, ["quarantine", "--json", "--submission", sid])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and {r["submission_id"] for r in rows} == {sid}
    assert all(r["reason"] and r["rule"] and r["row_json"] for r in rows)


def test_row_json_keeps_the_row_without_lineage(demo):
    _, con = demo
    rec = json.loads(con.execute("SELECT row_json FROM meta.quarantine WHERE stage = 'validate' "
                                 "AND submission_id LIKE 'mobility.%' LIMIT 1").fetchall()[0][0])
    assert list(rec) == contract("mobility").names
