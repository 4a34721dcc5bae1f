"""The stewards' report: offline HTML, values from files escaped, links to the received files."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from ims_indicators.ingest import ingest_paths
from ims_indicators.validate.report import page_name, write_steward_report
from ims_indicators.warehouse import open_warehouse

EVIL = "<script>alert('x')</script>"


def test_report_escapes_values_from_files(home: Path):
    csv = home / "incoming" / "schools.csv"
    csv.parent.mkdir()
    csv.write_text("school_id,name,country_code,network_role\n"
                   "alpha,Alpha Medical School,DE,partner\n"
                   "beta,Beta Medical School,FR,member\n"
                   f"evil,\"{EVIL}\",IT,\"<script>boom()</script>\"\n", encoding="utf-8")
    with open_warehouse() as con:
        report = ingest_paths(con, [csv], dataset="schools")
        assert [r.status for r in report.results] == ["accepted_with_quarantine"]
        sid = report.results[0].submission_id
        held = con.execute("SELECT source_row, rule, reason FROM meta.quarantine").fetchall()
        assert held == [(4, "expect_column_values_to_be_in_set",
                         "network_role '<script>boom()<_script>' is not one of partner, advisory, member")]
        index = write_steward_report(con, home / "reports" / "validation")
    page = (index.parent / "submissions" / page_name(sid)).read_text(encoding="utf-8")
    for html in (page, index.read_text(encoding="utf-8")):
        assert "<script" not in html.lower()  # nothing from a file runs, and our pages need no script
        assert "http://" not in html and "https://" not in html  # offline: no CDN
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page  # the row as received, escaped
    assert "network_role &#39;&lt;script&gt;boom()&lt;_script&gt;&#39; is not one of" in page
    # the link to the received file resolves
    href = re.search(r'file <a href="([^"]+)"', page).group(1)
    assert (index.parent / "submissions" / href).resolve() == (home / "data" / "raw" / "schools" / "schools.csv")


def test_report_on_the_demo(demo_home: Path, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("IMS_HOME", str(demo_home))
    con = duckdb.connect(str(demo_home / "data" / "warehouse.duckdb"), read_only=True)
    try:
        index = write_steward_report(con, tmp_path / "validation")
        subs = con.execute("SELECT submission_id, status, stored_path FROM meta.submissions").fetchall()
    finally:
        con.close()
    pages = {p.name for p in (tmp_path / "validation" / "submissions").glob("*.html")}
    assert pages == {page_name(s) for s, _, _ in subs}
    text = index.read_text(encoding="utf-8")
    assert "accepted_with_quarantine" in text and "rejected" in text
    for sid, status, stored in subs:
        if status == "rejected":
            page = (tmp_path / "validation" / "submissions" / page_name(sid)).read_text(encoding="utf-8")
            href = re.search(r'file <a href="([^"]+)"', page).group(1)
            assert (tmp_path / "validation" / "submissions" / href).resolve() == (demo_home / stored).resolve()
            assert "data/rejected/" in href and (demo_home / stored).exists()
    bad = next(s for s, st, _ in subs if st == "accepted_with_quarantine" and s.startswith("mobility."))
    page = (tmp_path / "validation" / "submissions" / page_name(bad)).read_text(encoding="utf-8")
    assert "Rows held back" in page and "expect_column_values_to_be_in_set" in page
    assert page.count('class="badge pass"') > 10


def test_report_written_under_reports_validation(home: Path):
    csv = home / "incoming" / "schools.csv"
    csv.parent.mkdir()
    csv.write_text("school_id,name,country_code,network_role\nalpha,Alpha Medical School,DE,partner\n",
                   encoding="utf-8")
    with open_warehouse() as con:
        sid = ingest_paths(con, [csv], dataset="schools").results[0].submission_id
        index = write_steward_report(con)  # no folder given: the default one
    folder = home / "reports" / "validation"
    assert index == folder / "index.html" and index.is_file()
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.html")) == [
        "index.html", f"submissions/{page_name(sid)}"]
    assert f'href="submissions/{page_name(sid)}"' in index.read_text(encoding="utf-8")  # the index links the page
    assert sid in (folder / "submissions" / page_name(sid)).read_text(encoding="utf-8")
