"""``interp-audit badge``: a README badge (SVG or shields.io endpoint JSON) for one distribution."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from interp_audit._cli.output import InputError, write_text
from interp_audit._cli.report import load_merged
from interp_audit.reports.badge import badge_for, find_result, render_svg, shields_endpoint

EXAMPLES = """\b
Examples:
  interp-audit scan numpy --format json -o results.json
  interp-audit badge numpy --results results.json -o numpy.svg
  interp-audit badge numpy --results results.json --python 3.12 -o numpy-312.svg
  interp-audit badge numpy --results results.json --format shields-endpoint -o numpy.json

\b
Messages, first match wins: crashes (dark red), broken (grey), not audited
(grey), pure Python (blue), per-interpreter GIL (green), shared GIL (yellow),
legacy only (orange), main only (red).
"""


@click.command("badge", epilog=EXAMPLES)
@click.argument("dist")
@click.option("--results", "results", multiple=True, type=click.Path(path_type=Path), metavar="FILE|DIR",
              help="Result file from `interp-audit scan --format json` (repeat to merge several).")
@click.option("--python", metavar="VERSION", help="Use the result of this Python (e.g. 3.13); default: the newest.")
@click.option("--format", "fmt", type=click.Choice(["svg", "shields-endpoint"]), default="svg", show_default=True,
              help="svg: the badge itself; shields-endpoint: JSON for https://shields.io/badges/endpoint-badge.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
def command(dist: str, results: tuple[Path, ...], python: Optional[str], fmt: str, output: Optional[Path]) -> None:
    """Make a badge telling how well DIST works in sub-interpreters."""
    if not results:
        raise InputError("give the results to read with --results FILE "
                         "(write one with: interp-audit scan DIST --format json -o results.json)")
    merged = load_merged(results)
    result = find_result(merged.report, dist, python)
    if result is None:
        where = f" for Python {python}" if python else ""
        raise InputError(f"no result for distribution {dist!r}{where} in {', '.join(map(str, results))}")
    badge = badge_for(result)
    write_text(render_svg(badge) if fmt == "svg" else shields_endpoint(badge), output)
