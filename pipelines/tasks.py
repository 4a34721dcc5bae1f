"""Prefect tasks: each is a thin call of an ``ims_indicators`` function.

Rules every task keeps:
- arguments and results are paths, names and small dicts (no connections, no DataFrames);
- the warehouse is opened inside the task, under the OS writer lock (one writer at a time, across processes),
  and closed before the task returns;
- only transient failures retry: a locked warehouse (``WarehouseBusy``) or an inbox file still being written
  (``FileStillBeingWritten``); refused input and bugs fail at once with their message;
- no result caching (``NO_CACHE``): every stage writes the warehouse, so a re-run must really run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from ims_indicators import settings
from ims_indicators.errors import InputRefused, WarehouseBusy
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


# ---------------------------------------------------------------------------------------------- ingest

def _in_years(path: Path, years: set[str]) -> bool:
    from ims_indicators.contracts import canonical_year
    from ims_indicators.ingest.stage import resolve_dataset_hint

    if resolve_dataset_hint(path) == "schools":
        return True  # the registry belongs to every year
    return len(path.parts) >= 2 and canonical_year(path.parts[-2]) in years


def _ingest_report(report: Any) -> dict:
    s = report.summary()
    return {
        "files": s["files"], "statuses": s["statuses"], "rows_in": s["rows_in"],
        "rows_quarantined": s["rows_quarantined"],
        "refused": [{"file": r.file, "submission_id": r.submission_id, "reason": r.reason} for r in report.refused],
    }


def _ingest(con: Any, files: list[Path], **key: str | None) -> Any:
    from ims_indicators.ingest import ingest_paths

    step = max(25, len(files) // 10)
    done = {"n": 0, "rows": 0}

    def progress(name: str, rows: int) -> None:
        done["n"] += 1
        done["rows"] += rows
        if done["n"] % step == 0 or done["n"] == len(files):
            print(f"ingest: {done['n']}/{len(files)} files, {done['rows']:,} rows read")

    return ingest_paths(con, files, progress=progress, **key)


@task(name="ingest", **RETRIES)
def ingest_files(paths: list[str], years: list[str] | None = None, dataset: str | None = None,
                 school: str | None = None, year: str | None = None) -> dict:
    """Stage, validate, promote and publish files and/or data/raw-style folders (idempotent per file)."""
    from ims_indicators.contracts import canonical_year
    from ims_indicators.ingest.stage import discover

    roots = [Path(p) for p in paths]
    for p in roots:
        if not p.exists():
            raise InputRefused(str(p), "no such file or folder; expected a submission file or a data/raw-style folder")
    files = discover(roots)
    if years:
        wanted = {canonical_year(y) or y for y in years}
        files = [f for f in files if _in_years(f, wanted)]
    if not files:
        print(f"ingest: no submission files under {', '.join(map(str, roots))}")
        return {"files": 0, "statuses": {}, "rows_in": 0, "rows_quarantined": 0, "refused": []}
    with warehouse("ingest") as con:
        report = _ingest(con, files, dataset=dataset, school_id=school, academic_year=year)
    return _ingest_report(report)


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
        report = _ingest(con, files)
    out = _ingest_report(report)
    out["waiting"] = len(waiting)
    out["received"] = sorted(str(f.resolve().relative_to(box.resolve())) for f in files)
    clear(files, box)
    return out


# -------------------------------------------------------------------------------------------- validate

@task(name="validate", **RETRIES)
def validate_staged(all_submissions: bool = False) -> dict:
    """Validate what is staged (``all_submissions``: revalidate every current accepted submission) and write
    the stewards' validation report (reports/validation/)."""
    from ims_indicators.validate.report import write_steward_report
    from ims_indicators.validate.revalidate import revalidate_all, validate_pending

    with warehouse("validate") as con:
        outcomes = revalidate_all(con) if all_submissions else validate_pending(con)
        index = write_steward_report(con)
    out: dict[str, Any] = {"validated": len(outcomes), "statuses": dict(Counter(o["status"] for o in outcomes)),
                           "rows_quarantined": sum(o.get("rows_quarantined") or 0 for o in outcomes),
                           "steward_report": relative(index)}
    if all_submissions:
        out["revalidated"] = len(outcomes)
        out["rows_released"] = sum(o.get("rows_released", 0) for o in outcomes)
        out["rows_newly_quarantined"] = sum(o.get("rows_newly_quarantined", 0) for o in outcomes)
    out["refused"] = [{"file": o.get("submission_id"), "submission_id": o.get("submission_id"),
                       "reason": o.get("reason")} for o in outcomes if o["status"] == "rejected"]
    return out


