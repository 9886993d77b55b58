"""The jinja2 environment shared by the HTML report and the website (autoescaping always on)."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from interp_audit.model import FLAGS, MODES, TIERS, Crash, DistributionResult, to_dict
from interp_audit.reports.matrix import Matrix, Row
from interp_audit.reports import smoke
from interp_audit.reports.advice import what_to_do
from interp_audit.reports.status import blocked_chain, culprit_of, degraded_text, grouped, known_problem_lines, mode_status

SYMBOLS = {"ok": "✓", "fail": "✗", "crash": "✹", "inferred-ok": "~✓", "inferred-fail": "~✗", "not-run": "–"}
STATUS_TEXT = {
    "ok": "works",
    "fail": "fails",
    "crash": "crashed",
    "inferred-ok": "works (inferred, not run)",
    "inferred-fail": "fails (inferred, not run)",
    "not-run": "not run",
}
STATUS_RANK = {status: rank for rank, status in enumerate(SYMBOLS)}
MODE_TITLES = {
    "isolated": "isolated (own GIL)",
    "shared-gil": "shared GIL, extension checks",
    "legacy": "legacy (shared GIL, no checks)",
    "main": "main interpreter",
}
TIER_TEXT = {
    "own-gil": "works in isolated sub-interpreters with their own GIL (PEP 684)",
    "shared-gil": "works in sub-interpreters only when they share the main GIL",
    "legacy-only": "works only in legacy (non-isolated) sub-interpreters",
    "main-only": "works only in the main interpreter",
    "broken": "does not import even in the main interpreter",
}
CHECK_SYMBOLS = {"passed": "✓", "failed": "✗", "crashed": "✹", "inconclusive": "?", "skipped": "–", "error": "!",
                 "not-run": "–"}
CHECK_TEXT = {"passed": "passed", "failed": "failed", "crashed": "crashed", "inconclusive": "inconclusive",
              "skipped": "skipped", "error": "probe error", "not-run": "not run"}
#: CSS class of a check status (the mode classes where the meaning is the same).
CHECK_CLASS = {"passed": "s-ok", "failed": "s-fail", "crashed": "s-crash", "inconclusive": "s-inconclusive",
               "skipped": "s-not-run", "error": "s-error", "not-run": "s-not-run"}
FLAG_TEXT = {
    "one-per-process": "loads in only one interpreter per process",
    "degraded": "imports in sub-interpreters but its extension modules do not load there (pure-Python fallback)",
    "crashed": "importing it crashed or hung a process",
    "blocked-by": "fails because a dependency refuses sub-interpreters",
    "smoke-failed": "imports, but its smoke checks fail",
}


def _asset(name: str) -> Markup:
    """A file of ``static/`` to inline in a page (our own CSS/JS, trusted)."""
    return Markup(resources.files("interp_audit.reports").joinpath("static", name).read_text(encoding="utf-8"))


def why_groups(row: Row, matrix: Matrix) -> list[tuple[list[str], DistributionResult]]:
    """Interpreters whose culprit / blockers / degraded / one-per-process facts are identical, grouped.

    Only results with something to explain are returned, in column order.
    """
    groups: list[tuple[list[str], DistributionResult, str]] = []
    for column in matrix.columns:
        result = row.cells.get(column.key)
        if result is None:
            continue
        facts = json.dumps(
            [culprit_of(result), to_dict(result.blocked_by), result.degraded_modules, result.one_per_process],
            sort_keys=True, default=str,
        )
        if facts == json.dumps([None, [], [], []]):
            continue
        for labels, _, seen in groups:
            if seen == facts:
                labels.append(column.label)
                break
        else:
            groups.append(([column.label], result, facts))
    return [(labels, result) for labels, result, _ in groups]


def crash_groups(row: Row, matrix: Matrix) -> list[tuple[list[str], Crash]]:
    """Identical crashes (signal, status, culprit, stderr) grouped, with where each happened."""
    return grouped((f"{MODE_TITLES[mode]} on Python {column.label}", result.modes[mode].crash)
                   for column in matrix.columns if (result := row.cells.get(column.key)) is not None
                   for mode in MODES if mode in result.modes and result.modes[mode].crash is not None)


def advice_groups(row: Row, matrix: Matrix) -> list[tuple[list[str], list[str]]]:
    """(Python labels, advice lines of ``reports/advice.py``) of a row, identical advice grouped."""
    return grouped((column.label, what_to_do(row.cells[column.key]))
                   for column in matrix.columns if column.key in row.cells)


def _pretty_json(value: Any) -> str:
    return json.dumps(to_dict(value), indent=2, sort_keys=True, ensure_ascii=False)


@functools.lru_cache(maxsize=None)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("interp_audit.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        MODES=MODES, TIERS=TIERS, FLAGS=FLAGS, SYMBOLS=SYMBOLS, STATUS_TEXT=STATUS_TEXT, STATUS_RANK=STATUS_RANK,
        MODE_TITLES=MODE_TITLES, TIER_TEXT=TIER_TEXT, FLAG_TEXT=FLAG_TEXT,
        mode_status=mode_status, culprit_of=culprit_of, degraded_text=degraded_text,
        known_problem_lines=known_problem_lines, blocked_chain=blocked_chain, why_groups=why_groups, crash_groups=crash_groups,
        css=_asset("report.css"), js=_asset("report.js"),
        CHECKS=smoke.CHECKS, CHECK_HEADINGS=smoke.HEADINGS, CHECK_TITLES=smoke.TITLES, CHECK_RANK=smoke.STATUS_RANK,
        CHECK_SYMBOLS=CHECK_SYMBOLS, CHECK_TEXT=CHECK_TEXT, CHECK_CLASS=CHECK_CLASS, INFORMATIONAL=smoke.INFORMATIONAL,
        check_of=smoke.check_of, check_status=smoke.check_status, check_details=smoke.details, has_smoke=smoke.has_smoke,
        smoke_overall=smoke.overall, smoke_mode=smoke.mode_of, cost_text=smoke.cost_text, cost_numbers=smoke.cost_numbers,
        cost_medians=smoke.cost_medians, advice_groups=advice_groups,
    )
    env.filters["pretty_json"] = _pretty_json
    env.filters["tier_rank"] = lambda tier: TIERS.index(tier) if tier in TIERS else len(TIERS)
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
