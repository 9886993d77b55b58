"""Why a distribution has its tier, in words: the tier cell, the short reason, the evidence, the findings line.

One reading of a result shared by the terminal matrix (``reports/table.py``), its
"why" section and ``interp-audit show`` (``reports/show.py``).  Smoke results are
read only through ``reports/smoke.py``.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional

from interp_audit.model import (MODES, SEVERITIES, Crash, DistributionResult, Finding, ModeResult,
                                ModuleResult, tier_rank)
from interp_audit.reports import smoke
from interp_audit.reports.status import NO_VERDICT, PREDICTED, blocked_chain, culprit_of

#: Longest quoted error or refusal text in a why line.
QUOTE_LENGTH = 90
#: Texts that mark an ImportError as a refusal of sub-interpreters (CPython's and the common frameworks').
REFUSAL_MARKS = ("does not support loading in subinterpreters", "per-interpreter GIL", "more than once per process",
                 "cannot load module more than once", "not support sub-interpreters", "subinterpreter")


def shorten(text: str, limit: int = QUOTE_LENGTH) -> str:
    """``text`` on one line, cut at the end with ``...`` when longer than ``limit``."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def shorten_middle(text: str, width: int, ellipsis: str = "...") -> str:
    """``text`` shortened in the middle to ``width`` characters (names keep their start and end)."""
    if len(text) <= width:
        return text
    keep = max(width - len(ellipsis), 2)
    head = (keep + 1) // 2
    return text[:head] + ellipsis + text[len(text) - (keep - head):]


def tier_cell(result: Optional[DistributionResult]) -> str:
    """The matrix's tier cell: ``own-gil``, or ``own-gil, degraded`` when a fallback made it pass (the
    modules are in the reason; ``status.tier_text`` names them in the other formats), ``own-gil (predicted)``
    when only declarations were read."""
    if result is None:
        return "-"
    tier = result.tier or NO_VERDICT
    if result.static_only and result.tier:
        tier = f"{tier} {PREDICTED}"
    return f"{tier}, degraded" if "degraded" in result.flags else tier


def needs_why(result: Optional[DistributionResult]) -> bool:
    """Whether a result gets a why line: below own-gil, flagged, or touched by a CPython problem."""
    return result is not None and bool(
        result.tier != "own-gil" or result.flags or result.cpython_problems or result.problems)


def _crash_of(mode: Optional[ModeResult]) -> tuple[Optional[str], Optional[Crash]]:
    """(scenario, crash) of the first crash in a rung, scenario None for the rung's own crash."""
    if mode is None:
        return None, None
    for name in ("alone", "beside_main"):
        scenario = getattr(mode, name)
        if scenario is not None and scenario.crash is not None:
            return name, scenario.crash
    return None, mode.crash


def first_crash(result: DistributionResult) -> tuple[Optional[str], Optional[str], Optional[Crash]]:
    """(rung, scenario, crash) of the strictest rung that crashed, all None when none did."""
    for mode in MODES:
        scenario, crash = _crash_of(result.modes.get(mode))
        if crash is not None:
            return mode, scenario, crash
    return None, None, None


def crash_text(crash: Crash) -> str:
    """``SIGSEGV while importing ia_segv``, ``hung (timeout)``, ``... at shutdown``."""
    how = "hung (timeout)" if crash.timeout else (crash.signal or f"exit status {crash.returncode}")
    if crash.culprit:
        how += f" while importing {crash.culprit}"
        if crash.culprit_is_stdlib:
            how += " (standard library)"
    if crash.at_shutdown:
        how += " at shutdown"
    return how


def is_refusal(error: Optional[str]) -> bool:
    return bool(error) and any(mark in error for mark in REFUSAL_MARKS)


def failure_kind(error: Optional[str]) -> str:
    """``refused`` for a refusal of sub-interpreters, else the exception type, else ``fails``."""
    if is_refusal(error):
        return "refused"
    match = re.match(r"[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b", error or "")
    return match.group(0) if match else "fails"


def _failed_rung(modes: dict[str, ModeResult]) -> tuple[Optional[str], Optional[str]]:
    """(rung, error) of the last rung that was run and failed: the one just above the tier."""
    found: tuple[Optional[str], Optional[str]] = (None, None)
    for mode in MODES:
        result = modes.get(mode)
        if result is None or result.ok is not False or result.inferred:
            continue
        scenarios = [s for s in (result.alone, result.beside_main) if s is not None and not s.ok]
        chain = next((s.error_chain for s in scenarios if s.error_chain), [])
        refusal = next((link for link in reversed(chain) if is_refusal(link)), None)
        found = (mode, refusal or result.error or next((s.error for s in scenarios if s.error), None))
    return found


