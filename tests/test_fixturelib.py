"""The fixture corpus behaves as ``fixturelib.EXPECTED`` says.

Every claim is checked against real interpreters: the runtime probe
(``auditor/probe/runtime.py``) run by each target Python, or code run in real
sub-interpreters through ``auditor/probe/interpreters.py``.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fixturelib
from elftools.elf.elffile import ELFFile
from interp_audit.model import FLAGS, MODES, TIERS
from interp_audit.runtime.worker import encode_request

PROBE_DIR = Path(__file__).resolve().parent.parent / "auditor" / "probe"
RUNTIME = PROBE_DIR / "runtime.py"
SUB_MODES = ("isolated", "shared-gil", "legacy")
HANG_TIMEOUT = 3.0

# Loads auditor/probe/interpreters.py as ``interps`` in a target interpreter.
PRELUDE = """\
import importlib.util, os, sys
_spec = importlib.util.spec_from_file_location("_ia_interps", %r)
interps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(interps)
""" % str(PROBE_DIR / "interpreters.py")


def import_names(dist: str) -> list[str]:
    return fixturelib.corpus_spec(dist).top_level()


def extension_names(dist: str) -> list[str]:
    return list(fixturelib.corpus_spec(dist).extensions)


def probe(env, name, mode, scenario, extensions=(), timeout=20.0):
    """Run the runtime probe; return (returncode or "timeout", events)."""
    request = {"names": [name], "mode": mode, "scenario": scenario, "extensions": list(extensions)}
    with tempfile.TemporaryFile() as events:
        fd = events.fileno()
        try:
            done = subprocess.run(
                [str(env.python), "-P", str(RUNTIME), encode_request(request, tempfile.gettempdir()), str(fd)],
                pass_fds=[fd], capture_output=True, timeout=timeout,
            )
            status = done.returncode
        except subprocess.TimeoutExpired:
            status = "timeout"
        events.seek(0)
        return status, [ast.literal_eval(line) for line in events.read().decode().splitlines()]


def results(events) -> dict:
    return {e["where"]: e for e in events if e["event"] == "result"}


def scenario_ok(status, events, scenario) -> bool:
    """Every step imported (with or without its extensions: a working fallback is a pass)."""
    wanted = ["sub1"] if scenario == "alone" else ["main", "sub1", "sub2"]
    got = results(events)
    return status == 0 and all(w in got and got[w]["ok"] for w in wanted)


def run_code(env, code, timeout=30.0):
    """Run ``PRELUDE + code`` with the corpus venv's python; return the CompletedProcess."""
    return subprocess.run([str(env.python), "-c", PRELUDE + code], capture_output=True, text=True, timeout=timeout)


# ----------------------------------------------------------------- corpus bookkeeping


def test_expected_covers_the_corpus_with_known_tiers_and_flags():
    assert set(fixturelib.EXPECTED) == {spec.name for spec in fixturelib.CORPUS}
    for dist, facts in fixturelib.EXPECTED.items():
        assert facts["tier"] in TIERS, dist
        assert set(facts["flags"]) <= set(FLAGS), dist
        assert list(facts["modes"]) == list(MODES), dist
        best = next(mode for mode in MODES if facts["modes"][mode])
        assert facts["tier"] == {"isolated": "own-gil", "shared-gil": "shared-gil",
                                 "legacy": "legacy-only", "main": "main-only"}[best], dist
        assert set(facts["init"]) == set(extension_names(dist)), dist


def test_expected_for_fills_version_dependent_facts():
    old, new = fixturelib.expected_for((3, 12)), fixturelib.expected_for((3, 13))
    assert old["ia-fixture-clean"]["gil"] == {"ia_clean": None}
    assert new["ia-fixture-clean"]["gil"] == {"ia_clean": "not-used"}
    assert new["ia-fixture-multi-noslot"]["multiple_interpreters_effective"] == {"ia_multi_noslot": "supported"}
    assert new["ia-fixture-single"]["multiple_interpreters_effective"] == {"ia_single": None}


def test_target_pythons_override_filters_and_dedupes(monkeypatch, target_python):
    old = "/work/venv/bin/python"  # 3.11 here: too old, must be dropped
    monkeypatch.setenv(fixturelib.ENV_PYTHONS, os.pathsep.join([old, target_python, target_python]))
    fixturelib.target_pythons.cache_clear()
    try:
        assert fixturelib.target_pythons() == [target_python]
    finally:
        monkeypatch.undo()
        fixturelib.target_pythons.cache_clear()


