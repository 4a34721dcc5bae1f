"""One writer of the warehouse at a time, across processes: a lock file that names its holder."""

from __future__ import annotations

import json
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from filelock import FileLock, Timeout

from ims_indicators import settings
from ims_indicators.errors import WarehouseBusy


def lock_path() -> Path:
    return settings.warehouse().with_suffix(".lock")


def holder_path() -> Path:
    return settings.warehouse().with_suffix(".lock.holder")


def current_holder() -> dict | None:
    """Who holds the writer lock (pid, host, command, since), if anyone says so."""
    try:
        holder = json.loads(holder_path().read_text())
    except (OSError, ValueError):
        return None
    # a holder file is only a hint: one that is not ours (no integer pid) must not break whoever waits
    return holder if isinstance(holder, dict) and isinstance(holder.get("pid"), int) else None


def _left_by_dead(holder: dict) -> bool:
    """Whether a holder file was left behind by a process of this host that is gone (the OS freed its lock)."""
    return holder.get("host") == socket.gethostname() and not pid_alive(int(holder["pid"]))


def other_writer() -> dict | None:
    """The holder of the writer lock when it is another process that is alive, else None."""
    holder = current_holder()
    if holder is None or _left_by_dead(holder) or (holder["pid"] == os.getpid()
                                                   and holder.get("host") == socket.gethostname()):
        return None
    return holder


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host exists (signal 0 asks without signalling; another user's: alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def writer_lock(what: str, timeout: float | None = None,
                on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the writer lock while ``what`` runs; wait (saying who holds it) up to ``timeout`` seconds.

    The OS releases the lock when its holder dies (even by SIGKILL), so a stale holder file left
    behind is detected by its dead pid and never blocks anyone.
    """
    path = lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    timeout = settings.lock_timeout() if timeout is None else timeout
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            lock.acquire(timeout=1.0)
            break
        except Timeout:
            holder = current_holder()
            if not told and on_wait is not None:
                if holder and _left_by_dead(holder):
                    on_wait(f"stale lock of dead pid {holder['pid']} found; waiting for the OS to release it")
                else:
                    who = f"pid {holder['pid']} ({holder.get('what')})" if holder else "another process"
                    on_wait(f"the warehouse is being written by {who}; waiting for it to finish …")
                told = True
            if time.monotonic() >= deadline:
                raise WarehouseBusy(f"the warehouse is still locked by {holder or 'another process'} after "
                                    f"{timeout:.0f} s (IMS_LOCK_TIMEOUT)") from None
    try:
        holder_path().write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "what": what,
                                             "since": time.strftime("%Y-%m-%dT%H:%M:%S")}))
        yield
    finally:
        holder_path().unlink(missing_ok=True)
        lock.release()
