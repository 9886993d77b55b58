"""Plain text, one finding per line in ``path:line:column: CODE [severity] message`` form.

Editors and pre-commit recognise the ``path:line:column:`` prefix.  The detail
follows on an indented line; each rule's remediation is printed once at the end.
"""

from __future__ import annotations

from collections import Counter

from interp_audit.check.formats.interface import CheckFormatter
from interp_audit.check.interface import CheckReport, SourceFinding
from interp_audit.model import SEVERITIES
from interp_audit.rules import registry


def _line(item: SourceFinding) -> str:
    location, finding = item.location, item.finding
    text = "%s:%d:%d: %s [%s] %s" % (location.path, location.line, location.column, finding.code, finding.severity,
                                     finding.message)
    if finding.detail:
        text += "\n    " + finding.detail
    return text


def summary(report: CheckReport) -> str:
    """One sentence: files, lines, findings by severity, suppressed."""
    counts = Counter(item.finding.severity for item in report.findings)
    parts = ["%d %s" % (counts[s], s) for s in reversed(SEVERITIES) if counts[s]]
    found = "%d finding%s" % (len(report.findings), "" if len(report.findings) == 1 else "s")
    if parts:
        found += " (%s)" % ", ".join(parts)
    text = "Checked %d file%s (%d lines): %s" % (len(report.files), "" if len(report.files) == 1 else "s",
                                                 report.lines, found)
    if report.suppressed:
        text += ", %d suppressed" % len(report.suppressed)
    return text + "."


class TextFormatter(CheckFormatter):
    name = "text"

    def render(self, report: CheckReport) -> str:
        blocks = [_line(item) for item in report.findings]
        codes = sorted({item.finding.code for item in report.findings})
        if codes:
            fixes = ["How to fix:"]
            for code in codes:
                rule = registry.get(code)
                fixes.append("  %s %s: %s" % (code, rule.name, rule.remediation))
                if rule.references:
                    fixes.append("      see " + " ".join(rule.references))
            blocks.append("\n".join(fixes))
        for path, message in report.warnings:
            blocks.append("warning: %s: %s" % (path, message))
        for path, message in report.errors:
            blocks.append("error: %s: %s" % (path, message))
        blocks.append(summary(report))
        return "\n".join(blocks) + "\n"
