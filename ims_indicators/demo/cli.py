"""``ims demo-data``: write the bundled demo network's submissions (registered by ``ims_indicators.cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ims_indicators.console import err


def demo_command(
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder to write into, laid out <dataset>/<school_id>/<yyyy-yy>/<file> with schools.csv "
                      "and demo_manifest.json at the top (default: the raw folder, data/raw or IMS_RAW_DIR).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed writes byte-identical files.")] = 2024,
) -> None:
    """Write the bundled demo network: 23 schools × 5 years of mobility, staffing, enrolment, accreditation.

    Each school writes in its own house style: semicolon CSV, UTF-8 with BOM, XLSX, synonym headers.

    About 1.5 % of rows carry planted errors and one file is malformed (see demo_manifest.json).

    All demo figures are synthetic.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ims_indicators import settings
    from ims_indicators.demo.generate import MANIFEST, generate_demo

    target = (out if out is not None else settings.raw_dir()).expanduser()
    try:
        with Progress(TextColumn("[bold]demo-data[/]"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.description}"), console=err, transient=True) as bar:
            task = bar.add_task("", total=None)

            def step(done: int, total: int, path: str) -> None:
                bar.update(task, completed=done, total=total, description=escape(path))

            manifest = generate_demo(target, seed, progress=step)
    except OSError as exc:
        err.print(f"[bold red]error:[/] {escape(str(target))}: cannot write the demo files ({escape(str(exc))}); "
                  "expected a writable folder", highlight=False)
        raise typer.Exit(code=1) from None
    counts = manifest.row_counts
    err.print(
        f"[bold green]demo-data[/] wrote {manifest.file_count} files ({manifest.total_bytes / 1e6:.1f} MB) for "
        f"{len(manifest.schools)} schools × {len(manifest.years)} years to {escape(str(target))} (seed {seed}): "
        f"{counts['mobility']:,} mobility, {counts['staffing']:,} staffing, {counts['enrolment']:,} enrolment, "
        f"{counts['accreditation']:,} accreditation rows; {manifest.planted_error_rows} planted errors, "
        f"{len(manifest.refused_files)} malformed file, {len(manifest.gaps)} gaps — see "
        f"{escape(str(target / MANIFEST))}. All demo figures are synthetic.", highlight=False)
