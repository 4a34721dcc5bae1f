"""Reports and the label use signed-off data only (from the calendar's signoff_required_from on); the
include-unsigned flag previews the rest. Real DuckDB warehouse, real stages."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.collection.conftest import PREVIOUS, REPO, REPO_VENV_IMS, SCHOOL_A, SCHOOL_B, copy_home, portal_env


@pytest.fixture
def home(base_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Schools A and B's 2022/23 in a home whose calendar requires sign-off from 2022/23 on."""
    import shutil

    home = copy_home(base_home, tmp_path / "home")
    for folder in ("catalogue", "models"):  # the indicator catalogue, peer sets and label model of the repo
        shutil.copytree(REPO / folder, home / folder)
    calendar = home / "collection.yaml"
    text = (REPO / "catalogue" / "collection.yaml").read_text(encoding="utf-8")
    calendar.write_text(text.replace('signoff_required_from: "2025/26"', f'signoff_required_from: "{PREVIOUS}"'),
                        encoding="utf-8")
    assert f'"{PREVIOUS}"' in calendar.read_text(encoding="utf-8")
    monkeypatch.setenv("IMS_HOME", str(home))
    monkeypatch.setenv("IMS_EXPECTATIONS_DIR", str(REPO / "expectations"))
    monkeypatch.setenv("IMS_COLLECTION_CALENDAR", str(calendar))
    return home


def school_years(con, table: str) -> set[tuple[str, str]]:
    return {tuple(r) for r in con.execute(f"SELECT DISTINCT school_id, academic_year FROM {table}").fetchall()}


def test_unsigned_year_is_left_out_of_marts_and_label_unless_included(home: Path) -> None:
    from ims_indicators.collection import state
    from ims_indicators.pipeline import compute_marts
    from ims_indicators.warehouse import open_warehouse

    both = {(SCHOOL_A, PREVIOUS), (SCHOOL_B, PREVIOUS)}
    with open_warehouse() as con:
        compute_marts(con, draws=20, include_unsigned=True)
        assert both <= school_years(con, "marts.indicator_values")
        assert both <= school_years(con, "marts.label_results")

        state.record_signoff({"token_id": "tok_test", "role": "keyholder"}, SCHOOL_A, PREVIOUS, {})
        from ims_indicators.pipeline import indicators

        indicators(con)
        found = school_years(con, "marts.indicator_values")
        assert (SCHOOL_A, PREVIOUS) in found and (SCHOOL_B, PREVIOUS) not in found
        assert (SCHOOL_B, PREVIOUS) not in school_years(con, "marts.indicator_frame")

        state.record_signoff({"token_id": "tok_test", "role": "keyholder"}, SCHOOL_B, PREVIOUS, {})
        state.record_unlock({"token_id": "tok_steward", "role": "steward"}, SCHOOL_A, PREVIOUS, "correction")
        compute_marts(con, draws=20)
        assert (SCHOOL_A, PREVIOUS) not in school_years(con, "marts.indicator_values")
        assert (SCHOOL_A, PREVIOUS) not in school_years(con, "marts.label_results")
        assert (SCHOOL_B, PREVIOUS) in school_years(con, "marts.indicator_values")

        # a year before signoff_required_from is historic (back-filled): used without a sign-off
        calendar = home / "collection.yaml"
        calendar.write_text(calendar.read_text(encoding="utf-8").replace(
            f'signoff_required_from: "{PREVIOUS}"', 'signoff_required_from: "2023/24"'), encoding="utf-8")
        indicators(con)
        assert both <= school_years(con, "marts.indicator_values")


def test_ims_indicators_flag_previews_unsigned_years(home: Path) -> None:
    def computed(*flags: str) -> set[tuple[str, str]]:
        res = subprocess.run([str(REPO_VENV_IMS), "indicators", "--json", "--year", PREVIOUS, *flags],
                             env=portal_env(home, IMS_COLLECTION_CALENDAR=str(home / "collection.yaml")),
                             capture_output=True, text=True, cwd=home, check=False)
        assert res.returncode == 0, res.stderr
        return {(r["school_id"], r["academic_year"]) for r in json.loads(res.stdout)}

    assert computed() == set()
    assert {(SCHOOL_A, PREVIOUS), (SCHOOL_B, PREVIOUS)} <= computed("--include-unsigned")
