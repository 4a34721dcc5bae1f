"""Injection: a school name, a partner institution and a programme name holding `<script>alert(1)</script>` or
`=HYPERLINK(...)`, received in ordinary files and carried through the whole cycle (`ims run`): every HTML page
under reports/ escapes the markup, and no workbook cell is a formula."""

from __future__ import annotations

import html

import pytest
from openpyxl import load_workbook

from .conftest import FORMULA, XSS, Pipeline, connect

pytestmark = pytest.mark.slow
RISKY = ("=", "+", "-", "@", "\t", "\r")


def test_the_hostile_texts_reached_the_warehouse(pipeline: Pipeline) -> None:
    with connect(pipeline.home) as con:
        names = {r[0] for r in con.execute("SELECT name FROM curated.schools").fetchall()}
        institutions = {r[0] for r in con.execute("SELECT partner_institution FROM curated.mobility").fetchall()}
        programmes = {r[0] for r in con.execute("SELECT programme_name FROM curated.accreditation").fetchall()}
    assert {XSS, FORMULA} <= names and {XSS, FORMULA} <= institutions and {XSS, FORMULA} <= programmes


def test_every_page_escapes_html_from_the_data(pipeline: Pipeline) -> None:
    pages = list((pipeline.home / "reports").rglob("*.html"))
    assert len(pages) > 10
    escaped = html.escape(XSS, quote=False)
    shown = 0
    for page in pages:
        text = page.read_text(encoding="utf-8", errors="replace")
        assert XSS not in text, page  # never as markup, nor inside a script block (Plotly writes < as \u003c)
        assert "alert(1)</script>" not in text, page
        shown += escaped in text or "\\u003cscript\\u003e" in text
    assert shown >= 2  # the name was rendered (escaped) on the overview and its school's page at least


def test_no_workbook_cell_is_a_formula(pipeline: Pipeline) -> None:
    books = list((pipeline.home / "reports").rglob("*.xlsx"))
    assert books
    texts = 0
    for book in books:
        for ws in load_workbook(book).worksheets:  # not data_only: a formula would come back as data_type 'f'
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (book.name, ws.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str) and cell.value.startswith(RISKY):
                        assert cell.data_type in ("s", "inlineStr") and cell.quotePrefix, (ws.title, cell.coordinate)
                    texts += cell.value == FORMULA
    assert texts >= 1  # the school named like a formula is in the workbook, as text
    assert not list((pipeline.home / "reports").rglob("*.csv"))  # no CSV exports (they would need the same)
