"""The summary of a survey (Markdown): tiers per Python, and the simpler method side by side.

Readiness trackers publish one figure per Python: the share of projects whose top-level
import works the first time in a fresh isolated interpreter.  Every result carries that run
(the ``alone`` scenario of the ``isolated`` rung of each top-level name), so this report
computes that figure next to the tiers and sorts every project on which the two disagree by
the reason the ladder, the submodule walk and the smoke checks found.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Optional, Sequence

from interp_audit.model import TIERS, DistributionResult, InterpreterRun, ScanReport
from interp_audit.reports.interface import Reporter
from interp_audit.reports.markdown import escape
from interp_audit.reports.merge import Conflict

#: Why a project passes one method and not the other, in the order they are tried.
REASONS = {
    "lazy module": "the top-level import loads no extension; a public submodule refuses",
    "one-per-process": "loads in one interpreter per process: a first import passes, a second interpreter "
                       "(beside main) is refused",
    "smoke failure": "imports, then fails, crashes or shares state when used (smoke checks)",
    "CPython bug": "a crash the standard library alone reproduces (not the package's)",
    "other": "none of the above: see the project's why",
}
#: Outcomes of a task that produced no tier, by the label its problem starts with.
NO_VERDICT = ("install failed", "scan failed", "worker lost", "survey task failed")
NOTHING_TO_IMPORT = "nothing to import (type stubs, meta-packages)"
LISTED_NAMES = 12


def fresh_isolated_import(dist: DistributionResult) -> Optional[bool]:
    """The tracker's method: every top-level name imports the first time in a fresh isolated
    interpreter (with or without its C extension).  None when the result has no such run."""
    if dist.tier is None:
        return None
    if dist.tier == "broken":
        return False  # it does not even import in the main interpreter
    # A name that fails in main too (an optional dependency missing) counts for neither method.
    runs = [m.modes.get("isolated") for m in dist.modules if m.kind == "top-level" and not m.excluded]
    alone = [r.alone for r in runs if r is not None and r.alone is not None]
    return all(s.ok for s in alone) if alone else None


def disagreement(dist: DistributionResult, fresh: bool) -> str:
    """Why the tier and the fresh-isolated-import method disagree on ``dist``."""
    if fresh:
        submodules = [m for m in dist.modules if m.kind == "submodule" and not m.excluded and m.tier != "own-gil"]
        tops_own_gil = all(m.tier == "own-gil" for m in dist.modules if m.kind == "top-level" and not m.excluded)
        if submodules and tops_own_gil:
            return "lazy module"
        if "one-per-process" in dist.flags:
            return "one-per-process"
        if "smoke-failed" in dist.flags:
            return "smoke failure"
    if dist.cpython_problems:
        return "CPython bug"
    return "other"


_NOT_INSTALLED = re.compile(r"^ModuleNotFoundError: No module named '([^'.]+)")


def missing_dependency(dist: DistributionResult) -> Optional[str]:
    """The module a broken distribution's import needs that nothing installed provides, if that is why."""
    for module in dist.modules:
        found = _NOT_INSTALLED.match(module.error or "")
        if module.kind == "top-level" and found and found.group(1) not in dist.import_names:
            return found.group(1)
    return None


def _outcome(dist: DistributionResult) -> str:
    if dist.tier is not None:
        return "audited"
    problem = dist.problems[0] if dist.problems else ""
    if not problem and not dist.import_names:
        return NOTHING_TO_IMPORT
    return next((label for label in NO_VERDICT if problem.startswith(label + ":")), "no verdict")


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.0f}%" if total else "–"


def _names(dists: list[DistributionResult]) -> str:
    names = sorted(d.name for d in dists)
    text = ", ".join(escape(n) for n in names[:LISTED_NAMES])
    return text + (f", and {len(names) - LISTED_NAMES} more" if len(names) > LISTED_NAMES else "")


