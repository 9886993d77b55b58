"""Small readings of a result shared by every format: mode status, culprit, badge-free tier text."""

from __future__ import annotations

from typing import Iterable, Optional, TypeVar

from interp_audit.model import DistributionResult, ModeResult, ScanReport

T = TypeVar("T")

#: What every format writes for a result with no tier (a survey's install failure, nothing importable).
NO_VERDICT = "no verdict"

#: Every value of :func:`mode_status`.
STATUSES = ("ok", "fail", "crash", "inferred-ok", "inferred-fail", "not-run")


def mode_status(mode: Optional[ModeResult]) -> str:
    """One of :data:`STATUSES` for a rung of the ladder."""
    if mode is None:
        return "not-run"
    crashed = mode.crash is not None or any(
        scenario is not None and scenario.crash is not None for scenario in (mode.alone, mode.beside_main)
    )
    if crashed:
        return "crash"
    if mode.ok is None:
        return "not-run"
    if mode.inferred:
        return "inferred-ok" if mode.ok else "inferred-fail"
    return "ok" if mode.ok else "fail"


def culprit_of(result: DistributionResult) -> Optional[str]:
    """The module to blame: the verdict's culprit, else the first blocker, else a crash culprit."""
    if result.culprit:
        return result.culprit
    if result.blocked_by:
        return result.blocked_by[0].module
    for mode in result.modes.values():
        if mode.crash is not None and mode.crash.culprit:
            return mode.crash.culprit
    return None


def blocked_chain(result: DistributionResult) -> str:
    """``"a -> b (dist c)"``: the blocked-by chain as one line."""
    parts = []
    for blocker in result.blocked_by:
        text = blocker.module
        if blocker.distribution:
            text += f" (from {blocker.distribution})"
        elif blocker.stdlib:
            text += " (stdlib)"
        parts.append(text)
    return " -> ".join(parts)


def grouped(items: Iterable[tuple[str, T]]) -> list[tuple[list[str], T]]:
    """(labels, value) for each distinct value of ``items`` (label, value), first seen first: equal values once,
    with every label they had (e.g. the same crash on several rungs, the same advice on several Pythons)."""
    groups: list[tuple[list[str], T]] = []
    for label, value in items:
        for labels, seen in groups:
            if seen == value:
                labels.append(label)
                break
        else:
            groups.append(([label], value))
    return groups


def degraded_text(result: DistributionResult) -> Optional[str]:
    """``degraded: no C speedups for a._speedups, b._c`` when a fallback was used, else None."""
    if not result.degraded_modules:
        return None
    return "degraded: no C speedups for " + ", ".join(result.degraded_modules)


#: Beside a tier predicted from declarations alone (``--static-only``, ``interp-audit wheel``).
PREDICTED = "(predicted)"


def tier_text(result: DistributionResult) -> str:
    """The tier as every format writes it, with the degraded note beside it, marked when predicted."""
    tier = result.tier or NO_VERDICT
    if result.static_only and result.tier:
        tier = f"{tier} {PREDICTED}"
    degraded = degraded_text(result)
    return f"{tier}, {degraded}" if degraded and result.tier else tier


def known_problem_lines(report: ScanReport) -> list[str]:
    """One line per known problem of each interpreter: what crashes and the advice."""
    lines = []
    for run in report.interpreters:
        for problem in run.known_problems:
            lines.append(f"Python {run.python.version}: {problem.what} [{problem.id}]; hit by "
                         f"{', '.join(problem.distributions)}, not held against them. Advice: {problem.advice}.")
    return lines
