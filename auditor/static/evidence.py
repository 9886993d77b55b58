"""Turn :class:`BinaryFacts` into the ``evidence`` of an ExtensionInfo and a static init kind.

The C API a module imports tells a lot about how it behaves in
sub-interpreters: ``PyModule_Create2`` means single-phase init,
``PyModuleDef_Init`` multi-phase, ``PyState_FindModule`` a process-wide
module lookup, ``PyType_Ready`` without any ``PyType_From*`` static types,
``PyGILState_*`` the one-interpreter GIL API.  Writable ``.data``/``.bss``
are where C globals live.
"""

from __future__ import annotations

from typing import Any, Optional

from interp_audit.static.frameworks import FRAMEWORK_INIT, Detection, interpreter_guards
from interp_audit.static.interface import ENTRY_PREFIXES, BinaryFacts

#: Most writable globals listed in the evidence (largest first).
MAX_GLOBALS = 50
#: Most PyInit_* names listed in the evidence.
MAX_INIT_SYMBOLS = 10

SINGLE_PHASE_API = ("PyModule_Create2", "PyModule_Create")
MULTI_PHASE_API = ("PyModuleDef_Init",)
MODULE_LOOKUP_API = ("PyState_FindModule", "PyState_AddModule", "PyState_RemoveModule")
HEAP_TYPE_API = ("PyType_FromSpec", "PyType_FromSpecWithBases", "PyType_FromModuleAndSpec", "PyType_FromMetaclass")


def init_function_name(module: str, prefix: str = "PyInit") -> str:
    """The export CPython looks for when importing ``module`` (PEP 489 naming; ``prefix``
    ``"PyModExport"`` names the PEP 793 export hook)."""
    leaf = module.rpartition(".")[2]
    try:
        leaf.encode("ascii")
    except UnicodeEncodeError:
        return prefix + "U_" + leaf.encode("punycode").decode("ascii").replace("-", "_")
    return prefix + "_" + leaf


def export_hook_name(module: str) -> str:
    """The PEP 793 export hook (3.15+) CPython looks for first: ``PyModExport_<leaf>``."""
    return init_function_name(module, "PyModExport")


def init_symbols(facts: BinaryFacts) -> list[str]:
    """Every module init function and export hook the binary exports, sorted."""
    return sorted(s for s in facts.exported if s.startswith(ENTRY_PREFIXES))


def build_evidence(facts: BinaryFacts, module: str, detection: Optional[Detection]) -> dict[str, Any]:
    """The ``evidence`` dict of :class:`~interp_audit.model.ExtensionInfo` for one file."""
    imported = facts.imported
    expected = init_function_name(module)
    heap_api = [name for name in HEAP_TYPE_API if name in imported]
    evidence: dict[str, Any] = {
        "format": facts.format,
        "machine": facts.machine,
        "file_size": facts.file_size,
        "init_symbol": expected if expected in facts.exported else None,
        "export_hook": export_hook_name(module) if export_hook_name(module) in facts.exported else None,
        "init_symbols": init_symbols(facts)[:MAX_INIT_SYMBOLS],
        "imports_single_phase": any(name in imported for name in SINGLE_PHASE_API),
        "imports_module_def_init": any(name in imported for name in MULTI_PHASE_API),
        "module_lookup": [name for name in MODULE_LOOKUP_API if name in imported],
        "type_ready": "PyType_Ready" in imported,
        "heap_type_api": heap_api,
        "static_types": "PyType_Ready" in imported and not heap_api,
        "gilstate": sorted(name for name in imported if name.startswith("PyGILState_")),
        "writable_data_bytes": facts.writable_data_bytes,
        "writable_sections": dict(facts.writable_sections),
        "writable_globals": [
            {"name": o.name, "size": o.size, "section": o.section, "exported": o.exported}
            for o in facts.data_objects[:MAX_GLOBALS]
        ],
        "writable_globals_count": len(facts.data_objects),
        "stripped": facts.stripped,
        "interpreter_guard": interpreter_guards(facts),
    }
    if detection is not None:
        evidence["framework_evidence"] = list(detection.evidence)
        if detection.others:
            evidence["framework_others"] = list(detection.others)
        if detection.language:
            evidence["language"] = detection.language
    if facts.error:
        evidence["binary_error"] = facts.error
    return evidence


def static_init_kind(
    facts: BinaryFacts, module: str, framework: Optional[str]
) -> tuple[str, Optional[str], Optional[str]]:
    """``(init, method, reason)`` judged from the symbols alone.

    ``method`` is ``"symbols"`` (imports/exports decide it), ``"framework"``
    (the framework's known behaviour decides it) or None when unknown.
    """
    if facts.error:
        return "unknown", None, facts.error
    inits = init_symbols(facts)
    if not inits:
        return "not-an-extension", "symbols", "exports no PyInit_* function (nor a PyModExport_* hook)"
    if export_hook_name(module) in facts.exported:
        return "multi-phase", "symbols", None  # PEP 793: a slot array, always multi-phase
    expected = init_function_name(module)
    if expected not in facts.exported:
        return (
            "unknown",
            None,
            (f"exports {', '.join(inits[:3])} but not {expected}: Python cannot import it as {module}"),
        )
    single = any(name in facts.imported for name in SINGLE_PHASE_API)
    multi = any(name in facts.imported for name in MULTI_PHASE_API)
    if multi and not single:
        return "multi-phase", "symbols", None
    if single and not multi:
        return "single-phase", "symbols", None
    if single and multi:
        return "unknown", None, "imports both PyModule_Create2 and PyModuleDef_Init"
    if framework in FRAMEWORK_INIT:
        return FRAMEWORK_INIT[framework], "framework", None
    return "unknown", None, "imports neither PyModule_Create2 nor PyModuleDef_Init (another library makes the module)"
