"""The ``interp-audit`` command line: wiring only, one module per sub-command."""

import click

from interp_audit import __version__
from interp_audit._cli import badge, check, explain, report, rules, scan, site, survey, history

EPILOG = """\b
Exit codes:
  0  the command completed (and nothing is below --fail-under / --fail-on)
  1  findings or distributions below the threshold you asked to fail on
  2  usage error, bad input or an unusable target interpreter
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.version_option(__version__, prog_name="interp-audit")
def main() -> None:
    """Find out whether Python packages work inside CPython sub-interpreters.

    \b
    Start with:
      interp-audit scan                  audit the current (or newest) CPython >= 3.12
      interp-audit scan --python 3.13    audit another interpreter
      interp-audit scan requests numpy   audit only these distributions
    """


for _module in (scan, check, rules, explain, report, badge, site, survey, history):
    main.add_command(_module.command)
