"""The one place that decides: whether a rung passes, each module's tier, the
distribution's tier, its flags, culprit and notes.

Inputs are observations only: ladder outcomes of the top-level names and of the
public submodules that climbed, the walk, the smoke checks per rung, and the
crash controls.  The rules (see the README's glossary and docs/json-schema.md):

* a rung passes when both scenarios import, with or without the
  distribution's extension modules (without them: ``degraded``, still a pass);
* a crash that a control reproduces with the standard library alone is
  CPython's: it does not fail the rung when every import had finished, and
  leaves the rung undecided when it came first; so is a smoke crash that stopped
  outside any Python frame when nothing but CPython's native code ran
  (:func:`only_cpython_code`);
* the tier of a module is the strictest passing rung; the distribution's is the
  worst over its top-level names that import in main and the climbed submodules,
  then lowered to the strictest rung where the smoke checks pass too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable, Iterable, Optional

from interp_audit.model import (
    FLAGS,
    MODES,
    REFUSAL,
    SMOKE_FAILING_CHECKS,
    TIER_OF_MODE,
    BlockedBy,
    Blocker,
    Control,
    Crash,
    DistributionResult,
    ExtensionInfo,
    KnownProblem,
    ModeResult,
    ModuleResult,
    ScenarioResult,
    SmokeReport,
    tier_rank,
)

if TYPE_CHECKING:
    from interp_audit.runtime.ladder import NameOutcome, Walk

SUB_MODES = MODES[:-1]


def rungs_below(mode: str) -> tuple[str, ...]:
    """The sub-interpreter rungs below ``mode``, strictest first."""
    return SUB_MODES[SUB_MODES.index(mode) + 1:]
MODE_OF_TIER = {tier: mode for mode, tier in TIER_OF_MODE.items()}
UNDECIDED = ("undecided: the process crashed before the import finished, and the standard library alone "
             "crashes the same way (CPython's problem)")

#: Top-level names that are no public API: ``_``-prefixed ones (PyYAML's ``_yaml`` shim) and
#: mypyc's shared runtime module (``<hash>__mypyc``, e.g. tomli's).
PRIVATE_TOP_LEVEL = re.compile(r"^_|__mypyc$")


def public_names(import_names: Iterable[str]) -> list[str]:
    """The top-level names that count: the public ones, or all of them when none is public.
    A private one matters through the public names that import it (e.g. ``degraded``)."""
    names = list(import_names)
    return [n for n in names if not PRIVATE_TOP_LEVEL.search(n)] or names


# --------------------------------------------------------------------------- rungs


def cpython_control(controls: Iterable[Control], kind: str, mode: str) -> Optional[Control]:
    """The control of scenario or check ``kind`` in ``mode`` that shows the crash is CPython's, if any."""
    return next((c for c in controls if c.kind == kind and c.mode == mode and c.cpython), None)


#: What CPython's fault handler prints when the crashing thread was running no Python code.
NO_PYTHON_FRAME = "<no Python frame>"
#: Standard-library modules that let Python code run any native code.
NATIVE_GATEWAYS = frozenset({"ctypes", "_ctypes"})


def only_cpython_code(has_native_files: Callable[[str], bool], stdlib_loaded: Iterable[str],
                      others_loaded: Iterable[str], snippets: int, crash: Optional[Crash]) -> bool:
    """Whether a crash that no control reproduced can only be CPython's: it stopped outside any
    Python frame (not a deliberate ``os.abort()``, not a hang), no smoke snippet ran, the
    import and walk loaded no ctypes (``stdlib_loaded``), and none of the other top-level
    modules they loaded comes from a distribution that ships extension modules or native
    libraries (``has_native_files(top)``).  Pure-Python code cannot corrupt memory by itself."""
    if crash is None or crash.timeout or snippets or NO_PYTHON_FRAME not in crash.stderr_tail:
        return False
    if NATIVE_GATEWAYS & set(stdlib_loaded):
        return False
    return not any(has_native_files(top) for top in others_loaded)


def scenario_passes(scenario: ScenarioResult, cpython: Optional[Control]) -> Optional[bool]:
    """True, False, or None when a CPython crash hid the outcome of the import."""
    if scenario.error_chain or scenario.crash is None:
        return scenario.ok and not scenario.error_chain
    if cpython is None:
        return False
    return True if scenario.crash.at_shutdown else None


