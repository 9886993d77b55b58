"""Behavioural smoke tests of one distribution, in one worker process when nothing goes wrong.

:func:`run_smoke` runs the checks of ``docs/smoke.md`` one after another in a
child process of the *target* interpreter running ``auditor/probe/smoke.py``
(a *session*, ``SESSION_ORDER``).  When that process crashes or hangs in a
check, the checks that ended before it keep their results, the check runs again
in a fresh child of its own, as when it is the only check asked for (a crash or
hang is recorded: signal, culprit, the steps that were open), and the checks
after it run in a new session.  From the first check that does not pass in the
session on (unless it ran first), each check runs again in a fresh child of its
own (:func:`vouches`), as does every check of a session that died after its
last check or whose probe failed.
This process never runs package code.  The checks are put together as JSON-able
dicts and returned as the :class:`~interp_audit.model.SmokeReport` stored in
``DistributionResult.smoke``; ``auditor/verdict.py`` decides what it costs.
"""

from __future__ import annotations

import ast
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Union

from ..model import REFUSAL, SMOKE_CHECKS, Crash, SmokeReport, from_dict, to_dict
from ..smoke_config import Snippet
from ..verdict import smoke_failures
from .worker import CRASH_TAIL, ProbeRun, open_steps, run_probe

PROBE = Path(__file__).resolve().parent.parent / "probe" / "smoke.py"

CHECKS = SMOKE_CHECKS
#: Checks that need sub-interpreters (skipped when the best mode is ``main``).
NEEDS_SUBINTERPRETERS = ("parallel", "reimport", "static_types", "cross_interpreter", "cost")


@dataclass
class WorkerRun:
    """What one probe process reported."""

    events: list[dict] = field(default_factory=list)
    crash: Optional[Crash] = None
    open_steps: list[str] = field(default_factory=list)
    unsupported: Optional[str] = None
    error: Optional[str] = None  # the probe itself failed (not the package)
    seconds: float = 0.0
    still_working: bool = False  # it hung at the deadline while modules were still loading: slow

    def results(self, check: str) -> list[dict]:
        return [e for e in self.events if e.get("event") == "result" and e.get("check") == check]


def _describe_crash(probe: ProbeRun, hang: bool, stdlib_names: Iterable[str]) -> tuple[Crash, list[str]]:
    still = open_steps(probe.events)
    culprit, is_stdlib = None, False
    if still:
        _, kind, name = still[-1]
        culprit = name
        is_stdlib = kind == "module" and name.split(".")[0] in stdlib_names
    elif any(e.get("event") == "done" for e in probe.events):
        culprit = "interpreter finalization"
    crash = probe.crash(culprit, is_stdlib, hang)
    return crash, ["%s: %s %s" % step for step in still]


#: The share of the probe's deadline (at least a second) before it in which a module load or
#: step that began or ended shows the work was still under way: a deadlock stops producing them.
PROGRESS_WINDOW = 0.1


def _still_working(events: list[dict], hang: dict, deadline: float) -> bool:
    """Whether the interpreters were still loading modules or running steps just before the
    probe gave up waiting for them: a slow check (several interpreters sharing one GIL
    importing sympy on a loaded machine), not a hang."""
    times = [e["t"] for e in events if e.get("event") in ("begin", "end") and "t" in e]
    return "t" in hang and bool(times) and hang["t"] - max(times) < max(1.0, PROGRESS_WINDOW * deadline)


def run_worker(python: str, request: dict, timeout: float, stdlib_names: Iterable[str] = (),
               env: Optional[dict[str, str]] = None) -> WorkerRun:
    """Run the smoke probe once in a fresh process of ``python`` (environment ``env``); never raises.

    ``stdlib_names`` are the top-level standard-library modules of ``python``,
    to tell a crash of CPython itself from one of the package.
    """
    try:
        probe = run_probe(python, PROBE, request, timeout, env)
    except OSError as exc:
        return WorkerRun(error="cannot start %s: %s" % (python, exc))
    run = WorkerRun(events=probe.events, seconds=probe.seconds)
    for event in run.events:
        if event.get("event") == "unsupported":
            run.unsupported = event.get("reason")
    hang = next((e for e in run.events if e.get("event") == "hang"), None)
    if probe.timed_out or hang or (probe.returncode or 0) < 0:
        run.crash, run.open_steps = _describe_crash(probe, bool(hang), stdlib_names)
        run.still_working = hang is not None and _still_working(run.events, hang, float(request.get("deadline", 50)))
    elif probe.returncode != 0:
        run.error = "the smoke probe exited with status %s: %s" % (
            probe.returncode, probe.output_tail.strip()[-CRASH_TAIL:])
    return run


