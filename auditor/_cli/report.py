"""``interp-audit report``: turn result files into a table, Markdown, HTML, CSV, JSON or JUnit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Sequence

import click
from rich.console import Console

from interp_audit.model import TIERS
from interp_audit.reports import formats
from interp_audit.reports.json import ResultsError, load_results, result_files
from interp_audit.reports.merge import Merged, merge
from interp_audit._cli.output import InputError, below, matrix_options, print_matrix, write_text
from interp_audit._cli.history import default_stores, report_changes, since_option


def load_merged(paths: Sequence[Path]) -> Merged:
    """Read and merge result files (every ``*.json`` of a directory), warning on stderr about conflicting rows."""
    try:
        files = result_files(paths)
        reports = load_results(files)
    except ResultsError as exc:
        raise InputError(str(exc)) from None
    merged = merge(reports, [str(p) for p in files])
    err = Console(stderr=True, highlight=False)
    for c in merged.conflicts:
        err.print(
            f"warning: conflicting results for {c.distribution} {c.version} on {c.python}: "
            f"{'; '.join(c.differences)} (showing {c.kept}, not {c.other})",
            markup=False, soft_wrap=True,
        )
    return merged


EXAMPLES = """\b
Examples:
  interp-audit report results.json
  interp-audit report py312.json py313.json --format markdown > comment.md
  interp-audit report shard-*.json --format html -o report.html
  interp-audit report results.json --format junit -o interp-audit.xml --fail-under shared-gil

Several files (other machines, shards, Python versions) merge into one
matrix; when two files disagree about the same distribution version on the
same interpreter, the first is shown and the conflict is reported.
"""


@click.command("report", epilog=EXAMPLES)
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(formats.NAMES), default="table", show_default=True,
              help="table: terminal matrix; markdown: GitHub comment; html: one self-contained page; "
                   "csv; json: merged results; junit: one test case per distribution; survey: a survey's "
                   "summary (Markdown: tiers per Python beside the fresh-isolated-import figure, "
                   "and why the two disagree).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@click.option("--fail-under", type=click.Choice(TIERS), metavar="TIER",
              help="Exit 1 if a distribution's tier is worse than TIER; for junit, such distributions "
                   "are the failed test cases (default there: own-gil).")
@click.option("--changes-since", metavar="DATE", callback=lambda ctx, param, value: value and since_option(value),
              help="Instead of the matrix: the distributions of RESULTS that gained or lost a tier since DATE "
                   "(YYYY-MM-DD), and why (table, markdown or json). Reads the result store: see --history.")
@click.option("--history", "history_stores", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Result store(s) for --changes-since (default: survey.sqlite3 beside the result files, "
                   "else the scan store).")
@matrix_options
def command(results: tuple[Path, ...], fmt: str, output: Optional[Path], fail_under: Optional[str],
            changes_since, history_stores: tuple[Path, ...], **terminal) -> None:
    """Show the results in RESULTS (JSON files written by `interp-audit scan --format json`,
    or directories of them)."""
    merged = load_merged(results)
    if changes_since:  # history of these distributions (auditor/_cli/history.py)
        names = [d.name for run in merged.report.interpreters for d in run.distributions]
        stores = history_stores or default_stores(results)
        write_text(report_changes(names, changes_since, stores, fmt), output)
        return
    if fmt == "table" and output is None:
        print_matrix(merged.report, merged.conflicts, **terminal)
    else:
        options = {"fail_under": fail_under} if fmt == "junit" and fail_under else {}
        write_text(formats.get(fmt, **options).render(merged.report, merged.conflicts), output)
    if fail_under and below(merged.report, fail_under):
        sys.exit(1)
