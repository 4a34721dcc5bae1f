"""`ims survey-template` writes files that `ims ingest` accepts once filled; the demo survey files ingest.

Both go through the real `ims` app and the real ingest (reader, pseudonyms, Great Expectations suite
``expectations/student_survey.json``), one ingest run each to keep Great Expectations' start-up cost down.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from ims_indicators.cli import app
from ims_indicators.contracts import SURVEY_ITEMS
from ims_indicators.survey.template import FORMS, current_year, write_template

RUNNER = CliRunner()


def test_template_files_carry_the_contract_items_and_scale(tmp_path: Path):
    res = RUNNER.invoke(app, ["survey-template", "--school", "charite", "--school", "karolinska", "--year", "2024-25",
                              "--out", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    paths = [Path(p) for p in json.loads(res.stdout)]
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "student_survey/charite/2024-25/student_survey_charite_2024-25.xlsx",
        "student_survey/karolinska/2024-25/student_survey_karolinska_2024-25.xlsx"]
    wb = openpyxl.load_workbook(paths[0])
    assert wb.sheetnames == ["survey", "guide"]
    assert [c.value for c in wb["survey"][1]] == list(FORMS["respondents"]) and wb["survey"].max_row == 1
    guide = [[c.value for c in row] for row in wb["guide"].iter_rows()]
    assert [r[:2] for r in guide[1:1 + len(SURVEY_ITEMS)]] == [[k, v] for k, v in SURVEY_ITEMS.items()]
    assert [6, "very poor"] in [r[:2] for r in guide] and [1, "very good"] in [r[:2] for r in guide]
    text = " ".join(str(r[0]) for r in guide if r[0])
    assert "lower is better" in text and "Form 'aggregated'" in text and "2024/25" in text

    csv_path = write_template(tmp_path, "charite", "2024/25", "csv", "aggregated")
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    assert lines[-1] == ",".join(FORMS["aggregated"]) and len(lines) <= 12  # the reader looks for the header there
    assert all(ln.startswith("# ") and "," not in ln and ";" not in ln for ln in lines[:-1])
    assert any("teaching (Teaching (courses · lectures · seminars))" in ln for ln in lines)


def test_template_without_school_and_bad_options(tmp_path: Path, home: Path):
    res = RUNNER.invoke(app, ["survey-template", "--out", str(tmp_path), "--format", "csv"])
    assert res.exit_code == 0, res.output  # no warehouse: one generic template
    assert Path(res.stdout.strip()).name == f"student_survey_any-school_{current_year().replace('/', '-')}.csv"
    for args, message in ((["--format", "ods"], "--format 'ods'"), (["--year", "2024"], "--year '2024'"),
                          (["--form", "both"], "--form 'both'"), (["--school", "../x"], "--school '../x'")):
        res = RUNNER.invoke(app, ["survey-template", "--out", str(tmp_path), *args])
        assert res.exit_code == 1 and message in res.stderr and "Traceback" not in res.output


def test_filled_templates_are_accepted_by_ims_ingest(home: Path):
    raw = home / "data" / "raw"
    (raw / "schools.csv").write_text(  # validation checks that each school is in the registry
        "school_id,name,country_code,network_role\ncharite,Charité,DE,partner\nkarolinska,Karolinska,SE,partner\n")
    assert RUNNER.invoke(app, ["ingest", str(raw / "schools.csv")]).exit_code == 0
    xlsx = write_template(raw, "charite", "2023/24", "xlsx", "respondents")
    wb = openpyxl.load_workbook(xlsx)
    ws = wb["survey"]
    for i in range(16):  # school_id and academic_year left empty: the folder names them
        ws.append([None, None, "teaching", f"MAT-{1000 + i}", 1 + i % 3, "Good seminars" if i % 5 == 0 else None,
                   2 + i % 4, 120])
        ws.append([None, None, "Exam organisation", f"MAT-{1000 + i}", 2, None, 2 + i % 4, 120])  # a label, not the id
    ws.append([None, None, "teaching", "MAT-9999", "sehr gut", None, 3, 120])  # not a number: held back at reading
    wb.save(xlsx)
    csv_path = write_template(raw, "karolinska", "2023/24", "csv", "aggregated")
    with open(csv_path, "a", encoding="utf-8") as fh:
        fh.write("karolinska,2023/24,teaching,40,2.35,0.91,300\nkarolinska,2023/24,clinical_training,12,2.10,0.80,300\n")

    res = RUNNER.invoke(app, ["ingest", str(raw / "student_survey"), "--json"])
    assert res.exit_code == 0, res.output
    results = {r["school_id"]: r for r in json.loads(res.stdout)}
    assert {s: r["status"] for s, r in results.items()} == {"charite": "accepted_with_quarantine",
                                                           "karolinska": "accepted"}
    assert results["charite"]["rows_in"] == 33 and results["karolinska"]["rows_in"] == 2
    assert results["charite"]["rows_quarantined"] == 1

    from ims_indicators.survey.che import compute_survey
    from ims_indicators.warehouse import open_warehouse

    with open_warehouse() as con:
        refs = [r[0] for r in con.execute("SELECT DISTINCT respondent_ref FROM curated.student_survey "
                                          "WHERE respondent_ref IS NOT NULL").fetchall()]
        assert len(refs) == 16 and not any(r.startswith("MAT-") for r in refs)  # pseudonymised at ingest
        (held,) = con.execute("SELECT row_json, reason FROM meta.quarantine").fetchall()
        assert "score 'sehr gut' is not a whole number" in held[1]
        assert "MAT-" not in held[0] and json.loads(held[0])["respondent_ref"].startswith("p_")  # not even there
        assert compute_survey(con) == 4
        got = {(s, i): n for s, i, n in con.execute("SELECT school_id, item, n FROM marts.survey_items").fetchall()}
    assert got == {("charite", "teaching"): 16, ("charite", "exam_organisation"): 16,
                   ("karolinska", "teaching"): 40, ("karolinska", "clinical_training"): 12}


@pytest.fixture(scope="module")
def demo_survey(tmp_path_factory):
    """The demo network's survey files written and ingested into a fresh IMS_HOME."""
    from ims_indicators.benchmark import compute_benchmarks
    from ims_indicators.demo import network as net
    from ims_indicators.demo.generate import schools_csv
    from ims_indicators.indicators import compute_indicators
    from ims_indicators.ingest import ingest_paths
    from ims_indicators.report import write_reports
    from ims_indicators.survey.che import apply_survey_groups, compute_survey
    from ims_indicators.survey.demo import write_demo_survey
    from ims_indicators.warehouse import open_warehouse

    root = tmp_path_factory.mktemp("survey_home")
    repo = Path(__file__).resolve().parents[2]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IMS_HOME", str(root))
        for name, env in (("expectations", "IMS_EXPECTATIONS_DIR"), ("catalogue/indicators.yaml", "IMS_CATALOGUE"),
                          ("catalogue/peer_sets.yaml", "IMS_PEER_SETS"), ("models", "IMS_MODELS_DIR")):
            mp.setenv(env, str(repo / name))
        raw = root / "data" / "raw"
        files = write_demo_survey(raw, net.SCHOOLS, net.YEARS, random.Random("2024:survey"))
        (raw / "schools.csv").write_bytes(schools_csv())
        with open_warehouse() as con:
            ingest_paths(con, [raw / "schools.csv"])
            report = ingest_paths(con, [raw / "student_survey"])
            compute_survey(con)
            items = con.execute("SELECT * FROM marts.survey_items").df()
            findings = con.execute("SELECT severity, count(*) FROM meta.validation_runs WHERE NOT success "
                                   "AND dataset = 'student_survey' GROUP BY ALL").fetchall()
            compute_indicators(con)
            compute_benchmarks(con)
            apply_survey_groups(con)
            written = write_reports(con, root / "reports")
    return root, files, report, items, dict(findings), written


