"""Crash safety: `ims ingest` killed by SIGKILL at any moment leaves a consistent warehouse, and a re-run completes it.

Two kinds of kill points on a slice of the demo network (21 files, one of them malformed):
- exact ones, injected into a real `ims ingest` process (it kills itself inside the Nth staging transaction,
  after the Nth file is staged, inside the Nth promote transaction, after the Nth verdict is committed, in the
  middle of the Nth Parquet partition swap);
- timed ones: a plain `ims ingest` killed from outside after delays spread over its measured run time.
After each kill the warehouse must open and each submission be wholly in or wholly out; the final re-run must
equal an uninterrupted ingest into another IMS_HOME (same pseudonym key), timestamps aside.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import assert_clean_exit, check_consistent, copy_slice, env_for, ims, leftovers, snapshot

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

import ims_indicators.ingest as ingest
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
    after(ingest, "stage_file")
elif point == "promote_tx":
    inside(promote)
elif point == "verdict":
    after(ingest, "apply_verdict")
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

INJECTED = (("stage_tx", 3), ("staged", 4), ("promote_tx", 3), ("verdict", 5), ("publish_swap", 4))
TIMED = (0.25, 0.5, 0.75)  # fractions of the measured uninterrupted run time


def run_injected(home: Path, point: str, at: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", KILLER], cwd=home, capture_output=True, text=True, timeout=300,
                          env=env_for(home, KILL_POINT=point, KILL_AT=str(at)))


def run_killed_after(home: Path, delay: float) -> int:
    proc = subprocess.Popen([str(Path(sys.executable).with_name("ims")), "ingest", "data/raw"], cwd=home,
                            env=env_for(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    return proc.wait(timeout=60)


def test_killed_ingest_is_consistent_and_a_rerun_equals_an_uninterrupted_one(demo_source: Path,
                                                                             tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    n_files = copy_slice(demo_source, reference)
    started = time.monotonic()
    result = ims(reference, "ingest", "data/raw")
    run_time = time.monotonic() - started
    assert_clean_exit(result, (1,))  # the demo's malformed file is refused: exit 1, with its reason
    assert "mobility_2022-23.csv" in result.stderr
    check_consistent(reference, finished=True)
    expected = snapshot(reference)
    assert sum(len(v) for k, v in expected.items() if k.startswith("curated.")) > 1000

    # exact kill points, one after the other on the same home: each run makes progress, then dies
    injected = tmp_path / "injected"
    copy_slice(demo_source, injected)
    hit = []
    for point, at in INJECTED:
        result = run_injected(injected, point, at)
        assert result.returncode in (-signal.SIGKILL, 1), result.stderr[-3000:]
        if result.returncode == -signal.SIGKILL:
            assert f"killing myself at {point}" in result.stderr
            hit.append(point)
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        check_consistent(injected)
    assert hit == [p for p, _ in INJECTED], f"kill points not reached: {hit}"
    assert_clean_exit(ims(injected, "ingest", "data/raw"), (1,))
    check_consistent(injected, finished=True)
    assert snapshot(injected) == expected

    # timed kills from outside, spread over the measured run time (each re-run continues where the last stopped)
    timed = tmp_path / "timed"
    copy_slice(demo_source, timed)
    for fraction in TIMED:
        code = run_killed_after(timed, fraction * run_time)
        assert code in (-signal.SIGKILL, 1)
        check_consistent(timed)
    assert_clean_exit(ims(timed, "ingest", "data/raw"), (1,))
    check_consistent(timed, finished=True)
    assert snapshot(timed) == expected
    assert not leftovers(timed) and not leftovers(injected)
    assert n_files == 21
