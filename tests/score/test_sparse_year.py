"""Issue 17.1: a year that only one school has (a back-filled year) is scored with a reason, never a crash."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import duckdb
import pandas as pd

from ims_indicators.score.model import load_model
from ims_indicators.score.warehouse import score_warehouse

from .conftest import MODELS, ROOT
from .test_warehouse_cli import indicator_values, make_warehouse

IMS = [sys.executable, "-m", "ims_indicators.cli"]


def test_year_with_one_partial_school_is_scored_with_a_reason(tmp_path):
    iv = indicator_values()
    one = iv[(iv.school_id == "school1") & (iv.academic_year == "2023/24") & iv.indicator_id.str.startswith("mob")]
    make_warehouse(tmp_path / "w.duckdb", pd.concat([iv, one.assign(academic_year="2018/19")]))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:  # crashed with "zero-size array ... fmin"
        scores = score_warehouse(con, load_model(MODELS / "label_v1.yaml"), draws=64, seed=3)
    back = scores.results[scores.results.academic_year == "2018/19"]
    assert list(back.school_id) == ["school1"] and back.decision.iloc[0] == "insufficient_data"  # only mobility was sent
    assert "only 0 school(s) scored in this academic year" in back.reasons.iloc[0]
    assert "IMS_MIN_SCHOOLS_PER_YEAR" in back.reasons.iloc[0]
    other = scores.results[scores.results.academic_year == "2023/24"]
    assert len(other) == 8 and not other.reasons.str.contains("IMS_MIN_SCHOOLS_PER_YEAR").any()


def test_back_filled_year_through_the_real_pipeline(demo_home, tmp_path):
    """A school back-fills its 2018/19 enrolment; `ims indicators` then `ims score` on the warehouse."""
    home = tmp_path / "home"
    shutil.copytree(demo_home, home, ignore=shutil.ignore_patterns("*.lock"))
    env = {**os.environ, "IMS_HOME": str(home), "IMS_MODELS_DIR": str(ROOT / "models"),
           "IMS_CATALOGUE": str(ROOT / "catalogue" / "indicators.yaml"),
           "IMS_PEER_SETS": str(ROOT / "catalogue" / "peer_sets.yaml"),
           "IMS_EXPECTATIONS_DIR": str(ROOT / "expectations")}
    raw = home / "data" / "raw"
    src = next(f for f in sorted((raw / "enrolment").glob("*/2019-20/*.csv")) if b"2019/20" in f.read_bytes())
    school = src.parts[-3]
    dest = raw / "enrolment" / school / "2018-19" / src.name.replace("2019-20", "2018-19")
    dest.parent.mkdir(parents=True)
    dest.write_bytes(src.read_bytes().replace(b"2019/20", b"2018/19"))
    for args in (["ingest", str(dest)], ["indicators"]):
        done = subprocess.run(IMS + args, env=env, check=False, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    done = subprocess.run(IMS + ["score", "--draws", "32", "--json"], env=env, check=False, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    with duckdb.connect(str(home / "data" / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT school_id, reasons FROM marts.label_results "
                           "WHERE academic_year = '2018/19'").fetchall()
    assert school in [r[0] for r in rows]  # every registry school has a row for the year; one has data
    assert all("fewer than the 2 that comparisons between schools need" in r[1] for r in rows)
