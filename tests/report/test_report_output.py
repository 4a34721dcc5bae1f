"""The written reports (fixture warehouse in conftest): files, disclosure control, escaping, workbook, CLI."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from tests.report.conftest import FORMULA, HIDDEN_NAME, XSS, env_for, make_home, write_fixture_reports


def page(built: dict, school: str) -> str:
    return (Path(built["out_dir"]) / "schools" / f"{school}.html").read_text(encoding="utf-8")


def row_of(html: str, indicator: str) -> str:
    m = re.search(rf'<tr data-indicator="{indicator}".*?</tr>', html, re.DOTALL)
    assert m, indicator
    return m.group(0)


def test_files_and_offline_assets(built):
    out = Path(built["out_dir"])
    assert (out / "index.html").is_file() and (out / "ims_indicators.xlsx").is_file()
    assert len(built["schools"]) == 6
    js = out / "assets" / "plotly.min.js"
    assert js.stat().st_size > 3_000_000
    for p in [out / "index.html", *map(Path, built["schools"])]:
        text = p.read_text(encoding="utf-8")
        assert "cdn.plot.ly" not in text and not re.search(r'<(script|link)[^>]+(src|href)="https?:', text)
        assert p.stat().st_size < 400_000  # plotly.js is shared, not inlined
    assert '<script src="../assets/plotly.min.js">' in page(built, "charite")
    assert '<script src="assets/plotly.min.js">' in (out / "index.html").read_text(encoding="utf-8")
    assert built["seconds"] < 20


def test_small_count_suppressed_and_value_withheld(built):
    row = row_of(page(built, "charite"), "staff_international_share")  # numerator 3 of 117
    cells = re.findall(r'<td class="n[^"]*"[^>]*>(.*?)</td>', row, re.DOTALL)
    assert cells[0].startswith("&lt;5") and cells[1] == "&lt;5" and cells[2] == "117"
    assert 'class="withheld"' in row
    assert "2.6 %" not in row  # 3/117
    ws = load_workbook(Path(built["workbook"]))["indicator_values"]
    hdr = [c.value for c in ws[1]]
    rows = [dict(zip(hdr, (c.value for c in r))) for r in ws.iter_rows(min_row=2)]
    hit = [r for r in rows if r["school"].startswith("Charité") and r["academic_year"] == "2023/24"
           and r["indicator_id"] == "staff_international_share"]
    assert hit and hit[0]["numerator"] == "<5" and hit[0]["value"] == "<5"
    # no other school's page shows the withheld value in its peer dots
    assert "0.02564" not in page(built, "karolinska")


def test_submitted_text_is_escaped(built):
    html = page(built, "evil-school")
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    index = (Path(built["out_dir"]) / "index.html").read_text(encoding="utf-8")
    assert XSS not in index
    for p in built["schools"]:  # in other pages' chart JSON, the name is escaped twice over (\u003c, &lt;)
        assert "<script>alert" not in Path(p).read_text(encoding="utf-8")


def test_non_consenting_school_is_not_named_to_others(built):
    out = Path(built["out_dir"])
    own = page(built, "hidden-school")
    assert HIDDEN_NAME in own  # its own page names it
    for p in [out / "index.html", *(Path(x) for x in built["schools"] if "hidden-school" not in x)]:
        text = p.read_text(encoding="utf-8")
        for secret in (HIDDEN_NAME, "hidden-school", "Hiddenburg", "Quiet Faculty", "quiet-school"):
            if p.stem == "quiet-school" and secret.startswith(("Quiet", "quiet")):
                continue
            assert secret not in text, (p.name, secret)
    assert '"peer"' in page(built, "charite") or "peer" in page(built, "charite")
    wb = load_workbook(Path(built["workbook"]))
    for ws in wb.worksheets:
        for r in ws.iter_rows(values_only=True):
            for v in r:
                assert not (isinstance(v, str) and (HIDDEN_NAME in v or "hidden-school" in v or "Hiddenburg" in v))


def test_workbook_sheets_typed_and_formula_neutralised(built):
    wb = load_workbook(Path(built["workbook"]))
    assert {"about", "schools", "coverage", "indicators", "indicator_values", "benchmark_groups", "label_results",
            "label_robustness"} <= set(wb.sheetnames)
    ws = wb["schools"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    cells = [c for r in ws.iter_rows() for c in r if c.value == FORMULA]
    assert cells and all(c.data_type == "s" for c in cells)
    for ws in wb.worksheets:  # nothing anywhere is stored as a formula
        assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)
    vals = wb["indicator_values"]
    hdr = [c.value for c in vals[1]]
    num = next(r for r in vals.iter_rows(min_row=2) if r[hdr.index("unit")].value == "share"
               and isinstance(r[hdr.index("value")].value, float))
    assert num[hdr.index("value")].data_type == "n" and num[hdr.index("value")].number_format == "0.0%"
    lab = [c.value for c in wb["label_results"][1]]
    assert "rank" not in lab and "nominal_rank" not in [c.value for c in wb["label_robustness"][1]]


def test_table_rows_match_benchmark_groups(built, report_home):
    from tests.report.conftest import read_groups

    html = page(built, "karolinska")
    shown = {m.group(1): (m.group(2) or None, m.group(3) or None)
             for m in re.finditer(r'<tr data-indicator="([^"]+)" data-che="([^"]*)" data-ume="([^"]*)"', html)}
    expected = {g["indicator_id"]: (g["che_group"], g["ume_group"]) for g in read_groups(report_home, "karolinska",
                                                                                           "2023/24")}
    assert shown == expected


def test_label_breakdown_and_demo_note(built):
    html = page(built, "formula-school")
    assert 'id="decision">not awarded' in html
    assert 'class="gate fail"' in html and "gate accreditation failed" in html
    assert "id=\"synthetic-note\"" in html
    assert re.search(r"overall score lies between [\d.]+ and [\d.]+", html)  # a score interval, never a rank one
    assert "holds in" in html and "plausible variations" in html and "position among" not in html
    assert "What moves the decision most for this school: the weights" in html


def test_scoring_not_run(tmp_path):
    home = make_home(tmp_path, labels=False)
    result = write_fixture_reports(home, school="charite")
    html = Path(result["schools"][0]).read_text(encoding="utf-8")
    assert 'id="label-not-run"' in html and "has not run" in html
    assert result["index"] is None


def test_cli_report_prints_index_path(report_home, tmp_path):
    from ims_indicators.cli import app

    env = env_for(report_home) | {"IMS_REPORTS_DIR": str(tmp_path / "cli-reports")}
    res = CliRunner().invoke(app, ["report"], env=env)
    assert res.exit_code == 0, res.stderr
    assert res.stdout.strip() == str(tmp_path / "cli-reports" / "index.html")
    bad = CliRunner().invoke(app, ["report", "--school", "nope"], env=env)
    assert bad.exit_code == 1 and "unknown school" in bad.stderr


def test_derived_values_that_would_reveal_a_small_count_go_too(report_home):
    import duckdb

    from ims_indicators.report import load as report_data

    with pytest.MonkeyPatch.context() as mp:
        for k, v in env_for(report_home).items():
            mp.setenv(k, v)
        con = duckdb.connect(str(report_home / "data" / "warehouse.duckdb"), read_only=True)
        try:
            d = report_data.load(con)
        finally:
            con.close()
    g = d.groups.set_index(["school_id", "academic_year", "indicator_id"])
    now = g.loc[("charite", "2023/24", "staff_international_share")]
    assert now["withheld"] and all(math.isnan(now[c]) for c in ("value", "percentile", "change_1y"))
    assert now["che_group"] == "bottom"  # a group is a coarse band: kept
    after = g.loc[("karolinska", "2023/24", "staff_international_share")]
    assert not after["withheld"] and not math.isnan(after["value"]) and math.isnan(after["change_1y"])
    v = d.values.set_index(["school_id", "academic_year", "indicator_id"])
    assert math.isnan(v.loc[("charite", "2023/24", "staff_international_share"), "value"])
    assert d.peer_set == "network" and set(d.groups["peer_set"]) == {"network"}


def test_nothing_to_report(tmp_path):
    import duckdb

    from ims_indicators.report import write_reports
    from ims_indicators.report.load import ReportError

    with pytest.raises(ReportError, match="ims indicators"):
        write_reports(duckdb.connect(), out_dir=tmp_path)
