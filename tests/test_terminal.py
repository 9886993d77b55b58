"""The terminal answer (issue 18): a matrix that fits the terminal, a why line per verdict kind, `show DIST`.

The matrix is rendered by the real command in a real pseudo-terminal (tests/screen.py)
at 80, 100 and 120 columns; `show` reads a store filled by a real scan of fixture
distributions, and the JSON file the same scan wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from rich.cells import cell_len

from interp_audit.model import Control, Crash, DistributionResult, Finding, ModuleResult, ScanReport
from interp_audit.reports import json as json_report
from interp_audit.reports import table, why
from interp_audit.reports.advice import what_to_do
from interp_audit.verdict import known_problems

from screen import parse_grid, plain, run_in_pty, squeeze
from test_reports import _fail, _ladder_ok, _ok, smoke_report

CLI = [sys.executable, "-m", "interp_audit"]
LONG_NAME = "an-extremely-long-distribution-name-for-the-terminal-matrix-test"
DATETIME_CONTROL = Control(
    kind="parallel", mode="isolated", imports=["_datetime"], runs=20, crashed=True,
    crash=Crash(signal="SIGABRT", returncode=-6, culprit="_datetime", culprit_is_stdlib=True,
                stderr_tail="double free or corruption (out)\nFatal Python error: Aborted"),
    problem="parallel/isolated/_datetime")
#: The known problem auditor/verdict.py derives from that control (what every run of the report lists).
DATETIME_PROBLEM = known_problems([DistributionResult(name="usesdatetime", version="0.9",
                                                      controls=[DATETIME_CONTROL])])[0]


def _finding(code: str, severity: str, dist: str, module: str, fix: str) -> Finding:
    return Finding(code=code, severity=severity, message=f"{module}: problem {code}", distribution=dist,
                   module=module, remediation=fix)


def verdict_kinds(python: str) -> list[DistributionResult]:
    """One result per verdict kind the fixtures may not produce yet (issue 14 semantics)."""
    refusal = "ImportError: module fontish.cu2qu._c does not support loading in subinterpreters"
    submodule = ModuleResult(name="fontish.cu2qu", kind="submodule", tier="main-only", error=refusal, modes={
        "isolated": _fail(refusal), "shared-gil": _fail(refusal), "legacy": _fail(refusal), "main": _ok()})
    return [
        DistributionResult(
            name="fontish", version="4.0", import_names=["fontish"], tier="main-only", modes=_ladder_ok(),
            modules=[ModuleResult(name="fontish", tier="own-gil", modes=_ladder_ok()), submodule],
            culprit="fontish.cu2qu._c",
            findings=[_finding("IA101", "high", "fontish", "fontish.cu2qu._c", "Port to multi-phase init.")]),
        DistributionResult(
            name="speedy", version="1.1", import_names=["speedy"], tier="own-gil", flags=["degraded"],
            modes=_ladder_ok(), degraded_modules=["speedy._accel"], degraded_in={"speedy._accel": ["isolated", "shared-gil"]},
            findings=[_finding("IA304", "medium", "speedy", "speedy._accel", "Make speedy._accel multi-phase.")]),
        DistributionResult(
            name="usesdatetime", version="0.9", import_names=["usesdatetime"], tier="own-gil", modes=_ladder_ok(),
            cpython_problems=[DATETIME_PROBLEM.id], controls=[DATETIME_CONTROL]),
        DistributionResult(name=LONG_NAME, version="2024.10.7.post1", import_names=["longname"], tier="shared-gil",
                           flags=["smoke-failed", "one-per-process"], modes=_ladder_ok(),
                           one_per_process=[{"module": "longname._core", "framework": "pyo3",
                                             "refusal": "ImportError: PyO3 modules may only be initialized once per "
                                                        "interpreter process"}]),
    ]


def full_report() -> ScanReport:
    """Every verdict kind on two Pythons: sample_report's, smoke failures, and the ones above."""
    report = smoke_report()
    for run in report.interpreters:
        leaky = next(d for d in run.distributions if d.name == "leaky")
        if run.python.version >= "3.13":  # re-run one rung down, where it passes: shared-gil (auditor/verdict.py)
            leaky.smoke.rungs = {"static_types": {"isolated": "failed", "shared-gil": "passed"}}
        run.distributions += verdict_kinds(run.python.version)
        run.known_problems = known_problems(run.distributions)
    return report


