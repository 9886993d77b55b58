"""IA31x: what the behavioural smoke checks saw after the import succeeded.

The facts come from ``DistributionResult.smoke`` (see ``docs/smoke.md``):
one entry per check (``generic``, ``snippets``, ``parallel``, ``reimport``,
``static_types``, ``cross_interpreter``, ``cost``), each with a ``status``.
"""

from __future__ import annotations

from typing import Iterable, Optional

from interp_audit.model import REFUSAL, Crash, DistributionResult, Finding, SmokeCheck, SmokeCrash
from interp_audit.rules import facts, references as ref
from interp_audit.rules.interface import Rule, RuleContext

MODE_WORDS = {
    "isolated": "isolated (own-GIL) sub-interpreters",
    "shared-gil": "shared-GIL sub-interpreters",
    "legacy": "legacy sub-interpreters",
    "main": "the main interpreter",
}

#: Checks besides the walk and the snippets whose crash IA310 reports (parallel and
#: re-import crashes have their own rules).
CRASH_AS_SMOKE_FAILURE = ("static_types", "cross_interpreter", "cost")

#: CPython's refusal of a module that does not support sub-interpreters.

#: IA315 fires when one extra interpreter costs at least this much for the package alone.
HEAVY_IMPORT_KIB = 32 * 1024
HEAVY_IMPORT_SECONDS = 0.5


def _check(dist: DistributionResult, name: str) -> Optional[SmokeCheck]:
    """The smoke check's result; None when no smoke check ran, or when it crashed the way the
    standard library alone does (IA307)."""
    if dist.smoke is None:
        return None
    check = dist.smoke.check(name)
    if check.status == "crashed" and facts.cpython_crash(dist, name, dist.smoke.mode):
        return None
    return check


def _where(dist: DistributionResult) -> str:
    mode = dist.smoke.mode if dist.smoke else "isolated"
    return MODE_WORDS.get(mode, "%s interpreters" % mode)


def _isolated(dist: DistributionResult) -> bool:
    return dist.smoke is not None and dist.smoke.mode == "isolated"


def _error_line(error: Optional[str]) -> str:
    """``ExcType: first non-empty line of the message``, clipped."""
    if not error:
        return ""
    kind, _, text = error.partition(": ")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return facts.one_line("%s: %s" % (kind, lines[0]) if lines else kind)


def _ladder_explains(dist: DistributionResult, error: Optional[str]) -> bool:
    """True when a one-per-process refusal found by the ladder (IA302) is this error's cause."""
    for entry in dist.one_per_process or ():
        refusal = entry.get("refusal") or ""
        if (refusal and refusal in (error or "")) or facts.mentions(error, entry.get("module") or ""):
            return True
    return False


def _crash_text(crash: Optional[Crash]) -> str:
    """``crashed with SIGSEGV in snippet numpy-sum`` from a smoke crash."""
    if not crash:
        return "crashed"
    if crash.timeout:
        how = "hung (timed out)"
    elif crash.signal:
        how = "crashed with %s" % crash.signal
    elif crash.returncode is not None:
        how = "exited with code %s" % crash.returncode
    else:
        how = "crashed"
    where = " in %s" % crash.culprit if crash.culprit else ""
    return how + where + (" (standard library)" if crash.culprit_is_stdlib else "")


STDLIB_CRASH_REMEDIATION = (
    "The step in progress was the import of a standard-library module, yet the same check importing "
    "only the standard library did not crash: the package's use of that module is the likely trigger. "
    "Try a newer patch release of this CPython version too (CPython 3.12.1, for example, crashes "
    "importing _datetime in an isolated interpreter once another one used it)."
)


def _cpython_bug(dist: DistributionResult, crash: Optional[Crash]) -> bool:
    """A crash whose step in progress was a standard-library module."""
    return crash is not None and crash.culprit_is_stdlib


def _crash_detail(crash: Optional[SmokeCrash]) -> Optional[str]:
    if not crash:
        return None
    parts = []
    if crash.open_steps:
        parts.append("in progress: " + facts.name_list(crash.open_steps))
    if crash.stderr_tail:
        parts.append(crash.stderr_tail.strip()[-500:])
    return "\n".join(parts) or None


