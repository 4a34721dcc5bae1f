"""The inbox drop folder: which files are complete (their size stable across two looks) and clearing them.

Plain functions (no Prefect); the inbox-watch flow calls them through tasks.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ims_indicators.ingest.stage import discover

PARTIAL = (".part", ".tmp", ".crdownload", ".partial")  # names of files still being copied


class FileStillBeingWritten(Exception):
    """A file in the inbox changed while it was being received (transient: retry later)."""


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:  # moved away or deleted meanwhile
        return None
    return st.st_size, st.st_mtime_ns


def candidates(inbox: Path) -> list[Path]:
    """Data files in the inbox (hidden files, ``_``-folders and partial downloads skipped)."""
    if not inbox.is_dir():
        return []
    return [p for p in discover([inbox]) if not p.name.startswith("~$") and not p.name.lower().endswith(PARTIAL)]


def stable_files(inbox: Path, settle_seconds: float = 2.0) -> tuple[dict[str, list[int]], list[str]]:
    """Look twice, ``settle_seconds`` apart: files whose size and mtime did not change (and are not empty)
    are ready ``{path: [size, mtime_ns]}``; the rest are left for the next run."""
    first = {p: _signature(p) for p in candidates(inbox)}
    if not first:
        return {}, []
    time.sleep(settle_seconds)
    ready, waiting = {}, []
    for p, sig in first.items():
        now = _signature(p)
        if now is not None and now == sig and now[0] > 0:
            ready[str(p)] = list(now)
        elif now is not None:
            waiting.append(str(p))
    return ready, waiting


def check_unchanged(files: dict[str, list[int]]) -> None:
    """Raise :class:`FileStillBeingWritten` if a file changed since it was found stable."""
    for name, sig in files.items():
        now = _signature(Path(name))
        if now is None or list(now) != list(sig):
            raise FileStillBeingWritten(f"{Path(name).name}: changed while being received; it will be read again")


def clear(files: list[Path], inbox: Path) -> None:
    """Remove received files from the inbox, and the folders they leave empty (never the inbox itself)."""
    inbox = inbox.resolve()
    for f in files:
        Path(f).unlink(missing_ok=True)
        parent = Path(f).resolve().parent
        while parent != inbox and parent.is_relative_to(inbox):
            try:
                os.rmdir(parent)
            except OSError:  # not empty
                break
            parent = parent.parent
