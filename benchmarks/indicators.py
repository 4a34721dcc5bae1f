"""Benchmark: all catalogue indicators on a synthetic network, against one hand-written DuckDB query.

    .venv/bin/python benchmarks/indicators.py [--schools 500] [--years 10] [--rows 10000000] [--repeat 3]

Generates (in DuckDB SQL) a warehouse of N schools × Y years with every dataset and R mobility rows, then
times ``compute_indicators`` (the whole catalogue), ``compute_indicators`` with a catalogue of just the two
headline indicators, and one hand-written query computing those two (outgoing students per 100 graduates,
international staff share) — and checks that both give the same values. A quarter of the mobility rows carry a
person_ref (outgoing students are counted as distinct credit-mobile persons). Times are reported as ratios to the
hand-written query (best of --repeat runs each), with the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ims_indicators import warehouse
from ims_indicators.benchmark import compute_benchmarks, load_peer_sets
from ims_indicators.indicators import compute_indicators, load_catalogue

ROOT = Path(__file__).resolve().parents[1]
HEADLINE = ("mob_outgoing_per_100_graduates", "staff_international_share")

GENERATE = """
CREATE OR REPLACE TEMP TABLE bench_countries AS
SELECT * FROM (VALUES (0, 'DE'), (1, 'FR'), (2, 'BE'), (3, 'IT'), (4, 'SE'), (5, 'PL'), (6, 'AU'), (7, 'NL'),
                      (8, 'ES'), (9, 'AT'), (10, 'CZ'), (11, 'FI'), (12, 'PT'), (13, 'HU'), (14, 'NZ'))
    AS t(i, code);
INSERT INTO curated.schools
SELECT 'registry', s, 'school' || s, 'School ' || s, c.code, 'City', NULL,
       CASE WHEN s < 7 THEN 'partner' ELSE 'member' END, s % 3 = 0
FROM range($schools) AS r(s) JOIN bench_countries AS c ON c.i = s % 15;
CREATE OR REPLACE TEMP TABLE bench_years AS
SELECT y, (2015 + y) || '/' || lpad(CAST((2016 + y) % 100 AS VARCHAR), 2, '0') AS academic_year
FROM range($years) AS r(y);
INSERT INTO meta.submissions (submission_id, dataset, school_id, academic_year, source, file_name, stored_path,
                              sha256, received_at, status, reason, rows_in, rows_quarantined, superseded_by)
SELECT d.dataset || '-' || s || '-' || y.y, d.dataset, 'school' || s, y.academic_year, 'school', d.dataset || '.csv',
       NULL, md5(d.dataset || s || y.y), make_timestamp(2016 + y.y, 9 + (s % 3), 1 + (s % 28), 12, 0, 0),
       CASE WHEN s % 17 = 0 THEN 'accepted_with_quarantine' ELSE 'accepted' END, NULL, 100,
       CAST(s % 17 = 0 AS INTEGER), NULL
FROM range($schools) AS r(s) CROSS JOIN bench_years AS y
CROSS JOIN (VALUES ('enrolment'), ('mobility'), ('staffing'), ('accreditation')) AS d(dataset);
INSERT INTO curated.enrolment
SELECT 'enrolment-' || s || '-' || y.y, l.i, 'school' || s, y.academic_year, l.level,
       500 + (s * 37 + y.y * 11 + l.i * 101) % 9000, (s * 13 + y.y) % 400, 300, 40 + (s * 7 + y.y) % 600,
       1000 + s % 500, (s * 3 + y.y) % 900
FROM range($schools) AS r(s) CROSS JOIN bench_years AS y
CROSS JOIN (VALUES (0, 'long_cycle'), (1, 'master')) AS l(i, level);
INSERT INTO curated.staffing
SELECT 'staffing-' || s || '-' || y.y, c.i, 'school' || s, y.academic_year, c.cat,
       20 + (s * 5 + c.i * 17 + y.y) % 200 AS hc, (20 + (s * 5 + c.i * 17 + y.y) % 200) * 0.8,
       (s + c.i + y.y) % 20, (s + c.i) % 15, (s * 2 + y.y) % 10, (s + y.y) % 18
FROM range($schools) AS r(s) CROSS JOIN bench_years AS y
CROSS JOIN (VALUES (0, 'professor'), (1, 'associate_professor'), (2, 'lecturer'), (3, 'researcher'),
                   (4, 'clinical_teacher'), (5, 'teaching_assistant')) AS c(i, cat);
