"""The annual cycle as Prefect flows, the stages in the order ``ims_indicators.pipeline.CYCLE`` lists them.

Every flow returns a summary dict (stages with status and seconds, counts, refused files, paths) and stores it
as a markdown artifact (``<flow>-summary``). A stage that fails ends its flow run Failed with the readable
reason as the state message; the state's data is a :class:`StageFailed` that carries the same summary.

Refused files are reported outcomes, not failures, in ``annual_cycle`` and ``inbox_watch`` (the demo network
holds one deliberately malformed file). ``ingest_flow`` fails when every file it was given was refused, or on
any refusal with ``fail_on_refusal=True``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.states import Failed

from ims_indicators import settings
from ims_indicators.pipeline import CYCLE, MARTS, SCOPED
from pipelines import summary as sm
from pipelines import tasks as t

StageFn = Callable[..., dict]


def _run_stage(summary: dict, stage: str, fn: StageFn, *args: Any, describe: Callable[[dict], str] | None = None,
               **kwargs: Any) -> dict | None:
    """Run one stage task; record status, seconds and a one-line result (or the readable failure).

    The task is submitted to the flow run's task runner (threads by default, Dask with ``IMS_TASK_RUNNER=dask``,
    see ``pipelines/runners.py``) and awaited: the stages still run one after the other.
    """
    start = time.perf_counter()
    try:
        result = fn.submit(*args, **kwargs).result() if hasattr(fn, "submit") else fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - a failed stage is reported, not re-raised
        why = sm.reason(exc)
        sm.add_stage(summary, stage, "failed", time.perf_counter() - start, why)
        summary["failed"] = f"{stage} failed: {why}"
        print(f"{stage}: FAILED — {why}")
        return None
    detail = describe(result) if describe else ""
    sm.add_stage(summary, stage, "completed", time.perf_counter() - start, detail)
    print(f"{stage}: {detail}" if detail else f"{stage}: done")
    return result


def _skip(summary: dict, *stages: str) -> None:
    for s in stages:
        sm.add_stage(summary, s, "skipped", 0.0, "an earlier stage failed")


def _close(summary: dict, key: str, refusal_failure: str | None = None) -> dict | Any:
    """Finish the summary, store it as the flow run's artifact and return it (or a Failed state carrying it)."""
    message = summary.pop("failed", None) or refusal_failure
    sm.finish(summary, "failed" if message else "completed", message)
    try:
        create_markdown_artifact(key=key, markdown=sm.markdown(summary),
                                 description=f"{summary['flow']}: {message or 'completed'}")
    except Exception as exc:  # noqa: BLE001 - a missing artifact must not hide the run's own outcome
        print(f"could not store the summary artifact: {sm.reason(exc)}")
    if message:
        return Failed(message=message, data=sm.StageFailed(message, summary))
    return summary


def _paths(summary: dict, **extra: str | None) -> None:
    summary["paths"].update({"warehouse": t.relative(settings.warehouse()), **{k: v for k, v in extra.items() if v}})


# ------------------------------------------------------------------------------------- descriptions

def _describe_ingest(r: dict) -> str:
    statuses = ", ".join(f"{n} {k}" for k, n in sorted(r["statuses"].items())) or "nothing new"
    text = f"{r['files']} file(s): {statuses}; {r['rows_in']:,} rows in, {r['rows_quarantined']:,} quarantined"
    if r.get("waiting"):
        text += f"; {r['waiting']} still being written (next run)"
    return text


def _describe_validate(r: dict) -> str:
    if "revalidated" in r:
        text = (f"{r['revalidated']} submission(s) revalidated: {r['rows_released']:,} row(s) released, "
                f"{r['rows_newly_quarantined']:,} newly held back")
    else:
        text = f"{r['validated']} staged submission(s) validated, {r['rows_quarantined']:,} row(s) held back"
    return text + (f"; stewards' report {t.relative(r['steward_report'])}" if r.get("steward_report") else "")


def _describe_score(r: dict) -> str:
    decisions = ", ".join(f"{n} {k}" for k, n in r["decisions"].items())
    return f"{r['model']}: {decisions} (school-years)"


def _describe_report(r: dict) -> str:
    pdfs = f", {r['pdfs']} PDF(s)" if r.get("pdfs") else ""
    return f"{t.relative(r['index'])} ({r['schools']} school profile(s), {r['files']} file(s){pdfs})"


