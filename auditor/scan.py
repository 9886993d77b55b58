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
from interp_audit.model import DistributionResult, InterpreterRun, ScanReport
from interp_audit.runtime.ladder import Ladder
from interp_audit.source.environment import EnvironmentSource
from interp_audit.source.interface import AuditItem, AuditSource
from interp_audit.source.stdlib import StdlibSource
from interp_audit.store.interface import ResultStore
from interp_audit.target import Target
from interp_audit.verdict import judge


@dataclass
class ScanOptions:
    """What to scan and how."""

    names: list[str] = field(default_factory=list)
    stdlib: bool = False
    jobs: int = os.cpu_count() or 2
    timeout: float = 60.0


#: Called as progress(event, detail): ("total", n) once per target, then ("cached", name)
#: or ("done", name) for each item.
ProgressCallback = Callable[[str, object], None]


def cache_key(run_python: str, python_version: str, item: AuditItem, options: ScanOptions) -> str:
    """Key of a result: interpreter, distribution, version, file hashes, tool version, options."""
    material = [run_python, python_version, item.name, item.version, item.fingerprint, __version__,
                options.stdlib, options.timeout]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()


def _open_source(target: Target, options: ScanOptions) -> AuditSource:
    if options.stdlib:
        return StdlibSource(target.executable, options.names)
    return EnvironmentSource(target.executable, options.names)


def audit_item(item: AuditItem, source: AuditSource, ladder: Ladder) -> DistributionResult:
    """Audit one distribution (in worker processes) and judge it."""
    result = DistributionResult(
        name=item.name,
        version=item.version,
        import_names=list(item.import_names),
        summary=item.summary or None,
        problems=list(item.problems),
    )
    watched = source.watched_extensions(item)
    outcomes = [ladder.climb(name, watched) for name in item.import_names]
    return judge(result, outcomes, source.owner_of, source.stdlib_names())


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
        futures = {pool.submit(audit_item, item, source, ladder): (item, key) for item, key in pending}
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
    return InterpreterRun(python=python, distributions=ordered, scope=source.scope)


def scan(targets: list[Target], options: ScanOptions, store: ResultStore,
         progress: Optional[ProgressCallback] = None) -> ScanReport:
    """Audit every target into one report."""
    report = ScanReport(tool_version=__version__,
                        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    for target in targets:
        report.interpreters.append(scan_target(target, options, store, progress))
    return report