@pytest.fixture(scope="module")
def results_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("terminal") / "results.json"
    path.write_text(json_report.dumps(full_report()), encoding="utf-8")
    return path


def _expected(report: ScanReport) -> dict[str, dict[str, str]]:
    """Per distribution name: each tier cell, the flags and the reason the matrix must show in full."""
    from interp_audit.reports.matrix import build

    matrix = build(report)
    expected = {}
    for row in matrix.rows:
        cells = {f"{c.label} tier": why.tier_cell(row.cells.get(c.key)) for c in matrix.columns}
        cells["flags"] = ", ".join(row.flags)
        cells["reason"] = table._reason_cell(row, matrix).plain
        expected[row.name] = cells
    return expected


# --- the matrix in a real terminal ----------------------------------------------------------------


@pytest.mark.parametrize("columns", [80, 100, 120])
def test_matrix_fits_the_terminal_and_cuts_no_tier_flag_or_reason(results_file, columns):
    output = run_in_pty([*CLI, "report", str(results_file)], columns)
    text = plain(output)
    assert "\x1b[" in output, "a terminal gets colour"
    for line in text.splitlines():
        assert cell_len(line) <= columns, f"{cell_len(line)} > {columns}: {line!r}"
    grid = parse_grid(text)
    expected = _expected(full_report())
    headings = [heading for heading, _, _ in grid.columns]
    assert headings[:5] == ["distribution", "version", "3.12.1 tier", "3.13.0 tier", "flags"]
    assert headings[5:] == ["reason"] or (headings[5:] == [] and grid.below)  # too narrow: under each row
    assert len(grid.rows) == len(expected)
    for name, cells in grid.rows.items():
        full = name if name in expected else next(n for n in expected if n.startswith(name[:5]))
        if full != name:  # shortened in the middle: both ends kept
            assert "…" in name and full.startswith(name.split("…")[0]) and full.endswith(name.split("…")[1])
        for heading in ("3.12.1 tier", "3.13.0 tier", "flags"):
            assert cells[heading] == expected[full][heading], (name, heading, cells[heading])
        reason = cells.get("reason") or grid.below.get(name, "")
        assert squeeze(reason) == squeeze(expected[full]["reason"]), (name, reason)
    assert set(expected) - set(grid.rows) == {LONG_NAME}  # only the name too long for any column is shortened
    assert grid.rows["speedy"]["3.13.0 tier"] == "own-gil, degraded"
    assert squeeze(grid.rows["usesdatetime"].get("reason") or grid.below["usesdatetime"]) == squeeze("CPython crash, tier kept")
    # The known problem is a header above the matrix, not in the rows.
    assert text.index("Known problems of this Python") < text.index(grid.lines[0])
    assert "_datetime" in text[: text.index(grid.lines[0])]


def test_wide_matrix_adds_rungs_and_checks_when_they_fit_or_when_asked(results_file):
    narrow = parse_grid(plain(run_in_pty([*CLI, "report", str(results_file)], 120)))
    assert "3.13.0 isolated" not in [h for h, _, _ in narrow.columns]
    wide = plain(run_in_pty([*CLI, "report", str(results_file), "--wide"], 120))
    headings = [h for h, _, _ in parse_grid(wide).columns]
    for python in ("3.12.1", "3.13.0"):
        assert [h for h in headings if h.startswith(python)] == [
            f"{python} {h}" for h in ("isolated", "shared", "legacy", "main", "tier", "generic", "snippets",
                                      "parallel", "reimport", "types", "xi")]  # no cost: numbers, see show
    roomy = parse_grid(plain(run_in_pty([*CLI, "report", str(results_file)], 400)))
    assert "3.12.1 isolated" in [h for h, _, _ in roomy.columns]  # wide enough: no option needed
    crashy, leaky = roomy.rows["crashy"], roomy.rows["leaky"]
    assert crashy["3.13.0 isolated"] == "✹" and crashy["3.13.0 main"] == "✓"  # one cell each: aligned
    assert leaky["3.12.1 parallel"] == "✹" and leaky["3.13.0 types"] == "✗" and leaky["3.13.0 parallel"] == "✓"


