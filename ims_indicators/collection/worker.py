"""The portal's upload queue: one worker thread ingests queued uploads in order through ``ingest_paths``.

The queue is on disk (``uploads`` in the collection state): a job queued or running when the portal
stopped is taken up again at the next start, so no upload is lost. The worker waits for the warehouse's
writer lock like ``ims ingest`` does, so an upload during another ingest is queued, never refused.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ims_indicators.collection import state
from ims_indicators.errors import WarehouseBusy

WAREHOUSE = threading.RLock()  # every warehouse access of the portal process goes through this


@contextmanager
def warehouse_reader() -> Iterator[None]:
    with WAREHOUSE:
        yield


def ingest_upload(job: dict) -> dict:
    """Ingest one stored upload exactly as ``ims ingest FILE --dataset D --school S --year Y`` would."""
    from ims_indicators.ingest import ingest_paths
    from ims_indicators.lock import writer_lock
    from ims_indicators.warehouse import open_warehouse

    path = Path(job["stored_path"])
    with WAREHOUSE, writer_lock(f"ims portal upload {job['job_id']}"), open_warehouse() as con:
        report = ingest_paths(con, [path], dataset=job["dataset"], school_id=job["school_id"],
                              academic_year=job["academic_year"])
    if not report.results:
        return {"status": "rejected", "reason": f"{job['original_name']}: not a .csv, .xlsx or .txt file"}
    outcome = report.results[0].as_dict()
    outcome["file"] = job["original_name"]  # the stored name is ours; messages name the file as the school sent it
    if outcome.get("reason"):
        outcome["reason"] = outcome["reason"].replace(path.name, job["original_name"])
    return outcome


class Worker:
    def __init__(self) -> None:
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="ims-upload-worker", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.thread.join(timeout=60)

    def run(self) -> None:
        while not self.stopping.is_set():
            job = state.next_queued()
            if job is None:
                self.wake.wait(timeout=1.0)
                self.wake.clear()
                continue
            try:
                outcome = ingest_upload(job)
            except WarehouseBusy:
                time.sleep(1.0)  # still queued: taken up again, in order
                continue
            except Exception as exc:  # noqa: BLE001 - recorded on the job, the worker goes on
                outcome = {"status": "error", "reason": f"{job['original_name']}: {type(exc).__name__}: {exc}"}
            state.finish_upload(job["job_id"], outcome)
