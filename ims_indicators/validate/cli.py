"""``ims validate [--all] [--dataset D] [--json]`` (registered in ims_indicators/cli.py). Nothing heavy at import."""

from __future__ import annotations

from typing import Annotated

import typer


def validate_command(
    all_: Annotated[bool, typer.Option("--all", help="Re-check every current accepted submission from staging "
                                                     "(after a suite changed): release rows that now pass, hold "
                                                     "back rows that now fail.")] = False,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Only this dataset.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcomes as JSON.")] = False,
) -> None:
    """Validate staged data: GX suites and cross-dataset checks, quarantine, promote, stewards' report.

    Suites are read from expectations/<dataset>.json; rows that fail are held back (ims quarantine), the rest
    promoted to curated. The stewards' report is written to reports/validation/ (Data Docs beside it).
    """
    from rich.markup import escape

    from ims_indicators.console import err, fail, out, print_json, print_table
    from ims_indicators.contracts import CONTRACTS
    from ims_indicators.errors import WarehouseBusy
    from ims_indicators.lock import writer_lock
    from ims_indicators.pipeline import process_pending
    from ims_indicators.validate.gxrun import SuiteError
    from ims_indicators.validate.report import write_steward_report
    from ims_indicators.validate.revalidate import revalidate_all
    from ims_indicators.warehouse import open_warehouse

    if dataset is not None and dataset not in CONTRACTS:
        fail(f"--dataset {dataset!r}: unknown dataset; expected one of {', '.join(CONTRACTS)}")
    try:
        with writer_lock("ims validate", on_wait=lambda m: err.print(f"[yellow]{escape(m)}[/]")), \
                open_warehouse() as con:
            with err.status("validating …"):
                outcomes = revalidate_all(con, dataset) if all_ else process_pending(con, dataset)
            index = write_steward_report(con)
    except (WarehouseBusy, SuiteError, ValueError) as exc:
        fail(str(exc))
    refused = [o for o in outcomes if o["status"] == "rejected"]
    if as_json:
        print_json(outcomes)
    else:
        columns = ["submission_id", "status", "rows_quarantined", "reason"]
        if all_:
            columns = ["submission_id", "status_before", "status", "rows_quarantined", "rows_released",
                       "rows_newly_quarantined", "reason"]
            changed = [o for o in outcomes if o["rows_released"] or o["rows_newly_quarantined"]
                       or o["status"] != o["status_before"]]
            if changed:
                print_table(changed, columns=columns)
            out.print(f"{len(outcomes)} submission(s) revalidated, {len(changed)} changed: "
                      f"{sum(o['rows_released'] for o in outcomes):,} row(s) released, "
                      f"{sum(o['rows_newly_quarantined'] for o in outcomes):,} newly held back")
        else:
            if outcomes:
                print_table(outcomes, columns=columns)
            out.print(f"{len(outcomes)} staged submission(s) validated; "
                      f"{sum(o['rows_quarantined'] for o in outcomes):,} row(s) held back")
        err.print(f"report: {escape(str(index))}", highlight=False)
    for o in refused:
        err.print(f"[bold red]refused:[/] {escape(o['reason'] or '')}", highlight=False)
    if refused:
        raise typer.Exit(code=1)
