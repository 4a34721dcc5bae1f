"""check_staged: one GX run per chunk for all pending submissions of a dataset, then the cross checks;
every result kept in meta.validation_runs, failing rows returned as RowFailures per submission."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from contextlib import nullcontext

import duckdb

from ims_indicators import settings
from ims_indicators.validate.verdict import RowFailure, Verdict
from ims_indicators.validate.compile import columns_of, compile_suite, table_types
from ims_indicators.validate.cross import DESCRIPTIONS, FILE_LEVEL, run_checks
from ims_indicators.validate.frames import batches, build_validation_frame, create_frame_view, drop_frame, \
    drop_frame_view, frames
from ims_indicators.validate.gxrun import DocsBatch, Outcome, data_docs, make_runner, run_chunks
from ims_indicators.validate.suites import load_suite
from ims_indicators.warehouse import insert_rows

QUARANTINE_SEVERITY = "critical"  # 'warning' and 'info' results are reported, the rows kept
RUN_COLUMNS = ["run_id", "run_at", "submission_id", "dataset", "kind", "rule", "column_name", "severity", "success",
               "element_count", "unexpected_count", "observed_value", "details"]


def _short(kwargs: dict) -> dict:
    """kwargs for the record, long value sets summarised (the suite file has them in full)."""
    out = {}
    for k, v in kwargs.items():
        if isinstance(v, (list, tuple)) and len(v) > 12:
            v = f"[{len(v)} values: {', '.join(map(str, v[:6]))}, …]"
        elif not isinstance(v, (str, int, float, bool, type(None), list, dict)):
            v = str(v)
        out[k] = v
    return out


def _docs_batch(docs: bool | DocsBatch):
    """Where the GX results go for Data Docs: the caller's batch, one built at the end (True), or none (False)."""
    if isinstance(docs, DocsBatch):
        return nullcontext(docs)
    return data_docs() if docs else nullcontext()


def check_staged(con: duckdb.DuckDBPyConnection, dataset: str, submission_ids: list[str], *,
                 table: str | None = None, docs: bool | DocsBatch = True, mode: str = "file",
                 record: bool = True, engine: str = "auto", cross: bool = True) -> list[Verdict]:
    """Validate staged submissions of one dataset: the suite + cross-dataset checks → a Verdict each.

    The suite runs in Great Expectations for submissions up to ``IMS_VALIDATE_SQL_ROWS`` rows (Data Docs
    written) and as compiled SQL above it; ``engine`` "sql" or "gx" forces one for all. ``cross=False`` leaves
    out the cross-dataset checks (open data: the school's own totals do not bound the EU's counts). ``docs``: the
    results go into Data Docs at the end (True), with a batch's (:func:`gxrun.data_docs`), or not (False).
    """
    ids = list(dict.fromkeys(submission_ids))
    if not ids:
        return []
    run_id, run_at = uuid.uuid4().hex[:16], dt.datetime.now()
    suite = load_suite(dataset)
    groups, counts = batches(con, dataset, ids, table)
    threshold = {"sql": -1, "gx": float("inf")}.get(engine, settings.validate_sql_rows())
    large = [sid for sid in ids if counts.get(sid, 0) > threshold]
    findings, outcomes = sql_findings(con, dataset, suite, large, table) if large else ([], {})
    if large:
        groups, _ = batches(con, dataset, [sid for sid in ids if sid not in large], table)
    runner = None
    with _docs_batch(docs) as batch:
        try:
            for group in groups:
                n_chunks = build_validation_frame(con, dataset, group, table)
                runner = runner or make_runner(dataset, suite, mode=mode, docs=batch is not None)
                found, seen = run_chunks(runner, frames(con, n_chunks), batch)
                findings.extend(found)
                outcomes.update(seen)
        finally:
            drop_frame(con)
    held = [f for f in findings if f["severity"] == QUARANTINE_SEVERITY]
    held_rows = [(f["submission_id"], f["source_row"]) for f in held]
    cross = run_checks(con, dataset, ids, held_rows, table) if cross else {}

    verdicts = {sid: Verdict(sid) for sid in ids}
    for f in held:
        verdicts[f["submission_id"]].failures.append(
            RowFailure(f["source_row"], f["rule"], f["column"], f["reason"], stage="validate"))
    for name, hits in cross.items():
        per_sub: dict[str, int] = {}
        for h in hits:
            per_sub[h["submission_id"]] = per_sub.get(h["submission_id"], 0) + 1
        for h in hits:
            verdict = verdicts[h["submission_id"]]
            if name in FILE_LEVEL and per_sub[h["submission_id"]] == counts.get(h["submission_id"]):
                verdict.file_reason = verdict.file_reason or h["reason"]  # every row: the file, not its rows
            else:
                verdict.failures.append(RowFailure(int(h["source_row"]), name, h["column_name"], h["reason"],
                                                   stage="cross"))
    for v in verdicts.values():
        v.failures.sort(key=lambda f: (f.source_row, f.stage, f.rule))

    if record:
        records = []
        for (sid, _), o in outcomes.items():
            n_bad = o.unexpected_count
            observed = (f"{n_bad} of {o.element_count} rows unexpected: {'; '.join(o.values[:5])}" if n_bad
                        else f"all {o.element_count} rows as expected")
            records.append([run_id, run_at, sid, dataset, "gx", o.rule, o.column, o.severity, n_bad == 0,
                            o.element_count, n_bad, observed,
                            json.dumps({"family": o.family, "description": o.description,
                                        "reason": o.reason_template, "kwargs": _short(o.kwargs),
                                        "unexpected_rows": sorted(o.rows)[:50]}, default=str)])
        for name, hits in cross.items():
            by_sub: dict[str, list[dict]] = {}
            for h in hits:
                by_sub.setdefault(h["submission_id"], []).append(h)
            for sid in ids:
                bad = by_sub.get(sid, [])
                observed = (f"{len(bad)} row(s) violate: {bad[0]['reason']}" if bad
                            else f"no violating rows among {counts.get(sid, 0)}")
                records.append([run_id, run_at, sid, dataset, "cross", name,
                                bad[0]["column_name"] if bad else None, QUARANTINE_SEVERITY, not bad,
                                counts.get(sid, 0), len(bad), observed,
                                json.dumps({"description": DESCRIPTIONS.get(name, name),
                                            "unexpected_rows": [int(h["source_row"]) for h in bad][:50]})])
        record_runs(con, records)
    return [verdicts[sid] for sid in ids]


