"""Audit one distribution: static evidence, the interpreter ladder, the verdict and the smoke checks.

Everything here starts and watches child processes of the target interpreter;
nothing from the audited package runs in this process.
"""

from __future__ import annotations

from interp_audit.model import TIER_OF_MODE, DistributionResult, ExtensionInfo
from interp_audit.runtime.ladder import Ladder
from interp_audit.runtime.smoke import own_gil_blocker, run_smoke
from interp_audit.scan import ScanOptions
from interp_audit.smoke_config import snippets_for
from interp_audit.source.interface import AuditItem, AuditSource
from interp_audit.static.inspection import inspect_extensions
from interp_audit.verdict import judge, predict_from_static

MODE_OF_TIER = {tier: mode for mode, tier in TIER_OF_MODE.items()}


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
