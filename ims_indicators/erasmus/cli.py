"""``ims erasmus PATH...``: load Erasmus+ KA1 mobility open-data files (registered in ``ims_indicators/cli.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def erasmus_command(
    paths: Annotated[list[Path], typer.Argument(help="Open-data files (';'-separated, as published), or folders.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Load Erasmus+ mobility open data: rows of registry schools become mobility rows (source erasmus_open_data).

    A row is outgoing for a registry school that sends, incoming for one that receives; other rows are counted.

    Files of several GB are streamed through DuckDB; corrupt lines and failing rows are quarantined with their lines.

    A school's own submissions are never overwritten. The same file again changes nothing.
    """
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from ims_indicators.console import err, fail, out, print_json, print_table
    from ims_indicators.erasmus.load import RegistryNotReady, discover, load_erasmus
    from ims_indicators.errors import WarehouseBusy
    from ims_indicators.lock import writer_lock
    from ims_indicators.warehouse import open_warehouse

    missing = [p for p in paths if not p.exists()]
    if missing:
        fail(f"{missing[0]}: no such file or folder; expected an Erasmus+ mobility open-data file")
    if not discover(paths):
        fail(f"{paths[0]}: no .csv, .txt or .tsv files found; expected Erasmus+ mobility open-data files")
    try:
        with writer_lock("ims erasmus", on_wait=lambda m: err.print(f"[yellow]{escape(m)}[/]")), \
                open_warehouse() as con, \
                Progress(TextColumn("[bold]erasmus[/] {task.description}"), BarColumn(), TaskProgressColumn(),
                         TimeElapsedColumn(), console=err, transient=True) as bar:
            task = bar.add_task("starting", total=None)

            def step(what: str, fraction: float | None) -> None:
                bar.update(task, description=escape(what[:60]), total=None if fraction is None else 1.0,
                           completed=fraction or 0)

            summary = load_erasmus(con, paths, progress=step)
    except WarehouseBusy as exc:
        fail(str(exc))
    except RegistryNotReady as exc:
        fail(str(exc))
    if as_json:
        print_json(summary)
    else:
        subs = [{**s, "file": f["file"]} for f in summary["files"] for s in f["submissions"]
                if s["status"] != "unchanged"]
        if subs:
            print_table(subs, columns=["submission_id", "status", "rows_in", "rows_quarantined", "reason"])
        for f in summary["files"]:
            if f["status"] == "rejected":
                continue
            out.print(f"{f['file']}: {f['status']} ({f['layout']}); {f['rows_read']:,} rows read, "
                      f"{f['rows_registry']:,} of registry schools → {f['mobility_rows']:,} mobility rows "
                      f"in {len(f['submissions'])} submission(s), {f['rows_quarantined']:,} quarantined; "
                      f"{f['rows_dropped_not_registry'] + f['rows_dropped_no_code']:,} dropped (not a registry "
                      f"school); {f['rows_corrupt']:,} corrupt line(s); {f['seconds']:.1f} s", highlight=False)
    refused = [f for f in summary["files"] if f["status"] == "rejected"]
    for f in refused:
        err.print(f"[bold red]refused:[/] {escape(f['reason'] or '')}", highlight=False)
    if nothing := nothing_accepted(summary):
        err.print(f"[bold red]nothing accepted:[/] {escape(nothing)}", highlight=False)
    if refused or nothing:
        raise typer.Exit(code=1)


def nothing_accepted(summary: dict) -> str | None:
    """Why the run accepted no row although it read some (every submission or every row rejected), or None."""
    loaded = [f for f in summary["files"] if f["status"] == "loaded"]
    new = [s for f in loaded for s in f["submissions"] if s["status"] != "unchanged"]
    if new and all(s["status"] == "rejected" for s in new):
        return (f"every submission was rejected ({len(new)}): "
                + "; ".join(f"{s['submission_id']}: {s['reason']}" for s in new[:3]))
    corrupt = [f for f in loaded if f["rows_corrupt"] and not f["rows_read"]]
    if corrupt:
        return f"every line of {', '.join(f['file'] for f in corrupt)} was rejected as corrupt"
    return None
