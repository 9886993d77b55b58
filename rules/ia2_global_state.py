"""IA2xx: process-wide state inside an extension module (PEP 630, PEP 687)."""

from __future__ import annotations

import re
from typing import Iterable

from interp_audit.model import DistributionResult, Finding
from interp_audit.rules import facts, references as ref
from interp_audit.rules.interface import Rule, RuleContext

#: Prefix of the C names Cython gives to module-level ``cdef`` variables.
CYTHON_GLOBAL_PREFIX = "__pyx_v_"


def cython_variable_name(symbol: str) -> str:
    """``__pyx_v_3pkg_4core_counter`` -> ``counter`` (Cython prefixes length-counted scope names)."""
    rest = symbol[len(CYTHON_GLOBAL_PREFIX):]
    while True:
        match = re.match(r"(\d+)", rest)
        if not match:
            return rest
        end = len(match.group(1)) + int(match.group(1))
        if len(rest) <= end + 1 or rest[end] != "_":
            return rest
        rest = rest[end + 1:]


class WritableGlobals(Rule):
    code = "IA201"
    name = "writable-globals"
    severity = "medium"
    message = "{module} keeps writable static data shared by every interpreter: {names}"
    rationale = (
        "C globals and static variables (including static PyObject* caches) exist once per "
        "process. Interpreters that import the module overwrite each other's values, and a Python "
        "object stored there by one interpreter is used by another, which is a crash waiting to "
        "happen once interpreters have their own GIL. (Found from the symbol table: word-sized "
        "objects and zero-initialised data are counted; initialised tables such as PyMethodDef "
        "arrays and PyModuleDef structs are not.)"
    )
    remediation = (
        "Move the data into module state (m_size > 0, PyModule_GetState) or onto heap type "
        "objects; keep only constants and data that is truly process-wide, and guard the latter "
        "with a lock (PyMutex on 3.13+)."
    )
    references = (ref.PEP_630, ref.PEP_687, ref.HOWTO_ISOLATING)

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        for ext in dist.extensions:
            names = context.state_globals(ext)
            if names:
                yield self.finding(dist.name, ext.module, names=facts.name_list(names))


class StaticTypes(Rule):
    code = "IA202"
    name = "static-types"
    severity = "medium"
    message = "{module} defines static types (PyType_Ready on static PyTypeObject) shared by every interpreter"
    rationale = (
        "A static PyTypeObject is one object for the whole process: its dict, its subclasses list "
        "and its reference count are touched by every interpreter that uses it. Only heap types "
        "created per module can be isolated."
    )
    remediation = (
        "Describe each type with a PyType_Spec and create it in the module's exec slot with "
        "PyType_FromModuleAndSpec (or PyType_FromMetaclass on 3.12+); store the type in module "
        "state and find it from methods with PyType_GetModuleByDef."
    )
    references = (ref.PEP_630, ref.HOWTO_ISOLATING, ref.CAPI_TYPE_FROM_SPEC)

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        for ext in dist.extensions:
            if facts.evidence(ext, "static_types", False) is True:
                yield self.finding(dist.name, ext.module)


class _EvidenceNamesRule(Rule):
    """Fires for every extension whose ``evidence[evidence_key]`` lists C-API names."""

    evidence_key: str

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        for ext in dist.extensions:
            names = facts.evidence_names(ext, self.evidence_key)
            if names:
                yield self.finding(dist.name, ext.module, names=facts.name_list(names))


class ModuleLookup(_EvidenceNamesRule):
    code = "IA203"
    name = "pystate-module-lookup"
    severity = "medium"
    message = "{module} looks itself up with {names}, which assumes one module object per interpreter"
    rationale = (
        "PyState_FindModule/PyState_AddModule index modules by their PyModuleDef and work only for "
        "single-phase modules; a multi-phase module gets NULL back. Code built around them keeps "
        "the module tied to single-phase init and to per-process assumptions."
    )
    remediation = (
        "Pass the module along instead of looking it up: use the 'self' argument of module "
        "functions, PyType_GetModuleByDef from methods of heap types, or the defining class "
        "(METH_METHOD) to reach module state."
    )
    references = (ref.PEP_630, ref.CAPI_FIND_MODULE, ref.CAPI_GET_MODULE_BY_DEF)

    evidence_key = "module_lookup"


class GILStateAPI(_EvidenceNamesRule):
    code = "IA204"
    name = "gilstate-api"
    severity = "medium"
    message = "{module} calls {names}, which always attaches threads to the main interpreter"
    rationale = (
        "The PyGILState_* functions assume a single interpreter: a thread that calls "
        "PyGILState_Ensure gets a thread state of the main interpreter, even when the callback it "
        "is about to run belongs to a sub-interpreter. The result is objects of one interpreter "
        "used under another interpreter's GIL: data races, deadlocks or crashes."
    )
    remediation = (
        "Remember the interpreter that registered the callback (PyInterpreterState_Get) and, in "
        "the foreign thread, create and attach a thread state for exactly that interpreter "
        "(PyThreadState_New + PyEval_RestoreThread, then PyThreadState_Clear/DeleteCurrent)."
    )
    references = (ref.CAPI_GILSTATE, ref.CAPI_SUBINTERPRETERS, ref.PEP_684)

    evidence_key = "gilstate"


class CythonModuleGlobals(Rule):
    code = "IA205"
    name = "cython-cdef-globals"
    severity = "medium"
    message = "{module} has module-level cdef variables, which Cython keeps in C globals: {names}"
    rationale = (
        "Cython stores module-level 'cdef' variables as static C variables, outside the module "
        "state even with CYTHON_USE_MODULE_STATE. Cython itself warns about them when "
        "subinterpreters_compatible is set: every interpreter shares and overwrites them."
    )
    remediation = (
        "Replace module-level cdef variables with attributes of a cdef class instance stored as a "
        "module attribute, or with plain Python module globals; keep only true constants as cdef "
        "globals."
    )
    references = (ref.PEP_630, ref.CYTHON_DIRECTIVES)

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        for ext in dist.extensions:
            if facts.framework_name(ext) != "cython":
                continue
            names = [
                cython_variable_name(name)
                for name in facts.evidence_names(ext, "writable_globals")
                if name.startswith(CYTHON_GLOBAL_PREFIX)
            ]
            if names:
                yield self.finding(
                    dist.name, ext.module, names=facts.name_list(names),
                    detail="seen as %s* symbols in the binary" % CYTHON_GLOBAL_PREFIX,
                )