def deciding_module(result: DistributionResult) -> Optional[ModuleResult]:
    """The import name or public submodule with the worst tier (the first one of them), if any climbed."""
    counted = [m for m in result.modules if not m.excluded and m.tier]
    if not counted:
        return None
    worst = max(tier_rank(m.tier) for m in counted)
    return next(m for m in counted if tier_rank(m.tier) == worst)


def framework_of(result: DistributionResult, module: Optional[str]) -> Optional[str]:
    """The binding framework of extension ``module`` (or of the extension it is the package of)."""
    if not module:
        return None
    for info in result.extensions:
        if info.framework and info.framework.name not in ("unknown", "c-api") and (
                info.module == module or info.module.startswith(module + ".")):
            return info.framework.name
    return None


def _module_label(result: DistributionResult, module: Optional[str]) -> str:
    framework = framework_of(result, module)
    return f"{module} ({framework})" if module and framework else (module or "the import")


def kinds(result: DistributionResult) -> list[str]:
    """Every verdict kind that explains ``result``, the deciding one first.

    Kinds: ``broken``, ``crash``, ``one-per-process``, ``blocked-by``, ``refusal``
    (a failed rung), ``smoke``, ``degraded``, ``cpython-problem``, ``problem`` (bad input).
    """
    found = []
    if result.tier == "broken":
        found.append("broken")
    if "crashed" in result.flags:
        found.append("crash")
    if result.one_per_process:
        found.append("one-per-process")
    if result.blocked_by:
        found.append("blocked-by")
    if result.tier in ("shared-gil", "legacy-only", "main-only") and not found:
        found.append("smoke" if "smoke-failed" in result.flags and _failed_rung(result.modes)[0] is None else "refusal")
    if "smoke-failed" in result.flags and "smoke" not in found:
        found.append("smoke")
    if "degraded" in result.flags or result.degraded_modules:
        found.append("degraded")
    if result.cpython_problems or any(c.cpython for c in result.controls):
        found.append("cpython-problem")
    if result.problems:
        found.append("problem")
    return found


def runs(count: int) -> str:
    return f"{count} run" + ("" if count == 1 else "s")


def _rungs(modes: list[str]) -> str:
    return ", ".join(modes) if modes else "a sub-interpreter"


def reason(result: Optional[DistributionResult]) -> str:
    """The matrix's reason cell: the culprit module and the kind of failure, e.g. ``ia_segv: crashed (SIGSEGV)``."""
    if result is None or not needs_why(result):
        return ""
    found = kinds(result)
    kind = found[0] if found else None
    culprit = culprit_of(result)
    if kind == "broken":
        mode, error = _failed_rung(result.modes)
        return f"{culprit or 'import'}: {failure_kind(error)} in main"
    if kind == "crash":
        _, _, crash = first_crash(result)
        what = "hung" if crash is not None and crash.timeout else f"crashed ({crash.signal})" \
            if crash is not None and crash.signal else "crashed"
        return f"{(crash.culprit if crash else None) or culprit or 'import'}: {what}"
    if kind == "one-per-process":
        return f"{result.one_per_process[0].get('module') or culprit}: one per process"
    if kind == "blocked-by":
        blocker = result.blocked_by[0]
        origin = blocker.distribution or ("stdlib" if blocker.stdlib else None)
        return f"blocked by {blocker.module}" + (f" ({origin})" if origin else "")
    if kind == "refusal":
        module = deciding_module(result)
        modes = module.modes if module is not None and module.modes else result.modes
        mode, error = _failed_rung(modes)
        name = (module.name if module is not None and module.kind == "submodule" else None) or culprit or "import"
        what = failure_kind(error)
        return f"{name}: {what} in {mode}" if mode else f"{name}: {what}"
    if kind == "smoke":
        _, bad = smoke.overall(result)
        return "smoke: " + ", ".join(f"{smoke.HEADINGS[c]} {smoke.check_status(result, c)}" for c in bad) \
            if bad else "smoke failed"
    if kind == "degraded":
        modules = result.degraded_modules
        extra = f" +{len(modules) - 1}" if len(modules) > 1 else ""
        return f"no C speedups: {modules[0]}{extra}" if modules else "degraded"
    if kind == "cpython-problem":
        return "CPython crash, tier kept"
    if kind == "problem":
        return shorten(result.problems[0], 40)
    return ""