INSERT INTO curated.accreditation
SELECT 'accreditation-' || s || '-' || y.y, a.i, 'school' || s, y.academic_year, a.prog, 'programme',
       'Agency ' || a.i, CASE WHEN a.i = 0 THEN c.code ELSE 'CH' END, a.i = 1,
       CASE WHEN s % 11 = 0 THEN 'accredited_with_conditions' ELSE 'accredited' END,
       make_date(2012 + y.y, 1 + s % 12, 1), make_date(2019 + y.y + s % 3, 1 + s % 12, 1), s % 4
FROM range($schools) AS r(s) CROSS JOIN bench_years AS y
JOIN bench_countries AS c ON c.i = s % 15
CROSS JOIN (VALUES (0, 'Medicine'), (1, 'Dentistry')) AS a(i, prog);
INSERT INTO curated.mobility
SELECT 'mobility-' || s || '-' || y.y, m.i, 'school' || s, y.academic_year, 'm' || m.i,
       CASE WHEN h % 2 = 0 THEN 'outgoing' ELSE 'incoming' END,
       CASE WHEN h % 10 < 8 THEN 'student' ELSE 'staff' END,
       CASE WHEN h % 10 >= 8 THEN 'teaching' WHEN h % 3 = 0 THEN 'clinical_placement' ELSE 'study' END,
       CASE h % 5 WHEN 0 THEN 'bilateral' WHEN 1 THEN 'free_mover' ELSE 'erasmus_plus' END,
       CASE WHEN h % 10 < 8 THEN 'long_cycle' END,
       c.code, 'Partner ' || (h % 997),
       make_date(2015 + y.y, 9, 1) + CAST(h % 200 AS INTEGER),
       make_date(2015 + y.y, 9, 1) + CAST(h % 200 AS INTEGER) + CAST(5 + h % 180 AS INTEGER),
       1 + CAST(h % 3 = 0 AS INTEGER), CASE WHEN h % 10 < 8 THEN 30 END, CASE WHEN h % 10 < 8 THEN 30 - h % 7 END,
       CASE WHEN h % 4 = 0 THEN 'p' || (h % 3000000) END
