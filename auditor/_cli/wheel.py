"""``interp-audit wheel``: audit wheels without installing them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click
from rich.console import Console

from interp_audit._cli.output import below, format_options, write_report

EPILOG = """\b
Examples:
  interp-audit wheel dist/*.whl                    wheels you built
  interp-audit wheel wheelhouse/                   every *.whl in a directory
  interp-audit wheel numpy                         the newest release's wheels, from the index pip uses
  interp-audit wheel msgpack==1.2.4 --platform 'manylinux*' --platform 'win_*' --python-tag cp313
  interp-audit wheel markupsafe --format json -o markupsafe.json

\b
Each wheel is reported under its tag (python-abi-platform). Nothing is installed or run:
init kinds, declared slots (Py_mod_multiple_interpreters, Py_mod_gil) and frameworks are read
from the binaries (ELF, Mach-O, PE), and the tier is predicted from those declarations.
Exit codes: 0 done; 1 a wheel's predicted tier is below --fail-under; 2 usage error or bad
input (a corrupt, truncated or non-zip wheel, a binary of an unknown format, an unknown
project): one error line each, after the results of the others.
"""


@click.command("wheel", epilog=EPILOG)
@click.argument("wheels", nargs=-1, required=True, metavar="FILE.whl|DIR|NAME[==VERSION]...")
@click.option("--platform", "platforms", multiple=True, metavar="GLOB",
              help="Only wheels whose platform tag matches, e.g. 'manylinux*x86_64', 'macosx*', 'win_amd64'. Repeatable.")
@click.option("--python-tag", "python_tags", multiple=True, metavar="GLOB",
              help="Only wheels whose Python tag matches, e.g. cp313 or 'cp31*'. Repeatable.")
@format_options("Exit 1 if any wheel's predicted tier is worse than TIER.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where downloaded wheels are kept (default: the user cache directory).")
def command(wheels, platforms, python_tags, fmt, output, fail_under, cache_dir: Optional[Path]) -> None:
    """Audit wheels without installing them: per platform tag, each extension module's
    init kind, declared slots and framework, and the tier those declarations predict.

    Arguments are wheel files, directories of wheels, or project names (NAME or
    NAME==VERSION): then the release's wheels come from the index pip is
    configured to use (pip config, PIP_INDEX_URL, PIP_EXTRA_INDEX_URL), kept in a cache.
    """
    from interp_audit.wheels.collect import audit_wheels, wheel_paths

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if cache_dir is None:
        import platformdirs

        cache_dir = Path(platformdirs.user_cache_dir("interp-audit"))
    paths, errors = wheel_paths(wheels, cache_dir / "wheels", platforms, python_tags,
                                warn=lambda message: err.print(f"warning: {message}"))
    report, audit_errors = audit_wheels(paths)
    errors += audit_errors
    if report.interpreters and fmt == "table" and output is None:
        from interp_audit.reports.wheels import render

        out = Console()
        render(report, out if out.is_terminal else Console(width=max(out.width, 160)))
    elif report.interpreters:
        write_report(report, fmt, output)
    for error in errors:
        err.print(f"error: {error}")
    if errors:
        sys.exit(2)
    if fail_under and below(report, fail_under):
        sys.exit(1)
