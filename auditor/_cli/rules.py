"""``interp-audit rules``: list the rule catalogue and which rules the configuration enables."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import click

from interp_audit.rules import config as rule_config
from interp_audit.rules import registry

EPILOG = """\b
Examples:
  interp-audit rules                       every rule, on or off per pyproject.toml
  interp-audit rules --select IA1,IA3      what a scan with --select IA1,IA3 would run
  interp-audit rules --format json         machine-readable, with full texts
  interp-audit explain IA101               everything about one rule
"""


def _rows(config: rule_config.RuleConfig) -> list[dict]:
    rows = []
    for rule in registry.all_rules():
        row = rule.describe()
        row["enabled"] = config.is_enabled(rule.code)
        rows.append(row)
    return rows


def _print_plain(rows: list[dict]) -> None:
    name_width = max(len(r["name"]) for r in rows)
    for row in rows:
        mark = "" if row["enabled"] else "  (off)"
        click.echo("%s  %-8s  %-*s  %s%s" % (row["code"], row["severity"], name_width, row["name"], row["message"], mark))


def _print_table(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False, header_style="bold")
    for title in ("Code", "Severity", "Name"):
        table.add_column(title, no_wrap=True)
    table.add_column("Message", overflow="fold")
    for row in rows:
        message = row["message"] if row["enabled"] else row["message"] + " (off)"
        table.add_row(row["code"], row["severity"], row["name"], message, style=None if row["enabled"] else "dim")
    Console().print(table, markup=False)


@click.command("rules", epilog=EPILOG)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file with a [tool.interp-audit] table (default: ./pyproject.toml if present).",
)
@click.option("--select", multiple=True, help="Rule codes or prefixes to run instead of the configured ones (comma-separated or repeated).")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to turn off, on top of the configured ones.")
def command(output_format: str, config_path: Optional[Path], select: tuple[str, ...], ignore: tuple[str, ...]) -> None:
    """List every rule: code, severity, name and message.

    Rules turned off by [tool.interp-audit] select/ignore in pyproject.toml
    (or by --select / --ignore) are marked "(off)".
    """
    config = rule_config.load_config(config_path).merged(select=select, ignore=ignore)
    rows = _rows(config)
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2))
    elif sys.stdout.isatty():
        _print_table(rows)
    else:
        _print_plain(rows)
