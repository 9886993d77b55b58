"""SARIF 2.1.0, as GitHub code scanning accepts it (``github/codeql-action/upload-sarif``).

* The driver lists every rule the checkers can report (enabled by the
  configuration), not only those that fired, so code scanning can close an
  alert once its cause is fixed.
* Paths inside the current directory are relative URIs against
  ``%SRCROOT%``; others are absolute ``file:`` URIs.
* Columns count Unicode code points (``columnKind``).
* Suppressed findings are left out: GitHub code scanning would show results
  carrying SARIF ``suppressions`` as open alerts.  Their number is in
  ``run.properties.suppressed``.
* ``partialFingerprints["interpAudit/v1"]`` hashes rule, path, symbol and
  occurrence, so an alert survives edits that only move lines.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from interp_audit import __version__
from interp_audit.check.formats.interface import CheckFormatter
from interp_audit.check.interface import CheckReport, SourceFinding
from interp_audit.rules import registry

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/interp-audit/"
SOURCE_ROOT = "%SRCROOT%"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "warning", "info": "note"}


def _artifact(path: str) -> dict[str, Any]:
    if Path(path).is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path), "uriBaseId": SOURCE_ROOT}


def _rule_descriptor(code: str) -> dict[str, Any]:
    rule = registry.get(code)
    descriptor: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.name.replace("-", " ").capitalize()},
        "fullDescription": {"text": rule.rationale},
        "help": {"text": rule.remediation, "markdown": rule.remediation + "".join(
            "\n\n[%s](%s)" % (ref, ref) for ref in rule.references)},
        "defaultConfiguration": {"level": LEVELS.get(rule.severity, "warning")},
        "properties": {"severity": rule.severity, "tags": ["subinterpreters", "pep-684"]},
    }
    if rule.references:
        descriptor["helpUri"] = rule.references[0]
    return descriptor


def _result(item: SourceFinding, rule_index: int, occurrence: int) -> dict[str, Any]:
    finding, location = item.finding, item.location
    message = finding.message + (". " + finding.detail if finding.detail else "")
    key = "%s|%s|%s|%d" % (finding.code, location.path, item.symbol or "", occurrence)
    return {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": LEVELS.get(finding.severity, "warning"),
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(location.path),
                    "region": {
                        "startLine": location.line,
                        "startColumn": location.column,
                        "endLine": location.end_line,
                        "endColumn": location.end_column,
                    },
                }
            }
        ],
        "partialFingerprints": {"interpAudit/v1": hashlib.sha256(key.encode()).hexdigest()[:32]},
        "properties": {"severity": finding.severity, "symbol": item.symbol, "module": finding.module},
    }


def sarif_log(report: CheckReport) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log (a JSON-able dict)."""
    codes = list(dict.fromkeys(list(report.codes) + [item.finding.code for item in report.findings]))
    index = {code: position for position, code in enumerate(codes)}
    occurrences: Counter = Counter()
    results = []
    for item in report.findings:
        key = (item.finding.code, item.location.path, item.symbol)
        results.append(_result(item, index[item.finding.code], occurrences[key]))
        occurrences[key] += 1
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "interp-audit",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule_descriptor(code) for code in codes],
            }
        },
        "originalUriBaseIds": {SOURCE_ROOT: {"uri": Path.cwd().as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "invocations": [
            {
                "executionSuccessful": not report.errors,
                "toolExecutionNotifications": [
                    {"level": "error", "message": {"text": message},
                     "locations": [{"physicalLocation": {"artifactLocation": _artifact(path)}}]}
                    for path, message in report.errors
                ] + [
                    {"level": "warning", "message": {"text": message},
                     "locations": [{"physicalLocation": {"artifactLocation": _artifact(path)}}]}
                    for path, message in report.warnings
                ],
            }
        ],
        "results": results,
        "properties": {"suppressed": len(report.suppressed), "files": len(report.files), "lines": report.lines},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


class SarifFormatter(CheckFormatter):
    name = "sarif"

    def render(self, report: CheckReport) -> str:
        return json.dumps(sarif_log(report), indent=2) + "\n"
