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
    """--static-only: init kinds from imports, no init function called."""
    extensions = _corpus_extensions(corpus_env)
    infos = {i.module: i for i in inspect_extensions(str(corpus_env.python), extensions, run_init=False)}
    for facts in corpus_env.expected.values():
        for module, kind in facts["init"].items():
            info = infos[module]
            assert info.init == kind, module
            assert info.method["init"] == "symbols"
            assert "initfunc" not in info.evidence
            if kind == "multi-phase":
                assert info.evidence["imports_module_def_init"] and not info.evidence["imports_single_phase"]
            else:
                assert info.evidence["imports_single_phase"]


def _declared(info) -> tuple:
    return (info.init, info.m_size, info.slots, info.multiple_interpreters, info.multiple_interpreters_effective,
            info.gil, info.evidence.get("gil_effective"))


def test_corpus_slot_reader_agrees_with_the_init_probe(corpus_env):
    """Every slot combination of the corpus: the PyModuleDef read from the file, without
    running it, says what calling PyInit_* says (single-phase, multi-phase without slots,
    each Py_mod_multiple_interpreters value, Py_mod_gil on 3.13+)."""
    extensions = _corpus_extensions(corpus_env)
    static = {i.module: i for i in inspect_extensions(str(corpus_env.python), extensions, run_init=False)}
    probed = {i.module: i for i in inspect_extensions(str(corpus_env.python), extensions, run_init=True, timeout=60)}
    seen = set()
    for facts in corpus_env.expected.values():
        for module, kind in facts["init"].items():
            info = static[module]
            assert _declared(info) == _declared(probed[module]), module
            assert info.method["m_size"] == info.method["slots"] == "moduledef", (module, info.method)
            assert info.evidence["moduledef"]["found_by"] in ("init code", "name")
            assert "moduledef_said" not in probed[module].evidence, module
            assert info.multiple_interpreters == facts["multiple_interpreters"][module], module
            assert info.gil == facts["gil"][module], module
            if info.multiple_interpreters:
                assert info.method["multiple_interpreters"] == "moduledef"
            elif kind == "multi-phase":
                assert info.method["multiple_interpreters_effective"] == "default"
            seen.add((kind, info.multiple_interpreters, info.gil))
    expected = {("single-phase", None, None), ("multi-phase", None, None), ("multi-phase", "not-supported", None),
                ("multi-phase", "supported", None), ("multi-phase", "per-interpreter-gil", None)}
    if corpus_env.version >= (3, 13):
        expected.add(("multi-phase", "per-interpreter-gil", "not-used"))
    assert expected <= seen


SLOT_VARIANTS = """
#include <Python.h>
static int exec_module(PyObject *m) { return 0; }
static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
    {Py_mod_multiple_interpreters, %(value)s},
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, %(gil)s},
#endif
    {0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "%(m_name)s", "doc", %(m_size)s, NULL, slots};
PyMODINIT_FUNC PyInit_%(name)s(void) { return PyModuleDef_Init(&def); }
"""

#: Slots written at run time into zero-filled memory (what pybind11 3 does).
RUNTIME_SLOTS = """
#include <Python.h>
static PyModuleDef_Slot slots[4];
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "ia_t_runtime", NULL, 0, NULL, slots};
PyMODINIT_FUNC PyInit_ia_t_runtime(void) {
    slots[0].slot = Py_mod_multiple_interpreters;
    slots[0].value = Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED;
    return PyModuleDef_Init(&def);
}
"""


