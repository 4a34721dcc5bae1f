"""Errors that reach the user as a message, never as a traceback."""

from __future__ import annotations


class InputRefused(Exception):
    """A file or argument refused whole. The message names file, row, column and what was expected."""

    def __init__(self, file: str, expected: str, *, row: int | None = None, column: str | None = None):
        self.file, self.row, self.column, self.expected = file, row, column, expected
        where = [file]
        if row is not None:
            where.append(f"row {row}")
        if column:
            where.append(f"column {column}")
        super().__init__(f"{', '.join(where)}: {expected}")


class WarehouseBusy(Exception):
    """Another process holds the warehouse (transient: retry later)."""
