"""Console output for every ``ims`` command: data to stdout, progress and errors to stderr, never a traceback."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 200)


def fail(message: str, code: int = 1) -> None:
    """Print a refusal/error to stderr and exit (never a traceback)."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code=code)


def print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def print_table(rows: list[dict], title: str | None = None, columns: list[str] | None = None) -> None:
    table = Table(title=title, show_lines=False)
    columns = columns or (list(rows[0]) if rows else [])
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*(escape("" if r.get(c) is None else str(r.get(c))) for c in columns))
    out.print(table)