SnippetLike = Union[Snippet, str, dict]


def _snippets(snippets: Iterable[SnippetLike]) -> list[Snippet]:
    result = []
    for index, item in enumerate(snippets):
        if isinstance(item, Snippet):
            result.append(item)
        elif isinstance(item, str):
            result.append(Snippet("snippet-%d" % (index + 1), item, "argument"))
        else:
            result.append(Snippet(item["name"], item["code"], item.get("source", "argument")))
    return result


def _crash_fields(run: WorkerRun) -> dict:
    crash = to_dict(run.crash)
    crash["open_steps"] = run.open_steps
    if run.still_working:
        return {"status": "inconclusive", "ok": None, "crash": crash,
                "reason": "still importing or running when the time limit passed (slow, not stuck): "
                          "raise --timeout to decide"}
    return {"status": "crashed", "ok": False, "crash": crash}


def _base(run: WorkerRun) -> Optional[dict]:
    """The status of a run that produced nothing usable, else None."""
    if run.unsupported:
        return {"status": "skipped", "ok": None, "reason": run.unsupported}
    if run.error:
        return {"status": "error", "ok": None, "error": run.error}
    return None


def _median(values: list[float]) -> Optional[float]:
    return statistics.median(values) if values else None


#: A session's order.  ``cost`` first: its first import and the memory each interpreter adds are
#: a fresh process's.  ``reimport`` next: its first cycle is the first to import after an
#: interpreter with the package was destroyed, and a package that passes it behaves the same in
#: every fresh interpreter of a process -- what lets the later checks share the process.
#: ``snippets`` and ``generic`` last: they retry failures in the main interpreter.
SESSION_ORDER = ("cost", "reimport", "static_types", "cross_interpreter", "parallel", "snippets", "generic")
PROBE_NAMES = {"snippets": "snippet"}  # a check's name in auditor/probe/smoke.py, where it differs


def vouches(check: str, result: dict, run: WorkerRun) -> bool:
    """Whether ``result`` (from ``run``, a session's share), stands, and says that the next check
    may share the process.

    True when the check passed (for the informational ``cross_interpreter``: decided;
    ``static_types``: every extension module refused by CPython, as in any process), set no
    process environment variable (every interpreter created later would start with it) and
    ran no package code in the main interpreter (a snippet retried there), or when the probe
    ran nothing (the mode is not supported)."""
    if result["status"] == "skipped":
        return True
    if any(event.get("environ_set") for event in run.events if event.get("event") == "result"):
        return False
    if check == "static_types" and result["status"] == "inconclusive":
        return all(REFUSAL.search(str(error)) for error in result["errors"].values())
    if check == "cross_interpreter":
        return result["status"] in ("passed", "failed", "inconclusive")
    if check == "snippets":
        return result["status"] == "passed" and not result["invalid"]
    return result["status"] == "passed"


def session_parts(run: WorkerRun, checks: list[str]) -> Optional[list[WorkerRun]]:
    """Each check's share of a session run (its events, its seconds), in order, up to the check
    it crashed or hung in.

    None when no share can be trusted to a check: an error of the probe, checks out of order, a
    session that died after its last check ended (no check to name): a fresh process per check
    then names the culprit."""
    if run.unsupported:
        return [run] * len(checks)
    if run.error:
        return None
    parts: dict[str, WorkerRun] = {}
    current: Optional[WorkerRun] = None
    for event in run.events:
        if event.get("event") != "check":
            if current is not None:
                current.events.append(event)
        elif event.get("state") == "begin":
            current = parts[event["check"]] = WorkerRun()
        elif current is not None:
            current.seconds = float(event.get("seconds") or 0.0)
            current = None
    names = [PROBE_NAMES.get(c, c) for c in checks]
    if run.crash and current is not None and names[:len(parts)] == list(parts):
        return list(parts.values())[:-1]  # the check in progress when the process died
    if run.crash or current is not None or names != list(parts):
        return None
    return list(parts.values())


