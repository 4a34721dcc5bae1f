"""``ims survey-template``: blank student-survey templates for schools (registered by ``ims_indicators.cli``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ims_indicators.console import err


def registry_schools() -> list[str]:
    """School ids of the registry (curated.schools), read-only; [] when there is no warehouse yet."""
    from ims_indicators import settings
    from ims_indicators.warehouse import connect

    if not settings.warehouse().is_file():
        return []
    con = connect(read_only=True, wait=10)  # WarehouseBusy if a writer holds it longer
    try:
        return [r[0] for r in con.execute("SELECT school_id FROM curated.schools ORDER BY school_id").fetchall()]
    except Exception:  # noqa: BLE001 - an empty warehouse without the registry table: no schools yet
        return []
    finally:
        con.close()


def survey_template_command(
    school: Annotated[list[str] | None, typer.Option(
        "--school", help="School id (repeatable). Default: every school of the registry, or one generic template "
                         "when there is no registry yet.")] = None,
    year: Annotated[str | None, typer.Option("--year", help="Academic year, e.g. 2024/25 (default: the current "
                                                               "one, from 1 September).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder to write into, laid out student_survey/<school_id>/<yyyy-yy>/<file> "
                      "(default: reports/survey_templates).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="xlsx (a data sheet and a guide sheet) or csv (guide as "
                                                      "# lines above the header).")] = "xlsx",
    form: Annotated[str, typer.Option("--form", help="respondents (one row per respondent and item) or aggregated "
                                                     "(one row per item: responses, mean, sd).")] = "respondents",
    as_json: Annotated[bool, typer.Option("--json", help="Print the paths written as JSON.")] = False,
) -> None:
    """Write blank student-survey templates, one per school: the contract's headers, the items and the 1–6 scale.

    A filled template is ingested like any submission: `ims ingest <file>` (its folder names the school and year).
    """
    from ims_indicators import settings
    from ims_indicators.errors import WarehouseBusy
    from ims_indicators.survey.template import TemplateError, write_templates

    target = (out if out is not None else settings.reports_dir() / "survey_templates").expanduser()
    schools: list[str | None] = list(school or [])
    if not schools:
        try:
            schools = list(registry_schools()) or [None]
        except WarehouseBusy as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}; pass --school to write without the registry",
                      highlight=False)
            raise typer.Exit(code=1) from None
    try:
        paths = write_templates(target, schools, year, fmt.lower(), form.lower())
    except TemplateError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=1) from None
    except OSError as exc:
        err.print(f"[bold red]error:[/] {escape(str(target))}: cannot write the templates ({escape(str(exc))}); "
                  "expected a writable folder", highlight=False)
        raise typer.Exit(code=1) from None
    if as_json:
        typer.echo(json.dumps([str(p) for p in paths], indent=2))
    else:
        for p in paths:
            typer.echo(str(p))
    err.print(f"[bold green]survey-template[/] wrote {len(paths)} {fmt.lower()} template(s) ({form.lower()} form) "
              f"to {escape(str(target))}", highlight=False)
