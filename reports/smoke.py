"""How every format reads ``DistributionResult.smoke``: each check's status, its detail lines, the cost in short.

The smoke checks (``docs/smoke.md``) are columns of the matrix, in the order of
``SMOKE_CHECKS`` of auditor/model.py.  ``smoke`` is read defensively: a
result file of schema version 1 may hold any object there, and only entries
that look like a check (an object with a ``status``) count.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from interp_audit.model import DistributionResult
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


def check_of(result: Optional[DistributionResult], check: str) -> Optional[dict[str, Any]]:
    """The check's object in ``result.smoke``, or None when the result has none."""
    smoke = result.smoke if result is not None and isinstance(result.smoke, dict) else {}
    entry = smoke.get(check)
    return entry if isinstance(entry, dict) and "status" in entry else None


def has_smoke(result: Optional[DistributionResult]) -> bool:
    return any(check_of(result, check) is not None for check in CHECKS)


def checks_of(results: Iterable[Optional[DistributionResult]]) -> list[str]:
    """The check columns: every check when any result has smoke data, else none."""
    return list(CHECKS) if any(has_smoke(r) for r in results) else []


def check_status(result: Optional[DistributionResult], check: str) -> str:
    """One of :data:`CHECK_STATUSES`."""
    entry = check_of(result, check)
    if entry is None:
        return "not-run"
    return entry["status"] if entry["status"] in STATUSES else "error"


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
    mode = result.smoke.get("mode") if result is not None and isinstance(result.smoke, dict) else None
    return mode if isinstance(mode, str) else None


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def _crash(crash: dict[str, Any]) -> str:
    how = "hung (killed after the timeout)" if crash.get("timeout") else \
        f"crashed with {crash.get('signal') or 'exit status %s' % crash.get('returncode')}"
    if crash.get("culprit"):
        how += f" in {crash['culprit']}"
        if crash.get("culprit_is_stdlib"):
            how += " (standard library: a CPython bug)"
    return how


def _kib(value: Any) -> str:
    return f"{value / 1024:.1f} MiB" if value >= 1024 else f"{value:.0f} KiB"


def _seconds(value: Any) -> str:
    return f"{value:.2f} s" if value >= 1 else f"{value * 1000:.1f} ms" if value >= 0.001 else f"{value * 1e6:.0f} µs"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def cost_text(result: Optional[DistributionResult]) -> str:
    """``"0.1 ms 3.6 MiB"``: median import time and memory of one more interpreter with the package; "" if unknown."""
    entry = check_of(result, "cost") or {}
    seconds, kib = entry.get("import_seconds_median"), entry.get("rss_growth_kib_median")
    parts = [_seconds(seconds) if _number(seconds) else "", _kib(kib) if _number(kib) else ""]
    return " ".join(p for p in parts if p)


def cost_numbers(result: Optional[DistributionResult]) -> tuple[Optional[float], Optional[float]]:
    """(median import seconds, median KiB of one more interpreter with the package), None when unknown."""
    entry = check_of(result, "cost") or {}
    seconds, kib = entry.get("import_seconds_median"), entry.get("rss_growth_kib_median")
    return (seconds if _number(seconds) else None, kib if _number(kib) else None)


def cost_medians(result: Optional[DistributionResult]) -> list[tuple[str, str]]:
    """(label, value) of every cost median the result has, for the package page."""
    entry = check_of(result, "cost") or {}
    rows = [
        ("first import", "first_import_seconds", _seconds),
        ("import in one more interpreter (median)", "import_seconds_median", _seconds),
        ("a bare interpreter (median RSS growth)", "interpreter_rss_kib_median", _kib),
        ("the import in it (median RSS growth)", "import_rss_kib_median", _kib),
        ("one more interpreter with the package (median)", "rss_growth_kib_median", _kib),
    ]
    return [(label, show(entry[key])) for label, key, show in rows if _number(entry.get(key))]