def snippet_parts(run: WorkerRun) -> list[WorkerRun]:
    """The snippet check's share of a session split per snippet (the events up to its result)."""
    parts, events = [], []
    for event in run.events:
        events.append(event)
        if event.get("event") == "result" and event.get("check") == "snippet":
            parts.append(WorkerRun(events=events, seconds=float(event.get("seconds") or 0.0)))
            events = []
    return parts


class _Runner:
    """Runs the checks of one distribution and turns probe events into check results."""

    def __init__(self, python, request, timeout, stdlib_names, snippets: list[Snippet]):
        self.python = python
        self.request = request
        self.timeout = timeout
        self.stdlib_names = stdlib_names
        self.snippets = snippets
        self.processes = 0

    def worker(self, checks: Union[str, list[str]], timeout: Optional[float] = None, **extra) -> WorkerRun:
        """One worker process running probe check ``checks`` (a list: a session), each with its own deadline."""
        kind = {"checks": checks} if isinstance(checks, list) else {"check": checks}
        request = dict(self.request, snippets=[{"name": s.name, "code": s.code} for s in self.snippets],
                       deadline=max(self.timeout * 0.8, self.timeout - 5), **kind)
        request.update(extra)
        self.processes += 1
        return run_worker(self.python, request, timeout or self.timeout, self.stdlib_names)

    def session(self, checks: list[str]) -> dict[str, dict]:
        """The results of ``checks``, run in one worker process while each vouches for the next.

        A session that crashes or hangs in a check keeps the results of the checks before it, runs
        that check alone (naming the culprit; unless it ran first: its crash is then a fresh
        process's) and the checks after it in a new session.  After the first check that does not
        vouch for its process (it may have left traces for those after it), each check runs in a
        process of its own, as when it is the only check asked for; so does that check itself
        unless it ran first (it may have met traces of the checks before it)."""
        order = [c for c in SESSION_ORDER if c in checks]
        results: dict[str, dict] = {}
        while len(order) - len(results) > 1 and self.request["mode"] != "main":
            pending = order[len(results):]
            units = sum(len(self.snippets) if c == "snippets" else 1 for c in pending)
            run = self.worker([PROBE_NAMES.get(c, c) for c in pending], timeout=self.timeout * units)
            parts = session_parts(run, pending)
            for check, part in zip(pending, parts or []):
                snippet_runs = [part] * len(self.snippets) if part.unsupported else snippet_parts(part)
                result = self.build(check, part, snippet_runs)
                if check == pending[0] or vouches(check, result, part):
                    results[check] = result  # the first check met nothing left by another
                if not vouches(check, result, part):
                    parts = None
                    break
            if parts is None or not run.crash:
                break
            crashed = pending[len(parts)]
            # Crashed first, in a fresh process: what a process of its own gives (snippets: one each).
            first = not parts and crashed != "snippets"
            results[crashed] = self.build(crashed, run) if first else self.alone(crashed)
        for check in order[len(results):]:
            results[check] = self.alone(check)
        return results

    def alone(self, check: str) -> dict:
        """Check ``check`` in a fresh process of its own (each snippet in its own)."""
        if check == "snippets":
            return self.build(check, WorkerRun(), [self.worker("snippet", snippets=[{"name": s.name, "code": s.code}])
                                                   for s in self.snippets])
        return self.build(check, self.worker(PROBE_NAMES.get(check, check)))

    def build(self, check: str, run: WorkerRun, snippet_runs: Optional[list[WorkerRun]] = None) -> dict:
        """The result of ``check`` from what its probe run reported."""
        if check == "snippets":
            return self.snippets_result(snippet_runs or [])
        return getattr(self, check)(run)

    def generic(self, run: WorkerRun) -> dict:
        found = run.results("generic")
        result = {"seconds": round(run.seconds, 3), "modules_walked": [], "failed": [], "skipped": [],
                  "refused": [], "truncated": False, "attributes_touched": 0, "error": None, "crash": None}
        if found:
            event = found[0]
            for key in ("modules_walked", "failed", "skipped", "refused", "truncated", "attributes_touched",
                        "not_walked"):
                if key in event:
                    result[key] = event[key]
            result["error"] = event.get("error")
            result.update(status="passed" if event["ok"] else "failed", ok=bool(event["ok"]))
        if run.crash:
            result.update(_crash_fields(run))
        elif not found:
            result.update(_base(run) or {"status": "error", "ok": None, "error": "the probe reported nothing"})
        return result

    def snippets_result(self, runs: list[WorkerRun]) -> dict:
        items = []
        for snippet, run in zip(self.snippets, runs + [WorkerRun()] * (len(self.snippets) - len(runs))):
            item = {"name": snippet.name, "source": snippet.source, "ok": None, "error": None, "result": None,
                    "fails_in_main_too": False, "crash": None, "seconds": round(run.seconds, 3)}
            found = run.results("snippet")
            if found:
                event = found[0]
                item.update(ok=bool(event["ok"]), error=event.get("error"), result=event.get("result"),
                            fails_in_main_too=bool(event.get("fails_in_main_too")))
            if run.crash:
                item.update(ok=False, crash=_crash_fields(run)["crash"])
            elif not found:
                base = _base(run) or {"error": "the probe reported nothing"}
                item.update(error=base.get("error") or base.get("reason"))
            items.append(item)
        broken = [i for i in items if i["ok"] is False and not i["fails_in_main_too"]]
        unknown = [i for i in items if i["ok"] is None]
        status = "crashed" if any(i["crash"] for i in items) else "failed" if broken else \
            "error" if unknown and len(unknown) == len(items) else "passed"
        ok = None if status == "error" else not broken
        invalid = [i["name"] for i in items if i["fails_in_main_too"]]
        return {"status": status, "ok": ok, "items": items, "invalid": invalid}

    def parallel(self, run: WorkerRun) -> dict:
        rounds = run.results("parallel")
        result = {"interpreters": self.request["parallel"], "rounds": self.request["rounds"],
                  "rounds_completed": len(rounds), "iterations": self.request["iterations"], "errors": [],
                  "different_results": [], "crash": None, "seconds": round(run.seconds, 3)}
        values: dict[str, dict[str, list[str]]] = {}
        for event in rounds:
            for member in event["members"]:
                if not member["ok"]:
                    result["errors"].append({"round": event["round"], "where": member["where"],
                                             "error": member["error"]})
                for name, outputs in member.get("results", {}).items():
                    values.setdefault(name, {}).setdefault(repr(outputs), []).append(member["where"])
        for name, seen in sorted(values.items()):
            if len(seen) > 1:
                result["different_results"].append(
                    {"snippet": name, "variants": [{"results": ast.literal_eval(k), "where": w} for k, w in seen.items()]})
        if run.crash:
            result.update(_crash_fields(run))
            result["deadlock"] = run.crash.timeout and result["status"] == "crashed"
        elif not rounds:
            result.update(_base(run) or {"status": "error", "ok": None, "error": "the probe reported nothing"})
        else:
            bad = result["errors"] or result["different_results"]
            result.update(status="failed" if bad else "passed", ok=not bad)
        return result

    def reimport(self, run: WorkerRun) -> dict:
        rounds = run.results("reimport")
        result = {"rounds": self.request["rounds"], "rounds_completed": len(rounds), "failures": [],
                  "state_leaks": [], "first_error": None, "crash": None, "seconds": round(run.seconds, 3)}
        for event in rounds:
            if not event["ok"]:
                result["failures"].append({"index": event["index"], "error": event["error"], "chain": event["chain"]})
        per_name: dict[str, list] = {}
        for event in rounds:
            if event["ok"]:
                for name, outputs in event["results"].items():
                    per_name.setdefault(name, []).append(outputs[0] if outputs else None)
        environment = sorted({k for event in rounds for k in event.get("environ_set", ())})
        for name, firsts in sorted(per_name.items()):
            if len(set(firsts)) > 1:
                leak = {"snippet": name, "results": firsts}
                if environment:  # what one interpreter wrote there, the next one starts with
                    leak.update(explained_by="environment", environment=environment)
                result["state_leaks"].append(leak)
        if rounds and not rounds[0]["ok"]:
            result["first_error"] = rounds[0]["error"]
        if run.crash:
            result.update(_crash_fields(run))
            result["crashed_in_round"] = len(rounds) + 1
        elif not rounds:
            result.update(_base(run) or {"status": "error", "ok": None, "error": "the probe reported nothing"})
        elif result["first_error"]:
            result.update(status="inconclusive", ok=None,
                          reason="the first interpreter already failed: " + str(result["first_error"]))
        else:
            bad = result["failures"] or [leak for leak in result["state_leaks"] if "explained_by" not in leak]
            result.update(status="failed" if bad else "passed", ok=not bad)
        return result

    def static_types(self, run: WorkerRun) -> dict:
        found = run.results("static_types")
        result = {"shared": [], "checked": [], "errors": {}, "types_compared": 0, "crash": None,
                  "seconds": round(run.seconds, 3)}
        if found:
            for key in ("shared", "checked", "errors", "types_compared"):
                result[key] = found[0][key]
        if run.crash:
            result.update(_crash_fields(run))
        elif not found:
            result.update(_base(run) or {"status": "error", "ok": None, "error": "the probe reported nothing"})
        elif not result["checked"]:
            result.update(status="inconclusive", ok=None, reason="no extension module imported in the sub-interpreter")
        else:
            result.update(status="failed" if result["shared"] else "passed", ok=not result["shared"])
        return result

    def cross_interpreter(self, run: WorkerRun) -> dict:
        found = run.results("cross_interpreter")
        result = {"mechanism": None, "objects": [], "error": None, "crash": None, "seconds": round(run.seconds, 3)}
        if found:
            event = found[0]
            result.update(mechanism=event["mechanism"], objects=event["objects"], error=event.get("error"))
        if run.crash:
            result.update(_crash_fields(run))
        elif not found:
            result.update(_base(run) or {"status": "error", "ok": None, "error": "the probe reported nothing"})
        elif result["error"]:
            result.update(status="error", ok=None)
        elif not result["objects"]:
            result.update(status="inconclusive", ok=None,
                          reason="no object to send: no snippet binds `result` and no public package object")
        else:
            ok = all(o["crosses"] for o in result["objects"])
            result.update(status="passed" if ok else "failed", ok=ok)
        return result

    def cost(self, run: WorkerRun) -> dict:
        found = run.results("cost")
        result = {"samples": [], "crash": None, "seconds": round(run.seconds, 3)}
        if found:
            samples = found[0].get("samples", [])
            extra = samples[1:]
            result.update(
                samples=samples,
                rss_source=found[0].get("rss_source"),
                first_import_seconds=samples[0]["import_seconds"] if samples else None,
                import_seconds_median=_median([s["import_seconds"] for s in extra]),
                interpreter_rss_kib_median=_median([s["interpreter_kib"] for s in extra]),
                import_rss_kib_median=_median([s["import_kib"] for s in extra]),
                rss_growth_kib_median=_median([s["interpreter_kib"] + s["import_kib"] for s in extra]),
            )
            if found[0]["ok"]:
                result.update(status="passed", ok=True)
            else:
                result.update(status="error", ok=None, error=found[0].get("error"))
        if run.crash:
            result.update(_crash_fields(run))
        elif not found:
            result.update(_base(run) or {"status": "error", "ok": None, "error": "the probe reported nothing"})
        return result


