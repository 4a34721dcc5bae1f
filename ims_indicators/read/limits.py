"""Limits every reader applies before it reads a file's rows (one check, one message, in both readers)."""

from __future__ import annotations

from ims_indicators import settings
from ims_indicators.errors import InputRefused


def check_column_count(path_name: str, n: int) -> None:
    """Refuse a header wider than ``IMS_MAX_COLUMNS``: "N columns, the limit is M"."""
    limit = settings.max_columns()
    if n > limit:
        raise InputRefused(path_name, f"{n} columns, the limit is {limit} (IMS_MAX_COLUMNS); expected a header "
                                      "with the dataset's columns", row=1)