def rung_outcome(alone: ScenarioResult, beside_main: ScenarioResult, controls: list[Control]) -> ModeResult:
    """A rung of the ladder: passes only when both scenarios pass."""
    mode = next((c.mode for c in controls), None)
    passes = {kind: scenario_passes(scenario, cpython_control(controls, kind, mode))
              for kind, scenario in (("alone", alone), ("beside_main", beside_main))}
    ok = False if False in passes.values() else None if None in passes.values() else True
    failing = alone if passes["alone"] is not True else beside_main
    error = None if ok else UNDECIDED if ok is None else failing.error
    return ModeResult(ok=ok, error=error, crash=alone.crash or beside_main.crash, alone=alone, beside_main=beside_main)


def name_tier(modes: dict[str, ModeResult]) -> str:
    """Strictest passing rung of one module, or ``broken`` when main fails."""
    main = modes.get("main")
    if main is None or not main.ok:
        return "broken"
    for mode in MODES:
        if modes.get(mode) and modes[mode].ok:
            return TIER_OF_MODE[mode]
    return "main-only"


def worst(tiers: Iterable[Optional[str]]) -> Optional[str]:
    known = [t for t in tiers if t]
    return max(known, key=tier_rank) if known else None


def import_tier(outcomes: list["NameOutcome"], climbs: Iterable["NameOutcome"] = ()) -> Optional[str]:
    """The distribution's tier from its imports (before the smoke checks): top-level
    names failing in main do not count while another name imports."""
    tiers = [name_tier(o.modes) for o in outcomes]
    counted = [t for t in tiers if t != "broken"]
    if not counted:
        return worst(tiers)
    return worst(counted + [name_tier(o.modes) for o in climbs])


# --------------------------------------------------------------------------- CPython's own problems


def problem_id(control: Control) -> str:
    """Stable id of the CPython problem a control shows, e.g. ``parallel/isolated/_datetime``
    (``parallel/isolated/pure-python`` for a crash decided by :func:`only_cpython_code`)."""
    if not control.crashed:
        return "/".join([control.kind, control.mode, "pure-python"])
    return "/".join([control.kind, control.mode, "+".join(control.imports) or "nothing"])


def known_problems(results: Iterable[DistributionResult]) -> list[KnownProblem]:
    """The interpreter's problems that the audits ran into, each with the distributions that hit it."""
    problems: dict[str, KnownProblem] = {}
    for result in results:
        for control in result.controls:
            if not control.cpython:
                continue
            key = problem_id(control)
            problem = problems.setdefault(key, KnownProblem(id=key, kind=control.kind, mode=control.mode,
                                                            reproduction=control.imports, what=_what_crashes(control)))
            if result.name not in problem.distributions:
                problem.distributions.append(result.name)
    return sorted(problems.values(), key=lambda p: p.id)


def _what_crashes(control: Control) -> str:
    crash = control.crash
    if crash is None:
        how = "crashes"
    elif crash.timeout:
        how = "hangs"
    else:
        how = f"crashes ({crash.signal or f'exit status {crash.returncode}'})"
    where = {"alone": "one sub-interpreter", "beside_main": "main and then two sub-interpreters"}.get(
        control.kind, f"the {control.kind} smoke check's sub-interpreters")
    if not control.crashed:
        return (f"running only pure-Python packages in {where} of kind {control.mode} {how} outside any "
                f"Python frame (the standard library alone did not reproduce it in {control.runs} runs)")
    imports = ", ".join(control.imports) or "nothing"
    return f"importing only the standard library ({imports}) in {where} of kind {control.mode} {how}"


# --------------------------------------------------------------------------- smoke


def smoke_failures(checks: SmokeReport, mode: str, controls: Iterable[Control]) -> list[str]:
    """Checks of one smoke run in ``mode`` that fail, leaving out crashes that a
    standard-library control reproduces or another failing check explains."""
    failed = []
    for check in SMOKE_FAILING_CHECKS:
        status, crash = checks.check(check).status, checks.check(check).crash
        if status == "failed" or (status == "crashed" and not (crash and crash.explained_by)
                                  and cpython_control(controls, check, mode) is None):
            failed.append(check)
    return failed


def smoke_tier(smoke: SmokeReport, controls: list[Control]) -> tuple[Optional[str], list[str]]:
    """The tier the smoke checks allow and the checks that failed in its first rung.

    ``smoke.rungs`` maps each failing check to {mode: status} for every rung it
    ran in; a check passes in the rungs below the last one it failed in only where
    it ran there and passed.
    """
    return checks_tier(smoke.mode, smoke.rungs, controls)