def run_smoke(
    python: str,
    dist_name: str,
    import_names: list[str],
    extensions: list[str],
    mode: str,
    snippets: Iterable[SnippetLike] = (),
    *,
    parallel: int = 4,
    rounds: int = 3,
    iterations: int = 5,
    samples: int = 5,
    timeout: float = 60,
    max_modules: int = 200,
    walk_seconds: float = 20,
    checks: Iterable[str] = CHECKS,
    stdlib_names: Optional[Iterable[str]] = None,
    exclude: Iterable[str] = (),
    session: bool = True,
) -> SmokeReport:
    """Run the smoke checks of one distribution in ``mode`` interpreters of ``python``.

    ``mode`` is the strictest mode in which the distribution imports
    (``isolated`` when it can).  ``parallel`` interpreters run at once for
    ``rounds`` rounds, each running the snippets ``iterations`` times; the
    re-import check makes ``rounds`` cycles; the cost check ``samples``
    interpreters.  The walk stops after ``max_modules`` modules or
    ``walk_seconds``.  ``timeout`` bounds each check (each snippet) in the worker
    process; the checks share one process unless one of them crashes, hangs or
    fails (:meth:`_Runner.session`); ``session=False`` gives each check a process
    of its own from the start.
    ``stdlib_names`` (the target's ``sys.stdlib_module_names``; default: this
    Python's) mark crashes whose culprit is the standard library.
    Returns the report documented in ``docs/smoke.md`` (``DistributionResult.smoke``).
    """
    started = time.monotonic()
    chosen = _snippets(snippets)
    request = {
        "mode": mode, "import_names": list(import_names), "extensions": list(extensions),
        "parallel": int(parallel), "rounds": int(rounds), "iterations": int(iterations),
        "samples": max(2, int(samples)), "max_modules": int(max_modules), "walk_seconds": float(walk_seconds),
        "exclude": list(exclude),
    }
    stdlib = frozenset(sys.stdlib_module_names if stdlib_names is None else stdlib_names)
    runner = _Runner(python, request, float(timeout), stdlib, chosen)
    report: dict[str, Any] = {"mode": mode, "python": python, "distribution": dist_name,
                              "snippets_used": [{"name": s.name, "source": s.source} for s in chosen]}
    wanted = set(checks)
    for check in CHECKS:
        if check not in wanted:
            report[check] = {"status": "skipped", "ok": None, "reason": "not requested"}
        elif not import_names:
            report[check] = {"status": "skipped", "ok": None, "reason": "the distribution has no import name"}
        elif mode == "main" and check in NEEDS_SUBINTERPRETERS:
            report[check] = {"status": "skipped", "ok": None,
                             "reason": "the distribution imports in no sub-interpreter"}
        elif check == "static_types" and mode != "isolated":
            report[check] = {"status": "skipped", "ok": None,
                             "reason": "interpreters that share one GIL cannot race on a shared type: "
                                       "checked in isolated interpreters only"}
        elif check == "static_types" and not extensions:
            report[check] = {"status": "skipped", "ok": None, "reason": "the distribution has no extension modules",
                             "shared": [], "checked": []}
        elif check == "snippets" and not chosen:
            report[check] = {"status": "skipped", "ok": None, "reason": "no snippet for this distribution",
                             "items": []}
    left = [c for c in CHECKS if c in wanted and c not in report]
    report.update(runner.session(left) if session else {check: runner.alone(check) for check in left})
    _explain_parallel(report)
    report["seconds"] = round(time.monotonic() - started, 3)
    report["processes"] = runner.processes
    smoke = from_dict(SmokeReport, report)
    smoke.failed_checks = smoke_failures(smoke, mode, [])  # before any control: every failure and crash
    smoke.ok = not smoke.failed_checks
    return smoke


