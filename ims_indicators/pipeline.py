"""The stages, in order, written once.

A received file takes the submission path: **stage** (keep it, read and type it into staging) → **validate**
(GX suites and cross-dataset checks) → **promote** (quarantine the failing rows, the rest to curated) →
**publish** (curated Parquet); :func:`ingest_paths` runs it, :func:`process_pending` its last three steps.

The annual cycle (:data:`CYCLE`) is: ingest → validate → indicators → survey → benchmark → survey groups →
score → report. Each stage is a plain function ``(con, **options) -> dict`` (a small summary) that does what
its name says and nothing else; :data:`MARTS` are the stages that derive the marts from curated data.
``ims ingest``/``ims validate``/``ims rebuild``, :func:`compute_marts` and the Prefect flows
(``pipelines/flows.py``, one task per stage) all call these, so the order lives only here.

Stage modules are imported inside the functions: ``ims --help`` stays fast and Great Expectations is only
imported by the stages that validate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    from ims_indicators.ingest.stage import SubmissionResult
    from ims_indicators.validate.verdict import Verdict
    from ims_indicators.validate.gxrun import DocsBatch

Progress = Callable[[str, int], None]  # (file name, rows) after each file


# ------------------------------------------------------------------------------------- submission path

@dataclass
class IngestReport:
    results: list[SubmissionResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def refused(self) -> list[SubmissionResult]:
        return [r for r in self.results if r.status == "rejected"]

    def summary(self) -> dict:
        statuses: dict[str, int] = {}
        for r in self.results:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        return {"files": len(self.results), "statuses": statuses,
                "rows_in": sum(r.rows_in for r in self.results if r.status != "unchanged"),
                "rows_quarantined": sum(r.rows_quarantined for r in self.results if r.status != "unchanged")}


def stage(con: duckdb.DuckDBPyConnection, paths: list[Path], *, dataset: str | None = None,
          school_id: str | None = None, academic_year: str | None = None,
          progress: Progress | None = None) -> IngestReport:
    """Keep, read and type each file (or data/raw-style folder) into staging; one result per file."""
    from ims_indicators.ingest.stage import discover, stage_file

    report = IngestReport()
    for path in discover(paths):
        result = stage_file(con, path, dataset=dataset, school_id=school_id, academic_year=academic_year)
        report.results.append(result)
        if progress:
            progress(path.name, result.rows_in)
    return report


def validate(con: duckdb.DuckDBPyConnection, dataset: str, submission_ids: list[str],
             docs: bool | DocsBatch = True) -> list[Verdict]:
    """The verdict on each staged submission of one dataset: GX suite and cross-dataset checks."""
    from ims_indicators.validate import check_staged

    return check_staged(con, dataset, submission_ids, docs)


def promote(con: duckdb.DuckDBPyConnection, dataset: str, verdicts: list[Verdict]) -> list[dict]:
    """Apply a dataset's verdicts in one transaction: failing rows to quarantine, the rest to curated."""
    from ims_indicators.curate.promote import apply_verdicts

    return apply_verdicts(con, dataset, verdicts)