def test_build_extension_is_cached_and_exports_pyinit(target_python, tmp_path):
    source = fixturelib.EXT_SOURCES / "ia_clean.c"
    first = fixturelib.build_extension(target_python, source, "ia_clean", tmp_path / "a")
    started = time.perf_counter()
    second = fixturelib.build_extension(target_python, source, "ia_clean", tmp_path / "b")
    assert time.perf_counter() - started < 0.5
    assert first.name == second.name == "ia_clean" + fixturelib.python_info(target_python)["ext_suffix"]
    assert first.read_bytes() == second.read_bytes()
    assert "PyInit_ia_clean" in dynamic_symbols(first)


def dynamic_symbols(path: Path) -> set[str]:
    with open(path, "rb") as handle:
        return {symbol.name for symbol in ELFFile(handle).get_section_by_name(".dynsym").iter_symbols()}


# ----------------------------------------------------------------- wheels and venv


def test_wheels_are_valid(corpus_env):
    tag = fixturelib.python_info(corpus_env.base_python)["tag"]
    for dist, wheel in corpus_env.wheels.items():
        with zipfile.ZipFile(wheel) as archive:
            names = set(archive.namelist())
            info_dir = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
            record = archive.read(info_dir + "/RECORD").decode().splitlines()
            listed = set()
            for line in record:
                path, digest, size = line.rsplit(",", 2)
                listed.add(path)
                if path == info_dir + "/RECORD":
                    assert digest == size == ""
                    continue
                data = archive.read(path)
                expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                assert digest == "sha256=" + expected, path
                assert int(size) == len(data), path
            assert listed == names, dist
            metadata = archive.read(info_dir + "/METADATA").decode()
            assert "Name: %s\n" % dist in metadata and "Metadata-Version: 2.1\n" in metadata
            wheel_file = archive.read(info_dir + "/WHEEL").decode()
            binary = any(n.endswith(".so") for n in names)
            assert ("Root-Is-Purelib: false" in wheel_file) == binary, dist
            assert ("Tag: %s\n" % tag in wheel_file) == binary, dist
            assert wheel.name.endswith("-%s.whl" % (tag if binary else "py3-none-any"))
    blocked = zipfile.ZipFile(corpus_env.wheels["ia-fixture-blocked"])
    assert "Requires-Dist: ia-fixture-single" in blocked.read("ia_fixture_blocked-1.0.dist-info/METADATA").decode()


def test_corpus_is_installed_in_the_venv(corpus_env):
    code = (
        "import importlib.metadata as md, json\n"
        "print(json.dumps({d.metadata['Name']: d.read_text('top_level.txt').split() for d in md.distributions()}))"
    )
    done = subprocess.run([str(corpus_env.python), "-c", code], capture_output=True, text=True, check=True)
    installed = ast.literal_eval(done.stdout)
    for dist in corpus_env.expected:
        assert installed[dist] == import_names(dist)
    assert str(corpus_env.site_packages).startswith(str(corpus_env.python.parent.parent))


def test_native_library_has_no_pyinit(corpus_env):
    library = corpus_env.site_packages / "ia_ctypes_user" / "libia_native.so"
    symbols = dynamic_symbols(library)
    assert "ia_native_add" in symbols
    assert not any(name.startswith("PyInit_") for name in symbols)
    assert list(corpus_env.expected["ia-fixture-ctypes-user"]["native_libraries"]) == ["ia_ctypes_user/libia_native.so"]
    done = run_code(corpus_env, "import ia_ctypes_user; print(ia_ctypes_user.add(2, 3))")
    assert done.stdout.strip() == "5", done.stderr


# ----------------------------------------------------------------- the ladder, as the runtime probe sees it


def _ladder_runs(env):
    """(dist, name, mode, scenario) for every non-hanging fixture whose tier its top-level
    names decide (``module_tiers`` and ``cpython_crashes`` fixtures: tests/test_scan.py)."""
    for dist, facts in env.expected.items():
        if facts["crash"] == "timeout" or "module_tiers" in facts or facts.get("cpython_crashes"):
            continue
        for name in import_names(dist):
            for mode in SUB_MODES:
                for scenario in ("alone", "beside_main"):
                    yield dist, name, mode, scenario
            yield dist, name, "main", "alone"


