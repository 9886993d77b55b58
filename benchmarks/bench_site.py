"""The website built from real survey results, measured and checked in headless Chromium.

    python benchmarks/bench_site.py RESULTS_DIR [--runs 3]

Builds the site from every result file in RESULTS_DIR (``interp-audit site``), serves it on
127.0.0.1 and, at a desktop and a phone viewport, prints: the size of the index page and of
everything it loads, load times (median of ``--runs``), the time a search and a filter take to
update the table, whether every tier filter shows as many rows as the tier bar says, whether the
bars add up to the number of rows, and whether package pages open without errors.  Exits 1 if a
check fails.  Needs Debian's ``chromium`` and the ``playwright`` package (test extra).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from interp_audit.model import TIERS
from interp_audit.reports.json import load_results, result_files
from interp_audit.reports.merge import merge
from interp_audit.reports.site import build_site

VIEWPORTS = {"desktop": {"width": 1400, "height": 900}, "phone": {"width": 390, "height": 844}}
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PACKAGE_PAGES = 5


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def _serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _bars(page) -> list[dict]:
    """Each tier bar of the index: its label, its total and the count of every segment."""
    return page.evaluate("""() => {
        const bars = {};
        for (const title of document.querySelectorAll('svg.chart rect.seg title')) {
            const m = title.textContent.match(/^Python (\\S+): (\\d+) (.+)$/);
            (bars[m[1]] = bars[m[1]] || {}).label = m[1];
            bars[m[1]][m[3]] = Number(m[2]);
        }
        return Object.values(bars);
    }""")


def _shown(page) -> int:
    return int(re.match(r"(\d+)", page.text_content("#shown-count")).group(1))


def _timed(page, selector: str, value: str) -> float:
    """Milliseconds the page's own handler takes to filter the table after ``selector`` changes
    to ``value`` (measured inside the page, so the browser driver's round trips do not count)."""
    return page.evaluate("""([selector, value]) => {
        const control = document.querySelector(selector);
        const started = performance.now();
        control.value = value;
        control.dispatchEvent(new Event('input', {bubbles: true}));
        document.body.getBoundingClientRect();  // the layout the change causes
        return performance.now() - started;
    }""", [selector, value])


def check_viewport(browser, url: str, name: str, runs: int, names: list[str]) -> tuple[dict, list[str]]:
    """Measure and check the site at one viewport; return the figures and the failed checks."""
    failed: list[str] = []
    page = browser.new_page(viewport=VIEWPORTS[name])
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    loads, transferred = [], []
    for _ in range(runs):
        page.goto(url + "index.html", wait_until="load")
        timing = page.evaluate("() => performance.getEntriesByType('navigation')[0].toJSON()")
        loads.append((timing["domContentLoadedEventEnd"], timing["loadEventEnd"]))
        transferred.append(page.evaluate("() => performance.getEntriesByType('resource').concat("
                                         "performance.getEntriesByType('navigation'))"
                                         ".reduce((n, e) => n + (e.decodedBodySize || 0), 0)"))
    total = _shown(page)
    search = _timed(page, "#search", names[len(names) // 2])
    if _shown(page) >= total:
        failed.append(f"{name}: searching for {names[len(names) // 2]} did not narrow the table")
    _timed(page, "#search", "")
    filtered = _timed(page, "#tier-filter", "main-only")
    _timed(page, "#tier-filter", "")
    bars = _bars(page)
    newest = bars[0] if bars else {}
    filters = {}
    for tier in TIERS:
        if page.locator(f"#tier-filter option[value='{tier}']").count() == 0:
            continue
        page.select_option("#tier-filter", tier)
        filters[tier] = _shown(page)
        if filters[tier] != newest.get(tier, 0):
            failed.append(f"{name}: the {tier} filter shows {filters[tier]} rows, the newest bar says {newest.get(tier, 0)}")
    page.select_option("#tier-filter", "")
    for bar in bars:
        counted = sum(v for k, v in bar.items() if k != "label")
        if counted != total:
            failed.append(f"{name}: the {bar['label']} bar adds up to {counted}, the table has {total} rows")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        failed.append(f"{name}: the page is {overflow} px wider than the viewport")
    for package in random.Random(0).sample(names, min(PACKAGE_PAGES, len(names))):
        page.goto(url + "index.html")
        page.click(f"td.name a >> text='{package}'")
        page.wait_for_load_state()
        if page.text_content("h1") != package:
            failed.append(f"{name}: the page of {package} shows {page.text_content('h1')!r}")
    if problems:
        failed.append(f"{name}: browser errors: {problems[:3]}")
    page.close()
    figures = {
        "rows": total, "dom_ms": statistics.median(d for d, _ in loads), "load_ms": statistics.median(l for _, l in loads),
        "bytes": statistics.median(transferred), "search_ms": search, "filter_ms": filtered, "filters": filters,
    }
    return figures, failed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("needs Debian's chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    files = result_files([args.results])
    merged = merge(load_results(files), [str(p) for p in files])
    root = Path(tempfile.mkdtemp(prefix="bench-site-"))
    started = time.perf_counter()
    build_site(merged, root)
    build_seconds = time.perf_counter() - started
    files = [p for p in root.rglob("*") if p.is_file()]
    names = sorted({d.name for run in merged.report.interpreters for d in run.distributions})
    print(f"site of {len(names)} packages: {len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB, "
          f"index.html {(root / 'index.html').stat().st_size / 1e3:.0f} kB, built in {build_seconds:.1f} s")
    server, url = _serve(root)
    failed: list[str] = []
    print(f"{'viewport':<9} {'rows':>5} {'loaded kB':>10} {'DOM ready ms':>13} {'load ms':>8} {'search ms':>10} "
          f"{'filter ms':>10}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for viewport in VIEWPORTS:
            figures, problems = check_viewport(browser, url, viewport, args.runs, names)
            failed += problems
            print(f"{viewport:<9} {figures['rows']:>5} {figures['bytes'] / 1e3:>10.0f} {figures['dom_ms']:>13.0f} "
                  f"{figures['load_ms']:>8.0f} {figures['search_ms']:>10.1f} {figures['filter_ms']:>10.1f}   "
                  f"filters: {figures['filters']}")
        browser.close()
    server.shutdown()
    shutil.rmtree(root)
    for line in failed:
        print("FAILED:", line)
    print("all checks passed" if not failed else f"{len(failed)} checks failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
