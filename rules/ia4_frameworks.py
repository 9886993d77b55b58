"""IA4xx: the binding framework a module was built with, and what it takes to fix it there.

Each rule fires for a module built with its framework when the module cannot run
in an own-GIL interpreter (or the framework does not support one at all and the
runtime did not prove otherwise).  The texts say which release or option makes
modules sub-interpreter safe; they were checked against each framework's own
sources and changelogs (August 2026).
"""

from __future__ import annotations

from typing import ClassVar, Iterable, Optional

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from interp_audit.model import DistributionResult, ExtensionInfo, Finding
from interp_audit.rules import facts, references as ref
from interp_audit.rules.interface import Rule, RuleContext


def below(text: Optional[str], bound: str) -> Optional[bool]:
    """Is the framework version ``text`` older than ``bound``?  None when it cannot tell.

    ``text`` is a version (``3.0.11``) or, when the binary only narrows it down,
    a PEP 440 range (``<3``, ``>=3.0,<3.1``).
    """
    if not text:
        return None
    limit = Version(bound)
    try:
        return Version(text.strip().lstrip("vV")) < limit
    except InvalidVersion:
        pass
    try:
        specifiers = SpecifierSet(text)
    except InvalidSpecifier:
        return None
    for spec in specifiers:
        try:
            edge = Version(spec.version)
        except InvalidVersion:
            continue
        if spec.operator in ("<", "<=") and edge <= limit:
            return True
        if spec.operator in (">=", ">", "==", "~=") and edge >= limit:
            return False
    return None


class FrameworkRule(Rule):
    """A rule about modules built with one framework; subclasses set the texts."""

    framework: ClassVar[str]  # as in ExtensionInfo.framework.name
    label: ClassVar[str]  # how people spell it
    supports_isolated: ClassVar[bool]  # some release can build own-GIL modules
    message = "{module} is built with {framework} and, as built, cannot run in an isolated (own-GIL) interpreter"

    def hint(self, version: Optional[str]) -> Optional[str]:
        """A sentence for this module's framework version (or version range), or None."""
        return None

    def applies(self, ext: ExtensionInfo) -> bool:
        if facts.framework_name(ext) != self.framework:
            return False
        return facts.below_own_gil(ext) or not self.supports_isolated

    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        loaded = facts.loaded_in(dist, "isolated")
        for ext in dist.extensions:
            if ext.module in loaded or not self.applies(ext):
                continue
            text = facts.framework_version(ext)
            label = "%s %s" % (self.label, text) if text else self.label
            yield self.finding(dist.name, ext.module, framework=label, detail=self.hint(text))


class Cython(FrameworkRule):
    code = "IA401"
    name = "cython-module"
    severity = "medium"
    framework = "cython"
    label = "Cython"
    supports_isolated = True
    rationale = (
        "Cython-generated modules use multi-phase init, but unless they are compiled with module "
        "state they keep their globals in static C data and refuse a second interpreter "
        "('Interpreter change detected - this module can only be loaded into one interpreter per "
        "process'). Cython emits the Py_mod_multiple_interpreters slot only when the C macro "
        "CYTHON_USE_MODULE_STATE is 1; its value comes from the subinterpreters_compatible "
        "directive (added in Cython 3.1.0), and without the directive the slot says "
        "NOT_SUPPORTED."
    )
    remediation = (
        "Build with Cython >= 3.1, set the directive subinterpreters_compatible=own_gil "
        "(or shared_gil) in the .pyx header or in cythonize(compiler_directives=...), and compile "
        "with -DCYTHON_USE_MODULE_STATE=1. Remove module-level cdef variables (IA205) and "
        "'with gil' blocks entered from foreign threads, which Cython warns stay unsafe with "
        "sub-interpreters."
    )
    references = (ref.CYTHON_DIRECTIVES, ref.PEP_489, ref.PEP_684)

    def hint(self, version: Optional[str]) -> Optional[str]:
        older = below(version, "3.1")
        if older:
            return "Cython %s predates the subinterpreters_compatible directive: upgrade to Cython >= 3.1." % version
        if older is False:
            return ("Cython %s supports it: compile with -DCYTHON_USE_MODULE_STATE=1 and set "
                    "subinterpreters_compatible=own_gil." % version)
        return None


class Pybind11(FrameworkRule):
    code = "IA402"
    name = "pybind11-module"
    severity = "medium"
    framework = "pybind11"
    label = "pybind11"
    supports_isolated = True
    rationale = (
        "pybind11 before 3.0 builds single-phase modules and keeps its internals per process. "
        "pybind11 3.0 switched PYBIND11_MODULE to multi-phase init and made its internals "
        "sub-interpreter safe, but a module still declares "
        "multiple_interpreters::not_supported() unless it asks for more."
    )
    remediation = (
        "Build with pybind11 >= 3.0 and pass py::multiple_interpreters::per_interpreter_gil() "
        "(or py::multiple_interpreters::shared_gil()) as an extra argument of PYBIND11_MODULE, "
        "after removing static/global state from the bindings' C++ code."
    )
    references = (ref.PYBIND11_SUBINTERPRETERS, ref.PEP_684)

    def hint(self, version: Optional[str]) -> Optional[str]:
        older = below(version, "3.0")
        if older:
            return "pybind11 %s builds single-phase modules: upgrade to pybind11 >= 3.0 first." % version
        if older is False:
            return "pybind11 %s supports it: add py::multiple_interpreters::per_interpreter_gil()." % version
        return None


