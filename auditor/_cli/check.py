"""``interp-audit check``: lint C, C++ and Cython sources for sub-interpreter blockers."""

from __future__ import annotations

from pathlib import Path

import click

from interp_audit.check import formats
from interp_audit.check.formats.text import summary
from interp_audit.check.runner import FAIL_ON_CHOICES, check_paths, fails
from interp_audit.rules.config import load_config
from interp_audit._cli.output import write_text

HELP = """Lint C, C++ and Cython sources for what blocks per-interpreter-GIL support.

Reads the files (directories are searched for .c .h .cpp .cc .cxx .hpp .pyx
.pxd .pxi ...) without compiling them and reports single-phase init, missing or
weak Py_mod_multiple_interpreters / Py_mod_gil slots, static PyObject* and other
written globals, static types, PyState_* and PyGILState_* calls, Cython
module-level cdef variables and the Cython subinterpreters_compatible directive,
with the rule codes of 'interp-audit scan' (see 'interp-audit explain CODE').

\b
Examples:
  interp-audit check src/                     lint a source tree
  interp-audit check --fail-on high src/      fail only on high and critical
  interp-audit check --format sarif -o check.sarif src/   for GitHub code scanning
  interp-audit check --ignore IA105 src/mod.c skip the Py_mod_gil note

\b
Silence one finding with a comment on its line, or alone on the line above:
  static PyObject *cache;  // interp-audit: ignore[IA201] immutable after init
Silence a code in a whole file:  # interp-audit: ignore-file[IA401] set in setup.py
[tool.interp-audit] select / ignore in ./pyproject.toml (or --config) apply too.
"""

EPILOG = """\b
Exit codes: 0 nothing at or above --fail-on; 1 findings at or above --fail-on;
2 usage error, bad configuration, a file that could not be read or an -o file that cannot be written.
"""


@click.command("check", help=HELP, epilog=EPILOG)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(formats.NAMES), default="text", show_default=True,
              help="text for people and pre-commit, json for tools, sarif for code scanning.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file (the summary still goes to stderr).")
@click.option("--fail-on", type=click.Choice(FAIL_ON_CHOICES), default="low", show_default=True,
              help="Exit 1 when a finding has this severity or a higher one; 'never' always exits 0. "
                   "The default fails on everything but notes (info).")
@click.option("--select", multiple=True, metavar="CODES",
              help="Only these rule codes or prefixes (comma-separated; replaces the configured selection).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Also skip these rule codes or prefixes.")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Skip files or directories whose path or name matches (repeatable).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="A TOML file with [tool.interp-audit] (default: ./pyproject.toml if present).")
def command(paths, fmt, output, fail_on, select, ignore, exclude, config_path) -> None:
    config = load_config(config_path).merged(select=select or None, ignore=ignore or None)
    report = check_paths(paths, config, excludes=exclude)
    write_text(formats.get(fmt).render(report), output)
    if output is not None:
        click.echo(summary(report), err=True)
    if report.errors:
        if fmt != "text" or output is not None:
            for path, message in report.errors:
                click.echo("error: %s: %s" % (path, message), err=True)
        raise SystemExit(2)
    if fails(report, fail_on):
        raise SystemExit(1)
