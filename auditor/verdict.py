"""Turn per-name ladder results into a distribution's tier, flags and culprit.

The tier of one import name is the strictest rung it passes; the
distribution's tier is the worst over its import names.  Flags explain it:
``crashed``, ``one-per-process``, ``blocked-by``, ``degraded`` (see the README's
glossary).
"""

from __future__ import annotations

from typing import Callable, Optional

from interp_audit.model import (
    FLAGS,
    MODES,
    TIER_OF_MODE,
    BlockedBy,
    DistributionResult,
    ExtensionInfo,
    ModeResult,
    ScenarioResult,
    tier_rank,
)
from interp_audit.runtime.ladder import REFUSAL, NameOutcome

FALLBACK_MARK = "silent pure-Python fallback"


def name_tier(modes: dict[str, ModeResult]) -> Optional[str]:
    """Strictest passing rung of one import name, or ``broken`` when main fails."""
    main = modes.get("main")
    if main is None or not main.ok:
        return "broken"
    for mode in MODES:
        if modes.get(mode) and modes[mode].ok:
            return TIER_OF_MODE[mode]
    return "main-only"


def _scenarios(modes: dict[str, ModeResult]):
    for result in modes.values():
        for scenario in (result.alone, result.beside_main):
            if scenario is not None:
                yield scenario


def _framework_of(module: Optional[str], extensions: list[ExtensionInfo]) -> Optional[str]:
    for info in extensions:
        if module and (info.module == module or info.module.startswith(module + ".")):
            return info.framework.name if info.framework else None
    return None


def judge(result: DistributionResult, outcomes: list[NameOutcome],
          owner_of: Callable[[str], Optional[str]], stdlib_names: frozenset[str]) -> DistributionResult:
    """Fill ``tier``, ``flags``, ``modes``, ``culprit``, ``blocked_by``,
    ``degraded_modules`` and ``one_per_process`` of ``result``."""
    if not outcomes:
        result.notes.append("no importable top-level names: nothing to import")
        return result
    result.per_name = {o.name: o.modes for o in outcomes}
    tiers = {o.name: name_tier(o.modes) for o in outcomes}
    worst_name = max(tiers, key=lambda n: tier_rank(tiers[n]))
    result.tier = tiers[worst_name]
    result.modes = outcomes[[o.name for o in outcomes].index(worst_name)].modes
    flags: list[str] = []
    blocked: dict[str, BlockedBy] = {}
    own_extensions = [info.module for info in result.extensions]
    for outcome in outcomes:
        for scenario in _scenarios(outcome.modes):
            if scenario.crash:
                flags.append("crashed")
                result.culprit = result.culprit or scenario.crash.culprit
            if scenario.error and FALLBACK_MARK in scenario.error:
                flags.append("degraded")
                missing = [m for m in outcome.main_loaded if m not in scenario.loaded_extensions]
                result.degraded_modules.extend(m for m in missing if m not in result.degraded_modules)
                result.culprit = result.culprit or (missing[0] if missing else None)
            for text in scenario.error_chain:
                match = REFUSAL.search(text)
                if not match:
                    continue
                own = _own_extension(match.group(1), own_extensions)
                module = own or match.group(1)
                result.culprit = result.culprit or module
                if own or module.split(".")[0] in {n.split(".")[0] for n in result.import_names}:
                    continue
                is_stdlib = module.split(".")[0] in stdlib_names
                blocked.setdefault(module, BlockedBy(
                    module=module,
                    distribution=None if is_stdlib else owner_of(module),
                    stdlib=is_stdlib,
                    message=text,
                ))
        for mode in ("isolated", "shared-gil", "legacy"):
            mode_result = outcome.modes.get(mode)
            if mode_result is None or mode_result.alone is None or mode_result.beside_main is None:
                continue
            refused = mode_result.beside_main
            if mode_result.alone.ok and not refused.ok and refused.crash is None \
                    and FALLBACK_MARK not in (refused.error or ""):
                flags.append("one-per-process")
                module = _refusing_module(refused) or outcome.name
                result.culprit = result.culprit or module
                entry = {"mode": mode, "module": module, "refusal": refused.error,
                         "framework": _framework_of(module, result.extensions)}
                if entry not in result.one_per_process:
                    result.one_per_process.append(entry)
    if blocked:
        flags.append("blocked-by")
        result.blocked_by = list(blocked.values())
    result.flags = [f for f in FLAGS if f in flags]
    return result


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


def predict_from_static(result: DistributionResult) -> DistributionResult:
    """``--static-only``: predict the tier from declared init kinds and slots alone.

    Nothing was imported, so ``modes`` stays empty and a note says so.
    """
    tiers = ["own-gil"]
    for info in result.extensions:
        if info.init == "single-phase":
            tiers.append("legacy-only")
        elif info.init == "multi-phase":
            declared = info.multiple_interpreters_effective or info.multiple_interpreters
            if declared is None:
                result.notes.append(f"{info.module}: declared slots unknown; assumed CPython's default (supported)")
                declared = "supported"
            tiers.append(TIER_OF_DECLARATION[declared])
    result.tier = max(tiers, key=tier_rank)
    result.notes.append("tier predicted from static evidence only (--static-only): nothing was imported")
    return result
