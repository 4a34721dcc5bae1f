"""curated.erasmus_mobility → Parquet under data/curated/erasmus_mobility/academic_year=<yyyy-yy>/ (and S3).

The same layout and atomic swap as the contract datasets (``curate/publish.py``); with ``IMS_STORAGE=s3://…``
the partition is uploaded too (``curate/storage.py``).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import duckdb

from ims_indicators import settings
from ims_indicators.contracts import year_slug
from ims_indicators.curate import storage

DATASET = "erasmus_mobility"
PART_FILE = "data_0.parquet"


def publish_erasmus_partition(con: duckdb.DuckDBPyConnection, academic_year: str, root: Path | None = None) -> Path:
    """Write one academic year of curated.erasmus_mobility, swapped in with renames (then uploaded if remote)."""
    base = Path(root or settings.curated_dir()) / DATASET
    base.mkdir(parents=True, exist_ok=True)
    target = base / f"academic_year={year_slug(academic_year)}"
    tmp = base / f".{target.name}.{uuid.uuid4().hex}.tmp"
    tmp.mkdir()
    con.execute("""COPY (SELECT * EXCLUDE (academic_year) FROM curated.erasmus_mobility WHERE academic_year = ?
                         ORDER BY school_id, submission_id, source_row, direction) TO ? (FORMAT parquet)""",
                [academic_year, str(tmp / PART_FILE)])
    old = None
    if target.exists():
        old = base / f".{target.name}.{uuid.uuid4().hex}.old"
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    if root is None and storage.is_remote():
        storage.upload_partition(target, DATASET)
    return target
