"""A stable JSON document (``format: interp-audit-check``, ``format_version: 1``).

Fields are only ever added within a format version; see ``docs/check.md`` for
the structure.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from interp_audit import __version__
from interp_audit.check.formats.interface import CheckFormatter
from interp_audit.check.interface import CheckReport, SourceFinding
from interp_audit.rules import registry

FORMAT = "interp-audit-check"
FORMAT_VERSION = 1


def finding_dict(item: SourceFinding) -> dict[str, Any]:
    """One finding as JSON data."""
    finding, location = item.finding, item.location
    rule = registry.get(finding.code)
    data = {
        "code": finding.code,
        "rule": rule.name,
        "severity": finding.severity,
        "message": finding.message,
        "detail": finding.detail,
        "remediation": finding.remediation,
        "references": list(rule.references),
        "module": finding.module,
        "symbol": item.symbol,
        "location": {
            "path": location.path,
            "line": location.line,
            "column": location.column,
            "end_line": location.end_line,
            "end_column": location.end_column,
        },
    }
    if item.justification is not None:
        data["justification"] = item.justification
    return data


def report_dict(report: CheckReport) -> dict[str, Any]:
    """The whole report as JSON data."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tool": {"name": "interp-audit", "version": __version__},
        "config": report.config_path,
        "summary": {
            "files": len(report.files),
            "lines": report.lines,
            "findings": len(report.findings),
            "suppressed": len(report.suppressed),
            "by_severity": dict(sorted(Counter(i.finding.severity for i in report.findings).items())),
            "by_code": dict(sorted(Counter(i.finding.code for i in report.findings).items())),
        },
        "findings": [finding_dict(item) for item in report.findings],
        "suppressed": [finding_dict(item) for item in report.suppressed],
        "files": list(report.files),
        "skipped": [{"path": path, "reason": reason} for path, reason in report.skipped],
        "warnings": [{"path": path, "message": message} for path, message in report.warnings],
        "errors": [{"path": path, "message": message} for path, message in report.errors],
    }


class JsonFormatter(CheckFormatter):
    name = "json"

    def render(self, report: CheckReport) -> str:
        return json.dumps(report_dict(report), indent=2) + "\n"
