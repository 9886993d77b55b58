"""JUnit XML: one test suite per interpreter, one test case per distribution.

A distribution whose tier is worse than ``fail_under`` (default: own-gil, i.e.
anything that cannot run with its own GIL) is a ``<failure>``; a crash or a
broken distribution is an ``<error>``; no verdict is ``<skipped>``.  CI systems
(GitHub, GitLab, Jenkins) then show incompatible packages as failed tests.  The
body lists every mode and every smoke check (failed checks with why), and the
message of a case whose smoke checks failed names them.
"""

from __future__ import annotations

from typing import Optional, Sequence
from xml.etree import ElementTree as ET

from interp_audit.model import MODES, TIERS, DistributionResult, ScanReport, tier_rank
from interp_audit.reports.interface import Reporter
from interp_audit.reports.matrix import build
from interp_audit.reports.merge import Conflict
from interp_audit.reports.smoke import CHECKS, check_status, details, has_smoke, mode_of, summary
from interp_audit.reports.status import NO_VERDICT, blocked_chain, culprit_of, mode_status, tier_text

TIER_MEANING = {
    "own-gil": "works in isolated sub-interpreters with their own GIL",
    "shared-gil": "works only in sub-interpreters that share the main GIL",
    "legacy-only": "works only in legacy (non-isolated) sub-interpreters",
    "main-only": "works only in the main interpreter",
    "broken": "does not import even in the main interpreter",
}


def _xml_text(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (package text may contain them)."""
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20 and ch not in "\ufffe\uffff")


def _body(result: DistributionResult) -> str:
    lines = [f"tier: {tier_text(result)}"]
    for mode in MODES:
        mode_result = result.modes.get(mode)
        line = f"{mode}: {mode_status(mode_result)}"
        if mode_result is not None and mode_result.error:
            line += f" ({mode_result.error})"
        lines.append(line)
    if has_smoke(result):
        lines.append(f"smoke checks (in {mode_of(result) or '?'} interpreters):")
        for check in CHECKS:
            why = details(result, check)
            lines.append(f"  {check}: {check_status(result, check)}" + (f" ({'; '.join(why)})" if why else ""))
    if result.flags:
        lines.append("flags: " + ", ".join(result.flags))
    if culprit_of(result):
        lines.append(f"culprit: {culprit_of(result)}")
    if result.blocked_by:
        lines.append("blocked by: " + blocked_chain(result))
    for finding in result.findings:
        lines.append(f"{finding.code} ({finding.severity}): {finding.message}")
        if finding.remediation:
            lines.append(f"  fix: {finding.remediation}")
    return _xml_text("\n".join(lines))


def _outcome(result: DistributionResult, fail_under: str) -> Optional[tuple[str, str, str]]:
    """(element, type, message) for a case that did not pass, else None."""
    culprit = culprit_of(result)
    because = f" (culprit: {culprit})" if culprit else ""
    if summary(result):
        because += f"; {summary(result)}"
    if "crashed" in result.flags:
        return "error", "crashed", _xml_text(f"crashed a sub-interpreter process{because}")
    if result.tier is None:
        return "skipped", "no-verdict", NO_VERDICT
    if result.tier == "broken":
        return "error", "broken", TIER_MEANING["broken"] + because
    if tier_rank(result.tier) > tier_rank(fail_under):
        return "failure", result.tier, _xml_text(TIER_MEANING[result.tier] + because)
    return None


def render_junit(report: ScanReport, conflicts: Sequence[Conflict] = (), fail_under: str = "own-gil") -> str:
    matrix = build(report, conflicts)
    root = ET.Element("testsuites", name="interp-audit")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for column in matrix.columns:
        suite = ET.SubElement(root, "testsuite", name=f"interp-audit Python {column.label}")
        props = ET.SubElement(suite, "properties")
        for key, value in (("python", column.python.version), ("implementation", column.python.implementation),
                           ("platform", column.python.sysconfig_platform or column.python.platform),
                           ("fail-under", fail_under)):
            ET.SubElement(props, "property", name=key, value=_xml_text(value))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for row in matrix.rows:
            result = row.cells.get(column.key)
            if result is None:
                continue
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", name=_xml_text(f"{row.name}=={row.version}"),
                                 classname=f"interp-audit.python-{column.label}")
            outcome = _outcome(result, fail_under)
            if outcome is not None:
                element, kind, message = outcome
                counts[{"failure": "failures", "error": "errors", "skipped": "skipped"}[element]] += 1
                node = ET.SubElement(case, element, message=message, type=kind)
                if element != "skipped":
                    node.text = _body(result)
            else:
                ET.SubElement(case, "system-out").text = _body(result)
        conflict_lines = [f"conflict: {c.distribution} {c.version}: {'; '.join(c.differences)} "
                          f"(shown: {c.kept}; not shown: {c.other})" for c in matrix.conflicts if c.column == column.key]
        if conflict_lines:
            ET.SubElement(suite, "system-err").text = _xml_text("\n".join(conflict_lines))
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


class JunitReporter(Reporter):
    name = "junit"

    def __init__(self, fail_under: str = "own-gil") -> None:
        if fail_under not in TIERS:
            raise ValueError(f"unknown tier {fail_under!r}")
        self.fail_under = fail_under

    def render(self, report: ScanReport, conflicts: Sequence[Conflict] = ()) -> str:
        return render_junit(report, conflicts, self.fail_under)
