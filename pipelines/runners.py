"""The task runner of a flow run, from the settings: ``IMS_TASK_RUNNER=thread`` (default) or ``dask``.

Applied at call time (``annual_cycle.with_options(task_runner=task_runner())``), so the flows themselves keep
Prefect's default. With ``dask`` the stages run as Dask tasks: on the scheduler at ``IMS_DASK_ADDRESS``
(``tcp://scheduler:8786``; its workers must see the same ``IMS_HOME`` folder and environment), or else on a
``distributed.LocalCluster`` of 2 single-threaded workers started for the flow run and closed after it.
Tasks take and return only paths, names and small dicts, so they pickle.
"""

from __future__ import annotations

from typing import Any

from ims_indicators import settings

LOCAL_CLUSTER = {"n_workers": 2, "threads_per_worker": 1, "processes": False}


def task_runner(kind: str | None = None, address: str | None = None, **cluster_kwargs: Any):
    """A Prefect task runner: ``ThreadPoolTaskRunner`` or ``prefect_dask.DaskTaskRunner``.

    ``kind``/``address`` default to ``IMS_TASK_RUNNER``/``IMS_DASK_ADDRESS``; ``cluster_kwargs`` override the
    local cluster's (``n_workers=2, threads_per_worker=1, processes=False``).
    """
    kind = (kind or settings.task_runner()).lower()
    if kind == "thread":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner()
    if kind != "dask":
        raise ValueError(f"task runner {kind!r}: expected 'thread' or 'dask'")
    from prefect_dask import DaskTaskRunner

    address = address or settings.dask_address()
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs={**LOCAL_CLUSTER, **cluster_kwargs})


def describe(runner: Any) -> str:
    """One line for the user: where the tasks run."""
    name = type(runner).__name__
    if name == "DaskTaskRunner":
        address = getattr(runner, "address", None)
        return f"Dask scheduler {address}" if address else "a local Dask cluster (2 workers)"
    return "threads of this process"
