"""Small, defensive readers of scan facts shared by the rules.

Facts may come from a fresh scan or from an older JSON report, so every reader
tolerates missing keys and ``None`` values.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Optional

from interp_audit.model import Control, Crash, DistributionResult, ExtensionInfo, ModeResult, ScenarioResult

#: How many names a message lists before it says "and N more".
MAX_NAMES = 6


def evidence(ext: ExtensionInfo, key: str, default: Any = None) -> Any:
    """One entry of ``ext.evidence``, or ``default`` when absent or None."""
    value = (ext.evidence or {}).get(key)
    return default if value is None else value


def evidence_names(ext: ExtensionInfo, key: str) -> list[str]:
    """An evidence entry that lists names (strings or ``{"name": ...}`` dicts), as strings."""
    value = evidence(ext, key, [])
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, (list, tuple, set)):
        return []
    names = [item.get("name") if isinstance(item, dict) else item for item in value]
    return [str(name) for name in names if name]


#: Symbols the toolchain (crtstuff, the linker) puts in writable data of every shared object.
TOOLCHAIN_DATA = frozenset({"__TMC_END__", "__dso_handle", "__bss_start", "_edata", "_end", "__data_start", "data_start"})
TOOLCHAIN_PATTERN = re.compile(r"^completed\.\d+$")
#: Names of C-API definition tables (PyMethodDef[], PyModuleDef, slots, specs...).
DEFINITION_TABLE = re.compile(r"(^|_)(slots|methods|module_?def|def|spec|members|getsets?)$", re.IGNORECASE)
#: A pointer or a C scalar: the shape of a counter, a flag or a cached PyObject*.
WORD_SIZE = 8


def state_globals(ext: ExtensionInfo) -> list[str]:
    """Names among ``writable_globals`` that look like mutable state rather than definitions.

    Kept: word-sized objects (counters, flags, cached ``PyObject *``) and
    zero-initialised ``.bss`` data that is not named like a definition table.
    Larger initialised ``.data`` objects are, in practice, ``PyMethodDef`` arrays,
    ``PyModuleDef`` structs, slot tables and type specs, and are left out; so are
    toolchain symbols.  Plain-name entries (no size or section) are all kept.
    """
    result = []
    for item in evidence(ext, "writable_globals", []) or []:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not item.get("name"):
            continue
        name = str(item["name"])
        if name in TOOLCHAIN_DATA or TOOLCHAIN_PATTERN.match(name):
            continue
        size, section = item.get("size"), item.get("section")
        if size is None or section is None:
            result.append(name)
        elif size <= WORD_SIZE:
            result.append(name)
        elif str(section).startswith(".bss") and not DEFINITION_TABLE.search(name):
            result.append(name)
    return result


def framework_name(ext: ExtensionInfo) -> Optional[str]:
    """The lower-case framework name of an extension, or None."""
    return ext.framework.name.lower() if ext.framework and ext.framework.name else None


def framework_version(ext: ExtensionInfo) -> Optional[str]:
    return ext.framework.version if ext.framework else None


def name_list(names: list[str], limit: int = MAX_NAMES) -> str:
    """``a, b, c and 3 more``."""
    names = list(dict.fromkeys(names))
    if len(names) <= limit:
        return ", ".join(names)
    return "%s and %d more" % (", ".join(names[:limit]), len(names) - limit)


def is_single_phase(ext: ExtensionInfo) -> bool:
    """Single-phase init, as found, or inferred from the imported C-API symbols."""
    if ext.init == "single-phase":
        return True
    if ext.init in ("multi-phase", "not-an-extension"):
        return False
    return bool(evidence(ext, "imports_single_phase", False)) and not evidence(ext, "imports_module_def_init", False)


def slots_known(ext: ExtensionInfo) -> bool:
    """True when the module's declared slots were read (absent slots are then really absent).

    With ``--static-only``, or when the init function could not be called, a
    multi-phase module's slots are unknown, and no rule may treat a missing
    value as "not declared".
    """
    return bool(
        "slots" in (ext.method or {}) or ext.slots or ext.multiple_interpreters
        or ext.multiple_interpreters_effective or ext.gil
    )


def multiple_interpreters(ext: ExtensionInfo) -> Optional[str]:
    """What CPython applies for this module: the declared slot value, else the effective one."""
    if ext.multiple_interpreters:
        return ext.multiple_interpreters
    if ext.multiple_interpreters_effective:
        return ext.multiple_interpreters_effective
    if ext.init == "multi-phase" and slots_known(ext):
        return "supported"  # CPython's default for a multi-phase module without the slot
    return None


def below_own_gil(ext: ExtensionInfo) -> bool:
    """True when the static facts say this module cannot run in an own-GIL interpreter
    (False when they cannot tell)."""
    if is_single_phase(ext):
        return True
    value = multiple_interpreters(ext)
    return value is not None and value != "per-interpreter-gil"


def mode(dist: DistributionResult, name: str) -> Optional[ModeResult]:
    return (dist.modes or {}).get(name)


def scenarios(result: Optional[ModeResult]) -> Iterator[tuple[str, ScenarioResult]]:
    if result is None:
        return
    for label in ("alone", "beside_main"):
        scenario = getattr(result, label, None)
        if scenario is not None:
            yield label, scenario


def cpython_crash(dist: DistributionResult, kind: str, mode_name: str) -> Optional[Control]:
    """The control showing that the crash of scenario or smoke check ``kind`` in
    ``mode_name`` is CPython's (the standard library alone reproduces it, or no other native
    code ran: ``verdict.only_cpython_code``), if any."""
    return next((c for c in dist.controls if c.cpython and c.kind == kind and c.mode == mode_name), None)


def crashes(dist: DistributionResult) -> Iterator[tuple[str, Crash]]:
    """Every distinct crash of the ladder that the package caused, with the mode it happened in
    (crashes that a standard-library control reproduces are CPython's: see IA307)."""
    for mode_name, result in (dist.modes or {}).items():
        seen = []
        labelled = list(scenarios(result)) or [("", result)]
        for label, holder in labelled:
            crash = holder.crash
            if crash is not None and crash not in seen and not cpython_crash(dist, label, mode_name):
                seen.append(crash)
                yield mode_name, crash


def loaded_in(dist: DistributionResult, mode_name: str) -> set[str]:
    """Extension modules seen in sys.modules after a successful import in that mode."""
    loaded: set[str] = set()
    for _, scenario in scenarios(mode(dist, mode_name)):
        if scenario.ok:
            loaded.update(scenario.loaded_extensions or ())
    return loaded


def failure_text(result: Optional[ModeResult]) -> Optional[str]:
    """The first error message of a failed mode, from the mode or its scenarios."""
    if result is None:
        return None
    if result.error:
        return result.error
    for _, scenario in scenarios(result):
        if scenario.error:
            return scenario.error
    return None


def failed_modules(result: Optional[ModeResult]) -> set[str]:
    """Modules whose import raised first, as recorded by the probe for each scenario."""
    return {s.failed_module for _, s in scenarios(result) if getattr(s, "failed_module", None)}


def mentions(text: Optional[str], module: str) -> bool:
    """True when ``text`` names ``module`` as a whole dotted name."""
    return bool(text) and re.search(r"(?<![\w.])%s(?!\w|\.\w)" % re.escape(module), text) is not None


def one_line(text: Optional[str], limit: int = 200) -> str:
    """The first line of a message, clipped."""
    if not text:
        return ""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def describe_crash(crash: Crash) -> str:
    """``crashed with SIGSEGV`` / ``hung (timed out)`` / ``exited with code 3``."""
    if crash.timeout:
        return "hung (timed out)"
    if crash.signal:
        return "crashed with %s" % crash.signal
    if crash.returncode is not None:
        return "exited with code %d" % crash.returncode
    return "crashed"