class SmokeFailed(Rule):
    code = "IA310"
    name = "smoke-failed"
    severity = "high"
    message = "{dist} imports but fails a smoke check in {where}: {what}"
    rationale = (
        "Importing is only the first bar. After the import succeeded, the smoke checks walked the "
        "package's submodules, touched their public attributes and ran its smoke snippets in a "
        "fresh sub-interpreter; something that works in the main interpreter failed or crashed "
        "there. Code that uses the package from sub-interpreters will hit the same failure."
    )
    remediation = (
        "Reproduce it with the snippet or module shown (interp-audit prints the error and, for a "
        "crash, the step in progress). Typical causes: a submodule that loads a single-phase "
        "extension lazily, state cached at import time in C globals, or APIs that assume the main "
        "interpreter (signals, atexit, os.fork). Until fixed, keep the package in the main "
        "interpreter or in the tier the verdict gives."
    )
    references = (ref.PEP_684, ref.HOWTO_ISOLATING)
    scope = "distribution"

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        severity = None if _isolated(dist) else "medium"
        generic = _check(dist, "generic")
        if generic is None:
            return
        degraded = list(dist.degraded_modules or ())
        for item in generic.failed:
            if any(facts.mentions(item.error, module) for module in degraded):
                continue  # IA304 reports the fallback
            target = item.module + ("." + item.attribute if item.attribute else "")
            what = "%s %s: %s" % ("touching" if item.attribute else "importing", target, _error_line(item.error))
            yield self.finding(dist.name, item.module, where=_where(dist), what=what, severity=severity)
        by_refuser: dict[str, list[str]] = {}
        for item in generic.refused:
            if item["module"] in degraded or any(facts.mentions(item.get("error"), m) for m in degraded):
                continue
            found = REFUSAL.search(item.get("error") or "")
            by_refuser.setdefault(found.group(1) if found else item["module"], []).append(item["module"])
        for refuser, modules in sorted(by_refuser.items()):
            what = "%s %s not available there, because %s refuses sub-interpreters" % (
                "submodule" if len(modules) == 1 else "submodules", facts.name_list(sorted(modules)),
                refuser)
            yield self.finding(dist.name, refuser, where=_where(dist), what=what, severity="medium",
                               detail="the package itself imports; only these submodules fail")
        if generic.status == "crashed":
            crash = generic.crash
            yield self.finding(dist.name, crash.culprit if crash else None, where=_where(dist),
                               what="walking the submodules " + _crash_text(crash), detail=_crash_detail(crash),
                               severity=severity, remediation=STDLIB_CRASH_REMEDIATION if _cpython_bug(dist, crash) else None)
        snippets = _check(dist, "snippets")
        for item in (snippets.items if snippets else None) or ():
            remediation = None
            if item.crash:
                what = "snippet %s %s" % (item.name, _crash_text(item.crash))
                detail = _crash_detail(item.crash)
                remediation = STDLIB_CRASH_REMEDIATION if _cpython_bug(dist, item.crash) else None
            elif item.ok is False and not item.fails_in_main_too:
                what = "snippet %s raised %s" % (item.name, _error_line(item.error))
                detail = "snippet from %s" % item.source
            else:
                continue
            yield self.finding(dist.name, None, where=_where(dist), what=what, detail=detail, severity=severity,
                               remediation=remediation)
        for name in CRASH_AS_SMOKE_FAILURE:
            result = _check(dist, name)
            if result is not None and result.status == "crashed":
                crash = result.crash
                yield self.finding(dist.name, crash.culprit if crash else None, where=_where(dist),
                                   what="the %s check %s" % (name.replace("_", "-"), _crash_text(crash)),
                                   detail=_crash_detail(crash), severity=severity,
                                   remediation=STDLIB_CRASH_REMEDIATION if _cpython_bug(dist, crash) else None)


