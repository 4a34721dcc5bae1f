"""A keyholder in real headless Chromium: log in with a token, upload a file with a planted error, see the
held-back row and its reason, explain a credibility check and sign off. Screenshots in tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.collection.conftest import CURRENT, SCHOOL_A, Portal, copy_home, demo_file, make_token, planted_staffing
from tests.collection.test_portal_api import upload_done

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make chromium)")]


def test_keyholder_upload_explain_signoff_in_browser(base_home: Path, demo_raw: Path, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    home = copy_home(base_home, tmp_path / "home")
    token = make_token(home, "keyholder", SCHOOL_A)
    server = Portal(home, IMS_UPLOAD_WAIT="60")
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        for ds in ("enrolment", "mobility", "accreditation", "student_survey"):  # the rest of the year, by API
            upload_done(server.url, token, demo_file(demo_raw, ds, SCHOOL_A, CURRENT), ds)
        planted = tmp_path / "staffing 2023.csv"
        planted.write_text(planted_staffing(SCHOOL_A, CURRENT), encoding="utf-8")
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
            ctx = browser.new_context(viewport={"width": 1200, "height": 1000})
            problems: list[str] = []
            ctx.route(lambda url: not url.startswith(server.url),
                      lambda route: (problems.append(route.request.url), route.abort()))
            page = ctx.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(server.url + "/")
            assert page.url.endswith("/login")
            page.fill("#token", "not-a-token")
            page.click("#login")
            assert "not valid" in page.inner_text("#notice")
            page.fill("#token", token)
            page.click("#login")
            cookie = next(c for c in ctx.cookies() if c["name"] == "ims_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            page.goto(server.url + f"/?academic_year={CURRENT}")
            page.select_option("#dataset", "staffing")
            page.select_option("#academic_year", CURRENT)
            page.set_input_files("#file", str(planted))
            page.click("#upload")
            page.wait_for_selector("#outcome", timeout=120_000)
            assert page.inner_text("#outcome") == "accepted_with_quarantine"
            page.screenshot(path=str(ARTIFACTS / "portal_upload_outcome.png"), full_page=True)
            page.click("#details")
            table = page.inner_text("#quarantine")
            assert "fte" in table and "3\t" in table
            page.screenshot(path=str(ARTIFACTS / "portal_quarantine.png"), full_page=True)
            page.goto(server.url + f"/?academic_year={CURRENT}")
            page.click("#signoff")
            assert "academic_headcount_change" in page.inner_text("#notice")  # refused while the check is open
            while page.locator("textarea[id^=explain-]").count():
                box = page.locator("textarea[id^=explain-]").first
                rule = box.get_attribute("id").removeprefix("explain-")
                box.fill("Core medical faculty staff only from this year on.")
                page.screenshot(path=str(ARTIFACTS / f"portal_explain_{rule}.png"), full_page=True)
                page.click(f"#submit-{rule}")
                assert "recorded" in page.inner_text("#notice")
            page.click("#signoff")
            assert "signed off and locked" in page.inner_text("#notice")
            assert set(page.locator("#cycle td:nth-child(2)").all_inner_texts()) == {"signed off"}
            page.screenshot(path=str(ARTIFACTS / "portal_signed_off.png"), full_page=True)
            browser.close()
        assert problems == []
    finally:
        server.stop()
