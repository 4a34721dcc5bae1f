"""Past one machine: the annual cycle with curated Parquet on S3 (a moto server) and the tasks on a Dask cluster
gives the same marts as the default local run, and the Parquet on the store reads back equal to curated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from ims_indicators.contracts import CONTRACTS
from ims_indicators.pipeline import CYCLE
from pipelines.flows import annual_cycle
from pipelines.runners import task_runner

from .conftest import write_fixture_network

MARTS = ("indicator_values", "benchmark_groups", "label_results")


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)  # port 0: a free one
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _table(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple]:
    """A table's rows without its timestamp columns, sorted (NULLs and mixed types compared as text)."""
    cols = [r for r in con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE "
                                   "table_schema || '.' || table_name = ? ORDER BY ordinal_position",
                                   [name]).fetchall() if not r[1].startswith(("TIMESTAMP", "TIME"))]
    assert cols, name
    rows = con.execute(f"SELECT {', '.join(c for c, _ in cols)} FROM {name}").fetchall()
    return sorted(rows, key=lambda r: tuple(str(v) for v in r))


def _marts(home: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(home / "data" / "warehouse.duckdb"), read_only=True) as con:
        return {m: _table(con, f"marts.{m}") for m in MARTS}


def _use(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMS_HOME", str(home))
    write_fixture_network(home / "data" / "raw")


def _run(runner=None) -> dict:
    flow = annual_cycle.with_options(task_runner=runner) if runner else annual_cycle
    state = flow(return_state=True)
    assert state.is_completed(), state.message
    summary = state.result()
    assert [(s["stage"], s["status"]) for s in summary["stages"]] == [(s.name, "completed") for s in CYCLE]
    return summary


@pytest.mark.slow
def test_cycle_on_s3_and_dask_gives_the_same_marts(home: Path, moto_endpoint: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMS_PSEUDONYM_KEY", "same-key-for-both-runs")
    monkeypatch.delenv("IMS_STORAGE", raising=False)
    monkeypatch.delenv("IMS_DASK_ADDRESS", raising=False)
    local_home = home / "local"
    _use(local_home, monkeypatch)
    _run()
    local = _marts(local_home)
    assert all(local.values()), {k: len(v) for k, v in local.items()}

    bucket = "ims-dask-s3"
    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_DEFAULT_REGION", "us-east-1"), ("IMS_S3_ENDPOINT_URL", moto_endpoint),
                       ("IMS_STORAGE", f"s3://{bucket}/curated")):
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    from ims_indicators.curate import storage

    fs = storage.filesystem()
    fs.mkdir(bucket)
    remote_home = home / "remote"
    _use(remote_home, monkeypatch)  # before the workers start: they take the environment with them
    from distributed import LocalCluster

    # an existing scheduler (IMS_DASK_ADDRESS) with 2 worker processes: tasks and arguments cross processes
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        monkeypatch.setenv("IMS_DASK_ADDRESS", cluster.scheduler_address)
        summary = _run(task_runner("dask"))
        ran = set(cluster.scheduler.task_prefixes)  # Dask keys are named after the functions it ran
    assert ran >= {s.run.__name__ for s in CYCLE} | {"warehouse_counts"}, ran
    assert summary["stages"][0]["detail"].startswith("29 file(s)")
    assert _marts(remote_home) == local

    fs.invalidate_cache()
    objects = {p[len(bucket) + 1:] for p in fs.find(f"{bucket}/curated")}
    assert "curated/schools/all/data_0.parquet" in objects
    for ds in CONTRACTS:
        if ds != "schools":
            for year in ("2022-23", "2023-24"):
                assert f"curated/{ds}/academic_year={year}/data_0.parquet" in objects, (ds, sorted(objects))
    from ims_indicators.curate.publish import read_partitions

    with duckdb.connect(str(remote_home / "data" / "warehouse.duckdb"), read_only=True) as con:
        for ds in CONTRACTS:
            rel = read_partitions(con, ds)  # from s3:// (IMS_STORAGE is remote)
            cols = ", ".join(rel.columns)
            back = sorted(rel.fetchall(), key=lambda r: tuple(map(str, r)))
            curated = sorted(con.execute(f"SELECT {cols} FROM curated.{ds}").fetchall(),
                             key=lambda r: tuple(map(str, r)))
            assert back and back == curated, ds
