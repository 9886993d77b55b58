"""How every format reads ``DistributionResult.smoke``: each check's status, its detail lines, the cost in short.

The smoke checks (``docs/smoke.md``) are columns of the matrix, in the order of
``SMOKE_CHECKS`` of auditor/model.py.  ``smoke`` is the typed
:class:`~interp_audit.model.SmokeReport`, None when no check ran.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from interp_audit.model import Crash, DistributionResult, SmokeCheck, SmokeCost
from interp_audit.model import SMOKE_CHECKS as CHECKS, SMOKE_FAILING_CHECKS as FAILING_CHECKS, SMOKE_STATUSES as STATUSES

#: Every value of :func:`check_status`: a check's own status, or ``not-run`` when the result has none.
CHECK_STATUSES = (*STATUSES, "not-run")
#: Checks that only inform: their failure does not fail the distribution.
INFORMATIONAL = tuple(c for c in CHECKS if c not in FAILING_CHECKS)
#: Short column headings.
HEADINGS = {
    "generic": "generic", "snippets": "snippets", "parallel": "parallel", "reimport": "reimport",
    "static_types": "types", "cross_interpreter": "xi", "cost": "cost",
}
#: What each check does, for tooltips and the package page.
TITLES = {
    "generic": "import every module, touch every public attribute",
    "snippets": "each smoke snippet in a fresh interpreter",
    "parallel": "several interpreters at once, one thread each",
    "reimport": "create, import, destroy, again",
    "static_types": "the same type object in two interpreters (static types)",
    "cross_interpreter": "the package's objects sent to another interpreter (informational)",
    "cost": "import time and memory of one more interpreter (informational)",
}
#: Order of badness, for sorting (worst last).
STATUS_RANK = {status: rank for rank, status in enumerate(
    ("passed", "skipped", "not-run", "inconclusive", "error", "failed", "crashed"))}
#: Most lines :func:`details` returns.
MAX_LINES = 20


def check_of(result: Optional[DistributionResult], check: str) -> Optional[SmokeCheck]:
    """The check's result in ``result.smoke``, or None when no smoke check ran."""
    return result.smoke.check(check) if result is not None and result.smoke is not None else None


def has_smoke(result: Optional[DistributionResult]) -> bool:
    return result is not None and result.smoke is not None


def checks_of(results: Iterable[Optional[DistributionResult]]) -> list[str]:
    """The check columns: every check when any result has smoke data, else none."""
    return list(CHECKS) if any(has_smoke(r) for r in results) else []


def check_status(result: Optional[DistributionResult], check: str) -> str:
    """One of :data:`CHECK_STATUSES`."""
    entry = check_of(result, check)
    if entry is None:
        return "not-run"
    return entry.status if entry.status in STATUSES else "error"


def overall(result: Optional[DistributionResult]) -> tuple[str, list[str]]:
    """(status, checks to name) for one compact cell: crashed / failed with the failing checks, else passed."""
    if not has_smoke(result):
        return "not-run", []
    bad = [c for c in FAILING_CHECKS if check_status(result, c) in ("failed", "crashed")]
    if any(check_status(result, c) == "crashed" for c in bad):
        return "crashed", bad
    return ("failed", bad) if bad else ("passed", [])


def mode_of(result: Optional[DistributionResult]) -> Optional[str]:
    """The interpreters the checks ran in (``isolated``, ``shared-gil``, ``legacy``, ``main``)."""
    return result.smoke.mode if has_smoke(result) else None


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def _crash(crash: Crash) -> str:
    how = "hung (killed after the timeout)" if crash.timeout else \
        f"crashed with {crash.signal or 'exit status %s' % crash.returncode}"
    if crash.culprit:
        how += f" in {crash.culprit}"
        if crash.culprit_is_stdlib:
            how += " (standard library: a CPython bug)"
    return how


def _kib(value: Any) -> str:
    return f"{value / 1024:.1f} MiB" if value >= 1024 else f"{value:.0f} KiB"


def _seconds(value: Any) -> str:
    return f"{value:.2f} s" if value >= 1 else f"{value * 1000:.1f} ms" if value >= 0.001 else f"{value * 1e6:.0f} µs"


def _cost(result: Optional[DistributionResult]) -> SmokeCost:
    """The cost check, or an empty one when no smoke check ran."""
    return result.smoke.cost if result is not None and result.smoke is not None else SmokeCost("skipped")


def cost_text(result: Optional[DistributionResult]) -> str:
    """``"0.1 ms 3.6 MiB"``: median import time and memory of one more interpreter with the package; "" if unknown."""
    seconds, kib = cost_numbers(result)
    parts = [_seconds(seconds) if seconds is not None else "", _kib(kib) if kib is not None else ""]
    return " ".join(p for p in parts if p)


def cost_numbers(result: Optional[DistributionResult]) -> tuple[Optional[float], Optional[float]]:
    """(median import seconds, median KiB of one more interpreter with the package), None when unknown."""
    cost = _cost(result)
    return cost.import_seconds_median, cost.rss_growth_kib_median


def cost_medians(result: Optional[DistributionResult]) -> list[tuple[str, str]]:
    """(label, value) of every cost median the result has, for the package page."""
    cost = _cost(result)
    rows = [
        ("first import", "first_import_seconds", _seconds),
        ("import in one more interpreter (median)", "import_seconds_median", _seconds),
        ("a bare interpreter (median RSS growth)", "interpreter_rss_kib_median", _kib),
        ("the import in it (median RSS growth)", "import_rss_kib_median", _kib),
        ("one more interpreter with the package (median)", "rss_growth_kib_median", _kib),
    ]
    return [(label, show(getattr(cost, key))) for label, key, show in rows if getattr(cost, key) is not None]


