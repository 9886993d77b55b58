"""Shared test helpers: target interpreters, compiled fixture extensions, wheels, venvs.

The fixture corpus is a set of tiny distributions (``ia-fixture-*``, import names
``ia_*``) whose sub-interpreter behaviour is known in advance.  Their C sources
live in ``tests/fixtures/ext``; :data:`CORPUS` says how they are packaged and
:data:`EXPECTED` says what a scan must find for each of them.

Everything is built locally with gcc and the target interpreter's ``sysconfig``:
no setuptools, no network.
"""

from __future__ import annotations

import base64
import functools
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXT_SOURCES = FIXTURES / "ext"
ENV_PYTHONS = "INTERP_AUDIT_TEST_PYTHONS"

CFLAGS = ["-shared", "-fPIC", "-O1", "-g0"]


# --------------------------------------------------------------------------- targets


@functools.lru_cache(maxsize=None)
def python_info(python: str) -> dict:
    """Version, sysconfig paths and wheel tag of a target interpreter (cached)."""
    code = (
        "import json, sys, sysconfig\n"
        "print(json.dumps({'version': list(sys.version_info[:2]), 'hexversion': sys.hexversion,\n"
        "  'implementation': sys.implementation.name, 'abiflags': getattr(sys, 'abiflags', ''),\n"
        "  'include': sysconfig.get_config_var('INCLUDEPY'), 'ext_suffix': sysconfig.get_config_var('EXT_SUFFIX'),\n"
        "  'platform': sysconfig.get_platform(), 'executable': sys.executable}))\n"
    )
    out = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, timeout=60, check=True)
    info = json.loads(out.stdout)
    major, minor = info["version"]
    info["tag"] = "cp%d%d-cp%d%d%s-%s" % (
        major, minor, major, minor, info["abiflags"], info["platform"].replace("-", "_").replace(".", "_"),
    )
    info["label"] = "py%d.%d" % (major, minor)
    return info