FROM (SELECT i, i % $schools AS s, (i // $schools) % $years AS yi, hash(i) AS h FROM range($rows) AS r(i)) AS m
JOIN bench_years AS y ON y.y = m.yi
JOIN bench_countries AS c ON c.i = m.h % 15;
"""

HAND_WRITTEN = """
WITH school_submissions AS (
    SELECT submission_id FROM meta.submissions WHERE source = 'school'
),
outgoing AS (  -- distinct credit-mobile persons (>= 90 days or >= 15 ECTS); rows without person_ref: participants
    SELECT school_id, academic_year,
           CAST(count(DISTINCT person_ref) + coalesce(sum(participants) FILTER (WHERE person_ref IS NULL), 0)
                AS DOUBLE) AS outgoing_students
    FROM curated.mobility
    WHERE direction = 'outgoing' AND participant_type = 'student'
      AND (end_date - start_date + 1 >= 90 OR coalesce(ects_earned, 0) >= 15)
      AND submission_id IN (SELECT submission_id FROM school_submissions)
    GROUP BY ALL
),
graduates AS (
    SELECT school_id, academic_year, CAST(sum(graduates) AS DOUBLE) AS graduates
    FROM curated.enrolment WHERE submission_id IN (SELECT submission_id FROM school_submissions)
    GROUP BY ALL
),
staff AS (
    SELECT school_id, academic_year, CAST(sum(foreign_nationality) AS DOUBLE) AS foreign_staff,
           CAST(sum(headcount) AS DOUBLE) AS headcount
    FROM curated.staffing WHERE submission_id IN (SELECT submission_id FROM school_submissions)
    GROUP BY ALL
)
SELECT g.school_id, g.academic_year,
       CASE WHEN g.graduates >= 20 THEN 100 * coalesce(o.outgoing_students, 0) / g.graduates END AS outgoing_per_100,
       CASE WHEN s.headcount >= 10 THEN s.foreign_staff / s.headcount END AS intl_staff_share
FROM graduates AS g
LEFT JOIN outgoing AS o USING (school_id, academic_year)
LEFT JOIN staff AS s USING (school_id, academic_year)
"""


def best_of(n: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(n):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def generate(path: Path, knobs: dict[str, int]) -> None:
    """Write the synthetic warehouse (run in a child process, so its memory is not the measured peak)."""
    con = warehouse.connect(path)
    for stmt in filter(str.strip, GENERATE.split(";\n")):  # parameters bind to one statement at a time
        con.execute(stmt, {k: v for k, v in knobs.items() if f"${k}" in stmt})
    con.execute("CHECKPOINT")
    con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schools", type=int, default=500)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--memory-limit", help="DuckDB memory_limit for the measured connection, e.g. 600MB "
                                           "(default: the production setting, IMS_DUCKDB_MEMORY_LIMIT or 768MB)")
    ap.add_argument("--generate-only", type=Path, help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args()
    knobs = {"schools": args.schools, "years": args.years, "rows": args.rows}
    if args.generate_only:
        generate(args.generate_only, knobs)
        return

    cat = load_catalogue(ROOT / "catalogue" / "indicators.yaml")
    headline = cat.model_copy(update={"indicators": [cat.by_id[i] for i in HEADLINE]})
    peers = load_peer_sets(ROOT / "catalogue" / "peer_sets.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        db = Path(tmp) / "bench.duckdb"
        subprocess.run([sys.executable, __file__, "--generate-only", str(db), *(f"--{k}={v}" for k, v in knobs.items())],
                       check=True)
        gen = time.perf_counter() - t
        con = warehouse.connect(db)
        if args.memory_limit:
            con.execute(f"SET memory_limit = '{args.memory_limit}'")
        mob = con.execute("SELECT count(*) AS n FROM curated.mobility").fetchall()[0][0]
        limit = con.execute("SELECT current_setting('memory_limit') AS m").fetchall()[0][0]
        threads = con.execute("SELECT current_setting('threads') AS t").fetchall()[0][0]
        print(f"DuckDB memory_limit {limit}, threads {threads}")
        print(f"synthetic network: {args.schools} schools × {args.years} years, {mob:,} mobility rows "
              f"(generated in {gen:.1f} s)")

        t_hand, hand = best_of(args.repeat, lambda: con.execute(HAND_WRITTEN).fetchall())
        t_two, _ = best_of(args.repeat, lambda: compute_indicators(con, headline))
        two = {(r[0], r[1], r[2]): r[3] for r in con.execute(
            "SELECT school_id, academic_year, indicator_id, value FROM marts.indicator_values").fetchall()}
        t_all, n_all = best_of(args.repeat, lambda: compute_indicators(con, cat))
        t_bench, n_bench = best_of(args.repeat, lambda: compute_benchmarks(con, peers, cat))
        t_both, _ = best_of(args.repeat, lambda: (compute_indicators(con, cat), compute_benchmarks(con, peers, cat)))

        mismatches = sum(
            1 for school, year, out100, share in hand
            for ind, expected in ((HEADLINE[0], out100), (HEADLINE[1], share))
            if not (expected is None and two[(school, year, ind)] is None
                    or expected is not None and two[(school, year, ind)] is not None
                    and abs(expected - two[(school, year, ind)]) < 1e-9))
        con.close()

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"hand-written query, 2 headline indicators:    {t_hand:7.3f} s   ratio 1.00")
    print(f"compute_indicators, same 2 indicators:        {t_two:7.3f} s   ratio {t_two / t_hand:.2f}   "
          f"(values identical: {'yes' if mismatches == 0 else f'NO, {mismatches} differ'})")
    print(f"compute_indicators, all {len(cat.indicators)} indicators:      {t_all:7.3f} s   "
          f"ratio {t_all / t_hand:.2f}   ({n_all:,} values)")
    print(f"compute_benchmarks, {len(peers.peer_sets)} peer sets:            {t_bench:7.3f} s   "
          f"ratio {t_bench / t_hand:.2f}   ({n_bench:,} group rows)")
    print(f"all indicators and groups (both stages):     {t_both:7.3f} s   ratio {t_both / t_hand:.2f}")
    print(f"peak RSS: {rss_mb:,.0f} MB  (best of {args.repeat} runs each; the synthetic data is generated in a "
          "child process, not counted)")
    if mismatches:
        sys.exit(1)


if __name__ == "__main__":
    main()