@pytest.mark.parametrize("optimize", ["-O0", "-O2"])
def test_slot_reader_on_every_value_and_a_foreign_m_name(target_python, tmp_path, optimize, monkeypatch):
    """Every Py_mod_multiple_interpreters and Py_mod_gil value, m_name unlike the module
    name (found through the address PyInit_* passes on), at two optimisation levels."""
    monkeypatch.setattr(fixturelib, "CFLAGS", [f for f in fixturelib.CFLAGS if not f.startswith("-O")] + [optimize])
    variants = {
        "ia_t_v0": ("Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED", "Py_MOD_GIL_USED", "ia_t_v0", 0),
        "ia_t_v1": ("Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED", "Py_MOD_GIL_NOT_USED", "pkg.ia_t_v1", 8),
        "ia_t_v2": ("Py_MOD_PER_INTERPRETER_GIL_SUPPORTED", "Py_MOD_GIL_USED", "something_else", -1),
    }
    pairs = []
    for name, (value, gil, m_name, m_size) in variants.items():
        source = SLOT_VARIANTS % {"value": value, "gil": gil, "m_name": m_name, "m_size": m_size, "name": name}
        pairs.append(("pkg." + name, str(_build(target_python, tmp_path, "pkg." + name, source))))
    static = inspect_extensions(target_python, pairs, run_init=False)
    probed = inspect_extensions(target_python, pairs, run_init=True, timeout=30)
    gil_slot = fixturelib.python_info(target_python)["version"] >= [3, 13]
    if optimize == "-O0":  # no tail call to recognise: a def named unlike the module stays unknown
        foreign = static.pop()
        probed.pop()
        assert foreign.multiple_interpreters is None and "slots" not in foreign.method
        assert foreign.reason == "declared slots unknown: no PyModuleDef named 'ia_t_v2' in the initialised data"
    else:
        assert static[2].evidence["moduledef"]["found_by"] == "init code"
    for info, truth, (value, gil, m_name, m_size) in zip(static, probed, variants.values()):
        assert _declared(info) == _declared(truth), info.module
        assert info.m_size == m_size
        assert info.evidence["moduledef"]["name"] == m_name
        assert info.gil == ({"Py_MOD_GIL_USED": "used", "Py_MOD_GIL_NOT_USED": "not-used"}[gil] if gil_slot else None)
    values = ["not-supported", "supported", "per-interpreter-gil"]
    assert [i.multiple_interpreters for i in static] == values[: len(static)]


def test_slots_filled_at_run_time_stay_unknown(target_python, tmp_path):
    path = _build(target_python, tmp_path, "ia_t_runtime", RUNTIME_SLOTS)
    (info,) = inspect_extensions(target_python, [("ia_t_runtime", str(path))], run_init=False)
    assert info.init == "multi-phase"
    assert info.multiple_interpreters is None and info.multiple_interpreters_effective is None
    assert "slots" not in info.method
    assert "zero-filled" in info.reason and "declared slots unknown" in info.reason
    (probed,) = inspect_extensions(target_python, [("ia_t_runtime", str(path))], run_init=True, timeout=30)
    assert probed.multiple_interpreters == "not-supported"


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
        assert "corrupt or truncated macho file" in infos["macho"].reason
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


# --------------------------------------------------------------------------- Mach-O, PE, aarch64: real wheels

#: Pinned real wheels and what every platform's build declares (read on Linux x86-64 with
#: the init probe too): init kind, Py_mod_multiple_interpreters, Py_mod_gil.
PLATFORM_WHEELS = {
    "markupsafe==3.0.4": {"markupsafe._speedups": ("multi-phase", "per-interpreter-gil", "not-used")},
    "msgpack==1.2.4": {"msgpack._cmsgpack": ("multi-phase", None, None)},
    "numpy==2.5.5": {
        "numpy._core._multiarray_umath": ("multi-phase", "not-supported", "not-used"),
        "numpy._core._simd": ("single-phase", None, None),
        "numpy.random.mtrand": ("multi-phase", None, None),
    },
}

_FORMATS = {"linux-x86_64": ("elf", "x86_64"), "linux-aarch64": ("elf", "aarch64"), "macos-arm64": ("macho", "aarch64"),
            "macos-x86_64": ("macho", "x86_64"), "windows-amd64": ("pe", "x86_64")}


def _wheel_extensions(wheel: Path, out: Path) -> dict[str, str]:
    import zipfile

    found = {}
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if re.search(r"\.(so|pyd)$", name) and not re.search(r"\.(libs|dylibs)/", name):
                archive.extract(name, out)
                found[re.sub(r"\.(cpython-|cp3|abi3|so$|pyd$).*", "", name).replace("/", ".")] = str(out / name)
    return found


