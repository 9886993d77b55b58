"""Orchestrate a scan: target -> inventory -> plan -> workers -> store -> verdict -> findings.

Each distribution is audited by a worker thread that only starts and watches
child processes of the target interpreter; nothing from the audited packages
ever runs in this process.  Finished results are written to the store at once,
so an interrupted scan resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Optional

from interp_audit import __version__
from interp_audit.model import TIER_OF_MODE, DistributionResult, ExtensionInfo, InterpreterRun, ScanReport
from interp_audit.rules import registry
from interp_audit.rules.config import RuleConfig
from interp_audit.runtime.ladder import Ladder
from interp_audit.runtime.smoke import own_gil_blocker, run_smoke
from interp_audit.smoke_config import SnippetTable, snippets_for
from interp_audit.source.environment import EnvironmentSource
from interp_audit.source.interface import AuditItem, AuditSource
from interp_audit.source.stdlib import StdlibSource
from interp_audit.static.inspection import inspect_extensions
from interp_audit.store.interface import ResultStore
from interp_audit.target import Target
from interp_audit.verdict import judge, predict_from_static


MODE_OF_TIER = {tier: mode for mode, tier in TIER_OF_MODE.items()}


@dataclass
class ScanOptions:
    """What to scan and how."""

    names: list[str] = field(default_factory=list)
    stdlib: bool = False
    jobs: int = os.cpu_count() or 2
    timeout: float = 60.0
    static_only: bool = False
    smoke: bool = True
    snippets: Optional[SnippetTable] = None
    rules: Optional[RuleConfig] = None


#: Called as progress(event, detail): ("total", n) once per target, then ("cached", name)
#: or ("done", name) for each item.
ProgressCallback = Callable[[str, object], None]


def cache_key(run_python: str, python_version: str, item: AuditItem, options: ScanOptions) -> str:
    """Key of a result: interpreter, distribution, version, file hashes, tool version, options."""
    snippets = [s.code for s in snippets_for(item.name, item.import_names, options.snippets)] \
        if options.smoke else []
    material = [run_python, python_version, item.name, item.version, item.fingerprint, __version__,
                options.stdlib, options.timeout, options.static_only, options.smoke, snippets]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()


def _open_source(target: Target, options: ScanOptions) -> AuditSource:
    if options.stdlib:
        return StdlibSource(target.executable, options.names)
    return EnvironmentSource(target.executable, options.names)


def _bad_files(extensions: list[ExtensionInfo]) -> list[str]:
    """Input problems: extension files that cannot be read or cannot load here."""
    return [f"{info.module} ({info.path}): {info.evidence['binary_error']}"
            for info in extensions if info.evidence.get("binary_error")]


def audit_item(item: AuditItem, source: AuditSource, ladder: Ladder, options: ScanOptions) -> DistributionResult:
    """Audit one distribution (in worker processes) and judge it."""
    result = DistributionResult(
        name=item.name,
        version=item.version,
        import_names=list(item.import_names),
        summary=item.summary or None,
        problems=list(item.problems),
    )
    result.extensions = inspect_extensions(ladder.python, item.extensions, run_init=not options.static_only,
                                           timeout=options.timeout)
    result.problems += _bad_files(result.extensions)
    if options.static_only:
        result.static_only = True
        return predict_from_static(result)
    watched = source.watched_extensions(item)
    outcomes = [ladder.climb(name, watched) for name in item.import_names]
    judge(result, outcomes, source.owner_of, source.stdlib_names())
    if options.smoke and result.tier not in (None, "broken", "main-only"):
        _smoke(result, item, ladder, options)
    return result


def _smoke(result: DistributionResult, item: AuditItem, ladder: Ladder, options: ScanOptions) -> None:
    """Run the behaviour checks in the best mode that imports; a failure costs the own-gil tier."""
    mode = MODE_OF_TIER[result.tier]
    snippets = snippets_for(item.name, item.import_names, options.snippets)
    result.smoke = run_smoke(ladder.python, item.name, list(item.import_names),
                             [m for m, _ in item.extensions], mode, snippets, timeout=options.timeout,
                             stdlib_names=ladder.stdlib_names)
    if result.smoke.get("ok", True):
        return
    if not item.extensions and _only_crashes(result.smoke):
        result.notes.append("a smoke check crashed the process, but the distribution is pure Python: "
                            "that is a CPython bug, not counted against it (see the smoke details)")
        return
    result.flags.append("smoke-failed")
    blocker = own_gil_blocker(result.smoke)
    if blocker and result.tier == "own-gil":
        result.tier = "shared-gil"  # the smoke ran in isolated interpreters only
        result.notes.append(f"loses the own-gil tier: {blocker}")


def _only_crashes(smoke: dict) -> bool:
    """True when every failed smoke check failed by crashing the process."""
    failed = smoke.get("failed_checks") or []
    return bool(failed) and all((smoke.get(check) or {}).get("status") == "crashed" for check in failed)


def scan_target(target: Target, options: ScanOptions, store: ResultStore,
                progress: Optional[ProgressCallback] = None) -> InterpreterRun:
    """Audit every item of one target interpreter."""
    source = _open_source(target, options)
    python = source.python()
    python.chosen_because = target.chosen_because
    run_id = store.begin_run(python, source.scope, __version__)
    ladder = Ladder(target.executable, options.timeout, source.stdlib_names())
    items = source.items()
    if progress:
        progress("total", len(items))
    results: dict[str, DistributionResult] = {}
    pending: list[tuple[AuditItem, str]] = []
    for item in items:
        key = cache_key(target.executable, python.version, item, options)
        cached = store.get(key)
        if cached is not None:
            results[item.name] = cached
            store.record(run_id, key, cached)
            if progress:
                progress("cached", item.name)
        else:
            pending.append((item, key))
    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        futures = {pool.submit(audit_item, item, source, ladder, options): (item, key) for item, key in pending}
        for future in as_completed(futures):
            item, key = futures[future]
            result = future.result()
            store.put(key, python, result)
            store.record(run_id, key, result)
            results[item.name] = result
            if progress:
                progress("done", item.name)
    store.finish_run(run_id)
    ordered = [results[item.name] for item in items]
    if options.stdlib:
        ordered = [r for r in ordered if r.tier != "broken"]
    for result in ordered:
        result.findings = registry.evaluate(result, options.rules, python)
    return InterpreterRun(python=python, distributions=ordered, scope=source.scope)


def scan(targets: list[Target], options: ScanOptions, store: ResultStore,
         progress: Optional[ProgressCallback] = None) -> ScanReport:
    """Audit every target into one report."""
    report = ScanReport(tool_version=__version__,
                        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    for target in targets:
        report.interpreters.append(scan_target(target, options, store, progress))
    return report
