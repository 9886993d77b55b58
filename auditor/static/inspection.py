"""Static evidence about extension modules: the one entry point the scan calls.

:func:`inspect_extensions` reads every extension file (symbols, writable
data, framework fingerprints) and, unless ``run_init`` is off
(``--static-only``), calls each ``PyInit_*`` in a throwaway child of the
target Python to read the declared slots.  Every
:class:`~interp_audit.model.ExtensionInfo` field it fills says in ``method``
how it was obtained:

* ``initfunc``    -- from what the module's init function returned;
* ``moduledef``   -- from the module's PyModuleDef read in the file's data
  (``moduledef.py``): no code runs, so ``--static-only`` has it too;
* ``symbols``     -- from the imported/exported dynamic symbols;
* ``framework``   -- from the known behaviour of the detected framework;
* ``fingerprint`` -- (framework only) from strings and symbols in the binary;
* ``default``     -- what CPython applies when the module declares nothing.

Bad files never raise: they come back with ``init="unknown"`` and a reason.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence

from interp_audit.model import ExtensionInfo
from interp_audit.static.evidence import build_evidence, export_hook_name, init_function_name, static_init_kind
from interp_audit.static.frameworks import ANCHORS, detect_framework
from interp_audit.static.initkind import (
    GIL_VALUES,
    MULTIPLE_INTERPRETERS_VALUES,
    PY_MOD_GIL,
    PY_MOD_MULTIPLE_INTERPRETERS,
    probe_init_kinds,
    slot_name,
)
from interp_audit.static.interface import BinaryFacts
from interp_audit.static.moduledef import PY_MOD_STATE_SIZE, select_module_def
from interp_audit.static.readers import read_binary

#: What CPython 3.12+ applies to a multi-phase module without the slot.
DEFAULT_MULTIPLE_INTERPRETERS = "supported"
#: Without Py_mod_gil a module is taken to need the GIL (3.13+ free-threaded builds);
#: reported as ``evidence["gil_effective"]``.
DEFAULT_GIL = "used"


def target_machine(python: str) -> Optional[tuple[str, int]]:
    """``(machine, bits)`` of the interpreter executable, read from its header."""
    facts = read_binary(os.path.realpath(python))
    if facts.machine is None or facts.bits is None:
        return None
    return facts.machine, facts.bits


def inspect_extensions(
    python: Optional[str],
    extensions: Sequence[tuple[str, str]],
    *,
    run_init: bool = True,
    timeout: float = 30.0,
) -> list[ExtensionInfo]:
    """Static evidence for each ``(dotted module name, path)``, in order.

    ``python`` is the target interpreter (None: no architecture check and no
    init calls).  ``run_init=False`` is ``--static-only``: no package code
    runs, init kinds come from symbols.  ``timeout`` bounds each init call.
    """
    machine = target_machine(python) if python else None
    infos: list[ExtensionInfo] = []
    runnable: list[int] = []
    for module, path in extensions:
        info, facts = _static_info(module, path)
        infos.append(info)
        mismatch = _architecture_mismatch(facts, machine)
        if mismatch:
            info.init = "unknown"
            info.method.pop("init", None)
            info.reason = mismatch
            info.evidence["binary_error"] = mismatch
            info.evidence["binary_error"] = mismatch  # an input problem, like an unreadable file
        elif run_init and python and facts.ok and info.evidence.get("init_symbol"):
            runnable.append(len(infos) - 1)
    if runnable:
        results = probe_init_kinds(python, [(infos[i].module, infos[i].path) for i in runnable], timeout=timeout)
        for index, result in zip(runnable, results):
            _apply_probe(infos[index], result)
    for info in infos:
        _apply_defaults(info, probed=run_init and python is not None)
    return infos


def _static_info(module: str, path: str) -> tuple[ExtensionInfo, BinaryFacts]:
    facts = read_binary(path, ANCHORS)
    detection = detect_framework(facts) if facts.ok else None
    info = ExtensionInfo(module=module, path=path)
    info.evidence = build_evidence(facts, module, detection)
    if detection is not None:
        info.framework = detection.framework
        info.method["framework"] = "fingerprint"
    init, method, reason = static_init_kind(facts, module, detection.framework.name if detection else None)
    info.init = init
    if method:
        info.method["init"] = method
    info.reason = reason
    if facts.ok and init in ("multi-phase", "single-phase"):
        _apply_module_def(info, facts)
    return info, facts


def _apply_module_def(info: ExtensionInfo, facts: BinaryFacts) -> None:
    """Fill m_size and the declared slots from the PyModuleDef in the file's data.

    What stays unknown gets a reason only for multi-phase modules (single-phase
    ones have no slots to declare).
    """
    hook = export_hook_name(info.module)
    if hook in facts.export_slots:  # PEP 793: CPython 3.15+ takes the hook's slots first
        _apply_export_slots(info, hook, *facts.export_slots[hook])
        return
    symbol = init_function_name(info.module)
    module_def, found_by, why_not = select_module_def(facts.module_defs, facts.init_loads, info.module, symbol)
    why_not = facts.module_defs_error or why_not
    if module_def is None or facts.module_defs_error:
        if info.init == "multi-phase":
            info.reason = f"declared slots unknown: {why_not}"
        return
    info.evidence["moduledef"] = {
        "name": module_def.name,
        "address": hex(module_def.address),
        "found_by": found_by,
        "header": module_def.header,
        "slots": [list(slot) for slot in module_def.slots or ()],
        "error": module_def.slots_error,
    }
    info.m_size = module_def.m_size
    info.method["m_size"] = "moduledef"
    if module_def.slots_error:
        if info.init == "multi-phase":
            info.reason = f"declared slots unknown: {module_def.slots_error}"
        return
    _apply_slots(info, list(module_def.slots or ()), "moduledef")


def _architecture_mismatch(facts: BinaryFacts, machine: Optional[tuple[str, int]]) -> Optional[str]:
    if machine is None or not facts.ok or facts.machine is None:
        return None
    if (facts.machine, facts.bits) == machine:
        return None
    return (
        f"built for {facts.machine} ({facts.bits}-bit) but the target Python is "
        f"{machine[0]} ({machine[1]}-bit): it cannot be loaded"
    )


def _apply_probe(info: ExtensionInfo, result: dict[str, Any]) -> None:
    record = {k: result.get(k) for k in ("source", "def_name", "error") if result.get(k) is not None}
    if record:
        info.evidence["initfunc"] = record
    if result.get("crash"):
        info.evidence["initfunc_crash"] = result["crash"]
        info.init = "unknown"
        info.method["init"] = "initfunc"
        info.reason = result.get("error")
        return
    init = result.get("init")
    if init is None:
        # The init raised or could not be called: keep the static judgement.
        if info.init == "unknown":
            info.reason = result.get("error") or info.reason
        return
    if info.init not in ("unknown", init):
        info.evidence["symbols_said"] = info.init
    info.init = init
    info.method["init"] = "initfunc"
    info.reason = None
    static = _declared(info) if info.method.get("slots") == "moduledef" else None
    info.m_size = result.get("m_size")
    info.method["m_size"] = "initfunc"
    for name in ("multiple_interpreters", "multiple_interpreters_effective", "gil"):
        setattr(info, name, None)
        info.method.pop(name, None)
    _apply_slots(info, [tuple(slot) for slot in result.get("slots") or []], "initfunc")
    if static is not None and static != _declared(info):
        info.evidence["moduledef_said"] = static


def _apply_export_slots(info: ExtensionInfo, hook: str, slots: Optional[tuple], error: Optional[str]) -> None:
    """The slot array a PEP 793 export hook returns: slots, and m_size from Py_mod_state_size."""
    info.evidence["moduledef"] = {"export_hook": hook, "found_by": "export hook",
                                  "slots": [list(slot) for slot in slots or ()], "error": error}
    if error:
        info.reason = f"declared slots unknown: {error}"
        return
    info.m_size = dict(slots).get(PY_MOD_STATE_SIZE, 0)  # no Py_mod_state_size: no module state
    info.method["m_size"] = "moduledef"
    _apply_slots(info, list(slots), "moduledef")


def _declared(info: ExtensionInfo) -> dict[str, Any]:
    return {"m_size": info.m_size, "slots": list(info.slots), "multiple_interpreters": info.multiple_interpreters,
            "gil": info.gil}


def _apply_slots(info: ExtensionInfo, slots: list[tuple[int, Optional[int]]], method: str) -> None:
    """Set ``slots``, ``multiple_interpreters`` and ``gil`` from ``(number, value)`` pairs."""
    info.slots = [slot_name(number) for number, _value in slots]
    info.method["slots"] = method
    values = {number: value for number, value in slots}
    if PY_MOD_MULTIPLE_INTERPRETERS in values:
        raw = values[PY_MOD_MULTIPLE_INTERPRETERS]
        info.multiple_interpreters = MULTIPLE_INTERPRETERS_VALUES.get(raw)
        info.method["multiple_interpreters"] = method
        if info.multiple_interpreters is None:
            info.reason = f"Py_mod_multiple_interpreters has the unknown value {raw}"
        else:
            info.multiple_interpreters_effective = info.multiple_interpreters
            info.method["multiple_interpreters_effective"] = method
    if PY_MOD_GIL in values:
        raw = values[PY_MOD_GIL]
        info.gil = GIL_VALUES.get(raw)
        info.method["gil"] = method
        if info.gil is None:
            info.reason = f"Py_mod_gil has the unknown value {raw}"


def _apply_defaults(info: ExtensionInfo, probed: bool) -> None:
    """Fill what CPython assumes when a multi-phase module declares nothing.

    ``gil`` stays the declared value (None when absent); what CPython then
    assumes goes to ``evidence["gil_effective"]``.  Single-phase modules have
    no slots: both stay None (``init`` already says they are refused wherever
    extensions are checked).
    """
    if info.init != "multi-phase":
        return
    if info.method.get("slots") not in ("initfunc", "moduledef"):
        if info.reason is None:
            failed = info.evidence.get("initfunc", {}).get("error")
            if failed:
                why = failed
            elif probed:
                why = "the init function was not called"
            else:
                why = "the init function was not called (--static-only)"
            info.reason = f"declared slots unknown: {why}"
        return
    if info.multiple_interpreters_effective is None and "multiple_interpreters" not in info.method:
        info.multiple_interpreters_effective = DEFAULT_MULTIPLE_INTERPRETERS
        info.method["multiple_interpreters_effective"] = "default"
    info.evidence["gil_effective"] = info.gil or DEFAULT_GIL