def test_ascii_terminal_gets_ascii_symbols_and_names_shortened_with_ascii(results_file):
    text = plain(run_in_pty([*CLI, "report", str(results_file), "--wide"], 400, env={"PYTHONIOENCODING": "ascii"}))
    assert text.isascii()
    grid = parse_grid(text)
    assert grid.rows["crashy"]["3.13.0 isolated"] == "CRASH" and grid.rows["purepkg"]["3.13.0 isolated"] == "ok"
    narrow = plain(run_in_pty([*CLI, "report", str(results_file)], 80, env={"PYTHONIOENCODING": "ascii"}))
    shortened = [name for name in parse_grid(narrow).rows if name.startswith(LONG_NAME[:5])]
    assert narrow.isascii() and shortened and "~" in shortened[0] and LONG_NAME.endswith(shortened[0].split("~")[1])


def test_colour_follows_no_color_and_the_color_option(results_file):
    assert "\x1b[" in run_in_pty([*CLI, "report", str(results_file)], 100)
    no_color = run_in_pty([*CLI, "report", str(results_file)], 100, env={"NO_COLOR": "1"})
    assert not any(f"\x1b[{n}" in no_color for n in ("31", "32", "33", "38;")) and "own-gil" in no_color
    never = run_in_pty([*CLI, "report", str(results_file), "--color", "never"], 100)
    assert "\x1b[" not in never
    piped = subprocess.run([*CLI, "report", str(results_file), "--color", "always"], capture_output=True, text=True,
                           env={k: v for k, v in os.environ.items() if k != "NO_COLOR"})
    assert "\x1b[" in piped.stdout
    plain_pipe = subprocess.run([*CLI, "report", str(results_file)], capture_output=True, text=True)
    assert "\x1b[" not in plain_pipe.stdout and plain_pipe.stdout.isascii()


def test_a_pipe_gets_100_columns():
    text = table.render_text(full_report())
    grid = parse_grid(text)
    assert max(len(line) for line in grid.lines) <= table.DEFAULT_WIDTH


# --- the why section, one test per verdict kind ---------------------------------------------------


def _why(text: str, name: str) -> str:
    """The why lines of distribution ``name`` (continuations joined)."""
    section = text[text.index("Why ("):]
    lines, inside = [], False
    for line in section.splitlines()[1:]:
        if not line.startswith("      "):
            inside = line.startswith(f"  {name} ")
        if inside:
            lines.append(line.strip())
    assert lines, f"no why line for {name} in:\n{section}"
    return " ".join(lines)


@pytest.fixture(scope="module")
def why_text():
    return table.render_text(full_report())


def test_why_refusal_names_the_module_and_quotes_the_refusal(why_text):
    line = _why(why_text, "sharedext")
    assert "sharedext._c (cython) fails in isolated" in line
    assert '"ImportError: module sharedext._c does not support a per-interpreter GIL"' in line
    assert "IA201 (medium)" in line and "interp-audit explain IA201" in line
    submodule = _why(why_text, "fontish")
    assert "public submodule fontish.cu2qu fails in" in submodule and "does not support loading" in submodule


def test_why_one_per_process_names_module_framework_and_refusal(why_text):
    line = _why(why_text, "legacyext")
    assert "legacyext._core (pybind11) loads in one interpreter per process" in line
    assert "IA101 (high)" in line and "interp-audit explain IA101" in line
    long = _why(why_text, LONG_NAME)
    assert "longname._core (pyo3)" in long and "PyO3 modules may only be initialized once" in long


