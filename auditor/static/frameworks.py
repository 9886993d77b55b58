"""Which binding framework built an extension module, from its symbols and strings.

Every framework leaves fingerprints in the binary even when it is stripped:
Cython names its shared ABI module ``_cython_3_0_11``, pybind11 keys its
internals ``__pybind11_internals_v12_...``, Rust paths such as
``.../pyo3-0.22.2/src/...`` survive in panic messages, and so on.  A detection
names the framework, the version when the binary records one (for pybind11 a
PEP 440 range derived from its internals ABI version), and the evidence that
matched.  What each framework's users can do is the rule catalogue's job
(``interp-audit explain IA401`` ... ``IA408``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from interp_audit.model import Framework
from interp_audit.static.interface import BinaryFacts

#: Read-only-data strings the readers collect for the detectors below.
ANCHORS: tuple[bytes, ...] = (
    b"_cython_0_",
    b"_cython_3_",
    b"_cython_4_",
    b"__pyx_",
    b"__pybind11_internals_v",
    b"__nb_internals",
    b"nanobind",
    b"pyo3-",
    b"pyo3_runtime",
    b"__mypyc",
    b"_cffi_backend",
    b"_init_cffi_1_0_external_module",
    b"swig_runtime_data",
    b"HPy",
    b"Interpreter change detected",
    b"support subinterpreters",
    b"initialized once per interpreter process",
)

#: Messages of framework checks that refuse a second interpreter at import.
INTERPRETER_GUARDS: dict[str, str] = {
    "Interpreter change detected": "cython",
    "support subinterpreters": "pyo3",
    "initialized once per interpreter process": "pyo3",
}

_CYTHON_ABI = re.compile(r"_cython_(\d+(?:_\d+)+(?:(?:a|b|rc)\d+)?)")
_PYBIND11_INTERNALS = re.compile(r"__pybind11_internals_v(\d+)")
_PYO3 = re.compile(r"(?<![\w-])pyo3-(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)[/\\]")
_PYO3_FFI = re.compile(r"pyo3-ffi-(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)[/\\]")
_SWIG_RUNTIME = re.compile(r"swig_runtime_data(\d+)")

#: How a framework's modules initialise when their imports do not tell.
#: cffi modules are made by ``_cffi_backend`` and mypyc shims call into a
#: shared library: neither imports PyModule_Create2 itself.
FRAMEWORK_INIT = {
    "cffi": "single-phase",
    "mypyc": "single-phase",
}


@dataclass
class Detection:
    """The framework chosen for one binary and why."""

    framework: Framework
    evidence: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # frameworks with weaker evidence
    language: Optional[str] = None  # "rust", "c++" when it shows


def _strings(facts: BinaryFacts, anchor: str) -> list[str]:
    return facts.strings.get(anchor, [])


def _first(pattern: re.Pattern, texts: list[str]) -> Optional[str]:
    for text in texts:
        match = pattern.search(text)
        if match:
            return match.group(1)
    return None


def _hpy(facts: BinaryFacts):
    hits = sorted(s for s in facts.exported if s.startswith(("HPyInit_", "get_required_hpy_major_version_")))
    if hits:
        return None, [f"exports {hits[0]}"]
    return None, []


def _pyo3(facts: BinaryFacts):
    paths = _strings(facts, "pyo3-")
    version = _first(_PYO3, paths)
    ffi = _first(_PYO3_FFI, paths)
    evidence = []
    if version:
        evidence.append(f"Rust source path of the pyo3-{version} crate")
    elif ffi:
        evidence.append(f"Rust source path of pyo3-ffi-{ffi} only (raw FFI bindings, not the pyo3 crate)")
        version = ffi
    if _strings(facts, "pyo3_runtime"):
        evidence.append("string 'pyo3_runtime' (PyO3's PanicException)")
    return version, evidence


def _nanobind(facts: BinaryFacts):
    evidence = []
    if _strings(facts, "__nb_internals"):
        evidence.append("nanobind internals key '__nb_internals_...'")
    if any("nanobind" in s for s in _strings(facts, "nanobind")):
        evidence.append("nanobind strings")
    return None, evidence


def _pybind11(facts: BinaryFacts):
    texts = _strings(facts, "__pybind11_internals_v")
    internals = _first(_PYBIND11_INTERNALS, texts)
    if internals is None:
        return None, []
    number = int(internals)
    version = "<3" if number < 11 else ">=3.0,<3.1" if number == 11 else ">=3.1"
    return version, [f"internals key '__pybind11_internals_v{internals}...' (pybind11 {version})"]


def _cython(facts: BinaryFacts):
    texts = [t for a in ("_cython_0_", "_cython_3_", "_cython_4_") for t in _strings(facts, a)]
    abi = _first(_CYTHON_ABI, texts)
    evidence = []
    version = None
    if abi:
        version = abi.replace("_", ".")
        evidence.append(f"Cython shared ABI module name '_cython_{abi}'")
    if _strings(facts, "__pyx_"):
        evidence.append("'__pyx_' names in read-only data")
    return version, evidence


def _mypyc(facts: BinaryFacts):
    evidence = []
    if any(s.startswith("CPyInit_") for s in facts.exported):
        evidence.append("exports CPyInit_* (mypyc shared library)")
    if any("__mypyc" in s for s in _strings(facts, "__mypyc")):
        evidence.append("'__mypyc' names in read-only data")
    return None, evidence


def _swig(facts: BinaryFacts):
    texts = _strings(facts, "swig_runtime_data")
    runtime = _first(_SWIG_RUNTIME, texts)
    evidence = [f"SWIG runtime data v{runtime}"] if runtime else []
    return None, evidence


def _cffi(facts: BinaryFacts):
    evidence = []
    if _strings(facts, "_init_cffi_1_0_external_module"):
        evidence.append("calls _cffi_backend._init_cffi_1_0_external_module")
    elif _strings(facts, "_cffi_backend") and not any(s.startswith("PyInit__cffi_backend") for s in facts.exported):
        evidence.append("imports _cffi_backend")
    return None, evidence


#: Detectors, most specific first: the first one with evidence wins.
_DETECTORS = (
    ("hpy", _hpy),
    ("pyo3", _pyo3),
    ("nanobind", _nanobind),
    ("pybind11", _pybind11),
    ("mypyc", _mypyc),
    ("cython", _cython),
    ("swig", _swig),
    ("cffi", _cffi),
)


_CXX_RUNTIME = frozenset({"__gxx_personality_v0", "__cxa_throw", "__cxa_begin_catch"})


def _language(facts: BinaryFacts) -> Optional[str]:
    if any(line.startswith("rustc version") for line in facts.comment):
        return "rust"
    if any(s.startswith("_Z") or s in _CXX_RUNTIME for s in facts.imported):
        return "c++"
    return None


def interpreter_guards(facts: BinaryFacts) -> list[str]:
    """Messages in the binary of checks that refuse a second interpreter (one per process)."""
    return [text for anchor in INTERPRETER_GUARDS for text in _strings(facts, anchor)][:4]


def detect_framework(facts: BinaryFacts) -> Detection:
    """Name the framework that built ``facts``; ``c-api`` when none matches."""
    found = []
    for name, detector in _DETECTORS:
        version, evidence = detector(facts)
        if evidence:
            found.append((name, version, evidence))
    language = _language(facts)
    if not found:
        name = "c-api" if facts.ok else "unknown"
        evidence = [f"written in {language}"] if language else []
        return Detection(Framework(name), evidence, [], language)
    name, version, evidence = found[0]
    return Detection(Framework(name, version), evidence, [f[0] for f in found[1:]], language)
