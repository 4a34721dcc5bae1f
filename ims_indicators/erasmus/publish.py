"""curated.erasmus_mobility → Parquet under data/curated/erasmus_mobility/academic_year=<yyyy-yy>/ (and S3).

The same layout and atomic swap as the contract datasets (``curate/publish.py``); with ``IMS_STORAGE=s3://…``
the partition is uploaded too (``curate/storage.py``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ims_indicators.contracts import year_slug
from ims_indicators.curate.publish import write_partition

DATASET = "erasmus_mobility"


def publish_erasmus_partition(con: duckdb.DuckDBPyConnection, academic_year: str, root: Path | None = None) -> Path:
    """Write one academic year of curated.erasmus_mobility, swapped in with renames (then uploaded if remote); in
    the table's order, unsorted, as :func:`ims_indicators.curate.publish.publish_partition`."""
    return write_partition(con, DATASET, f"academic_year={year_slug(academic_year)}",
                           "SELECT * EXCLUDE (academic_year) FROM curated.erasmus_mobility WHERE academic_year = ?",
                           [academic_year], root)
