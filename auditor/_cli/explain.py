"""``interp-audit explain CODE``: the full text of one rule."""

from __future__ import annotations

import json
import textwrap

import click

from interp_audit.rules import registry

EPILOG = """\b
Examples:
  interp-audit explain IA101
  interp-audit explain single-phase-init     rule names work too
  interp-audit explain IA302 --format json
  interp-audit rules                         list every code
"""


class UnknownCode(click.ClickException):
    """A code that names no rule: one-line error, exit code 2."""

    exit_code = 2


def _paragraph(text: str) -> str:
    return textwrap.fill(text, width=88, initial_indent="  ", subsequent_indent="  ")


def render(rule) -> str:
    """The plain-text explanation of a rule."""
    lines = [
        "%s  %s  (severity: %s, scope: %s)" % (rule.code, rule.name, rule.severity, rule.scope),
        "",
        _paragraph(rule.message),
        "",
        "Why it matters:",
        _paragraph(rule.rationale),
        "",
        "How to fix it:",
        _paragraph(rule.remediation),
    ]
    if rule.references:
        lines += ["", "References:"] + ["  - %s" % url for url in rule.references]
    return "\n".join(lines)


@click.command("explain", epilog=EPILOG)
@click.argument("code")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(code: str, output_format: str) -> None:
    """Explain rule CODE: what it finds, why it matters, how to fix it."""
    try:
        rule = registry.get(code)
    except registry.UnknownRule as exc:
        hint = " Did you mean %s?" % ", ".join(exc.suggestions) if exc.suggestions else ""
        raise UnknownCode("unknown rule code %r.%s Run 'interp-audit rules' for the list." % (code, hint)) from None
    if output_format == "json":
        click.echo(json.dumps(rule.describe(), indent=2))
    else:
        click.echo(render(rule))
