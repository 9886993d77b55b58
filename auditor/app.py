"""``interp-audit app``: will one application run in sub-interpreter workers?

The target (a module, ``module:attribute`` or a script) is imported once in a
fresh main interpreter: that gives its real import graph (the probe's load
markers) and how a worker would serve it.  Then the scan's ladder climbs the
target itself, watching every extension module of the graph for a silent
fallback; when the target is not own-gil, every third-party distribution of the
graph climbs too (its top-level names that the graph loaded), so that the report
can name what blocks the application.  ``--run`` serves the application in
several interpreters at once (``check_app`` of ``auditor/probe/smoke.py``).
Every decision is ``auditor/verdict.py``'s.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from interp_audit import __version__
from interp_audit.model import AppReport, DistributionResult
from interp_audit.options import ScanOptions
from interp_audit.runtime.ladder import Ladder
from interp_audit.runtime.smoke import run_app
from interp_audit.scan import open_source
from interp_audit.source.interface import AuditSource
from interp_audit.static.inspection import inspect_extensions
from interp_audit.store.interface import ResultStore
from interp_audit.target import Target
from interp_audit.verdict import (MODE_OF_TIER, SUB_TIERS, app_blockers, apply_run, judge, known_problems,
                                  public_names, rungs_below)

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


class AppError(Exception):
    """Bad target, or the application fails in the main interpreter (not a sub-interpreter problem)."""


@dataclass
class AppTarget:
    """What to import: ``module`` (then ``attribute``), with ``directory`` on the module search path."""

    text: str
    module: str
    attribute: Optional[str]
    directory: str


@dataclass
class AppOptions:
    timeout: float = 60.0
    jobs: int = os.cpu_count() or 2
    run: bool = False
    requests: list[str] = field(default_factory=lambda: ["GET /"])
    interpreters: int = 4


def parse_target(text: str, search: Optional[Path] = None) -> AppTarget:
    """A script path (``app.py``, ``src/run.py``: its directory is searched), ``module`` or
    ``module:attribute`` (searched in ``search``, by default the current directory)."""
    cwd = Path.cwd()
    if text.endswith(".py") or os.sep in text:
        path = cwd / text
        if not path.is_file():
            raise AppError(f"{text}: no such script")
        if not _DOTTED.fullmatch(path.stem) or "." in path.stem:
            raise AppError(f"{text}: the script's name is not importable as a module ({path.stem!r})")
        return AppTarget(text, path.stem, None, str(path.resolve().parent))
    module, colon, attribute = text.partition(":")
    if not _DOTTED.fullmatch(module) or (colon and not _DOTTED.fullmatch(attribute)):
        raise AppError(f"{text!r} is not a module (myproject.main), a module:attribute (myproject.asgi:app) "
                       f"or a script path (app.py)")
    return AppTarget(text, module, attribute or None, str((search or cwd).resolve()))


def probe_environment(directory: str) -> dict[str, str]:
    """The probes' environment: ``directory`` first on the module search path, as ``python -m`` in it."""
    paths = [directory] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(paths))


