"""The pytest plugin (``interp_audit.pytest_plugin``), run for real by each target Python.

Test files are written with ``pytester``; they run under a venv of each target
interpreter (interp-audit installed in editable mode, plus pytest) through
``pytester.run`` and the installed ``pytest11`` entry point, so the plugin is
loaded exactly as a user gets it.  Extensions come from the fixture corpus
(``tests/fixtures/ext``), compiled for that interpreter.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import fixturelib

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
OLD_PYTHON = "/root/.pyenv/versions/3.10.13/bin/python3.10"


def _plugin_venv(python: str, path: Path) -> Path:
    """A venv of ``python`` with pytest and interp-audit (editable, without its CLI dependencies)."""
    subprocess.run([python, "-m", "venv", str(path)], check=True, capture_output=True)
    venv_python = path / "bin" / "python"
    for args in (["pytest"], ["--no-deps", "-e", str(ROOT)]):
        result = subprocess.run([str(venv_python), "-m", "pip", "install", "-q", *args], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError("pip install %s failed:\n%s%s" % (args, result.stdout, result.stderr))
    return venv_python


@pytest.fixture(scope="session")
def plugin_python(target_python, tmp_path_factory) -> Path:
    """The python of a venv of the target interpreter where the plugin is installed."""
    return _plugin_venv(target_python, tmp_path_factory.mktemp("plugin-venv"))


@pytest.fixture
def ext(target_python, pytester):
    """Compile corpus extensions for the target Python next to the generated tests."""

    def build(*names):
        for name in names:
            fixturelib.build_extension(target_python, fixturelib.EXT_SOURCES / (name + ".c"), name, pytester.path)

    return build


@pytest.fixture
def run(plugin_python, pytester):
    """Run the target venv's pytest on the files in ``pytester.path``."""

    def run_pytest(*args, timeout=240):
        return pytester.run(str(plugin_python), "-m", "pytest", "-p", "no:cacheprovider", "-rA", "-v", *args,
                            timeout=timeout)

    return run_pytest


def _statuses(result) -> dict[str, str]:
    """Map each test id of a ``-v`` run to PASSED, FAILED, SKIPPED, ..."""
    statuses = {}
    for line in result.outlines:
        head, _, rest = line.partition(" ")
        if "::" in head and rest.split(" ")[0] in ("PASSED", "FAILED", "SKIPPED", "ERROR", "XFAIL", "XPASS"):
            statuses[head.split("::", 1)[1]] = rest.split(" ")[0]
    return statuses


def _section(result, test_id: str) -> str:
    """The failure section of ``test_id`` in the output."""
    text = "\n".join(result.outlines)
    start = text.index("_ %s _" % test_id)
    end = text.find("\n___", start + 1)
    short = text.find("short test summary", start)
    ends = [e for e in (end, short) if e != -1]
    return text[start: min(ends) if ends else len(text)]


# --------------------------------------------------------------------------- off unless asked for


NEUTRAL_TESTS = """
    import pytest

    def test_a():
        assert 1

    @pytest.mark.parametrize("x", [1, 2])
    def test_b(x):
        assert x

    class TestC:
        def test_d(self, tmp_path):
            assert tmp_path.exists()
"""


def test_without_option_nothing_changes(run, pytester):
    pytester.makepyfile(test_neutral=NEUTRAL_TESTS)
    with_plugin = run("--collect-only", "-q", "-q")  # -v -q -q: one node id a line
    without_plugin = run("--collect-only", "-q", "-q", "-p", "no:interp_audit")
    ids = [line for line in with_plugin.outlines if "::" in line]
    assert ids == [line for line in without_plugin.outlines if "::" in line]
    assert ids == ["test_neutral.py::test_a", "test_neutral.py::test_b[1]", "test_neutral.py::test_b[2]",
                   "test_neutral.py::TestC::test_d"]
    run().assert_outcomes(passed=4)


