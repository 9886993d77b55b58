"""IA30x: what happened when the distribution was imported in real interpreters.

IA310-IA319 are kept for the smoke checks (one module per rule, e.g. ``ia31_smoke.py``).
"""

from __future__ import annotations

from typing import Iterable, Optional

from interp_audit.model import DistributionResult, ExtensionInfo, Finding, ModeResult
from interp_audit.rules import facts, references as ref
from interp_audit.rules.interface import Rule, RuleContext

SUB_WORDS = {"isolated": "isolated (own-GIL)", "shared-gil": "shared-GIL", "legacy": "legacy"}


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else "%s and %s" % (", ".join(words[:-1]), words[-1])


def where(modes: list[str]) -> str:
    """``an isolated (own-GIL) sub-interpreter`` / ``isolated (own-GIL) and legacy sub-interpreters``."""
    subs = [SUB_WORDS.get(m, m) for m in modes if m != "main"]
    parts = []
    if len(subs) == 1:
        parts.append("%s %s sub-interpreter" % ("an" if subs[0][0] in "aeiou" else "a", subs[0]))
    elif subs:
        parts.append("%s sub-interpreters" % _join(subs))
    if "main" in modes:
        parts.append("the main interpreter")
    return _join(parts)


class IsolatedImportFails(Rule):
    code = "IA301"
    name = "isolated-import-fails"
    severity = "high"
    message = "{dist} cannot be imported in an isolated (own-GIL) sub-interpreter: {error}"
    rationale = (
        "Importing the distribution in a fresh interpreter with its own GIL raised an exception. "
        "This is the interpreter that concurrent.interpreters (PEP 734) and "
        "InterpreterPoolExecutor create, so code that uses them cannot use this package."
    )
    remediation = (
        "Read the error: 'does not support loading in subinterpreters' points to a single-phase or "
        "opted-out extension module (see IA101-IA104 and the framework rules IA4xx); other errors "
        "usually come from code that assumes it runs in the main interpreter (signals, "
        "os.fork, threads at import time). Until it is fixed, import the package in the main "
        "interpreter only, or use a shared-GIL/legacy interpreter if the ladder shows one works."
    )
    references = (ref.PEP_684, ref.PEP_734)
    scope = "distribution"

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        isolated = facts.mode(dist, "isolated")
        if isolated is None or isolated.ok is not False:
            return
        if any(mode_name == "isolated" for mode_name, _ in facts.crashes(dist)):
            return  # IA303 reports crashes
        if dist.blocked_by:
            return  # IA305 names the module that refuses
        if isolated.alone is not None and isolated.alone.ok:
            return  # only a second interpreter fails: IA302
        text = facts.failure_text(isolated)
        if any(facts.mentions(text, module) for module in dist.degraded_modules):
            return  # a silent fallback, not a failure: IA304
        failed = sorted(facts.failed_modules(isolated))
        detail = "not run; inferred: %s" % isolated.inferred if isolated.inferred else None
        yield self.finding(
            dist.name, failed[0] if failed else dist.culprit,
            error=facts.one_line(text) or "import failed", detail=detail,
        )


class OnePerProcess(Rule):
    code = "IA302"
    name = "one-per-process"
    severity = "high"
    message = "{module} refuses to load in a second interpreter of the same process{framework}: {refusal}"
    rationale = (
        "Some modules (PyO3 modules, Cython modules without module state, hand-written guards) "
        "remember the first interpreter that imported them and raise ImportError in any other. "
        "Importing the package in the main interpreter then makes it unusable in every "
        "sub-interpreter, and vice versa."
    )
    remediation = (
        "Only the module's authors can lift the guard, usually by moving to module state and "
        "declaring Py_mod_multiple_interpreters (see the framework rule for the module). Until "
        "then, import it in exactly one interpreter per process."
    )
    references = (ref.PEP_489, ref.PEP_630)
    scope = "distribution"

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        entries = [e for e in dist.one_per_process if isinstance(e, dict)]
        by_module: dict[object, list[dict]] = {}
        for entry in entries:
            by_module.setdefault(entry.get("module") or dist.culprit, []).append(entry)
        for module, group in by_module.items():
            framework = next((e["framework"] for e in group if e.get("framework")), None)
            refusal = next((e["refusal"] for e in group if e.get("refusal")), None)
            modes = [e["mode"] for e in group if e.get("mode")]
            yield self.finding(
                dist.name, module,
                framework=" (%s)" % framework if framework else "",
                refusal=facts.one_line(refusal) or "ImportError",
                detail="seen in %s sub-interpreters" % ", ".join(dict.fromkeys(modes)) if modes else None,
            )
        if not entries and "one-per-process" in dist.flags:
            yield self.finding(dist.name, dist.culprit, framework="", refusal="ImportError in the second interpreter")


