"""Crash safety: `ims ingest` killed by SIGKILL at any moment leaves a consistent warehouse; a re-run completes it.

Kill points on a slice of the demo network (13 files, one of them malformed), one after the other on one home:
- exact ones, injected into a real `ims ingest` process (it SIGKILLs itself inside the Nth staging transaction,
  after the Nth file is staged, inside the Nth promote transaction, after the Nth dataset's verdicts are
  committed, in the middle of the Nth Parquet partition swap);
- a timed one: a plain `ims ingest` killed from outside after a share of the measured uninterrupted run time.
After each kill the warehouse must open and each submission be wholly in or wholly out; the final re-run must
equal an uninterrupted ingest into another IMS_HOME (same pseudonym key), timestamps aside.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import (
    MALFORMED,
    Reference,
    assert_clean_exit,
    check_consistent,
    copy_slice,
    env_for,
    ims,
    leftovers,
    snapshot,
)

pytestmark = pytest.mark.slow

# Runs `ims ingest data/raw` with one kill point armed: KILL_POINT names where, KILL_AT which occurrence.
KILLER = r'''
import os, signal, sys
from contextlib import contextmanager

point, at = os.environ["KILL_POINT"], int(os.environ["KILL_AT"])
seen = 0

def tick():
    global seen
    seen += 1
    if seen == at:
        print(f"killing myself at {point} #{at}", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

import ims_indicators.ingest.stage as stage
import ims_indicators.curate.promote as promote

def inside(module):  # the Nth transaction of a module dies after its statements, before COMMIT
    original = module.transaction
    @contextmanager
    def transaction(con):
        with original(con):
            yield con
            tick()
    module.transaction = transaction

def after(module, name):  # dies right after the Nth call returned (its transaction committed)
    original = getattr(module, name)
    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        tick()
        return result
    setattr(module, name, wrapped)

if point == "stage_tx":
    inside(stage)
elif point == "staged":
    after(stage, "stage_file")
elif point == "promote_tx":
    inside(promote)
elif point == "verdict":
    after(promote, "apply_verdicts")
elif point == "publish_swap":  # the old partition moved aside, the new one not yet in place
    real_replace = os.replace
    def replace(src, dst, *args, **kwargs):
        if str(src).endswith(".tmp"):
            tick()
        return real_replace(src, dst, *args, **kwargs)
    os.replace = replace

from ims_indicators.cli import app
sys.argv = ["ims", "ingest", "data/raw"]
app()
'''

# One home, one kill after the other, in pipeline order (each run continues where the last one died): inside a
# staging transaction, between staging and validation, a timed kill from outside (the run is then staging the rest
# or importing Great Expectations), inside a promote transaction, between two datasets' committed verdicts
# (curated ahead of Parquet), in the middle of a partition swap. Then a run to completion.
PLAN = (("stage_tx", 2), ("staged", 2), ("timed", 0.35), ("promote_tx", 2), ("verdict", 1), ("publish_swap", 2))

def run_injected(home: Path, point: str, at: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", KILLER], check=False, cwd=home, capture_output=True, text=True,
                          timeout=300, env=env_for(home, KILL_POINT=point, KILL_AT=str(at)))


def run_killed_after(home: Path, delay: float) -> int:
    proc = subprocess.Popen([str(Path(sys.executable).with_name("ims")), "ingest", "data/raw"], cwd=home,
                            env=env_for(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    return proc.wait(timeout=60)


def test_killed_ingest_is_consistent_and_a_rerun_equals_an_uninterrupted_one(demo_source: Path, reference: Reference,
                                                                             tmp_path: Path) -> None:
    home = tmp_path / "killed"
    copy_slice(demo_source, home)
    outcomes = []
    for point, arg in PLAN:
        if point == "timed":
            code = run_killed_after(home, arg * reference.run_time)
            assert code in (-signal.SIGKILL, 1)
            outcomes.append((f"after {arg * reference.run_time:.1f} s", "killed" if code < 0 else "finished first"))
        else:
            result = run_injected(home, point, arg)
            assert "Traceback" not in result.stderr, result.stderr[-3000:]
            assert result.returncode == -signal.SIGKILL, f"{point} #{arg} not reached: {result.stderr[-2000:]}"
            assert f"killing myself at {point}" in result.stderr
            outcomes.append((f"{point} #{arg}", "killed"))
        check_consistent(home)  # opens; each submission wholly in or out; Parquet never half a submission
    assert all(outcome == "killed" for _, outcome in outcomes), outcomes
    final = ims(home, "ingest", "data/raw")
    assert_clean_exit(final, (1,))
    assert MALFORMED in final.stderr
    check_consistent(home, finished=True)  # nothing left staged, Parquet = curated, no .tmp/.old folders
    assert snapshot(home) == reference.snapshot
    assert not leftovers(home)
    print("kill points:", outcomes, f"(uninterrupted run {reference.run_time:.1f} s)")
