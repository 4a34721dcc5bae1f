"""Great Expectations Data Docs: every GX validation of an ingest gets its page, rendered once at the end of the
ingest for all its datasets (GX rebuilds the index and compiles its templates on every build)."""

from __future__ import annotations

import re
from pathlib import Path

from ims_indicators.ingest import ingest_paths
from ims_indicators.validate.gxrun import data_docs_dir
from ims_indicators.warehouse import open_warehouse

REGISTRY = ("school_id,name,country_code,network_role\n"
            "charite-berlin,Charité Berlin,DE,partner\n")
STAFFING = ("school_id,academic_year,staff_category,headcount,fte,foreign_nationality\n"
            "charite-berlin,{year},professor,120,110.5,15\n"
            "charite-berlin,{year},lecturer,300,250.0,30\n")


def _pages(kind: str) -> dict[str, list[str]]:
    """Data Docs pages of ``kind`` (validations / expectations) per suite, as paths relative to the site."""
    root = data_docs_dir()
    found: dict[str, list[str]] = {}
    for page in sorted((root / kind).rglob("*.html")):
        rel = page.relative_to(root).as_posix()
        found.setdefault(rel.split("/")[1].removesuffix(".html"), []).append(rel)
    return found


def test_each_validation_of_an_ingest_has_its_page_and_the_index_lists_them(home: Path) -> None:
    incoming = home / "incoming"
    (incoming / "staffing" / "charite-berlin" / "2022-23").mkdir(parents=True)
    (incoming / "schools.csv").write_text(REGISTRY, encoding="utf-8")
    (incoming / "staffing" / "charite-berlin" / "2022-23" / "staffing.csv").write_text(
        STAFFING.format(year="2022/23"), encoding="utf-8")
    with open_warehouse() as con:
        statuses = [r.status for r in ingest_paths(con, [incoming]).results]
    assert statuses == ["accepted", "accepted"]
    validations = _pages("validations")
    assert {k: len(v) for k, v in validations.items()} == {"schools": 1, "staffing": 1}
    assert set(_pages("expectations")) >= {"schools", "staffing"}
    index = (data_docs_dir() / "index.html").read_text(encoding="utf-8")
    assert all(page in index for pages in validations.values() for page in pages)

    # a later ingest adds its page; the earlier ones stay and stay listed
    later = home / "later" / "staffing" / "charite-berlin" / "2023-24"
    later.mkdir(parents=True)
    (later / "staffing.csv").write_text(STAFFING.format(year="2023/24"), encoding="utf-8")
    with open_warehouse() as con:
        assert [r.status for r in ingest_paths(con, [home / "later"]).results] == ["accepted"]
    again = _pages("validations")
    assert {k: len(v) for k, v in again.items()} == {"schools": 1, "staffing": 2}
    index = (data_docs_dir() / "index.html").read_text(encoding="utf-8")
    linked = set(re.findall(r'validations/[^"\']+\.html', index))
    assert linked == {page for pages in again.values() for page in pages}