@pytest.mark.parametrize("platform", sorted(_FORMATS))
def test_real_wheels_of_every_platform_declare_the_same_slots(platform, tmp_path):
    """ELF (x86-64, aarch64), Mach-O (arm64, x86-64) and PE (x86-64) builds of the same releases:
    the slot reader finds each module's PyModuleDef and reads the same declarations."""
    fmt, machine = _FORMATS[platform]
    for requirement, expected in PLATFORM_WHEELS.items():
        extensions = _wheel_extensions(fixturelib.pypi_wheel(requirement, platform), tmp_path / requirement)
        infos = {i.module: i for i in inspect_extensions(None, [(m, extensions[m]) for m in expected])}
        for module, (init, declared, gil) in expected.items():
            info = infos[module]
            assert (info.evidence["format"], info.evidence["machine"]) == (fmt, machine), module
            assert (info.init, info.multiple_interpreters, info.gil) == (init, declared, gil), (platform, module, info.reason)
            assert info.method["slots"] == "moduledef" and info.m_size == (-1 if init == "single-phase" else 0)
            if init == "multi-phase" and declared is None:
                assert info.multiple_interpreters_effective == "supported"


def test_real_linux_wheels_agree_with_the_init_probe(tmp_path):
    """The same linux x86-64 wheels, installed into a venv of 3.13: static result = init probe."""
    pythons = [p for p in fixturelib.target_pythons() if fixturelib.python_info(p)["version"] == [3, 13]]
    if not pythons:
        pytest.skip("no CPython 3.13 here")
    wheels = [fixturelib.pypi_wheel(r, "linux-x86_64") for r in PLATFORM_WHEELS]
    venv = fixturelib.make_venv(pythons[0], tmp_path / "venv")
    fixturelib.install_wheels(venv, wheels)
    site = fixturelib.site_packages(venv)
    pairs = []
    for expected in PLATFORM_WHEELS.values():
        for module in expected:
            [path] = site.glob(module.replace(".", "/") + ".cpython-*.so")
            pairs.append((module, str(path)))
    static = inspect_extensions(str(venv), pairs, run_init=False)
    probed = inspect_extensions(str(venv), pairs, run_init=True, timeout=60)
    for mine, theirs in zip(static, probed):
        assert theirs.method["slots"] == "initfunc"
        assert _declared(mine) == _declared(theirs), mine.module


EXPORT_HOOK = """
#include <Python.h>
/* PEP 793 (CPython 3.15) slot numbers, written out: these headers predate them. */
#define IA_mod_name 6
#define IA_mod_state_size 8
static int exec_module(PyObject *m) { return 0; }
static PyModuleDef_Slot slots[] = {
    {IA_mod_name, "ia_t_export"},
    {IA_mod_state_size, (void *)24},
    {Py_mod_exec, exec_module},
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL}};
__attribute__((visibility("default"))) PyModuleDef_Slot *PyModExport_ia_t_export(void) { return slots; }
"""

EXPORT_HOOK_WITH_CODE = """
#include <Python.h>
#include <stdlib.h>
static PyModuleDef_Slot slots[] = {{Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED}, {0, NULL}};
__attribute__((visibility("default"))) PyModuleDef_Slot *PyModExport_ia_t_busy(void) {
    return getenv("IA_T_OTHER") ? NULL : slots;
}
"""


def test_pep793_export_hook_slots_are_read(target_python, tmp_path):
    """A 3.15-style module (PyModExport_* returning a slot array, no PyInit_*): multi-phase, its
    slots and Py_mod_state_size read from the file; a hook that does more stays unknown."""
    hook = _build(target_python, tmp_path, "pkg.ia_t_export", EXPORT_HOOK)
    busy = _build(target_python, tmp_path, "ia_t_busy", EXPORT_HOOK_WITH_CODE)
    info, other = inspect_extensions(None, [("pkg.ia_t_export", str(hook)), ("ia_t_busy", str(busy))])
    assert (info.init, info.method["init"]) == ("multi-phase", "symbols")
    assert info.evidence["export_hook"] == "PyModExport_ia_t_export" and info.evidence["init_symbol"] is None
    assert info.slots == ["Py_mod_name", "Py_mod_state_size", "Py_mod_exec", "Py_mod_multiple_interpreters"]
    assert (info.multiple_interpreters, info.m_size, info.method["slots"]) == ("per-interpreter-gil", 24, "moduledef")
    assert info.evidence["moduledef"]["found_by"] == "export hook"
    assert other.init == "multi-phase" and other.multiple_interpreters is None and "slots" not in other.method
    assert other.reason == "declared slots unknown: PyModExport_ia_t_busy does more than return a static slot array"
