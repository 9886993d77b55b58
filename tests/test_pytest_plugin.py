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
    statuses = _statuses(result)
    assert statuses == {
        "test_a": "PASSED", "test_a[subinterp-isolated]": "PASSED",
        "test_b[1]": "PASSED", "test_b[1-subinterp-isolated]": "PASSED",
        "test_b[2]": "PASSED", "test_b[2-subinterp-isolated]": "PASSED",
        "TestC::test_d": "PASSED", "TestC::test_d[subinterp-isolated]": "PASSED",
    }
    # a module's variants run after its tests: the child never runs beside the original tests
    assert list(statuses) == ["test_a", "test_b[1]", "test_b[2]", "TestC::test_d", "test_a[subinterp-isolated]",
                              "test_b[1-subinterp-isolated]", "test_b[2-subinterp-isolated]",
                              "TestC::test_d[subinterp-isolated]"]
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
    assert "test_results.py:6: AssertionError" in section
    assert "assert [1, 2] == [1, 3]" in section  # pytest's assertion rewriting
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


FIXTURE_CONFTEST = """
    import pytest

    @pytest.fixture
    def from_conftest():
        return "conftest value"

    @pytest.fixture(autouse=True)
    def interpreter_id(request):
        import sys
        if sys.version_info >= (3, 13):
            import _interpreters as api
            current, main = api.get_current()[0], api.get_main()[0]
        else:
            import _xxsubinterpreters as api
            current, main = api.get_current(), api.get_main()
        request.node.in_main = current == main  # an autouse fixture that every test sees
        yield
"""


def test_fixtures_conftest_autouse_class_scope_and_setup_module_run_inside(run, pytester):
    pytester.makeconftest(FIXTURE_CONFTEST)
    pytester.makepyfile(test_fixtures="""
        import os
        import pytest

        CALLS = []

        def setup_module(module):
            CALLS.append("setup_module")

        @pytest.fixture(scope="class")
        def per_class():
            CALLS.append("per_class")
            return object()

        def test_monkeypatch(monkeypatch, request):
            monkeypatch.setenv("IA_VALUE", "set")
            assert os.environ["IA_VALUE"] == "set"
            assert request.node.in_main is False

        def test_capsys(capsys):
            print("to stdout")
            assert capsys.readouterr().out == "to stdout\\n"

        def test_conftest_fixture(from_conftest):
            assert from_conftest == "conftest value"

        class TestClassScope:
            def test_one(self, per_class):
                type(self).first = per_class

            def test_two(self, per_class):
                assert per_class is type(self).first

        def test_setup_module_ran_once():
            assert CALLS == ["setup_module", "per_class"]

        @pytest.mark.parametrize("f", [lambda: 1], ids=["fn"])
        def test_unpicklable_param(f, tmp_path):
            assert f() == 1 and tmp_path.is_dir()

        def test_prints_and_fails():
            print("shown under captured stdout")
            assert 1 + 1 == 3
    """)
    result = run("--subinterpreters-only")
    assert _statuses(result) == {
        "test_monkeypatch[subinterp-isolated]": "PASSED",
        "test_capsys[subinterp-isolated]": "PASSED",
        "test_conftest_fixture[subinterp-isolated]": "PASSED",
        "TestClassScope::test_one[subinterp-isolated]": "PASSED",
        "TestClassScope::test_two[subinterp-isolated]": "PASSED",
        "test_setup_module_ran_once[subinterp-isolated]": "PASSED",
        "test_unpicklable_param[fn-subinterp-isolated]": "PASSED",
        "test_prints_and_fails[subinterp-isolated]": "FAILED",
    }
    section = _section(result, "test_prints_and_fails[subinterp-isolated]")
    assert "assert (1 + 1) == 3" in section  # pytest's assertion rewriting, inside
    assert "Captured stdout call" in section and "shown under captured stdout" in section
    # one pytest session in one sub-interpreter for the module, one child process
    result.stdout.fnmatch_lines(["sub-interpreter variants: 1 pytest session(s) in sub-interpreters (scope: module), "
                                 "1 child process(es), 0 replaced after a crash or hang"])


