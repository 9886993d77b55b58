"""What every sub-command shares for output: the bad-input error and writing a document."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
from rich.console import Console

from interp_audit.model import ScanReport, tier_rank


class InputError(click.ClickException):
    """Bad input (unreadable or invalid file, unknown name, unwritable output): one line, exit status 2."""

    exit_code = 2


def write_text(text: str, output: Optional[Path]) -> None:
    """Write to ``output`` or standard output; an unwritable file is an input error."""
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from None


def below(report: ScanReport, tier: str) -> bool:
    """Whether any distribution of ``report`` has a tier worse than ``tier`` (``--fail-under``)."""
    return any(d.tier and tier_rank(d.tier) > tier_rank(tier) for run in report.interpreters for d in run.distributions)


def write_report(report: ScanReport, fmt: str, output: Optional[Path]) -> None:
    """Print the terminal table, or write ``report`` in format ``fmt`` to ``output`` / standard output."""
    if fmt == "table" and output is None:
        from rich.console import Console

        from interp_audit.reports.table import render

        render(report, Console())
        return
    from interp_audit.reports import formats

    write_text(formats.get(fmt).render(report), output)


def format_options(fail_under_help: str):
    """``--format``, ``-o`` and ``--fail-under TIER`` (``fail_under_help`` says what is compared)."""
    from interp_audit.model import TIERS
    from interp_audit.reports import formats

    def decorate(function):
        function = click.option("--fail-under", type=click.Choice(TIERS), metavar="TIER",
                                help=fail_under_help)(function)
        function = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                                help="Write the report to this file instead of standard output.")(function)
        return click.option("--format", "fmt", type=click.Choice(formats.NAMES), default="table", show_default=True,
                            help="Output format.")(function)
    return decorate


def worker_options(jobs_help: str):
    """``-j/--jobs`` (``jobs_help``: what runs at the same time) and ``--timeout``."""
    import os

    def decorate(function):
        function = click.option("--timeout", type=click.FloatRange(min=1), default=60.0, show_default=True,
                                help="Seconds before a probe process counts as hung.")(function)
        return click.option("-j", "--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 2,
                            show_default="cores", help=jobs_help)(function)
    return decorate


COLOR_CHOICES = ("auto", "always", "never")


def console_for(color: str = "auto", stderr: bool = False) -> Console:
    """A console whose colour follows ``--color`` (auto: a terminal, unless ``NO_COLOR`` is set)."""
    if color == "always":
        return Console(stderr=stderr, force_terminal=True, highlight=False)
    if color == "never":
        return Console(stderr=stderr, color_system=None, highlight=False)
    return Console(stderr=stderr, highlight=False)


def color_option(function):
    return click.option("--color", type=click.Choice(COLOR_CHOICES), default="auto", show_default=True,
                        help="Colour the terminal output: auto (a terminal without NO_COLOR), always, never.")(function)


def matrix_options(function):
    """``--wide``, ``-q`` and ``--findings``: what the terminal answer of ``scan`` and ``report`` shows."""
    function = click.option("--findings", "show_findings", is_flag=True,
                            help="List every finding with its fix under the matrix.")(function)
    function = click.option("-q", "--quiet", is_flag=True, help="Only the matrix: no why section.")(function)
    function = click.option("--wide", is_flag=True, default=None,
                            help="Always show the rung and smoke-check columns (default: when the terminal "
                                 "is wide enough).")(function)
    return color_option(function)


def print_matrix(report: ScanReport, conflicts=(), color: str = "auto", wide: Optional[bool] = None,
                 quiet: bool = False, show_findings: bool = False) -> None:
    """The terminal answer of ``scan`` and ``report`` on standard output."""
    from interp_audit.reports.table import render

    render(report, console_for(color), conflicts, wide=wide, quiet=quiet, findings=show_findings)
