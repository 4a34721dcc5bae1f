"""A local `prefect server start` for `ims serve` when no PREFECT_API_URL is configured (schedules need a real
server: a temporary one runs no scheduler)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(api_url.rstrip("/") + "/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def local_server(host: str, port: int, log: Path, startup_timeout: float = 120.0) -> Iterator[str]:
    """Use the Prefect server at host:port if one answers, else start one (own process group, output to ``log``)
    and stop it on exit. Yields its API URL."""
    url = f"http://{host}:{port}/api"
    if healthy(url):
        yield url
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    prefect = Path(sys.executable).with_name("prefect")
    with log.open("ab") as fh:
        proc = subprocess.Popen([str(prefect), "server", "start", "--host", host, "--port", str(port)],
                                stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
                                env={k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"})
    try:
        deadline = time.monotonic() + startup_timeout
        while not healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"`prefect server start --port {port}` did not come up (see {log})")
            time.sleep(0.5)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
