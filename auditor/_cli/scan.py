"""``interp-audit scan``: wire target, store, scan and report together."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click
from rich.console import Console

from interp_audit.model import TIERS
from interp_audit.reports import formats
from interp_audit.options import ScanOptions, check_module_names, configured_ignore_modules
from interp_audit.scan import scan
from interp_audit.source.interface import SourceError
from interp_audit.store.sqlite import SQLiteStore, store_path
from interp_audit.target import Target, TargetError, resolve
from interp_audit._cli.output import (below, format_options, matrix_options, print_matrix, worker_options,
                                      write_text)
from interp_audit._cli.progress import progress_bar
from interp_audit.rules.config import load_config
from interp_audit.smoke_config import load_user_snippets

EPILOG = """\b
Examples:
  interp-audit scan                          every distribution of the default interpreter
  interp-audit scan --python 3.13 numpy      one distribution on CPython 3.13
  interp-audit scan --python .venv/bin/python --python 3.12 --format json -o results.json
  interp-audit scan --stdlib --python 3.12   the standard library's extension modules
  interp-audit scan --fail-under shared-gil  exit 1 if anything needs a legacy interpreter
  interp-audit scan --findings               every finding with its fix under the matrix
  interp-audit show numpy                    everything behind one row, from the store

\b
The terminal answer fits the terminal: a tier column per Python, flags and a
short reason; the rung and smoke-check columns when they fit (or --wide); then
one "why" line per distribution below own-gil or flagged (-q hides it).

\b
Tiers (best first): own-gil, shared-gil, legacy-only, main-only, broken.
Exit codes: 0 done and nothing below --fail-under; 1 something below --fail-under;
2 usage error, bad input (unknown name, unreadable or corrupt files) or unusable --python.
"""


def _store(cache_dir: Optional[Path], no_cache: bool) -> SQLiteStore:
    if no_cache:
        return SQLiteStore(":memory:")
    return SQLiteStore(store_path(cache_dir))


def _targets(pythons: tuple[str, ...], err: Console) -> list[Target]:
    targets = []
    for spec in pythons or (None,):
        try:
            target = resolve(spec)
        except TargetError as exc:
            raise click.UsageError(str(exc)) from None
        err.print(f"Auditing CPython {target.label} at {target.executable} ({target.chosen_because})",
                  highlight=False)
        targets.append(target)
    return targets


@click.command("scan", epilog=EPILOG)
@click.argument("names", nargs=-1)
@click.option("--python", "pythons", multiple=True, metavar="PATH|VERSION",
              help="Interpreter to audit: a path or a version like 3.13. Repeat for several. "
                   "Default: the running interpreter if CPython >= 3.12, else the newest one found.")
@click.option("--stdlib", is_flag=True, help="Audit the target's standard-library modules instead of installed distributions.")
@format_options("Exit 1 if any distribution's tier is worse than TIER (" + ", ".join(TIERS) + ").")
@worker_options("Distributions audited at the same time.")
@click.option("--static-only", is_flag=True,
              help="Run no package code: read extension binaries only and predict tiers from declared slots.")
@click.option("--no-smoke", is_flag=True, help="Skip the behaviour checks after a successful import.")
@click.option("--smoke", "smoke_files", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Extra smoke snippets: a TOML file, a .py file or a directory of them (see docs/smoke.md).")
@click.option("--ignore-module", "ignore_modules", multiple=True, metavar="MODULE",
              help="Leave this module and its submodules out of the audit (repeatable; adds to "
                   "[tool.interp-audit] ignore-modules). The result notes what was excluded.")
@click.option("--select", multiple=True, metavar="CODES",
              help="Only these rule codes or prefixes (comma-separated, repeatable), e.g. IA1,IA301.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Never report these rule codes or prefixes.")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A pyproject.toml with [tool.interp-audit] (default: ./pyproject.toml if present).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the result store lives (default: the user cache directory).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write stored results.")
@matrix_options
def command(names, pythons, stdlib, fmt, output, fail_under, jobs, timeout, static_only, no_smoke, smoke_files,
            ignore_modules, select, ignore, config_path, cache_dir, no_cache, **terminal) -> None:
    """Audit installed distributions inside real sub-interpreters.

    Every top-level import name of every distribution (or of NAMES only) is
    imported in fresh processes of the target interpreter: alone in a
    sub-interpreter, and beside an import in main, on each rung of the ladder
    (isolated own-GIL, shared-GIL with extension checks, legacy) and in main.
    Extension modules are inspected (init kind, declared slots, framework,
    global state) and, where the import works, behaviour (smoke) checks run.
    The result is one tier per distribution plus flags (crashed,
    one-per-process, blocked-by, degraded, smoke-failed) and rule findings
    explaining it (see `interp-audit rules`).
    """
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    targets = _targets(pythons, err)
    rules = load_config(config_path).merged(select=select, ignore=ignore)
    snippets = load_user_snippets(smoke_files, project_dir=Path.cwd()) if not no_smoke else None
    excluded = configured_ignore_modules(config_path) + check_module_names(ignore_modules, "--ignore-module")
    options = ScanOptions(names=list(names), stdlib=stdlib, jobs=jobs, timeout=timeout, static_only=static_only,
                          smoke=not (no_smoke or static_only), snippets=snippets, rules=rules,
                          ignore_modules=sorted(set(excluded)))
    store = _store(cache_dir, no_cache)
    try:
        with progress_bar(err, "Auditing") as progress:
            report = scan(targets, options, store, progress)
    except SourceError as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        store.close()
    problems = [(run.python.version, d.name, problem) for run in report.interpreters
                for d in run.distributions for problem in d.problems]
    if fmt == "table" and output is None:
        print_matrix(report, **terminal)
    else:
        write_text(formats.get(fmt).render(report), output)
    for version, name, problem in problems:
        err.print(f"error: {name} (Python {version}): {problem}", highlight=False)
    if problems:
        sys.exit(2)
    if fail_under and below(report, fail_under):
        sys.exit(1)
