"""The installed ``ims`` command: the library's app (``ims_indicators.cli``) plus ``ims run`` and ``ims serve``.

Prefect is imported only inside the bodies, after the Prefect environment defaults are set, so ``ims --help``
stays fast."""

from __future__ import annotations

import os
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ims_indicators.cli import app
from ims_indicators.console import err, fail, out, print_json

# imported while the temporary Prefect server starts, so the first stages do not pay for them
PREWARM = ("great_expectations", "ims_indicators.ingest", "ims_indicators.validate.run", "ims_indicators.indicators",
           "ims_indicators.benchmark", "ims_indicators.score.warehouse", "ims_indicators.report.build",
           "plotly.graph_objects")


def _prewarm() -> None:
    import importlib

    for name in PREWARM:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S110 - a stage that cannot import fails in its own task, with its reason
            pass


def _check_server(url: str) -> None:
    """A configured server must answer, else say so (rather than a connection traceback)."""
    import httpx

    try:
        httpx.get(url.rstrip("/") + "/health", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        fail(f"cannot reach the Prefect server at PREFECT_API_URL={url} ({exc}); start it with "
              "`prefect server start`, or unset PREFECT_API_URL to use a temporary server")


def _table(title: str, rows: list[tuple[str, Any]]) -> None:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right", overflow="fold")
    for k, v in rows:
        table.add_row(escape(k), escape(f"{v:,}" if isinstance(v, int) else str(v)))
    out.print(table)


def print_summary(summary: dict, startup: float | None = None) -> None:
    """The end-of-run tables: stages, counts, refusals, where things are, and the time split."""
    stages = Table(title=f"{summary['flow']}: {summary['status']}", title_justify="left")
    for c in ("stage", "status", "seconds", "result"):
        stages.add_column(c, overflow="fold", justify="right" if c == "seconds" else "left")
    colour = {"completed": "green", "failed": "bold red", "skipped": "yellow"}
    for s in summary["stages"]:
        stages.add_row(s["stage"], f"[{colour.get(s['status'], '')}]{s['status']}[/]", f"{s['seconds']:.1f}",
                       escape(s["detail"] or ""))
    out.print(stages)
    if summary.get("counts"):
        _table("counts", list(summary["counts"].items()))
    if summary.get("refused"):
        out.print(f"[bold yellow]{len(summary['refused'])} file(s) refused[/] (kept under data/rejected/; "
                  "`ims submissions` lists them):")
        for r in summary["refused"]:
            out.print(f"  • {escape(r.get('reason') or '')}", highlight=False)
    if summary.get("paths"):
        _table("where", list(summary["paths"].items()))
    stage_time = sum(s["seconds"] for s in summary["stages"])
    timing = f"stages {stage_time:.1f} s, flow run {summary.get('seconds', 0):.1f} s"
    if startup is not None:
        timing = f"Prefect start-up {startup:.1f} s, " + timing
    err.print(f"timing: {timing}", highlight=False)


def run_command(
    year: Annotated[list[str] | None, typer.Option(
        "--year", help="Only (re)ingest this academic year, e.g. 2023/24 (repeatable; later stages recompute all).")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print the reports to PDF.")] = False,
    draws: Annotated[int | None, typer.Option("--draws", min=0, help="Monte Carlo draws of the label robustness "
                                                 "(default: the model's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
    include_unsigned: Annotated[bool, typer.Option(
        "--include-unsigned", help="Also use school years not signed off yet (a preview; see "
                                   "signoff_required_from in catalogue/collection.yaml).")] = False,
    dask: Annotated[bool, typer.Option("--dask", help="Run the stages on Dask (= IMS_TASK_RUNNER=dask): on the "
                                       "scheduler at --dask-address, else on a local cluster of 2 workers.")] = False,
    dask_address: Annotated[str | None, typer.Option(
        "--dask-address", metavar="ADDRESS",
        help="Dask scheduler address, e.g. tcp://scheduler:8786 (implies --dask; default env IMS_DASK_ADDRESS)."
    )] = None,
) -> None:
    """Run the whole annual cycle on data/raw as one Prefect flow run.

    ingest → validate → indicators → benchmark → score → report. Without PREFECT_API_URL a temporary Prefect server is started for the run (its history stays under .prefect/); with it, the run appears in that server's UI.

    Refused files are reported, not failures; a failed stage exits 1 with its reason.
    """
    started = time.time()
    from pipelines.env import api_url, prefect_env_defaults

    prefect_env_defaults()
    threading.Thread(target=_prewarm, name="prewarm", daemon=True).start()
    if url := os.environ.get("PREFECT_API_URL", "").strip():
        _check_server(url)
    from ims_indicators import settings
    from pipelines.flows import annual_cycle
    from pipelines.runners import describe, task_runner
    from pipelines.summary import StageFailed

    try:
        runner = task_runner("dask" if dask or dask_address else settings.task_runner(), dask_address)
    except (ValueError, ImportError) as exc:
        fail(str(exc))
    err.print(f"running the annual cycle on {'the Prefect server at ' + api_url() if api_url() else 'a temporary Prefect server'}"
              f" (tasks on {describe(runner)}) …", highlight=False)
    state = annual_cycle.with_options(task_runner=runner)(years=year or None, pdf=pdf, draws=draws,
                                                          include_unsigned=include_unsigned, return_state=True)
    data = state.result(raise_on_failure=False)
    summary = data.summary if isinstance(data, StageFailed) else data if isinstance(data, dict) else None
    if summary is None:  # crashed: no summary came back
        fail(f"the annual cycle ended {state.type.value.lower()}: {state.message or data}")
    startup = summary["started_at"] - started
    summary["startup_seconds"] = round(startup, 2)
    if as_json:
        print_json(summary)
        err.print(f"timing: Prefect start-up {startup:.1f} s, flow run {summary.get('seconds', 0):.1f} s")
    else:
        print_summary(summary, startup)
    if state.is_failed() or state.is_crashed():
        fail(state.message or "the annual cycle failed")


def serve_command(
    cron: Annotated[str, typer.Option("--cron", envvar="IMS_CRON",
                                      help="When the annual cycle runs (cron, env IMS_CRON).")] = "0 2 * * *",
    every: Annotated[int, typer.Option("--every", min=10, help="Seconds between inbox checks.")] = 300,
    timezone: Annotated[str, typer.Option("--timezone", envvar="IMS_TIMEZONE",
                                          help="Time zone of the cron schedule (IANA name, env IMS_TIMEZONE).")] = "UTC",
    port: Annotated[int, typer.Option("--port", help="Without PREFECT_API_URL: the port of the local Prefect "
                                      "server used (started if none answers there).")] = 4200,
) -> None:
    """Serve the scheduled deployments (annual cycle, inbox watch) until Ctrl-C.

    annual-cycle/nightly runs the whole cycle on a cron schedule (default 02:00 every night); inbox-watch/inbox receives files dropped into data/inbox/<dataset>/<school>/<yyyy-yy>/<file> (or schools.csv) every --every seconds.

    One run at a time (one warehouse writer). Uses the Prefect server at PREFECT_API_URL; without it, the one at 127.0.0.1:--port, started for as long as `ims serve` runs if none answers. Its UI shows the deployments, schedules and runs.
    """
    from ims_indicators import settings
    from pipelines.env import prefect_env_defaults

    prefect_env_defaults()
    os.environ["IMS_HOME"] = str(settings.home())  # the runs' subprocesses must see the same project
    bad_cron = f"--cron {cron!r} is not a cron expression; expected five fields, e.g. '0 2 * * *'"
    if len(cron.split()) not in (5, 6):  # checked fully below, once Prefect may be imported
        fail(bad_cron)
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(timezone)
    except Exception:  # noqa: BLE001
        fail(f"--timezone {timezone!r} is not a time zone; expected an IANA name such as UTC or Europe/Berlin")
    settings.inbox_dir().mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        url = os.environ.get("PREFECT_API_URL", "").strip()
        if url:
            _check_server(url)
        else:
            from pipelines.server import local_server

            log = Path(os.environ["PREFECT_HOME"]) / "server.log"
            err.print(f"no PREFECT_API_URL: using the Prefect server at 127.0.0.1:{port} (starting it if needed; "
                      f"log {log}) …", highlight=False)
            try:
                url = stack.enter_context(local_server("127.0.0.1", port, log))
            except RuntimeError as exc:
                fail(str(exc))
            os.environ["PREFECT_API_URL"] = url  # before Prefect is imported: this process and its runs use it
        from pipelines.serve import CYCLE, INBOX, deployments, serve_deployments

        try:
            served = deployments(cron, every, timezone)
        except ValueError as exc:
            fail(f"{bad_cron} ({str(exc).splitlines()[0]})")
        err.print(f"serving annual-cycle/{CYCLE} (cron '{cron}', {timezone}) and inbox-watch/{INBOX} (every {every} s, "
                  f"{settings.inbox_dir()}) on {url}; UI: {url.removesuffix('/api')}", highlight=False)
        serve_deployments(served)


app.command("run")(run_command)
app.command("serve")(serve_command)

if __name__ == "__main__":  # pragma: no cover
    app()