def evidence(result: DistributionResult) -> list[str]:
    """The deciding evidence, one short sentence per verdict kind of ``result`` (see :func:`kinds`)."""
    lines = []
    for kind in kinds(result):
        if kind == "broken":
            mode, error = _failed_rung(result.modes)
            lines.append(f"does not import in the main interpreter: {shorten(error or 'unknown error')}")
        elif kind == "crash":
            mode, scenario, crash = first_crash(result)
            if crash is not None:
                where = f"{mode}" + (f" ({scenario.replace('_', ' ')})" if scenario else "")
                lines.append(f"crashed in {where}: {crash_text(crash)}")
            blamed = [c for c in result.controls if not c.cpython]
            for control in blamed[:1]:
                lines.append(f"the standard library alone did not crash ({runs(control.runs)} of "
                             f"{control.kind} in {control.mode}): the package is blamed")
        elif kind == "one-per-process":
            for entry in result.one_per_process:
                module = entry.get("module")
                label = f"{module} ({entry['framework']})" if entry.get("framework") else module
                refusal = f': "{shorten(entry["refusal"])}"' if entry.get("refusal") else ""
                lines.append(f"{label} loads in one interpreter per process{refusal}")
        elif kind == "blocked-by":
            message = next((b.message for b in result.blocked_by if b.message), "")
            lines.append(f"blocked by {blocked_chain(result)}" + (f': "{shorten(message)}"' if message else ""))
        elif kind == "refusal":
            lines.append(_refusal_line(result))
        elif kind == "smoke":
            _, bad = smoke.overall(result)
            reruns = [f"{smoke.HEADINGS[c]}: {smoke.rungs_text(result, c)}" for c in bad if smoke.rungs_text(result, c)]
            lines.append(shorten(smoke.summary(result) or "smoke checks failed", 2 * QUOTE_LENGTH)
                         + (f" (ran in {'; '.join(reruns)})" if reruns else ""))
        elif kind == "degraded":
            parts = [f"{m} did not load in {_rungs(result.degraded_in.get(m, []))}" for m in result.degraded_modules]
            lines.append("imports without its extension modules (pure-Python fallback): " + "; ".join(parts))
        elif kind == "cpython-problem":
            lines.append(_cpython_line(result))
        elif kind == "problem":
            lines.append("bad input: " + "; ".join(shorten(p) for p in result.problems))
    return list(dict.fromkeys(lines))


def _refusal_line(result: DistributionResult) -> str:
    module = deciding_module(result)
    modes = module.modes if module is not None and module.modes else result.modes
    mode, error = _failed_rung(modes)
    if module is not None and module.kind == "submodule":
        name = f"public submodule {_module_label(result, module.name)}"
    else:
        name = _module_label(result, culprit_of(result))
    passing = next((m for m in MODES if modes.get(m) and modes[m].ok), None)
    where = f"fails in {mode}" if mode else "fails in sub-interpreters"
    quoted = f': "{shorten(error)}"' if error else ""
    return f"{name} {where}{quoted}" + (f"; first rung that passes: {passing}" if passing else "")


def _cpython_line(result: DistributionResult) -> str:
    controls = [c for c in result.controls if c.cpython]
    if not controls:
        return "ran into a known problem of this Python: not the package's, the tier is kept"
    control = controls[0]
    if not control.crashed:
        return (f"the crash in {control.kind} ({control.mode}) is CPython's: it stopped outside any Python "
                f"frame, and nothing but pure-Python code and CPython's own modules had loaded (the standard "
                f"library alone did not crash in {runs(control.runs)}); tier kept (a known problem of this Python)")
    imports = ", ".join(control.imports) or "nothing"
    return (f"the crash in {control.kind} ({control.mode}) is CPython's: the standard library alone "
            f"(import {imports}) crashed too in {runs(control.runs)}; tier kept (a known problem of this Python)")


def severity_rank(finding) -> int:
    return SEVERITIES.index(finding.severity) if finding.severity in SEVERITIES else 0


def finding_line(findings: Iterable[Finding]) -> str:
    """``IA101 (high), IA310 (medium); fix: interp-audit explain IA101``, or "" without findings."""
    codes = list(dict.fromkeys(f"{f.code} ({f.severity})" for f in sorted(findings, key=severity_rank, reverse=True)))
    if not codes:
        return ""
    return ", ".join(codes) + f"; fix: interp-audit explain {codes[0].split()[0]}"
