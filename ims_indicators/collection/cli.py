"""``ims template``, ``ims cycle``, ``ims token`` and ``ims portal`` (registered by ``ims_indicators.cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ims_indicators.console import err, fail, out, print_json, print_table


def template_command(
    dataset: Annotated[str, typer.Argument(help="Dataset of the template (see the contracts).")],
    out_path: Annotated[Path, typer.Option("--out", help="File (or folder) to write.")],
    school: Annotated[Optional[str], typer.Option("--school", help="Pre-fill this school id.")] = None,
    year: Annotated[Optional[str], typer.Option("--year", help="Pre-fill this academic year (2023/24).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="xlsx (validated, with README) or csv (header only).")] = "xlsx",
) -> None:
    """Write a blank submission template generated from the dataset's contract."""
    from ims_indicators.collection.templates import TemplateError, write_template

    try:
        path = write_template(dataset, out_path.expanduser(), school, year, fmt.lower())
    except TemplateError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{out_path}: cannot write the template ({exc}); expected a writable path")
    out.print(str(path), highlight=False)
