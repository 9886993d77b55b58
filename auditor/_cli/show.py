"""``interp-audit show DIST``: one distribution's evidence from the result store or result files, no rescan."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional, Sequence

import click

from interp_audit.model import to_dict
from interp_audit.reports.merge import normalize_name
from interp_audit.reports.show import Shown, render
from interp_audit.store.sqlite import SQLiteStore, store_path
from interp_audit.verdict import known_problems
from interp_audit._cli.output import InputError, color_option, console_for

EPILOG = """\b
Examples:
  interp-audit show numpy                         the newest result per Python from the scan store
  interp-audit show numpy --python 3.13
  interp-audit show numpy --results results.json  from a file written by scan --format json
  interp-audit show numpy --python 3.13 --format json

\b
It shows, per Python: every import name and public module per rung and
scenario (result, error chain, why a rung was inferred), crashes with their
culprit and stderr, each smoke check with its items and the cost figures, the
static evidence per extension module with the method behind each value, the
findings with their fixes, and what to do.
Exit codes: 0 shown; 2 no result for DIST (or no store), or JSON asked for several Pythons.
"""


def _matches(spec: str, version: str, executable: str) -> bool:
    """``3.13`` matches 3.13.x; a path matches the interpreter that was audited."""
    if all(part.isdigit() for part in spec.split(".")):
        return version.split(".")[: len(spec.split("."))] == spec.split(".")
    return os.path.realpath(spec) == os.path.realpath(executable) or spec == executable


def _from_results(paths: Sequence[Path], name: str) -> list[Shown]:
    from interp_audit._cli.report import load_merged

    report = load_merged(paths).report
    return [Shown(run.python, result, run.known_problems) for run in report.interpreters
            for result in run.distributions if normalize_name(result.name) == normalize_name(name)]


def _from_store(path: Path, name: str) -> list[Shown]:
    if not path.is_file():
        raise InputError(f"no result store at {path}: run `interp-audit scan` first, or give --results FILE.json")
    store = SQLiteStore(path)
    try:
        return [Shown(python, result, known_problems([result])) for python, result in store.latest(name)]
    finally:
        store.close()


@click.command("show", epilog=EPILOG)
@click.argument("dist")
@click.option("--python", "pythons", multiple=True, metavar="VERSION|PATH",
              help="Only results of this interpreter (3.13 matches 3.13.x). Repeatable.")
@click.option("--results", "results", multiple=True, type=click.Path(path_type=Path),
              help="Read this result file (or directory of them) instead of the scan store. Repeatable.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="The scan store's directory (default: the user cache directory).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: the distribution's object of the JSON report (one --python).")
@color_option
def command(dist: str, pythons: tuple[str, ...], results: tuple[Path, ...], cache_dir: Optional[Path], fmt: str,
            color: str) -> None:
    """Everything recorded about one distribution DIST, from the last scan (no rescan)."""
    where = ", ".join(map(str, results)) if results else str(store_path(cache_dir))
    shown = _from_results(results, dist) if results else _from_store(store_path(cache_dir), dist)
    if pythons:
        shown = [s for s in shown if any(_matches(p, s.python.version, s.python.executable) for p in pythons)]
    if not shown:
        only = f" for Python {', '.join(pythons)}" if pythons else ""
        raise InputError(f"no result for {dist}{only} in {where}")
    if fmt == "json":
        if len(shown) > 1:
            raise InputError(f"{dist} has results for Python {', '.join(s.python.version for s in shown)}: "
                             "choose one with --python")
        click.echo(json.dumps(to_dict(shown[0].result), indent=2, ensure_ascii=False))
        return
    render(shown, console_for(color))
