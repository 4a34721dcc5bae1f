"""What a flow run did, as a small dict (returned by the flow) and as a markdown table (its artifact)."""

from __future__ import annotations

import time
from typing import Any

from ims_indicators.errors import InputRefused, WarehouseBusy

READABLE = (InputRefused, WarehouseBusy)  # their message is already a sentence for the user


class StageFailed(Exception):
    """A stage failed or input was refused; carries the run's summary. ``str()`` is the readable reason."""

    def __init__(self, message: str, summary: dict | None = None):
        super().__init__(message, summary or {})  # both in args, so it pickles whole
        self.summary = summary or {}

    def __str__(self) -> str:
        return str(self.args[0])


def reason(exc: BaseException) -> str:
    """One readable line for an exception (its type only where the message alone would not say what)."""
    if isinstance(exc, StageFailed):
        return str(exc)
    text = str(exc).strip() or "no detail"
    if not isinstance(exc, READABLE):
        text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= 1000 else text[:997] + "…"


def new_summary(flow: str, **params: Any) -> dict:
    return {"flow": flow, "status": "running", "params": {k: v for k, v in params.items() if v not in (None, [], {})},
            "started_at": time.time(), "stages": [], "refused": [], "counts": {}, "paths": {}, "message": None}


def add_stage(summary: dict, stage: str, status: str, seconds: float, detail: str = "", **extra: Any) -> dict:
    row = {"stage": stage, "status": status, "seconds": round(seconds, 2), "detail": detail, **extra}
    summary["stages"].append(row)
    return row


def finish(summary: dict, status: str, message: str | None = None) -> dict:
    summary["status"] = status
    summary["message"] = message
    summary["seconds"] = round(time.time() - summary["started_at"], 2)
    return summary


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in r) + " |" for r in rows]
    return lines + [""]


def markdown(summary: dict) -> str:
    """The summary as the markdown a Prefect artifact shows: status, stages, counts, refusals, paths."""
    icon = {"completed": "✅", "failed": "❌"}.get(summary["status"], "")
    lines = [f"# {summary['flow']}: {icon} {summary['status']}", ""]
    if summary.get("message"):
        lines += [f"**{_cell(summary['message'])}**", ""]
    if summary.get("params"):
        lines += ["Parameters: " + ", ".join(f"`{k}` = {_cell(v)}" for k, v in summary["params"].items()), ""]
    if summary["stages"]:
        lines += ["## Stages", ""]
        lines += _table(["stage", "status", "seconds", "result"],
                        [[s["stage"], s["status"], s["seconds"], s["detail"]] for s in summary["stages"]])
    counts = summary.get("counts") or {}
    if counts:
        lines += ["## Counts", ""]
        lines += _table(["what", "count"], [[k, v] for k, v in counts.items()])
    if summary.get("refused"):
        lines += [f"## Refused files ({len(summary['refused'])})", ""]
        lines += _table(["file", "submission", "reason"],
                        [[r.get("file"), r.get("submission_id"), r.get("reason")] for r in summary["refused"]])
    if summary.get("paths"):
        lines += ["## Where", ""]
        lines += _table(["what", "path"], [[k, f"`{v}`"] for k, v in summary["paths"].items()])
    if summary.get("seconds") is not None:
        lines.append(f"Run time: {summary['seconds']} s")
    return "\n".join(lines)
