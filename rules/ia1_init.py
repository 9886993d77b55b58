"""IA1xx: how an extension module initializes and what it declares (PEP 489, PEP 684)."""

from __future__ import annotations

from typing import Iterable, Optional

from interp_audit.model import DistributionResult, ExtensionInfo, Finding
from interp_audit.rules import facts, references as ref
from interp_audit.rules.interface import Rule, RuleContext

MULTI_PHASE_HOWTO = (
    "Export PyInit_<name> returning PyModuleDef_Init(&def), move the body of the old init "
    "function into a Py_mod_exec slot, keep per-module data in module state (m_size > 0, "
    "PyModule_GetState), create types with PyType_FromModuleAndSpec, and declare "
    "{Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED} once the module "
    "keeps no process-wide mutable state."
)


class SinglePhaseInit(Rule):
    code = "IA101"
    name = "single-phase-init"
    severity = "high"
    message = "{module} uses single-phase initialization, which isolated (own-GIL) sub-interpreters refuse"
    rationale = (
        "A single-phase module (PyInit_<name> returns a finished module, e.g. from PyModule_Create) "
        "is initialized once per process and CPython copies its module dict into later interpreters. "
        "Interpreters that check extension compatibility, which every own-GIL interpreter does, raise "
        "ImportError for it; legacy sub-interpreters accept it but then share its C-level state."
    )
    remediation = "Port the module to multi-phase initialization (PEP 489). " + MULTI_PHASE_HOWTO
    references = (ref.PEP_489, ref.PEP_630, ref.HOWTO_ISOLATING, ref.CAPI_MULTIPHASE)

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        for ext in dist.extensions:
            if facts.is_single_phase(ext):
                detail = None
                if ext.init != "single-phase":
                    detail = "inferred from the C-API functions the module imports"
                yield self.finding(dist.name, ext.module, detail=detail)


class NoMultipleInterpretersSlot(Rule):
    code = "IA102"
    name = "no-multiple-interpreters-slot"
    severity = "medium"
    message = (
        "{module} uses multi-phase init without a Py_mod_multiple_interpreters slot: "
        "CPython treats it as supported in shared-GIL sub-interpreters only"
    )
    rationale = (
        "Since CPython 3.12 a multi-phase module without the Py_mod_multiple_interpreters slot is "
        "handled as Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED: it may be imported in sub-interpreters "
        "that share the main GIL, but an interpreter with its own GIL refuses it."
    )
    remediation = (
        "Once the module keeps all its state per module (no writable C globals shared between "
        "interpreters, heap types, no PyGILState_* calls), add "
        "{Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED} to its slots. If it "
        "is not safe, say so explicitly with Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED."
    )
    references = (ref.PEP_684, ref.CAPI_MULTIPLE_INTERPRETERS_SLOT)

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        version = context.version
        if version is not None and version < (3, 12):
            return
        for ext in dist.extensions:
            if ext.init == "multi-phase" and not ext.multiple_interpreters and facts.slots_known(ext):
                yield self.finding(dist.name, ext.module)


class DeclaresNotSupported(Rule):
    code = "IA103"
    name = "declares-not-supported"
    severity = "high"
    message = "{module} declares Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED: no sub-interpreter may import it"
    rationale = (
        "The module's Py_mod_multiple_interpreters slot says it must only be loaded in the main "
        "interpreter. Every sub-interpreter that checks extensions (isolated and shared-GIL ones) "
        "raises ImportError when it is imported there."
    )
    remediation = (
        "Find out why the authors opted out (shared C state, static types, PyGILState_* use, a "
        "binding framework without sub-interpreter support) and fix that; then change the slot to "
        "Py_MOD_PER_INTERPRETER_GIL_SUPPORTED (or Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED if the "
        "module still relies on the main GIL)."
    )
    references = (ref.PEP_684, ref.CAPI_MULTIPLE_INTERPRETERS_SLOT)

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        for ext in dist.extensions:
            if ext.multiple_interpreters == "not-supported":
                yield self.finding(dist.name, ext.module)


class DeclaresSharedGilOnly(Rule):
    code = "IA104"
    name = "declares-shared-gil-only"
    severity = "medium"
    message = (
        "{module} declares Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED but not "
        "Py_MOD_PER_INTERPRETER_GIL_SUPPORTED: interpreters with their own GIL refuse it"
    )
    rationale = (
        "The module says it is safe in several interpreters as long as they share one GIL. "
        "Interpreters created with their own GIL (PEP 684, the default of the PEP 734 "
        "'interpreters' module) raise ImportError for it."
    )
    remediation = (
        "Make the module safe without the shared GIL: protect any state that is still process-wide "
        "(including state inside linked C libraries) with a lock, then declare "
        "Py_MOD_PER_INTERPRETER_GIL_SUPPORTED."
    )
    references = (ref.PEP_684, ref.PEP_734, ref.CAPI_MULTIPLE_INTERPRETERS_SLOT)

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        for ext in dist.extensions:
            if ext.multiple_interpreters == "supported":
                yield self.finding(dist.name, ext.module)