def summarize(run: InterpreterRun) -> list[str]:
    """The Markdown section of one interpreter's results."""
    dists = sorted(run.distributions, key=lambda d: d.name)
    outcomes = Counter(_outcome(d) for d in dists)
    audited = [d for d in dists if d.tier is not None]
    lines = [f"## {escape(run.python.implementation)} {escape(run.python.version)}", "",
             "| projects | count | share |", "| --- | ---: | ---: |", f"| listed | {len(dists)} | 100% |"]
    for label in ("audited",) + NO_VERDICT + (NOTHING_TO_IMPORT, "no verdict"):
        if outcomes[label] or label == "audited":
            lines.append(f"| {label} | {outcomes[label]} | {_share(outcomes[label], len(dists))} |")
    lines += ["", "| tier | projects | share of audited | of which degraded |", "| --- | ---: | ---: | ---: |"]
    for tier in TIERS:
        in_tier = [d for d in audited if d.tier == tier]
        degraded = sum(1 for d in in_tier if "degraded" in d.flags)
        lines.append(f"| {tier} | {len(in_tier)} | {_share(len(in_tier), len(audited))} | {degraded} |")
    fresh = {d.name: fresh_isolated_import(d) for d in audited}
    passed = [d for d in audited if fresh[d.name]]
    unknown = [d for d in audited if fresh[d.name] is None]
    own_gil = [d for d in audited if d.tier == "own-gil"]
    lines += ["", "| method | passes | share of audited |", "| --- | ---: | ---: |",
              f"| first import in a fresh isolated interpreter | {len(passed)} | {_share(len(passed), len(audited))} |",
              f"| tier own-gil (this tool) | {len(own_gil)} | {_share(len(own_gil), len(audited))} |"]
    if unknown:
        lines += ["", f"No fresh isolated import was run for {len(unknown)}: {_names(unknown)}."]
    stricter = [d for d in passed if d.tier != "own-gil"]
    looser = [d for d in audited if fresh[d.name] is False and d.tier == "own-gil"]
    lines += ["", f"The methods disagree on {len(stricter) + len(looser)} projects.", "",
              "| disagreement | reason | projects | names |", "| --- | --- | ---: | --- |"]
    for side, group in (("first import passes, tier below own-gil", stricter),
                        ("first import fails, tier own-gil", looser)):
        by_reason: dict[str, list[DistributionResult]] = {}
        for dist in group:
            by_reason.setdefault(disagreement(dist, side.startswith("first import passes")), []).append(dist)
        for reason in REASONS:
            if reason in by_reason:
                lines.append(f"| {side} | {reason}: {REASONS[reason]} | {len(by_reason[reason])} | "
                             f"{_names(by_reason[reason])} |")
    undeclared = [d for d in audited if d.tier == "broken" and missing_dependency(d)]
    if undeclared:
        lines += ["", f"{len(undeclared)} of the broken projects fail in the main interpreter because a module "
                  f"they import is not installed (the survey installs each project with its declared "
                  f"dependencies only): " + ", ".join(f"{escape(d.name)} (needs {escape(missing_dependency(d))})"
                                                       for d in undeclared) + "."]
    degraded = [d for d in own_gil if "degraded" in d.flags]
    if degraded:
        lines += ["", f"Both methods pass {len(degraded)} projects that run without some of their C "
                  f"extension modules in sub-interpreters (`degraded`): {_names(degraded)}."]
    return lines + [""]


class SurveyReporter(Reporter):
    """``--format survey``: the summary of a survey's result files (Markdown)."""

    name = "survey"

    def render(self, report: ScanReport, conflicts: Sequence[Conflict] = ()) -> str:
        lines = ["# Survey summary", "",
                 f"interp-audit {escape(report.tool_version)}; results generated {escape(report.generated_at)}.", ""]
        for run in report.interpreters:
            lines += summarize(run)
        if conflicts:
            lines += [f"{len(conflicts)} results conflicted between the merged files; "
                      "`interp-audit report --format markdown` lists them.", ""]
        return "\n".join(lines)