def checks_tier(first: str, rungs: dict[str, dict[str, str]], controls: list[Control]) -> tuple[Optional[str], list[str]]:
    """The tier that behaviour checks first run in rung ``first`` allow (``rungs``: failing
    check -> {mode: status}), and the checks that failed in ``first``."""
    if first == "main":
        return None, []
    failed_first = [c for c, seen in rungs.items() if _fails(c, first, seen.get(first), controls)]
    for mode in SUB_MODES[SUB_MODES.index(first):]:
        if not any(_fails(c, mode, seen.get(mode, "not run"), controls) for c, seen in rungs.items()
                   if c in failed_first):
            return TIER_OF_MODE[mode], failed_first
    return "main-only", failed_first


def _fails(check: str, mode: str, status: Optional[str], controls: list[Control]) -> bool:
    if status == "not run":
        return True  # never shown to pass there
    return status == "failed" or (status == "crashed" and cpython_control(controls, check, mode) is None)


# --------------------------------------------------------------------------- the distribution


def judge(result: DistributionResult, outcomes: list["NameOutcome"], climbs: list["NameOutcome"],
          walk: Optional["Walk"], owner_of: Callable[[str], Optional[str]], stdlib_names: frozenset[str],
          excluded: Iterable[str] = (), same_as: Optional[dict[str, str]] = None) -> DistributionResult:
    """Fill the verdict of ``result`` from everything observed.  ``same_as`` maps a submodule
    that failed the walk to the one that climbed for it (the same error)."""
    result.excluded_modules = sorted(set(excluded))
    result.controls = [c for o in outcomes + climbs for c in o.controls] + result.controls
    result.modules = [_module(o, "top-level", None) for o in outcomes]
    result.modules += [_module(o, "submodule", walk.failing.get(o.name) if walk else None) for o in climbs]
    climbed = {m.name: m for m in result.modules if m.kind == "submodule"}
    result.modules += [ModuleResult(name=name, kind="submodule", tier=climbed[rep].tier, error=walk.failing.get(name),
                                    inferred=f"not climbed: it failed the walk with the same error as {rep}, "
                                             f"which climbed, and failed or passed as it did in the walks of "
                                             f"the rungs below")
                       for name, rep in sorted((same_as or {}).items())]
    result.modules += [ModuleResult(name=name, kind="excluded", excluded=True) for name in result.excluded_modules]
    for name in sorted(set(result.import_names) - set(public_names(result.import_names))):
        result.notes.append(f"{name} is a private top-level module: not climbed or counted on its own "
                            f"(the public names that import it show what it does)")
    if not outcomes:
        result.notes.append("no importable top-level names: nothing to import")
        return result
    counted = [m for m in result.modules if not m.excluded and m.tier != "broken"]
    if not any(m.kind == "top-level" for m in counted):
        counted = [m for m in result.modules if m.kind == "top-level"]
    result.tier = worst(m.tier for m in counted)
    result.modes = next(m.modes for m in counted if m.tier == result.tier and m.modes)
    for module in result.modules:
        if module.tier == "broken" and module not in counted:
            where = "the main interpreter too" if module.kind == "top-level" else \
                "a fresh main interpreter on its own (it needs another module imported first)"
            result.notes.append(f"{module.name} fails in {where} and is not counted: {module.error}")
        if module.excluded:
            result.notes.append(f"{module.name} is excluded (ignore-modules): not imported or counted")
    _flags(result, outcomes + climbs, walk, owner_of, stdlib_names)
    if result.smoke is not None:
        _apply_smoke(result)
    _mark_cpython_problems(result)
    result.flags = [f for f in FLAGS if f in result.flags]
    return result


def _mark_cpython_problems(result: DistributionResult) -> None:
    """Each control that shows a CPython problem names it; the result lists them."""
    for control in result.controls:
        control.problem = problem_id(control) if control.cpython else None
    result.cpython_problems = sorted({c.problem for c in result.controls if c.problem})


def _module(outcome: "NameOutcome", kind: str, why: Optional[str]) -> ModuleResult:
    tier = name_tier(outcome.modes)
    main = outcome.modes.get("main")
    error = main.error if tier == "broken" and main is not None else why
    return ModuleResult(name=outcome.name, kind=kind, tier=tier, modes=outcome.modes, error=error)


def _scenarios(modes: dict[str, ModeResult]):
    """(mode, kind, scenario) of every scenario that ran or was inferred."""
    for mode, result in modes.items():
        for kind, scenario in (("alone", result.alone), ("beside_main", result.beside_main)):
            if scenario is not None:
                yield mode, kind, scenario


def _framework_of(module: Optional[str], extensions: list[ExtensionInfo]) -> Optional[str]:
    for info in extensions:
        if module and (info.module == module or info.module.startswith(module + ".")):
            return info.framework.name if info.framework else None
    return None