class ParallelFailure(Rule):
    code = "IA311"
    name = "parallel-failure"
    severity = "critical"
    message = "{dist} {how} when {count} {where} use it at the same time"
    rationale = (
        "Several interpreters imported the package and ran its smoke workload at the same moment, "
        "one thread each. With a per-interpreter GIL they really run in parallel, so C code that "
        "relied on the GIL to protect process-wide state (static variables, caches, non-reentrant "
        "libraries) races: it crashes, deadlocks, raises only under load, or returns results that "
        "depend on what the other interpreters do."
    )
    remediation = (
        "Move the shared C state into module state (PEP 630), or protect it with a real lock "
        "(PyMutex on 3.13+, a platform mutex before). If the underlying library is not thread-safe, "
        "declare Py_MOD_PER_INTERPRETER_GIL_SUPPORTED only once every call into it is serialised. "
        "Until fixed, do not use the package from several own-GIL interpreters at once."
    )
    references = (ref.PEP_684, ref.HOWTO_ISOLATING, ref.HOWTO_FREE_THREADING)
    scope = "distribution"

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        parallel = _check(dist, "parallel")
        if parallel is None or parallel.status not in ("failed", "crashed"):
            return
        count = parallel.interpreters or "several"
        severity = None if _isolated(dist) else "high"
        if parallel.status == "crashed":
            crash = parallel.crash
            if crash and crash.explained_by:
                return  # reported by the check that explains it (IA313)
            how = "deadlocks (timed out)" if crash and crash.timeout else _crash_text(crash)
            stdlib = _cpython_bug(dist, crash)
            yield self.finding(dist.name, crash.culprit if crash else None, how=how, count=count, where=_where(dist),
                               detail=_crash_detail(crash), severity="high" if stdlib else severity,
                               remediation=STDLIB_CRASH_REMEDIATION if stdlib else None)
            return
        errors = [e for e in parallel.errors if e.explained_by is None and not _ladder_explains(dist, e.error)]
        if errors:
            texts = sorted({_error_line(e.error) for e in errors})
            yield self.finding(dist.name, None, how="raises %s" % "; ".join(texts[:3]), count=count,
                               where=_where(dist), severity="high" if _isolated(dist) else "medium",
                               detail="in %s" % facts.name_list([e.where for e in errors]))
        for difference in parallel.different_results:
            if difference.explained_by is not None:
                continue
            detail = "; ".join("%s in %s" % (v["results"], facts.name_list(v["where"])) for v in difference.variants)
            yield self.finding(dist.name, None, how="gives different results for %s" % difference.snippet,
                               count=count, where=_where(dist), detail=detail,
                               severity="high" if _isolated(dist) else "medium")


class ReimportFailure(Rule):
    code = "IA312"
    name = "reimport-failure"
    severity = "high"
    message = "{dist} {how} once an interpreter that used it was destroyed"
    rationale = (
        "An interpreter was created, the package imported and exercised, the interpreter destroyed, "
        "and the cycle repeated. The first cycle worked and a later one did not: the module's "
        "finalisation (m_free, m_clear, atexit hooks) leaves process-wide state behind that the "
        "next initialisation trips over. Interpreter pools create and destroy interpreters all the "
        "time, so this breaks them after the first recycle."
    )
    remediation = (
        "Check the extension's exec and free functions: every process-wide pointer freed in m_free "
        "must be reset, and one-time initialisation must not assume it runs only once per process. "
        "Better, keep the state in module state so that each interpreter initialises its own."
    )
    references = (ref.PEP_489, ref.PEP_630, ref.CAPI_MODULE_STATE)
    scope = "distribution"

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        reimport = _check(dist, "reimport")
        if reimport is None:
            return
        if reimport.status == "crashed":
            crash = reimport.crash
            how = "%s in cycle %s" % (_crash_text(crash), reimport.crashed_in_round or "?")
            yield self.finding(dist.name, crash.culprit if crash else None, how=how, detail=_crash_detail(crash),
                               remediation=STDLIB_CRASH_REMEDIATION if _cpython_bug(dist, crash) else None)
            return
        failures = [f for f in reimport.failures if not _ladder_explains(dist, f["error"])]
        if reimport.status == "failed" and failures:
            first = failures[0]
            how = "fails in cycle %s with %s" % (first["index"], _error_line(first["error"]))
            cycles = ", ".join(str(f["index"]) for f in failures)
            yield self.finding(dist.name, None, how=how,
                               detail="failed cycles: %s of %s" % (cycles, reimport.rounds))


class StateLeaksBetweenInterpreters(Rule):
    code = "IA316"
    name = "state-leaks-between-interpreters"
    severity = "high"
    message = "{dist} keeps state across interpreters: snippet {snippet} gives {results} in successive fresh interpreters"
    rationale = (
        "The same snippet, run in a fresh interpreter each time, returned a different result in a "
        "later interpreter: something one interpreter did is visible to the next. That is state "
        "in C globals (or another process-wide place) instead of module state, which also means "
        "interpreters running at the same time see and overwrite each other's values."
    )
    remediation = (
        "Move the state into module state (PyModule_GetState, PEP 630) so that every interpreter "
        "has its own copy; a value that really must be process-wide needs a lock and must hold "
        "no Python objects."
    )
    references = (ref.PEP_630, ref.HOWTO_ISOLATING, ref.CAPI_MODULE_STATE)
    scope = "distribution"

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        reimport = _check(dist, "reimport")
        for leak in reimport.state_leaks if reimport else ():
            results = " then ".join(str(r) for r in leak["results"])
            if leak.get("explained_by") != "environment":
                yield self.finding(dist.name, None, snippet=leak["snippet"], results=results,
                                   severity=None if _isolated(dist) else "medium")
                continue
            yield self.finding(dist.name, None, snippet=leak["snippet"], results=results, severity="info",
                               detail="through the process environment: the import sets %s, which every "
                                      "interpreter created later starts with (process-wide, as for threads; "
                                      "the check passes)" % facts.name_list(leak["environment"]),
                               remediation="Set environment variables once, not at every import, or keep the "
                                           "value in module state.")


