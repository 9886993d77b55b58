"""Audit one distribution: static evidence, the ladder, the walk of public submodules,
the smoke checks per rung and the crash controls, then the verdict.

Everything here starts and watches child processes of the target interpreter;
nothing from the audited package runs in this process.  What the results mean
is decided in ``auditor/verdict.py`` alone.
"""

from __future__ import annotations

from interp_audit.model import REFUSAL, SMOKE_CHECKS, Control, DistributionResult, ExtensionInfo, SmokeReport
from interp_audit.options import ScanOptions
from interp_audit.runtime.ladder import SINGLE_PHASE_STAND_IN, Ladder, NameOutcome, Walk, refused_where_checked
from interp_audit.runtime.smoke import run_smoke
from interp_audit.smoke_config import snippets_for
from interp_audit.source.interface import AuditItem, AuditSource
from interp_audit.static.inspection import inspect_extensions
from interp_audit.verdict import (
    MODE_OF_TIER,
    import_tier,
    judge,
    only_cpython_code,
    predict_from_static,
    public_names,
    rungs_below,
    smoke_failures,
)


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
    names = [name for name in public_names(item.import_names) if not options.excluded(name)]
    excluded = [m for m in options.ignore_modules if m.split(".")[0] in item.import_names]
    refused = refused_where_checked(result.extensions)
    outcomes = [ladder.climb(name, watched, refused=refused) for name in names]
    walk, climbs, same_as = None, [], {}
    tier = import_tier(outcomes)
    if tier in ("own-gil", "shared-gil", "legacy-only") and not options.stdlib:
        importing = [o.name for o in outcomes if o.modes["main"].ok]
        walk = ladder.walk(importing, watched, MODE_OF_TIER[tier], options.ignore_modules)
        climbs, same_as = _climb_failing(walk, ladder, watched, importing, options.ignore_modules, refused)
        tier = import_tier(outcomes, climbs)
    if options.smoke and tier in ("own-gil", "shared-gil", "legacy-only"):
        runs = outcomes + climbs + ([walk] if walk else [])
        stdlib = {m for run in runs for m in run.main_stdlib}
        others = {m for run in runs for m in run.main_others}
        result.smoke, result.controls = _smoke(item, names, ladder, options, MODE_OF_TIER[tier],
                                               _control_imports(stdlib, outcomes + climbs, result.extensions))
        has_native_files = _native_files_of(item, source)
        for control in result.controls:
            control.no_native_code = not control.crashed and control.mode == result.smoke.mode and only_cpython_code(
                has_native_files, stdlib, others, len(result.smoke.snippets_used),
                result.smoke.check(control.kind).crash)
    return judge(result, outcomes, climbs, walk, source.owner_of, source.stdlib_names(), excluded, same_as)


def _native_files_of(item: AuditItem, source: AuditSource):
    """``top -> bool``: whether the distribution that provides top-level module ``top`` ships
    extension modules or native libraries (unknown owners count as native)."""
    shipping = {i.name for i in source.items() if i.extensions} | ({item.name} if item.extensions else set())

    def has_native_files(top: str) -> bool:
        owner = source.owner_of(top)
        return owner is None or owner in shipping

    return has_native_files


def _control_imports(stdlib: set[str], outcomes: list[NameOutcome], extensions: list[ExtensionInfo]) -> list[str]:
    """What a smoke control imports instead of the package: ``stdlib``, the standard-library modules
    its imports and its walk loaded (the smoke checks walk the same submodules), plus CPython's own
    single-phase test module when the package has a single-phase module or loads one that
    refused a checked interpreter (legacy interpreters only load those)."""
    imports = set(stdlib)
    refused = any(REFUSAL.search(text) for o in outcomes for mode in o.modes.values()
                  for scenario in (mode.alone, mode.beside_main) if scenario for text in scenario.error_chain)
    if refused or any(info.init == "single-phase" for info in extensions):
        imports.add(SINGLE_PHASE_STAND_IN)
    return sorted(imports)


def _climb_failing(walk: Walk, ladder: Ladder, watched: list[str], names: list[str], exclude: list[str],
                   refused: frozenset[str]) -> tuple[list[NameOutcome], dict[str, str]]:
    """Climb the submodules that failed the walk, from the walk's rung down: one per distinct
    error (the module the error names, else the shortest name).  The others that failed with
    the same error are walked again on each rung below; those that fail and pass there
    exactly as the one that climbed are returned as module -> that one, the rest climb too.
    ``refused``: as for :meth:`Ladder.climb`."""
    groups: dict[str, list[str]] = {}
    for module, error in sorted(walk.failing.items(), key=lambda item: (item[0] not in item[1], len(item[0]), item[0])):
        groups.setdefault(error, []).append(module)
    climbed = {modules[0]: ladder.climb(modules[0], watched, start=walk.mode, refused=refused) for modules in groups.values()}
    same_as = {module: modules[0] for modules in groups.values() for module in modules[1:]}
    below = [mode for mode in rungs_below(walk.mode) if mode not in ladder.unsupported]
    if same_as and below:
        failing = {mode: set(ladder.walk(names, watched, mode, exclude, modules=sorted(same_as)).failing)
                   for mode in below}
        for module, rep in list(same_as.items()):
            if any((module in failing[mode]) != (climbed[rep].modes[mode].ok is False) for mode in below):
                del same_as[module]
                climbed[module] = ladder.climb(module, watched, start=walk.mode, refused=refused)
    return list(climbed.values()), same_as


def _smoke(item: AuditItem, names: list[str], ladder: Ladder, options: ScanOptions, mode: str,
           stdlib: list[str]) -> tuple[SmokeReport, list[Control]]:
    """Run the smoke checks in ``mode``; a check that fails there runs again one rung
    down, until it passes or the legacy rung failed too.  A crashed check gets a
    control first: a crash the standard library alone reproduces fails nothing.

    Returns the first rung's report, with ``rungs``: check -> {mode: status} for
    every check that failed or crashed anywhere, and the controls that ran."""
    snippets = snippets_for(item.name, item.import_names, options.snippets)

    def run(mode: str, checks=SMOKE_CHECKS) -> SmokeReport:
        return run_smoke(ladder.python, item.name, names, [m for m, _ in item.extensions], mode, snippets,
                         timeout=options.timeout, stdlib_names=ladder.stdlib_names, checks=checks,
                         exclude=options.ignore_modules)

    report = checks = run(mode)
    ran: tuple[str, ...] = SMOKE_CHECKS
    rungs: dict[str, dict[str, str]] = {}
    controls: list[Control] = []
    while True:
        for check in ran:
            crash = checks.check(check).crash
            if checks.check(check).status == "crashed":
                suspect = crash.culprit if crash and crash.culprit_is_stdlib else None
                controls.append(ladder.control(check, mode, stdlib, suspect))
        for check in checks.failed_checks:
            rungs.setdefault(check, {})
        for check in rungs:
            if check in ran:
                rungs[check][mode] = checks.check(check).status
        failing = smoke_failures(checks, mode, controls)
        below = rungs_below(mode)
        if not failing or not below:
            break
        mode, ran = below[0], tuple(failing)
        checks = run(mode, ran)
    report.rungs = rungs
    return report, controls

