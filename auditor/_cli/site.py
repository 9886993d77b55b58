"""``interp-audit site``: a static website of the results, deployable to any static host."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from interp_audit._cli.report import InputError, load_merged
from interp_audit.reports.site import build_site

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
def command(results: tuple[Path, ...], out_dir: Path, base_url: Optional[str]) -> None:
    """Build a static website from RESULTS (files of `interp-audit scan --format json`)."""
    merged = load_merged(results)
    try:
        written = build_site(merged, out_dir, base_url)
    except OSError as exc:
        raise InputError(f"cannot write the site into {out_dir}: {exc.strerror or exc}") from None
    click.echo(f"wrote {len(written)} files; open {out_dir / 'index.html'}")
