"""Merge result files from several machines, shards or Python versions into one report.

Runs of the same interpreter (implementation, version, platform, scope) are
joined.  When two files hold the same distribution version for the same
interpreter with different outcomes, the first one is kept and a
:class:`Conflict` is recorded so that every format can show it; identical
duplicates (overlapping shards) are dropped quietly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional, Sequence

from interp_audit.model import (MODES, SCHEMA_VERSION, DistributionResult, InterpreterRun, KnownProblem, PythonInfo,
                                ScanReport)
from interp_audit.reports.status import culprit_of, mode_status


@dataclass
class Conflict:
    """Two result files disagree about one distribution on one interpreter."""

    python: str  # interpreter label, e.g. "CPython 3.13.0 linux-x86_64"
    column: tuple[str, str, str]  # (implementation, version, platform): the matrix column it belongs to
    distribution: str
    version: str
    kept: str  # the source whose result is shown
    other: str  # the source whose result was not shown
    differences: list[str] = field(default_factory=list)  # "tier: own-gil != shared-gil", ...


@dataclass
class Merged:
    report: ScanReport
    conflicts: list[Conflict] = field(default_factory=list)


def interpreter_key(python: PythonInfo, scope: str = "environment") -> tuple[str, str, str, str]:
    """What makes two interpreter runs "the same interpreter" across machines."""
    return (python.implementation, python.version, python.sysconfig_platform or python.platform, scope)


def interpreter_label(python: PythonInfo) -> str:
    platform = python.sysconfig_platform or python.platform
    return " ".join(part for part in (python.implementation, python.version, platform) if part)


def normalize_name(name: str) -> str:
    """PEP 503 normalisation, so that "Foo_Bar" and "foo-bar" are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def outcome(result: DistributionResult) -> dict[str, object]:
    """The parts of a result that must agree between two runs of the same thing."""
    return {
        "tier": result.tier,
        "flags": sorted(result.flags),
        **{f"mode {mode}": mode_status(result.modes.get(mode)) for mode in MODES},
        "culprit": culprit_of(result),
    }


def _differences(a: DistributionResult, b: DistributionResult) -> list[str]:
    left, right = outcome(a), outcome(b)
    return [f"{key}: {left[key]} != {right[key]}" for key in left if left[key] != right[key]]


def add_known_problems(into: list[KnownProblem], problems: Sequence[KnownProblem]) -> None:
    """Append the known problems of ``problems`` that ``into`` does not have yet (by id)."""
    seen = {p.id for p in into}
    into += [p for p in problems if p.id not in seen]


def _add_problems(run: InterpreterRun, problems: Sequence[KnownProblem]) -> None:
    """Add ``problems`` to the run's known problems, one entry per id with every distribution that met it."""
    have = {problem.id: problem for problem in run.known_problems}
    for problem in problems:
        if problem.id not in have:
            have[problem.id] = KnownProblem(**{**vars(problem), "distributions": []})
            run.known_problems.append(have[problem.id])
        have[problem.id].distributions += [d for d in problem.distributions if d not in have[problem.id].distributions]


def merge(reports: Sequence[ScanReport], sources: Optional[Sequence[str]] = None) -> Merged:
    """Join ``reports`` (read from ``sources``, used in conflict messages) into one."""
    sources = list(sources) if sources is not None else [f"report {i + 1}" for i in range(len(reports))]
    runs: dict[tuple, InterpreterRun] = {}
    seen: dict[tuple, tuple[DistributionResult, str]] = {}
    conflicts: list[Conflict] = []
    for report, source in zip(reports, sources):
        for run in report.interpreters:
            key = interpreter_key(run.python, run.scope)
            merged_run = runs.setdefault(key, InterpreterRun(python=run.python, scope=run.scope))
            _add_problems(merged_run, run.known_problems)
            add_known_problems(merged_run.known_problems, run.known_problems)
            for result in run.distributions:
                dist_key = (key, normalize_name(result.name), result.version)
                if dist_key not in seen:
                    seen[dist_key] = (result, source)
                    merged_run.distributions.append(result)
                    continue
                kept, kept_source = seen[dist_key]
                differences = _differences(kept, result)
                if differences:
                    conflicts.append(
                        Conflict(
                            python=interpreter_label(run.python),
                            column=key[:3],
                            distribution=result.name,
                            version=result.version,
                            kept=kept_source,
                            other=source,
                            differences=differences,
                        )
                    )
    tool_versions = sorted({r.tool_version for r in reports if r.tool_version})
    generated = sorted(r.generated_at for r in reports if r.generated_at)
    report = ScanReport(
        interpreters=list(runs.values()),
        schema_version=SCHEMA_VERSION,
        tool_version=", ".join(tool_versions),
        generated_at=generated[-1] if generated else "",
    )
    return Merged(report=report, conflicts=conflicts)

