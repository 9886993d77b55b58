"""Markdown for a GitHub issue or pull-request comment: the matrix, conflicts, findings.

Every piece of package-supplied text is escaped for both Markdown and the
HTML that GitHub lets through, so a hostile name renders as text.
"""

from __future__ import annotations

import re
from typing import Sequence

from interp_audit.model import MODES, TIERS, ScanReport
from interp_audit.reports.interface import Reporter
from interp_audit.reports.matrix import Matrix, Row, build
from interp_audit.reports.merge import Conflict
from interp_audit.reports.status import blocked_chain, mode_status

SYMBOLS = {"ok": "✓", "fail": "✗", "crash": "💥", "inferred-ok": "~✓", "inferred-fail": "~✗", "not-run": "–"}
MODE_HEADINGS = {"isolated": "isolated", "shared-gil": "shared GIL", "legacy": "legacy", "main": "main"}
TIER_MARKS = {"own-gil": "🟢", "shared-gil": "🟡", "legacy-only": "🟠", "main-only": "🔴", "broken": "⛔"}

_SPECIAL = re.compile(r"([\\`*_{}\[\]()!|~])")


def escape(text: object) -> str:
    """Text safe inside a Markdown table cell: no HTML, no Markdown syntax, no @mention, one line."""
    value = " ".join(str(text).split())
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _SPECIAL.sub(r"\\\1", value)
    return value.replace("@", "@\u200b")  # a zero-width space stops GitHub from notifying a user


def _tier_cell(tier: str | None) -> str:
    if tier is None:
        return "?"
    return f"{TIER_MARKS.get(tier, '')} {tier}".strip()


def _matrix_table(matrix: Matrix) -> list[str]:
    header = ["distribution", "version"]
    for column in matrix.columns:
        header += [f"{escape(column.label)} {MODE_HEADINGS[MODES[0]]}"] + [MODE_HEADINGS[m] for m in MODES[1:]]
        header.append(f"{escape(column.label)} tier")
    header += ["flags", "culprit", "findings"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([" --- "] * 2 + [" :-: "] * (5 * len(matrix.columns)) + [" --- "] * 3) + "|"]
    for row in matrix.rows:
        cells = [f"**{escape(row.name)}**", escape(row.version)]
        for column in matrix.columns:
            result = row.cells.get(column.key)
            if result is None:
                cells += ["–"] * 5
                continue
            cells += [SYMBOLS[mode_status(result.modes.get(mode))] for mode in MODES]
            tier = _tier_cell(result.tier)
            if column.key in row.conflicted:
                tier += " ⚠ conflict"
            cells.append(tier)
        cells.append(", ".join(escape(flag) for flag in row.flags))
        cells.append(", ".join(escape(c) for c in row.culprits))
        cells.append(", ".join(escape(f.code) for f in row.findings))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _details(row: Row) -> list[str]:
    """A collapsed section per distribution with findings, blockers or errors."""
    body: list[str] = []
    for result in row.results:
        if result.blocked_by:
            body.append(f"- blocked by: {escape(blocked_chain(result))}")
            break
    errors = {}
    for result in row.results:
        for mode in MODES:
            mode_result = result.modes.get(mode)
            if mode_result is not None and mode_result.error and not mode_result.inferred:
                errors.setdefault(mode, mode_result.error)
    for mode, error in errors.items():
        body.append(f"- {MODE_HEADINGS[mode]}: {escape(error)}")
    for finding in row.findings:
        line = f"- **{escape(finding.code)}** ({escape(finding.severity)}): {escape(finding.message)}"
        if finding.remediation:
            line += f"<br>Fix: {escape(finding.remediation)}"
        body.append(line)
    if not body:
        return []
    return ["<details>", f"<summary>{escape(row.name)} {escape(row.version)}</summary>", "", *body, "", "</details>", ""]


def render_markdown(report: ScanReport, conflicts: Sequence[Conflict] = ()) -> str:
    matrix = build(report, conflicts)
    lines = ["## interp-audit: sub-interpreter compatibility", ""]
    if not matrix.rows:
        return "\n".join(lines + ["No distributions in this report.", ""])
    for column in matrix.columns:
        counts = matrix.tier_counts(column)
        parts = [f"{TIER_MARKS[t]} {t}: {counts[t]}" for t in TIERS if counts[t]]
        if counts[None]:
            parts.append(f"no verdict: {counts[None]}")
        lines.append(f"- **Python {escape(column.label)}**: " + " · ".join(parts))
    lines.append("")
    lines += _matrix_table(matrix)
    lines += ["", "✓ works · ✗ fails · 💥 crashed · ~ inferred from another mode · – not run", ""]
    if matrix.conflicts:
        lines += ["### Conflicting results", ""]
        for c in matrix.conflicts:
            lines.append(
                f"- {escape(c.distribution)} {escape(c.version)} on {escape(c.python)}: "
                f"{escape('; '.join(c.differences))} (shown: {escape(c.kept)}; not shown: {escape(c.other)})"
            )
        lines.append("")
    details = [line for row in matrix.rows for line in _details(row)]
    if details:
        lines += ["### Details", ""] + details
    return "\n".join(lines)


class MarkdownReporter(Reporter):
    name = "markdown"

    def render(self, report: ScanReport, conflicts: Sequence[Conflict] = ()) -> str:
        return render_markdown(report, conflicts)