def test_scope_module_gives_each_file_a_fresh_interpreter_and_test_each_test(run, pytester):
    pytester.makepyfile(shared="SEEN = []")
    body = """
        import shared
        shared.SEEN.append(__name__)
        COUNT = []

        def test_only_this_module_imported():
            assert shared.SEEN == [__name__]

        def test_first_in_this_interpreter():
            COUNT.append(1)
            assert COUNT == [1]

        def test_second_in_this_interpreter():
            COUNT.append(1)
            assert COUNT == [1]
    """
    pytester.makepyfile(test_a=body, test_b=body)
    failing = {}
    for scope in ("session", "module", "test"):
        result = run("--subinterpreters-only", "--subinterpreters-scope=" + scope)
        failing[scope] = sorted(line.split(" ")[0] for line in result.outlines
                                if " FAILED " in line and "::" in line.split(" ")[0])
        result.stdout.fnmatch_lines(["*%d pytest session(s) in sub-interpreters (scope: %s)*"
                                     % ({"session": 1, "module": 2, "test": 6}[scope], scope)])
    assert failing == {
        "session": ["test_a.py::test_only_this_module_imported[subinterp-isolated]",
                    "test_a.py::test_second_in_this_interpreter[subinterp-isolated]",
                    "test_b.py::test_only_this_module_imported[subinterp-isolated]",
                    "test_b.py::test_second_in_this_interpreter[subinterp-isolated]"],
        "module": ["test_a.py::test_second_in_this_interpreter[subinterp-isolated]",
                   "test_b.py::test_second_in_this_interpreter[subinterp-isolated]"],
        "test": [],
    }


def test_selection_maxfail_and_junitxml_see_the_variants(run, pytester):
    pytester.makepyfile(test_sel="""
        def test_a():
            pass

        def test_b():
            assert False, "b fails"

        def test_c():
            pass
    """)
    stopped = run("--subinterpreters-only", "-x")
    assert _statuses(stopped) == {"test_a[subinterp-isolated]": "PASSED", "test_b[subinterp-isolated]": "FAILED"}
    xml = pytester.path / "report.xml"
    selected = run("--subinterpreters", "-k", "subinterp and not test_c", "--junitxml", str(xml))
    assert _statuses(selected) == {"test_a[subinterp-isolated]": "PASSED", "test_b[subinterp-isolated]": "FAILED"}
    text = xml.read_text()
    assert 'name="test_b[subinterp-isolated]"' in text and "b fails" in text


def test_pdb_is_a_usage_error_that_says_why(run, pytester):
    pytester.makepyfile(test_neutral=NEUTRAL_TESTS, test_marked="""
        import pytest

        @pytest.mark.subinterpreters(n=2)
        def test_two():
            pass
    """)
    result = run("--subinterpreters", "--pdb")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--subinterpreters cannot be used with --pdb or --trace: the variants run in a "
                                 "sub-interpreter of a child process*"])
    marked = run("--pdb", "test_marked.py")  # a marker alone asks: its variant is skipped, saying why
    assert _statuses(marked) == {"test_two": "PASSED", "test_two[subinterp-isolated-n2]": "SKIPPED"}
    marked.stdout.fnmatch_lines(["*interp-audit: --pdb and --trace cannot debug inside a sub-interpreter*"])


def test_conftest_refused_inside_fails_the_variants_with_its_error(run, pytester, ext):
    ext("ia_single")
    pytester.makeconftest("import ia_single")
    pytester.makepyfile(test_plain="""
        def test_a():
            pass
    """)
    result = run("--subinterpreters")
    assert _statuses(result) == {"test_a": "PASSED", "test_a[subinterp-isolated]": "ERROR"}
    section = _section(result, "ERROR at setup of test_a[subinterp-isolated]")
    assert ("the pytest session in the isolated sub-interpreter did not run this test (sub1: exit status 4): "
            "it stopped before collecting") in section
    assert "ImportError: module ia_single does not support loading in subinterpreters" in section  # its output


def test_module_refused_by_isolated_interpreters_fails_each_variant_in_one_session(run, pytester, ext):
    ext("ia_single")
    pytester.makepyfile(test_refused="""
        import pytest
        import ia_single

        @pytest.mark.parametrize("n", range(8))
        def test_answer(n):
            assert ia_single.answer() == 42
    """)
    result = run("--subinterpreters-only")
    assert sorted(_statuses(result).values()) == ["ERROR"] * 8
    for n in range(8):
        section = _section(result, "ERROR at setup of test_answer[%d-subinterp-isolated]" % n)
        assert ("collecting test_refused.py in the isolated sub-interpreter failed: "
                "ImportError: module ia_single does not support loading in subinterpreters") in section
    # Quickly: one inner session, in one child process, for all eight (not a process per test).
    result.stdout.fnmatch_lines(["sub-interpreter variants: 1 pytest session(s) in sub-interpreters (scope: module), "
                                 "1 child process(es), 0 replaced after a crash or hang"])
    legacy = run("--subinterpreters-only", "--subinterpreters=legacy")
    assert sorted(_statuses(legacy).values()) == ["PASSED"] * 8