def test_option_adds_one_variant_per_test_function(run, pytester):
    pytester.makepyfile(test_neutral=NEUTRAL_TESTS)
    result = run("--subinterpreters")
    assert _statuses(result) == {
        "test_a": "PASSED", "test_a[subinterp-isolated]": "PASSED",
        "test_b[1]": "PASSED", "test_b[1-subinterp-isolated]": "PASSED",
        "test_b[2]": "PASSED", "test_b[2-subinterp-isolated]": "PASSED",
        "TestC::test_d": "PASSED", "TestC::test_d[subinterp-isolated]": "PASSED",
    }
    only = run("--subinterpreters-only")
    assert sorted(_statuses(only)) == ["TestC::test_d[subinterp-isolated]", "test_a[subinterp-isolated]",
                                       "test_b[1-subinterp-isolated]", "test_b[2-subinterp-isolated]"]


# --------------------------------------------------------------------------- results


def test_failing_assert_shows_the_subinterpreter_traceback(run, pytester):
    pytester.makepyfile(test_results="""
        def test_ok():
            assert sum([1, 2]) == 3

        def test_bad():
            values = [1, 2]
            assert values == [1, 3]
    """)
    result = run("--subinterpreters-only")
    statuses = _statuses(result)
    assert statuses["test_ok[subinterp-isolated]"] == "PASSED"
    assert statuses["test_bad[subinterp-isolated]"] == "FAILED"
    section = _section(result, "test_bad[subinterp-isolated]")
    assert "in isolated sub-interpreter sub1" in section
    assert 'test_results.py", line 6, in test_bad' in section
    assert "AssertionError: assert [1, 2] == [1, 3]" in section  # pytest's assertion rewriting
    result.assert_outcomes(passed=1, failed=1)


def test_body_really_runs_in_a_subinterpreter(run, pytester):
    pytester.makepyfile(test_which="""
        def test_not_main():
            import sys
            if sys.version_info >= (3, 13):
                import _interpreters as api
                current, main = api.get_current()[0], api.get_main()[0]
            else:
                import _xxsubinterpreters as api
                current, main = api.get_current(), api.get_main()
            assert current != main
    """)
    result = run("--subinterpreters")
    assert _statuses(result) == {"test_not_main": "FAILED", "test_not_main[subinterp-isolated]": "PASSED"}


@pytest.mark.parametrize(("mode", "expected"), [("isolated", "FAILED"), ("shared-gil", "FAILED"), ("legacy", "PASSED")])
def test_single_phase_extension_fails_isolated_passes_legacy(run, pytester, ext, mode, expected):
    ext("ia_single")
    pytester.makepyfile(test_single="""
        def test_answer():
            import ia_single
            assert ia_single.answer() == 42
    """)
    result = run("--subinterpreters=%s" % mode)
    test_id = "test_answer[subinterp-%s]" % mode
    assert _statuses(result) == {"test_answer": "PASSED", test_id: expected}
    if expected == "FAILED":
        section = _section(result, test_id)
        assert "ImportError: module ia_single does not support loading in subinterpreters" in section


def test_parametrize_and_tmp_path_reach_the_subinterpreter_other_fixtures_skip(run, pytester):
    pytester.makepyfile(test_args="""
        import pytest

        class Box:
            def __init__(self, value):
                self.value = value

        @pytest.mark.parametrize("box", [Box(3)], ids=["box3"])
        @pytest.mark.parametrize("n", [1, 2])
        def test_params(n, box, tmp_path):
            (tmp_path / "f").write_text(str(n * box.value))
            assert (tmp_path / "f").read_text() in ("3", "6")
            assert n * box.value < 5

        def test_monkeypatch(monkeypatch):
            pass

        @pytest.mark.parametrize("f", [lambda: 1])
        def test_lambda(f):
            pass
    """)
    result = run("--subinterpreters-only")
    statuses = _statuses(result)
    assert statuses["test_params[1-box3-subinterp-isolated]"] == "PASSED"
    assert statuses["test_params[2-box3-subinterp-isolated]"] == "FAILED"
    assert "assert (2 * 3) < 5" in _section(result, "test_params[2-box3-subinterp-isolated]")
    assert statuses["test_monkeypatch[subinterp-isolated]"] == "SKIPPED"
    result.stdout.fnmatch_lines(["*fixtures other than tmp_path are not available inside sub-interpreters*monkeypatch*",
                                 "*parameters cannot be pickled into a sub-interpreter*"])


# --------------------------------------------------------------------------- crashes and hangs


