"""The ``interp-audit`` command line: wiring only, one module per sub-command.

Sub-command modules are imported only when their command runs (or ``--help``
lists them), so ``interp-audit scan`` does not pay for the website's or the
linter's imports.
"""

from __future__ import annotations

import importlib

import click

from interp_audit import __version__

EPILOG = """\b
Exit codes:
  0  the command completed (and nothing is below --fail-under / --fail-on)
  1  findings or distributions below the threshold you asked to fail on
  2  usage error, bad input or an unusable target interpreter
"""

#: Command name -> the module under ``interp_audit._cli`` that defines ``command``.
COMMANDS = {
    "scan": "scan",
    "check": "check",
    "rules": "rules",
    "explain": "explain",
    "report": "report",
    "badge": "badge",
    "site": "site",
    "survey": "survey",
    "history": "history",
    "wheel": "wheel",
    "show": "show",
    "app": "app",
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        return importlib.import_module(f"{__name__}.{COMMANDS[name]}").command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.version_option(__version__, prog_name="interp-audit")
def main() -> None:
    """Find out whether Python packages work inside CPython sub-interpreters.

    \b
    Start with:
      interp-audit scan                  audit the current (or newest) CPython >= 3.12
      interp-audit scan --python 3.13    audit another interpreter
      interp-audit scan requests numpy   audit only these distributions
      interp-audit show numpy            all the evidence for one of them
    """
