"""``ims template``, ``ims cycle``, ``ims token`` and ``ims portal`` (registered by ``ims_indicators.cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ims_indicators.console import err, fail, out, print_json, print_table


def template_command(
    dataset: Annotated[str, typer.Argument(help="Dataset of the template (see the contracts).")],
    out_path: Annotated[Path, typer.Option("--out", help="File (or folder) to write.")],
    school: Annotated[str | None, typer.Option("--school", help="Pre-fill this school id.")] = None,
    year: Annotated[str | None, typer.Option("--year", help="Pre-fill this academic year (2023/24).")] = None,
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


token_app = typer.Typer(no_args_is_help=True, help="Portal access tokens (shown once, stored hashed).")
cycle_app = typer.Typer(no_args_is_help=True, help="The annual collection: where each school stands.")


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option("--role", help="keyholder (one school), steward (all) or analyst (read).")],
    school: Annotated[str | None, typer.Option("--school", help="The keyholder's school id.")] = None,
) -> None:
    """Create a token and print it ONCE (only its hash is kept)."""
    from ims_indicators.collection.state import create_token

    try:
        token, row = create_token(role, school)
    except ValueError as exc:
        fail(str(exc))
    err.print(f"token {row['token_id']} ({role}{' of ' + school if school and role == 'keyholder' else ''}); "
              "copy it now, it is not shown again:", highlight=False)
    typer.echo(token)


@token_app.command("list")
def token_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List tokens (ids, roles, schools; never the tokens)."""
    from ims_indicators.collection.state import list_tokens

    rows = list_tokens()
    print_json(rows) if as_json else print_table(rows)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="Token id (tok_…) from `ims token list`.")]) -> None:
    """Revoke a token: it stops working at once."""
    from ims_indicators.collection.state import revoke_token

    if not revoke_token(token_id):
        fail(f"token {token_id!r}: no active token with this id; expected an id from `ims token list`")
    out.print(f"revoked {token_id}", highlight=False)


@cycle_app.command("status")
def cycle_status_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    year: Annotated[str | None, typer.Option("--year", help="Only this academic year.")] = None,
    school: Annotated[str | None, typer.Option("--school", help="Only this school.")] = None,
) -> None:
    """Per school, year and required dataset: missing / refused / checks open / received / signed off, and late."""
    from ims_indicators.collection.calendar import CalendarError
    from ims_indicators.collection.cycle import cycle_status
    from ims_indicators.contracts import canonical_year
    from ims_indicators.errors import WarehouseBusy

    try:
        rows = cycle_status([school] if school else None, canonical_year(year) if year else None)
    except (CalendarError, WarehouseBusy) as exc:
        fail(str(exc))
    if as_json:
        print_json(rows)
        return
    print_table(rows, columns=["school_id", "academic_year", "dataset", "state", "late", "rows_quarantined"])
    late = sum(r["late"] for r in rows)
    err.print(f"{len(rows)} item(s), {late} late", highlight=False)


def portal_command(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port.")] = 8080,
) -> None:
    """Start the schools' and stewards' web portal (API under /api/, docs at /docs)."""
    import uvicorn

    from ims_indicators.collection.app import create_app

    if not 0 < port < 65536:
        fail(f"--port {port} is not a TCP port; expected 1 to 65535")
    err.print(f"portal on http://{host}:{port}/ (API docs /docs); create a token with `ims token create`",
              highlight=False)
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