def _explain_parallel(report: dict) -> None:
    """Mark parallel errors, differences and crashes that other checks already explain.

    An error that a single interpreter also shows (generic walk, snippets), an
    error the re-import check also shows after a destroy, or results drifting like a
    re-import state leak are not concurrency problems: each gets
    ``explained_by`` naming that check, and the parallel check fails only on
    what is left.
    """
    parallel, reimport = report["parallel"], report["reimport"]
    if parallel.get("status") == "crashed" and report["static_types"].get("shared") and parallel.get("crash"):
        # Own-GIL interpreters race on a shared static type's reference count; when a decrement
        # is lost the count reaches zero and the type is freed (free(): invalid pointer).  How
        # often depends on load: one cause, reported once, by the static-type check.
        parallel["crash"]["explained_by"] = "static_types"
    if parallel.get("status") != "failed":
        return
    alone = {i.get("error") for i in report["snippets"].get("items", []) if i.get("error")}
    alone |= {i.get("error") for i in report["generic"].get("failed", [])}
    after_destroy = {f["error"] for f in reimport.get("failures", [])}
    leaking = {leak["snippet"] for leak in reimport.get("state_leaks", [])}
    for error in parallel["errors"]:
        if error["error"] in alone:
            error["explained_by"] = "snippets"
        elif error["error"] in after_destroy:
            # Also in round 1: a member may finish and be destroyed before a slower one imports.
            error["explained_by"] = "reimport"
    for difference in parallel["different_results"]:
        if difference["snippet"] in leaking:
            difference["explained_by"] = "reimport"
    left = [e for e in parallel["errors"] + parallel["different_results"] if "explained_by" not in e]
    if not left:
        parallel.update(status="passed", ok=True,
                        note="every error or difference also shows without concurrency (see explained_by)")


