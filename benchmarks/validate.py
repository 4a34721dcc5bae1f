"""Benchmark: validating a big mobility staging table (synthetic) with the real suite and cross checks.

Run: ``.venv/bin/python benchmarks/validate.py [--rows 1000000] [--per-submission 100000] [--docs]``

1. A child process generates N mobility rows in DuckDB SQL into a temporary warehouse (submissions of
   ``--per-submission`` rows, ~0.9 % planted errors: unknown direction, participants 0, unknown country,
   end before start, ECTS recognised > earned, outside the academic year, an exact duplicate row, a
   duplicated key), so this process's peak RSS measures validation only.
2. ``check_staged`` validates all submissions at once: the suite ``expectations/mobility.json`` through
   Great Expectations in chunks (IMS_VALIDATE_CHUNK_ROWS, default 200 000) plus the cross-dataset SQL checks,
   results recorded in meta.validation_runs. Ephemeral GX context without Data Docs unless ``--docs``.
3. The same rules as one DuckDB SQL query (+ the same cross-check SQL), for the ratio; both must find
   the same rows.

Prints wall times, seconds per million rows, peak RSS (``ru_maxrss``) and the GX/SQL ratio.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

COUNTRIES = ["DE", "FR", "IT", "ES", "NL", "BE", "SE", "PL", "AT", "PT", "GB", "US", "XK"]
ERRORS = {100: "direction", 200: "participants", 300: "country", 400: "end_before_start", 500: "ects",
          600: "outside_year", 700: "duplicate_row", 800: "duplicate_key"}


def generate(db: Path, rows: int, per_submission: int) -> None:
    """N rows into staging.mobility (+ registry, enrolment and staffing for the cross checks)."""
    os.environ["IMS_WAREHOUSE"] = str(db)
    from ims_indicators.warehouse import connect

    con = connect(db)
    n_subs = max(1, -(-rows // per_submission))
    countries = "[" + ", ".join(f"'{c}'" for c in COUNTRIES) + "]"
    con.execute(f"""
        INSERT INTO staging.mobility
        WITH idx AS (
            SELECT i, CASE WHEN i % 1000 = 700 THEN i - 1 ELSE i END AS b  -- 700: an exact copy of row 699
            FROM range({rows}) t(i)
        ),
        r AS (
            SELECT i, b, hash(b) AS h, i % 1000 AS e, hash(b) % 5 = 0 AND i % 1000 <> 500 AS staff FROM idx
        ),
        final AS (
            SELECT
                'bench.s' || lpad((i // {per_submission})::VARCHAR, 4, '0') AS submission_id,
                (i % {per_submission}) + 2 AS source_row,
                'school' || ((i // {per_submission}) % 20) AS school_id,
                '2023/24' AS academic_year,
                'M' || CASE WHEN e = 800 THEN b - 1 ELSE b END AS mobility_ref,  -- 800: row 799's key
                CASE WHEN e = 100 THEN 'sideways' WHEN h % 2 = 0 THEN 'outgoing' ELSE 'incoming' END AS direction,
                CASE WHEN staff THEN 'staff' ELSE 'student' END AS participant_type,
                CASE WHEN staff THEN 'teaching' ELSE 'study' END AS activity,
                'erasmus_plus' AS programme,
                CASE WHEN staff THEN NULL ELSE 'master' END AS programme_level,
                CASE WHEN e = 300 THEN 'ZZ' ELSE list_element({countries}, (h % {len(COUNTRIES)})::INT + 1) END
                    AS partner_country,
                'Partner ' || (h % 997) AS partner_institution,
                CASE WHEN e = 400 THEN DATE '2024-03-01' WHEN e = 600 THEN DATE '2025-01-10'
                     ELSE DATE '2023-09-01' + (h % 150)::INT END AS start_date,
                CASE WHEN e = 400 THEN DATE '2024-02-01' WHEN e = 600 THEN DATE '2025-03-10'
                     ELSE DATE '2023-09-01' + (h % 150)::INT + 30 + (h % 90)::INT END AS end_date,
                CASE WHEN e = 200 THEN 0 ELSE 1 + (h % 7 = 0)::INT END AS participants,
                CASE WHEN staff THEN NULL ELSE 30.0 END AS ects_earned,
                CASE WHEN staff THEN NULL WHEN e = 500 THEN 33.0 WHEN h % 3 = 0 THEN 27.0 ELSE 30.0 END
                    AS ects_recognised,
                'p' || (h % 100000) AS person_ref
            FROM r
        )
        SELECT * FROM final""")
    con.execute("""INSERT INTO meta.submissions (submission_id, dataset, school_id, academic_year, source, file_name,
                   sha256, received_at, status, rows_in, rows_quarantined)
                   SELECT submission_id, 'mobility', any_value(school_id), '2023/24', 'school', 'bench.csv',
                          submission_id, now(), 'staged', count(*), 0 FROM staging.mobility GROUP BY submission_id""")
    for s in range(20):
        con.execute("INSERT INTO curated.schools (submission_id, source_row, school_id, name, country_code, "
                    "network_role) VALUES ('registry', ?, ?, ?, 'DE', 'member')", [s + 2, f"school{s}", f"School {s}"])
        con.execute("INSERT INTO curated.enrolment (submission_id, source_row, school_id, academic_year, "
                    "programme_level, students_total, students_international, graduates) VALUES "
                    "('e', ?, ?, '2023/24', 'long_cycle', 10000000, 0, 0)", [s + 2, f"school{s}"])
        con.execute("INSERT INTO curated.staffing (submission_id, source_row, school_id, academic_year, "
                    "staff_category, headcount, fte, foreign_nationality) VALUES "
                    "('s', ?, ?, '2023/24', 'professor', 10000000, 1, 0)", [s + 2, f"school{s}"])
    con.execute("CHECKPOINT")
    con.close()
    print(f"generated {rows:,} rows in {n_subs} submission(s)", file=sys.stderr)


def sql_rules(con, ids: list[str]) -> tuple[float, set]:
    """The same rules in one DuckDB query (plus the same cross-check SQL): (seconds, violating rows)."""
    import pandas as pd

    from ims_indicators.contracts import contract
    from ims_indicators.validate.cross import run_checks
    from ims_indicators.validate.suites import country_codes

    spec = contract("mobility")
    cols = ", ".join(spec.names)
    codes = "[" + ", ".join(f"'{c}'" for c in country_codes()) + "]"
    nn = ", ".join(f"CASE WHEN {c} IS NULL THEN 'not_null:{c}' END" for c in spec.required)
    sets = ", ".join(f"CASE WHEN {c.name} NOT IN ({', '.join(repr(a) for a in c.allowed)}) THEN 'in_set:{c.name}' END"
                     for c in spec.columns if c.kind == "enum")
    mins = ", ".join(f"CASE WHEN {c.name} < {c.min_value} THEN 'min:{c.name}' END"
                     for c in spec.columns if c.min_value is not None)
    t = time.perf_counter()
    found = con.execute(f"""
        WITH s AS (SELECT * FROM staging.mobility WHERE submission_id IN (SELECT unnest($ids))),
        copies AS (
            SELECT *, row_number() OVER (PARTITION BY submission_id, {cols} ORDER BY source_row) AS copy_no,
                   make_date(left(academic_year, 4)::INT, 9, 1) AS ys, make_date(left(academic_year, 4)::INT + 1, 8, 31) AS ye
            FROM s
        ),
        keyed AS (
            SELECT *, count(*) FILTER (WHERE copy_no = 1) OVER (PARTITION BY submission_id, school_id, academic_year,
                                                                 mobility_ref) AS key_rows
            FROM copies
        ),
        flagged AS (
            SELECT submission_id, source_row, list_filter([{nn}, {sets}, {mins},
                CASE WHEN NOT list_contains({codes}, partner_country) THEN 'country' END,
                CASE WHEN end_date < start_date THEN 'end_before_start' END,
                CASE WHEN ects_recognised > ects_earned THEN 'ects' END,
                CASE WHEN end_date < ys OR start_date > ye THEN 'academic_year' END,
                CASE WHEN copy_no > 1 THEN 'duplicate_row' END,
                CASE WHEN copy_no = 1 AND mobility_ref IS NOT NULL AND key_rows > 1 THEN 'unique_key' END
            ], lambda x: x IS NOT NULL) AS rules
            FROM keyed
        )
        SELECT submission_id, source_row FROM flagged WHERE len(rules) > 0""", {"ids": ids}).fetchall()
    failed = pd.DataFrame(found, columns=["submission_id", "source_row"])
    cross = run_checks(con, "mobility", ids, failed)
    rows = set(found) | {(h["submission_id"], h["source_row"]) for hits in cross.values() for h in hits}
    return time.perf_counter() - t, rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--per-submission", type=int, default=100_000)
    ap.add_argument("--docs", action="store_true", help="file GX context under a temp IMS_HOME + Data Docs")
    ap.add_argument("--generate-only", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generate_only:
        generate(args.generate_only, args.rows, args.per_submission)
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="ims-bench-validate-"))
    db = tmp / "data" / "warehouse.duckdb"
    db.parent.mkdir(parents=True)
    t = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--per-submission", str(args.per_submission),
                    "--generate-only", str(db)], check=True)
    gen = time.perf_counter() - t
    os.environ.update(IMS_HOME=str(tmp), IMS_WAREHOUSE=str(db), IMS_EXPECTATIONS_DIR=str(REPO / "expectations"))

    from ims_indicators.validate.frames import chunk_rows
    from ims_indicators.validate.run import check_staged
    from ims_indicators.warehouse import connect

    con = connect(db)
    ids = [r[0] for r in con.execute("SELECT submission_id FROM meta.submissions ORDER BY 1").fetchall()]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    import great_expectations  # noqa: F401 - timed apart: a one-off cost per process, not per row

    gx_import = time.perf_counter() - t
    t = time.perf_counter()
    verdicts = check_staged(con, "mobility", ids, docs=args.docs, mode="file" if args.docs else "ephemeral")
    gx_time = time.perf_counter() - t
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gx_rows = {(v.submission_id, f.source_row) for v in verdicts for f in v.failures}
    sql_time, sql_rows = sql_rules(con, ids)
    planted = con.execute("SELECT count(*) FROM range(?) t(i) WHERE i % 1000 IN (100, 200, 300, 400, 500, 600, 700) "
                          "OR i % 1000 IN (799, 800)", [args.rows]).fetchall()[0][0]
    con.close()
    shutil.rmtree(tmp, ignore_errors=True)

    per_m = 1_000_000 / args.rows
    print(f"rows                      {args.rows:,} in {len(ids)} submission(s), chunks of {chunk_rows():,} rows")
    print(f"generate (child process)  {gen:.1f} s")
    print(f"import great_expectations {gx_import:.1f} s (once per process, not included below)")
    print(f"check_staged (GX + cross) {gx_time:.1f} s  = {gx_time * per_m:.1f} s per million rows"
          f"{' (file context + Data Docs)' if args.docs else ' (ephemeral context, no Data Docs)'}")
    print(f"same rules in DuckDB SQL  {sql_time:.2f} s = {sql_time * per_m:.2f} s per million rows")
    print(f"ratio GX / SQL            {gx_time / sql_time:.0f}x")
    print(f"peak RSS                  {rss_peak:.0f} MB (before validation {rss_before:.0f} MB)")
    print(f"rows held back            GX {len(gx_rows):,}, SQL {len(sql_rows):,}, planted {planted:,}; "
          f"same rows: {gx_rows == sql_rows}")
    return 0 if gx_rows == sql_rows else 1


if __name__ == "__main__":
    sys.exit(main())
