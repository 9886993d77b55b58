"""Climb the interpreter ladder for one import name.

For each rung (isolated, shared-gil, legacy) two scenarios run, each in a
fresh process of the target interpreter:

* ``alone``: the name is imported only in one sub-interpreter;
* ``beside_main``: the name is imported in main, then in two successive
  sub-interpreters (each created, imported into, destroyed).

A rung passes only when both pass.  The main rung is read off the first
``beside_main`` process: its first step is exactly "a fresh process imports
the name in main".  Rungs below a passing rung are not run; they are reported
as passing with ``inferred`` saying so.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Callable, Optional

from interp_audit.model import Crash, ModeResult, ScenarioResult
from interp_audit.probe import probe_path
from interp_audit.runtime.worker import ProbeRun, run_probe

SUB_MODES = ("isolated", "shared-gil", "legacy")
MAX_SHUTDOWN_CANDIDATES = 120
REFUSAL = re.compile(r"module (\S+?) does not support loading in subinterpreters")


@dataclass
class NameOutcome:
    """Every rung's result for one import name, plus what main loaded."""

    name: str
    modes: dict[str, ModeResult] = field(default_factory=dict)
    main_loaded: list[str] = field(default_factory=list)


def _crash(run: ProbeRun, stdlib_names: frozenset[str]) -> Optional[Crash]:
    if not run.died:
        return None
    unfinished = run.unfinished_imports()
    culprit = unfinished[-1][1] if unfinished else None
    return Crash(
        signal=run.signal,
        returncode=run.returncode,
        timeout=run.timed_out,
        culprit=culprit,
        culprit_is_stdlib=bool(culprit) and culprit.split(".")[0] in stdlib_names,
        stderr_tail=run.output_tail[-2000:],
    )


def _what_happened(crash: Crash) -> str:
    return "hung (timed out)" if crash.timeout else f"died with {crash.signal or f'exit status {crash.returncode}'}"


def _describe_crash(crash: Crash, where: str) -> str:
    what = _what_happened(crash)
    place = {"main": "in the main interpreter"}.get(where, "in a sub-interpreter")
    culprit = f" while importing {crash.culprit}" if crash.culprit else ""
    return f"the process {what} {place}{culprit}"


def _describe_shutdown_crash(crash: Crash) -> str:
    text = f"the process {_what_happened(crash)} at shutdown, after every import in the sub-interpreter had finished"
    return text + (f"; importing {crash.culprit} alone reproduces it" if crash.culprit else "")


def _step_result(event: dict) -> ScenarioResult:
    return ScenarioResult(
        ok=bool(event.get("ok")),
        error=event.get("error"),
        error_chain=list(event.get("chain") or []),
        loaded_extensions=list(event.get("loaded") or []),
        seconds=event.get("seconds"),
        failed_module=event.get("failed_module"),
    )


def _scenario(run: ProbeRun, wanted: tuple[str, ...], main_loaded: Optional[list[str]],
              stdlib_names: frozenset[str],
              shutdown_culprit: Callable[[list[str]], Optional[str]]) -> ScenarioResult:
    """Fold the steps ``wanted`` (e.g. ("sub1", "sub2")) of a probe run into one result.

    ``shutdown_culprit`` names the extension module behind a crash that
    happened after every step had finished (at interpreter shutdown).
    """
    results = {e["where"]: e for e in run.events if e.get("event") == "result"}
    escaped = {e["where"]: e for e in run.events if e.get("event") == "probe-error"}
    total = sum(e.get("seconds") or 0.0 for e in results.values())
    for where in wanted:
        if where in escaped:
            return ScenarioResult(ok=False, error=escaped[where]["error"], seconds=total)
        if where not in results:
            crash = _crash(run, stdlib_names) or Crash(returncode=run.returncode, stderr_tail=run.output_tail[-2000:])
            where_died = next((w for w, _ in run.unfinished_imports()[-1:]), where)
            return ScenarioResult(ok=False, error=_describe_crash(crash, where_died), crash=crash, seconds=total)
        step = _step_result(results[where])
        if not step.ok:
            step.seconds = total
            return step
        missing = [m for m in (main_loaded or []) if m not in step.loaded_extensions]
        if where != "main" and missing:
            step.ok = False
            step.error = (f"imported without its extension module(s) {', '.join(missing)} "
                          "(silent pure-Python fallback)")
            step.seconds = total
            return step
    last = _step_result(results[wanted[-1]])
    last.seconds = total
    if run.died and wanted != ("main",):
        loaded = sorted({m for w in wanted for m in results[w].get("top_level_loaded", ())})
        crash = _crash(run, stdlib_names)
        crash.at_shutdown = True
        crash.culprit = shutdown_culprit(loaded)
        crash.culprit_is_stdlib = bool(crash.culprit) and crash.culprit.split(".")[0] in stdlib_names
        last.ok = False
        last.crash = crash
        last.error = _describe_shutdown_crash(crash)
    return last