class SharedStaticTypes(Rule):
    code = "IA313"
    name = "shared-static-types"
    severity = "high"
    message = "{module} shares {types} between interpreters (static type objects: process-global state)"
    rationale = (
        "The same type object (same identity) was found in two live interpreters. It is a static "
        "PyTypeObject, shared by every interpreter of the process: its reference count, "
        "attribute cache and __dict__ are touched by all of them, without a common GIL under "
        "PEP 684, and its methods cannot find per-interpreter module state."
    )
    remediation = (
        "Create the types per module with PyType_FromModuleAndSpec in the module's exec slot and "
        "store them in module state; look the module up with PyType_GetModuleByDef. Cython, "
        "pybind11 and nanobind have their own switches; see the framework rules IA4xx."
    )
    references = (ref.PEP_630, ref.CAPI_TYPE_FROM_SPEC, ref.CAPI_GET_MODULE_BY_DEF, ref.HOWTO_ISOLATING)
    scope = "distribution"

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        by_module: dict[str, list[str]] = {}
        static_types = _check(dist, "static_types")
        for shared in (static_types.shared if static_types else None) or ():
            by_module.setdefault(shared["module"], []).append(shared["type"])
        parallel = _check(dist, "parallel")
        crash = parallel.crash if parallel else None
        detail = None
        if crash and crash.explained_by == "static_types":
            detail = ("the parallel check %s: interpreters racing on a shared type's reference count "
                      "can free it" % _crash_text(crash))
        for module, types in sorted(by_module.items()):
            yield self.finding(dist.name, module, types=facts.name_list(types), detail=detail,
                               severity=None if _isolated(dist) else "low")


class ObjectsCannotCross(Rule):
    code = "IA314"
    name = "objects-cannot-cross"
    severity = "info"
    message = "{dist}: {what} ({kind}) cannot be passed to another interpreter: {why}"
    rationale = (
        "Sub-interpreters share no objects; data crosses by pickling through a cross-interpreter "
        "queue, or, for buffers, by sharing the memory (memoryview through a queue on 3.13+). "
        "An object that can do neither must be rebuilt in every interpreter from plain data."
    )
    remediation = (
        "Send plain data (bytes, str, numbers, tuples) or a pickle instead. Package authors can "
        "make the type picklable (__reduce__) or expose its data through the buffer protocol."
    )
    references = (ref.PEP_734,)
    scope = "distribution"

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        cross = _check(dist, "cross_interpreter")
        for item in cross.objects if cross else ():
            if item.crosses:
                continue
            why = "pickle: %s; buffer: %s" % (item.pickle, item.buffer)
            yield self.finding(dist.name, None, what=item.source, kind=item.type, why=why,
                               detail="mechanism: %s" % cross.mechanism)


class HeavyInterpreterCost(Rule):
    code = "IA315"
    name = "heavy-interpreter-cost"
    severity = "info"
    message = "each extra interpreter that imports {dist} costs about {kib} KiB of memory and {seconds} s"
    rationale = (
        "Every sub-interpreter imports its own copy of the package's modules. The cost check "
        "measured the import time and resident-memory growth of each extra interpreter (median "
        "of several); this one is heavy enough to matter when sizing an interpreter pool."
    )
    remediation = (
        "Size interpreter pools with these figures, reuse interpreters instead of creating one per "
        "task, and import heavy optional submodules lazily."
    )
    references = (ref.PEP_734,)
    scope = "distribution"

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        cost = _check(dist, "cost")
        if cost is None or cost.status != "passed":
            return
        package_kib = cost.import_rss_kib_median or 0
        seconds = cost.import_seconds_median or 0
        if package_kib >= HEAVY_IMPORT_KIB or seconds >= HEAVY_IMPORT_SECONDS:
            yield self.finding(dist.name, None, kib=int(cost.rss_growth_kib_median or 0),
                               seconds="%.2f" % seconds,
                               detail="package alone: %d KiB; a bare interpreter: %d KiB"
                               % (package_kib, cost.interpreter_rss_kib_median or 0))
