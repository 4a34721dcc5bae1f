"""``ims serve`` and ``ims run`` against a real ``prefect server start`` (each in its own process group)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def stop(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Terminate a process group we started (SIGTERM, then SIGKILL), leaving nothing behind."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    try:  # children that outlived their parent (e.g. a flow run subprocess)
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def wait_for(check, what: str, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: the process exited with {proc.returncode}:\n{log.read_text() if log else ''}")
        try:
            if result := check():
                return result
        except Exception:  # noqa: BLE001, S110 - not up yet
            pass
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {timeout:.0f} s\n{log.read_text()[-3000:] if log else ''}")


def subprocess_env(url: str, home: Path, client_home: Path) -> dict[str, str]:
    env = {**os.environ, "PREFECT_API_URL": url, "IMS_HOME": str(home), "PREFECT_HOME": str(client_home),
           "PREFECT_LOGGING_LEVEL": "INFO"}
    return env


def test_ims_serve_registers_schedules_and_the_inbox_watch_ingests_a_dropped_file(
        prefect_server: str, home: Path, tmp_path_factory: pytest.TempPathFactory, fixture_network) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    write_fixture_network, registry = fixture_network
    from prefect.settings import PREFECT_API_URL, temporary_settings

    log = home / "serve.log"
    env = subprocess_env(prefect_server, home, tmp_path_factory.mktemp("client-home"))
    with log.open("wb") as fh:
        proc = subprocess.Popen([str(BIN / "ims"), "serve", "--cron", "15 3 * * *", "--every", "3600"], env=env,
                                cwd=home, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with temporary_settings(updates={PREFECT_API_URL: prefect_server}):
            def registered():
                with get_client(sync_client=True) as client:
                    found = {d.name: d for d in client.read_deployments()}
                return found if {"nightly", "inbox"} <= set(found) else None

            deployments = wait_for(registered, "ims serve registering its deployments", 90, proc, log)
            nightly, inbox = deployments["nightly"], deployments["inbox"]
            assert [s.schedule.cron for s in nightly.schedules] == ["15 3 * * *"]
            assert [s.schedule.interval.total_seconds() for s in inbox.schedules] == [3600]
            assert all(s.active for s in nightly.schedules + inbox.schedules)

            box = home / "data" / "inbox"
            box.mkdir(parents=True, exist_ok=True)
            (box / "schools.csv").write_text(registry, encoding="utf-8")
            staged = tmp_path_factory.mktemp("network")
            write_fixture_network(staged, years=("2023-24",))
            target = box / "mobility" / "karolinska" / "2023-24"
            target.mkdir(parents=True)
            (target / "mobility.csv").write_bytes((staged / "mobility" / "karolinska" / "2023-24" /
                                                   "mobility.csv").read_bytes())

            run = run_deployment("inbox-watch/inbox", parameters={"settle_seconds": 0.5}, timeout=180)
            assert run.state.is_completed(), f"{run.state}\n{log.read_text()[-3000:]}"
        with duckdb.connect(str(home / "data" / "warehouse.duckdb"), read_only=True) as con:
            subs = con.execute("SELECT dataset, school_id, status FROM meta.submissions ORDER BY 1").fetchall()
        assert subs == [("mobility", "karolinska", "accepted"), ("schools", None, "accepted")]
        assert not list(box.rglob("*.csv"))  # moved out of the inbox …
        assert (home / "data" / "raw" / "mobility" / "karolinska" / "2023-24" / "mobility.csv").is_file()  # … to raw
    finally:
        stop(proc)
    assert proc.returncode is not None


def test_ims_run_against_a_running_server_reports_refusals_and_shows_up_in_its_history(
        prefect_server: str, network: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """`ims run` as a user runs it (own process, PREFECT_API_URL set): the demo-like malformed file is reported,
    not a failure; the summary says what happened and where things are; the run is in the server's history."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.settings import PREFECT_API_URL, temporary_settings

    (network / "data" / "raw" / "mobility" / "karolinska" / "2023-24" / "bad.csv").write_text(
        "school_id;academic_year;direction\nkarolinska;2023/24;outgoing\n")
    env = subprocess_env(prefect_server, network, tmp_path_factory.mktemp("client-home"))
    result = subprocess.run([str(BIN / "ims"), "run"], env=env, cwd=network, capture_output=True, text=True,
                            timeout=300, start_new_session=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "annual-cycle: completed" in out and "submissions accepted" in out and "rows curated.mobility" in out
    assert "rows marts.indicator_values" in out and "label " in out
    assert "reports/index.html" in out and "data/warehouse.duckdb" in out and "reports/validation/index.html" in out
    assert "1 file(s) refused" in out and "bad.csv, row 1, column" in out
    assert f"the Prefect server at {prefect_server}" in result.stderr and "Prefect start-up" in result.stderr
    with temporary_settings(updates={PREFECT_API_URL: prefect_server}), get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["annual-cycle"])))
    assert [r.state.type.value for r in runs] == ["COMPLETED"]