def publish(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite the curated Parquet partitions that changed."""
    from ims_indicators.curate.publish import publish_stale

    publish_stale(con)


def process_pending(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> list[dict]:
    """validate → promote, a dataset at a time (the registry first: later checks read curated.schools), then
    publish whatever is staged; one outcome per submission."""
    from ims_indicators.curate.promote import pending
    from ims_indicators.validate.gxrun import data_docs

    outcomes = []
    with data_docs() as docs:  # one Data Docs build for all the datasets
        for ds, ids in pending(con, dataset).items():
            outcomes.extend(promote(con, ds, validate(con, ds, ids, docs)))
    publish(con)
    return outcomes


def ingest_paths(con: duckdb.DuckDBPyConnection, paths: list[Path], *, dataset: str | None = None,
                 school_id: str | None = None, academic_year: str | None = None,
                 progress: Progress | None = None) -> IngestReport:
    """The submission path for files and/or data/raw-style folders: stage → validate → promote → publish."""
    report = stage(con, paths, dataset=dataset, school_id=school_id, academic_year=academic_year,
                   progress=progress)
    return _decided(con, report)


def ingest_files(con: duckdb.DuckDBPyConnection, files: list[tuple[Path, dict]]) -> IngestReport:
    """The submission path for files that each come with their own key (``dataset``, ``school_id``,
    ``academic_year``), staged one by one and validated together: one result per file, in order."""
    from ims_indicators.ingest.stage import stage_file

    return _decided(con, IngestReport([stage_file(con, path, **key) for path, key in files]))


def _decided(con: duckdb.DuckDBPyConnection, report: IngestReport) -> IngestReport:
    """validate → promote → publish what is staged; each result gets its submission's outcome."""
    by_id = {r.submission_id: r for r in report.results}
    for outcome in process_pending(con):
        if (r := by_id.get(outcome["submission_id"])) is not None:
            r.status, r.reason, r.rows_quarantined = outcome["status"], outcome["reason"], outcome["rows_quarantined"]
    return report


# ------------------------------------------------------------------------------------------ the cycle

def _in_years(path: Path, years: set[str]) -> bool:
    from ims_indicators.contracts import canonical_year
    from ims_indicators.ingest.stage import resolve_dataset_hint

    if resolve_dataset_hint(path) == "schools":
        return True  # the registry belongs to every year
    return len(path.parts) >= 2 and canonical_year(path.parts[-2]) in years


def ingest(con: duckdb.DuckDBPyConnection, paths: list[str], years: list[str] | None = None,
           dataset: str | None = None, school: str | None = None, year: str | None = None,
           progress: Progress | None = None) -> dict:
    """The submission path for files and/or folders (``years``: only files of those academic years)."""
    from ims_indicators.contracts import canonical_year
    from ims_indicators.errors import InputRefused
    from ims_indicators.ingest.stage import discover

    roots = [Path(p) for p in paths]
    for p in roots:
        if not p.exists():
            raise InputRefused(str(p), "no such file or folder; expected a submission file or a data/raw-style folder")
    files = discover(roots)
    if years:
        wanted = {canonical_year(y) or y for y in years}
        files = [f for f in files if _in_years(f, wanted)]
    report = ingest_paths(con, files, dataset=dataset, school_id=school, academic_year=year, progress=progress)
    return ingest_summary(report)


def ingest_summary(report: IngestReport) -> dict:
    return {**report.summary(), "refused": [{"file": r.file, "submission_id": r.submission_id, "reason": r.reason}
                                            for r in report.refused]}


def validate_stage(con: duckdb.DuckDBPyConnection, all_submissions: bool = False) -> dict:
    """Validate what is staged (``all_submissions``: revalidate every current accepted submission), copy the
    collection's new audit entries to meta.audit_log and write the stewards' validation report (reports/validation/)."""
    from ims_indicators.collection.audit import copy_audit_log
    from ims_indicators.validate.report import write_steward_report
    from ims_indicators.validate.revalidate import revalidate_all

    outcomes = revalidate_all(con) if all_submissions else process_pending(con)
    audit_copied = copy_audit_log(con)  # the collection's actions, before the report lists the overrides
    index = write_steward_report(con)
    out: dict[str, Any] = {"validated": len(outcomes), "statuses": dict(Counter(o["status"] for o in outcomes)),
                           "rows_quarantined": sum(o.get("rows_quarantined") or 0 for o in outcomes),
                           "steward_report": str(index), "audit_entries_copied": audit_copied}
    if all_submissions:
        out["revalidated"] = len(outcomes)
        out["rows_released"] = sum(o.get("rows_released", 0) for o in outcomes)
        out["rows_newly_quarantined"] = sum(o.get("rows_newly_quarantined", 0) for o in outcomes)
    out["refused"] = [{"file": o.get("submission_id"), "submission_id": o.get("submission_id"),
                       "reason": o.get("reason")} for o in outcomes if o["status"] == "rejected"]
    return out


def indicators(con: duckdb.DuckDBPyConnection, include_unsigned: bool = False) -> dict:
    """marts.indicator_values from the curated tables and the catalogue (every year): signed-off school years
    only from the calendar's ``signoff_required_from`` on, unless ``include_unsigned`` (previews)."""
    from ims_indicators import indicators as ind
    from ims_indicators.collection.cycle import signed_off_scope

    return {"indicator_values": int(ind.compute_indicators(con, scope=signed_off_scope(include_unsigned)))}


def survey(con: duckdb.DuckDBPyConnection, include_unsigned: bool = False) -> dict:
    """marts.survey_items: the student survey's items with CHE confidence-interval groups (signed-off data as
    for the indicators)."""
    from ims_indicators.collection.cycle import signed_off_scope
    from ims_indicators.survey.che import compute_survey

    return {"survey_items": int(compute_survey(con, scope=signed_off_scope(include_unsigned)))}


def benchmark(con: duckdb.DuckDBPyConnection) -> dict:
    """marts.benchmark_groups: peer sets, CHE top/middle/bottom and U-Multirank A–E groups."""
    from ims_indicators.benchmark import compute_benchmarks

    return {"benchmark_groups": int(compute_benchmarks(con))}


def survey_groups(con: duckdb.DuckDBPyConnection) -> dict:
    """The CHE interval group of the survey indicators in marts.benchmark_groups (in every peer set)."""
    from ims_indicators.survey.che import apply_survey_groups

    return {"survey_groups": int(apply_survey_groups(con))}


def score(con: duckdb.DuckDBPyConnection, model: str | None = None, draws: int | None = None,
          seed: int | None = None) -> dict:
    """Label scores, decisions and robustness: marts.label_results / label_robustness (every year)."""
    from ims_indicators import settings
    from ims_indicators.score.model import load_model
    from ims_indicators.score.warehouse import score_warehouse, write_scores

    m = load_model(Path(model) if model else settings.models_dir() / "label_v1.yaml")
    scores = score_warehouse(con, m, draws, seed)
    written = write_scores(con, scores)
    decisions = scores.results["decision"].astype(str).value_counts().sort_index().to_dict()
    return {"model": f"{m.name} {m.version}", "tables": written, "decisions": {k: int(v) for k, v in decisions.items()}}


def report(con: duckdb.DuckDBPyConnection, school: str | None = None, pdf: bool = False) -> dict:
    """The HTML profiles, network overview, label results and Excel workbook under reports/."""
    from ims_indicators import settings
    from ims_indicators.report import write_reports

    result = write_reports(con, out_dir=settings.reports_dir(), school=school, pdf=pdf)
    result = result if isinstance(result, dict) else {}
    schools = result.get("schools") or []
    index = result.get("index") or (schools[0] if schools else settings.reports_dir() / "index.html")
    return {"index": str(index), "files": len(result.get("paths") or []), "schools": len(schools),
            "pdfs": len(result.get("pdfs") or [])}


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[..., dict]  # (con, **options) -> a small summary dict


MARTS: tuple[Stage, ...] = (
    Stage("indicators", indicators),
    Stage("survey", survey),
    Stage("benchmark", benchmark),
    Stage("survey groups", survey_groups),
    Stage("score", score),
)
CYCLE: tuple[Stage, ...] = (Stage("ingest", ingest), Stage("validate", validate_stage), *MARTS, Stage("report", report))
STAGES: dict[str, Stage] = {s.name: s for s in CYCLE}


SCOPED = ("indicators", "survey")  # the stages that choose the data: signed off only, unless include_unsigned


def compute_marts(con: duckdb.DuckDBPyConnection, draws: int | None = None, include_unsigned: bool = False) -> dict:
    """Every stage of :data:`MARTS` in order (used by ``ims rebuild``); the rows written per mart."""
    out: dict = {}
    for s in MARTS:
        options = {"draws": draws} if s.name == "score" else {}
        if s.name in SCOPED:
            options["include_unsigned"] = include_unsigned
        result = s.run(con, **options)
        out.update(result.get("tables", result))
    return out
