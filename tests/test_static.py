"""Static evidence about extension modules: ELF reading, init kinds, frameworks, bad files.

Everything runs on real compiled extensions: the fixture corpus, small C files
compiled here (init functions that crash, hang or raise), corrupted copies made
by the tests, and real wheels from PyPI (Cython, pybind11, PyO3, plus cffi,
SWIG, nanobind and mypyc ones) installed into a throwaway venv.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import fixturelib
import pytest
from interp_audit.model import ExtensionInfo, from_dict, to_dict
from interp_audit.static.evidence import init_function_name
from interp_audit.static.frameworks import ANCHORS, detect_framework
from interp_audit.rules import registry
from interp_audit.static.inspection import inspect_extensions
from interp_audit.static.interface import BinaryFacts
from interp_audit.static.readers import read_binary

# --------------------------------------------------------------------------- helpers


def _ext_suffix(python) -> str:
    return fixturelib.python_info(str(python))["ext_suffix"]


def _corpus_extensions(env) -> list[tuple[str, str]]:
    suffix = _ext_suffix(env.base_python)
    found = []
    for module in sorted(fixturelib.extension_sources()):
        path = env.site_packages / (module.replace(".", "/") + suffix)
        if path.exists():
            found.append((module, str(path)))
    return found


def _build(python: str, tmp_path: Path, module: str, source: str) -> Path:
    """Compile ``source`` (C text) as extension ``module`` for ``python``."""
    leaf = module.rpartition(".")[2]
    c_file = tmp_path / (leaf + ".c")
    c_file.write_text(source, encoding="utf-8")
    return fixturelib.build_extension(python, c_file, module, tmp_path / "out")


MULTI_PHASE = """
#include <Python.h>
static PyModuleDef_Slot slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED}, {0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "%(name)s", NULL, 0, NULL, slots};
PyMODINIT_FUNC %(init)s(void) { return PyModuleDef_Init(&def); }
"""

INIT_SEGV = """
#include <Python.h>
#include <signal.h>
PyMODINIT_FUNC PyInit_ia_t_segv(void) { raise(SIGSEGV); return NULL; }
"""

INIT_HANG = """
#include <Python.h>
#include <unistd.h>
PyMODINIT_FUNC PyInit_ia_t_hang(void) { for (;;) sleep(1); return NULL; }
"""

INIT_RAISES = """
#include <Python.h>
PyMODINIT_FUNC PyInit_ia_t_raises(void) {
    PyErr_SetString(PyExc_ImportError, "ia_t_raises refuses to load");
    return NULL;
}
"""

INIT_NULL = """
#include <Python.h>
PyMODINIT_FUNC PyInit_ia_t_null(void) { return NULL; }
"""


# --------------------------------------------------------------------------- the fixture corpus


def test_corpus_init_kinds_from_the_init_functions(corpus_env):
    """Every corpus extension: init kind, declared slots and defaults, read by calling PyInit."""
    extensions = _corpus_extensions(corpus_env)
    assert extensions, "no corpus extension found"
    infos = {i.module: i for i in inspect_extensions(str(corpus_env.python), extensions, run_init=True, timeout=60)}
    checked = 0
    for dist, facts in corpus_env.expected.items():
        for module, kind in facts["init"].items():
            info = infos[module]
            assert info.init == kind, (dist, module, info.reason)
            assert info.method["init"] == "initfunc", (module, info.method)
            assert info.multiple_interpreters == facts["multiple_interpreters"][module], module
            assert info.multiple_interpreters_effective == facts["multiple_interpreters_effective"].get(module), module
            assert info.gil == facts["gil"][module], module
            assert info.framework.name == "c-api"
            if kind == "multi-phase":
                assert info.m_size is not None and info.m_size >= 0
                assert info.evidence["gil_effective"] in ("used", "not-used")
            if info.multiple_interpreters is not None:
                assert "Py_mod_multiple_interpreters" in info.slots
                assert info.method["multiple_interpreters"] == "initfunc"
            elif kind == "multi-phase":
                assert info.method["multiple_interpreters_effective"] == "default"
            checked += 1
    assert checked >= 10


def test_corpus_static_only_runs_no_init_and_reads_symbols(corpus_env):
    """--static-only: init kinds from imports, slots left unknown with a reason."""
    extensions = _corpus_extensions(corpus_env)
    infos = {i.module: i for i in inspect_extensions(str(corpus_env.python), extensions, run_init=False)}
    for facts in corpus_env.expected.values():
        for module, kind in facts["init"].items():
            info = infos[module]
            assert info.init == kind, module
            assert info.method["init"] == "symbols"
            assert "initfunc" not in info.evidence
            assert info.multiple_interpreters is None and info.slots == []
            if kind == "multi-phase":
                assert "--static-only" in info.reason
                assert info.evidence["imports_module_def_init"] and not info.evidence["imports_single_phase"]
            else:
                assert info.evidence["imports_single_phase"]


def test_corpus_static_evidence_names_globals_types_and_apis(corpus_env):
    """The symbols each fixture is known to carry show up in the evidence."""
    extensions = _corpus_extensions(corpus_env)
    infos = {i.module: i for i in inspect_extensions(str(corpus_env.python), extensions, run_init=False)}
    seen_kinds = set()
    for dist, facts in corpus_env.expected.items():
        for module in facts["init"]:
            evidence = infos[module].evidence
            globals_ = {g["name"] for g in evidence["writable_globals"]}
            static = facts["static"]
            for kind, names in static.items():
                seen_kinds.add(kind)
                if kind in ("static-pyobject", "mutable-global"):
                    assert set(names) <= globals_, (module, names, globals_)
                elif kind == "static-type":
                    assert evidence["static_types"] is True, module
                    assert set(names) <= globals_, module
                elif kind == "pystate":
                    assert set(names) <= set(evidence["module_lookup"]), module
                elif kind == "gilstate":
                    assert set(names) <= set(evidence["gilstate"]), module
            if "pystate" not in static:
                assert evidence["module_lookup"] == [], module
            if "gilstate" not in static:
                assert evidence["gilstate"] == [], module
            if "static-type" not in static:
                assert evidence["static_types"] is False, module
            assert evidence["writable_data_bytes"] > 0
            assert evidence["stripped"] is False
    assert seen_kinds >= {"static-pyobject", "mutable-global", "static-type", "pystate", "gilstate"}


def test_native_library_without_pyinit_is_not_an_extension(corpus_env):
    lib = corpus_env.site_packages / "ia_ctypes_user" / "libia_native.so"
    (info,) = inspect_extensions(str(corpus_env.python), [("ia_ctypes_user.libia_native", str(lib))])
    assert info.init == "not-an-extension"
    assert info.method["init"] == "symbols"
    assert info.evidence["init_symbols"] == []
    assert "PyInit_" in info.reason


def test_extension_info_round_trips_through_json(corpus_env):
    extensions = _corpus_extensions(corpus_env)[:3]
    for info in inspect_extensions(str(corpus_env.python), extensions):
        assert from_dict(ExtensionInfo, to_dict(info)) == info


# --------------------------------------------------------------------------- init functions that misbehave


def test_crashing_hanging_and_raising_init_functions(target_python, tmp_path):
    """A crash or hang is recorded on its file and the probe carries on with the next one."""
    built = {
        "ia_t_segv": _build(target_python, tmp_path, "ia_t_segv", INIT_SEGV),
        "ia_t_good1": _build(
            target_python, tmp_path, "ia_t_good1", MULTI_PHASE % {"name": "ia_t_good1", "init": "PyInit_ia_t_good1"}
        ),
        "ia_t_hang": _build(target_python, tmp_path, "ia_t_hang", INIT_HANG),
        "ia_t_raises": _build(target_python, tmp_path, "ia_t_raises", INIT_RAISES),
        "ia_t_null": _build(target_python, tmp_path, "ia_t_null", INIT_NULL),
        "ia_t_good2": _build(
            target_python, tmp_path, "ia_t_good2", MULTI_PHASE % {"name": "ia_t_good2", "init": "PyInit_ia_t_good2"}
        ),
    }
    infos = {
        i.module: i
        for i in inspect_extensions(target_python, [(m, str(p)) for m, p in built.items()], run_init=True, timeout=3)
    }
    segv = infos["ia_t_segv"]
    assert segv.init == "unknown"
    assert segv.reason == "PyInit_ia_t_segv crashed the process (SIGSEGV)"
    assert segv.method["init"] == "initfunc"
    assert segv.evidence["initfunc_crash"]["signal"] == "SIGSEGV"
    hang = infos["ia_t_hang"]
    assert hang.init == "unknown" and "did not return within 3 s" in hang.reason
    assert hang.evidence["initfunc_crash"]["timeout"] is True
    for good in ("ia_t_good1", "ia_t_good2"):
        assert infos[good].init == "multi-phase" and infos[good].method["init"] == "initfunc"
        assert infos[good].multiple_interpreters == "per-interpreter-gil"
    raises = infos["ia_t_raises"]
    assert raises.init == "unknown"
    assert "ImportError" in raises.reason and "refuses to load" in raises.reason
    null = infos["ia_t_null"]
    assert null.init == "unknown" and "returned NULL without setting an exception" in null.reason


def test_non_ascii_module_name_uses_pyinitu(target_python, tmp_path):
    module = "ia_pkg.café"
    symbol = init_function_name(module)
    assert symbol == "PyInitU_caf_dma"
    path = _build(target_python, tmp_path, module, MULTI_PHASE % {"name": "café", "init": symbol})
    (info,) = inspect_extensions(target_python, [(module, str(path))])
    assert info.evidence["init_symbol"] == symbol
    assert info.init == "multi-phase" and info.method["init"] == "initfunc"
    assert info.evidence["initfunc"]["def_name"] == "café"


# --------------------------------------------------------------------------- bad input


@pytest.fixture
def good_extension(target_python, tmp_path) -> Path:
    return _build(target_python, tmp_path, "ia_t_ok", MULTI_PHASE % {"name": "ia_t_ok", "init": "PyInit_ia_t_ok"})


def _bad_files(good: Path, where: Path, suffix: str) -> dict[str, Path]:
    where.mkdir()
    data = good.read_bytes()
    files = {}

    def put(name: str, content: bytes) -> None:
        path = where / (name + suffix)
        path.write_bytes(content)
        files[name] = path

    put("empty", b"")
    put("header_only", data[:40])
    put("truncated_half", data[: len(data) // 2])
    put("elf_garbage", b"\x7fELF" + os.urandom(3000))
    put("text", b"this is not a shared library\n" * 10)
    put("macho", b"\xcf\xfa\xed\xfe" + b"\0" * 200)
    wrong_arch = bytearray(data)
    wrong_arch[18:20] = (183).to_bytes(2, "little")  # e_machine = EM_AARCH64
    put("wrong_arch", bytes(wrong_arch))
    directory = where / ("directory" + suffix)
    directory.mkdir()
    files["directory"] = directory
    files["vanished"] = where / ("vanished" + suffix)
    dangling = where / ("dangling" + suffix)
    dangling.symlink_to(where / "nowhere.so")
    files["dangling"] = dangling
    return files


def test_bad_files_give_unknown_with_a_reason_never_an_exception(target_python, good_extension, tmp_path):
    suffix = _ext_suffix(target_python)
    bad = _bad_files(good_extension, tmp_path / "bad", suffix)
    extensions = [(name, str(path)) for name, path in bad.items()] + [("ia_t_ok", str(good_extension))]
    for run_init in (True, False):
        infos = {i.module: i for i in inspect_extensions(target_python, extensions, run_init=run_init, timeout=10)}
        for name in bad:
            info = infos[name]
            assert info.init == "unknown", (name, info.init)
            assert info.reason, name
        assert infos["ia_t_ok"].init == "multi-phase"
        assert "aarch64" in infos["wrong_arch"].reason and "cannot be loaded" in infos["wrong_arch"].reason
        assert infos["wrong_arch"].evidence["init_symbols"] == ["PyInit_ia_t_ok"]  # still read statically
        for name in bad:
            assert infos[name].evidence["binary_error"], name  # the scan reports these as input problems
        assert "binary_error" not in infos["ia_t_ok"].evidence
        assert "empty" in infos["empty"].reason
        assert "truncated" in infos["truncated_half"].reason or "corrupt" in infos["truncated_half"].reason
        assert "not a shared library" in infos["text"].reason
        assert "Mach-O" in infos["macho"].reason
        assert "No such file" in infos["vanished"].reason and "No such file" in infos["dangling"].reason


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files without read permission")
def test_unreadable_file(target_python, good_extension, tmp_path):
    locked = tmp_path / ("locked" + _ext_suffix(target_python))
    shutil.copyfile(good_extension, locked)
    locked.chmod(0)
    (info,) = inspect_extensions(target_python, [("locked", str(locked))])
    assert info.init == "unknown" and "Permission denied" in info.reason


def test_reader_never_raises_on_bad_files(good_extension, tmp_path):
    for name, path in _bad_files(good_extension, tmp_path / "bad", ".so").items():
        facts = read_binary(str(path), ANCHORS)
        if name == "wrong_arch":
            assert facts.ok and facts.machine == "aarch64"
        else:
            assert not facts.ok and facts.error, name


def test_stripped_binary_still_gives_init_kind(target_python, corpus_env, tmp_path):
    ((module, path),) = [e for e in _corpus_extensions(corpus_env) if e[0] == "ia_static_globals"]
    stripped = tmp_path / Path(path).name
    shutil.copyfile(path, stripped)
    subprocess.run(["strip", "--strip-all", str(stripped)], check=True)
    before = read_binary(path, ANCHORS)
    after = read_binary(str(stripped), ANCHORS)
    assert before.stripped is False and after.stripped is True
    assert "counter" in {o.name for o in before.data_objects}
    assert after.data_objects == []
    assert after.exported == before.exported and after.imported == before.imported
    assert after.writable_data_bytes == before.writable_data_bytes > 0
    for run_init, method in ((False, "symbols"), (True, "initfunc")):
        (info,) = inspect_extensions(str(corpus_env.python), [(module, str(stripped))], run_init=run_init)
        assert info.init == "multi-phase" and info.method["init"] == method
        assert info.evidence["stripped"] is True


# --------------------------------------------------------------------------- framework fingerprints (logic)


@pytest.mark.parametrize(
    "strings, exported, name, version",
    [
        ({"__pybind11_internals_v": ["__pybind11_internals_v4_gcc_libstdcpp_cxxabi1011__"]}, (), "pybind11", "<3"),
        (
            {"__pybind11_internals_v": ["__pybind11_internals_v11_system_libstdcpp_gxx_abi_1xxx_use_cxx11_abi_1__"]},
            (),
            "pybind11",
            ">=3.0,<3.1",
        ),
        ({"_cython_0_": ["_cython_0_29_36"]}, (), "cython", "0.29.36"),
        ({"_cython_3_": ["_cython_3_1_0a1.cython_function_or_method"]}, (), "cython", "3.1.0a1"),
        (
            {"pyo3-": ["/home/u/.cargo/registry/src/index.crates.io-6f17d22bba15001f/pyo3-ffi-0.22.2/src/lib.rs"]},
            (),
            "pyo3",
            "0.22.2",
        ),
        ({"_init_cffi_1_0_external_module": ["_init_cffi_1_0_external_module"]}, (), "cffi", None),
        ({}, ("HPyInit_foo", "PyInit_foo"), "hpy", None),
        ({}, ("PyInit_foo",), "c-api", None),
    ],
)
def test_framework_detection_rules(strings, exported, name, version):
    facts = BinaryFacts(path="x.so", format="elf", exported=frozenset(exported), strings=strings)
    detection = detect_framework(facts)
    assert (detection.framework.name, detection.framework.version) == (name, version)
    assert detection.evidence or name == "c-api"


def test_every_detected_framework_has_a_rule_with_remediation():
    covered = {getattr(rule, "framework", None): rule for rule in registry.all_rules()}
    for name in ("cython", "pybind11", "nanobind", "pyo3", "mypyc", "cffi", "swig", "hpy"):
        assert covered[name].remediation, name


# --------------------------------------------------------------------------- real wheels from PyPI

#: Pinned so that the expected framework versions stay true.
REAL_WHEELS = {
    "pyyaml==6.0.4": ("yaml._yaml", "cython"),
    "contourpy==1.4.0": ("contourpy._contourpy", "pybind11"),
    "rpds-py==2026.9.1": ("rpds.rpds", "pyo3"),
    "argon2-cffi-bindings==26.2.0": ("_argon2_cffi_bindings._ffi", "cffi"),
    "pykcs11==1.5.20": ("PyKCS11._LowLevel", "swig"),
    "apngasm-python==1.3.2": ("apngasm_python._apngasm_python", "nanobind"),
    "charset-normalizer==3.5.3": ("charset_normalizer.md", "cython"),
    "black==26.10.1": ("blib2to3.pgen2.token", "mypyc"),
}
#: Needed at init time by the modules above (cffi modules import _cffi_backend).
REAL_WHEEL_RUNTIME = ["cffi==2.1.1"]


@pytest.fixture(scope="session")
def real_wheels(target_python, tmp_path_factory):
    """A venv of ``target_python`` with real binary wheels (no dependencies), once per session."""
    root = tmp_path_factory.mktemp("real-wheels-" + fixturelib.python_info(target_python)["label"])
    venv_python = fixturelib.make_venv(target_python, root / "venv")
    uv = fixturelib._uv()
    if uv:
        command = [uv, "pip", "install", "--python", str(venv_python), "--no-deps", "--only-binary", ":all:"]
    else:
        command = [
            target_python,
            "-m",
            "pip",
            "--python",
            str(venv_python),
            "install",
            "--no-deps",
            "--only-binary",
            ":all:",
        ]
    result = subprocess.run(
        command + list(REAL_WHEELS) + REAL_WHEEL_RUNTIME, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        message = "could not install real wheels from PyPI:\n" + result.stderr[-2000:]
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    site = fixturelib.site_packages(venv_python)
    suffixes = (_ext_suffix(target_python), ".abi3.so")
    paths = {}
    for module, _framework in REAL_WHEELS.values():
        base = site / module.replace(".", "/")
        paths[module] = next(str(base) + s for s in suffixes if os.path.exists(str(base) + s))
    return venv_python, paths


@pytest.mark.parametrize("run_init", [True, False], ids=["initfunc", "static-only"])
def test_real_wheels_framework_and_init_kind(real_wheels, run_init):
    venv_python, paths = real_wheels
    infos = {
        i.module: i for i in inspect_extensions(str(venv_python), list(paths.items()), run_init=run_init, timeout=60)
    }
    for module, framework in REAL_WHEELS.values():
        info = infos[module]
        assert info.framework.name == framework, (module, info.evidence.get("framework_evidence"))
        assert info.evidence["framework_evidence"]
        assert info.evidence["stripped"] is not None

    expected_init = {
        "yaml._yaml": "multi-phase",
        "contourpy._contourpy": "multi-phase",
        "rpds.rpds": "multi-phase",
        "PyKCS11._LowLevel": "multi-phase",
        "apngasm_python._apngasm_python": "single-phase",
        "_argon2_cffi_bindings._ffi": "single-phase",
    }
    for module, init in expected_init.items():
        assert infos[module].init == init, (module, infos[module].reason)
    assert infos["blib2to3.pgen2.token"].init == "single-phase"
    assert infos["blib2to3.pgen2.token"].method["init"] in ("initfunc", "framework")
    cffi_method = "initfunc" if run_init else "framework"
    assert infos["_argon2_cffi_bindings._ffi"].method["init"] == cffi_method

    assert re.fullmatch(r"3\.\d+\.\d+", infos["yaml._yaml"].framework.version)
    assert infos["contourpy._contourpy"].framework.version == ">=3.1"
    assert infos["rpds.rpds"].framework.version == "0.29.3"
    assert infos["yaml._yaml"].evidence["interpreter_guard"], "Cython's one-interpreter check"

    if run_init:
        for module in expected_init:
            assert infos[module].method["init"] == "initfunc", module
        assert infos["yaml._yaml"].slots == ["Py_mod_create", "Py_mod_exec"]
        assert infos["yaml._yaml"].multiple_interpreters is None
        assert infos["yaml._yaml"].multiple_interpreters_effective == "supported"
        pybind = infos["contourpy._contourpy"]
        assert pybind.multiple_interpreters == "not-supported"
        assert pybind.method["multiple_interpreters"] == "initfunc"
        pyo3 = infos["rpds.rpds"]  # PyO3 declares nothing; it guards itself at run time
        assert pyo3.slots[0] == "Py_mod_exec" and "Py_mod_multiple_interpreters" not in pyo3.slots
    else:
        assert all("initfunc" not in i.evidence for i in infos.values())
