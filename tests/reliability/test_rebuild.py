"""Rebuild from raw: `ims rebuild` (a fresh warehouse, curated Parquet and marts from data/raw/ alone) equals what
the incremental path built — two batches ingested at different times, the second superseding a file of the first,
then the cycle (`ims run`) — table for table, timestamps and run ids aside."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .conftest import Pipeline, assert_clean_exit, check_consistent, ims, leftovers, parquet_rows, table_snapshot

pytestmark = pytest.mark.slow
RUN_HISTORY = ("meta.validation_runs",)  # one row per validation run: how often it ran, not what the data is
MONTE_CARLO = ("marts.label_robustness", "marts.label_sensitivity")
PARQUET = ("mobility", "staffing", "schools")


@dataclass
class Rebuilt:
    before: dict[str, list[tuple]]
    after: dict[str, list[tuple]]
    parquet_before: dict[str, list[tuple]]


@pytest.fixture(scope="module")
def rebuilt(pipeline: Pipeline) -> Rebuilt:
    home = pipeline.home
    parquet_before = {ds: parquet_rows(home, ds) for ds in PARQUET}
    result = ims(home, "rebuild", "--json", IMS_PSEUDONYM_KEY="", timeout=600)
    assert_clean_exit(result, (0,))
    keep = lambda tables: {k: v for k, v in tables.items() if k not in RUN_HISTORY}
    return Rebuilt(keep(pipeline.tables), keep(table_snapshot(home)), parquet_before)


def _same_digits(rows: list[tuple]) -> list[tuple]:
    """Floats to 12 significant digits: DuckDB's parallel sums add in any order, so the last bits may differ."""
    return [tuple(float(f"{v:.12g}") if isinstance(v, float) else v for v in row) for row in rows]


def differences(r: Rebuilt, names) -> dict:
    out = {}
    for k in names:
        a, b = _same_digits(r.before[k]), _same_digits(r.after[k])
        if a != b:
            out[k] = (len(a), len(b), next(((x, y) for x, y in zip(a, b) if x != y), None))
    return out


def test_rebuild_equals_the_incremental_path(pipeline: Pipeline, rebuilt: Rebuilt) -> None:
    before = rebuilt.before
    assert before["curated.mobility"] and before["marts.indicator_values"] and before["marts.benchmark_groups"]
    assert before["marts.label_results"] and before["meta.quarantine"]
    # superseded_by is the last but one column (repairs follows): batch 2 superseded a file
    assert len([s for s in before["meta.submissions"] if s[-2] is not None]) == 1
    assert sorted(rebuilt.after) == sorted(before)
    assert not differences(rebuilt, [k for k in before if k not in MONTE_CARLO])
    assert {ds: parquet_rows(pipeline.home, ds) for ds in PARQUET} == rebuilt.parquet_before
    check_consistent(pipeline.home, finished=True)
    assert not leftovers(pipeline.home)
    assert not list(pipeline.home.glob("data/*.rebuild*")) and not list(pipeline.home.glob("data/curated.*"))


def test_rebuild_gives_the_same_label_robustness(rebuilt: Rebuilt) -> None:
    assert not differences(rebuilt, MONTE_CARLO)
