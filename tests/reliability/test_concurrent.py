"""Concurrency: one warehouse writer at a time. A second `ims ingest` waits (saying for whom) and duplicates nothing;
a lock left behind by a dead process never blocks anyone."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ims_indicators import lock
from ims_indicators.errors import WarehouseBusy

from .conftest import IMS, Reference, assert_clean_exit, check_consistent, copy_slice, env_for, ims, snapshot

HOLD = r'''
import sys, time
from ims_indicators.lock import writer_lock
with writer_lock("test holder"):
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
'''


def dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(proc.stdout)


def write_stale_holder(pid: int) -> None:
    lock.lock_path().parent.mkdir(parents=True, exist_ok=True)
    lock.lock_path().touch()
    lock.holder_path().write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "what": "ims ingest",
                                              "since": "2024-01-01T00:00:00"}))


@pytest.mark.slow
def test_two_ingests_started_together_wait_for_each_other_and_duplicate_nothing(demo_source: Path,
                                                                                 reference: Reference,
                                                                                 tmp_path: Path) -> None:
    home = tmp_path / "home"
    copy_slice(demo_source, home)
    procs = [subprocess.Popen([str(IMS), "ingest", "data/raw"], cwd=home, env=env_for(home), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    for r in results:  # both finish; exit 1 is the documented exit for the demo's malformed file
        assert_clean_exit(r, (1,))
    waited = [i for i, r in enumerate(results) if "waiting for it to finish" in r.stderr]
    assert len(waited) == 1, [r.stderr[-500:] for r in results]
    other = procs[1 - waited[0]].pid
    assert re.search(rf"being written by pid {other} \(ims ingest\)", results[waited[0]].stderr), \
        results[waited[0]].stderr[-500:]
    check_consistent(home, finished=True)
    assert snapshot(home) == reference.snapshot  # the same as one run alone: nothing twice
    assert not (home / "data" / "warehouse.lock.holder").exists()


def test_a_stale_lock_of_a_dead_process_does_not_block(home: Path) -> None:
    pid = dead_pid()
    write_stale_holder(pid)
    messages: list[str] = []
    started = time.monotonic()
    with lock.writer_lock("test", timeout=5, on_wait=messages.append):
        assert lock.current_holder()["pid"] != pid  # the holder file now names the live holder
    assert time.monotonic() - started < 2 and not messages
    assert not lock.holder_path().exists()


def test_only_a_live_other_process_is_another_writer(home: Path) -> None:
    """What the portal asks before it keeps an upload's request waiting (collection/portal.py: wait_for)."""
    assert lock.other_writer() is None  # no holder file
    write_stale_holder(dead_pid())
    assert lock.other_writer() is None  # left behind by a dead process: the lock is free
    write_stale_holder(os.getpid())
    assert lock.other_writer() is None  # this process
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_stale_holder(live.pid)
        assert lock.other_writer()["pid"] == live.pid
    finally:
        live.kill()
        live.wait()


@pytest.mark.slow
def test_ims_ingest_ignores_a_stale_lock_and_says_who_holds_a_live_one(home: Path, tmp_path: Path) -> None:
    (home / "data" / "raw" / "schools.csv").write_text("school_id,name\n", encoding="utf-8")  # refused at once: quick
    write_stale_holder(dead_pid())
    started = time.monotonic()
    result = ims(home, "ingest", "data/raw", timeout=120)
    assert_clean_exit(result, (1,))
    assert "schools.csv" in result.stderr and "waiting" not in result.stderr and "stale" not in result.stderr
    assert time.monotonic() - started < 60

    holder = subprocess.Popen([sys.executable, "-c", HOLD, "30"], cwd=home, env=env_for(home), stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert lock.current_holder()["pid"] == holder.pid
        messages: list[str] = []
        with pytest.raises(WarehouseBusy, match="IMS_LOCK_TIMEOUT"), \
                lock.writer_lock("test", timeout=1.5, on_wait=messages.append):
            pass
        assert messages and f"pid {holder.pid} (test holder)" in messages[0]
        for garbage in ("[1, 2]", '{"pid": "12x"}'):  # a holder file that is not ours: still a wait
            lock.holder_path().write_text(garbage)
            messages.clear()
            with pytest.raises(WarehouseBusy), lock.writer_lock("test", timeout=1.5, on_wait=messages.append):
                pass
            assert messages == ["the warehouse is being written by another process; waiting for it to finish …"]
        lock.holder_path().write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname(),
                                                  "what": "test holder"}))
        busy = ims(home, "ingest", "data/raw", timeout=120, IMS_LOCK_TIMEOUT="2")  # gives up with a message: exit 1
        assert_clean_exit(busy, (1,))
        assert f"pid {holder.pid}" in busy.stderr and "IMS_LOCK_TIMEOUT" in busy.stderr
    finally:
        holder.kill()
        holder.wait(timeout=30)
    # its holder was SIGKILLed: the lock is free again at once, the holder file it left names a dead pid
    assert lock.current_holder()["pid"] == holder.pid
    after = ims(home, "ingest", "data/raw", timeout=120)
    assert_clean_exit(after, (1,))
    assert "waiting" not in after.stderr
