"""check_staged: one GX run per chunk for all pending submissions of a dataset, then the cross checks;
every result kept in meta.validation_runs, failing rows returned as RowFailures per submission."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import duckdb
import pandas as pd

from ims_indicators.validate.cross import DESCRIPTIONS, FILE_LEVEL, run_checks
from ims_indicators.validate.frames import batches, build_validation_frame, drop_frame, frames
from ims_indicators.validate.gxrun import make_runner, run_chunks
from ims_indicators.validate.suites import load_suite
from ims_indicators.validate.verdict import RowFailure, Verdict

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


def check_staged(con: duckdb.DuckDBPyConnection, dataset: str, submission_ids: list[str], *,
                 table: str | None = None, docs: bool = True, mode: str = "file",
                 record: bool = True) -> list[Verdict]:
    """Validate staged submissions of one dataset: GX suite + cross-dataset checks → a Verdict each."""
    ids = list(dict.fromkeys(submission_ids))
    if not ids:
        return []
    run_id, run_at = uuid.uuid4().hex[:16], dt.datetime.now()
    suite = load_suite(dataset)
    groups, counts = batches(con, dataset, ids, table)
    findings, outcomes, runner = [], {}, None
    try:
        for group in groups:
            n_chunks = build_validation_frame(con, dataset, group, table)
            runner = runner or make_runner(dataset, suite, mode=mode, docs=docs)
            found, seen = run_chunks(runner, frames(con, n_chunks))
            findings.extend(found)
            outcomes.update(seen)
    finally:
        drop_frame(con)
    held = [f for f in findings if f["severity"] == QUARANTINE_SEVERITY]
    gx_failed = pd.DataFrame({"submission_id": pd.Series([f["submission_id"] for f in held], dtype="str"),
                              "source_row": pd.Series([f["source_row"] for f in held], dtype="int64")})
    cross = run_checks(con, dataset, ids, gx_failed, table)

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


def record_runs(con: duckdb.DuckDBPyConnection, records: list[list]) -> None:
    if not records:
        return
    df = pd.DataFrame(records, columns=RUN_COLUMNS).astype({"element_count": "int64", "unexpected_count": "int64"})
    con.register("_runs_df", df)
    try:
        con.execute(f"INSERT INTO meta.validation_runs ({', '.join(RUN_COLUMNS)}) "
                    f"SELECT {', '.join(RUN_COLUMNS[:-1])}, details::JSON FROM _runs_df")
    finally:
        con.unregister("_runs_df")
