"""The reports in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright), network off.

One browser and one load of each page for the module (evaluating plotly.js dominates the time).
Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.report.conftest import FORMULA, XSS, read_groups, write_fixture_reports

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
READY = "() => [...document.querySelectorAll('.chart')].every(c => c.querySelector('.main-svg'))"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make chromium)")]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield b
        b.close()


def _open(browser, path: Path):
    """Open a report page offline; returns (page, problems): console errors and warnings, page errors,
    dialogs (an alert() would be one) and any request that tried to leave the machine."""
    ctx = browser.new_context(viewport={"width": 1200, "height": 900}, offline=True)
    problems: list[str] = []

    def block(route):
        problems.append(f"network: {route.request.url}")
        route.abort()

    ctx.route(lambda url: not url.startswith("file:"), block)
    page = ctx.new_page()
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_function(READY, timeout=60_000)
    return ctx, page, problems


@pytest.fixture(scope="module")
def index(browser, built):
    ctx, page, problems = _open(browser, Path(built["out_dir"]) / "index.html")
    yield page, problems
    ctx.close()


@pytest.fixture(scope="module")
def school(browser, built):
    ctx, page, problems = _open(browser, Path(built["out_dir"]) / "schools" / "charite.html")
    yield page, problems
    ctx.close()


def _check_charts(page) -> int:
    """Every chart container holds a rendered Plotly SVG of a sensible size."""
    n = page.locator(".chart").count()
    assert n > 0
    for i in range(n):
        chart = page.locator(".chart").nth(i)
        assert chart.locator(".main-svg").count() >= 1, f"chart {i} did not render"
        box = chart.bounding_box()
        assert box and box["height"] > 100 and box["width"] > 300
    return n


def test_index_renders_offline_without_errors(index):
    page, problems = index
    assert _check_charts(page) >= 4  # heatmap, a distribution per dimension, decisions
    assert page.locator("#synthetic-note").is_visible()
    assert page.locator("table.coverage").count() == 1
    assert page.locator("table.coverage th.year").all_inner_texts() == ["2021/22", "2022/23", "2023/24"]
    assert page.locator("table.coverage tbody tr").count() == 6
    assert page.locator("table.coverage .status.none").count() == 1  # one dataset not received
    assert page.locator("table.coverage .status.part").count() == 1  # one with rows held back
    assert page.locator("table.coverage .status[title*='later file was rejected']").count() == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-index.png"), full_page=True)
    assert problems == []


def test_index_lists_groups_not_ranks_and_hides_non_consenting(index):
    page, _ = index
    labels = page.locator("table.labels tbody tr td:first-child").all_inner_texts()
    assert labels == [XSS, FORMULA, "Charité – Universitätsmedizin Berlin", "Karolinska Institutet", "peer 1", "peer 2"]
    ticks = page.locator(".xtick text").all_text_contents()  # heatmap columns: schools, alphabetical
    assert XSS in ticks and "peer 1" in ticks
    body = page.content()
    assert "Secret Medical University" not in body and "hidden-school" not in body


def test_hostile_name_shows_as_text(index):
    page, problems = index
    cells = page.locator("table.coverage tbody tr td:first-child").all_inner_texts()
    assert XSS in cells  # shown as text …
    assert page.locator("table.coverage script").count() == 0  # … never as an element
    assert not [p for p in problems if p.startswith("dialog")]


def test_school_page_renders_and_matches_benchmark(school, report_home):
    page, problems = school
    _check_charts(page)
    rows = page.locator("table.indicators tbody tr")
    shown = {rows.nth(i).get_attribute("data-indicator"): (rows.nth(i).get_attribute("data-che") or None,
                                                           rows.nth(i).get_attribute("data-ume") or None)
             for i in range(rows.count())}
    expected = {g["indicator_id"]: (g["che_group"], g["ume_group"])
                for g in read_groups(report_home, "charite", "2023/24")}
    assert shown == expected
    assert page.locator('tr[data-indicator="staff_international_share"] td.numerator').inner_text() == "<5"
    assert page.locator('tr[data-indicator="staff_international_share"] td.value').inner_text() == "<5"
    assert page.locator("#decision").is_visible()
    page.screenshot(path=str(ARTIFACTS / "report-school.png"), full_page=True)
    assert problems == []


def test_school_page_names_peers_only_with_consent(school):
    page, _ = school
    texts = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .flatMap(d => d.data.flatMap(t => Array.isArray(t.text) ? t.text : []))""")
    assert "peer" in texts and "Karolinska Institutet" in texts
    assert not any("Secret" in t or "Quiet" in t for t in texts)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in texts  # escaped for Plotly's pseudo-HTML, drawn literally
    hover_names = page.locator(".legendtext").all_text_contents()
    assert "Charité – Universitätsmedizin Berlin" in hover_names


def test_pdf_has_a_page_per_section(built, report_home):
    result = write_fixture_reports(report_home, school="karolinska", pdf=True)
    data = Path(result["pdfs"][0]).read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))
    sections = Path(result["schools"][0]).read_text(encoding="utf-8").count('<section class="sheet"')
    assert sections == 4 and pages >= sections
