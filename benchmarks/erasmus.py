"""`ims erasmus` against the least a loader must do in bare DuckDB SQL, on the same generated file.

    python benchmarks/erasmus.py --rows 10000000 [--network-share 0.33] [--workdir DIR] [--seed 1] [--keep]

1. writes a synthetic open-data file (benchmarks/make_erasmus.py) and a registry of its schools; a
   ``--network-share`` of its rows (default a third) have a registry school on one side;
2. bare baseline, the least a loader must do: ``read_csv(all_varchar=true, ignore_errors=true)`` into a table,
   ``COPY`` it to Parquet, group by sending organisation;
3. ``ims erasmus FILE`` (a fresh warehouse; the registry ingested before, not timed).

Each timed step runs in its own process under a small wrapper that reports the peak RSS of its child
(``resource.getrusage(RUSAGE_CHILDREN)``), so the numbers do not mix. Goal on a 2-core machine: ims/bare
≤ 1.5 and peak RSS of ``ims erasmus`` ≤ 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_erasmus import REGISTRY, make_erasmus

WRAPPER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"seconds": time.perf_counter() - t, "rc": p.returncode, "stdout": p.stdout[-20000:],
                  "stderr": p.stderr[-4000:],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""

BARE = """
import sys, duckdb
src, db, parquet = sys.argv[1:4]
con = duckdb.connect(db)
con.execute("SET enable_progress_bar = false")
con.execute("CREATE TABLE mob AS SELECT * FROM read_csv(?, delim=';', header=true, all_varchar=true, "
            "ignore_errors=true)", [src])
con.execute("COPY mob TO ? (FORMAT parquet)", [parquet])
per_org = con.execute('SELECT "Sending Organization", count(*) AS n FROM mob GROUP BY ALL ORDER BY n DESC').fetchall()
print(len(per_org), "sending organisations;", con.execute("SELECT count(*) FROM mob").fetchall()[0][0], "rows")
"""


def measured(cmd: list[str], env: dict | None = None) -> dict:
    """Run ``cmd`` under the wrapper: wall time, exit code, output and the child's peak RSS."""
    out = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--network-share", type=float, default=0.33,
                    help="share of rows with a registry school on one side (default 0.33)")
    ap.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder, removed after")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="ims-erasmus-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        src = work / f"erasmus_{args.rows}_{args.network_share:g}.csv"
        t = time.perf_counter()
        make_erasmus(args.rows, src, args.seed, registry_share=args.network_share)
        gen_s = time.perf_counter() - t
        size_mb = src.stat().st_size / 1e6
        print(f"generated {args.rows:,} rows ({args.network_share:.0%} of registry schools), {size_mb:,.0f} MB "
              f"in {gen_s:.1f} s ({src})", flush=True)

        home = work / "home"
        shutil.rmtree(home, ignore_errors=True)
        (home / "data").mkdir(parents=True)
        registry = work / "schools.csv"
        registry.write_text("school_id,name,country_code,city,erasmus_code,network_role,consent_to_be_named\n" +
                            "".join(f"{s},{n},{c},{city},{code},partner,true\n" for s, n, c, city, code in REGISTRY),
                            encoding="utf-8")
        env = {**os.environ, "IMS_HOME": str(home), "IMS_PSEUDONYM_KEY": os.environ.get("IMS_PSEUDONYM_KEY", "bench"),
               "IMS_EXPECTATIONS_DIR": str(Path(__file__).resolve().parents[1] / "expectations")}  # the reviewed suites
        ims = [sys.executable, "-m", "ims_indicators.cli"]
        subprocess.run([*ims, "ingest", "--dataset", "schools", str(registry)], env=env, check=True,
                       capture_output=True)

        bare = measured([sys.executable, "-c", BARE, str(src), str(work / "bare.duckdb"), str(work / "bare.parquet")])
        if bare["rc"] != 0:
            print(bare["stderr"], file=sys.stderr)
            return 1
        print(f"bare DuckDB (table + Parquet + per organisation): {bare['seconds']:.1f} s, "
              f"peak RSS {bare['peak_rss_mb']:,.0f} MB — {bare['stdout'].strip()}", flush=True)

        run = measured([*ims, "erasmus", str(src), "--json"], env=env)
        if run["rc"] != 0:
            print(run["stdout"][-2000:], run["stderr"], file=sys.stderr)
            return 1
        summary = json.loads(run["stdout"])
        tot = summary["totals"]
        print(f"ims erasmus: {run['seconds']:.1f} s, peak RSS {run['peak_rss_mb']:,.0f} MB — "
              f"{tot['rows_read']:,} rows read, {tot['rows_registry']:,} of registry schools -> "
              f"{tot['mobility_rows']:,} mobility rows in {summary['submissions']} submissions, "
              f"{tot['rows_quarantined']:,} quarantined, {tot['rows_corrupt']:,} corrupt lines, "
              f"{tot['rows_dropped_not_registry'] + tot['rows_dropped_no_code']:,} dropped")
        ratio = run["seconds"] / bare["seconds"]
        print(f"ratio ims/bare: {ratio:.2f} (goal <= 1.5); peak RSS of ims erasmus: "
              f"{run['peak_rss_mb'] / 1024:.2f} GB (goal <= 1.5)")
        return 0 if ratio <= 1.5 and run["peak_rss_mb"] <= 1.5 * 1024 else 2
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
