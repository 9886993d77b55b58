"""The website in a real headless browser (Debian chromium driven by Playwright).

Needs ``apt-get install chromium`` and the ``playwright`` Python package (test
extra); ``playwright install`` is not used.  Skipped when either is missing,
except under CI=true where that is a failure.  Screenshots go to
$INTERP_AUDIT_ARTIFACTS (default: the test's temporary directory); their paths
are printed.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

from interp_audit.reports.merge import merge
from interp_audit.reports.site import build_site
from test_reports import HOSTILE_NAME, hostile_report, sample_report, smoke_report

CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None or not _has_playwright():
        message = "needs Debian's chromium and the playwright package (apt-get install chromium; pip install -e .[test])"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _has_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture
def site_url(tmp_path):
    """The site of two Pythons plus a hostile package, served on 127.0.0.1."""
    yield from _serve(tmp_path, merge([sample_report(("3.12.1",)), hostile_report()]))


@pytest.fixture
def smoke_site_url(tmp_path):
    """The site of two Pythons with smoke-check results, served on 127.0.0.1."""
    yield from _serve(tmp_path, merge([smoke_report()]))


def _serve(tmp_path, merged):
    root = tmp_path / "site"
    build_site(merged, root)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def page(tmp_path):
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.problems = []
        page.on("console", lambda msg: page.problems.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: page.problems.append(str(exc)))
        page.on("requestfailed", lambda req: page.problems.append(f"request failed: {req.url}"))
        yield page
        browser.close()


def _artifacts(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("INTERP_AUDIT_ARTIFACTS") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _visible_names(page) -> list[str]:
    return page.eval_on_selector_all(
        "table.matrix tbody tr:not([hidden]) td.name a", "links => links.map(a => a.textContent)"
    )


def test_index_search_filter_sort_and_package_page(page, site_url, tmp_path, capsys):
    page.goto(site_url + "index.html")
    everything = _visible_names(page)
    assert len(everything) == 9 and HOSTILE_NAME in everything
    assert page.text_content("#shown-count") == "9 of 9 shown"

    page.fill("#search", "legacy")  # matches legacyext, and Dependent_Pkg through its culprit
    assert sorted(_visible_names(page)) == ["Dependent_Pkg", "legacyext"]
    page.fill("#search", "")
    assert len(_visible_names(page)) == 9

    page.select_option("#tier-filter", "shared-gil")
    assert sorted(_visible_names(page)) == sorted([HOSTILE_NAME, "sharedext"])
    page.select_option("#tier-filter", "main-only")
    assert _visible_names(page) == ["crashy"]
    page.select_option("#tier-filter", "")
    page.select_option("#flag-filter", "degraded")
    assert _visible_names(page) == ["degraded-pkg"]
    page.select_option("#flag-filter", "")

    page.click("th[data-col='0']")
    ascending = _visible_names(page)
    page.click("th[data-col='0']")
    assert _visible_names(page) == list(reversed(ascending))
    assert page.get_attribute("th[data-col='0']", "aria-sort") == "descending"

    shot = _artifacts(tmp_path) / "site-index.png"
    page.screenshot(path=str(shot), full_page=True)
    assert page.evaluate("window.__pwned") is None

    page.click("text=legacyext")
    page.wait_for_url("**/packages/legacyext.html")
    assert page.text_content("h1") == "legacyext"
    assert "single-phase" in page.text_content("main")
    assert page.evaluate("document.querySelector('img').naturalWidth") > 100  # the badge loaded
    snippet = page.input_value("#badge-snippet")
    assert snippet == f"[![subinterpreters: legacy only]({site_url}badges/legacyext.svg)]({site_url}packages/legacyext.html)"
    package_shot = _artifacts(tmp_path) / "site-package.png"
    page.screenshot(path=str(package_shot), full_page=True)
    with capsys.disabled():
        print(f"\nscreenshots: {shot} {package_shot}")
    assert page.problems == []


def test_hostile_package_page_runs_no_script(page, site_url):
    page.goto(site_url + "index.html")
    page.click("td.name a >> nth=0")  # the hostile name sorts first
    page.wait_for_load_state()
    assert page.text_content("h1") == HOSTILE_NAME
    assert page.evaluate("window.__pwned") is None
    assert page.problems == []


def test_smoke_column_sorts_and_package_page_lists_every_check(page, smoke_site_url, tmp_path, capsys):
    page.goto(smoke_site_url + "index.html")
    smoke_313 = "th.sortable.check >> nth=0"  # newest Python first
    assert page.text_content(smoke_313).strip() == "smoke"
    page.click(smoke_313)
    page.click(smoke_313)  # descending: the worst smoke result first
    assert _visible_names(page)[0] == "leaky"
    assert page.get_attribute(smoke_313, "aria-sort") == "descending"
    page.click("text=leaky")
    page.wait_for_url("**/packages/leaky.html")
    statuses = page.eval_on_selector_all(
        "table.smoke-checks tr[data-check]", "rows => rows.map(r => r.dataset.check + ' ' + r.dataset.status)")
    assert statuses[7 + 4:7 + 7] == ["static_types passed", "cross_interpreter passed", "cost passed"]  # 3.12.1
    assert statuses[4] == "static_types failed" and statuses[7 + 2] == "parallel crashed"  # 3.13.0 comes first
    assert page.is_visible("table.smoke-checks >> text=leaky._c.Thing is the same object in two interpreters")
    shot = _artifacts(tmp_path) / "site-package-smoke.png"
    page.screenshot(path=str(shot), full_page=True)
    with capsys.disabled():
        print(f"\nscreenshot: {shot}")
    assert page.evaluate("window.__pwned") is None
    assert page.problems == []



def test_index_fits_a_phone_screen(page, site_url):
    """At 390 px only the matrix scrolls (inside its frame); the tier chart shrinks to fit
    (the survey's site was 494 px too wide on a phone because of the chart)."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(site_url + "index.html")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    chart = page.locator("svg.chart").bounding_box()
    assert chart["x"] + chart["width"] <= 390
    assert page.problems == []
