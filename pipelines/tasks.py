"""Prefect tasks: one per stage of ``ims_indicators.pipeline`` (:data:`STAGE_TASKS`), plus the inbox and the counts.

Rules every task keeps:
- arguments and results are paths, names and small dicts (no connections, no DataFrames);
- the warehouse is opened inside the task, under the OS writer lock (one writer at a time, across processes),
  and closed before the task returns;
- only transient failures retry: a locked warehouse (``WarehouseBusy``) or an inbox file still being written
  (``FileStillBeingWritten``); refused input and bugs fail at once with their message;
- no result caching (``NO_CACHE``): every stage writes the warehouse, so a re-run must really run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from ims_indicators import settings
from ims_indicators.errors import WarehouseBusy
from ims_indicators.pipeline import CYCLE, Stage, ingest_paths, ingest_summary
from pipelines.inbox import FileStillBeingWritten

TRANSIENT = (WarehouseBusy, FileStillBeingWritten)


def transient_only(task, task_run, state) -> bool:
    """Retry a failed task run only when its error is transient."""
    try:
        state.result()
    except TRANSIENT:
        return True
    except BaseException:  # noqa: BLE001 - anything else is final
        return False
    return False


RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": [10, 60, 300],
    "retry_condition_fn": transient_only,
    "cache_policy": NO_CACHE,
    "log_prints": True,
}


def _who(stage: str) -> str:
    try:
        from prefect.runtime import flow_run

        return f"prefect {stage} ({flow_run.flow_name}/{flow_run.name})"
    except Exception:  # noqa: BLE001 - only a label for the lock file
        return f"prefect {stage}"


@contextmanager
def warehouse(stage: str) -> Iterator[Any]:
    """The warehouse, opened read-write under the writer lock; closed (and the lock released) on exit."""
    from ims_indicators.lock import writer_lock
    from ims_indicators.warehouse import open_warehouse

    with writer_lock(_who(stage), on_wait=print), open_warehouse() as con:
        yield con


def relative(path: Path | str | None) -> str | None:
    """A path as shown to the user: relative to IMS_HOME where it lies inside it."""
    if path is None:
        return None
    p = Path(path).resolve()
    try:
        return str(p.relative_to(settings.home()))
    except ValueError:
        return str(p)


# ------------------------------------------------------------------------------------------- stages

def _progress(stage: str) -> Callable[[str, int], None]:
    """Print ingest progress every tenth of the files (at least every 25)."""
    done = {"n": 0, "rows": 0}

    def progress(name: str, rows: int) -> None:
        done["n"] += 1
        done["rows"] += rows
        if done["n"] % 25 == 0:
            print(f"{stage}: {done['n']} files, {done['rows']:,} rows read")

    return progress


def stage_task(stage: Stage) -> Task:
    """A Prefect task that runs one stage of ``ims_indicators.pipeline`` on the warehouse (under the lock)."""

    def run(**options: Any) -> dict:
        with warehouse(stage.name) as con:
            if stage.name == "ingest":
                options["progress"] = _progress(stage.name)
            return stage.run(con, **options)

    run.__name__ = run.__qualname__ = stage.run.__name__  # Dask names its keys after it
    run.__doc__ = stage.run.__doc__
    return task(name=stage.name.replace(" ", "-"), **RETRIES)(run)


STAGE_TASKS: dict[str, Task] = {s.name: stage_task(s) for s in CYCLE}


@task(name="receive-inbox", **RETRIES)
def receive_inbox(inbox: str, settle_seconds: float = 2.0) -> dict:
    """Ingest the inbox files whose size is stable across two looks, then remove them from the inbox.

    Received files are kept under data/raw/ (refused ones under data/rejected/) by the ingestion itself;
    files still growing are left for the next run.
    """
    from pipelines.inbox import check_unchanged, clear, stable_files

    box = Path(inbox)
    ready, waiting = stable_files(box, settle_seconds)
    for w in waiting:
        print(f"inbox: {relative(w)} is still being written; left for the next run")
    if not ready:
        return {"files": 0, "statuses": {}, "rows_in": 0, "rows_quarantined": 0, "refused": [],
                "waiting": len(waiting)}
    files = [Path(p) for p in ready]
    with warehouse("inbox") as con:
        check_unchanged(ready)  # changed while we waited for the lock: retried from the top
        out = ingest_summary(ingest_paths(con, files, progress=_progress("inbox")))
    out["waiting"] = len(waiting)
    out["received"] = sorted(str(f.resolve().relative_to(box.resolve())) for f in files)
    clear(files, box)
    return out


# ------------------------------------------------------------------------------------------ counts

COUNTED_MARTS = ("indicator_values", "benchmark_groups", "label_results", "label_robustness")


@task(name="warehouse-counts", **RETRIES)
def warehouse_counts() -> dict:
    """What the warehouse holds now: submissions by status, rows per curated dataset and mart, decisions."""
    from ims_indicators.settings import DATASETS
    from ims_indicators.warehouse import rows, table_exists

    with warehouse("counts") as con:
        subs = {r["status"]: int(r["n"]) for r in rows(
            con, "SELECT status, count(*) AS n FROM meta.submissions WHERE superseded_by IS NULL GROUP BY status")}
        quarantined = rows(con, """SELECT count(*) AS n FROM (SELECT DISTINCT q.submission_id, q.source_row
                                   FROM meta.quarantine AS q JOIN meta.submissions AS s USING (submission_id)
                                   WHERE s.superseded_by IS NULL)""")[0]["n"]
        curated = {ds: int(rows(con, f"SELECT count(*) AS n FROM curated.{ds}")[0]["n"])
                   for ds in DATASETS if table_exists(con, f"curated.{ds}")}
        marts = {m: int(rows(con, f"SELECT count(*) AS n FROM marts.{m}")[0]["n"])
                 for m in COUNTED_MARTS if table_exists(con, f"marts.{m}")}
        decisions, label_year = {}, None
        if table_exists(con, "marts.label_results"):
            cols = {r["column_name"] for r in rows(con, "SELECT column_name FROM information_schema.columns "
                                                        "WHERE table_schema = 'marts' AND table_name = 'label_results'")}
            if {"decision", "academic_year"} <= cols:  # the label as it stands: the latest year scored
                found = rows(con, """SELECT academic_year, decision, count(*) AS n FROM marts.label_results
                                     WHERE academic_year = (SELECT max(academic_year) FROM marts.label_results)
                                     GROUP BY ALL ORDER BY 2""")
                decisions = {str(r["decision"]): int(r["n"]) for r in found}
                label_year = found[0]["academic_year"] if found else None
    return {"submissions": subs, "rows_quarantined": int(quarantined), "curated": curated, "marts": marts,
            "decisions": decisions, "label_year": label_year}
