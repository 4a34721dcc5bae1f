"""``ims validate``: validate what is staged, or (``--all``) re-check every current accepted submission from
staging after a suite changed — rows that now pass are released to curated, rows that now fail are held back."""

from __future__ import annotations

import duckdb

from ims_indicators.curate.promote import apply_verdict
from ims_indicators.curate.publish import clean_stale, publish_partitions

CURRENT = """SELECT dataset, submission_id FROM meta.submissions
             WHERE status IN ('accepted', 'accepted_with_quarantine') AND superseded_by IS NULL
               AND source = 'school'  -- open data is checked by the compiled suite when loaded
               {extra}
             ORDER BY dataset <> 'schools', dataset, received_at, submission_id"""


def current_submissions(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> dict[str, list[str]]:
    """Current (not superseded) accepted submissions per dataset, the registry first."""
    query = CURRENT.format(extra="AND dataset = ?" if dataset else "")
    out: dict[str, list[str]] = {}
    for ds, sid in con.execute(query, [dataset] if dataset else []).fetchall():
        out.setdefault(ds, []).append(sid)
    return out


def _held(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {sid: set() for sid in ids}
    for sid, row in con.execute("SELECT DISTINCT submission_id, source_row FROM meta.quarantine WHERE submission_id "
                                "IN (SELECT unnest(?)) AND source_row IS NOT NULL", [ids]).fetchall():
        out[sid].add(int(row))
    return out


def revalidate_all(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> list[dict]:
    """Re-check every current accepted submission from staging (no file is read again) and re-apply the
    verdicts; returns one outcome per submission with the rows released and newly quarantined."""
    from ims_indicators.validate import check_staged
    from ims_indicators.validate.gxrun import data_docs

    outcomes, touched = [], set()
    with data_docs() as docs:  # one Data Docs build for all the datasets
        for ds, ids in current_submissions(con, dataset).items():
            before = _held(con, ids)
            status_before = dict(con.execute("SELECT submission_id, status FROM meta.submissions WHERE submission_id "
                                             "IN (SELECT unnest(?))", [ids]).fetchall())
            for verdict in check_staged(con, ds, ids, docs):
                outcome = apply_verdict(con, ds, verdict)
                after = _held(con, [verdict.submission_id])[verdict.submission_id]
                was = before[verdict.submission_id]
                outcome.update(dataset=ds, status_before=status_before[verdict.submission_id],
                               rows_released=len(was - after), rows_newly_quarantined=len(after - was))
                outcomes.append(outcome)
                year = con.execute("SELECT academic_year FROM meta.submissions WHERE submission_id = ?",
                                   [verdict.submission_id]).fetchall()[0][0]
                touched.add((ds, year))
    clean_stale()
    publish_partitions(con, sorted(touched, key=lambda t: (t[0], t[1] or "")))
    return outcomes