def test_crash_fails_that_test_names_signal_and_culprit_and_session_continues(run, pytester, ext):
    ext("ia_segv")
    pytester.makepyfile(test_crash="""
        import signal
        import threading

        def test_import_crashes():
            import ia_segv

        def test_body_crashes():
            signal.pthread_kill(threading.get_ident(), signal.SIGSEGV)

        def test_after():
            assert True
    """)
    result = run("--subinterpreters-only")
    assert _statuses(result) == {
        "test_import_crashes[subinterp-isolated]": "FAILED",
        "test_body_crashes[subinterp-isolated]": "FAILED",
        "test_after[subinterp-isolated]": "PASSED",
    }
    section = _section(result, "test_import_crashes[subinterp-isolated]")
    assert "crashed with SIGSEGV (signal 11) while importing module 'ia_segv' in sub-interpreter sub1" in section
    section = _section(result, "test_body_crashes[subinterp-isolated]")
    assert "crashed with SIGSEGV (signal 11) while running test_crash.py::test_body_crashes[subinterp-isolated]" in section


def test_hang_times_out_names_culprit_and_session_continues(run, pytester, ext):
    ext("ia_hang")
    pytester.makepyfile(test_hang="""
        import time

        def test_import_hangs():
            import ia_hang

        def test_sleeps():
            time.sleep(600)

        def test_after():
            assert True
    """)
    result = run("--subinterpreters-only", "--subinterpreters-timeout=3")
    assert _statuses(result) == {
        "test_import_hangs[subinterp-isolated]": "FAILED",
        "test_sleeps[subinterp-isolated]": "FAILED",
        "test_after[subinterp-isolated]": "PASSED",
    }
    assert "timed out after 3s (--subinterpreters-timeout), while importing module 'ia_hang'" in _section(
        result, "test_import_hangs[subinterp-isolated]")
    assert "timed out after 3s (--subinterpreters-timeout), while running test_hang.py::test_sleeps" in _section(
        result, "test_sleeps[subinterp-isolated]")


# --------------------------------------------------------------------------- markers


def test_marker_n4_catches_code_that_is_not_interpreter_or_thread_safe(run, pytester, ext):
    ext("ia_race", "ia_cglobal")
    pytester.makepyfile(test_marked="""
        import threading
        import time
        import pytest

        def check_cglobal():
            import ia_cglobal
            mine = threading.get_ident()
            ia_cglobal.set_value(mine)
            time.sleep(0.3)
            assert ia_cglobal.get_value() == mine

        @pytest.mark.subinterpreters(n=1)
        def test_cglobal_alone():
            check_cglobal()

        @pytest.mark.subinterpreters(n=4)
        def test_cglobal_four():
            check_cglobal()

        @pytest.mark.subinterpreters(n=4, mode="legacy", rounds=2)
        def test_race_shared_gil():
            import ia_race
            ia_race.work()

        @pytest.mark.subinterpreters(n=4)
        def test_race_own_gil():
            import ia_race
            ia_race.work()
    """)
    result = run("--subinterpreters-only")  # the markers alone ask for the variants
    assert _statuses(result) == {
        "test_cglobal_alone[subinterp-isolated]": "PASSED",
        "test_cglobal_four[subinterp-isolated-n4]": "FAILED",
        "test_race_shared_gil[subinterp-legacy-n4-r2]": "PASSED",
        "test_race_own_gil[subinterp-isolated-n4]": "FAILED",
    }
    section = _section(result, "test_cglobal_four[subinterp-isolated-n4]")
    assert "of 4 sub-interpreter runs failed; first failure in isolated sub-interpreter sub" in section
    assert "assert ia_cglobal.get_value() == mine" in section or "AssertionError: assert" in section
    section = _section(result, "test_race_own_gil[subinterp-isolated-n4]")
    # Which step was in progress depends on timing (another interpreter may still be importing).
    assert re.search(r"crashed with SIGABRT \(signal 6\) while (running test_marked\.py::test_race_own_gil\S*"
                     r"|importing module '[\w.]+') in sub-interpreter", section)


def test_marker_variants_exist_without_the_option(run, pytester):
    pytester.makepyfile(test_marked="""
        import pytest

        @pytest.mark.subinterpreters(n=2)
        def test_two():
            pass

        def test_plain():
            pass
    """)
    assert _statuses(run()) == {"test_two": "PASSED", "test_two[subinterp-isolated-n2]": "PASSED",
                                "test_plain": "PASSED"}