def test_ladder_matches_expected(corpus_env):
    runs = list(_ladder_runs(corpus_env))

    def one(run):
        dist, name, mode, scenario = run
        return run, probe(corpus_env, name, mode, scenario, extension_names(dist))

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(one, runs))
    mismatches = []
    by_mode: dict = {}
    for (dist, name, mode, scenario), (status, events) in outcomes:
        if mode == "main":
            ok = status == 0 and results(events)["main"]["ok"]
        else:
            ok = scenario_ok(status, events, scenario)
        by_mode.setdefault((dist, mode), {})[scenario] = ok
        facts = corpus_env.expected[dist]
        if scenario == "alone" and mode in facts.get("alone", {}) and ok != facts["alone"][mode]:
            mismatches.append((dist, mode, scenario, status, results(events)))
    for (dist, mode), scenarios in by_mode.items():
        if all(scenarios.values()) != corpus_env.expected[dist]["modes"][mode]:
            mismatches.append((dist, mode, scenarios))
    assert not mismatches


def test_single_phase_is_refused_where_checked(corpus_env):
    for mode in ("isolated", "shared-gil"):
        status, events = probe(corpus_env, "ia_single", mode, "alone")
        assert status == 0
        assert "does not support loading in subinterpreters" in results(events)["sub1"]["error"]
    status, events = probe(corpus_env, "ia_single", "legacy", "alone")
    assert results(events)["sub1"]["ok"]


def test_segv_dies_with_sigsegv_and_names_culprit(corpus_env):
    status, events = probe(corpus_env, "ia_segv", "isolated", "beside_main")
    assert status == -signal.SIGSEGV
    assert results(events)["main"]["ok"]
    begun = [e["module"] for e in events if e["event"] == "begin" and e["where"] == "sub1"]
    ended = [e["module"] for e in events if e["event"] == "end" and e["where"] == "sub1"]
    assert begun[-1] == "ia_segv" and "ia_segv" not in ended
    assert corpus_env.expected["ia-fixture-segv"]["culprit"] == "ia_segv"


def test_hang_times_out_inside_ia_hang(corpus_env):
    status, events = probe(corpus_env, "ia_hang", "isolated", "alone", timeout=HANG_TIMEOUT)
    assert status == "timeout"
    begun = [e["module"] for e in events if e["event"] == "begin"]
    assert begun[-1] == "ia_hang" and not results(events)
    status, events = probe(corpus_env, "ia_hang", "main", "alone")
    assert status == 0 and results(events)["main"]["ok"]


def test_oneper_alone_passes_beside_main_refused(corpus_env):
    status, events = probe(corpus_env, "ia_oneper", "isolated", "alone")
    assert status == 0 and results(events)["sub1"]["ok"]
    status, events = probe(corpus_env, "ia_oneper", "isolated", "beside_main")
    assert status == 0
    got = results(events)
    assert got["main"]["ok"] and not got["sub1"]["ok"]
    assert corpus_env.expected["ia-fixture-oneper"]["refusal"] in got["sub1"]["error"]


def test_reimport_refused_after_an_importer_is_destroyed(corpus_env):
    status, events = probe(corpus_env, "ia_reimport", "isolated", "beside_main")
    assert status == 0
    got = results(events)
    assert got["main"]["ok"] and got["sub1"]["ok"] and not got["sub2"]["ok"]
    assert "ia_reimport: stale state" in got["sub2"]["error"]


def test_blocked_fails_in_ia_single(corpus_env):
    status, events = probe(corpus_env, "ia_blocked", "isolated", "alone")
    assert status == 0
    sub = results(events)["sub1"]
    assert sub["failed_module"] == "ia_single"
    assert "ia_single" in sub["error"]
    assert corpus_env.expected["ia-fixture-blocked"]["blocked_by"] == [
        {"module": "ia_single", "distribution": "ia-fixture-single"}
    ]


