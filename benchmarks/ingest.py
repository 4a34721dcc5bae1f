"""Ingest benchmark: a messy N-row mobility CSV through `ims ingest` vs DuckDB's own read_csv of the same file.

    .venv/bin/python benchmarks/ingest.py --rows 1000000 [--repeat 3]

The file is what a German school sends: Windows-1252, ';'-separated, decimal commas, dd.mm.yyyy dates,
headers in other cases, years written 2023-2024, person references to pseudonymise. Both sides run in their
own subprocess so each peak RSS is its own; they run alternately ``--repeat`` times (this 2-core machine varies
by 10-15 % from run to run) and the medians are compared. Prints seconds, the ratio to the baseline and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = ("School;Academic Year;Mobility ID;Direction;Participant Type;Activity;Programme;Level;Partner Country;"
          "Partner Institution;Start Date;End Date;Participants;ECTS;ECTS recognised;Person ID")


def make_file(path: Path, rows: int) -> None:
    import duckdb

    utf8 = path.with_suffix(".utf8.csv")
    con = duckdb.connect()
    con.execute(f"""
        COPY (
          SELECT 'charite-berlin' AS school, '2023-2024' AS year, 'm' || i AS ref,
                 CASE WHEN i % 3 = 0 THEN 'incoming' ELSE 'outgoing' END AS direction,
                 CASE WHEN i % 10 = 0 THEN 'staff' ELSE 'student' END AS ptype,
                 CASE WHEN i % 10 = 0 THEN 'teaching' ELSE 'study' END AS activity,
                 CASE WHEN i % 4 = 0 THEN 'bilateral' ELSE 'Erasmus+' END AS programme,
                 CASE WHEN i % 10 = 0 THEN '' ELSE 'long cycle' END AS level,
                 ['AT', 'FR', 'UK', 'EL', 'IT', 'SE', 'PL', 'ES'][1 + i % 8] AS country,
                 'Universität ' || (i % 500) AS institution,
                 strftime(DATE '2023-09-01' + (i % 60)::INTEGER, '%d.%m.%Y') AS start_date,
                 strftime(DATE '2024-01-15' + (i % 90)::INTEGER, '%d.%m.%Y') AS end_date,
                 1 + i % 3 AS n,
                 CASE WHEN i % 10 = 0 THEN '' ELSE replace(printf('%.1f', (20 + (i % 11))::DOUBLE), '.', ',') END AS ects,
                 CASE WHEN i % 10 = 0 THEN '' ELSE replace(printf('%.1f', (20 + (i % 11))::DOUBLE), '.', ',') END AS ects_rec,
                 'M-' || (1000000 + i) AS person
          FROM range({rows}) t(i)
        ) TO '{utf8}' (HEADER false, DELIMITER ';', QUOTE '')""")
    with open(utf8, encoding="utf-8") as src, open(path, "w", encoding="cp1252", newline="\r\n") as out:
        out.write(HEADER + "\n")
        while chunk := src.read(8 * 1024 * 1024):
            out.write(chunk)
    utf8.unlink()


BASELINE = """
import duckdb, json, resource, sys, time
t = time.perf_counter()
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, delim=';', header=true, decimal_separator=',', "
            "dateformat='%d.%m.%Y', encoding='latin-1')", [sys.argv[1]])
n = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
print(json.dumps({"seconds": time.perf_counter() - t, "rows": n,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CONTEXT_INGEST = """
import sys
from pathlib import Path
from ims_indicators.ingest import ingest_paths
from ims_indicators.warehouse import open_warehouse
with open_warehouse() as con:  # the registry and totals the cross-dataset checks compare with
    ingest_paths(con, [Path(sys.argv[1])])
print("{}")
"""

INGEST = """
import json, resource, sys, time
from pathlib import Path
from ims_indicators.ingest import process_pending
from ims_indicators.ingest.stage import stage_file
from ims_indicators.warehouse import open_warehouse
t = time.perf_counter()  # above IMS_VALIDATE_SQL_ROWS the suite runs as compiled SQL: no GX import at all
with open_warehouse() as con:
    r = stage_file(con, Path(sys.argv[1]), dataset="mobility", school_id="charite-berlin", academic_year="2023/24")
    staged = time.perf_counter() - t
    outcome = process_pending(con)[0]
    n = con.execute("SELECT count(*) FROM curated.mobility").fetchall()[0][0]
print(json.dumps({"seconds": time.perf_counter() - t, "staged": staged, "rows": n, "status": outcome["status"],
                  "reason": outcome["reason"], "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "gx_imported": "great_expectations" in sys.modules, "pandas_imported": "pandas" in sys.modules}))
"""

CONTEXT = {
    "schools.csv": "school_id,name,country_code,network_role\ncharite-berlin,Charité Berlin,DE,partner\n",
    "enrolment.csv": "school_id,academic_year,programme_level,students_total,students_international,graduates\n"
                     "charite-berlin,2023/24,long_cycle,5000000,1000,1000\n",
    "staffing.csv": "school_id,academic_year,staff_category,headcount,fte,foreign_nationality\n"
                    "charite-berlin,2023/24,professor,1000000,1000,10\n",
}


def run(code: str, *args: str, env: dict | None = None) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"benchmark step failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3,
                        help="baseline and ims run alternately this many times; medians are reported (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the generated folder")
    args = parser.parse_args()
    import shutil
    import statistics

    work = Path(tempfile.mkdtemp(prefix="ims-bench-ingest-"))
    csv = work / "mobility_2023-24.csv"
    t = time.perf_counter()
    make_file(csv, args.rows)
    print(f"generated {args.rows:,} rows, {csv.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t:.1f} s")
    # a registry so cross-dataset checks have their school; the submission itself comes from the arguments
    context_home = work / "context_home"
    (context_home / "data" / "raw").mkdir(parents=True)
    context = work / "context"
    for sub, text in CONTEXT.items():
        folder = context / ("" if sub == "schools.csv" else f"{sub[:-4]}/charite-berlin/2023-24")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / sub).write_text(text, encoding="utf-8")

    def env(home: Path) -> dict:
        return {**os.environ, "IMS_HOME": str(home), "IMS_PSEUDONYM_KEY": "bench",
                "IMS_EXPECTATIONS_DIR": str(Path(__file__).resolve().parents[1] / "expectations")}  # reviewed suites

    run(CONTEXT_INGEST, str(context), env=env(context_home))  # its own process: the small files go through GX
    bases, ings = [], []
    for i in range(args.repeat):  # alternating, each in a fresh warehouse: a busy moment hits both sides alike
        db = work / f"baseline{i}.duckdb"
        bases.append(run(BASELINE, str(csv), str(db)))
        db.unlink()
        home = work / f"home{i}"
        shutil.copytree(context_home, home)
        ings.append(run(INGEST, str(csv), env=env(home)))
        shutil.rmtree(home)
        print(f"  run {i + 1}: baseline {bases[-1]['seconds']:.2f} s, ims {ings[-1]['seconds']:.2f} s "
              f"({ings[-1]['seconds'] / bases[-1]['seconds']:.2f}x)", flush=True)
    base = statistics.median(b["seconds"] for b in bases)
    staged = statistics.median(r["staged"] for r in ings)
    full = statistics.median(r["seconds"] for r in ings)
    ing = ings[-1]
    print(f"duckdb read_csv (baseline), median of {args.repeat}: {base:.2f} s, {bases[-1]['rows']:,} rows, "
          f"peak RSS {max(b['rss_mb'] for b in bases):.0f} MB")
    print(f"ims staging (read, type, pseudonymise, stage): {staged:.2f} s = {staged / base:.2f}x baseline")
    print(f"ims ingest (+ validation, quarantine, curate, Parquet): {full:.2f} s = {full / base:.2f}x baseline; "
          f"{ing['rows']:,} curated rows ({ing['status']}); peak RSS {max(r['rss_mb'] for r in ings):.0f} MB; "
          f"Great Expectations imported: {any(r['gx_imported'] for r in ings)}, "
          f"pandas: {any(r['pandas_imported'] for r in ings)}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
