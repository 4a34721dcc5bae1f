"""`ims erasmus` against the least a loader must do in bare DuckDB SQL, on the same generated file.

    python benchmarks/erasmus.py --rows 10000000 [--network-share 0.33] [--repeat 3] [--workdir DIR] [--seed 1] [--keep]

1. writes a synthetic open-data file (benchmarks/make_erasmus.py) and a registry of its schools; a
   ``--network-share`` of its rows (default a third) have a registry school on one side;
2. bare baseline, the least a loader must do: ``read_csv(all_varchar=true, ignore_errors=true)`` into a table,
   ``COPY`` it to Parquet, group by sending organisation;
3. ``ims erasmus FILE`` (a fresh warehouse; the registry ingested before, not timed);
4. steps 2 and 3 alternately ``--repeat`` times (this 2-core machine varies by 10-20 % from run to run); the
   medians are compared.

Each timed step runs in its own process under a small wrapper that reports the peak RSS of its child
(``resource.getrusage(RUSAGE_CHILDREN)``), so the numbers do not mix. Goal on a 2-core machine: ims/bare
≤ 1.5 and peak RSS of ``ims erasmus`` ≤ 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
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
    ap.add_argument("--repeat", type=int, default=3,
                    help="bare and ims run alternately this many times; medians are compared (default 3)")
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

        registry_home = work / "registry_home"  # each timed load gets a copy (a second load would be 'unchanged')
        shutil.rmtree(registry_home, ignore_errors=True)
        (registry_home / "data").mkdir(parents=True)
        registry = work / "schools.csv"
        registry.write_text("school_id,name,country_code,city,erasmus_code,network_role,consent_to_be_named\n" +
                            "".join(f"{s},{n},{c},{city},{code},partner,true\n" for s, n, c, city, code in REGISTRY),
                            encoding="utf-8")

        def env(home: Path) -> dict:
            return {**os.environ, "IMS_HOME": str(home),
                    "IMS_PSEUDONYM_KEY": os.environ.get("IMS_PSEUDONYM_KEY", "bench"),
                    "IMS_EXPECTATIONS_DIR": str(Path(__file__).resolve().parents[1] / "expectations")}  # reviewed
        ims = [sys.executable, "-m", "ims_indicators.cli"]
        subprocess.run([*ims, "ingest", "--dataset", "schools", str(registry)], env=env(registry_home),
                       check=True, capture_output=True)

        bares, runs = [], []
        for i in range(args.repeat):  # alternating: a busy moment of the machine hits both sides alike
            bare = measured([sys.executable, "-c", BARE, str(src), str(work / "bare.duckdb"),
                             str(work / "bare.parquet")])
            (work / "bare.duckdb").unlink(missing_ok=True)
            if bare["rc"] != 0:
                print(bare["stderr"], file=sys.stderr)
                return 1
            home = work / f"run{i}_home"
            shutil.rmtree(home, ignore_errors=True)
            shutil.copytree(registry_home, home)
            run = measured([*ims, "erasmus", str(src), "--json"], env=env(home))
            if run["rc"] != 0:
                print(run["stdout"][-2000:], run["stderr"], file=sys.stderr)
                return 1
            if not args.keep:
                shutil.rmtree(home, ignore_errors=True)
            bares.append(bare)
            runs.append(run)
            print(f"  run {i + 1}: bare {bare['seconds']:.1f} s, ims {run['seconds']:.1f} s "
                  f"({run['seconds'] / bare['seconds']:.2f}x)", flush=True)
        bare_s = statistics.median(b["seconds"] for b in bares)
        run_s = statistics.median(r["seconds"] for r in runs)
        bare_rss = max(b["peak_rss_mb"] for b in bares)
        run_rss = max(r["peak_rss_mb"] for r in runs)
        print(f"bare DuckDB (table + Parquet + per organisation), median of {args.repeat}: {bare_s:.1f} s, "
              f"peak RSS {bare_rss:,.0f} MB — {bares[-1]['stdout'].strip()}", flush=True)
        summary = json.loads(runs[-1]["stdout"])
        tot = summary["totals"]
        print(f"ims erasmus, median of {args.repeat}: {run_s:.1f} s, peak RSS {run_rss:,.0f} MB — "
              f"{tot['rows_read']:,} rows read, {tot['rows_registry']:,} of registry schools -> "
              f"{tot['mobility_rows']:,} mobility rows in {summary['submissions']} submissions, "
              f"{tot['rows_quarantined']:,} quarantined, {tot['rows_corrupt']:,} corrupt lines, "
              f"{tot['rows_dropped_not_registry'] + tot['rows_dropped_no_code']:,} dropped")
        ratio = run_s / bare_s
        print(f"ratio ims/bare: {ratio:.2f} (goal <= 1.5); peak RSS of ims erasmus: "
              f"{run_rss / 1024:.2f} GB (goal <= 1.5)")
        return 0 if ratio <= 1.5 and run_rss <= 1.5 * 1024 else 2
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
