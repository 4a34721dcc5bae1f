"""Curated rows in fixtures as the pipeline leaves them: staged rows of accepted submissions.

curated.<dataset> is the view of the staged rows that passed (``ims_indicators/sql/curated.sql``), so a fixture
writes ``staging.<dataset>`` and records the submissions; :func:`accept_staged` records those it did not.
"""

from __future__ import annotations

from ims_indicators.contracts import CONTRACTS, contract


def accept_staged(con, *datasets: str) -> None:
    """Record every staged submission of ``datasets`` (default: all) that meta.submissions does not hold as
    accepted, with the school and year of one of its rows."""
    for dataset in datasets or tuple(CONTRACTS):
        key = "any_value(school_id), any_value(academic_year)" if contract(dataset).per_year else "NULL, NULL"
        con.execute(f"""INSERT INTO meta.submissions (submission_id, dataset, school_id, academic_year, source,
                                                     file_name, sha256, received_at, status)
                        SELECT submission_id, '{dataset}', {key}, 'school', 'fixture.csv', 'fixture',
                               TIMESTAMP '2024-01-01', 'accepted'
                        FROM staging.{dataset}
                        WHERE submission_id NOT IN (SELECT submission_id FROM meta.submissions)
                        GROUP BY submission_id""")
