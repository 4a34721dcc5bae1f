"""The data stewards' validation report: a self-contained offline HTML site under reports/validation/.

index.html lists every submission with its status and counts; submissions/<id>.html shows each
expectation and cross check of the latest validation run (observed value, pass/fail), the rows held back
with their reasons and the rows as received, and links to the received (or rejected) file. Every value
that came from a file is HTML-escaped (Jinja2 autoescape; nothing from data is ever marked safe).
GX Data Docs are built beside it in reports/data_docs/ (they load styles from a CDN).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import duckdb

from ims_indicators import settings, submissions
from ims_indicators.warehouse import rows

PAGES = "submissions"


def _env():
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("ims_indicators.validate", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda v: "" if v is None else f"{v:,}"
    return env


def page_name(submission_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", submission_id) + ".html"


def _link(stored_path: str | None, from_dir: Path) -> str | None:
    if not stored_path:
        return None
    return Path(os.path.relpath(submissions.from_home(stored_path), from_dir)).as_posix()


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _latest_runs(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows(con, """
            SELECT * FROM meta.validation_runs
            QUALIFY run_id = first_value(run_id) OVER (PARTITION BY submission_id ORDER BY run_at DESC)
            ORDER BY submission_id, kind DESC, success, rule, column_name"""):
        r["details"] = json.loads(r["details"]) if r["details"] else {}
        out.setdefault(r["submission_id"], []).append(r)
    return out


def _quarantine(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows(con, "SELECT * FROM meta.quarantine ORDER BY submission_id, source_row, stage, rule"):
        out.setdefault(r["submission_id"], []).append(r)
    return out


def _received(findings: list[dict]) -> tuple[list[str], list[dict]]:
    """The distinct rows held back as received: (columns, [{source_row, values}])."""
    columns: list[str] = []
    seen: dict[int | None, dict] = {}
    for f in findings:
        if f["source_row"] in seen:
            continue
        try:
            values = json.loads(f["row_json"]) if f["row_json"] else {}
        except ValueError:
            values = {"(row)": f["row_json"]}
        if not isinstance(values, dict):
            values = {"(row)": values}
        for k in values:
            if k not in columns:
                columns.append(k)
        seen[f["source_row"]] = values
    return columns, [{"source_row": row, "cells": [_cell(v.get(c)) for c in columns]} for row, v in seen.items()]


def write_steward_report(con: duckdb.DuckDBPyConnection, out_dir: Path | None = None) -> Path:
    """Write reports/validation/index.html and one page per submission; return the index path."""
    out_dir = Path(out_dir or settings.reports_dir() / "validation")
    pages_dir = out_dir / PAGES
    pages_dir.mkdir(parents=True, exist_ok=True)
    env = _env()
    subs = rows(con, """SELECT * FROM meta.submissions
                        ORDER BY dataset <> 'schools', dataset, school_id, academic_year, received_at""")
    runs, held = _latest_runs(con), _quarantine(con)
    docs = settings.reports_dir() / "data_docs" / "index.html"
    docs_link = Path(os.path.relpath(docs, out_dir)).as_posix() if docs.exists() else None
    generated = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    written = set()
    index_rows = []
    for s in subs:
        sid = s["submission_id"]
        results = runs.get(sid, [])
        findings = held.get(sid, [])
        failed = [r for r in results if not r["success"]]
        name = page_name(sid)
        columns, received = _received(findings)
        (pages_dir / name).write_text(env.get_template("submission.html").render(
            s=s, results=results, failed=len(failed), findings=findings, columns=columns, received=received,
            file_link=_link(s["stored_path"], pages_dir), generated=generated,
            docs_link=Path(os.path.relpath(docs, pages_dir)).as_posix() if docs_link else None), encoding="utf-8")
        written.add(name)
        index_rows.append({**s, "page": f"{PAGES}/{name}", "file_link": _link(s["stored_path"], out_dir),
                           "checks": len(results), "failed": len(failed)})
    for stale in pages_dir.glob("*.html"):
        if stale.name not in written:
            stale.unlink()
    totals = {"submissions": len(subs), "rows_in": sum(s["rows_in"] or 0 for s in subs),
              "rows_quarantined": sum(s["rows_quarantined"] or 0 for s in subs)}
    for s in subs:
        totals[s["status"]] = totals.get(s["status"], 0) + 1
    index = out_dir / "index.html"
    overrides = rows(con, "SELECT * FROM meta.overrides ORDER BY approved_at, override_id")
    index.write_text(env.get_template("index.html").render(subs=index_rows, totals=totals, docs_link=docs_link,
                                                           overrides=overrides, generated=generated), encoding="utf-8")
    return index