class Crashed(Rule):
    code = "IA303"
    name = "crashed"
    severity = "critical"
    message = "importing {dist} in {where} {how}{culprit}"
    rationale = (
        "The worker process died from a signal, aborted or stopped answering while the import was "
        "in progress. In an application this takes the whole process down, with every interpreter "
        "in it. The culprit is the module whose import had begun but not finished."
    )
    remediation = (
        "Do not import the package in that kind of interpreter. If the culprit is an extension "
        "module of the package, report the crash to its authors with the stderr shown in the "
        "report; a module that is not safe in sub-interpreters should declare "
        "Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED so that it fails with ImportError instead."
    )
    references = (ref.PEP_684, ref.CAPI_SUBINTERPRETERS)
    scope = "distribution"

    STDLIB_REMEDIATION = (
        "The culprit belongs to the standard library, so this is a CPython bug rather than a bug "
        "of the package (for example, _hashlib makes CPython 3.12.1 abort after it was used in an "
        "isolated interpreter). Try a newer patch release of this CPython version, or avoid "
        "importing that standard-library module in isolated interpreters."
    )

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        groups: dict[tuple, list[str]] = {}
        for mode_name, crash in facts.crashes(dist):
            key = (crash.culprit, crash.culprit_is_stdlib, crash.at_shutdown, facts.describe_crash(crash))
            groups.setdefault(key, [])
            if mode_name not in groups[key]:
                groups[key].append(mode_name)
        for (culprit, stdlib, at_shutdown, how), modes in groups.items():
            module = ("the standard-library module %s" if stdlib else "%s") % culprit if culprit else ""
            if at_shutdown:
                culprit_text = " at shutdown" + (" (importing %s alone does the same)" % module if culprit else "")
            elif culprit:
                culprit_text = " while importing %s" % module
            else:
                culprit_text = ""
            yield self.finding(
                dist.name, culprit, where=where(modes), how=how, culprit=culprit_text,
                severity="high" if stdlib else None,
                remediation=self.STDLIB_REMEDIATION if stdlib else None,
                detail=self._stderr(dist, culprit),
            )
        if not groups and "crashed" in dist.flags:
            yield self.finding(dist.name, dist.culprit, where="a sub-interpreter", how="crashed", culprit="")

    @staticmethod
    def _stderr(dist: DistributionResult, culprit: Optional[str]) -> Optional[str]:
        for _, crash in facts.crashes(dist):
            if crash.culprit == culprit and crash.stderr_tail:
                return crash.stderr_tail.strip()[-500:]
        return None


class Degraded(Rule):
    code = "IA304"
    name = "degraded"
    severity = "low"
    message = "{dist} imports in sub-interpreters only through a pure-Python fallback: {names} did not load"
    rationale = (
        "The import succeeded, but the package's extension modules were missing from sys.modules "
        "afterwards: the package caught the ImportError of its accelerator and fell back to "
        "pure Python. It works, silently slower, and possibly with fewer features: the tier is kept "
        "(the degraded flag stands beside it)."
    )
    remediation = (
        "Make the accelerator modules importable in sub-interpreters (see the IA1xx/IA2xx findings "
        "for them), or accept the slower path knowingly."
    )
    references = (ref.PEP_489, ref.PEP_684)
    scope = "distribution"

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        if dist.degraded_modules:
            yield self.finding(dist.name, dist.degraded_modules[0], names=facts.name_list(dist.degraded_modules))
        elif "degraded" in dist.flags:
            yield self.finding(dist.name, None, names="its extension modules")


class BlockedByAnother(Rule):
    code = "IA305"
    name = "blocked-by"
    severity = "medium"
    message = "{dist} is blocked by {blocker}, which refuses sub-interpreters: {reason}"
    rationale = (
        "The distribution's own code may be fine, but it imports a module (from another "
        "distribution or from the standard library) that cannot be loaded in the sub-interpreter, "
        "so the import fails anyway."
    )
    remediation = (
        "Fix or replace the blocking module (see its own findings); make the dependency optional "
        "or import it lazily if the package can work without it."
    )
    references = (ref.PEP_684, ref.PEP_687)
    scope = "distribution"

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        for blocked in dist.blocked_by:
            if blocked.stdlib:
                blocker = "the standard-library module %s" % blocked.module
            elif blocked.distribution:
                blocker = "%s (from %s)" % (blocked.module, blocked.distribution)
            else:
                blocker = blocked.module
            yield self.finding(
                dist.name, blocked.module, blocker=blocker,
                reason=facts.one_line(blocked.message) or "ImportError",
            )


