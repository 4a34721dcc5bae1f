"""``ims score``: label scores, decisions and robustness (registered by the main app as ``score``).

Two modes:
- ``--input CSV``: score any plain table (one row per unit) and write ``--out CSV`` (or print it);
- no ``--input``: score ``marts.indicator_values`` and write ``marts.label_results`` (and, with draws,
  ``marts.label_robustness`` and ``marts.label_sensitivity``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ims_indicators.console import err, fail


def _default_model() -> Path:
    from ims_indicators import settings

    return settings.models_dir() / "label_v1.yaml"


def read_input_csv(path: Path, id_column: str, text_columns: list[str]):
    """Read a plain CSV (comma, or semicolon with decimal commas); ids and group columns stay text."""
    import pandas as pd

    from ims_indicators.score.model import DataError

    if not path.is_file():
        raise DataError(f"{path}: input file not found; expected a CSV with one row per unit")
    dtypes = {c: "string" for c in [id_column, *text_columns]}
    try:
        df = pd.read_csv(path, dtype=dtypes, encoding="utf-8-sig")
        if df.shape[1] == 1 and ";" in str(df.columns[0]):
            df = pd.read_csv(path, dtype=dtypes, encoding="utf-8-sig", sep=";", decimal=",")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a readable CSV ({exc})") from None
    return df


def score_command(
    model: Annotated[Path | None, typer.Option("--model", help="Scoring model YAML (default: models/label_v1.yaml).")] = None,
    input: Annotated[Path | None, typer.Option("--input", help="Score this CSV (one row per unit) instead of the warehouse.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the scores to this CSV (with --input: instead of stdout).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a model parameter, KEY=VALUE (repeatable), e.g. normalise.method=zscore.")] = None,
    draws: Annotated[int | None, typer.Option("--draws", min=0, help="Monte Carlo draws (warehouse default: the model's; CSV default: none).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed of the Monte Carlo (default: the model's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Score the label: normalise, weight, aggregate, gates, decision, and how robust the decision is.

    The model's schema is documented in docs/scoring.md.
    """
    from ims_indicators.score.model import ScoreError, load_model

    try:
        m = load_model(model or _default_model(), set_ or [])
        if input is not None:
            _score_csv(m, input, out, draws, seed, as_json)
        else:
            _score_warehouse(m, out, draws, seed, as_json)
    except ScoreError as exc:
        fail(str(exc))
    except Exception as exc:  # warehouse busy and the like: a message, not a traceback
        from ims_indicators.errors import WarehouseBusy

        if isinstance(exc, WarehouseBusy):
            fail(str(exc))
        raise


def _records(frame) -> list[dict]:
    return json.loads(frame.to_json(orient="records", date_format="iso"))


def _score_csv(m, path: Path, out: Path | None, draws: int | None, seed: int | None, as_json: bool) -> None:
    from ims_indicators.score import engine, robustness

    df = read_input_csv(path, m.columns.id, [*m.columns.groups, *m.columns.keep])
    snap = f"file:{path.name}:sha256:{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}"
    res = engine.score_table(m, df, snapshot=snap, source=str(path))
    rob = sens = None
    if draws:
        data = engine.read_table(m, df, str(path))
        ev = robustness.Evaluator(m, data)
        mc = robustness.monte_carlo(m, data, draws, seed, evaluator=ev)
        sens = robustness.sensitivity(m, data, seed=seed, evaluator=ev) if m.robustness.sensitivity.enabled else None
        rob = robustness.robustness_table(m, res.table, mc, sens)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        res.table.to_csv(out, index=False)
        written = [str(out)]
        if rob is not None:
            rob_path = out.with_name(f"{out.stem}_robustness.csv")
            rob.to_csv(rob_path, index=False)
            written.append(str(rob_path))
            if sens is not None:
                sens_path = out.with_name(f"{out.stem}_sensitivity.csv")
                sens.to_csv(sens_path, index=False)
                written.append(str(sens_path))
        err.print(f"scored {len(res.table)} units with {escape(m.label)}: {escape(', '.join(written))}",
                  highlight=False)
    if as_json:
        payload: dict = {"results": _records(res.table)}
        if rob is not None:
            payload["robustness"] = _records(rob)
        typer.echo(json.dumps(payload, indent=2))
    elif out is None:
        typer.echo(res.table.to_csv(index=False), nl=False)


def _score_warehouse(m, out: Path | None, draws: int | None, seed: int | None, as_json: bool) -> None:
    from ims_indicators.lock import writer_lock
    from ims_indicators.score.warehouse import score_warehouse, write_scores
    from ims_indicators.warehouse import open_warehouse

    with writer_lock("ims score", on_wait=lambda msg: err.print(f"[yellow]{escape(msg)}[/]")), \
            open_warehouse() as con:
        scores = score_warehouse(con, m, draws, seed)
        written = write_scores(con, scores)
    err.print("; ".join(f"{n}: {k} rows" for n, k in written.items()) + f" ({escape(m.label)})", highlight=False)
    if out is not None:  # a copy of marts.label_results as CSV
        out.parent.mkdir(parents=True, exist_ok=True)
        scores.results.to_csv(out, index=False)
    if as_json:
        payload: dict = {"results": _records(scores.results)}
        if scores.robustness is not None:
            payload["robustness"] = _records(scores.robustness)
        typer.echo(json.dumps(payload, indent=2))
    else:
        cols = [m.columns.id, "academic_year", m.tree.root, "rank", "decision"]
        view = scores.results[cols].copy()
        if scores.robustness is not None and "p_awarded" in scores.robustness:
            view["p_awarded"] = scores.robustness["p_awarded"].round(3).to_numpy()
        typer.echo(view.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
