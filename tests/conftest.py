"""Shared fixtures. Each test that touches data gets its own IMS_HOME (a tmp folder) unless it asks for a shared one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Prefect: a project-local home inside the test session, no telemetry, patient first start.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("IMS_PSEUDONYM_KEY", "test-key-not-secret")


# `make test` runs on two workers by file (--dist loadfile): a module's servers and fixtures start once. Modules that
# share a costly session fixture go to one worker together, so that worker builds it while the other goes on with
# other modules instead of waiting for its lock (xdist's own xdist_group marks are lost under pytest 9). They are
# handed out first and the rest in collection order (xdist would put the modules with fewest tests last, and those
# are the long ones: a whole cycle, a load test), so that no worker is left alone with a long one at the end.
SHARED_FIXTURE_GROUPS = {
    "demo_home": ("tests/benchmark/test_demo_acceptance.py", "tests/score/test_sparse_year.py",
                  "tests/validate/test_demo.py", "tests/validate/test_report.py", "tests/validate/test_revalidate.py"),
    "pipeline": ("tests/reliability/test_rebuild.py", "tests/reliability/test_privacy.py",
                 "tests/reliability/test_injection.py"),
    "reference": ("tests/reliability/test_kill.py", "tests/reliability/test_concurrent.py"),
    # the session's Prefect servers (tests/pipelines/conftest.py: a test harness, and a real `prefect server` booted
    # in the background) start on each worker that runs one of these: ~35 s of start-up and a server's CPU, once
    "prefect": ("tests/pipelines/test_orchestration_flows.py", "tests/pipelines/test_dask_s3.py",
                "tests/pipelines/test_orchestration_serve.py"),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    shared = {f for files in SHARED_FIXTURE_GROUPS.values() for f in files}
    items.sort(key=lambda item: item.nodeid.split("::", 1)[0] not in shared)  # stable: the rest keep their order


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False  # units in collection order (see above)

    group_of = {f: g for g, files in SHARED_FIXTURE_GROUPS.items() for f in files}
    missing = [f for f in group_of if not (REPO / f).is_file()]
    if missing:
        raise pytest.UsageError(f"SHARED_FIXTURE_GROUPS names missing test files: {', '.join(missing)}")

    class ByFileOrSharedFixture(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::", 1)[0]
            return group_of.get(file, file)

    return ByFileOrSharedFixture(config, log)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh IMS_HOME with the repo's expectations, catalogue and models visible."""
    monkeypatch.setenv("IMS_HOME", str(tmp_path))
    for name, env in (("expectations", "IMS_EXPECTATIONS_DIR"), ("catalogue/indicators.yaml", "IMS_CATALOGUE"),
                      ("catalogue/peer_sets.yaml", "IMS_PEER_SETS"), ("models", "IMS_MODELS_DIR")):
        if not os.environ.get(env):
            monkeypatch.setenv(env, str(REPO / name))
    (tmp_path / "data" / "raw").mkdir(parents=True)
    return tmp_path


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The demo network generated and ingested ONCE per session into its own IMS_HOME (treat as read-only).

    IMS_HOME is set only while it is built: a test that works on it sets ``IMS_HOME`` (monkeypatch) itself,
    or copies the folder first if it changes anything. Under pytest-xdist the workers share one build: the first
    builds it under a file lock in the session's common temporary folder, the others wait and reuse it.
    """
    from filelock import FileLock

    if worker_id == "master":  # not distributed
        return _build_demo(tmp_path_factory.mktemp("demo_home"))
    shared = tmp_path_factory.getbasetemp().parent  # this session's folder, common to its workers
    root = shared / "demo_home"
    with FileLock(str(shared / "demo_home.lock")):
        if not (root / ".built").exists():
            _build_demo(root)
            (root / ".built").touch()
    return root


def _build_demo(root: Path) -> Path:
    from ims_indicators.demo import generate_demo
    from ims_indicators.ingest import ingest_paths
    from ims_indicators.warehouse import open_warehouse

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IMS_HOME", str(root))
        mp.setenv("IMS_EXPECTATIONS_DIR", os.environ.get("IMS_EXPECTATIONS_DIR") or str(REPO / "expectations"))
        generate_demo(root / "data" / "raw")
        with open_warehouse() as con:
            ingest_paths(con, [root / "data" / "raw"])
    return root