def test_main_interpreter_only_opts_out_with_reason(run, pytester):
    pytester.makepyfile(test_optout="""
        import pytest

        @pytest.mark.main_interpreter_only(reason="installs signal handlers")
        def test_signals():
            import signal
            signal.signal(signal.SIGUSR1, signal.SIG_IGN)

        @pytest.mark.main_interpreter_only
        def test_no_reason():
            import signal
            signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    """)
    result = run("--subinterpreters")
    assert _statuses(result) == {
        "test_signals": "PASSED", "test_signals[subinterp-isolated]": "SKIPPED",
        "test_no_reason": "PASSED", "test_no_reason[subinterp-isolated]": "SKIPPED",
    }
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] test_optout.py:3: main_interpreter_only: installs signal handlers"])


# --------------------------------------------------------------------------- the subinterpreter fixture


def test_fixture_runs_code_calls_functions_and_reports_errors(run, pytester, ext):
    ext("ia_single", "ia_segv")
    pytester.makepyfile(helpers="""
        def add(a, b):
            return {"sum": a + b, "names": ("a", "b")}
    """)
    pytester.makepyfile(test_fixture="""
        import helpers

        def test_eval_and_call(subinterpreter):
            assert subinterpreter.eval("6 * 7") == 42
            assert subinterpreter.call("helpers:add", 1, b=2) == {"sum": 3, "names": ("a", "b")}
            assert subinterpreter.call(helpers.add, 2, 2)["sum"] == 4

        def test_state_persists_in_one_interpreter(subinterpreter):
            with subinterpreter.create("legacy") as interp:
                interp.run("import ia_single; seen = ia_single.answer()")
                assert interp.eval("seen") == 42

        def test_error_is_an_assertion_with_the_sub_traceback(subinterpreter):
            subinterpreter.run("import ia_single")

        def test_crash_is_reported(subinterpreter):
            subinterpreter.run("import ia_segv")

        def test_after():
            pass
    """)
    result = run()
    assert _statuses(result) == {
        "test_eval_and_call": "PASSED",
        "test_state_persists_in_one_interpreter": "PASSED",
        "test_error_is_an_assertion_with_the_sub_traceback": "FAILED",
        "test_crash_is_reported": "FAILED",
        "test_after": "PASSED",
    }
    section = _section(result, "test_error_is_an_assertion_with_the_sub_traceback")
    assert "SubinterpreterError: running 'import ia_single' in the isolated sub-interpreter raised:" in section
    assert "ImportError: module ia_single does not support loading in subinterpreters" in section
    section = _section(result, "test_crash_is_reported")
    assert "crashed with SIGSEGV (signal 11) while running 'import ia_segv'" in section


# --------------------------------------------------------------------------- Pythons without sub-interpreters


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="needs a Python without per-interpreter GIL support")
def test_option_is_a_usage_error_without_subinterpreter_support(pytester):
    pytester.makepyfile(test_neutral=NEUTRAL_TESTS)
    result = pytester.runpytest_inprocess("--subinterpreters")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--subinterpreters=isolated: sub-interpreters with their own GIL need CPython 3.12 "
                                 "or newer (this is cpython 3.*"])
    plain = pytester.runpytest_inprocess("-v")  # and without the option the plugin does nothing
    plain.assert_outcomes(passed=4)
    assert "[subinterp-" not in plain.stdout.str()


@pytest.mark.skipif(not os.path.exists(OLD_PYTHON), reason="CPython 3.10 not installed here")
def test_plugin_imports_and_refuses_cleanly_on_python_3_10(pytester, tmp_path_factory):
    venv_python = _plugin_venv(OLD_PYTHON, tmp_path_factory.mktemp("venv310"))
    pytester.makepyfile(test_neutral=NEUTRAL_TESTS)
    assert pytester.run(str(venv_python), "-c", "import interp_audit.pytest_plugin").ret == 0
    refused = pytester.run(str(venv_python), "-m", "pytest", "-p", "no:cacheprovider", "--subinterpreters=legacy")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(["*--subinterpreters=legacy: *need CPython 3.12 or newer (this is cpython 3.10.*"])
    plain = pytester.run(str(venv_python), "-m", "pytest", "-p", "no:cacheprovider")
    plain.assert_outcomes(passed=4)