class StaticRuntimeMismatch(Rule):
    code = "IA306"
    name = "static-runtime-mismatch"
    severity = "medium"
    message = "{module}: static evidence and runtime disagree: {what}"
    rationale = (
        "What the binary declares and what happened when it was imported do not match. Either the "
        "declaration is wrong (a module that claims per-interpreter GIL support but fails or "
        "crashes there), or the static evidence is (a module found to be single-phase that "
        "nevertheless loaded in an isolated interpreter)."
    )
    remediation = (
        "If the module declares Py_MOD_PER_INTERPRETER_GIL_SUPPORTED but fails, the declaration "
        "is premature: fix the module or lower the declaration. If the static evidence looks "
        "wrong, please report it to interp-audit with the module file."
    )
    references = (ref.PEP_489, ref.PEP_684, ref.CAPI_MULTIPLE_INTERPRETERS_SLOT)
    scope = "distribution"

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        isolated = facts.mode(dist, "isolated")
        if isolated is None or isolated.inferred or isolated.ok is None:
            return
        loaded = facts.loaded_in(dist, "isolated")
        for ext in dist.extensions:
            what = self._disagreement(dist, isolated, ext, loaded)
            if what:
                yield self.finding(dist.name, ext.module, what=what)

    @staticmethod
    def _disagreement(
        dist: DistributionResult, isolated: ModeResult, ext: ExtensionInfo, loaded: set[str]
    ) -> Optional[str]:
        if ext.multiple_interpreters == "per-interpreter-gil" and isolated.ok is False:
            crashed = [c for m, c in facts.crashes(dist) if m == "isolated" and c.culprit == ext.module]
            if crashed:
                return "it declares per-interpreter GIL support but %s in an isolated interpreter" % (
                    facts.describe_crash(crashed[0])
                )
            if ext.module in facts.failed_modules(isolated) or facts.mentions(facts.failure_text(isolated), ext.module):
                return "it declares per-interpreter GIL support but fails to import in an isolated interpreter"
        if ext.module in loaded:
            if facts.is_single_phase(ext):
                return "it looks single-phase, yet it loaded in an isolated interpreter"
            if ext.multiple_interpreters in ("not-supported", "supported"):
                return "it declares %s, yet it loaded in an isolated interpreter" % (
                    "no sub-interpreter support" if ext.multiple_interpreters == "not-supported"
                    else "shared-GIL support only"
                )
        return None


class CPythonCrash(Rule):
    code = "IA307"
    name = "cpython-crash"
    severity = "low"
    message = "{dist}: the {kind} in {where} crashed, {evidence}: this Python's bug"
    rationale = (
        "A crash that the same scenario or smoke check reproduces while importing only standard-library "
        "modules (the ones the package's import loaded) happens without any third-party code: it is a "
        "bug of this CPython build. So is a smoke-check crash that stopped outside any Python frame "
        "while only pure-Python packages and CPython's own modules were loaded (no third-party "
        "extension module or native library, no ctypes, no snippet): pure-Python code cannot corrupt "
        "memory by itself. It does not lower the package's tier; the report lists it once under "
        "the interpreter's known problems. Example: on CPython 3.13.0 to at least 3.13.15, isolated "
        "interpreters that import _datetime at the same time and are destroyed abort the process."
    )
    remediation = (
        "Upgrade to the newest patch release of this Python version. If it persists there, report the "
        "reproduction to CPython; meanwhile avoid that standard-library module in that kind of interpreter."
    )
    references = (ref.PEP_684,)
    scope = "distribution"

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        for control in dist.controls:
            if control.cpython:
                kind = "%s scenario" % control.kind.replace("_", " ") if control.kind in ("alone", "beside_main") \
                    else "%s smoke check" % control.kind.replace("_", "-")
                evidence = ("and so does importing %s alone" % (", ".join(control.imports) or "nothing")
                            if control.crashed else "outside any Python frame, with no native code loaded "
                                                    "but CPython's own")
                yield self.finding(dist.name, control.imports[0] if control.crashed and len(control.imports) == 1
                                   else None, kind=kind, where=where([control.mode]), evidence=evidence,
                                   detail="control runs: %d; problem %s" % (control.runs, control.problem))