class Ladder:
    """Runs the rungs for import names of one target interpreter."""

    def __init__(self, python: str, timeout: float, stdlib_names: frozenset[str]) -> None:
        self.python = python
        self.timeout = timeout
        self.stdlib_names = stdlib_names
        self.unsupported: dict[str, str] = {}  # mode -> why this interpreter cannot make it
        self._reproduces_shutdown_crash: dict[tuple[str, str], bool] = {}

    def _shutdown_culprit(self, mode: str, loaded: list[str]) -> Optional[str]:
        """The first top-level module (standard library first) that, imported
        alone in a ``mode`` sub-interpreter, also crashes the process at shutdown.
        Each module is tried once per target."""
        candidates = sorted(loaded, key=lambda m: (m.split(".")[0] not in self.stdlib_names, m))
        for module in candidates[:MAX_SHUTDOWN_CANDIDATES]:
            key = (mode, module)
            if key not in self._reproduces_shutdown_crash:
                run = self._run(module, mode, "alone", [])
                finished = any(e.get("event") == "done" for e in run.events)
                self._reproduces_shutdown_crash[key] = run.died and finished
            if self._reproduces_shutdown_crash[key]:
                return module
        return None

    def _run(self, name: str, mode: str, scenario: str, extensions: list[str]) -> ProbeRun:
        request = {"name": name, "mode": mode, "scenario": scenario, "extensions": extensions}
        return run_probe(self.python, probe_path("runtime"), request, self.timeout)

    def _unsupported_reason(self, run: ProbeRun) -> Optional[str]:
        for event in run.events:
            if event.get("event") == "unsupported":
                return event.get("reason") or "not supported by this interpreter"
        return None

    def climb(self, name: str, extensions: list[str]) -> NameOutcome:
        """Run the ladder for ``name``; ``extensions`` are the dotted extension
        modules of its distribution (to detect silent fallbacks)."""
        outcome = NameOutcome(name=name)
        passed_above: Optional[str] = None
        for mode in SUB_MODES:
            if passed_above:
                outcome.modes[mode] = ModeResult(ok=True, inferred=f"implied by the {passed_above} pass: not run")
                continue
            if mode in self.unsupported:
                outcome.modes[mode] = ModeResult(ok=None, inferred=f"not run: {self.unsupported[mode]}")
                continue
            beside = self._run(name, mode, "beside_main", extensions)
            reason = self._unsupported_reason(beside)
            if reason:
                self.unsupported[mode] = reason
                outcome.modes[mode] = ModeResult(ok=None, inferred=f"not run: {reason}")
                continue
            if "main" not in outcome.modes:
                main = _scenario(beside, ("main",), None, self.stdlib_names, lambda loaded: None)
                outcome.main_loaded = main.loaded_extensions
                outcome.modes["main"] = ModeResult(ok=main.ok, error=main.error, crash=main.crash, beside_main=None,
                                                   alone=main)
                if not main.ok:
                    # Broken in main: not a sub-interpreter problem; nothing else to learn.
                    for rest in SUB_MODES:
                        outcome.modes[rest] = ModeResult(ok=None, inferred="not run: the import fails in main")
                    return outcome
            alone_run = self._run(name, mode, "alone", extensions)
            culprit = functools.partial(self._shutdown_culprit, mode)
            alone = _scenario(alone_run, ("sub1",), outcome.main_loaded, self.stdlib_names, culprit)
            beside_main = _scenario(beside, ("sub1", "sub2"), outcome.main_loaded, self.stdlib_names, culprit)
            ok = alone.ok and beside_main.ok
            failing = alone if not alone.ok else beside_main
            outcome.modes[mode] = ModeResult(
                ok=ok,
                error=None if ok else failing.error,
                crash=alone.crash or beside_main.crash,
                alone=alone,
                beside_main=beside_main,
            )
            if ok:
                passed_above = mode
        return outcome
