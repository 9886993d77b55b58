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
from interp_audit.reports.smoke import HEADINGS, check_status, cost_text, details, mode_of, overall
from interp_audit.reports.status import NO_VERDICT, blocked_chain, known_problem_lines, mode_status, tier_text

SYMBOLS = {"ok": "✓", "fail": "✗", "crash": "💥", "inferred-ok": "~✓", "inferred-fail": "~✗", "not-run": "–"}
MODE_HEADINGS = {"isolated": "isolated", "shared-gil": "shared GIL", "legacy": "legacy", "main": "main"}
TIER_MARKS = {"own-gil": "🟢", "shared-gil": "🟡", "legacy-only": "🟠", "main-only": "🔴", "broken": "⛔"}

#: Smoke-check cells.
CHECK_SYMBOLS = {"passed": "✓", "failed": "✗", "crashed": "💥", "inconclusive": "?", "skipped": "–", "error": "!",
                 "not-run": "–"}

_SPECIAL = re.compile(r"([\\`*_{}\[\]()!|~])")


def escape(text: object) -> str:
    """Text safe inside a Markdown table cell: no HTML, no Markdown syntax, no @mention, one line."""
    value = " ".join(str(text).split())
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _SPECIAL.sub(r"\\\1", value)
    return value.replace("@", "@\u200b")  # a zero-width space stops GitHub from notifying a user


def _tier_cell(result) -> str:
    return escape(f"{TIER_MARKS.get(result.tier, '')} {tier_text(result)}".strip())


def _check_cell(result, check: str) -> str:
    if check == "cost":
        return escape(cost_text(result)) or CHECK_SYMBOLS[check_status(result, check)]
    return CHECK_SYMBOLS[check_status(result, check)]


def _matrix_table(matrix: Matrix) -> list[str]:
    header = ["distribution", "version"]
    for column in matrix.columns:
        header += [f"{escape(column.label)} {MODE_HEADINGS[MODES[0]]}"] + [MODE_HEADINGS[m] for m in MODES[1:]]
        header.append(f"{escape(column.label)} tier")
        header += [f"{escape(column.label)} smoke {HEADINGS[c]}" if c == matrix.checks[0] else HEADINGS[c]
                   for c in matrix.checks]
    header += ["flags", "culprit", "findings"]
    group = 5 + len(matrix.checks)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([" --- "] * 2 + [" :-: "] * (group * len(matrix.columns)) + [" --- "] * 3) + "|"]
    for row in matrix.rows:
        cells = [f"**{escape(row.name)}**", escape(row.version)]
        for column in matrix.columns:
            result = row.cells.get(column.key)
            if result is None:
                cells += ["–"] * group
                continue
            cells += [SYMBOLS[mode_status(result.modes.get(mode))] for mode in MODES]
            tier = _tier_cell(result)
            if column.key in row.conflicted:
                tier += " ⚠ conflict"
            cells.append(tier)
            cells += [_check_cell(result, check) for check in matrix.checks]
        cells.append(", ".join(escape(flag) for flag in row.flags))
        cells.append(", ".join(escape(c) for c in row.culprits))
        cells.append(", ".join(escape(f.code) for f in row.findings))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _smoke_lines(row: Row, matrix: Matrix) -> list[str]:
    """One line per failed or crashed smoke check, per interpreter."""
    lines = []
    for column in matrix.columns:
        result = row.cells.get(column.key)
        for check in overall(result)[1]:
            why = details(result, check)
            lines.append(f"- smoke {escape(HEADINGS[check])} {escape(check_status(result, check))} on "
                         f"{escape(column.label)} ({escape(mode_of(result) or '?')} interpreters)"
                         + (f": {escape(why[0])}" if why else ""))
    return lines


def _details(row: Row, matrix: Matrix) -> list[str]:
    """A collapsed section per distribution with findings, blockers, errors or failed smoke checks."""
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
    body += _smoke_lines(row, matrix)
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
            parts.append(f"{NO_VERDICT}: {counts[None]}")
        lines.append(f"- **Python {escape(column.label)}**: " + " · ".join(parts))
    lines.append("")
    problems = known_problem_lines(report)
    if problems:
        lines += ["### Known problems of this Python", ""] + [f"- {escape(p)}" for p in problems] + [""]
    lines += _matrix_table(matrix)
    lines += ["", "✓ works · ✗ fails · 💥 crashed · ~ inferred from another mode · – not run", ""]
    if matrix.checks:
        lines += ["Smoke checks: ✓ passed · ✗ failed · 💥 crashed · "
                  "? inconclusive · ! probe error · – skipped or not run; xi (cross-interpreter objects) only informs; "
                  "cost: median import time and memory of one more interpreter with the package", ""]
    if matrix.conflicts:
        lines += ["### Conflicting results", ""]
        for c in matrix.conflicts:
            lines.append(
                f"- {escape(c.distribution)} {escape(c.version)} on {escape(c.python)}: "
                f"{escape('; '.join(c.differences))} (shown: {escape(c.kept)}; not shown: {escape(c.other)})"
            )
        lines.append("")
    details = [line for row in matrix.rows for line in _details(row, matrix)]
    if details:
        lines += ["### Details", ""] + details
    return "\n".join(lines)


class MarkdownReporter(Reporter):
    name = "markdown"

    def render(self, report: ScanReport, conflicts: Sequence[Conflict] = ()) -> str:
        return render_markdown(report, conflicts)
