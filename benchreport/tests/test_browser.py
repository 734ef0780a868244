"""report.html in a real browser: Debian's headless Chromium (/usr/bin/chromium), driven by
Playwright for Python (never `playwright install`: no browser download). Renders a report
with every part (rates, ceiling, timing, the study's profile, a trend), opens it, keeps a
screenshot next to it, and asserts that every chart loaded, the capacity and spread tables
rendered with rows, and the page logged no error. Chromium missing is a failure, not a skip."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, sync_playwright

from benchreport.__main__ import main

CHROMIUM = Path("/usr/bin/chromium")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The page's charts: rates per endpoint (db, ping), spread, trend, then the closed-loop three.
EXPECTED_CHARTS = 7

TABLE_ROWS_UNDER = """
(title) => {
  const heading = [...document.querySelectorAll("h3")].find(h => h.textContent.startsWith(title));
  let node = heading ? heading.nextElementSibling : null;
  while (node && node.tagName !== "TABLE") node = node.nextElementSibling;
  return node ? node.querySelectorAll("tbody tr").length : -1;
}
"""


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    return width, height


def test_report_html_in_headless_chromium(
    results_with_history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    manifest = {"command": "ansible-playbook playbooks/benchmark.yml", "project_commit": "abc"}
    (results_with_history / "sweep.json").write_text(
        json.dumps({**manifest, "app_profile": "study"})
    )
    assert main(["combine", str(results_with_history)]) == 0
    assert main(["render", str(results_with_history)]) == 0
    capsys.readouterr()
    report = results_with_history / "report.html"
    screenshot = results_with_history / "report.png"

    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error: {message.text}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), timeout=20_000)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", on_console)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
            page.goto(report.as_uri(), wait_until="load", timeout=20_000)
            images = page.evaluate(
                "[...document.images].map(i => [i.alt, i.complete, i.naturalWidth])"
            )
            capacity_rows = page.evaluate(TABLE_ROWS_UNDER, "Capacity at SLO")
            spread_rows = page.evaluate(TABLE_ROWS_UNDER, "Spread and ranking, endpoint")
            study_rows = page.evaluate(TABLE_ROWS_UNDER, "The study's table beside ours")
            title = page.title()
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()

    assert title.startswith("Django Server Lab benchmark")
    assert len(images) == EXPECTED_CHARTS, images
    not_loaded = [alt for alt, complete, width in images if not complete or width <= 0]
    assert not not_loaded, f"charts that did not load: {not_loaded}"
    assert {alt for alt, _, _ in images} >= {"charts/rates-ping.png", "charts/trend.png"}
    assert capacity_rows == 4  # uwsgi, gunicorn, granian, uvicorn
    assert spread_rows == 2  # db's two configs (the first spread table)
    assert study_rows == 6  # every server the study measured
    assert problems == []
    data = screenshot.read_bytes()
    width, height = png_size(data)
    assert width >= 1280
    assert height > 3000  # the whole page, not one screen
    assert len(data) > 50_000