def audit_app(target: Target, app: AppTarget, options: AppOptions, store: ResultStore) -> AppReport:
    """Import, climb and (``options.run``) serve the application on one interpreter."""
    source = open_source(target, ScanOptions(), store)
    stdlib = source.stdlib_names()
    env = probe_environment(app.directory)
    ladder = Ladder(target.executable, options.timeout, stdlib, env=env)
    main = ladder.main_import(app.module, app.attribute)
    if not main.result.ok:
        raise AppError(f"{app.text} fails in the main interpreter (not a sub-interpreter problem): {main.result.error}")
    if app.attribute and not (main.attribute or {}).get("ok"):
        error = (main.attribute or {}).get("error") or "not found"
        raise AppError(f"{app.text}: the attribute {app.attribute} cannot be read: {error}")
    if options.run and (main.attribute or {}).get("kind") in (None, "object"):
        raise AppError(f"{app.text}: --run needs a callable to serve, an ASGI or WSGI app or a function "
                       f"(give module:attribute)")
    report = AppReport(target=app.text, module=app.module, attribute=app.attribute,
                       kind=(main.attribute or {}).get("kind"), python=source.python(),
                       graph_modules=len(main.modules), tool_version=__version__,
                       generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    report.python.chosen_because = target.chosen_because
    loaded = set(main.modules)
    graph = _graph_distributions(main.modules, source, stdlib, own=source.owner_of(app.module))
    extensions = [(m, p) for item in graph.values() for m, p in item.extensions if m in loaded]
    outcome = ladder.climb(app.module, [m for m, _ in extensions])
    result = DistributionResult(name=app.text, version="", import_names=[app.module])
    result.extensions = inspect_extensions(target.executable, extensions, timeout=options.timeout)
    judge(result, [outcome], [], None, source.owner_of, stdlib)
    if result.tier != "own-gil":
        with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
            report.distributions = list(pool.map(
                lambda name: _climb_distribution(name, graph[name], main.modules, loaded, ladder, source, options),
                graph))
    if options.run:
        report.run = _serve(ladder, app, report.kind, result, options, env, outcome.main_stdlib)
        apply_run(result, report.run)
    report.app, report.tier = result, result.tier
    report.blockers = app_blockers(result, report.distributions, report.run)
    report.degraded = [{"module": module, "distribution": source.owner_of(module), "rungs": result.degraded_in[module]}
                       for module in result.degraded_modules]
    report.known_problems = known_problems([result] + report.distributions)
    return report


def _graph_distributions(modules: list[str], source: AuditSource, stdlib: frozenset[str], own: Optional[str]) -> dict:
    """Installed distributions (name -> item) whose modules the import loaded, in load order,
    leaving out the application's own distribution."""
    items = {item.name: item for item in source.items()}
    names = [source.owner_of(m) for m in modules if m.split(".")[0] not in stdlib]
    return {name: items[name] for name in dict.fromkeys(names) if name and name != own and name in items}


def _climb_distribution(name: str, item, modules: list[str], loaded: set[str], ladder: Ladder,
                        source: AuditSource, options: AppOptions) -> DistributionResult:
    """The ladder of one distribution as the application uses it: its top-level names that the graph loaded."""
    names = public_names([m for m in modules if "." not in m and source.owner_of(m) == name])
    watched = source.watched_extensions(item)
    outcomes = [ladder.climb(top, watched) for top in names]
    result = DistributionResult(name=item.name, version=item.version, import_names=names)
    result.extensions = inspect_extensions(ladder.python, [(m, p) for m, p in item.extensions if m in loaded],
                                           timeout=options.timeout)
    return judge(result, outcomes, [], None, source.owner_of, ladder.stdlib_names)


def _serve(ladder: Ladder, app: AppTarget, kind: Optional[str], result: DistributionResult, options: AppOptions,
           env: dict[str, str], stdlib: list[str]) -> dict:
    """``--run`` from the rung the import reached, one rung down while it fails (as the smoke checks):
    the first rung's run, with ``rungs``: mode -> status.  A crash gets the control of the
    parallel smoke check: the same number of concurrent interpreters importing only ``stdlib``
    (the standard-library modules of the app's import)."""
    if result.tier not in SUB_TIERS:
        return {"status": "skipped", "ok": None, "reason": f"the application imports in no sub-interpreter ({result.tier})"}
    first, rungs = None, {}
    requests = [f"{app.attribute}()"] if kind == "callable" else options.requests
    for mode in (MODE_OF_TIER[result.tier], *rungs_below(MODE_OF_TIER[result.tier])):
        served = run_app(ladder.python, app.module, app.attribute, kind, mode, requests,
                         parallel=options.interpreters, timeout=options.timeout, stdlib_names=ladder.stdlib_names,
                         env=env)
        first = first or served
        rungs[mode] = served["status"]
        if served["status"] == "crashed":
            crash = served.get("crash") or {}
            suspect = crash.get("culprit") if crash.get("culprit_is_stdlib") else None
            result.controls.append(ladder.control("parallel", mode, stdlib, suspect))
        if served["status"] not in ("failed", "crashed"):
            break
    first["rungs"] = rungs
    return first