def _flags(result: DistributionResult, outcomes: list["NameOutcome"], walk: Optional["Walk"],
           owner_of: Callable[[str], Optional[str]], stdlib_names: frozenset[str]) -> None:
    flags: list[str] = []
    blocked: dict[str, BlockedBy] = {}
    own_extensions = [info.module for info in result.extensions]
    own_tops = {n.split(".")[0] for n in result.import_names}
    for outcome in outcomes:
        if name_tier(outcome.modes) == "broken" and outcome.name in result.import_names:
            continue
        for mode, kind, scenario in _scenarios(outcome.modes):
            if mode == "main":
                continue
            for module in scenario.missing_extensions:
                _degraded(result, module, mode)
            if scenario.crash and cpython_control(outcome.controls, kind, mode) is None:
                flags.append("crashed")
                result.culprit = result.culprit or scenario.crash.culprit
            for text in scenario.error_chain:
                match = REFUSAL.search(text)
                if not match:
                    continue
                own = _own_extension(match.group(1), own_extensions)
                module = own or match.group(1)
                result.culprit = result.culprit or module
                if own or module.split(".")[0] in own_tops:
                    continue
                is_stdlib = module.split(".")[0] in stdlib_names
                blocked.setdefault(module, BlockedBy(
                    module=module,
                    distribution=None if is_stdlib else owner_of(module),
                    stdlib=is_stdlib,
                    message=text,
                ))
        for mode in SUB_MODES:
            mode_result = outcome.modes.get(mode)
            if mode_result is None or mode_result.alone is None or mode_result.beside_main is None:
                continue
            refused = mode_result.beside_main
            if mode_result.alone.ok and not refused.ok and refused.crash is None:
                flags.append("one-per-process")
                module = _refusing_module(refused) or outcome.name
                result.culprit = result.culprit or module
                entry = {"mode": mode, "module": module, "refusal": refused.error,
                         "framework": _framework_of(module, result.extensions)}
                if entry not in result.one_per_process:
                    result.one_per_process.append(entry)
    if walk is not None:
        for module in walk.missing_extensions:
            _degraded(result, module, walk.mode)
        for module, error in walk.optional.items():
            result.notes.append(f"{module} fails in {walk.mode} interpreters ({error}), and the modules that "
                                f"import it do without it (an optional accelerator): not climbed")
    if result.degraded_modules:
        flags.append("degraded")
    if blocked:
        flags.append("blocked-by")
        result.blocked_by = list(blocked.values())
    result.flags = flags


def _degraded(result: DistributionResult, module: str, mode: str) -> None:
    if module not in result.degraded_modules:
        result.degraded_modules.append(module)
    rungs = result.degraded_in.setdefault(module, [])
    if mode not in rungs:
        rungs.append(mode)
        rungs.sort(key=MODES.index)


def _apply_smoke(result: DistributionResult) -> None:
    """Lower the tier to the strictest rung where the smoke checks pass too."""
    tier, failed = smoke_tier(result.smoke, result.controls)
    if not failed or tier is None:
        return
    result.flags.append("smoke-failed")
    if tier_rank(tier) <= tier_rank(result.tier):
        return
    first = result.smoke.mode
    passing = f"pass in {MODE_OF_TIER[tier]} interpreters" if tier != "main-only" else "fail in every rung below"
    result.notes.append(f"smoke checks fail in {first} interpreters ({', '.join(failed)}) and {passing}: "
                        f"{result.tier} -> {tier}")
    result.tier = tier


def _own_extension(module: str, extensions: list[str]) -> Optional[str]:
    """The dotted name of the extension in ``extensions`` that CPython called
    ``module`` (its PyModuleDef's m_name, often a bare leaf like ``_regex`` for
    ``regex._regex``), or None when it is none of them."""
    return next((ext for ext in extensions if ext == module or ext.endswith("." + module)), None)


def _refusing_module(scenario: ScenarioResult) -> Optional[str]:
    if scenario.failed_module:
        return scenario.failed_module
    for text in scenario.error_chain:
        match = REFUSAL.search(text)
        if match:
            return match.group(1)
    return None


#: Tier a module's effective Py_mod_multiple_interpreters value allows.
TIER_OF_DECLARATION = {"per-interpreter-gil": "own-gil", "supported": "shared-gil", "not-supported": "legacy-only"}