class NoGilSlot(Rule):
    code = "IA105"
    name = "no-gil-slot"
    severity = "info"
    message = "{module} has no Py_mod_gil slot: a free-threaded CPython (3.13+) re-enables the GIL when importing it"
    rationale = (
        "Not a sub-interpreter problem, but the same isolation work pays off for free-threading "
        "(PEP 703): a multi-phase module without Py_mod_gil is treated as Py_MOD_GIL_USED, and a "
        "free-threaded interpreter turns the GIL back on (with a warning) when it is imported."
    )
    remediation = (
        "When the module is thread-safe without the GIL, add {Py_mod_gil, Py_MOD_GIL_NOT_USED} to "
        "its slots (CPython 3.13+), or declare Py_MOD_GIL_USED explicitly to document the opposite."
    )
    references = (ref.PEP_703, ref.CAPI_GIL_SLOT, ref.HOWTO_FREE_THREADING)

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        version = context.version
        if version is not None and version < (3, 13):
            return
        for ext in dist.extensions:
            if ext.init == "multi-phase" and not ext.gil and facts.slots_known(ext):
                yield self.finding(dist.name, ext.module)


class NoModuleState(Rule):
    code = "IA106"
    name = "no-module-state"
    severity = "low"
    message = "{module} uses multi-phase init without module state (m_size {m_size}) but keeps writable globals: {names}"
    rationale = (
        "Multi-phase init creates one module object per interpreter, but data kept in C globals "
        "instead of module state (m_size > 0) is still one copy per process. Each interpreter "
        "overwrites what the others stored there."
    )
    remediation = (
        "Move the globals into a module state struct: set m_size to its size, reach it with "
        "PyModule_GetState (from methods) or PyType_GetModuleByDef (from methods of heap types), "
        "and implement m_traverse/m_clear/m_free for the Python objects it holds."
    )
    references = (ref.PEP_630, ref.HOWTO_ISOLATING, ref.CAPI_MODULE_STATE)

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        for ext in dist.extensions:
            if ext.init != "multi-phase" or ext.m_size is None or ext.m_size > 0:
                continue
            names = context.state_globals(ext)
            if names:
                yield self.finding(dist.name, ext.module, m_size=ext.m_size, names=facts.name_list(names))


class InitFailed(Rule):
    code = "IA107"
    name = "init-failed"
    severity = "high"
    message = "{module} failed to initialize: {reason}"
    rationale = (
        "The module's PyInit function (or its Py_mod_exec slot) crashed or raised, either when "
        "interp-audit called it on its own in a throwaway process to read its declarations, or "
        "when the distribution was imported in the main interpreter. Nothing can be said about "
        "sub-interpreters until the module loads at all; a missing shared library, a build for "
        "another interpreter or a crash in the init code are the usual causes."
    )
    remediation = (
        "Import the module in a plain interpreter and read the error: install the missing "
        "dependency or shared library, or install a wheel built for this interpreter. A crash "
        "in PyInit is a bug of the module: report it with the stderr shown in the report."
    )
    references = (ref.PEP_489,)

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        main = facts.mode(dist, "main")
        main_failed = main is not None and main.ok is False
        main_text = facts.failure_text(main) or ""
        main_crashes = [crash for mode_name, crash in facts.crashes(dist) if mode_name == "main"]
        for ext in dist.extensions:
            reason, detail = self._probe_failure(ext)
            if reason is None and main_failed:
                crash = next((c for c in main_crashes if c.culprit == ext.module), None)
                if crash is not None:
                    reason = "importing it in the main interpreter %s" % facts.describe_crash(crash)
                    detail = crash.stderr_tail.strip()[-500:] or None
                elif not main_crashes and (
                    ext.module in facts.failed_modules(main) or facts.mentions(main_text, ext.module)
                ):
                    reason = facts.one_line(main_text)
            if reason:
                yield self.finding(dist.name, ext.module, reason=reason, detail=detail)

    @staticmethod
    def _probe_failure(ext: ExtensionInfo) -> tuple[Optional[str], Optional[str]]:
        """What the init-function probe saw: a crash, or an exception raised by the init function."""
        record = facts.evidence(ext, "initfunc", {})
        record = record if isinstance(record, dict) else {}
        crash = facts.evidence(ext, "initfunc_crash")
        if isinstance(crash, dict):
            text = record.get("error") or ext.reason or "its init function crashed the process"
            return facts.one_line(text), (crash.get("stderr_tail") or "").strip()[-500:] or None
        if record.get("source") and record.get("error"):  # the init function ran and raised
            return "its init function raised %s" % facts.one_line(record["error"]), None
        return None, None
