"""Validation between staging and curated (Great Expectations suites + cross-dataset checks).

The contract with curation: :func:`check_staged` returns, per submission, the rows that must be held back
and, where a file-level rule fails, the reason to reject the submission whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from ims_indicators.validate.verdict import RowFailure, Verdict

if TYPE_CHECKING:
    from ims_indicators.validate.gxrun import DocsBatch

__all__ = ["RowFailure", "Verdict", "check_staged"]


def check_staged(con: duckdb.DuckDBPyConnection, dataset: str, submission_ids: list[str],
                 docs: bool | DocsBatch = True) -> list[Verdict]:
    """Validate staged submissions of one dataset: the GX suite ``expectations/<dataset>.json`` over all of
    them at once (in chunks), then the cross-dataset checks; results go to ``meta.validation_runs``.

    Great Expectations is imported only when this runs (never at ``ims --help``). ``docs``: a batch from
    :func:`ims_indicators.validate.gxrun.data_docs` renders the results into Data Docs once for several datasets.
    """
    from ims_indicators.validate.run import check_staged as _check_staged

    return _check_staged(con, dataset, submission_ids, docs=docs)
