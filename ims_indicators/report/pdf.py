"""School profiles as PDF, printed by headless Chromium (Debian's ``chromium``; ``make chromium`` installs it).

Playwright drives the browser when it is installed: the page is loaded offline, printed only once every
chart has drawn. Without Playwright, ``chromium --headless --print-to-pdf`` is used (plotly draws during
page load, which the command waits for). ``IMS_CHROMIUM`` names another browser binary.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 718, "height": 1100}  # the printable width of A4 (190 mm): charts are drawn at print size
READY = """() => [...document.querySelectorAll('.chart')].every(c => c.querySelector('.main-svg'))"""


class PdfError(Exception):
    """No browser to print with, or printing failed."""


def chromium() -> str:
    for cand in (os.environ.get("IMS_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium",
                 shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if cand and Path(cand).is_file():
            return cand
    raise PdfError("no Chromium found to print PDFs: install it (make chromium, or apt-get install chromium) "
                   "or set IMS_CHROMIUM")


def print_pdfs(pages: list[Path], out_dir: Path | None = None) -> list[Path]:
    """Print each HTML page to ``<same name>.pdf`` (beside it, or in ``out_dir``); returns the PDFs."""
    if not pages:
        return []
    exe = chromium()
    targets = [(out_dir or p.parent) / (p.stem + ".pdf") for p in pages]
    for t in targets:
        t.parent.mkdir(parents=True, exist_ok=True)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        for page, target in zip(pages, targets):
            _print_cli(exe, page, target)
        return targets
    # Playwright's sync API refuses to run where an asyncio loop is running (a notebook, another Playwright
    # session): a worker thread has no loop of its own.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ims-pdf") as pool:
        try:
            pool.submit(_print_playwright, exe, pages, targets).result()
        except Exception as exc:
            raise PdfError(f"printing with {exe} failed: {str(exc).splitlines()[0] if str(exc) else exc!r}") from exc
    return targets


def _print_playwright(exe: str, pages: list[Path], targets: list[Path], batch: int = 4) -> None:
    """Pages load in batches of ``batch`` tabs (each parses plotly.js in its own renderer, in parallel), then
    each is printed once its charts have drawn."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:  # Playwright gives the browser a fresh profile of its own
        browser = pw.chromium.launch(executable_path=exe, args=FLAGS[1:])
        try:
            context = browser.new_context(viewport=VIEWPORT, offline=True)
            context.route(lambda url: not url.startswith("file:"), lambda route: route.abort())
            jobs = list(zip(pages, targets))
            for start in range(0, len(jobs), batch):
                tabs = []
                for src, target in jobs[start:start + batch]:
                    tab = context.new_page()
                    tab.emulate_media(media="print")
                    tab.goto(src.resolve().as_uri(), wait_until="commit")
                    tabs.append((tab, target))
                for tab, target in tabs:
                    tab.wait_for_load_state("load")
                    tab.wait_for_function(READY, timeout=120_000)
                    tab.pdf(path=str(target), format="A4", print_background=True,
                            margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"})
                    tab.close()
        finally:
            browser.close()


def _print_cli(exe: str, page: Path, target: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="ims-chromium-") as profile:
        cmd = [exe, *FLAGS, f"--user-data-dir={profile}", "--run-all-compositor-stages-before-draw",
               "--virtual-time-budget=10000", "--no-pdf-header-footer", f"--window-size={VIEWPORT['width']},1100",
               f"--print-to-pdf={target}", page.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0 or not target.is_file():
        raise PdfError(f"{page}: chromium could not print it (exit {proc.returncode}): {proc.stderr.strip()[-400:]}")