def test_why_blocked_by_gives_the_chain_and_the_refusal(why_text):
    line = _why(why_text, "Dependent_Pkg")
    assert "blocked by legacyext._core (from legacyext)" in line and "does not support loading" in line


def test_why_degraded_names_the_fallback_and_its_rungs(why_text):
    line = _why(why_text, "speedy")
    assert "speedy._accel did not load in isolated, shared-gil" in line and "pure-Python fallback" in line
    assert "IA304 (medium)" in line


def test_why_crash_gives_signal_rung_and_culprit(why_text):
    line = _why(why_text, "crashy")
    assert "crashed in isolated: SIGSEGV while importing crashy._native" in line


def test_why_smoke_failure_says_which_check_how_and_in_which_rungs(why_text):
    line = _why(why_text, "leaky")
    assert "on 3.12.1" in line and "parallel crashed" in line
    assert "types failed (leaky._c.Thing is the same object in two interpreters" in line
    assert "(ran in types: isolated failed, shared-gil passed)" in line


def test_why_cpython_problem_gives_the_control_and_keeps_the_tier(why_text):
    line = _why(why_text, "usesdatetime")
    assert "is CPython's: the standard library alone (import _datetime) crashed too in 20 runs; tier kept" in line
    header = why_text[: why_text.index("distribution")]
    assert "Known problems of this Python" in header and "Python 3.12.1, 3.13.0: " in header
    assert f"[{DATETIME_PROBLEM.id}]. Hit by usesdatetime." in " ".join(header.split())
    assert " ".join(DATETIME_PROBLEM.what.split()) in " ".join(header.split())
    assert why_text.count(DATETIME_PROBLEM.id) == 1  # once, above the matrix, never per row


def test_own_gil_rows_without_flags_get_no_why_line(why_text):
    section = why_text[why_text.index("Why ("):]
    assert "  purepkg " not in section and "  fastext " not in section


def test_quiet_hides_the_why_and_findings_lists_every_fix(results_file):
    quiet = subprocess.run([*CLI, "report", str(results_file), "-q"], capture_output=True, text=True)
    assert quiet.returncode == 0 and "Why (" not in quiet.stdout and "legacyext" in quiet.stdout
    full = subprocess.run([*CLI, "report", str(results_file), "--findings"], capture_output=True, text=True)
    findings = full.stdout[full.stdout.index("Findings ("):]
    assert "IA101 [high] legacyext._core:" in findings
    assert "fix: Port the module to multi-phase initialisation (PEP 489)." in findings
    assert "fix: Make speedy._accel multi-phase." in findings


def test_advice_is_the_same_on_the_package_page(tmp_path, results_file):
    from interp_audit.reports.site import build_site
    from interp_audit.reports.merge import merge
    from html import unescape

    build_site(merge([full_report()]), tmp_path / "site")
    page = unescape((tmp_path / "site" / "packages" / "legacyext.html").read_text(encoding="utf-8"))
    legacyext = next(d for d in full_report().interpreters[0].distributions if d.name == "legacyext")
    assert "What to do" in page
    for line in what_to_do(legacyext):
        assert line in page


# --- interp-audit show ----------------------------------------------------------------------------

SHOWN = ("ia-fixture-oneper", "ia-fixture-segv", "ia-fixture-degraded", "ia-fixture-clean")


