"""``interp-audit site``: a static website of the results, deployable to any static host."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from interp_audit._cli.output import InputError
from interp_audit._cli.report import load_merged
from interp_audit.reports.site import build_site
from interp_audit.reports.timeline import SiteHistory
from interp_audit.history import default_since
from interp_audit._cli.history import load_history, since_option, stores_beside

EXAMPLES = """\b
Examples:
  interp-audit site results.json -o public/
  interp-audit site py312.json py313.json -o public/ --base-url https://example.org/compat
  python -m http.server -d public/     then open http://localhost:8000/

The site has an index (counts, tiers-per-Python chart, searchable table),
one page, badge (SVG and shields.io endpoint JSON) and JSON file per
package, and api/packages.json. It needs no network: no CDN, no fonts.
"""


@click.command("site", epilog=EXAMPLES)
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the site into (created if missing; existing files are overwritten).")
@click.option("--base-url", metavar="URL",
              help="Where the site will be served, for absolute URLs in the badge Markdown snippets "
                   "(default: taken from the browser's address).")
@click.option("--history", "history_stores", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Result store(s) whose runs give the timelines and the recently gained / regressed lists "
                   "(default: survey.sqlite3 beside the result files, if any).")
@click.option("--report-url", metavar="URL",
              help="Where a reader reports a wrong verdict: each package page links to it, pre-filled with the "
                   "package, version, Python, tier and tool version (as {package}, {version}, {python}, {tier}, "
                   "{tool_version} placeholders in URL, or as query parameters when it has none).")
@click.option("--changes-since", metavar="DATE", callback=lambda ctx, param, value: value and since_option(value),
              help="Start of \"recently\" for those lists (default: 30 days before the newest run).")
def command(results: tuple[Path, ...], out_dir: Path, base_url: Optional[str], history_stores: tuple[Path, ...],
            report_url: Optional[str], changes_since) -> None:
    """Build a static website from RESULTS (files of `interp-audit scan --format json`, or directories of them)."""
    merged = load_merged(results)
    stores = history_stores or stores_beside(results)  # history: auditor/_cli/history.py
    history = None
    if stores:
        runs = load_history(stores)
        history = SiteHistory(runs, changes_since or default_since(runs))
    try:
        written = build_site(merged, out_dir, base_url, history, report_url)
    except OSError as exc:
        raise InputError(f"cannot write the site into {out_dir}: {exc.strerror or exc}") from None
    click.echo(f"wrote {len(written)} files; open {out_dir / 'index.html'}")