def _failure_lines(check: str, entry: dict[str, Any]) -> list[str]:
    """What went wrong in a failed check, one line per problem."""
    if check == "generic":
        return [f"{f.get('module')}{'.' + f['attribute'] if f.get('attribute') else ''}: {f.get('error')}"
                for f in entry.get("failed", [])]
    if check == "snippets":
        lines = []
        for item in entry.get("items", []):
            if item.get("crash"):
                lines.append(f"snippet {item.get('name')}: {_crash(item['crash'])}")
            elif item.get("ok") is False and not item.get("fails_in_main_too"):
                lines.append(f"snippet {item.get('name')}: {item.get('error')}")
        return lines
    if check == "parallel":
        lines = ["deadlock: the interpreters did not finish"] if entry.get("deadlock") else []
        lines += [f"round {e.get('round')}, {e.get('where')}: {e.get('error')}"
                  for e in entry.get("errors", []) if "explained_by" not in e]
        lines += [f"snippet {d.get('snippet')}: results differ between interpreters"
                  for d in entry.get("different_results", []) if "explained_by" not in d]
        return lines
    if check == "reimport":
        lines = [f"cycle {f.get('index')}: {f.get('error')}" for f in entry.get("failures", [])]
        lines += [f"snippet {leak.get('snippet')}: result changes between fresh interpreters "
                  f"({', '.join(str(r) for r in leak.get('results', []))})" for leak in entry.get("state_leaks", [])]
        return lines
    if check == "static_types":
        return [f"{s.get('type')} is the same object in two interpreters (module {s.get('module')})"
                for s in entry.get("shared", [])]
    if check == "cross_interpreter":
        return [f"{o.get('type')} ({o.get('source')}) cannot cross: pickle: {o.get('pickle')}; buffer: {o.get('buffer')}"
                for o in entry.get("objects", []) if not o.get("crosses")]
    return []


def details(result: Optional[DistributionResult], check: str) -> list[str]:
    """Why a check has its status, one line each (at most :data:`MAX_LINES`); [] when there is nothing to say."""
    entry = check_of(result, check)
    if entry is None:
        return []
    status = check_status(result, check)
    lines: list[str] = []
    if status == "crashed" and isinstance(entry.get("crash"), dict):
        lines.append(_crash(entry["crash"]))
    if status in ("failed", "crashed"):
        lines += _failure_lines(check, entry)
    if entry.get("reason"):
        lines.append(str(entry["reason"]))
    if entry.get("error") and status in ("error", "failed"):
        lines.append(str(entry["error"]))
    seconds, kib = cost_numbers(result)
    if check == "cost" and status == "passed" and seconds is not None and kib is not None:
        lines.append(f"one more interpreter with the package: {_seconds(seconds)} import, {_kib(kib)} memory (medians)")
    if entry.get("note"):
        lines.append(str(entry["note"]))
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
        walked = entry.get("modules_walked") or []
        lines.append(f"{len(walked)} modules walked{' (stopped early)' if entry.get('truncated') else ''}, "
                     f"{entry.get('attributes_touched', 0)} public attributes touched")
        lines += [f"skipped {s.get('module')}: {s.get('reason')}" for s in entry.get("skipped", [])]
        lines += [f"refused {r.get('module')}: {r.get('error')}" for r in entry.get("refused", [])]
    elif check == "snippets":
        for item in entry.get("items", []):
            outcome = "crashed" if item.get("crash") else "ok" if item.get("ok") else f"failed: {item.get('error')}"
            main_too = " (fails in main too: the snippet is invalid)" if item.get("fails_in_main_too") else ""
            lines.append(f"snippet {item.get('name')} ({item.get('source')}): {outcome}{main_too}")
    elif check == "parallel" and "rounds" in entry:
        lines.append(f"{entry.get('interpreters')} interpreters, {entry.get('rounds_completed')}/{entry.get('rounds')} "
                     f"rounds of {entry.get('iterations')} iterations")
    elif check == "reimport" and "rounds" in entry:
        lines.append(f"{entry.get('rounds_completed')}/{entry.get('rounds')} create-import-destroy cycles")
    elif check == "static_types":
        checked = entry.get("checked") or []
        if checked:
            lines.append(f"{entry.get('types_compared', 0)} types compared in {', '.join(map(str, checked))}")
    elif check == "cross_interpreter":
        if entry.get("mechanism"):
            lines.append(f"mechanism: {entry['mechanism']}")
        lines += [f"{o.get('type')} ({o.get('source')}): {'crosses' if o.get('crosses') else 'does not cross'}"
                  for o in entry.get("objects", [])]
    elif check == "cost":
        lines += [f"{label}: {value}" for label, value in cost_medians(result)]
    return [_one_line(line) for line in lines][:MAX_LINES]


def crash_stderr(result: Optional[DistributionResult], check: str) -> str:
    """The stderr tail of a check that crashed, or ""."""
    crash = (check_of(result, check) or {}).get("crash")
    return str(crash.get("stderr_tail") or "") if isinstance(crash, dict) else ""


def rungs_text(result: Optional[DistributionResult], check: str) -> str:
    """``isolated failed, shared-gil passed``: every rung a failing check ran in (``smoke.rungs``), or ""."""
    smoke = result.smoke if result is not None and isinstance(result.smoke, dict) else {}
    seen = (smoke.get("rungs") or {}).get(check)
    return ", ".join(f"{mode} {status}" for mode, status in seen.items()) if isinstance(seen, dict) else ""