@pytest.fixture(scope="module")
def scanned(corpus_env, tmp_path_factory):
    """A real scan of a few fixture distributions: (store directory, JSON results)."""
    root = tmp_path_factory.mktemp("show")
    results = root / "results.json"
    done = subprocess.run([*CLI, "scan", "--python", str(corpus_env.python), "--cache-dir", str(root / "cache"),
                           "--timeout", "30", "--format", "json", "-o", str(results), *SHOWN],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return root / "cache", results


def _words(text: str) -> str:
    return " ".join(text.split())


def _show(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "show", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NO_COLOR": "1", "COLUMNS": "100"})


def test_show_from_the_store_gives_every_rung_scenario_and_crash(scanned, corpus_env):
    cache, _ = scanned
    shown = _show("ia-fixture-oneper", "--cache-dir", str(cache))
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    words = _words(text)
    assert text.startswith("ia-fixture-oneper 1.0 on Python")
    assert "tier: main-only" in text and "flags: one-per-process" in text
    assert "ia_oneper (top-level): main-only" in text
    for rung in ("isolated", "shared-gil", "legacy", "main"):
        assert f"\n    {rung}" in text
    assert "beside main: ImportError: ia_oneper: cannot load module more than once per process" in words
    assert "init: multi-phase  [" in text  # the method behind the value
    assert "Findings" in text and "fix:" in text and "interp-audit explain IA302" in words
    assert text.rstrip().splitlines()[-1].startswith("  - ")  # ends with what to do
    assert text.index("What to do") > text.index("Findings")
    segv = _words(_show("ia-fixture-segv", "--cache-dir", str(cache), "--python", str(corpus_env.python)).stdout)
    assert "Crashes isolated alone; isolated beside main;" in segv and "SIGSEGV while importing ia_segv" in segv
    assert "stderr (tail):" in segv
    clean = _words(_show("ia-fixture-clean", "--cache-dir", str(cache)).stdout)
    assert "Smoke checks (in isolated interpreters)" in clean and "snippet" in clean.lower()
    assert "one more interpreter with the package (median)" in clean  # the cost figures


def test_show_from_json_matches_the_store_and_gives_the_json_object(scanned):
    cache, results = scanned
    from_json = _show("ia-fixture-degraded", "--results", str(results))
    from_store = _show("ia-fixture-degraded", "--cache-dir", str(cache))
    assert from_json.returncode == 0 and from_store.returncode == 0
    body = lambda text: text.split("\n", 1)[1]  # the first line names the interpreter's path
    assert body(from_json.stdout) == body(from_store.stdout)
    obj = json.loads(_show("ia-fixture-degraded", "--results", str(results), "--format", "json").stdout)
    written = json.loads(results.read_text())["interpreters"][0]["distributions"]
    assert obj == next(d for d in written if d["name"] == "ia-fixture-degraded")


@pytest.mark.parametrize("source", ["store", "json"])
def test_show_of_a_distribution_that_is_not_there_is_one_line_and_exit_2(scanned, source):
    cache, results = scanned
    where = ["--cache-dir", str(cache)] if source == "store" else ["--results", str(results)]
    for args in (["ia-fixture-nothere", *where], ["ia-fixture-oneper", *where, "--python", "3.99"]):
        done = _show(*args)
        assert done.returncode == 2 and done.stdout == ""
        assert len(done.stderr.strip().splitlines()) == 1 and "no result for" in done.stderr
        assert "Traceback" not in done.stderr


def test_show_json_of_several_pythons_asks_for_one(results_file):
    done = _show("legacyext", "--results", str(results_file), "--format", "json")
    assert done.returncode == 2 and done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
    assert "choose one with --python" in done.stderr
    one = _show("legacyext", "--results", str(results_file), "--format", "json", "--python", "3.12")
    assert one.returncode == 0 and json.loads(one.stdout)["name"] == "legacyext"


def test_show_without_a_store_says_how_to_get_one(tmp_path):
    done = _show("anything", "--cache-dir", str(tmp_path / "empty"))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "interp-audit scan" in done.stderr


def test_show_renders_every_section_of_a_rich_result(results_file):
    text = " ".join(_show("usesdatetime", "--results", str(results_file), "--python", "3.13").stdout.split())
    assert "control for parallel in isolated" in text and "crashed too: CPython's problem" in text
    assert "double free or corruption" in text  # the control's stderr
    assert _words(DATETIME_PROBLEM.what) in text
    font = " ".join(_show("fontish", "--results", str(results_file), "--python", "3.13").stdout.split())
    assert "fontish.cu2qu (submodule): main-only" in font and "why it climbed:" in font
    leaky = _words(_show("leaky", "--results", str(results_file), "--python", "3.13").stdout)
    assert "types failed" in leaky and "ran in: isolated failed, shared-gil passed" in leaky
    assert "leaky._c.Thing is the same object in two interpreters" in leaky
