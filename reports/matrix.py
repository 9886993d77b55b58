"""The matrix every format shows: one row per distribution version, one column group per interpreter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

from interp_audit.model import FLAGS, TIERS, DistributionResult, Finding, KnownProblem, PythonInfo, ScanReport
from interp_audit.reports.merge import Conflict, add_known_problems, interpreter_label, normalize_name
from interp_audit.reports.smoke import checks_of
from interp_audit.reports.status import culprit_of, known_problem_lines


@dataclass
class Column:
    """One interpreter (a column group: its modes and its tier)."""

    key: tuple[str, str, str]
    label: str  # short heading, e.g. "3.13.0"
    python: PythonInfo
    known_problems: list[KnownProblem] = field(default_factory=list)  # of this interpreter, each id once


@dataclass
class Row:
    name: str
    version: str
    cells: dict[tuple[str, str, str], DistributionResult] = field(default_factory=dict)
    conflicted: set[tuple[str, str, str]] = field(default_factory=set)

    @property
    def results(self) -> list[DistributionResult]:
        return list(self.cells.values())

    @property
    def summary(self) -> Optional[str]:
        return next((r.summary for r in self.results if r.summary), None)

    @property
    def flags(self) -> list[str]:
        """Union of the flags over all interpreters, in :data:`~interp_audit.model.FLAGS` order."""
        found = {flag for r in self.results for flag in r.flags}
        return [f for f in FLAGS if f in found] + sorted(found - set(FLAGS))

    @property
    def culprits(self) -> list[str]:
        return sorted({c for c in (culprit_of(r) for r in self.results) if c})

    @property
    def prediction_gaps(self) -> list[str]:
        """Where a tier predicted from declarations (a wheel, ``--static-only``) differs from one
        measured on the same Python x.y: ``"3.13: measured main-only, predicted shared-gil (win_amd64)"``."""
        gaps = []
        measured = [r for r in self.cells.items() if not r[1].static_only and r[1].tier]
        for key, predicted in self.cells.items():
            if not predicted.static_only or not predicted.tier:
                continue
            minor = ".".join(key[1].split(".")[:2])
            for other_key, result in measured:
                if ".".join(other_key[1].split(".")[:2]) == minor and result.tier != predicted.tier:
                    gaps.append(f"{minor}: measured {result.tier}, predicted {predicted.tier} ({key[2]})")
        return gaps

    @property
    def findings(self) -> list[Finding]:
        """Findings of every interpreter, duplicates (same code, module, message) once."""
        seen, out = set(), []
        for result in self.results:
            for finding in result.findings:
                key = (finding.code, finding.module, finding.message)
                if key not in seen:
                    seen.add(key)
                    out.append(finding)
        return out


@dataclass
class Matrix:
    columns: list[Column]
    rows: list[Row]
    conflicts: list[Conflict] = field(default_factory=list)
    #: Smoke-check columns of every column group (order of ``model.SMOKE_CHECKS``); empty when no row has smoke data.
    checks: list[str] = field(default_factory=list)
    #: One line per known problem of an interpreter (crashes the standard library alone reproduces).
    known_problems: list[str] = field(default_factory=list)

    def tier_counts(self, column: Column) -> dict[Optional[str], int]:
        """How many rows have each tier (None: no verdict) on ``column``, rows without a result skipped."""
        counts: dict[Optional[str], int] = {tier: 0 for tier in (*TIERS, None)}
        for row in self.rows:
            result = row.cells.get(column.key)
            if result is not None:
                counts[result.tier if result.tier in TIERS else None] += 1
        return counts


def version_key(version: str) -> tuple:
    parts = []
    for piece in version.replace("+", ".").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else -1)
    return tuple(parts)


def build(report: ScanReport, conflicts: Sequence[Conflict] = ()) -> Matrix:
    """Lay ``report`` (usually from :func:`~interp_audit.reports.merge.merge`) out as a matrix."""
    columns: dict[tuple[str, str, str], Column] = {}
    rows: dict[tuple[str, str], Row] = {}
    for run in report.interpreters:
        python = run.python
        key = (python.implementation, python.version, python.sysconfig_platform or python.platform)
        column = columns.setdefault(key, Column(key=key, label=python.version, python=python))
        add_known_problems(column.known_problems, run.known_problems)
        for result in run.distributions:
            row = rows.setdefault((normalize_name(result.name), result.version), Row(result.name, result.version))
            row.cells.setdefault(key, result)
    ordered = sorted(columns.values(), key=lambda c: (version_key(c.python.version), c.key))
    versions = [c.python.version for c in ordered]
    for column in ordered:
        if versions.count(column.python.version) > 1 or column.python.implementation.lower() not in ("cpython", ""):
            column.label = interpreter_label(column.python)
    for conflict in conflicts:
        row = rows.get((normalize_name(conflict.distribution), conflict.version))
        if row is not None:
            row.conflicted.add(conflict.column)
    ordered_rows = sorted(rows.values(), key=lambda r: (normalize_name(r.name), version_key(r.version)))
    checks = checks_of(result for row in ordered_rows for result in row.results)
    return Matrix(columns=ordered, rows=ordered_rows, conflicts=list(conflicts), checks=checks,
                  known_problems=known_problem_lines(report))
