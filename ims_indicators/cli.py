"""The library's commands of ``ims``. Each command is thin: it calls plain functions.

The installed ``ims`` is ``pipelines.cli:app``: this app plus ``run`` and ``serve`` (the Prefect flows), added
where both layers are visible, so the library never imports ``pipelines/``.

Progress and errors go to stderr, data to stdout (``--json`` prints JSON). Refused input exits 1 with a
message naming file, row, column and what was expected; no traceback reaches the user.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from ims_indicators.console import err, fail, out, print_json, print_table

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="ims-indicators: ingest, validate, benchmark, score and report the IMS network's data.")

@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files, or data/raw-style folders <dataset>/<school>/<yyyy-yy>/.")],
    dataset: Annotated[Optional[str], typer.Option("--dataset", help="Dataset of the file(s), if not in the path.")] = None,
    school: Annotated[Optional[str], typer.Option("--school", help="School id, if not in the path.")] = None,
    year: Annotated[Optional[str], typer.Option("--year", help="Academic year (2023/24), if not in the path.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the submissions as JSON.")] = False,
) -> None:
    """Ingest submission files: keep them, read, validate, quarantine and publish curated data.

    The same file twice changes nothing; a new file for the same dataset, school and year supersedes the
    old one (both stay in `ims submissions`). Refused files are kept under data/rejected/.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ims_indicators.errors import WarehouseBusy
    from ims_indicators.ingest.stage import discover
    from ims_indicators.lock import writer_lock
    from ims_indicators.pipeline import ingest_paths
    from ims_indicators.validate.gxrun import SuiteError
    from ims_indicators.warehouse import open_warehouse

    missing = [p for p in paths if not p.exists()]
    if missing:
        fail(f"{missing[0]}: no such file or folder; expected a submission file or a data/raw-style folder")
    files = discover(paths)
    if not files:
        fail(f"{paths[0]}: no .csv, .xlsx or .txt files found; expected submission files")
    try:
        with writer_lock("ims ingest", on_wait=lambda m: err.print(f"[yellow]{escape(m)}[/]")), \
                open_warehouse() as con, \
                Progress(TextColumn("[bold]ingest[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                         TextColumn("{task.fields[rows]:,} rows"), console=err, transient=True) as bar:
            task = bar.add_task("files", total=len(files), rows=0)
            total = {"rows": 0}

            def step(name: str, rows: int) -> None:
                total["rows"] += rows
                bar.update(task, advance=1, description=name[:40], rows=total["rows"])

            report = ingest_paths(con, files, dataset=dataset, school_id=school, academic_year=year, progress=step)
    except WarehouseBusy as exc:
        fail(str(exc))
    except SuiteError as exc:
        fail(f"validation could not run: {exc}")
    results = [r.as_dict() for r in report.results]
    if as_json:
        print_json(results)
    else:
        shown = [r for r in results if r["status"] != "unchanged"]
        if shown:
            print_table(shown, columns=["submission_id", "status", "rows_in", "rows_quarantined", "reason"])
        s = report.summary()
        out.print(f"{s['files']} file(s): " + ", ".join(f"{n} {k}" for k, n in sorted(s["statuses"].items()))
                  + f"; {s['rows_in']:,} rows in, {s['rows_quarantined']:,} quarantined")
    for r in report.refused:
        err.print(f"[bold red]refused:[/] {escape(r.reason or '')}", highlight=False)
    if report.refused:
        raise typer.Exit(code=1)


@app.command()
def submissions(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    dataset: Annotated[Optional[str], typer.Option("--dataset", help="Only this dataset.")] = None,
    school: Annotated[Optional[str], typer.Option("--school", help="Only this school.")] = None,
) -> None:
    """List every submission received: status, sha256, row counts, what superseded it."""
    from ims_indicators.errors import WarehouseBusy
    from ims_indicators.submissions import list_submissions

    try:
        rows = list_submissions(dataset=dataset, school_id=school)
    except WarehouseBusy as exc:
        fail(f"{exc}; try again when it has finished")
    if as_json:
        print_json(rows)
    else:
        print_table(rows, columns=["submission_id", "status", "rows_in", "rows_quarantined", "superseded_by",
                                   "reason"])


@app.command()
def quarantine(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    submission: Annotated[Optional[str], typer.Option("--submission", help="Only rows of this submission.")] = None,
) -> None:
    """List the rows held back, with the rule each broke and why."""
    from ims_indicators.errors import WarehouseBusy
    from ims_indicators.submissions import list_quarantine

    try:
        rows = list_quarantine(submission)
    except WarehouseBusy as exc:
        fail(f"{exc}; try again when it has finished")
    if as_json:
        print_json(rows)
    else:
        print_table(rows, columns=["submission_id", "source_row", "rule", "column_name", "reason"])
        err.print(f"{len(rows)} quarantined row finding(s)")


@app.command()
def rebuild(
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
    include_unsigned: Annotated[bool, typer.Option(
        "--include-unsigned", help="Also use school years not signed off yet (a preview; see "
                                   "signoff_required_from in catalogue/collection.yaml).")] = False,
) -> None:
    """Recreate the warehouse, curated Parquet and marts from data/raw/ alone (swapped in when complete)."""
    from ims_indicators.errors import WarehouseBusy
    from ims_indicators.lock import writer_lock
    from ims_indicators.pipeline import compute_marts
    from ims_indicators.rebuild import rebuild as run_rebuild
    from ims_indicators.score.model import ScoreError

    try:
        with writer_lock("ims rebuild", on_wait=lambda m: err.print(f"[yellow]{escape(m)}[/]")), \
                err.status("rebuilding from data/raw …"):
            report, marts = run_rebuild(marts=lambda con: compute_marts(con, include_unsigned=include_unsigned))
    except WarehouseBusy as exc:
        fail(str(exc))
    except ScoreError as exc:  # e.g. nothing to score in an empty data/raw: the old warehouse stays in place
        fail(f"the rebuild stopped at the label scores, nothing was swapped in: {exc}")
    summary = {**report.summary(), "marts": marts}
    if as_json:
        print_json(summary)
    else:
        out.print(f"rebuilt from {summary['files']} file(s): " + ", ".join(
            f"{n} {k}" for k, n in sorted(summary["statuses"].items())) + "; marts: " + ", ".join(
            f"{k} {v}" for k, v in marts.items()))


from ims_indicators.demo.cli import demo_command  # noqa: E402
from ims_indicators.indicators.cli import benchmark_command, indicators_command  # noqa: E402
from ims_indicators.score.cli import score_command  # noqa: E402

app.command("demo-data")(demo_command)
app.command("indicators")(indicators_command)
app.command("benchmark")(benchmark_command)
app.command("score")(score_command)

from ims_indicators.report.cli import report_command  # noqa: E402 - light: heavy imports inside the command

app.command("report")(report_command)

from ims_indicators.validate.cli import validate_command  # noqa: E402 - GX is imported inside the command only

app.command("validate")(validate_command)

from ims_indicators.erasmus.cli import erasmus_command  # noqa: E402 - light: heavy imports inside the command

app.command("erasmus")(erasmus_command)

from ims_indicators.survey.cli import survey_template_command  # noqa: E402 - light: openpyxl inside the command

app.command("survey-template")(survey_template_command)

from ims_indicators.collection.cli import cycle_app, portal_command, template_command, token_app  # noqa: E402

app.command("template")(template_command)
app.command("portal")(portal_command)
app.add_typer(token_app, name="token")
app.add_typer(cycle_app, name="cycle")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
