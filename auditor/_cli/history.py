"""``interp-audit history``: a package's tier over time; also the changes list of ``report --changes-since``."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Optional, Sequence

import click
from rich.console import Console

from interp_audit.history import Change, History, HistoryError, parse_date, reasons
from interp_audit.model import tier_rank
from interp_audit.store.sqlite import store_path
from interp_audit.survey.client import STORE_NAME
from interp_audit._cli.output import InputError

EPILOG = f"""\b
Examples:
  interp-audit history numpy                                  from the scan store (user cache)
  interp-audit history numpy --store results/{STORE_NAME}
  interp-audit history numpy --store shard-1/{STORE_NAME} --store shard-2/{STORE_NAME} --format json
  interp-audit report results/*.json --changes-since 2026-11-01   what gained or lost a tier

Every `scan` and `survey` run is kept in its store with its date, the
interp-audit version, the Python version and the versions it saw; a later
run never overwrites an earlier one.
Exit codes: 0 shown; 2 no such store, or no history for DIST.
"""


def load_history(stores: Sequence[Path]) -> History:
    try:
        return History.load(stores)
    except HistoryError as exc:
        raise InputError(str(exc)) from None


def stores_beside(results: Sequence[Path]) -> list[Path]:
    """The survey stores next to result files (``OUT/survey.sqlite3`` of ``interp-audit survey -o OUT``)."""
    found = []
    for path in results:
        candidate = Path(path).parent / STORE_NAME
        if candidate.is_file() and candidate not in found:
            found.append(candidate)
    return found


def since_option(text: str) -> datetime:
    try:
        return parse_date(text)
    except HistoryError as exc:
        raise click.BadParameter(str(exc)) from None


def changes_text(changes: Sequence[Change], since: datetime, markdown: bool = False) -> str:
    """The changes as plain text or a Markdown list, gained first."""
    day = since.date().isoformat()
    if not changes:
        return f"No distribution gained or lost a tier since {day}.\n"
    lines = [f"## Changes since {day}" if markdown else f"Changes since {day}:"]
    for direction, heading in (("gained", "Gained a tier"), ("regressed", "Lost a tier")):
        chosen = [c for c in changes if c.direction == direction]
        if chosen:
            lines += ["", f"### {heading}" if markdown else f"{heading}:"]
        for c in chosen:
            name = f"**{c.distribution}**" if markdown else c.distribution
            lines.append(f"{'-' if markdown else ' '} {name} on Python {c.python}: {c.before.tier} → {c.after.tier} "
                         f"({'; '.join(c.reasons)}; {c.before.date[:10]} → {c.after.date[:10]})")
    return "\n".join(lines) + "\n"


def report_changes(names: Optional[Sequence[str]], since: datetime, stores: Sequence[Path], fmt: str) -> str:
    """The body of ``report --changes-since``: changes of ``names`` (all if None) in ``fmt``."""
    if not stores:
        raise InputError(f"--changes-since needs a result store: give --history FILE (none found beside the "
                         f"result files, and {store_path()} does not exist)")
    changes = load_history(stores).changes_since(since, names)
    if fmt == "json":
        return json.dumps({"since": since.isoformat(), "changes": [c.to_dict() for c in changes]},
                          indent=2, ensure_ascii=False) + "\n"
    if fmt not in ("table", "markdown"):
        raise click.UsageError("--changes-since writes table, markdown or json")
    return changes_text(changes, since, markdown=fmt == "markdown")


def default_stores(results: Sequence[Path]) -> list[Path]:
    """Stores to read when none was named: beside the result files, else the scan store if it exists."""
    return stores_beside(results) or ([store_path()] if store_path().is_file() else [])


def _print_timeline(history: History, dist: str, console: Console) -> None:
    console.print(f"{dist}: tier over time", style="bold", highlight=False)
    for minor, entries in history.timeline(dist).items():
        console.print(f"Python {minor}", style="bold", highlight=False)
        previous = None
        for entry in entries:
            change = ""
            if previous is not None and previous.tier and entry.tier and previous.tier != entry.tier:
                word = "gained" if tier_rank(entry.tier) < tier_rank(previous.tier) else "regressed"
                change = f"  {word}: {'; '.join(reasons(previous, entry))}"
            console.print(f"  {entry.date[:16].replace('T', ' ')}  {entry.version or '-':<12} {entry.outcome:<16} "
                          f"(Python {entry.python}, interp-audit {entry.tool_version}){change}",
                          highlight=False, markup=False)
            if entry.tier:
                previous = entry


@click.command("history", epilog=EPILOG)
@click.argument("dist")
@click.option("--store", "stores", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A result store to read (repeatable): OUT/survey.sqlite3 of a survey; default: the scan store.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def command(dist: str, stores: tuple[Path, ...], fmt: str) -> None:
    """Show the tier of DIST over time, per Python version, with what changed."""
    stores = stores or tuple(default_stores([]))
    if not stores:
        raise InputError(f"no result store: {store_path()} does not exist; give --store FILE")
    history = load_history(stores)
    timeline = history.timeline(dist)
    if not timeline:
        raise InputError(f"no history for {dist} in {', '.join(map(str, stores))}")
    if fmt == "json":
        click.echo(json.dumps({"distribution": dist, "pythons": {
            minor: [{**asdict(e), "outcome": e.outcome} for e in entries] for minor, entries in timeline.items()
        }}, indent=2, ensure_ascii=False))
        return
    _print_timeline(history, dist, Console(highlight=False, soft_wrap=True))
