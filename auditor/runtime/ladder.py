"""Climb the interpreter ladder for one import name, walk public submodules, run crash controls.

For each rung (isolated, shared-gil, legacy) two scenarios run, each in a
fresh process of the target interpreter:

* ``alone``: the name is imported only in one sub-interpreter;
* ``beside_main``: the name is imported in main, then in two successive
  sub-interpreters (each created, imported into, destroyed).

Whether a rung passes is decided in ``auditor/verdict.py``; the climb stops at
the first passing rung, and rungs below it are reported as passing with
``inferred`` saying so.  The main rung is read off the first ``beside_main``
process: its first step is exactly "a fresh process imports the name in main".

A *walk* imports every public submodule in main and two successive
sub-interpreters of one rung, to find the modules that must climb on their own.
A *control* re-runs a crashed scenario importing only the standard-library
modules the package's import loaded: when that crashes too, the crash is
CPython's.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from interp_audit.model import (MODES, REFUSAL, SCENARIOS, Control, Crash, ExtensionInfo, ModeResult, ScenarioResult,
                                from_dict, to_dict)
from interp_audit.probe import probe_path
from interp_audit.runtime.worker import ProbeRun, run_probe
from interp_audit.verdict import SUB_MODES, rung_outcome, rungs_below

MAX_SHUTDOWN_CANDIDATES = 120
#: Times a control runs before its crash counts as not reproduced (the 3.13 _datetime abort
#: happens in most runs, not all).
CONTROL_RUNS = 5
WALK_RETRIES = 3
#: CPython's own single-phase test extension: a control's stand-in for the single-phase
#: modules a package loads (CPython 3.12.1 crashes destroying legacy interpreters that
#: used any single-phase module at once; this module alone shows it).
SINGLE_PHASE_STAND_IN = "_testsinglephase"
MAX_REPRODUCTION_STEPS = 8


@dataclass
class NameOutcome:
    """Every rung's result for one import name, plus what main loaded."""

    name: str
    modes: dict[str, ModeResult] = field(default_factory=dict)
    main_loaded: list[str] = field(default_factory=list)  # the distribution's extension modules
    main_stdlib: list[str] = field(default_factory=list)  # top-level standard-library modules the import loaded
    main_others: list[str] = field(default_factory=list)  # the other top-level modules it loaded
    controls: list[Control] = field(default_factory=list)


@dataclass
class MainImport:
    """One import in a fresh main interpreter: its result, the modules it loaded (its import
    graph, from the probe's load markers) and, when asked, the attribute it looked up."""

    result: ScenarioResult
    modules: list[str] = field(default_factory=list)
    attribute: Optional[dict] = None  # {"ok", "error", "kind": asgi | wsgi | callable | object}


@dataclass
class Walk:
    """Public submodules imported in main and two successive sub-interpreters of ``mode``."""

    mode: str
    modules: list[str] = field(default_factory=list)  # every public submodule that imports in main
    failing: dict[str, str] = field(default_factory=dict)  # module -> its first error in a sub-interpreter
    missing_extensions: list[str] = field(default_factory=list)  # loaded in main, in no sub-interpreter
    failed_in_main: list[dict] = field(default_factory=list)
    truncated: bool = False
    crash: Optional[Crash] = None
    main_stdlib: list[str] = field(default_factory=list)  # top-level standard-library modules the walk loaded
    main_others: list[str] = field(default_factory=list)  # the other top-level modules it loaded
    tolerated: set[str] = field(default_factory=set)  # failed in a sub inside a module that imported anyway
    optional: dict[str, str] = field(default_factory=dict)  # failing module that another one did without -> error


def _crash(run: ProbeRun, stdlib_names: frozenset[str]) -> Optional[Crash]:
    if not run.died:
        return None
    unfinished = run.unfinished_imports()
    culprit = unfinished[-1][1] if unfinished else None
    return run.crash(culprit, bool(culprit) and culprit.split(".")[0] in stdlib_names)


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