DESCRIBE: dict[str, Callable[[dict], str]] = {
    "ingest": _describe_ingest,
    "validate": _describe_validate,
    "indicators": lambda r: f"{r['indicator_values']:,} indicator values",
    "survey": lambda r: f"{r['survey_items']:,} survey item rows",
    "benchmark": lambda r: f"{r['benchmark_groups']:,} benchmark group rows",
    "survey groups": lambda r: f"{r['survey_groups']:,} survey indicator group rows",
    "score": _describe_score,
    "report": _describe_report,
}


def _stages(summary: dict, stages: list[tuple[str, dict]]) -> dict[str, dict]:
    """Run the stages in order, each as its task; after a failure the rest are skipped. Results by stage."""
    results: dict[str, dict] = {}
    for i, (name, options) in enumerate(stages):
        r = _run_stage(summary, name, t.STAGE_TASKS[name], describe=DESCRIBE[name], **options)
        if r is None:
            _skip(summary, *(s[0] for s in stages[i + 1:]))
            break
        results[name] = r
    return results


def _refusals(summary: dict, result: dict | None) -> None:
    if result:
        summary["refused"].extend(result.get("refused", []))
        for k in ("files", "rows_in", "rows_quarantined"):
            summary["counts"][f"ingest {k.replace('_', ' ')}"] = result.get(k, 0)
        for status, n in sorted(result.get("statuses", {}).items()):
            summary["counts"][f"ingest {status}"] = n


def _refusal_failure(result: dict | None, fail_on_refusal: bool) -> str | None:
    """The failure message when refusals fail the run: any refusal (``fail_on_refusal``) or every new file refused."""
    if not result or not result["refused"]:
        return None
    new = [s for s in result["statuses"] if s != "unchanged"]
    if not (fail_on_refusal or new == ["rejected"]):
        return None
    more = len(result["refused"]) - 1
    return f"refused: {result['refused'][0]['reason']}" + (f" (and {more} more refused file(s))" if more else "")


def _counts(summary: dict, c: dict) -> None:
    counts = summary["counts"]
    for status in ("accepted", "accepted_with_quarantine", "rejected", "staged"):
        if c["submissions"].get(status):
            counts[f"submissions {status.replace('_', ' ')}"] = c["submissions"][status]
    counts["rows quarantined"] = c["rows_quarantined"]
    for ds, n in c["curated"].items():
        counts[f"rows curated.{ds}"] = n
    for m, n in c["marts"].items():
        counts[f"rows marts.{m}"] = n
    for d, n in c["decisions"].items():
        counts[f"label {d} ({c.get('label_year')})"] = n
    summary["warehouse"] = c


# ---------------------------------------------------------------------------------------------- flows

@flow(name="ingest", log_prints=True)
def ingest_flow(paths: list[str] | None = None, dataset: str | None = None, school: str | None = None,
                year: str | None = None, years: list[str] | None = None, fail_on_refusal: bool = False) -> dict:
    """Ingest submission files or data/raw-style folders (default: data/raw): stage, validate, publish.

    Fails when every file was refused (or on any refusal with ``fail_on_refusal``), with the refusal as message.
    """
    paths = [str(p) for p in (paths or [settings.raw_dir()])]
    summary = sm.new_summary("ingest", paths=paths, dataset=dataset, school=school, year=year, years=years,
                             fail_on_refusal=fail_on_refusal or None)
    result = _stages(summary, [("ingest", {"paths": paths, "years": years, "dataset": dataset, "school": school,
                                           "year": year})]).get("ingest")
    _refusals(summary, result)
    _paths(summary, curated=t.relative(settings.curated_dir()), rejected=t.relative(settings.rejected_dir()))
    return _close(summary, "ingest-summary", _refusal_failure(result, fail_on_refusal))


@flow(name="validate", log_prints=True)
def validate_flow(all_submissions: bool = False) -> dict:
    """Validate staged submissions (``all_submissions``: revalidate every accepted one after a rule change)
    and write the stewards' validation report."""
    summary = sm.new_summary("validate", all_submissions=all_submissions or None)
    r = _stages(summary, [("validate", {"all_submissions": all_submissions})]).get("validate")
    summary["refused"].extend((r or {}).get("refused", []))
    _paths(summary, steward_report=t.relative((r or {}).get("steward_report")))
    return _close(summary, "validate-summary")


@flow(name="indicators", log_prints=True)
def indicators_flow(include_unsigned: bool = False) -> dict:
    """The marts before the label: indicator values, survey items, benchmark groups, survey indicator groups
    (signed-off school years only, unless ``include_unsigned``)."""
    summary = sm.new_summary("indicators", include_unsigned=include_unsigned or None)
    _stages(summary, [(s.name, {"include_unsigned": include_unsigned} if s.name in SCOPED else {})
                      for s in MARTS if s.name != "score"])
    _paths(summary)
    return _close(summary, "indicators-summary")