def test_demo_survey_is_deterministic_and_varied(tmp_path: Path, demo_survey):
    from ims_indicators.demo import network as net
    from ims_indicators.survey.demo import write_demo_survey

    root, files, *_ = demo_survey
    again = write_demo_survey(tmp_path / "a", net.SCHOOLS, net.YEARS, random.Random("2024:survey"))
    assert again == files
    for f in files:
        assert (tmp_path / "a" / f["path"]).read_bytes() == (root / "data" / "raw" / f["path"]).read_bytes()
    other = write_demo_survey(tmp_path / "b", net.SCHOOLS, net.YEARS, random.Random("7:survey"))
    assert {f["sha256"] for f in other}.isdisjoint({f["sha256"] for f in files})
    assert {f["form"] for f in files} == {"respondents", "aggregated"}
    assert len({f["style"] for f in files}) >= 3 and {f["academic_year"] for f in files} == set(net.YEARS[-2:])
    assert all(f["path"].startswith(f"student_survey/{f['school_id']}/{f['academic_year'].replace('/', '-')}/")
               for f in files)


def test_demo_survey_files_ingest_clean(demo_survey):
    _, files, report, items, findings, _ = demo_survey
    assert report.summary()["statuses"] == {"accepted": len(files)}
    assert report.summary()["rows_quarantined"] == 0 and "critical" not in findings
    assert findings.get("warning", 0) >= 1  # items under 15 responses (aggregated form) are reported
    assert set(items["form"]) == {"respondents", "aggregated"}
    small = items[items["n"] < 15]
    assert small["school_id"].nunique() >= 3 and small["che_group"].isna().all()
    assert set(small.loc[small["form"] == "aggregated", "school_id"]) and set(
        small.loc[small["form"] == "respondents", "school_id"])
    assert {"top", "middle", "bottom"} <= set(items["che_group"].dropna())


