"""The served deployments: the annual cycle on a cron schedule and the inbox watch on an interval."""

from __future__ import annotations

from prefect import serve
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.schedules import Cron, Interval

from pipelines.flows import annual_cycle, inbox_watch

CYCLE, INBOX = "nightly", "inbox"  # deployments "annual-cycle/nightly" and "inbox-watch/inbox"


def deployments(cron: str = "0 2 * * *", every: int = 300, timezone: str | None = "UTC") -> list[RunnerDeployment]:
    """The two deployments (imported by module path, so the runner's subprocesses find them when installed)."""
    common = {"entrypoint_type": EntrypointType.MODULE_PATH, "tags": ["ims"]}
    return [
        annual_cycle.to_deployment(name=CYCLE, schedules=[Cron(cron, timezone=timezone)],
                                   description=f"The whole annual cycle on data/raw, on cron '{cron}' ({timezone}).",
                                   **common),
        inbox_watch.to_deployment(name=INBOX, schedules=[Interval(every, timezone=timezone)],
                                  description=f"Receive, ingest and validate new files in data/inbox/ every {every} s.",
                                  **common),
    ]


def serve_deployments(served: list[RunnerDeployment]) -> None:
    """Register the deployments and run their scheduled runs, one at a time (``limit=1``: one warehouse
    writer), until Ctrl-C / SIGTERM; the schedules are paused on shutdown."""
    serve(*served, limit=1)