def sql_findings(con: duckdb.DuckDBPyConnection, dataset: str, suite: dict, submission_ids: list[str],
                 table: str | None = None) -> tuple[list[dict], dict[tuple, Outcome]]:
    """The suite compiled to one DuckDB query over the submissions (large ones, open data): the same findings and
    outcomes as :func:`gxrun.run_chunks`, without Great Expectations."""
    create_frame_view(con, "_validate_sql", dataset, submission_ids, table)
    try:
        query = compile_suite(suite, "_validate_sql", table_types(con, "_validate_sql"))
        found = con.execute(f"SELECT * FROM ({query}) ORDER BY submission_id, source_row, expectation").fetchall()
        counts = dict(con.execute("SELECT submission_id, count(*) FROM _validate_sql GROUP BY ALL").fetchall())
    finally:
        drop_frame_view(con, "_validate_sql")
    outcomes: dict[tuple, Outcome] = {}
    for i, e in enumerate(suite.get("expectations", [])):
        kwargs = {k: v for k, v in e.get("kwargs", {}).items() if k != "batch_id"}
        meta = e.get("meta") or {}
        for sid in submission_ids:
            outcomes[(sid, i)] = Outcome(e["type"], ",".join(columns_of(kwargs)) or None, e.get("severity") or "critical",
                                         meta.get("family"), meta.get("reason") or "", kwargs, e.get("description"),
                                         element_count=int(counts.get(sid, 0)))
    findings = []
    for sid, source_row, rule, column, reason, severity, i in found:
        o = outcomes[(sid, i)]
        o.rows.append(int(source_row))
        if len(o.values) < 20:
            o.values.append(f"row {source_row}: {reason}")
        findings.append({"submission_id": sid, "source_row": int(source_row), "rule": rule, "column": column,
                         "severity": severity, "reason": reason})
    return findings, outcomes


def record_runs(con: duckdb.DuckDBPyConnection, records: list[list]) -> None:
    insert_rows(con, "meta.validation_runs", RUN_COLUMNS, records,
                dtypes={"element_count": "BIGINT", "unexpected_count": "BIGINT"},
                select=f"{', '.join(RUN_COLUMNS[:-1])}, details::JSON")