def test_degraded_loses_its_extension_in_checked_subinterpreters(corpus_env):
    speedups = "ia_degraded._speedups"
    facts = corpus_env.expected["ia-fixture-degraded"]
    for mode in SUB_MODES:
        status, events = probe(corpus_env, "ia_degraded", mode, "beside_main", [speedups])
        assert status == 0
        got = results(events)
        assert got["main"]["loaded"] == [speedups]
        assert got["sub1"]["ok"] and got["sub2"]["ok"]
        missing = got["sub1"]["loaded"] == []
        assert missing == (mode in facts["degraded_in"]), mode
    done = run_code(corpus_env, "import ia_degraded; print(ia_degraded.ACCELERATED, ia_degraded.fast(21))")
    assert done.stdout.split() == ["True", "42"]


# ----------------------------------------------------------------- what the modules do across interpreters


def test_clean_keeps_state_per_interpreter(corpus_env):
    code = (
        "import ia_clean\n"
        "assert ia_clean.add(2, 3) == 5\n"
        "ia_clean.set_value('main')\n"
        "err = interps.run('isolated', 'import os, ia_clean\\n'\n"
        "    'os.write(1, (repr((ia_clean.get_value(), id(ia_clean.Box))) + chr(10)).encode())\\n'\n"
        "    'ia_clean.set_value(1)')\n"
        "assert err is None, err\n"
        "print((ia_clean.get_value(), id(ia_clean.Box)))\n"
    )
    done = run_code(corpus_env, code)
    assert done.returncode == 0, done.stderr
    sub, main = [ast.literal_eval(line) for line in done.stdout.splitlines()]
    assert sub[0] is None and main[0] == "main"
    assert sub[1] != main[1]  # a heap type per interpreter


def test_cglobal_leaks_values_between_interpreters(corpus_env):
    code = (
        "import ia_cglobal\n"
        "err = interps.run('isolated', 'import ia_cglobal; ia_cglobal.set_value(1234)')\n"
        "assert err is None, err\n"
        "print(ia_cglobal.get_value())\n"
    )
    done = run_code(corpus_env, code)
    assert done.stdout.strip() == "1234", done.stderr


def test_leaktype_is_one_object_in_every_interpreter(corpus_env):
    code = (
        "import ia_leaktype\n"
        "err = interps.run('isolated', 'import os, ia_leaktype; os.write(1, b\"%d\\\\n\" % id(ia_leaktype.Thing))')\n"
        "assert err is None, err\n"
        "print(id(ia_leaktype.Thing))\n"
    )
    done = run_code(corpus_env, code)
    assert done.returncode == 0, done.stderr
    sub, main = done.stdout.split()
    assert sub == main


RACE = """\
import threading
def worker():
    interps.run(%r, "import ia_race\\nfor _ in range(4): ia_race.work()")
threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads: t.start()
for t in threads: t.join()
print("survived")
"""


def test_race_aborts_only_with_own_gils(corpus_env):
    done = run_code(corpus_env, RACE % "isolated")
    assert done.returncode == -signal.SIGABRT, (done.returncode, done.stderr)
    assert "ia_race: work() entered concurrently" in done.stderr
    done = run_code(corpus_env, RACE % "legacy")
    assert done.returncode == 0 and "survived" in done.stdout, done.stderr


def test_static_evidence_fixtures_run(corpus_env):
    code = (
        "import ia_static_globals, ia_static_type, ia_state_find, ia_gilstate\n"
        "err = interps.run('isolated', 'import ia_static_globals')\n"
        "assert err is None, err\n"
        "assert ia_static_globals.hits() == 2  # one process-wide counter for both interpreters\n"
        "assert type(ia_static_type.Thing()).__name__ == 'Thing'\n"
        "assert ia_state_find.myself() is ia_state_find\n"
        "assert ia_gilstate.call(lambda: 7) == 7\n"
        "print('ok')\n"
    )
    done = run_code(corpus_env, code)
    assert done.stdout.strip() == "ok", done.stderr


def _pytest_without_pythons(ci: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, CI=ci, **{fixturelib.ENV_PYTHONS: ""})
    test = "%s::test_build_extension_is_cached_and_exports_pyinit" % Path(__file__).name
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:interp_audit", "-q", "-rs", test],
        cwd=Path(__file__).parent, env=env, capture_output=True, text=True, timeout=120,
    )


def test_no_target_python_skips_locally_and_fails_in_ci():
    local = _pytest_without_pythons("")
    assert local.returncode == 0 and "1 skipped" in local.stdout, local.stdout
    ci = _pytest_without_pythons("true")
    assert ci.returncode == 1 and "no CPython >= 3.12 found" in ci.stdout, ci.stdout