@functools.lru_cache(maxsize=None)
def process_wide_refusals() -> tuple[tuple[str, "re.Pattern[str]"], ...]:
    """(framework, pattern) of ``data/one_per_process.tsv``."""
    rows = (line.split("\t", 1) for line in (Path(__file__).parent / "data" / "one_per_process.tsv")
            .read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#"))
    return tuple((framework, re.compile(pattern)) for framework, pattern in rows)


def _process_wide_refusal(scenario: ScenarioResult) -> Optional[tuple[str, str]]:
    """(framework, matched text) when the scenario failed with a known one-per-process refusal."""
    for text in scenario.error_chain:
        for framework, pattern in process_wide_refusals():
            found = pattern.search(text)
            if found:
                return framework, found.group(0)
    return None


def refused_where_checked(extensions: Iterable[ExtensionInfo]) -> frozenset[str]:
    """Modules that CPython refuses in every sub-interpreter that checks extensions (isolated and
    shared-GIL), as their init function showed when the init probe ran it: single-phase init, or
    multi-phase declaring ``Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED``."""
    return frozenset(info.module for info in extensions if info.method.get("init") == "initfunc" and (
        info.init == "single-phase"
        or info.init == "multi-phase" and info.multiple_interpreters_effective == "not-supported"))


def _checked_refusal(scenario: ScenarioResult, refused: frozenset[str]) -> Optional[str]:
    """The module of ``refused`` whose CPython refusal failed ``scenario`` (with no crash), if any."""
    if scenario.ok or scenario.crash is not None:
        return None
    found = (REFUSAL.search(text) for text in scenario.error_chain)
    return next((match.group(1) for match in found if match and match.group(1) in refused), None)


def _refused_where_checked_too(isolated: ModeResult, module: str) -> ModeResult:
    """The shared-GIL rung, derived from the isolated rung's beside-main: CPython refused ``module``
    there for its init, which it refuses in every sub-interpreter that checks extensions."""
    why = (f"not run: beside main in isolated got CPython's refusal of {module}, whose init function "
           "(single-phase, or declaring not-supported) CPython refuses in every sub-interpreter that "
           "checks extensions, shared-GIL ones included")
    refusal = functools.partial(dataclasses.replace, isolated.beside_main, inferred=why, seconds=None,
                                loaded_extensions=[], missing_extensions=[])
    return ModeResult(ok=False, error=isolated.beside_main.error, inferred=why, alone=refusal(), beside_main=refusal())


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

    An import without some of ``main_loaded`` still succeeds: the modules are
    listed in ``missing_extensions`` (a working fallback).  A crash after
    every step reported (at interpreter shutdown) is kept even when a step
    failed; ``shutdown_culprit`` names the module that reproduces it.
    """
    results = {e["where"]: e for e in run.events if e.get("event") == "result"}
    escaped = {e["where"]: e for e in run.events if e.get("event") == "probe-error"}
    total = sum(e.get("seconds") or 0.0 for e in results.values())
    outcome: Optional[ScenarioResult] = None
    missing: list[str] = []
    for where in wanted:
        if where in escaped:
            return ScenarioResult(ok=False, error=escaped[where]["error"], seconds=total)
        if where not in results:
            crash = _crash(run, stdlib_names) or run.crash()
            where_died = next((w for w, _ in run.unfinished_imports()[-1:]), where)
            error = _describe_crash(crash, where_died)
            if outcome is not None and not outcome.ok:
                error = f"{outcome.error}; then {error}"
            return ScenarioResult(ok=False, error=error, crash=crash, seconds=total,
                                  error_chain=outcome.error_chain if outcome else [],
                                  failed_module=outcome.failed_module if outcome else None)
        step = _step_result(results[where])
        if where != "main" and step.ok:
            missing += [m for m in (main_loaded or []) if m not in step.loaded_extensions and m not in missing]
        if outcome is None or (outcome.ok and not step.ok):
            outcome = step
    outcome.missing_extensions = missing
    outcome.seconds = total
    if run.died and wanted != ("main",):
        loaded = sorted({m for w in wanted for m in results[w].get("top_level_loaded", ())})
        crash = _crash(run, stdlib_names)
        crash.at_shutdown = any(e.get("event") == "done" for e in run.events)
        if crash.at_shutdown:
            crash.culprit = shutdown_culprit(loaded)
            crash.culprit_is_stdlib = bool(crash.culprit) and crash.culprit.split(".")[0] in stdlib_names
        text = _describe_shutdown_crash(crash) if crash.at_shutdown else _describe_crash(crash, wanted[-1])
        outcome.error = f"{outcome.error}; then {text}" if outcome.error else text
        outcome.ok = False
        outcome.crash = crash
    return outcome


class Ladder:
    """Runs the rungs, walks and controls for import names of one target interpreter."""

    def __init__(self, python: str, timeout: float, stdlib_names: frozenset[str], infer: bool = True,
                 env: Optional[dict[str, str]] = None) -> None:
        self.python = python
        self.infer = infer  # derive runs whose outcome is proven (docs/smoke.md, "Inferred runs")
        self.timeout = timeout
        self.stdlib_names = stdlib_names
        self.env = env  # the probes' environment (e.g. PYTHONPATH with an application's directory)
        self.unsupported: dict[str, str] = {}  # mode -> why this interpreter cannot make it
        self._reproduces_shutdown_crash: dict[tuple[str, str], bool] = {}
        self._controls: dict[tuple[str, str, tuple[str, ...]], Control] = {}

    def _shutdown_culprit(self, mode: str, loaded: list[str]) -> Optional[str]:
        """The first top-level module (standard library first) that, imported
        alone in a ``mode`` sub-interpreter, also crashes the process at shutdown.
        Each module is tried once per target."""
        candidates = sorted(loaded, key=lambda m: (m.split(".")[0] not in self.stdlib_names, m))
        for module in candidates[:MAX_SHUTDOWN_CANDIDATES]:
            key = (mode, module)
            if key not in self._reproduces_shutdown_crash:
                run = self._run([module], mode, "alone", [])
                finished = any(e.get("event") == "done" for e in run.events)
                self._reproduces_shutdown_crash[key] = run.died and finished
            if self._reproduces_shutdown_crash[key]:
                return module
        return None

    def _run(self, names: list[str], mode: str, scenario: str, extensions: list[str], **more) -> ProbeRun:
        request = {"names": names, "mode": mode, "scenario": scenario, "extensions": extensions, **more}
        return run_probe(self.python, probe_path("runtime"), request, self.timeout, self.env)

    def main_import(self, name: str, attribute: Optional[str] = None) -> MainImport:
        """Import ``name`` in a fresh main interpreter (then look up ``attribute`` in it)."""
        run = self._run([name], "main", "alone", [], attribute=attribute)
        result = _scenario(run, ("main",), None, self.stdlib_names, lambda loaded: None)
        events = run.events[:next((i for i, e in enumerate(run.events) if e.get("event") == "result"), len(run.events))]
        modules = [e["module"] for e in events if e.get("event") == "begin" and e.get("where") == "main"]
        found = next((e for e in run.events if e.get("event") == "attribute"), None)
        return MainImport(result=result, modules=list(dict.fromkeys(modules)), attribute=found)

    def _unsupported_reason(self, run: ProbeRun) -> Optional[str]:
        for event in run.events:
            if event.get("event") == "unsupported":
                return event.get("reason") or "not supported by this interpreter"
        return None

    def _split_loaded(self, loaded: Iterable[str]) -> tuple[list[str], list[str]]:
        """Top-level module names: (the standard library's, the others)."""
        names = sorted(set(loaded))
        return [m for m in names if m in self.stdlib_names], [m for m in names if m not in self.stdlib_names]

    def _main_loaded(self, run: ProbeRun) -> tuple[list[str], list[str]]:
        main = next((e for e in run.events if e.get("event") == "result" and e.get("where") == "main"), {})
        return self._split_loaded(main.get("top_level_loaded", ()))

    def control(self, kind: str, mode: str, imports: list[str], suspect: Optional[str] = None) -> Control:
        """Re-run scenario or smoke check ``kind`` importing only the standard-library modules
        ``imports``, up to :data:`CONTROL_RUNS` times.  When it crashes, the smallest
        reproduction is looked for: one found earlier for another distribution, ``suspect``
        (named by the crash) alone, then halves of ``imports`` (at most
        :data:`MAX_REPRODUCTION_STEPS` of them).  A smaller set is tried once: the verdict
        rests on the first control, a reproduction only has to be one that crashed."""
        control = self._control_once(kind, mode, sorted(imports))
        if not control.crashed:
            return control
        known = [c for (k, m, _), c in list(self._controls.items())
                 if (k, m) == (kind, mode) and c.crashed and set(c.imports) < set(control.imports)]
        if known:
            return dataclasses.replace(min(known, key=lambda c: len(c.imports)))
        named = [(m or "").split(".")[0] for m in (suspect, control.crash.culprit if control.crash else None)]
        for top in named:
            if top in control.imports and [top] != control.imports:
                smaller = self._control_once(kind, mode, [top], runs=1)
                if smaller.crashed:
                    return smaller
        current, steps = control, 0
        while len(current.imports) > 1 and steps < MAX_REPRODUCTION_STEPS:
            half = len(current.imports) // 2
            halves = (current.imports[:half], current.imports[half:])
            found = next((c for c in (self._control_once(kind, mode, h, runs=1) for h in halves) if c.crashed), None)
            steps += 1
            if found is None:
                break  # it takes modules from both halves
            current = found
        return current

    def _control_once(self, kind: str, mode: str, imports: list[str], runs: int = CONTROL_RUNS) -> Control:
        """A copy of the control of ``imports``, run until it crashed or ran ``runs`` times in all."""
        control = self._controls.setdefault((kind, mode, tuple(imports)), Control(kind=kind, mode=mode, imports=imports))
        while control.runs < runs and not control.crashed:
            control.crash = self._crash_of(kind, mode, imports)
            control.runs += 1
            control.crashed = control.crash is not None
        return dataclasses.replace(control)

    def _crash_of(self, kind: str, mode: str, imports: list[str]) -> Optional[Crash]:
        """The crash of one run of ladder scenario or smoke check ``kind`` importing ``imports``, if any."""
        if kind in SCENARIOS:
            run = self._run(imports, mode, kind, [])
            wanted = ("sub1",) if kind == "alone" else ("sub1", "sub2")
            return _scenario(run, wanted, None, self.stdlib_names, lambda loaded: None).crash
        from interp_audit.runtime.smoke import run_smoke

        # The standard-library modules stand in for the distribution's extensions too (static_types imports those).
        check = run_smoke(self.python, "control", imports, imports, mode, (), checks=[kind], timeout=self.timeout,
                          stdlib_names=self.stdlib_names).check(kind)
        return from_dict(Crash, to_dict(check.crash)) if check.status == "crashed" and check.crash else None

    def _controls_for(self, mode: str, scenarios: dict[str, ScenarioResult], imports: list[str]) -> list[Control]:
        controls = []
        for kind, scenario in scenarios.items():
            if scenario.crash:
                suspect = scenario.crash.culprit if scenario.crash.culprit_is_stdlib else None
                controls.append(self.control(kind, mode, imports, suspect))
        return controls

    def climb(self, name: str, extensions: list[str], start: str = "isolated",
              refused: frozenset[str] = frozenset()) -> NameOutcome:
        """Run the ladder for ``name`` from rung ``start`` down; ``extensions`` are the
        dotted extension modules of its distribution (to detect silent fallbacks), ``refused``
        the ones CPython refuses wherever extensions are checked (:func:`refused_where_checked`)."""
        outcome = NameOutcome(name=name)
        passed_above: Optional[str] = None
        for mode in SUB_MODES:
            if self.infer and mode == "shared-gil" and outcome.modes.get("isolated"):
                isolated = outcome.modes["isolated"]
                module = isolated.beside_main and _checked_refusal(isolated.beside_main, refused)
                if module:
                    outcome.modes[mode] = _refused_where_checked_too(isolated, module)
                    continue
            if MODES.index(mode) < MODES.index(start):
                outcome.modes[mode] = ModeResult(ok=None, inferred=f"not run: the walk started at the {start} rung")
                continue
            if passed_above:
                outcome.modes[mode] = ModeResult(ok=True, inferred=f"implied by the {passed_above} pass: not run")
                continue
            if mode in self.unsupported:
                outcome.modes[mode] = ModeResult(ok=None, inferred=f"not run: {self.unsupported[mode]}")
                continue
            beside = self._run([name], mode, "beside_main", extensions)
            reason = self._unsupported_reason(beside)
            if reason:
                self.unsupported[mode] = reason
                outcome.modes[mode] = ModeResult(ok=None, inferred=f"not run: {reason}")
                continue
            if "main" not in outcome.modes:
                main = _scenario(beside, ("main",), None, self.stdlib_names, lambda loaded: None)
                outcome.main_loaded = main.loaded_extensions
                outcome.main_stdlib, outcome.main_others = self._main_loaded(beside)
                outcome.modes["main"] = ModeResult(ok=main.ok, error=main.error, crash=main.crash, beside_main=None,
                                                   alone=main)
                if not main.ok:
                    # Broken in main: not a sub-interpreter problem; nothing else to learn.
                    for rest in SUB_MODES:
                        outcome.modes[rest] = ModeResult(ok=None, inferred="not run: the import fails in main")
                    return outcome
            culprit = functools.partial(self._shutdown_culprit, mode)
            beside_main = _scenario(beside, ("sub1", "sub2"), outcome.main_loaded, self.stdlib_names, culprit)
            alone = self._refused_alone(beside, mode) if self.infer else None
            if alone is None:
                alone_run = self._run([name], mode, "alone", extensions)
                alone = _scenario(alone_run, ("sub1",), outcome.main_loaded, self.stdlib_names, culprit)
            scenarios = {"alone": alone, "beside_main": beside_main}
            controls = self._controls_for(mode, scenarios, outcome.main_stdlib)
            outcome.controls += controls
            outcome.modes[mode] = rung_outcome(alone, beside_main, controls)
            if outcome.modes[mode].ok:
                passed_above = mode
            elif self.infer and alone.ok and _process_wide_refusal(beside_main):
                self._infer_refused_below(outcome, mode, beside_main)
                break
        return outcome

    def _refused_alone(self, beside: ProbeRun, mode: str) -> Optional[ScenarioResult]:
        """``alone`` on this rung, inferred when beside-main's first sub-interpreter met CPython's
        refusal: the module's declared slot decides that, wherever main stands."""
        first = next((e for e in beside.events if e.get("event") == "result" and e.get("where") == "sub1"), None)
        if first is None or first.get("ok") or not any(REFUSAL.search(t) for t in first.get("chain") or ()):
            return None
        step = _step_result(first)
        step.inferred = (f"not run: beside main's first {mode} sub-interpreter got CPython's refusal, "
                         "which the module's declared slot decides whatever main imported")
        return step

    def _infer_refused_below(self, outcome: NameOutcome, mode: str, refused: ScenarioResult) -> None:
        """Mark the rungs below ``mode`` as failing: ``refused`` is a process-wide refusal that
        any second interpreter meets, whatever its kind."""
        framework, text = _process_wide_refusal(refused)
        for lower in rungs_below(mode):
            outcome.modes[lower] = ModeResult(
                ok=False, error=refused.error,
                inferred=f"not run: beside main in {mode} met a one-interpreter-per-process refusal known from "
                         f"{framework} ({text!r}), which any second interpreter meets")

    def walk(self, names: list[str], extensions: list[str], mode: str, exclude: list[str],
             modules: Optional[list[str]] = None) -> Walk:
        """Import every public submodule of ``names`` in main, then in two successive
        ``mode`` sub-interpreters; list the ones that fail there.  A module whose
        import crashes the process is listed as failing and the walk runs again
        without it (at most :data:`WALK_RETRIES` times).  With ``modules``, exactly those
        are imported (in main first, then in the two sub-interpreters)."""
        walk = Walk(mode=mode)
        skipped = list(exclude)
        for _ in range(WALK_RETRIES):
            run = self._run(names, mode, "walk", extensions, exclude=skipped,
                            modules=None if modules is None else [m for m in modules if m not in skipped])
            crashed_in = self._fold_walk(run, walk)
            if crashed_in is None:
                break
            skipped.append(crashed_in)
        # A failing module that another public module imported without (an optional accelerator
        # such as websockets.speedups) is what the package does without, not its public API.
        walk.optional = {m: walk.failing.pop(m) for m in sorted(walk.tolerated & set(walk.failing))}
        walk.missing_extensions += [m for m in walk.optional if m in extensions and m not in walk.missing_extensions]
        return walk

    def _fold_walk(self, run: ProbeRun, walk: Walk) -> Optional[str]:
        """Add one walk run to ``walk``; return the module whose import crashed it, if any."""
        listed = next((e for e in run.events if e.get("event") == "walk"), {})
        walk.modules = sorted(set(walk.modules) | set(listed.get("modules", ())))
        walk.failed_in_main = walk.failed_in_main or list(listed.get("failed_in_main", ()))
        walk.truncated = walk.truncated or bool(listed.get("truncated"))
        stdlib, others = self._split_loaded(listed.get("top_level_loaded", ()))
        walk.main_stdlib = sorted(set(walk.main_stdlib) | set(stdlib))
        walk.main_others = sorted(set(walk.main_others) | set(others))
        for event in run.events:
            if event.get("event") == "module" and event.get("where") != "main":
                if not event.get("ok"):
                    walk.failing.setdefault(event["module"], event.get("error") or "failed")
                walk.tolerated.update(event.get("tolerated", ()))
        results = {e["where"]: e for e in run.events if e.get("event") == "result"}
        main_loaded = results.get("main", {}).get("loaded", [])
        for where in ("sub1", "sub2"):
            loaded = results.get(where, {}).get("loaded")
            if loaded is not None and results[where].get("ok"):
                walk.missing_extensions += [m for m in main_loaded if m not in loaded and m not in walk.missing_extensions]
        if not run.died:
            return None
        walk.crash = walk.crash or _crash(run, self.stdlib_names) or Crash(returncode=run.returncode)
        for where in ("main", "sub1", "sub2"):
            reported = {e["module"] for e in run.events if e.get("event") == "module" and e.get("where") == where}
            unreported = [m for m in listed.get("modules", ()) if m not in reported]
            if unreported:
                walk.failing.setdefault(unreported[0], "the walk's process " + _what_happened(walk.crash)
                                        + f" while importing it ({where})")
                return unreported[0]
        return None
