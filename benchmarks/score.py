"""Benchmark: the label Monte Carlo, 10,000 draws for 60 schools x 30 indicators (synthetic).

Run: ``.venv/bin/python benchmarks/score.py [--draws 10000] [--schools 60] [--indicators 30] [--chunk 1024]``

Times the criterion-referenced Monte Carlo of label model 2.0.0's kind: weights (+-25 %), targets and worst
values (+-10 %), thresholds (+-5 points), aggregation (arithmetic/geometric), leave one indicator out, and data
error on every value (shares with their base, counts as Poisson, means with s/sqrt(n)); then the Saltelli
sensitivity design. Reports wall time and peak RSS (``ru_maxrss``, taken after the Monte Carlo, which runs
first), and the ratio to a baseline measured in the same run: one vectorised numpy weighted mean over the
same draws x schools x indicators array. ``--chunk`` sets the draws evaluated at once (memory bound).
"""

from __future__ import annotations

import argparse
import os
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
    """A label-like model (5 dimensions, a gate, decision thresholds, probability rule) and a matching table
    with 5 % gaps; every indicator carries a sampling error (share, count or mean) and its base."""
    rng = np.random.default_rng(seed)
    dims = [f"dim{d}" for d in range(5)]
    kinds = ("share", "count", "mean")
    inds = {}
    for k in range(n_ind):
        kind = kinds[k % 3]
        up = k % 4 != 0
        inds[f"ind{k:02d}"] = {"parent": dims[k % 5], "weight": float(rng.integers(1, 4)),
                               "direction": 1 if up else -1, "target": 1.0 if up else 0.0,
                               "worst": 0.0 if up else 1.0, "error": kind, **({"sd": 0.2} if kind == "mean" else {})}
    inds["accredited"] = {}
    raw = {
        "name": "bench", "version": "0", "columns": {"id": "school_id"},
        "indicators": inds,
        "aggregates": {**{d: {"parent": "overall"} for d in dims}, "overall": {}},
        "impute": {"method": "worst"}, "screen": {"threshold": 0.5},
        "normalise": {"method": "distance_to_target"},
        "gates": {"accreditation": {"rule": "accredited >= 1"}},
        "decision": {"awarded": {"overall_min": 55, "dimension_min": 40},
                     "conditional": {"overall_min": 45, "dimension_min": 25},
                     "probability": {"awarded": 0.8, "not_awarded": 0.8}},
        "robustness": {"weights": {"method": "uniform", "spread": 0.25}, "targets": {"spread": 0.1, "worst": True},
                       "thresholds": {"spread": 5}, "aggregate": ["arithmetic", "geometric"],
                       "leave_one_out": True, "data_error": True, "sensitivity": {"n": 512}},
    }
    x = rng.beta(2, 2, size=(n_schools, n_ind))
    x[rng.random(x.shape) < 0.05] = np.nan
    df = pd.DataFrame(x, columns=[f"ind{k:02d}" for k in range(n_ind)])
    for k in range(n_ind):
        df[f"ind{k:02d}__base"] = rng.integers(10, 400, n_schools).astype(float)
    df.insert(0, "school_id", [f"s{k:03d}" for k in range(n_schools)])
    df["accredited"] = (rng.random(n_schools) > 0.1).astype(float)
    return raw, df


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--schools", type=int, default=60)
    ap.add_argument("--indicators", type=int, default=30)
    ap.add_argument("--chunk", type=int, default=robustness.CHUNK, help="draws evaluated at once")
    args = ap.parse_args()
    raw, df = synthetic(args.schools, args.indicators)
    model = model_from_dict(raw, "bench")
    table = engine.read_table(model, df)
    nominal = engine.score_table(model, df).table
    rss_start = peak_rss_mb()

    # the Monte Carlo first, so that its peak RSS is its own (ru_maxrss never goes down)
    t0, c0 = time.perf_counter(), time.process_time()
    ev = robustness.Evaluator(model, table)
    mc = robustness.monte_carlo(model, table, args.draws, evaluator=ev, chunk=args.chunk)
    rob = robustness.robustness_table(model, nominal, mc)
    t_mc, cpu_mc = time.perf_counter() - t0, time.process_time() - c0
    rss_mc = peak_rss_mb()

    t0 = time.perf_counter()
    sens = robustness.sensitivity(model, table, evaluator=ev)
    t_sens = time.perf_counter() - t0
    rss_sens = peak_rss_mb()
    n_sens = int(2 ** np.ceil(np.log2(model.robustness.sensitivity.n))) * (len(ev.factors) + 2)

    # baseline: one plain numpy weighted mean over a draws x schools x indicators array
    rng = np.random.default_rng(0)
    arr = rng.random((args.draws, args.schools, args.indicators))
    w = rng.random((args.draws, 1, args.indicators))
    t0 = time.perf_counter()
    (arr * w).sum(axis=-1) / w.sum(axis=-1)
    t_np = time.perf_counter() - t0
    del arr, w
    rss_np = peak_rss_mb()

    print(f"monte carlo: {args.draws} draws x {args.schools} schools x {args.indicators} indicators, chunk "
          f"{args.chunk}, {len(ev.factors)} factors ({', '.join(f'{f.name}[{f.columns}]' for f in ev.factors)})")
    print(f"  baseline numpy mean  {t_np:8.3f} s   (one weighted mean of a {args.draws}x{args.schools}x"
          f"{args.indicators} array; peak RSS after it {rss_np:.1f} MB)")
    print(f"  monte carlo          {t_mc:8.3f} s   = {t_mc / t_np:.1f}x the baseline (goal <= 2 s and <= 10x); "
          f"CPU {cpu_mc:.3f} s; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"  peak RSS             {rss_mc:8.1f} MB  after the Monte Carlo (ru_maxrss; {rss_start:.1f} MB before it)")
    print(f"  sensitivity          {t_sens:8.3f} s   = {t_sens / t_np:.1f}x the baseline ({n_sens} Saltelli "
          f"evaluations, first + total order); peak RSS {rss_sens:.1f} MB")
    counts = rob["decision"].value_counts().to_dict()
    print(f"  decisions            {counts}; p(awarded) {rob['p_awarded'].min():.3f} .. {rob['p_awarded'].max():.3f}; "
          f"sensitivity rows {len(sens)}")


if __name__ == "__main__":
    main()
