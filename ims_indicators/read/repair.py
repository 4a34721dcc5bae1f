"""Repair double-encoded UTF-8 (``WallererstraÃŸe``, a header cell ``ï»¿School ID``) with ftfy.

Only ftfy's encoding fix is applied (no other normalisation), and only where it is confident: text that merely
contains an ``Ã`` is left as it came. Each distinct value is fixed once, however many rows hold it; the number
of cells changed is recorded on the submission (``meta.submissions.repairs``).
"""

from __future__ import annotations

import re

import duckdb

from ims_indicators.warehouse import quote_ident

BOM = "\ufeff"
# a UTF-8 lead byte read as Windows-1252/Latin-1 followed by a continuation byte read the same way: the only
# cells worth handing to ftfy (the SQL filter keeps the Python work to the few suspicious distinct values)
SUSPECT = "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014" \
          "\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
_SUSPECT = re.compile(SUSPECT)


def fix_encoding(text: str) -> str:
    """``text`` with double-encoded UTF-8 (``WallererstraÃŸe``, ``ï»¿`` for a byte-order mark) undone where ftfy is
    sure: ftfy's encoding fix only, and only when fixing once more changes nothing. Text without a :data:`SUSPECT`
    pair (all plain ASCII, nearly all else) is returned as it is, without importing ftfy (0.14 s)."""
    if not text or text.isascii() or not _SUSPECT.search(text):
        return text
    import ftfy

    fixed = ftfy.fix_encoding(text)
    return fixed if fixed != text and ftfy.fix_encoding(fixed) == fixed else text


def fix_text(text: str) -> str:
    """:func:`fix_encoding`, and a stray byte-order mark removed."""
    return fix_encoding(text).replace(BOM, "")


def repair_header(rows: list[list[str]]) -> list[list[str]]:
    """Header candidates with their cells repaired (so ``ï»¿School ID`` maps to ``school_id``)."""
    return [[fix_text(cell).strip() for cell in row] for row in rows]


def suspect_values(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], pattern: str) -> list[list[str]]:
    """Per column, the distinct cells matching ``pattern`` (sorted), in one query over ``table``: the pattern is
    tried on the distinct non-ASCII cells only (bytes <> characters); mojibake always has non-ASCII characters."""
    found: list[list[str]] = [[] for _ in columns]
    if not columns:
        return found
    for i, value in con.execute(" UNION ALL ".join(  # one row per value: a list per column costs more
            f"SELECT {i} AS c, _v FROM (SELECT DISTINCT {q} AS _v FROM {table} WHERE strlen({q}) <> length({q})) "
            f"WHERE regexp_matches(_v, $p)" for i, q in enumerate(map(quote_ident, columns)))
            + " ORDER BY c, _v", {"p": pattern}).fetchall():
        found[i].append(value)
    return found


def repair_cells(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> int:
    """Fix double-encoded text in ``table``'s ``columns`` in place; returns the number of cells changed."""
    changed = 0
    for col, values in zip(columns, suspect_values(con, table, columns, SUSPECT)):
        q = quote_ident(col)
        for old, new in [(v, fixed) for v in values if (fixed := fix_text(v)) != v]:
            changed += con.execute(f"UPDATE {table} SET {q} = ? WHERE {q} = ?", [new, old]).fetchall()[0][0]
    return changed


def describe(cells: int) -> str | None:
    """The note stored on the submission, or None when nothing was repaired."""
    return f"mojibake repaired in {cells} cell{'s' if cells != 1 else ''}" if cells else None
