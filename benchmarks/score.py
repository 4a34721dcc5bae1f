"""Benchmark: the label Monte Carlo, 10,000 draws for 60 schools x 25 indicators (synthetic).

Run: ``.venv/bin/python benchmarks/score.py [--draws 10000] [--schools 60] [--indicators 25]``

Prints the wall time and peak RSS (``resource.getrusage(...).ru_maxrss``) of the Monte Carlo over weights
(+-25 %), targets (+-10 %), normalisation (3 methods), aggregation (2) and imputation (2), then of the
Saltelli sensitivity design, and two baselines measured in the same run:
- the nominal scoring of one draw, times the number of draws (what a Python loop over draws would cost);
- one plain numpy weighted mean over a draws x schools x indicators array (the floor for any vectorised code).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ims_indicators.score import engine, robustness
from ims_indicators.score.model import model_from_dict


def synthetic(n_schools: int, n_ind: int, seed: int = 7) -> tuple[dict, pd.DataFrame]:
    """A label-like model (5 dimensions, a gate, decision thresholds) and a matching table with 5 % gaps."""
    rng = np.random.default_rng(seed)
    dims = [f"dim{d}" for d in range(5)]
    inds = {f"ind{k:02d}": {"parent": dims[k % 5], "weight": float(rng.integers(1, 4)),
                            "direction": 1 if k % 4 else -1,
                            "target": 100.0 if k % 4 else 0.0, "worst": 0.0 if k % 4 else 100.0}
            for k in range(n_ind)}
    inds["accredited"] = {}
    raw = {
        "name": "bench", "version": "0", "columns": {"id": "school_id", "groups": ["region"]},
        "indicators": inds,
        "aggregates": {**{d: {"parent": "overall"} for d in dims}, "overall": {}},
        "impute": {"method": "none", "group": "region"}, "screen": {"threshold": 0.5},
        "normalise": {"method": "distance_to_target"},
        "gates": {"accreditation": {"rule": "accredited >= 1"}},
        "decision": {"awarded": {"overall_min": 55, "dimension_min": 40},
                     "conditional": {"overall_min": 45, "dimension_min": 25}},
        "robustness": {"weights": {"method": "uniform", "spread": 0.25}, "targets": {"spread": 0.1},
                       "normalise": ["distance_to_target", "minmax", "rank"],
                       "aggregate": ["arithmetic", "geometric"], "impute": ["none", "group_mean"],
                       "sensitivity": {"n": 512}},
    }
    x = rng.beta(2, 2, size=(n_schools, n_ind)) * 100
    x[rng.random(x.shape) < 0.05] = np.nan
    df = pd.DataFrame(x, columns=[f"ind{k:02d}" for k in range(n_ind)])
    df.insert(0, "school_id", [f"s{k:03d}" for k in range(n_schools)])
    df.insert(1, "region", rng.choice(["north", "south", "east"], n_schools))
    df["accredited"] = (rng.random(n_schools) > 0.1).astype(float)
    return raw, df


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--schools", type=int, default=60)
    ap.add_argument("--indicators", type=int, default=25)
    args = ap.parse_args()
    raw, df = synthetic(args.schools, args.indicators)
    model = model_from_dict(raw, "bench")
    table = engine.read_table(model, df)
    rss0 = peak_rss_mb()

    t0 = time.perf_counter()
    ev = robustness.Evaluator(model, table)
    mc = robustness.monte_carlo(model, table, args.draws, evaluator=ev)
    rob = robustness.robustness_table(model, engine.score_table(model, df).table, mc)
    t_mc = time.perf_counter() - t0

    t0 = time.perf_counter()
    sens = robustness.sensitivity(model, table, evaluator=ev)
    t_sens = time.perf_counter() - t0
    rss_run = peak_rss_mb()
    n_sens = model.robustness.sensitivity.n * (len(ev.factors) + 2)

    # baseline 1: the same engine called once per draw in a Python loop (200 draws, extrapolated)
    reps = 200
    u = np.random.default_rng(1).random((reps, ev.n_columns))
    t0 = time.perf_counter()
    for k in range(reps):
        ev.evaluate(u[k:k + 1])
    t_one = (time.perf_counter() - t0) / reps
    t_loop = t_one * args.draws

    # baseline 2: one plain numpy weighted mean over the same draws x schools x indicators array
    rng = np.random.default_rng(0)
    arr = rng.random((args.draws, args.schools, args.indicators))
    w = rng.random((args.draws, 1, args.indicators))
    t0 = time.perf_counter()
    (arr * w).sum(axis=-1) / w.sum(axis=-1)
    t_np = time.perf_counter() - t0
    del arr

    print(f"monte carlo: {args.draws} draws x {args.schools} schools x {args.indicators} indicators, "
          f"{len(ev.factors)} factors ({', '.join(f.name for f in ev.factors)})")
    print(f"  time                 {t_mc:8.3f} s   (goal <= 5 s)")
    print(f"  sensitivity          {t_sens:8.3f} s   ({n_sens} Saltelli evaluations, first + total order)")
    print(f"  peak RSS             {rss_run:8.1f} MB  (before the run: {rss0:.1f} MB; ru_maxrss)")
    print(f"  baseline loop        {t_loop:8.3f} s   (one draw per call: {t_one * 1e3:.3f} ms x {args.draws})"
          f"  -> vectorised is {t_loop / t_mc:.1f}x faster")
    print(f"  baseline numpy mean  {t_np:8.3f} s   (one weighted mean of a {args.draws}x{args.schools}x"
          f"{args.indicators} array) -> monte carlo costs {t_mc / t_np:.1f}x that")
    print(f"  p(awarded) range     {rob['p_awarded'].min():.3f} .. {rob['p_awarded'].max():.3f}; "
          f"mean 90 % rank interval width {(rob['rank_p95'] - rob['rank_p05']).mean():.1f}; "
          f"sensitivity rows {len(sens)}")


if __name__ == "__main__":
    main()