def _failure_lines(check: str, entry: Any) -> list[str]:
    """What went wrong in a failed check, one line per problem."""
    if check == "generic":
        return [f"{f.module}{'.' + f.attribute if f.attribute else ''}: {f.error}" for f in entry.failed]
    if check == "snippets":
        lines = []
        for item in entry.items or ():
            if item.crash:
                lines.append(f"snippet {item.name}: {_crash(item.crash)}")
            elif item.ok is False and not item.fails_in_main_too:
                lines.append(f"snippet {item.name}: {item.error}")
        return lines
    if check == "parallel":
        lines = ["deadlock: the interpreters did not finish"] if entry.deadlock else []
        lines += [f"round {e.round}, {e.where}: {e.error}" for e in entry.errors if e.explained_by is None]
        lines += [f"snippet {d.snippet}: results differ between interpreters"
                  for d in entry.different_results if d.explained_by is None]
        return lines
    if check == "reimport":
        lines = [f"cycle {f['index']}: {f['error']}" for f in entry.failures]
        lines += [f"snippet {leak['snippet']}: result changes between fresh interpreters "
                  f"({', '.join(str(r) for r in leak['results'])})" for leak in entry.state_leaks]
        return lines
    if check == "static_types":
        return [f"{s['type']} is the same object in two interpreters (module {s['module']})"
                for s in entry.shared or ()]
    if check == "cross_interpreter":
        return [f"{o.type} ({o.source}) cannot cross: pickle: {o.pickle}; buffer: {o.buffer}"
                for o in entry.objects if not o.crosses]
    return []


def details(result: Optional[DistributionResult], check: str) -> list[str]:
    """Why a check has its status, one line each (at most :data:`MAX_LINES`); [] when there is nothing to say."""
    entry = check_of(result, check)
    if entry is None:
        return []
    status = check_status(result, check)
    lines: list[str] = []
    if status == "crashed" and entry.crash:
        lines.append(_crash(entry.crash))
    if status in ("failed", "crashed"):
        lines += _failure_lines(check, entry)
    if entry.reason:
        lines.append(entry.reason)
    if entry.error and status in ("error", "failed"):
        lines.append(entry.error)
    seconds, kib = cost_numbers(result)
    if check == "cost" and status == "passed" and seconds is not None and kib is not None:
        lines.append(f"one more interpreter with the package: {_seconds(seconds)} import, {_kib(kib)} memory (medians)")
    if check == "parallel" and entry.note:
        lines.append(entry.note)
    lines = [_one_line(line) for line in lines if str(line).strip()]
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"... and {len(lines) - MAX_LINES} more"]
    return lines


def summary(result: Optional[DistributionResult]) -> str:
    """One line for the failing checks, e.g. ``"smoke in isolated interpreters: types failed (ia_x.T is ...)"``."""
    status, bad = overall(result)
    if status in ("passed", "not-run"):
        return ""
    parts = []
    for check in bad:
        first = details(result, check)
        parts.append(f"{HEADINGS[check]} {check_status(result, check)}" + (f" ({first[0]})" if first else ""))
    return f"smoke in {mode_of(result) or '?'} interpreters: " + "; ".join(parts)


def items(result: Optional[DistributionResult], check: str) -> list[str]:
    """What a check covered, one line per item (snippets, walked modules, compared types, ...); failures
    are in :func:`details`."""
    entry = check_of(result, check)
    if entry is None:
        return []
    lines: list[str] = []
    if check == "generic":
        lines.append(f"{len(entry.modules_walked)} modules walked{' (stopped early)' if entry.truncated else ''}, "
                     f"{entry.attributes_touched} public attributes touched")
        lines += [f"skipped {s['module']}: {s['reason']}" for s in entry.skipped]
        lines += [f"refused {r['module']}: {r['error']}" for r in entry.refused]
    elif check == "snippets":
        for item in entry.items or ():
            outcome = "crashed" if item.crash else "ok" if item.ok else f"failed: {item.error}"
            main_too = " (fails in main too: the snippet is invalid)" if item.fails_in_main_too else ""
            lines.append(f"snippet {item.name} ({item.source}): {outcome}{main_too}")
    elif check == "parallel" and entry.seconds is not None:
        lines.append(f"{entry.interpreters} interpreters, {entry.rounds_completed}/{entry.rounds} "
                     f"rounds of {entry.iterations} iterations")
    elif check == "reimport" and entry.seconds is not None:
        lines.append(f"{entry.rounds_completed}/{entry.rounds} create-import-destroy cycles")
    elif check == "static_types":
        if entry.checked:
            lines.append(f"{entry.types_compared} types compared in {', '.join(entry.checked)}")
    elif check == "cross_interpreter":
        if entry.mechanism:
            lines.append(f"mechanism: {entry.mechanism}")
        lines += [f"{o.type} ({o.source}): {'crosses' if o.crosses else 'does not cross'}" for o in entry.objects]
    elif check == "cost":
        lines += [f"{label}: {value}" for label, value in cost_medians(result)]
    return [_one_line(line) for line in lines][:MAX_LINES]


def crash_stderr(result: Optional[DistributionResult], check: str) -> str:
    """The stderr tail of a check that crashed, or ""."""
    entry = check_of(result, check)
    return entry.crash.stderr_tail if entry is not None and entry.crash else ""


def rungs_text(result: Optional[DistributionResult], check: str) -> str:
    """``isolated failed, shared-gil passed``: every rung a failing check ran in (``smoke.rungs``), or ""."""
    seen = result.smoke.rungs.get(check, {}) if has_smoke(result) else {}
    return ", ".join(f"{mode} {status}" for mode, status in seen.items())