def _candidates() -> list[str]:
    found = sorted(glob.glob("/root/.pyenv/versions/*/bin/python3.[0-9]*"))
    found += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/*/bin/python3.[0-9]*")))
    for minor in range(12, 20):
        path = shutil.which("python3.%d" % minor)
        if path:
            found.append(path)
    return [p for p in found if re.fullmatch(r"python3\.\d+", os.path.basename(p))]


@functools.lru_cache(maxsize=None)
def target_pythons() -> list[str]:
    """CPython >= 3.12 executables found here, the newest patch release of each minor
    version, oldest first.

    ``INTERP_AUDIT_TEST_PYTHONS`` (an ``os.pathsep`` list) replaces the search and keeps every one.
    """
    override = os.environ.get(ENV_PYTHONS)
    candidates = [p for p in override.split(os.pathsep) if p] if override is not None else _candidates()
    seen, result = set(), []
    for path in candidates:
        real = os.path.realpath(path)
        if real in seen or not os.access(real, os.X_OK):
            continue
        seen.add(real)
        try:
            info = python_info(path)
        except (OSError, subprocess.SubprocessError, ValueError):
            continue
        if info["implementation"] == "cpython" and tuple(info["version"]) >= (3, 12):
            result.append((tuple(info["version"]), info["hexversion"], path))
    if override is None:  # found by search: the newest patch release of each minor version
        newest = {version: max(r for r in result if r[0] == version) for version, _, _ in result}
        result = list(newest.values())
    return [path for _, _, path in sorted(result)]


# --------------------------------------------------------------------------- compiling


def _cache_root() -> Path:
    root = Path(tempfile.gettempdir()) / ("interp-audit-fixtures-%d" % os.getuid())
    root.mkdir(parents=True, exist_ok=True)
    return root


def _compile(command: list[str], target: Path) -> None:
    """Run gcc into a temporary name, then move it into place (safe for parallel runs)."""
    partial = target.with_name(target.name + ".%d.tmp" % os.getpid())
    result = subprocess.run(command + ["-o", str(partial)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("gcc failed:\n%s\n%s" % (" ".join(command), result.stderr))
    os.replace(partial, target)


def build_extension(python: str, source_path, module_name: str, out_dir) -> Path:
    """Compile one C file into ``out_dir/<leaf of module_name><EXT_SUFFIX>`` for ``python``.

    Results are cached by (interpreter, source hash), so repeated calls only copy.
    """
    info = python_info(python)
    source = Path(source_path)
    leaf = module_name.rpartition(".")[2]
    key = hashlib.sha256(
        b"\0".join([source.read_bytes(), info["include"].encode(), str(info["hexversion"]).encode(),
                    module_name.encode(), " ".join(CFLAGS).encode()])
    ).hexdigest()[:20]
    cached = _cache_root() / "ext" / key / (leaf + info["ext_suffix"])
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        _compile(["gcc", *CFLAGS, "-I", info["include"], str(source)], cached)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / cached.name
    shutil.copyfile(cached, target)
    return target


def build_native_library(source_path, out_dir, name: str) -> Path:
    """Compile a plain shared library (no Python headers, no ``PyInit_*``)."""
    source = Path(source_path)
    key = hashlib.sha256(source.read_bytes() + name.encode()).hexdigest()[:20]
    cached = _cache_root() / "lib" / key / name
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        _compile(["gcc", *CFLAGS, str(source)], cached)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, out / name)
    return out / name


# --------------------------------------------------------------------------- wheels


@dataclass
class DistSpec:
    """A fixture distribution to turn into a wheel.

    ``python_files`` maps a path inside the wheel to its text; ``extensions``
    maps a dotted module name to the C source compiled for it; ``libraries``
    maps a path inside the wheel to the C source of a plain shared library.
    """

    name: str
    version: str
    python_files: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    requires: list[str] = field(default_factory=list)
    libraries: dict[str, str] = field(default_factory=dict)

    @property
    def normalized(self) -> str:
        return self.name.replace("-", "_").replace(".", "_")

    def top_level(self) -> list[str]:
        names = {path.split("/")[0].removesuffix(".py") for path in self.python_files}
        names |= {dotted.split(".")[0] for dotted in self.extensions}
        names |= {path.split("/")[0] for path in self.libraries}
        return sorted(names)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "sha256=" + digest


def build_wheel(python: str, spec: DistSpec, out_dir) -> Path:
    """Write a real wheel for ``spec`` (extensions compiled for ``python``) into ``out_dir``."""
    info = python_info(python)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    binary = bool(spec.extensions or spec.libraries)
    tag = info["tag"] if binary else "py3-none-any"
    files: dict[str, bytes] = {path: text.encode() for path, text in spec.python_files.items()}
    with tempfile.TemporaryDirectory() as scratch:
        for dotted, source in spec.extensions.items():
            package = dotted.rpartition(".")[0]
            built = build_extension(python, source, dotted, scratch)
            files["/".join(filter(None, [package.replace(".", "/"), built.name]))] = built.read_bytes()
        for path, source in spec.libraries.items():
            built = build_native_library(source, scratch, Path(path).name)
            files[path] = built.read_bytes()
    info_dir = "%s-%s.dist-info" % (spec.normalized, spec.version)
    metadata = ["Metadata-Version: 2.1", "Name: " + spec.name, "Version: " + spec.version]
    metadata += ["Summary: " + (spec.summary or spec.name)] + ["Requires-Dist: " + r for r in spec.requires]
    files[info_dir + "/METADATA"] = ("\n".join(metadata) + "\n").encode()
    files[info_dir + "/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: interp-audit-tests\nRoot-Is-Purelib: %s\nTag: %s\n"
        % ("false" if binary else "true", tag)
    ).encode()
    files[info_dir + "/top_level.txt"] = ("\n".join(spec.top_level()) + "\n").encode()
    record = ["%s,%s,%d" % (path, _record_hash(data), len(data)) for path, data in files.items()]
    record.append(info_dir + "/RECORD,,")
    files[info_dir + "/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = out / ("%s-%s-%s.whl" % (spec.normalized, spec.version, tag))
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


# --------------------------------------------------------------------------- real wheels from PyPI

#: Platform tags asked of pip per platform name (newest first; pip takes any of them).
PLATFORMS = {
    "linux-x86_64": ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"],
    "linux-aarch64": ["manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"],
    "macos-arm64": ["macosx_11_0_arm64"],
    "macos-x86_64": ["macosx_10_13_x86_64", "macosx_10_9_x86_64"],
    "windows-amd64": ["win_amd64"],
}


def pypi_wheel(requirement: str, platform: str, python_version: str = "3.13") -> Path:
    """Download (once, then cached) the wheel of a pinned ``requirement`` for a platform name of
    :data:`PLATFORMS` and CPython ``python_version``."""
    target = _cache_root() / "pypi" / python_version / platform
    name = re.split(r"[=<>!~ ]", requirement, 1)[0].lower().replace("-", "_")
    version = requirement.partition("==")[2]

    def found():
        return [w for w in target.glob("*.whl") if w.name.lower().startswith("%s-%s-" % (name, version))]

    if not found():
        command = [sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:", "--no-deps",
                   "--python-version", python_version, "-d", str(target), requirement]
        for tag in PLATFORMS[platform]:
            command += ["--platform", tag]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if result.returncode != 0 or not found():
            raise RuntimeError("pip download %s (%s) failed:\n%s" % (requirement, platform, result.stderr))
    return found()[0]


# --------------------------------------------------------------------------- venvs


def make_venv(python: str, path) -> Path:
    """Create a venv (without pip) for ``python`` at ``path``; return its python."""
    path = Path(path)
    subprocess.run([python, "-m", "venv", "--without-pip", str(path)], check=True, capture_output=True)
    return path / "bin" / "python"


def _uv() -> Optional[str]:
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.exists() else shutil.which("uv")


def install_wheels(venv_python, wheels) -> None:
    """Install local wheel files into the venv of ``venv_python``, offline, without dependencies."""
    wheels = [str(w) for w in wheels]
    uv = _uv()
    if uv:
        command = [uv, "pip", "install", "--python", str(venv_python), "--offline", "--no-index", "--no-deps"]
    else:
        base = _venv_base_python(Path(venv_python))
        command = [base, "-m", "pip", "--python", str(venv_python), "install", "--no-index", "--no-deps"]
    result = subprocess.run(command + wheels, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("installing %s failed:\n%s%s" % (wheels, result.stdout, result.stderr))


def _venv_base_python(venv_python: Path) -> str:
    out = subprocess.run([str(venv_python), "-c", "import sys; print(sys._base_executable)"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def site_packages(venv_python) -> Path:
    """The purelib directory of the environment of ``venv_python``."""
    out = subprocess.run([str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


# --------------------------------------------------------------------------- the corpus


def _ext(name: str) -> str:
    return str(EXT_SOURCES / (name + ".c"))


def _c_dist(import_name: str, summary: str, source: Optional[str] = None) -> DistSpec:
    dist = "ia-fixture-" + import_name.removeprefix("ia_").replace("_", "-")
    return DistSpec(dist, "1.0", extensions={import_name: _ext(source or import_name)}, summary=summary)


DEGRADED_INIT = '''\
"""Pure Python with an optional C accelerator (single-phase, so missing in sub-interpreters)."""
try:
    from ia_degraded._speedups import fast
    ACCELERATED = True
except ImportError:
    def fast(n):
        return n * 2
    ACCELERATED = False
'''

CTYPES_USER_INIT = '''\
"""Uses a plain shared library (no PyInit_*) through ctypes, loaded on first use."""
import os

_LIBRARY = os.path.join(os.path.dirname(__file__), "libia_native.so")


def add(a, b):
    import ctypes

    return ctypes.CDLL(_LIBRARY).ia_native_add(a, b)
'''

#: The fixture distributions, in build order.
CORPUS: list[DistSpec] = [
    _c_dist("ia_single", "Single-phase init."),
    _c_dist("ia_multi_noslot", "Multi-phase init without Py_mod_multiple_interpreters."),
    _c_dist("ia_multi_notsupported", "Multi-phase init declaring NOT_SUPPORTED."),
    _c_dist("ia_multi_supported", "Multi-phase init declaring SUPPORTED."),
    _c_dist("ia_clean", "Multi-phase, module state, heap type, per-interpreter GIL."),
    _c_dist("ia_segv", "Segfaults in sub-interpreters."),
    _c_dist("ia_hang", "Hangs in sub-interpreters."),
    _c_dist("ia_oneper", "Refuses a second interpreter in the process."),
    DistSpec(
        "ia-fixture-blocked", "1.0", python_files={"ia_blocked/__init__.py": "import ia_single\n"},
        summary="Pure Python that imports a single-phase extension.", requires=["ia-fixture-single"],
    ),
    DistSpec(
        "ia-fixture-degraded", "1.0", python_files={"ia_degraded/__init__.py": DEGRADED_INIT},
        extensions={"ia_degraded._speedups": _ext("ia_degraded__speedups")},
        summary="Pure Python with an optional single-phase accelerator.",
    ),
    _c_dist("ia_static_globals", "Per-interpreter GIL declared, state in static C globals."),
    _c_dist("ia_static_type", "Per-interpreter GIL declared, static PyTypeObject."),
    _c_dist("ia_state_find", "Single-phase init using PyState_AddModule/PyState_FindModule."),
    _c_dist("ia_gilstate", "Per-interpreter GIL declared, calls PyGILState_Ensure."),
    _c_dist("ia_race", "Aborts when two own-GIL interpreters call work() at once."),
    _c_dist("ia_leaktype", "Per-interpreter GIL declared, one static type shared by all interpreters."),
    _c_dist("ia_cglobal", "Per-interpreter GIL declared, values kept in a C global."),
    _c_dist("ia_reimport", "Refuses to import again once an importing interpreter is destroyed."),
    DistSpec(
        "ia-fixture-ctypes-user", "1.0", python_files={"ia_ctypes_user/__init__.py": CTYPES_USER_INIT},
        libraries={"ia_ctypes_user/libia_native.so": _ext("libia_native")},
        summary="Pure Python using a plain shared library through ctypes.",
    ),
    DistSpec(
        "ia-fixture-lazy", "1.0",
        python_files={"ia_lazy/__init__.py": '"""Loads nothing: the extension sits behind ia_lazy.engine."""\n',
                      "ia_lazy/engine.py": "from ia_lazy import _core\n",
                      "ia_lazy/api.py": "from ia_lazy.engine import _core as core\n",
                      "ia_lazy/util.py": "def helper():\n    return 1\n"},
        extensions={"ia_lazy._core": _ext("ia_lazy__core")},
        summary="Top-level import loads nothing; a public submodule loads a one-per-process extension.",
    ),
    DistSpec(
        "ia-fixture-extra-name", "1.0",
        python_files={"ia_extra/__init__.py": "def answer():\n    return 42\n",
                      "ia_extra_plugin.py": "import ia_fixture_not_installed  # an optional dependency\n"},
        summary="A second top-level name that needs an optional dependency which is not installed.",
    ),
    DistSpec(
        "ia-fixture-stdlib-user", "1.0",
        python_files={"ia_stdlib_user/__init__.py": "import datetime, hashlib\nfrom ia_stdlib_user._ext import twice\n"},
        extensions={"ia_stdlib_user._ext": _ext("ia_stdlib_user__ext")},
        summary="A clean extension in a package that imports datetime and hashlib.",
    ),
    DistSpec(
        "ia-fixture-pure", "1.0",
        python_files={"ia_pure/__init__.py": '"""Pure Python."""\n\n\ndef double(n):\n    return n * 2\n'},
        summary="Pure Python.",
    ),
]


def corpus_spec(dist: str) -> DistSpec:
    """The :class:`DistSpec` of one fixture distribution, by name."""
    return next(spec for spec in CORPUS if spec.name == dist)


def extension_sources() -> dict[str, Path]:
    """Dotted extension-module name -> its C source, over the whole corpus."""
    return {module: Path(source) for spec in CORPUS for module, source in spec.extensions.items()}


def _facts(tier, modes, init=None, declared=None, **more) -> dict:
    """One EXPECTED entry; ``modes`` is the ModeResult.ok of isolated, shared-gil, legacy, main."""
    facts = {
        "tier": tier,
        "flags": [],
        "modes": dict(zip(("isolated", "shared-gil", "legacy", "main"), modes)),
        "init": init or {},
        "multiple_interpreters": declared or {},
        "culprit": None,
        "blocked_by": [],
        "degraded_modules": [],
        "one_per_process": [],
        "crash": None,
        "static": {},
        "behaviour": [],
        "native_libraries": {},
    }
    facts.update(more)
    return facts


LEGACY_ONLY = (False, False, True, True)
SHARED_GIL = (False, True, True, True)
OWN_GIL = (True, True, True, True)
MAIN_ONLY = (False, False, False, True)

#: What a scan must find for each fixture distribution.  Keys of one entry:
#:
#: * ``tier``, ``flags`` -- DistributionResult.tier / .flags;
#: * ``modes`` -- mode -> ModeResult.ok (both scenarios); ``alone`` -- mode ->
#:   ok of the ``alone`` scenario where it differs from ``modes``; ``refusal`` --
#:   the ImportError text of a refused later import;
#: * ``init`` -- extension module -> ExtensionInfo.init; ``multiple_interpreters``
#:   -- module -> declared slot value (None when absent);
#:   ``multiple_interpreters_effective`` and ``gil`` are filled in per Python
#:   version by :func:`expected_for`;
#: * ``culprit``, ``crash`` (None, "SIGSEGV" or "timeout"), ``blocked_by`` (list of
#:   {module, distribution}), ``degraded_modules`` (+ ``degraded_in``: the modes
#:   where the extension is missing), ``one_per_process`` (modules);
#: * ``static`` -- evidence kind -> C symbols a source/binary scan must report:
#:   ``static-pyobject`` (static PyObject* globals), ``mutable-global`` (other
#:   writable static data), ``static-type`` (static PyTypeObject), ``pystate``
#:   (PyState_* calls), ``gilstate`` (PyGILState_* calls); empty means no static
#:   rule may fire;
#: * ``behaviour`` -- what goes wrong when the module is *used* across
#:   interpreters: ``concurrent-crash``, ``shared-type``, ``shared-c-state``,
#:   ``stale-after-destroy``;
#: * ``native_libraries`` -- shared-library path in site-packages -> init kind;
#: * ``module_tiers`` -- import name or climbed public submodule -> its own tier;
#: * ``cpython_crashes`` -- its raw probes may crash in CPython's own code (3.12.1 hashlib,
#:   3.13 _datetime): only the scan's controls give its tier.
EXPECTED: dict[str, dict] = {
    "ia-fixture-single": _facts(
        "legacy-only", LEGACY_ONLY, {"ia_single": "single-phase"}, {"ia_single": None},
    ),
    "ia-fixture-multi-noslot": _facts(
        "shared-gil", SHARED_GIL, {"ia_multi_noslot": "multi-phase"}, {"ia_multi_noslot": None},
        multiple_interpreters_effective={"ia_multi_noslot": "supported"},
    ),
    "ia-fixture-multi-notsupported": _facts(
        "legacy-only", LEGACY_ONLY, {"ia_multi_notsupported": "multi-phase"},
        {"ia_multi_notsupported": "not-supported"},
    ),
    "ia-fixture-multi-supported": _facts(
        "shared-gil", SHARED_GIL, {"ia_multi_supported": "multi-phase"}, {"ia_multi_supported": "supported"},
    ),
    "ia-fixture-clean": _facts(
        "own-gil", OWN_GIL, {"ia_clean": "multi-phase"}, {"ia_clean": "per-interpreter-gil"},
        gil={"ia_clean": "not-used"},
    ),
    "ia-fixture-segv": _facts(
        "main-only", MAIN_ONLY, {"ia_segv": "multi-phase"}, {"ia_segv": "per-interpreter-gil"},
        flags=["crashed"], culprit="ia_segv", crash="SIGSEGV",
    ),
    "ia-fixture-hang": _facts(
        "main-only", MAIN_ONLY, {"ia_hang": "multi-phase"}, {"ia_hang": "per-interpreter-gil"},
        flags=["crashed"], culprit="ia_hang", crash="timeout",
    ),
    "ia-fixture-oneper": _facts(
        "main-only", MAIN_ONLY, {"ia_oneper": "multi-phase"}, {"ia_oneper": "per-interpreter-gil"},
        flags=["one-per-process"], one_per_process=["ia_oneper"], static={"mutable-global": ["first_interpreter"]},
        alone={"isolated": True, "shared-gil": True, "legacy": True},
        refusal="ia_oneper: cannot load module more than once per process",
    ),
    "ia-fixture-blocked": _facts(
        "legacy-only", LEGACY_ONLY, flags=["blocked-by"],
        blocked_by=[{"module": "ia_single", "distribution": "ia-fixture-single"}],
    ),
    "ia-fixture-degraded": _facts(
        "own-gil", OWN_GIL, {"ia_degraded._speedups": "single-phase"}, {"ia_degraded._speedups": None},
        flags=["degraded"], degraded_modules=["ia_degraded._speedups"], degraded_in=["isolated", "shared-gil"],
    ),
    "ia-fixture-lazy": _facts(
        "main-only", MAIN_ONLY, {"ia_lazy._core": "multi-phase"}, {"ia_lazy._core": "per-interpreter-gil"},
        flags=["one-per-process"], one_per_process=["ia_lazy._core"], static={"mutable-global": ["first_interpreter"]},
        alone={"isolated": True, "shared-gil": True, "legacy": True}, culprit="ia_lazy._core",
        module_tiers={"ia_lazy": "own-gil", "ia_lazy.api": "main-only", "ia_lazy.engine": "main-only"},
    ),
    "ia-fixture-extra-name": _facts(
        "own-gil", OWN_GIL, module_tiers={"ia_extra": "own-gil", "ia_extra_plugin": "broken"},
    ),
    "ia-fixture-stdlib-user": _facts(
        "own-gil", OWN_GIL, {"ia_stdlib_user._ext": "multi-phase"}, {"ia_stdlib_user._ext": "per-interpreter-gil"},
        gil={"ia_stdlib_user._ext": "not-used"}, cpython_crashes=True,
    ),
    "ia-fixture-pure": _facts("own-gil", OWN_GIL),
    # Static evidence (the runtime ladder cannot see these problems at import time).
    "ia-fixture-static-globals": _facts(
        "own-gil", OWN_GIL, {"ia_static_globals": "multi-phase"}, {"ia_static_globals": "per-interpreter-gil"},
        static={"static-pyobject": ["cache"], "mutable-global": ["counter"]},
    ),
    "ia-fixture-static-type": _facts(
        "own-gil", OWN_GIL, {"ia_static_type": "multi-phase"}, {"ia_static_type": "per-interpreter-gil"},
        static={"static-type": ["ThingType"]},
    ),
    "ia-fixture-state-find": _facts(
        "legacy-only", LEGACY_ONLY, {"ia_state_find": "single-phase"}, {"ia_state_find": None},
        static={"pystate": ["PyState_AddModule", "PyState_FindModule"]},
    ),
    "ia-fixture-gilstate": _facts(
        "own-gil", OWN_GIL, {"ia_gilstate": "multi-phase"}, {"ia_gilstate": "per-interpreter-gil"},
        static={"gilstate": ["PyGILState_Ensure", "PyGILState_Release"]},
    ),
    # Behaviour (import works; using the module across interpreters goes wrong).
    "ia-fixture-race": _facts(
        "own-gil", OWN_GIL, {"ia_race": "multi-phase"}, {"ia_race": "per-interpreter-gil"},
        static={"mutable-global": ["busy"]}, behaviour=["concurrent-crash"],
    ),
    "ia-fixture-leaktype": _facts(
        "own-gil", OWN_GIL, {"ia_leaktype": "multi-phase"}, {"ia_leaktype": "per-interpreter-gil"},
        static={"static-type": ["ThingType"]}, behaviour=["shared-type"],
    ),
    "ia-fixture-cglobal": _facts(
        "own-gil", OWN_GIL, {"ia_cglobal": "multi-phase"}, {"ia_cglobal": "per-interpreter-gil"},
        static={"mutable-global": ["value"]}, behaviour=["shared-c-state"],
    ),
    "ia-fixture-reimport": _facts(
        "main-only", MAIN_ONLY, {"ia_reimport": "multi-phase"}, {"ia_reimport": "per-interpreter-gil"},
        flags=["one-per-process"], one_per_process=["ia_reimport"],
        static={"mutable-global": ["buffer", "buffer_freed"]}, behaviour=["stale-after-destroy"],
        alone={"isolated": True, "shared-gil": True, "legacy": True},
        refusal="ia_reimport: stale state",
    ),
    "ia-fixture-ctypes-user": _facts(
        "own-gil", OWN_GIL, native_libraries={"ia_ctypes_user/libia_native.so": "not-an-extension"},
    ),
}


def expected_for(version) -> dict[str, dict]:
    """:data:`EXPECTED` adjusted for a target of ``version`` ((major, minor)).

    ``gil`` (the Py_mod_gil slot) only exists from 3.13; before that it is None
    for every module.
    """
    result = {}
    for dist, facts in EXPECTED.items():
        facts = json.loads(json.dumps(facts))
        declared = facts.get("gil", {})
        facts["gil"] = {m: (declared.get(m) if tuple(version) >= (3, 13) else None) for m in facts["init"]}
        effective = dict(facts["multiple_interpreters"])
        effective.update(facts.get("multiple_interpreters_effective", {}))
        for module, kind in facts["init"].items():
            if kind == "multi-phase" and effective.get(module) is None:
                effective[module] = "supported"
        facts["multiple_interpreters_effective"] = effective
        result[dist] = facts
    return result


@dataclass
class CorpusEnv:
    """A venv with the whole fixture corpus installed."""

    python: Path  # the venv's python
    base_python: str  # the target interpreter it was made from
    site_packages: Path
    wheels: dict[str, Path]  # distribution name -> wheel file
    expected: dict[str, dict]
    version: tuple = ()


def build_corpus(python: str, root, specs: Optional[list[DistSpec]] = None) -> CorpusEnv:
    """Build every wheel of the corpus for ``python`` under ``root`` and install them into a venv."""
    root = Path(root)
    specs = CORPUS if specs is None else specs
    wheels = {spec.name: build_wheel(python, spec, root / "wheels") for spec in specs}
    venv_python = make_venv(python, root / "venv")
    install_wheels(venv_python, wheels.values())
    version = tuple(python_info(python)["version"])
    expected = {name: facts for name, facts in expected_for(version).items() if name in wheels}
    return CorpusEnv(venv_python, python, site_packages(venv_python), wheels, expected, version)


__all__ = [
    "CORPUS", "EXPECTED", "PLATFORMS", "CorpusEnv", "DistSpec", "build_corpus", "pypi_wheel", "build_extension", "build_native_library",
    "build_wheel", "corpus_spec", "expected_for", "extension_sources", "install_wheels", "make_venv",
    "python_info", "site_packages", "target_pythons",
]
