"""Orchestrate a scan: target -> inventory -> plan -> workers -> store -> verdict -> findings.

Each distribution is audited by a worker thread that only starts and watches
child processes of the target interpreter; nothing from the audited packages
ever runs in this process.  Finished results are written to the store at once,
so an interrupted scan resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timezone
from typing import Callable, Optional

from interp_audit import __version__
from interp_audit.model import DistributionResult, InterpreterRun, PythonInfo, ScanReport
from interp_audit.options import ScanOptions
from interp_audit.rules import registry
from interp_audit.smoke_config import snippets_for
from interp_audit.source.environment import EnvironmentSource
from interp_audit.source.interface import AuditItem, AuditSource
from interp_audit.source.inventory import stored_inventory
from interp_audit.source.stdlib import StdlibSource
from interp_audit.store.interface import ResultStore
from interp_audit.target import Target
from interp_audit.verdict import known_problems


#: Called as progress(event, detail): ("total", n) once per target, then ("cached", name)
#: or ("done", name) for each item.
ProgressCallback = Callable[[str, object], None]


def cache_key(run_python: str, python_version: str, item: AuditItem, options: ScanOptions) -> str:
    """Key of a result: interpreter, distribution, version, file hashes, tool version, options."""
    snippets = [s.code for s in snippets_for(item.name, item.import_names, options.snippets)] \
        if options.smoke else []
    material = [run_python, python_version, item.name, item.version, item.fingerprint, __version__,
                options.stdlib, options.timeout, options.static_only, options.smoke, snippets,
                sorted(options.ignore_modules)]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()


def open_source(target: Target, options: ScanOptions, store: ResultStore) -> AuditSource:
    document = stored_inventory(target.executable, target.sys_path, store, stdlib=options.stdlib)
    if options.stdlib:
        return StdlibSource(target.executable, options.names, document)
    return EnvironmentSource(target.executable, options.names, document)


def scan_target(target: Target, options: ScanOptions, store: ResultStore,
                progress: Optional[ProgressCallback] = None) -> InterpreterRun:
    """Audit every item of one target interpreter."""
    source = open_source(target, options, store)
    python = source.python()
    python.chosen_because = target.chosen_because
    run_id = store.begin_run(python, source.scope, __version__)
    items = source.items()
    if progress:
        progress("total", len(items))
    results: dict[str, DistributionResult] = {}
    keys: dict[str, str] = {}
    pending: list[tuple[AuditItem, str]] = []
    stored: list[tuple[str, DistributionResult]] = []
    for item in items:
        key = keys[item.name] = cache_key(target.executable, python.version, item, options)
        cached = store.get(key)
        if cached is not None:
            results[item.name] = cached
            stored.append((key, cached))
            if progress:
                progress("cached", item.name)
        else:
            pending.append((item, key))
    store.record(run_id, stored)
    if pending:
        _audit_pending(pending, target, source, python, options, store, run_id, results, progress)
    store.finish_run(run_id)
    ordered = [results[item.name] for item in items]
    if options.stdlib:
        ordered = [r for r in ordered if r.tier != "broken"]
    _judge_by_rules(ordered, keys, options, python, store)
    return InterpreterRun(python=python, distributions=ordered, scope=source.scope,
                          known_problems=known_problems(ordered))


def _judge_by_rules(results: list[DistributionResult], keys: dict[str, str], options: ScanOptions,
                    python: PythonInfo, store: ResultStore) -> None:
    """Set each result's findings: stored ones while the rules configuration is unchanged, else from the rules."""
    rules = hashlib.sha256(repr((__version__, python.version, options.rules)).encode()).hexdigest()
    new = []
    for result in results:
        found = store.get_findings(keys[result.name], rules)
        if found is None:
            found = registry.evaluate(result, options.rules, python)
            new.append((keys[result.name], found))
        result.findings = found
    store.put_findings(rules, new)


def _audit_pending(pending: list[tuple[AuditItem, str]], target: Target, source: AuditSource, python: PythonInfo,
                   options: ScanOptions, store: ResultStore, run_id: int, results: dict[str, DistributionResult],
                   progress: Optional[ProgressCallback]) -> None:
    """Audit what the store did not have, ``options.jobs`` at a time, storing each result when it is done.

    The auditing machinery is imported here, not at module level: a re-scan
    served from the store never needs it.
    """
    from interp_audit.audit import audit_item
    from interp_audit.runtime.ladder import Ladder

    ladder = Ladder(target.executable, options.timeout, source.stdlib_names())
    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        futures = {pool.submit(audit_item, item, source, ladder, options): (item, key) for item, key in pending}
        for future in as_completed(futures):
            item, key = futures[future]
            result = future.result()
            store.put(key, python, result)
            store.record(run_id, [(key, result)])
            results[item.name] = result
            if progress:
                progress("done", item.name)


def scan(targets: list[Target], options: ScanOptions, store: ResultStore,
         progress: Optional[ProgressCallback] = None) -> ScanReport:
    """Audit every target into one report."""
    report = ScanReport(tool_version=__version__,
                        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    for target in targets:
        report.interpreters.append(scan_target(target, options, store, progress))
    return report