# --------------------------------------------------------------------------- crashes and hangs


def test_segfault_and_hang_fail_their_test_one_child_replaced_each_others_report(run, pytester, ext):
    ext("ia_segv")
    pytester.makepyfile(test_crash="""
        import signal
        import threading
        import time

        def test_before():
            pass

        def test_import_crashes():
            import ia_segv

        def test_body_crashes():
            signal.pthread_kill(threading.get_ident(), signal.SIGSEGV)

        def test_between():
            pass

        def test_hangs():
            time.sleep(600)

        def test_after():
            assert True
    """)
    result = run("--subinterpreters-only", "--subinterpreters-timeout=3")
    assert _statuses(result) == {
        "test_before[subinterp-isolated]": "PASSED",
        "test_import_crashes[subinterp-isolated]": "FAILED",
        "test_body_crashes[subinterp-isolated]": "FAILED",
        "test_between[subinterp-isolated]": "PASSED",
        "test_hangs[subinterp-isolated]": "FAILED",
        "test_after[subinterp-isolated]": "PASSED",
    }
    section = _section(result, "test_import_crashes[subinterp-isolated]")
    assert re.search(r"the child process \(pid \d+\) running the isolated sub-interpreter crashed with SIGSEGV "
                     r"\(signal 11\) while running test_crash.py::test_import_crashes\[subinterp-isolated\] \(call\), "
                     r"importing module 'ia_segv', in sub-interpreter sub1", section)
    assert "Captured stderr child process (tail)" in section and "Fatal Python error: Segmentation fault" in section
    section = _section(result, "test_body_crashes[subinterp-isolated]")
    assert ("crashed with SIGSEGV (signal 11) while running test_crash.py::test_body_crashes[subinterp-isolated] "
            "(call) in sub-interpreter sub1") in section
    assert 'test_crash.py", line 12 in test_body_crashes' in section  # faulthandler's stack, from the child
    section = _section(result, "test_hangs[subinterp-isolated]")
    assert re.search(r"timed out after 3s \(--subinterpreters-timeout\) while running "
                     r"test_crash.py::test_hangs\[subinterp-isolated\] \(call\) in sub-interpreter sub1; "
                     r"the child process \(pid \d+\) was killed", section)
    # three crashes, three replacements: four children in all, each new one resumed with the next test
    result.stdout.fnmatch_lines(["sub-interpreter variants: 4 pytest session(s) in sub-interpreters (scope: module), "
                                 "4 child process(es), 3 replaced after a crash or hang"])
    pids = re.findall(r"replaced: .*pid (\d+)", result.stdout.str())
    assert len(pids) == len(set(pids)) == 3


def test_crash_while_collecting_fails_that_files_tests_only(run, pytester, ext):
    ext("ia_segv")
    pytester.makepyfile(test_a_crashes="""
        import ia_segv

        def test_one():
            pass

        def test_two():
            pass
    """, test_b_fine="""
        def test_fine():
            pass
    """)
    result = run("--subinterpreters-only", "--subinterpreters-scope=session")
    assert _statuses(result) == {"test_one[subinterp-isolated]": "ERROR", "test_two[subinterp-isolated]": "ERROR",
                                 "test_fine[subinterp-isolated]": "PASSED"}
    assert ("crashed with SIGSEGV (signal 11) while collecting test_a_crashes.py, importing module 'ia_segv', in "
            "sub-interpreter sub1") in _section(result, "ERROR at setup of test_two[subinterp-isolated]")
    result.stdout.fnmatch_lines(["*2 child process(es), 1 replaced after a crash or hang"])


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
    assert re.search(r"crashed with SIGABRT \(signal 6\) while (running test_marked\.py::test_race_own_gil\S* "
                     r"\(\w+\)|importing module '[\w.]+')(, importing module '[\w.]+',)? in sub-interpreter", section)


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

