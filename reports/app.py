"""Reports of ``interp-audit app``: the answer as lines (terminal and Markdown), JSON, and
the scan formats (html, csv, junit) through the equivalent scan report."""

from __future__ import annotations

import dataclasses
import json
from typing import Optional

from interp_audit.model import AppReport, Blocker, InterpreterRun, ScanReport, to_dict

KIND_NAMES = {"asgi": "ASGI app", "wsgi": "WSGI app", "callable": "callable", "object": "object"}


def headline(report: AppReport) -> str:
    kind = f" ({KIND_NAMES[report.kind]})" if report.kind else ""
    python = f" on CPython {report.python.version}" if report.python else ""
    return f"{report.target}{kind}{python}: "


def blocker_line(blocker: Blocker) -> str:
    """``numpy._core._multiarray_umath (numpy, c-api, one interpreter per process) blocks own-gil, ...``"""
    owner = blocker.distribution or "the application's own code"
    about = ", ".join(p for p in (owner, blocker.framework, blocker.reason) if p)
    tier = f"; {blocker.distribution} is {blocker.tier}" if blocker.distribution else f"; {blocker.tier}"
    return f"{blocker.module} ({about}) blocks {', '.join(blocker.blocks)}{tier}"


def _run_lines(run: dict) -> list[str]:
    if not run:
        return []
    asked = f"{'calls' if run.get('kind') == 'callable' else 'requests'} {', '.join(run.get('requests') or [])}"
    head = f"Behaviour (--run): {run.get('interpreters')} {run.get('mode')} interpreters at once, {asked}: {run['status']}"
    if run["status"] == "skipped":
        return [f"Behaviour (--run): not run: {run['reason']}"]
    lines = [head]
    if run.get("rungs") and len(run["rungs"]) > 1:
        lines.append("  rungs: " + ", ".join(f"{mode} {status}" for mode, status in run["rungs"].items()))
    if run["status"] == "passed":
        lines.append("  every answer equals the main interpreter's")
    if run.get("error"):
        lines.append(f"  {run['error']}")
    for difference in run.get("differences", []):
        lines.append(f"  {difference['where']} {difference['request']}: answered {_answer(difference['got'])}, "
                     f"main answered {_answer(difference['main'])}")
    for error in run.get("errors", []):
        lines.append(f"  {error['where']} {error['phase']}: {error['error']} (not in main)")
    crash = run.get("crash")
    if crash:
        what = "hung" if crash.get("timeout") else f"crashed ({crash.get('signal') or crash.get('returncode')})"
        culprit = f" in {crash['culprit']}" if crash.get("culprit") else ""
        lines.append(f"  the worker process {what}{culprit}; open: {', '.join(crash.get('open_steps') or []) or '-'}")
    cost = run.get("cost")
    if cost:
        startup = cost.get("startup_seconds_median")
        lines.append(f"  cost per interpreter: created in {cost['interpreter_seconds']:.3f} s, import and start-up "
                     f"{'%.3f s' % startup if startup is not None else 'unknown'} (median), "
                     f"+{cost['rss_kib_per_interpreter'] / 1024:.1f} MiB resident ({cost['rss_source']})")
    return lines


def _answer(answer: dict) -> str:
    body = answer.get("body")
    body = body if body is None or len(body) <= 60 else body[:57] + "..."
    return f"{answer.get('status')} {body!r}"


def lines(report: AppReport) -> list[tuple[str, Optional[str]]]:
    """The answer, line by line, each with the tier it shows (for colour) or None."""
    out: list[tuple[str, Optional[str]]] = [(headline(report) + (report.tier or "no verdict"), report.tier)]
    graph = [d.name for d in report.distributions]
    out.append((f"  import graph: {report.graph_modules} modules loaded in main"
                + (f"; distributions climbed: {', '.join(graph)}" if graph else ""), None))
    if report.blockers:
        out.append(("What blocks it (worst first):", None))
        out += [(f"  - {blocker_line(b)}", b.tier) for b in report.blockers]
    if report.degraded:
        out.append(("Degraded (imports, without these extension modules: slower, not failing):", None))
        out += [(f"  - {d['module']} ({d['distribution'] or 'the application'}) in {', '.join(d['rungs'])}", None)
                for d in report.degraded]
    if report.known_problems:
        out.append(("Known problems of this Python that the import graph triggers (they do not lower the tier):", None))
        out += [(f"  ! {p.what}; {p.advice}", None) for p in report.known_problems]
    out += [(line, None) for line in _run_lines(report.run)]
    notes = (report.app.notes if report.app else []) + report.notes
    out += [(f"note: {note}", None) for note in notes]
    return out


def render_markdown(report: AppReport) -> str:
    found = lines(report)
    text = [f"## Is `{report.target}` ready for sub-interpreters?", "", f"**{found[0][0]}**", ""]
    text += [f"    {line}" if line.startswith("  ") else line for line, _ in found[1:]]
    return "\n".join(text) + "\n"


def render_json(report: AppReport) -> str:
    data = to_dict(report)
    head = {key: data.pop(key) for key in ("schema_version", "tool_version", "generated_at")}
    return json.dumps({**head, "application": data}, indent=2, ensure_ascii=False) + "\n"


def as_scan_report(report: AppReport) -> ScanReport:
    """The application (its blockers, degraded modules and --run as notes) and the distributions
    it climbed as a scan report, for the html, csv and junit formats."""
    notes = [line.strip() for line, _ in lines(report)[2:] if not line.startswith("note: ")]
    app = dataclasses.replace(report.app, notes=report.app.notes + notes)
    run = InterpreterRun(python=report.python, distributions=[app] + report.distributions,
                         scope="application", known_problems=report.known_problems)
    return ScanReport(interpreters=[run], tool_version=report.tool_version, generated_at=report.generated_at)
