"""Rebuild everything derived from data/raw/ alone: warehouse, curated Parquet and marts.

The new warehouse and Parquet tree are built beside the old ones and swapped in by renames at the end, so an
interrupted rebuild leaves the previous state untouched. The Erasmus+ open-data files kept under
data/raw/_erasmus_open_data/ (``ims erasmus``) are loaded again after the submissions, so they survive a rebuild.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ims_indicators import settings
from ims_indicators.pipeline import IngestReport, ingest_paths
from ims_indicators.warehouse import open_warehouse


@contextmanager
def _env(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _reload_erasmus(con) -> dict | None:
    """Load the kept Erasmus+ open-data files again (None when there are none)."""
    from ims_indicators.erasmus.load import RAW_FOLDER, discover, load_erasmus

    folder = settings.raw_dir() / RAW_FOLDER
    files = discover([folder]) if folder.is_dir() else []
    return load_erasmus(con, files) if files else None


def rebuild(marts: Callable[[object], dict] | None = None,
            progress: Callable[[str, int], None] | None = None) -> tuple[IngestReport, dict]:
    """Re-ingest every file under data/raw/ into a fresh warehouse, recompute the marts, then swap in."""
    warehouse, curated = settings.warehouse(), settings.curated_dir()
    new_wh = warehouse.with_name(warehouse.stem + ".rebuild.duckdb")
    new_cur = curated.with_name(curated.name + ".rebuild")
    for leftover in (new_wh, Path(str(new_wh) + ".wal")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(new_cur, ignore_errors=True)
    marts_summary: dict = {}
    with _env(IMS_WAREHOUSE=str(new_wh), IMS_CURATED_DIR=str(new_cur)):
        with open_warehouse() as con:
            report = ingest_paths(con, [settings.raw_dir()], progress=progress)
            _reload_erasmus(con)
            if marts is not None:
                marts_summary = marts(con)
    old_cur = curated.with_name(curated.name + ".old")
    shutil.rmtree(old_cur, ignore_errors=True)
    if curated.exists():
        os.replace(curated, old_cur)
    new_cur.mkdir(parents=True, exist_ok=True)
    os.replace(new_cur, curated)
    Path(str(warehouse) + ".wal").unlink(missing_ok=True)
    os.replace(new_wh, warehouse)
    shutil.rmtree(old_cur, ignore_errors=True)
    return report, marts_summary