def predict_from_static(result: DistributionResult,
                        note: str = "tier predicted from static evidence only (--static-only): nothing was imported",
                        ) -> DistributionResult:
    """Predict the tier from declared init kinds and slots alone (``--static-only``, ``interp-audit wheel``).

    Nothing was imported, so ``modes`` stays empty and ``note`` says so.
    Declarations never predict worse than legacy-only, so while a module's
    declarations are unknown a legacy-only prediction still holds, and a
    better one is not made (the tier stays None, a note names the modules).
    """
    tiers = ["own-gil"]
    undecided = []
    for info in result.extensions:
        if info.init == "single-phase":
            tiers.append("legacy-only")
        elif info.init == "multi-phase" and (info.multiple_interpreters_effective or info.multiple_interpreters):
            tiers.append(TIER_OF_DECLARATION[info.multiple_interpreters_effective or info.multiple_interpreters])
        elif info.init in ("multi-phase", "unknown"):
            undecided.append(info.module)
    result.tier = max(tiers, key=tier_rank)
    if undecided and tier_rank(result.tier) < tier_rank("legacy-only"):
        result.notes.append(f"no predicted tier (at best {result.tier}): declarations unknown for "
                            + ", ".join(undecided))
        result.tier = None
    result.notes.append(note)
    return result

# --------------------------------------------------------------------------- an application


SUB_TIERS = tuple(TIER_OF_MODE[mode] for mode in SUB_MODES)


def app_blockers(app: DistributionResult, graph: list[DistributionResult], run: Optional[dict] = None) -> list[Blocker]:
    """What keeps an application (judged like a distribution whose one name is its target)
    below own-gil: every distribution of its import graph with a worse tier, and its own code
    (or its behaviour under ``--run``) when none of them explains its tier.  Worst first:
    ranked by how far each lowers the tier."""
    found = [_blocker(dist, dist.name) for dist in graph if dist.tier in SUB_TIERS[1:] + ("main-only",)]
    explained = worst(b.tier for b in found)
    if app.tier in SUB_TIERS[1:] + ("main-only",) and (explained is None or tier_rank(app.tier) > tier_rank(explained)):
        own = _blocker(app, None)
        if run and run.get("status") in ("failed", "crashed") and TIER_OF_MODE[run["mode"]] != app.tier:
            own.reason = f"--run {run['status']} in {', '.join(m for m, s in run['rungs'].items() if s != 'passed')} " \
                         f"interpreters: {_run_problem(run)}"
        found.append(own)
    return sorted(found, key=lambda b: (-tier_rank(b.tier), b.module))


def _run_problem(run: dict) -> str:
    crash = run.get("crash")
    if crash:
        what = "the worker process hung" if crash.get("timeout") else "the worker process crashed"
        return what + (f" in {crash['culprit']}" if crash.get("culprit") else "")
    if run.get("differences"):
        return f"{len(run['differences'])} answers differ from the main interpreter's"
    return f"{len(run.get('errors', []))} errors seen only in sub-interpreters"


def _blocker(result: DistributionResult, distribution: Optional[str]) -> Blocker:
    module, framework, reason = result.culprit or result.import_names[0], None, None
    if result.one_per_process:
        entry = result.one_per_process[0]
        module, framework = entry["module"], entry["framework"]
        reason = "one interpreter per process"
    elif "crashed" in result.flags:
        reason = f"crashes the process while importing {module}"
    elif result.blocked_by:
        blocked = result.blocked_by[0]
        module = blocked.module
        reason = f"refuses sub-interpreters ({'standard library' if blocked.stdlib else blocked.distribution})"
    if reason is None:
        failing = next((m for m in SUB_MODES if result.modes.get(m) and result.modes[m].ok is False), None)
        error = result.modes[failing].error if failing else None
        reason = f"fails in {failing} interpreters: {error}" if failing else "no sub-interpreter kind passes"
    framework = framework or _framework_of(module, result.extensions)
    return Blocker(module=module, distribution=distribution, framework=framework, tier=result.tier,
                   blocks=list(SUB_TIERS[:SUB_TIERS.index(result.tier)] if result.tier in SUB_TIERS else SUB_TIERS),
                   reason=reason)


def apply_run(app: DistributionResult, run: dict) -> None:
    """Lower the application's tier to the strictest rung where ``--run`` passed too
    (``run["rungs"]``: mode -> status, from the first rung down), as the smoke checks do.
    ``--run`` is the application's parallel check: a crash that the parallel check's
    standard-library control reproduces is CPython's."""
    if not run.get("rungs"):
        return
    _mark_cpython_problems(app)
    tier, failed = checks_tier(run["mode"], {"parallel": run["rungs"]}, app.controls)
    if failed and tier and tier_rank(tier) > tier_rank(app.tier):
        app.notes.append(f"--run fails in {run['mode']} interpreters: {app.tier} -> {tier}")
        app.tier = tier
