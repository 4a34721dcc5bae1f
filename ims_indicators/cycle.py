"""The derived marts in order, as one plain function (used by ``ims rebuild``; the flows call the stages one by one)."""

from __future__ import annotations

import duckdb


def compute_marts(con: duckdb.DuckDBPyConnection, draws: int | None = None) -> dict:
    """Indicators → benchmark groups → label scores; returns rows written per stage."""
    from ims_indicators import settings
    from ims_indicators.benchmark.compute import compute_benchmarks
    from ims_indicators.indicators.compute import compute_indicators
    from ims_indicators.score.model import load_model
    from ims_indicators.score.warehouse import score_warehouse, write_scores

    summary = {"indicator_values": compute_indicators(con), "benchmark_groups": compute_benchmarks(con)}
    model = load_model(settings.models_dir() / "label_v1.yaml")
    summary.update(write_scores(con, score_warehouse(con, model, draws=draws)))
    return summary