def run_app(python: str, module: str, attribute: Optional[str], kind: Optional[str], mode: str,
            requests: list[str], *, parallel: int = 4, timeout: float = 60,
            stdlib_names: Iterable[str] = (), env: Optional[dict[str, str]] = None) -> dict:
    """Serve an application in ``parallel`` interpreters of ``mode`` at once, as a worker pool
    would (``check_app`` of ``auditor/probe/smoke.py``), and compare every answer with the
    main interpreter's.  ``kind`` (asgi, wsgi, callable) says how to serve it.

    Returns ``{"status": passed | failed | crashed | error, "mode", "main", "members",
    "differences", "errors", "cost", "crash"}``: ``differences`` are answers that differ from
    main's, ``errors`` are failures seen only in sub-interpreters."""
    request = {"check": "app", "mode": mode, "parallel": int(parallel),
               "deadline": max(timeout * 0.8, timeout - 5),
               "app": {"module": module, "attribute": attribute, "kind": kind, "requests": list(requests)}}
    run = run_worker(python, request, timeout, stdlib_names, env)
    found = run.results("app")
    result: dict[str, Any] = {"mode": mode, "kind": kind, "interpreters": int(parallel), "requests": list(requests),
                              "differences": [], "errors": [], "crash": None, "seconds": round(run.seconds, 3)}
    if found:
        event = found[0]
        result.update(main=event["main"], members=event["members"], cost=dict(event["cost"]))
        result["cost"]["startup_seconds_median"] = _median(
            [m["startup_seconds"] for m in event["members"] if m["startup_seconds"] is not None])
        _compare_with_main(result)
    if run.crash:
        result.update(_crash_fields(run))
    elif not found:
        result.update(_base(run) or {"status": "error", "ok": None, "error": "the probe reported nothing"})
    elif result["main"]["start"] or result["main"]["requests"]:
        failure = result["main"]["start"] or result["main"]["requests"]
        result.update(status="error", ok=None, error="the application fails in the main interpreter: "
                      + str(failure["error"]))
    else:
        bad = result["differences"] or result["errors"]
        result.update(status="failed" if bad else "passed", ok=not bad)
    return result


def _compare_with_main(result: dict) -> None:
    """Fill ``differences`` and ``errors`` (seen in a sub-interpreter, not in main)."""
    main = result["main"]
    expected = {a["request"]: a for a in main["answers"]}
    main_errors = {(main.get(phase) or {}).get("error") for phase in ("start", "requests", "stop")}
    for member in result["members"]:
        for phase in ("start", "requests", "stop"):
            failure = member.get(phase)
            if failure and failure.get("error") not in main_errors:
                result["errors"].append({"where": member["where"], "phase": phase, "error": failure["error"]})
        for answer in member["answers"]:
            reference = expected.get(answer["request"], {})
            if answer["error"] and answer["error"] != reference.get("error"):
                result["errors"].append({"where": member["where"], "phase": answer["request"],
                                         "error": answer["error"]})
            elif (answer["status"], answer["body"]) != (reference.get("status"), reference.get("body")):
                result["differences"].append({"where": member["where"], "request": answer["request"],
                                              "main": {"status": reference.get("status"), "body": reference.get("body")},
                                              "got": {"status": answer["status"], "body": answer["body"]}})
