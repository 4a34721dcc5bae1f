"""Comparative reports: an offline HTML profile per school, the network overview, the workbook and PDFs.

``write_reports(con, out_dir=None, school=None, pdf=False)`` is the entry point (imported lazily, so
``import ims_indicators.report`` stays light for the CLI).
"""

from __future__ import annotations


def write_reports(*args, **kwargs) -> dict:
    from ims_indicators.report.build import write_reports as _write

    return _write(*args, **kwargs)


__all__ = ["write_reports"]
