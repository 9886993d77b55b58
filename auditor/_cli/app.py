"""``interp-audit app``: wire target, application audit and report together."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click

from interp_audit.model import TIERS, tier_rank
from interp_audit.reports import formats
from interp_audit._cli.output import (InputError, color_option, console_for, format_options, worker_options,
                                      write_text)
from interp_audit._cli.scan import _store, _targets

EPILOG = """\b
Examples:
  interp-audit app myproject.asgi:app                 the app's tier and what blocks it
  interp-audit app myproject.asgi:app --python .venv/bin/python --run --request "GET /" --request "GET /health"
  interp-audit app worker.py                          a script: imported, not run as __main__
  interp-audit app myproject.wsgi:application --run --fail-under own-gil   a CI gate

\b
TARGET is a module (myproject.main), a module:attribute (myproject.asgi:app) or a
script path; modules are found in the current directory (or --path) first, then in
the target interpreter's environment. Nothing needs to be installed there.

\b
--run serves the app in N interpreters of the rung it reached, at once, each with its
own event loop: ASGI (lifespan start-up, the requests, shutdown), WSGI, or a plain call;
every answer is compared with the main interpreter's. See docs/app.md for what this
does and does not prove.

\b
Exit codes: 0 done and not below --fail-under; 1 the app's tier is below --fail-under;
2 bad target, the app fails in the main interpreter, or an unusable --python.
"""


@click.command("app", epilog=EPILOG)
@click.argument("target")
@click.option("--python", "python", metavar="PATH|VERSION",
              help="The app's interpreter (e.g. its venv's bin/python) or a version like 3.13. "
                   "Default: the running interpreter if CPython >= 3.12, else the newest one found.")
@click.option("--path", "directory", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Directory searched first for a module TARGET (default: the current directory; "
                   "a script's own directory is always searched).")
@click.option("--run", "run", is_flag=True, help="Also serve the app in several interpreters at once (opt-in).")
@click.option("--request", "requests", multiple=True, metavar="'METHOD PATH'",
              help="A request --run sends (repeatable; default: GET /). Ignored for plain callables.")
@click.option("-n", "--interpreters", type=click.IntRange(min=1, max=64), default=4, show_default=True,
              help="Interpreters --run starts at once.")
@format_options("Exit 1 if the app's tier is worse than TIER (" + ", ".join(TIERS) + "); "
                "html, csv and junit show the app as the first row of a scan report.")
@worker_options("Distributions of the import graph climbed at the same time.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the stored inventory lives (default: the user cache directory).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write stored data.")
@color_option
def command(target, python, directory, run, requests, interpreters, fmt, output, fail_under, jobs, timeout,
            cache_dir: Optional[Path], no_cache, color) -> None:
    """Will this application run in sub-interpreter workers?

    Imports TARGET in a fresh main interpreter of the target Python (its real
    import graph), climbs the scan's ladder with it (alone and beside main, in
    isolated, shared-GIL and legacy interpreters) and reports the app's tier,
    every module of the graph that blocks a better tier (with its distribution,
    framework and that distribution's tier, worst first), extension modules that
    silently fall back, and crashes of this Python that the graph triggers.
    """
    from interp_audit.app import AppError, AppOptions, audit_app, parse_target

    err = console_for("never", stderr=True)
    try:
        app = parse_target(target, directory)
    except AppError as exc:
        raise InputError(str(exc)) from None
    [resolved] = _targets((python,) if python else (), err)
    options = AppOptions(timeout=timeout, jobs=jobs, run=run, requests=list(requests) or ["GET /"],
                         interpreters=interpreters)
    store = _store(cache_dir, no_cache)
    try:
        report = audit_app(resolved, app, options, store)
    except AppError as exc:
        raise InputError(str(exc)) from None
    finally:
        store.close()
    _write(report, fmt, output, color)
    if report.run.get("status") == "error":
        raise InputError(f"{target}: --run: {report.run.get('error')}")
    if fail_under and report.tier and tier_rank(report.tier) > tier_rank(fail_under):
        sys.exit(1)


def _write(report, fmt: str, output: Optional[Path], color: str) -> None:
    from interp_audit.reports import app as app_report

    if fmt == "table" and output is None:
        console = console_for(color)
        from interp_audit.reports.table import TIER_STYLES

        for line, tier in app_report.lines(report):
            console.print(line, style=TIER_STYLES.get(tier or "", None), highlight=False, soft_wrap=True)
        return
    if fmt == "table":
        text = "\n".join(line for line, _ in app_report.lines(report)) + "\n"
    elif fmt == "json":
        text = app_report.render_json(report)
    elif fmt == "markdown":
        text = app_report.render_markdown(report)
    else:
        text = formats.get(fmt).render(app_report.as_scan_report(report))
    write_text(text, output)