@flow(name="score", log_prints=True)
def score_flow(model: str | None = None, draws: int | None = None, seed: int | None = None) -> dict:
    """Label scores, decisions and robustness from the indicator values."""
    summary = sm.new_summary("score", model=model, draws=draws, seed=seed)
    _stages(summary, [("score", {"model": model, "draws": draws, "seed": seed})])
    _paths(summary)
    return _close(summary, "score-summary")


@flow(name="report", log_prints=True)
def report_flow(school: str | None = None, pdf: bool = False) -> dict:
    """Write the reports (school profiles, network overview, label results, Excel workbook)."""
    summary = sm.new_summary("report", school=school, pdf=pdf or None)
    r = _stages(summary, [("report", {"school": school, "pdf": pdf})]).get("report")
    _paths(summary, reports=t.relative((r or {}).get("index")))
    return _close(summary, "report-summary")


@flow(name="annual-cycle", log_prints=True)
def annual_cycle(years: list[str] | None = None, pdf: bool = False, model: str | None = None,
                 draws: int | None = None, seed: int | None = None, include_unsigned: bool = False) -> dict:
    """The whole cycle on data/raw in one flow run, the stages of ``ims_indicators.pipeline.CYCLE`` in order.

    ``years`` limits which submissions are (re)ingested (the registry always is); the later stages always
    recompute every year, so the marts stay consistent. Refused files are reported, not failures; the first
    stage that fails ends the run Failed with its reason, and the stages after it are skipped.

    Runs its tasks on Prefect's default thread pool; for Dask, call
    ``annual_cycle.with_options(task_runner=pipelines.runners.task_runner())`` (``IMS_TASK_RUNNER=dask``).
    """
    summary = sm.new_summary("annual-cycle", years=years, pdf=pdf or None, model=model, draws=draws, seed=seed,
                             include_unsigned=include_unsigned or None)
    raw = settings.raw_dir()
    options = {"ingest": {"paths": [str(raw)], "years": years}, "score": {"model": model, "draws": draws, "seed": seed},
               "report": {"pdf": pdf}, **{name: {"include_unsigned": include_unsigned} for name in SCOPED}}
    stages = [(s.name, options.get(s.name, {})) for s in CYCLE]
    results: dict[str, dict] = {}
    if not raw.is_dir():
        summary["failed"] = f"ingest failed: {t.relative(raw)}: no such folder; expected the received submissions " \
                            "(run `ims demo-data` for the demo network)"
        _skip(summary, *(s[0] for s in stages))
    else:
        results = _stages(summary, stages)
    _refusals(summary, results.get("ingest"))
    summary["refused"].extend(results.get("validate", {}).get("refused", []))
    for r in summary["refused"]:
        print(f"refused: {r['reason']}")
    counts = _run_stage(summary, "counts", t.warehouse_counts, describe=lambda r: "warehouse counted")
    if counts:
        summary["stages"].pop()  # bookkeeping, not a stage of the cycle
        _counts(summary, counts)
    _paths(summary, curated=t.relative(settings.curated_dir()),
           steward_report=t.relative(results.get("validate", {}).get("steward_report")),
           reports=t.relative(results.get("report", {}).get("index")))
    return _close(summary, "annual-cycle-summary")


@flow(name="inbox-watch", log_prints=True)
def inbox_watch(inbox: str | None = None, settle_seconds: float = 2.0, fail_on_refusal: bool = False) -> dict:
    """Receive new files from data/inbox/ (``<dataset>/<school>/<yyyy-yy>/<file>`` or ``schools.csv``):
    ingest and validate those whose size is stable, move them out of the inbox, update the stewards' report."""
    box = str(inbox or settings.inbox_dir())
    summary = sm.new_summary("inbox-watch", inbox=box)
    Path(box).mkdir(parents=True, exist_ok=True)
    r = _run_stage(summary, "receive", t.receive_inbox, box, settle_seconds, describe=_describe_ingest)
    _refusals(summary, r)
    if r and r.get("received"):
        summary["received"] = r["received"]
        v = _stages(summary, [("validate", {})]).get("validate")
        _paths(summary, steward_report=t.relative((v or {}).get("steward_report")))
    _paths(summary, inbox=t.relative(box), raw=t.relative(settings.raw_dir()))
    return _close(summary, "inbox-watch-summary", _refusal_failure(r, fail_on_refusal))