def test_reports_show_the_survey_dimension(demo_survey):
    """The overview and a school page carry the survey section and chart; the dimension is named."""
    root, _, _, items, _, written = demo_survey
    index = Path(written["index"]).read_text(encoding="utf-8")
    assert 'id="survey"' in index and 'data-chart="survey-network"' in index and 'href="#survey"' in index
    assert "Teaching and learning experience" in index
    school = items[items["n"] >= 15]["school_id"].iloc[0]
    page = (root / "reports" / "schools" / f"{school}.html").read_text(encoding="utf-8")
    assert 'id="survey"' in page and 'data-chart="survey"' in page and 'data-dimension="teaching_learning"' in page
    assert not re.search(r"p_[0-9a-f]{16}", page)  # no respondent pseudonym reaches a page
    none = min(set(net_ids()) - set(items["school_id"]))  # a school that did not take part
    page = (root / "reports" / "schools" / f"{none}.html").read_text(encoding="utf-8")
    assert 'id="survey"' not in page


def net_ids() -> list[str]:
    from ims_indicators.demo import network as net

    return [s.school_id for s in net.SCHOOLS]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium (make chromium)")
def test_survey_chart_renders_in_a_browser(demo_survey):
    """The school page's survey chart draws offline in headless Chromium: error bars, peer mean, no errors."""
    sync_api = pytest.importorskip("playwright.sync_api")
    root, _, _, items, _, _ = demo_survey
    school = items[(items["academic_year"] == "2023/24") & items["che_group"].notna()]["school_id"].iloc[0]
    problems: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                     args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        ctx = browser.new_context(offline=True)
        page = ctx.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto((root / "reports" / "schools" / f"{school}.html").resolve().as_uri(), wait_until="load")
        chart = page.locator('[data-chart="survey"]')
        chart.locator(".main-svg").first.wait_for(timeout=60_000)
        assert chart.locator("g.errorbar").count() >= 1
        legend = chart.locator(".legendtext").evaluate_all("els => els.map(e => e.textContent)")
        assert "peer mean" in legend and any("group" in t for t in legend)
        browser.close()
    assert not problems
