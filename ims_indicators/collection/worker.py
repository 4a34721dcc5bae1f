"""The portal's queue worker: one thread takes the waiting jobs in order — uploads, ingested together in one
call of the submission path, and approved overrides, promoted — each time it holds the warehouse.

The queue is on disk (``uploads`` in the collection state): a job queued or running when the portal
stopped is taken up again at the next start, so no upload is lost. The worker waits for the warehouse's
writer lock like ``ims ingest`` does, so an upload during another ingest is queued, never refused. Whenever it
holds the warehouse it also copies the new audit entries to ``meta.audit_log``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ims_indicators.collection import state
from ims_indicators.errors import WarehouseBusy

if TYPE_CHECKING:
    import duckdb

    from ims_indicators.ingest.stage import SubmissionResult

WAREHOUSE = threading.RLock()  # every warehouse access of the portal process goes through this


@contextmanager
def warehouse_reader() -> Iterator[None]:
    with WAREHOUSE:
        yield


@contextmanager
def warehouse_writer(what: str, timeout: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse for writing, under the writer lock (waiting up to ``timeout`` s, default IMS_LOCK_TIMEOUT)."""
    from ims_indicators.lock import writer_lock
    from ims_indicators.warehouse import open_warehouse

    with WAREHOUSE, writer_lock(f"ims portal {what}", timeout), open_warehouse() as con:
        yield con


def upload_outcome(job: dict, result: SubmissionResult) -> dict:
    """One upload's outcome as ``ims ingest`` reports it, naming the file as the school sent it."""
    path = Path(job["stored_path"])
    outcome = result.as_dict()
    outcome["file"] = job["original_name"]  # the stored name is ours
    if outcome.get("reason"):
        outcome["reason"] = outcome["reason"].replace(path.name, job["original_name"])
    return outcome


def ingest_uploads(jobs: list[dict]) -> list[dict]:
    """Ingest stored uploads in one call, each under its own key, exactly as ``ims ingest FILE --dataset D
    --school S --year Y`` would; one outcome per job, in order."""
    from ims_indicators.collection.audit import copy_audit_log
    from ims_indicators.pipeline import ingest_files

    with warehouse_writer(f"upload {jobs[0]['job_id']} (+{len(jobs) - 1})") as con:
        report = ingest_files(con, [(Path(j["stored_path"]), {"dataset": j["dataset"], "school_id": j["school_id"],
                                                              "academic_year": j["academic_year"]}) for j in jobs])
        copy_audit_log(con)
    return [upload_outcome(job, result) for job, result in zip(jobs, report.results)]


def promote_override(job: dict) -> dict:
    from ims_indicators.collection.audit import copy_audit_log
    from ims_indicators.collection.overrides import OverrideRefused, promote
    from ims_indicators.pipeline import publish
    from ims_indicators.validate.report import write_steward_report

    ov = state.override(job["override_id"])
    with warehouse_writer(f"override {job['override_id']}") as con:
        try:
            outcome = promote(con, ov)
        except OverrideRefused as exc:
            outcome = {"status": "refused", "override_id": ov["override_id"], "reason": str(exc)}
        else:
            publish(con)
        copy_audit_log(con)
        if outcome["status"] == "promoted":
            write_steward_report(con)  # stewards see the override in their validation report at once
    return outcome


class Worker:
    def __init__(self) -> None:
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="ims-upload-worker", daemon=True)

        self.audit_copied = -1  # the last audit entry known to be in meta.audit_log (-1: not looked yet)

    def copy_audit(self) -> None:
        """Between jobs: the actions that needed no warehouse (explain, sign-off, decisions …) to meta.audit_log."""
        from ims_indicators.collection.audit import copy_audit_log

        last = state.last_audit_seq()
        try:
            with warehouse_writer("audit log", timeout=1.0) as con:
                copy_audit_log(con)
        except WarehouseBusy:
            return  # another process holds the warehouse: next time round
        self.audit_copied = last

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.thread.join(timeout=60)

    def run(self) -> None:
        while not self.stopping.is_set():
            jobs = state.next_batch()
            if not jobs:
                if state.last_audit_seq() > self.audit_copied:
                    self.copy_audit()
                self.wake.wait(timeout=1.0)
                self.wake.clear()
                continue
            try:
                outcomes = [promote_override(jobs[0])] if jobs[0]["kind"] == "override" else ingest_uploads(jobs)
            except WarehouseBusy:
                time.sleep(1.0)  # still queued: taken up again, in order
                continue
            except Exception as exc:  # noqa: BLE001 - recorded on the jobs, the worker goes on
                outcomes = [{"status": "error", "reason": f"{j['original_name']}: {type(exc).__name__}: {exc}"}
                            for j in jobs]
            for job, outcome in zip(jobs, outcomes):
                state.finish_upload(job["job_id"], outcome)