class Nanobind(FrameworkRule):
    code = "IA403"
    name = "nanobind-module"
    severity = "medium"
    framework = "nanobind"
    label = "nanobind"
    supports_isolated = False
    rationale = (
        "nanobind does not support sub-interpreters. Since 2.8.0 its modules use multi-phase init "
        "but declare Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED (still so in nanobind 3.0.0); "
        "older releases build single-phase modules."
    )
    remediation = (
        "Nothing can be changed in the module alone: nanobind offers no option for "
        "sub-interpreter support. Import the module in the main interpreter only, or ask the "
        "nanobind project for support."
    )
    references = (ref.NANOBIND_CHANGELOG, ref.PEP_684)


class PyO3(FrameworkRule):
    code = "IA404"
    name = "pyo3-module"
    severity = "medium"
    framework = "pyo3"
    label = "PyO3"
    supports_isolated = False
    rationale = (
        "PyO3 does not support sub-interpreters: its pyclass types and other state are "
        "process-wide. Since PyO3 0.17 a module refuses to initialize a second time, and since "
        "0.20 it raises 'PyO3 modules do not yet support subinterpreters' in any interpreter "
        "other than the first one that imported it."
    )
    remediation = (
        "No build option fixes it; support is tracked upstream (PyO3 issue 576). Import the "
        "package in one interpreter per process, normally the main one."
    )
    references = (ref.PYO3_SUBINTERPRETERS_ISSUE, ref.PEP_684)


class Swig(FrameworkRule):
    code = "IA405"
    name = "swig-module"
    severity = "medium"
    framework = "swig"
    label = "SWIG"
    supports_isolated = True
    rationale = (
        "SWIG before 4.4.0 generates single-phase modules. SWIG 4.4.0 generates multi-phase "
        "modules with heap types, but without a Py_mod_multiple_interpreters slot (so CPython "
        "allows them in shared-GIL interpreters only), and its runtime keeps the type table in a "
        "static swig_module_info."
    )
    remediation = (
        "Regenerate the wrappers with SWIG >= 4.4.0 to get multi-phase init. SWIG has no option "
        "to declare per-interpreter GIL support; use the module in shared-GIL interpreters at "
        "most, and audit the wrapped library for global state."
    )
    references = (ref.SWIG_CHANGES, ref.PEP_489)

    def hint(self, version: Optional[str]) -> Optional[str]:
        if below(version, "4.4.0"):
            return "SWIG %s generates single-phase modules: regenerate with SWIG >= 4.4.0." % version
        return None


class Mypyc(FrameworkRule):
    code = "IA406"
    name = "mypyc-module"
    severity = "medium"
    framework = "mypyc"
    label = "mypyc"
    supports_isolated = False
    rationale = (
        "mypyc compiles modules with single-phase init on regular CPython builds; only on "
        "free-threaded builds does it use multi-phase init, and then it declares "
        "Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED."
    )
    remediation = (
        "mypyc has no sub-interpreter support. Where the project publishes a pure-Python wheel "
        "(py3-none-any), install that one for use in sub-interpreters."
    )
    references = (ref.MYPYC_DOCS, ref.PEP_489)


class Cffi(FrameworkRule):
    code = "IA407"
    name = "cffi-module"
    severity = "medium"
    framework = "cffi"
    label = "cffi"
    supports_isolated = False
    rationale = (
        "cffi's _cffi_backend and the out-of-line modules it generates are single-phase modules, "
        "and ffi.init_once() results are deliberately shared by all sub-interpreters."
    )
    remediation = (
        "cffi has no option for sub-interpreter support. Keep cffi-based modules in the main "
        "interpreter."
    )
    references = (ref.CFFI_INIT_ONCE, ref.PEP_489)


class HPy(FrameworkRule):
    code = "IA408"
    name = "hpy-module"
    severity = "medium"
    framework = "hpy"
    label = "HPy"
    supports_isolated = False
    rationale = (
        "HPy 0.9 (its latest release) uses multi-phase init only, but offers no way to set "
        "Py_mod_multiple_interpreters (CPython then allows the module in shared-GIL "
        "interpreters only); module state and a per-interpreter HPyGlobal are planned, not "
        "implemented."
    )
    remediation = (
        "No HPy option makes a module safe in own-GIL interpreters yet. Use it in the main or "
        "shared-GIL interpreters only."
    )
    references = (ref.HPY_PORTING_GUIDE, ref.PEP_489)
