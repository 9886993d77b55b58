"""What every sub-command shares for output: the bad-input error and writing a document."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

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