# ------------------------------------------------------------------------------ indicators, benchmark

@task(name="indicators", **RETRIES)
def compute_indicator_values() -> dict:
    """Compute marts.indicator_values from the curated tables (every year)."""
    from ims_indicators.indicators import compute_indicators

    with warehouse("indicators") as con:
        rows = compute_indicators(con)
    return {"indicator_values": int(rows)}


@task(name="benchmark", **RETRIES)
def compute_benchmark_groups() -> dict:
    """Compute marts.benchmark_groups (peer groups, CHE-style and A–E groups)."""
    from ims_indicators.benchmark import compute_benchmarks

    with warehouse("benchmark") as con:
        rows = compute_benchmarks(con)
    return {"benchmark_groups": int(rows)}


# ------------------------------------------------------------------------------------------- score

@task(name="score", **RETRIES)
def score_labels(model: str | None = None, draws: int | None = None, seed: int | None = None) -> dict:
    """Label scores, decisions and robustness: marts.label_results / label_robustness (every year)."""
    from ims_indicators.score.model import load_model
    from ims_indicators.score.warehouse import score_warehouse, write_scores

    path = Path(model) if model else settings.models_dir() / "label_v1.yaml"
    m = load_model(path)
    with warehouse("score") as con:
        scores = score_warehouse(con, m, draws, seed)
        written = write_scores(con, scores)
    decisions = scores.results["decision"].astype(str).value_counts().sort_index().to_dict()
    return {"model": f"{m.name} {m.version}", "tables": written, "decisions": {k: int(v) for k, v in decisions.items()}}


# ------------------------------------------------------------------------------------------ report

@task(name="report", **RETRIES)
def write_report_files(school: str | None = None, pdf: bool = False) -> dict:
    """The HTML profiles, network overview, label results and Excel workbook under reports/."""
    from ims_indicators.report import write_reports

    with warehouse("report") as con:
        result = write_reports(con, out_dir=settings.reports_dir(), school=school, pdf=pdf)
    result = result if isinstance(result, dict) else {}
    schools = result.get("schools") or []
    index = result.get("index") or (schools[0] if schools else settings.reports_dir() / "index.html")
    return {"index": relative(index), "files": len(result.get("paths") or []), "schools": len(schools),
            "pdfs": len(result.get("pdfs") or [])}


# ------------------------------------------------------------------------------------------ counts

MARTS = ("indicator_values", "benchmark_groups", "label_results", "label_robustness")


@task(name="warehouse-counts", **RETRIES)
def warehouse_counts() -> dict:
    """What the warehouse holds now: submissions by status, rows per curated dataset and mart, decisions."""
    from ims_indicators.settings import DATASETS
    from ims_indicators.warehouse import rows

    with warehouse("counts") as con:
        tables = {(r["table_schema"], r["table_name"]) for r in rows(
            con, "SELECT table_schema, table_name FROM information_schema.tables")}
        subs = {r["status"]: int(r["n"]) for r in rows(
            con, "SELECT status, count(*) AS n FROM meta.submissions WHERE superseded_by IS NULL GROUP BY status")}
        quarantined = rows(con, """SELECT count(*) AS n FROM (SELECT DISTINCT q.submission_id, q.source_row
                                   FROM meta.quarantine AS q JOIN meta.submissions AS s USING (submission_id)
                                   WHERE s.superseded_by IS NULL)""")[0]["n"]
        curated = {ds: int(rows(con, f"SELECT count(*) AS n FROM curated.{ds}")[0]["n"])
                   for ds in DATASETS if ("curated", ds) in tables}
        marts = {m: int(rows(con, f"SELECT count(*) AS n FROM marts.{m}")[0]["n"])
                 for m in MARTS if ("marts", m) in tables}
        decisions, label_year = {}, None
        if ("marts", "label_results") in tables:
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
