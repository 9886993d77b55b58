"""``interp-audit scan``."""

import click


@click.command("scan")
def command() -> None:
    """Audit an environment (being built)."""
