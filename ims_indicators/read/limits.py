"""The size limits every reader applies, each with one true message (the count found and the limit)."""

from __future__ import annotations

from ims_indicators import settings
from ims_indicators.errors import InputRefused


def check_column_count(path_name: str, n: int) -> None:
    """Refuse a header (or a sheet's used range) wider than ``IMS_MAX_COLUMNS``; ``n`` is the true count."""
    limit = settings.max_columns()
    if n > limit:
        raise InputRefused(path_name, f"{n:,} columns, the limit is {limit:,} (IMS_MAX_COLUMNS)")


def check_row_count(path_name: str, n: int, *, slack: int = 0) -> None:
    """Refuse more than ``IMS_MAX_ROWS`` data rows (``slack``: title and header rows a sheet may add)."""
    limit = settings.max_rows()
    if n > limit + slack:
        raise InputRefused(path_name, f"{n:,} rows, the limit is {limit:,} (IMS_MAX_ROWS)")
