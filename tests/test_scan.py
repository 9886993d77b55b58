"""``interp-audit scan`` end to end: real interpreters, real compiled fixtures, real files.

The corpus (tests/fixturelib.py) is installed into a venv of every target
interpreter; the CLI scans it once per interpreter and every distribution's
tier, flags, culprit, blocked-by and degraded modules are checked against
``fixturelib.EXPECTED``.
"""

from __future__ import annotations

import json
import re
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import fixturelib
from interp_audit._cli import main
from interp_audit.target import TargetError, resolve

SCHEMA = Path(__file__).resolve().parents[1] / "reports" / "schema" / "scan-result.schema.json"
TIMEOUT = "5"  # seconds before the hang fixture counts as hung


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """Run the installed CLI as a user would (a separate process)."""
    return subprocess.run([sys.executable, "-m", "interp_audit", *args], capture_output=True, text=True,
                          timeout=900, env={**os.environ, "NO_COLOR": "1"})


@pytest.fixture(scope="session")
def corpus_scan(corpus_env, tmp_path_factory):
    """The JSON report of a full scan of the corpus venv (plus the run's stderr)."""
    out = tmp_path_factory.mktemp("scan") / "results.json"
    done = run_cli("scan", "--python", str(corpus_env.python), "--no-cache", "--no-smoke", "--timeout", TIMEOUT,
                   "--format", "json", "-o", str(out))
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    return report, {d["name"]: d for d in report["interpreters"][0]["distributions"]}, done.stderr


def test_every_fixture_gets_its_tier_and_flags(corpus_env, corpus_scan):
    _, dists, _ = corpus_scan
    wrong = {}
    for name, facts in corpus_env.expected.items():
        got = dists[name]
        if (got["tier"], sorted(got["flags"])) != (facts["tier"], sorted(facts["flags"])):
            wrong[name] = ((got["tier"], got["flags"]), (facts["tier"], facts["flags"]))
    assert not wrong


def test_modes_match_each_rung(corpus_env, corpus_scan):
    _, dists, _ = corpus_scan
    for name, facts in corpus_env.expected.items():
        modes = dists[name]["modes"]
        got = {mode: bool(modes[mode]["ok"]) for mode in facts["modes"]}
        assert got == facts["modes"], name


def test_both_scenarios_are_recorded_and_rungs_below_a_pass_are_marked_inferred(corpus_scan):
    _, dists, _ = corpus_scan
    clean = dists["ia-fixture-clean"]["modes"]
    assert clean["isolated"]["alone"]["ok"] and clean["isolated"]["beside_main"]["ok"]
    assert clean["legacy"]["inferred"] and clean["legacy"]["alone"] is None
    single = dists["ia-fixture-single"]["modes"]
    assert single["isolated"]["inferred"] is None
    assert "does not support loading in subinterpreters" in single["isolated"]["error"]
    assert single["legacy"]["ok"] and single["legacy"]["inferred"] is None


def test_crashes_name_signal_and_culprit(corpus_scan):
    _, dists, _ = corpus_scan
    segv = dists["ia-fixture-segv"]
    assert segv["culprit"] == "ia_segv"
    crash = segv["modes"]["isolated"]["crash"]
    assert crash["signal"] == "SIGSEGV" and crash["culprit"] == "ia_segv" and not crash["culprit_is_stdlib"]
    assert not crash["at_shutdown"]
    hang = dists["ia-fixture-hang"]["modes"]["isolated"]["crash"]
    assert hang["timeout"] and hang["culprit"] == "ia_hang"


def test_survey_summary_sets_the_fresh_isolated_import_beside_the_tiers(corpus_scan, tmp_path):
    """``report --format survey`` on a real scan: the trackers' method (a first import in a
    fresh isolated interpreter) passes the one-per-process and lazily loading fixtures, which
    the tiers do not, each disagreement under its reason; a working fallback passes both."""
    report, dists, _ = corpus_scan
    results = tmp_path / "results.json"
    results.write_text(json.dumps(report))
    done = run_cli("report", str(results), "--format", "survey")
    assert done.returncode == 0, done.stderr
    rows = {line.split(" | ")[1].split(":")[0]: line for line in done.stdout.splitlines()
            if line.startswith("| first import passes")}
    assert "ia-fixture-oneper" in rows["one-per-process"] and "ia-fixture-lazy" not in rows["one-per-process"]
    assert "ia-fixture-lazy" in rows["lazy module"]
    assert "ia-fixture-degraded" in done.stdout.split("Both methods pass")[1]
    # 3.12.1 aborts a fresh isolated interpreter that imports hashlib (a CPython bug the
    # control reproduces): the first import fails, the tier stays own-gil.
    [stdlib_user] = dists["ia-fixture-stdlib-user"]["modules"]
    if not stdlib_user["modes"]["isolated"]["alone"]["ok"]:
        assert any(line.startswith("| first import fails, tier own-gil | CPython bug") and "ia-fixture-stdlib-user" in line
                   for line in done.stdout.splitlines())
    audited = [d for d in dists.values() if d["tier"] is not None]
    own_gil = sum(d["tier"] == "own-gil" for d in audited)
    assert f"| tier own-gil (this tool) | {own_gil} |" in done.stdout
    fresh = sum(all(m["modes"]["isolated"]["alone"]["ok"] for m in d["modules"]
                    if m["kind"] == "top-level" and m["modes"]["isolated"].get("alone"))
                for d in audited if d["tier"] != "broken")
    assert f"| first import in a fresh isolated interpreter | {fresh} |" in done.stdout


def test_one_per_process_quotes_the_refusal(corpus_env, corpus_scan):
    _, dists, _ = corpus_scan
    oneper = dists["ia-fixture-oneper"]
    assert oneper["modes"]["isolated"]["alone"]["ok"] is True
    assert oneper["modes"]["isolated"]["beside_main"]["ok"] is False
    # the refusal is NumPy's process-wide one: the lower rungs are inferred, not run
    assert oneper["modes"]["legacy"]["ok"] is False and "known from numpy" in oneper["modes"]["legacy"]["inferred"]
    entries = {e["module"]: e for e in oneper["one_per_process"]}
    assert corpus_env.expected["ia-fixture-oneper"]["refusal"] in entries["ia_oneper"]["refusal"]


def test_blocked_by_maps_the_refusing_module_to_its_distribution(corpus_scan):
    _, dists, _ = corpus_scan
    blocked = dists["ia-fixture-blocked"]["blocked_by"]
    assert [(b["module"], b["distribution"], b["stdlib"]) for b in blocked] == [
        ("ia_single", "ia-fixture-single", False)]
    # a distribution is never blocked by its own module
    assert dists["ia-fixture-single"]["blocked_by"] == []


def test_a_working_fallback_passes_the_rung_and_is_flagged_degraded(corpus_scan):
    _, dists, _ = corpus_scan
    degraded = dists["ia-fixture-degraded"]
    assert (degraded["tier"], degraded["flags"]) == ("own-gil", ["degraded"])
    assert degraded["degraded_modules"] == ["ia_degraded._speedups"]
    assert degraded["degraded_in"] == {"ia_degraded._speedups": ["isolated"]}
    isolated = degraded["modes"]["isolated"]
    assert isolated["ok"] and isolated["error"] is None
    assert isolated["alone"]["missing_extensions"] == ["ia_degraded._speedups"]
    # a failed import is not a fallback: the refused extension is not listed as degraded
    assert dists["ia-fixture-single"]["degraded_modules"] == []


def test_each_module_gets_its_own_tier(corpus_env, corpus_scan):
    _, dists, _ = corpus_scan
    for name, facts in corpus_env.expected.items():
        if "module_tiers" in facts:
            got = {m["name"]: m["tier"] for m in dists[name]["modules"] if not m["excluded"]}
            assert got == facts["module_tiers"], name


def test_a_public_submodule_that_refuses_a_second_interpreter_makes_the_package_main_only(corpus_scan):
    _, dists, _ = corpus_scan
    lazy = dists["ia-fixture-lazy"]
    assert (lazy["tier"], lazy["flags"]) == ("main-only", ["one-per-process"])
    modules = {m["name"]: m for m in lazy["modules"]}
    api, engine = modules["ia_lazy.api"], modules["ia_lazy.engine"]
    assert api["kind"] == "submodule" and api["tier"] == "main-only" and api["inferred"] is None
    assert "more than once per process" in api["error"]
    assert api["modes"]["isolated"]["alone"]["ok"] and not api["modes"]["isolated"]["beside_main"]["ok"]
    # a module that failed the walk with the same error does not climb again: its tier is inferred, saying why
    assert engine["tier"] == "main-only" and "same error as ia_lazy.api" in engine["inferred"]
    assert [e["module"] for e in lazy["one_per_process"]][:1] == ["ia_lazy._core"]
    top = next(m for m in lazy["modules"] if m["name"] == "ia_lazy")
    assert top["kind"] == "top-level" and top["tier"] == "own-gil"


def test_an_ignored_module_is_excluded_and_noted(corpus_env, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.interp-audit]\nignore-modules = ["ia_lazy.api", "ia_lazy.engine"]\n')
    out = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "interp_audit", "scan", "--python", str(corpus_env.python),
                           "--no-cache", "--no-smoke", "--format", "json", "-o", str(out), "ia-fixture-lazy"],
                          capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 0, done.stderr
    lazy = json.loads(out.read_text())["interpreters"][0]["distributions"][0]
    assert (lazy["tier"], lazy["flags"]) == ("own-gil", [])
    assert lazy["excluded_modules"] == ["ia_lazy.api", "ia_lazy.engine"]
    assert any("ia_lazy.engine is excluded" in note for note in lazy["notes"])
    assert {m["name"] for m in lazy["modules"] if m["excluded"]} == {"ia_lazy.api", "ia_lazy.engine"}
    # the command-line option does the same, and a bad name is a one-line usage error
    done = run_cli("scan", "--python", str(corpus_env.python), "--no-cache", "--no-smoke", "--format", "json",
                   "--ignore-module", "ia_lazy.engine", "--ignore-module", "ia_lazy.api", "ia-fixture-lazy")
    assert done.returncode == 0 and json.loads(done.stdout)["interpreters"][0]["distributions"][0]["tier"] == "own-gil"
    done = run_cli("scan", "--python", str(corpus_env.python), "--ignore-module", "not a module", "ia-fixture-lazy")
    assert done.returncode == 2 and "Traceback" not in done.stderr and "not a dotted module name" in done.stderr


def test_a_top_level_name_failing_in_main_does_not_make_the_package_broken(corpus_scan):
    _, dists, _ = corpus_scan
    extra = dists["ia-fixture-extra-name"]
    assert extra["tier"] == "own-gil"
    plugin = next(m for m in extra["modules"] if m["name"] == "ia_extra_plugin")
    assert plugin["tier"] == "broken" and "ia_fixture_not_installed" in plugin["error"]
    assert any(note.startswith("ia_extra_plugin fails in the main interpreter too") for note in extra["notes"])


def test_json_output_validates_against_the_schema(corpus_scan):
    report, _, _ = corpus_scan
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    python = report["interpreters"][0]["python"]
    assert python["implementation"] == "cpython" and python["version"].startswith("3.1")
    assert report["tool_version"] and report["schema_version"] >= 1


def test_static_evidence_and_findings_are_part_of_each_result(corpus_scan):
    _, dists, _ = corpus_scan
    single = dists["ia-fixture-single"]
    assert [(e["module"], e["init"]) for e in single["extensions"]] == [("ia_single", "single-phase")]
    assert "IA101" in {f["code"] for f in single["findings"]}
    clean = dists["ia-fixture-clean"]
    assert clean["extensions"][0]["multiple_interpreters"] == "per-interpreter-gil"
    assert clean["extensions"][0]["method"]["multiple_interpreters"] == "initfunc"
    assert [f for f in clean["findings"] if f["severity"] != "info"] == []


def test_static_only_predicts_without_importing(corpus_env, tmp_path):
    out = tmp_path / "static.json"
    started = time.monotonic()
    done = run_cli("scan", "--python", str(corpus_env.python), "--no-cache", "--static-only", "--timeout", "30",
                   "--format", "json", "-o", str(out), "ia-fixture-single", "ia-fixture-clean",
                   "ia-fixture-hang", "ia-fixture-segv", "ia-fixture-multi-supported")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30  # the hang fixture was never imported
    dists = {d["name"]: d for d in json.loads(out.read_text())["interpreters"][0]["distributions"]}
    assert dists["ia-fixture-single"]["tier"] == "legacy-only"
    assert dists["ia-fixture-hang"]["modes"] == {} and dists["ia-fixture-hang"]["static_only"]
    assert all(e["method"].get("init") == "symbols" for d in dists.values() for e in d["extensions"])
    assert any("--static-only" in note for note in dists["ia-fixture-clean"]["notes"])
    # The declared slots are read from the files: the tiers they allow, no default assumed.
    assert dists["ia-fixture-clean"]["tier"] == "own-gil"
    assert dists["ia-fixture-multi-supported"]["tier"] == "shared-gil"
    for name in ("ia-fixture-clean", "ia-fixture-multi-supported"):
        [ext] = dists[name]["extensions"]
        assert ext["method"]["multiple_interpreters"] == "moduledef", ext["method"]
        assert not any("assumed" in note for note in dists[name]["notes"])


def test_a_smoke_check_failing_in_isolated_runs_again_one_rung_down(corpus_env, tmp_path):
    out = tmp_path / "smoke.json"
    done = run_cli("scan", "--python", str(corpus_env.python), "--no-cache", "--timeout", "20",
                   "--format", "json", "-o", str(out), "ia-fixture-leaktype", "ia-fixture-clean")
    assert done.returncode == 0, done.stderr
    dists = {d["name"]: d for d in json.loads(out.read_text())["interpreters"][0]["distributions"]}
    assert dists["ia-fixture-clean"]["tier"] == "own-gil" and dists["ia-fixture-clean"]["smoke"]["ok"]
    leak = dists["ia-fixture-leaktype"]
    assert leak["tier"] == "shared-gil" and "smoke-failed" in leak["flags"]
    # the check ran in shared-GIL interpreters too before the tier was given; its rungs are recorded
    assert leak["smoke"]["rungs"] == {"static_types": {"isolated": "failed", "shared-gil": "skipped"}}
    assert "IA313" in {f["code"] for f in leak["findings"]}


def test_table_shows_tiers_and_a_summary(corpus_env):
    done = run_cli("scan", "--python", str(corpus_env.python), "--no-cache", "--timeout", TIMEOUT,
                   "ia-fixture-single", "ia-fixture-clean")
    assert done.returncode == 0, done.stderr
    assert "ia-fixture-single" in done.stdout and "legacy-only" in done.stdout
    assert "own-gil 1" in done.stdout and "legacy-only 1" in done.stdout
    assert "\x1b[" not in done.stdout  # NO_COLOR and a pipe: no escape codes
    assert "given with --python" in done.stderr


def test_fail_under_exit_codes(corpus_env):
    args = ["scan", "--python", str(corpus_env.python), "--no-cache", "ia-fixture-single", "ia-fixture-clean"]
    assert run_cli(*args, "--fail-under", "legacy-only").returncode == 0
    assert run_cli(*args, "--fail-under", "shared-gil").returncode == 1


def test_cached_rescan_runs_nothing_and_killed_scan_resumes(corpus_env, tmp_path):
    cache = tmp_path / "cache"
    # Every fixture but the hanging one, which only adds 30 s of timeouts here.
    names = sorted(name for name in corpus_env.expected if name != "ia-fixture-hang")
    args = [sys.executable, "-m", "interp_audit", "scan", "--python", str(corpus_env.python),
            "--cache-dir", str(cache), "--timeout", TIMEOUT, "--no-smoke", "--format", "json", *names]
    # Kill the first scan (one distribution at a time) once a few results are stored.
    process = subprocess.Popen(args + ["-j", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    database = cache / "results.sqlite3"
    deadline = time.monotonic() + 300
    stored = 0
    while time.monotonic() < deadline and process.poll() is None:
        if database.exists():
            try:
                with sqlite3.connect(database) as db:
                    stored = db.execute("SELECT count(*) FROM results").fetchone()[0]
            except sqlite3.OperationalError:  # the scan is still creating its tables
                stored = 0
            if stored >= 3:
                break
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert stored >= 3
    total = len(names)
    resumed = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr
    came_from_store = int(resumed.stderr.split(" more came unchanged")[0].rsplit(";", 1)[1])
    assert came_from_store >= 3
    again = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert f"Audited 0 item(s); {total} more came unchanged from the result store." in again.stderr
    assert json.loads(again.stdout) ["interpreters"][0]["distributions"] == \
        json.loads(resumed.stdout)["interpreters"][0]["distributions"]
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT distribution, count(*) FROM results GROUP BY distribution").fetchall()
    assert len(rows) == total and all(count == 1 for _, count in rows)


def test_several_pythons_make_one_report(tmp_path):
    pythons = fixturelib.target_pythons()
    if len(pythons) < 2:
        pytest.skip("needs two target interpreters")
    out = tmp_path / "r.json"
    args = ["scan", "--no-cache", "--format", "json", "-o", str(out), "pip"]
    for python in pythons[:2]:
        args += ["--python", python]
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    versions = [run["python"]["version"] for run in json.loads(out.read_text())["interpreters"]]
    assert len(set(versions)) == 2


def test_stdlib_audit_knows_the_classic_refusals(target_python, tmp_path):
    out = tmp_path / "std.json"
    done = run_cli("scan", "--stdlib", "--python", target_python, "--no-cache", "--format", "json",
                   "-o", str(out), "readline", "_curses", "_decimal", "json")
    assert done.returncode == 0, done.stderr
    run = json.loads(out.read_text())["interpreters"][0]
    dists = {d["name"]: d for d in run["distributions"]}
    assert not dists["readline"]["modes"]["isolated"]["ok"]
    assert not dists["_curses"]["modes"]["isolated"]["ok"]
    assert dists["json"]["tier"] == "own-gil"
    decimal_isolated = dists["_decimal"]["modes"]["isolated"]["ok"]
    assert decimal_isolated == (run["python"]["version"] >= "3.13")


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("spec, message", [
    ("/nonexistent/python3", "does not exist"),
    ("{tmp}/plain.txt", "is not an executable file"),
    ("{tmp}/script.txt", "is not a Python interpreter"),
    ("/bin/true", "is not a Python interpreter"),
])
def test_bad_python_is_a_one_line_error(spec, message, tmp_path):
    (tmp_path / "plain.txt").write_text("hello\n")
    (tmp_path / "script.txt").write_text("hello\n")
    (tmp_path / "script.txt").chmod(0o755)
    result = CliRunner().invoke(main, ["scan", "--python", spec.format(tmp=tmp_path)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_python_older_than_312_is_refused_with_the_reason():
    old = next((p for p in ("/root/.pyenv/versions/3.11.7/bin/python3.11", sys.executable)
                if Path(p).exists() and sys.version_info < (3, 12)), None)
    if old is None:
        pytest.skip("no Python older than 3.12 here")
    result = CliRunner().invoke(main, ["scan", "--python", old])
    assert result.exit_code == 2
    assert "need CPython 3.12 or newer" in result.output


def test_python_that_is_not_cpython_is_refused():
    pypy = shutil.which("pypy3")
    if pypy is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pypy3 is not installed (.ci/run installs it)")
        pytest.skip("pypy3 is not installed")
    result = CliRunner().invoke(main, ["scan", "--python", pypy])
    assert result.exit_code == 2
    assert "is pypy, not CPython" in result.output and "Traceback" not in result.output


def test_default_target_says_why_it_was_chosen():
    if sys.version_info >= (3, 12):
        target = resolve(None)
        assert target.chosen_because == "the running interpreter is CPython >= 3.12"
    else:
        try:
            target = resolve(None)
        except TargetError as exc:
            assert "no CPython >= 3.12 was found" in str(exc)
        else:
            assert target.version >= (3, 12)
            assert "newest CPython >= 3.12 found" in target.chosen_because


def test_version_spec_is_resolved_by_discovery(target_python):
    version = fixturelib.python_info(target_python)["label"].replace("py", "")
    target = resolve(version)
    assert target.version[:2] == tuple(int(p) for p in version.split("."))
    assert f"--python {version} resolved to" in target.chosen_because


def test_discovery_runs_no_shim_and_keeps_a_venv_on_path(target_python, tmp_path, monkeypatch):
    version = fixturelib.python_info(target_python)["label"].replace("py", "")
    shims = tmp_path / "shims"  # like pyenv's: a script per name that dispatches to the real interpreter
    shims.mkdir()
    ran = tmp_path / "shim-ran"
    shim = shims / f"python{version}"
    shim.write_text(f"#!/bin/sh\ntouch {ran}\nexec {target_python} \"$@\"\n")
    shim.chmod(0o755)
    venv_python = fixturelib.make_venv(target_python, tmp_path / "venv")
    monkeypatch.setenv("PATH", os.pathsep.join([str(shims), str(venv_python.parent), os.environ["PATH"]]))
    target = resolve(version)
    assert target.version[:2] == tuple(int(p) for p in version.split("."))
    assert not ran.exists(), "a shim was run"
    from interp_audit.target import _discovered
    assert str(venv_python) in {str(p.executable) for p in _discovered(version)}, "the venv's python was lost"


def test_unknown_distribution_name_is_exit_2(corpus_env):
    done = run_cli("scan", "--python", str(corpus_env.python), "--no-cache", "no-such-dist-xyz")
    assert done.returncode == 2
    assert "not installed" in done.stderr and "no-such-dist-xyz" in done.stderr
    assert "Traceback" not in done.stderr


def test_distribution_without_record_is_reported_and_the_scan_goes_on(corpus_env, tmp_path):
    venv = fixturelib.make_venv(corpus_env.base_python, tmp_path / "venv")
    fixturelib.install_wheels(venv, [corpus_env.wheels["ia-fixture-pure"], corpus_env.wheels["ia-fixture-clean"]])
    site = fixturelib.site_packages(venv)
    record = next(site.glob("ia_fixture_pure-*.dist-info")) / "RECORD"
    record.unlink()
    done = run_cli("scan", "--python", str(venv), "--no-cache", "ia-fixture-pure", "ia-fixture-clean")
    assert done.returncode == 2
    assert "ia-fixture-pure" in done.stderr and "no RECORD" in done.stderr
    assert "Traceback" not in done.stderr
    assert "ia-fixture-clean" in done.stdout  # the other result is still there


def test_flooding_output_is_a_result_not_an_error(corpus_env, tmp_path):
    venv = fixturelib.make_venv(corpus_env.base_python, tmp_path / "venv")
    spec = fixturelib.DistSpec(
        name="ia-fixture-flood", version="1.0",
        # 2 MB per import: 30 times a pipe's buffer, so a parent that did not drain it would hang.
        python_files={"ia_flood/__init__.py": "import sys\nfor i in range(20000):\n    print('x' * 100)\n"},
    )
    fixturelib.install_wheels(venv, [fixturelib.build_wheel(corpus_env.base_python, spec, tmp_path / "w")])
    out = tmp_path / "r.json"
    done = run_cli("scan", "--python", str(venv), "--no-cache", "--format", "json", "-o", str(out), "ia-fixture-flood")
    assert done.returncode == 0, done.stderr
    dist = json.loads(out.read_text())["interpreters"][0]["distributions"][0]
    assert dist["tier"] == "own-gil"


def test_python_dash_m_works():
    done = subprocess.run([sys.executable, "-m", "interp_audit", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "scan" in done.stdout


def test_corrupt_or_foreign_extensions_and_unreadable_record_are_reported_and_the_scan_goes_on(corpus_env, tmp_path):
    suffix = fixturelib.python_info(corpus_env.base_python)["ext_suffix"]
    corrupt = fixturelib.DistSpec(
        name="ia-fixture-corrupt", version="1.0",
        python_files={"ia_corrupt/__init__.py": "from ia_corrupt import _speed\n",
                      f"ia_corrupt/_speed{suffix}": "this is not an ELF file\n"},
    )
    venv = fixturelib.make_venv(corpus_env.base_python, tmp_path / "venv")
    fixturelib.install_wheels(venv, [fixturelib.build_wheel(corpus_env.base_python, corrupt, tmp_path / "w"),
                                     corpus_env.wheels["ia-fixture-pure"], corpus_env.wheels["ia-fixture-clean"]])
    site = fixturelib.site_packages(venv)
    record = next(site.glob("ia_fixture_pure-*.dist-info")) / "RECORD"
    record.unlink()
    record.mkdir()  # a RECORD that cannot be read, even by root
    # A real extension of this Python, marked as built for aarch64 (ELF e_machine 183).
    arm = bytearray(next(site.glob("ia_clean*.so")).read_bytes())
    arm[18:20] = (183).to_bytes(2, "little")
    (site / "ia_corrupt" / f"_arm{suffix}").write_bytes(bytes(arm))
    corrupt_record = next(site.glob("ia_fixture_corrupt-*.dist-info")) / "RECORD"
    with corrupt_record.open("a") as handle:
        handle.write(f"ia_corrupt/_arm{suffix},,\n")
    out = tmp_path / "r.json"
    done = run_cli("scan", "--python", str(venv), "--no-cache", "--format", "json", "-o", str(out),
                   "ia-fixture-corrupt", "ia-fixture-pure", "ia-fixture-clean")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert any("ia-fixture-corrupt" in line and "ia_corrupt._speed" in line for line in errors)
    assert any("ia-fixture-pure" in line and "RECORD" in line for line in errors)
    assert any("ia_corrupt._arm" in line and "aarch64" in line for line in errors)
    dists = {d["name"]: d for d in json.loads(out.read_text())["interpreters"][0]["distributions"]}
    assert {e["module"]: e["init"] for e in dists["ia-fixture-corrupt"]["extensions"]} == {
        "ia_corrupt._arm": "unknown", "ia_corrupt._speed": "unknown"}
    assert dists["ia-fixture-corrupt"]["tier"] == "broken"
    assert dists["ia-fixture-clean"]["tier"] == "own-gil"


def test_a_stdlib_crash_culprit_is_named_as_standard_library(target_python, tmp_path):
    if fixturelib.python_info(target_python)["hexversion"] != 0x030C01F0:  # 3.12.1 final
        pytest.skip("the hashlib abort is a CPython 3.12.1 bug")
    out = tmp_path / "h.json"
    done = run_cli("scan", "--stdlib", "--python", target_python, "--no-cache", "--no-smoke", "--format", "json",
                   "-o", str(out), "hashlib")
    assert done.returncode == 0, done.stderr
    hashlib = json.loads(out.read_text())["interpreters"][0]["distributions"][0]
    crash = hashlib["modes"]["isolated"]["alone"]["crash"]
    # the crash is CPython's own: the rung passes, the crash stays on record with its culprit
    assert "crashed" not in hashlib["flags"] and hashlib["tier"] == "own-gil"
    assert crash["culprit"] == "hashlib" and crash["culprit_is_stdlib"] and crash["signal"] == "SIGABRT"
    assert crash["at_shutdown"]
    assert [f["code"] for f in hashlib["findings"] if f["code"] in ("IA303", "IA307")] == ["IA307"]


ABORT_IN_SUBINTERPRETERS = '''
try:
    import _interpreters as interpreters
except ImportError:
    import _xxsubinterpreters as interpreters
import os
if interpreters.get_current() != interpreters.get_main():
    os.abort()
'''


def test_a_crash_in_a_snippet_is_the_package_s_when_the_standard_library_alone_does_not_crash(corpus_env, tmp_path):
    snippets = tmp_path / "smoke.toml"
    snippets.write_text("[tool.interp-audit.smoke]\n"
                        f"ia_pure = '''{ABORT_IN_SUBINTERPRETERS}'''\n"
                        f"ia_clean = '''{ABORT_IN_SUBINTERPRETERS}'''\n")
    out = tmp_path / "r.json"
    done = run_cli("scan", "--python", str(corpus_env.python), "--no-cache", "--smoke", str(snippets),
                   "--format", "json", "-o", str(out), "ia-fixture-pure", "ia-fixture-clean")
    assert done.returncode == 0, done.stderr
    run = json.loads(out.read_text())["interpreters"][0]
    dists = {d["name"]: d for d in run["distributions"]}
    for name in ("ia-fixture-pure", "ia-fixture-clean"):  # pure Python or not, the control decides
        dist = dists[name]
        assert dist["smoke"]["snippets"]["status"] == "crashed"
        # the snippet aborts in every kind of sub-interpreter: no rung passes the smoke checks
        assert dist["smoke"]["rungs"]["snippets"] == {"isolated": "crashed", "shared-gil": "crashed",
                                                      "legacy": "crashed"}
        assert dist["tier"] == "main-only" and "smoke-failed" in dist["flags"]
        assert not any(c["crashed"] for c in dist["controls"]) and dist["cpython_problems"] == []
    assert run["known_problems"] == []


STDLIB_CRASHES = {  # kind of check or scenario -> the standard-library import that crashes it, where it does
    "parallel": ["datetime"],  # CPython 3.13.0 .. 3.13.15 (and 3.12.1): concurrent _datetime + destroy aborts
    "alone": ["hashlib"],  # CPython 3.12.1: hashlib imported first in an isolated interpreter aborts at exit
}


@pytest.mark.parametrize("kind", sorted(STDLIB_CRASHES))
def test_a_crash_the_standard_library_alone_reproduces_is_cpython_s(corpus_env, tmp_path, kind):
    from interp_audit.runtime.ladder import Ladder

    python = str(corpus_env.python)
    stdlib = frozenset(json.loads(subprocess.run([python, "-c", "import sys, json; print(json.dumps("
                                                  "sorted(sys.stdlib_module_names)))"], capture_output=True,
                                                 text=True, check=True).stdout))
    if not Ladder(python, 30, stdlib).control(kind, "isolated", STDLIB_CRASHES[kind]).crashed:
        pytest.skip(f"this interpreter does not crash in the {kind} control with {STDLIB_CRASHES[kind]}")
    for attempt in range(3):  # the crash happens in most runs, not all: look until the scan meets it
        out = tmp_path / f"r{attempt}.json"
        done = run_cli("scan", "--python", python, "--no-cache", "--timeout", "30", "--format", "json",
                       "-o", str(out), "ia-fixture-stdlib-user")
        assert done.returncode == 0, done.stderr
        run = json.loads(out.read_text())["interpreters"][0]
        dist = run["distributions"][0]
        # the extension package keeps its tier whatever CPython does
        assert (dist["tier"], dist["flags"]) == ("own-gil", [])
        met = [c for c in dist["controls"] if c["crashed"] and c["kind"] == kind]
        if met:
            break
    else:
        pytest.fail(f"three scans never met the {kind} crash that the control reproduces")
    problem = next(p for p in run["known_problems"] if p["id"] == met[0]["problem"])
    assert problem["distributions"] == ["ia-fixture-stdlib-user"] and problem["kind"] == kind
    assert set(problem["reproduction"]) <= {"datetime", "_datetime", "hashlib", "_hashlib", "_blake2"}
    assert "upgrade" in problem["advice"]
    ia307 = [f for f in dist["findings"] if f["code"] == "IA307"]
    assert ia307 and all(f["severity"] == "low" for f in ia307)
    assert not {f["code"] for f in dist["findings"]} & {"IA303", "IA311", "IA312", "IA313"}
    from interp_audit.reports.markdown import escape

    done = run_cli("report", str(out), "--format", "markdown")
    assert "Known problems of this Python" in done.stdout and escape(problem["id"]) in done.stdout


def test_a_smaller_reproduction_is_tried_once(corpus_env):
    """The control of the whole set runs until it crashes; each smaller set it is reduced to runs
    once (a half that does not crash once is not run four more times)."""
    from interp_audit.runtime.ladder import CONTROL_RUNS, Ladder

    ladder = Ladder(str(corpus_env.python), 30, frozenset(sys.stdlib_module_names))
    if not ladder.control("parallel", "isolated", ["datetime"]).crashed:
        pytest.skip("this interpreter does not crash in parallel isolated interpreters importing datetime")
    ladder = Ladder(str(corpus_env.python), 30, frozenset(sys.stdlib_module_names))
    control = ladder.control("parallel", "isolated", ["bisect", "datetime", "keyword"])
    tried = {imports: c.runs for (_, _, imports), c in ladder._controls.items()}
    assert control.crashed and tried.get(("bisect",), 1) == 1 and tried.get(("datetime", "keyword"), 1) == 1
    whole = ladder._controls[("parallel", "isolated", ("bisect", "datetime", "keyword"))]
    assert whole.crashed or whole.runs == CONTROL_RUNS


INTERPRETERS_MODULE = ("try:\n    import _interpreters as _interps\n"
                       "except ImportError:  # 3.12\n    import _xxsubinterpreters as _interps\n")
#: Pure Python that imports datetime in sub-interpreters only: main's import and walk never load
#: it, so a standard-library control (which imports what main loaded) cannot reproduce the
#: 3.13 _datetime crash its parallel check runs into.
SUB_ONLY_DATETIME = INTERPRETERS_MODULE + "if _interps.get_current() != _interps.get_main():\n    import datetime\n"
#: Pure Python that aborts the process itself (os.abort) when four interpreters run at once.
ABORTS_IN_PARALLEL = INTERPRETERS_MODULE + "import os\nif len(_interps.list_all()) > 3:\n    os.abort()\n"


def _scan_fixture(corpus_env, tmp_path, spec, *options):
    """Build ``spec``, install it into a fresh venv of the target and scan it; (run, dist) of the JSON."""
    venv = fixturelib.make_venv(corpus_env.base_python, tmp_path / "venv")
    fixturelib.install_wheels(venv, [fixturelib.build_wheel(corpus_env.base_python, spec, tmp_path / "w")])
    out = tmp_path / "r.json"
    done = run_cli("scan", "--python", str(venv), "--no-cache", "--timeout", "30", *options, "--format", "json",
                   "-o", str(out), spec.name)
    assert done.returncode == 0, done.stderr
    run = json.loads(out.read_text())["interpreters"][0]
    return run, run["distributions"][0]


def _pure(name, code):
    return fixturelib.DistSpec(name=name, version="1.0", python_files={name.replace("-", "_") + "/__init__.py": code})


def test_a_crash_outside_python_code_in_a_pure_python_package_is_cpython_s(corpus_env, tmp_path):
    """No control reproduces it (main never loaded datetime), but nothing except CPython's
    native code ran and the crash stopped outside any Python frame: the tier is kept."""
    from interp_audit.runtime.ladder import Ladder

    python = str(corpus_env.python)
    if not Ladder(python, 30, frozenset(sys.stdlib_module_names)).control("parallel", "isolated", ["datetime"]).crashed:
        pytest.skip("this interpreter does not crash in parallel isolated interpreters importing datetime")
    for attempt in range(3):  # the crash happens in most runs, not all
        run, dist = _scan_fixture(corpus_env, tmp_path / str(attempt), _pure("ia-fixture-subdt", SUB_ONLY_DATETIME))
        met = [c for c in dist["controls"] if c["kind"] == "parallel" and c.get("no_native_code")]
        if met:
            break
        assert dist["smoke"]["parallel"]["status"] != "crashed" or "<no Python frame>" not in \
            dist["smoke"]["parallel"]["crash"]["stderr_tail"], dist["controls"]
    else:
        pytest.skip("three scans never met the parallel crash outside Python code")
    assert (dist["tier"], dist["flags"]) == ("own-gil", [])
    assert met[0]["crashed"] is False and "datetime" not in met[0]["imports"]
    assert met[0]["problem"] == "parallel/isolated/pure-python"
    problem = next(p for p in run["known_problems"] if p["id"] == met[0]["problem"])
    assert "outside any Python frame" in problem["what"] and problem["distributions"] == ["ia-fixture-subdt"]
    codes = {f["code"] for f in dist["findings"]}
    assert "IA307" in codes and not codes & {"IA311", "IA312"}


def test_a_pure_python_package_that_aborts_the_process_itself_is_blamed(corpus_env, tmp_path):
    """os.abort() from the package's own code: the crash did not stop outside Python code (the
    fault handler shows the package's frame, or four aborting threads cut its report short), so
    it is the package's, even though no native code but CPython's ran."""
    run, dist = _scan_fixture(corpus_env, tmp_path, _pure("ia-fixture-pyabort", ABORTS_IN_PARALLEL))
    parallel = dist["smoke"]["parallel"]
    assert parallel["status"] == "crashed" and parallel["crash"]["signal"] == "SIGABRT"
    assert "<no Python frame>" not in parallel["crash"]["stderr_tail"]
    assert [c["no_native_code"] for c in dist["controls"] if c["kind"] == "parallel"] in ([False], [False, False],
                                                                                         [False, False, False])
    assert dist["tier"] != "own-gil" and "smoke-failed" in dist["flags"]
    assert "IA311" in {f["code"] for f in dist["findings"]} and not dist["cpython_problems"]


def test_a_public_accelerator_that_the_package_does_without_is_degraded_not_climbed(corpus_env, tmp_path):
    """websockets.speedups, met in the survey: a public-named extension module refuses
    sub-interpreters, and ia_accel.frames, which imports it, falls back to Python.  The package
    works: own-gil with the degraded flag, the accelerator noted, not a climbed submodule."""
    spec = fixturelib.DistSpec(
        name="ia-fixture-accel", version="1.0",
        python_files={"ia_accel/__init__.py": "",
                      "ia_accel/frames.py": "try:\n    from ia_accel import speedups\nexcept ImportError:\n"
                                            "    speedups = None\n"},
        extensions={"ia_accel.speedups": Path(__file__).parent / "data" / "scan" / "public_speedups.c"},
    )
    _, dist = _scan_fixture(corpus_env, tmp_path, spec, "--no-smoke")
    assert (dist["tier"], dist["flags"]) == ("own-gil", ["degraded"])
    assert dist["degraded_modules"] == ["ia_accel.speedups"]
    assert [m["name"] for m in dist["modules"]] == ["ia_accel"]
    assert any(n.startswith("ia_accel.speedups fails in isolated") and "do without it" in n for n in dist["notes"])


def test_a_private_top_level_module_counts_through_the_public_names(corpus_env, tmp_path):
    """PyYAML's _yaml and tomli's <hash>__mypyc, met in the survey: a private top-level name
    that refuses sub-interpreters does not make the distribution main-only when its public
    name imports without it (degraded)."""
    spec = fixturelib.DistSpec(
        name="ia-fixture-private-top", version="1.0",
        python_files={"ia_pub/__init__.py": "try:\n    import _ia_priv\nexcept ImportError:\n    _ia_priv = None\n"},
        extensions={"_ia_priv": Path(__file__).parent / "data" / "scan" / "private_top.c"},
    )
    _, dist = _scan_fixture(corpus_env, tmp_path, spec, "--no-smoke")
    assert sorted(dist["import_names"]) == ["_ia_priv", "ia_pub"]
    assert (dist["tier"], dist["flags"], dist["degraded_modules"]) == ("own-gil", ["degraded"], ["_ia_priv"])
    assert [m["name"] for m in dist["modules"]] == ["ia_pub"]
    assert any(n.startswith("_ia_priv is a private top-level module") for n in dist["notes"])


def test_survey_summary_names_the_undeclared_dependency_of_a_broken_project(corpus_env, tmp_path):
    """soupsieve needs bs4 without declaring it (met in the survey): broken, and the survey
    summary says which module was missing."""
    run, dist = _scan_fixture(corpus_env, tmp_path, _pure("ia-fixture-undeclared", "import ia_fixture_not_installed\n"),
                              "--no-smoke")
    assert dist["tier"] == "broken"
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"schema_version": 3, "interpreters": [run]}))
    done = run_cli("report", str(results), "--format", "survey")
    assert done.returncode == 0, done.stderr
    assert "1 of the broken projects fail in the main interpreter because a module they import is not installed" \
           in done.stdout and "ia-fixture-undeclared (needs ia\\_fixture\\_not\\_installed)" in done.stdout


def test_a_refusal_naming_an_own_module_by_its_leaf_is_not_blocked_by(corpus_env, tmp_path):
    spec = fixturelib.DistSpec(
        name="ia-fixture-leafname", version="1.0",
        python_files={"ia_leafname/__init__.py": "from ia_leafname import _leaf\n"},
        extensions={"ia_leafname._leaf": Path(__file__).parent / "data" / "scan" / "leaf_name.c"},
    )
    _, dist = _scan_fixture(corpus_env, tmp_path, spec, "--no-smoke")
    # beside main, CPython names the module by its spec ("ia_leafname._leaf"); alone, by its m_name ("_leaf")
    texts = [s["error"] for s in (dist["modes"]["isolated"]["alone"], dist["modes"]["isolated"]["beside_main"])]
    assert any(re.search(r"module (ia_leafname\.)?_leaf does not support loading in subinterpreters", t) for t in texts)
    assert dist["tier"] == "legacy-only" and dist["flags"] == [] and dist["blocked_by"] == []
    assert dist["culprit"] == "ia_leafname._leaf"


def test_relative_python_path_works(corpus_env, tmp_path):
    relative = os.path.relpath(corpus_env.python, tmp_path)
    done = subprocess.run([sys.executable, "-m", "interp_audit", "scan", "--python", relative, "--no-cache",
                           "--no-smoke", "ia-fixture-pure"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "ia-fixture-pure" in done.stdout and "own-gil" in done.stdout


REAL_REFUSALS = {  # the texts as the frameworks raise them
    "numpy": "ImportError: cannot load module more than once per process",
    "pyo3": "ImportError: PyO3 modules do not yet support subinterpreters, see https://github.com/PyO3/pyo3/issues/576",
    "cython": "ImportError: Interpreter change detected - this module can only be loaded into one interpreter per "
              "process.",
}


@pytest.mark.parametrize("framework", sorted(REAL_REFUSALS))
def test_each_known_process_wide_refusal_is_recognised(framework):
    from interp_audit.model import ScenarioResult
    from interp_audit.runtime.ladder import _process_wide_refusal, process_wide_refusals

    assert framework in {name for name, _ in process_wide_refusals()}
    text = REAL_REFUSALS[framework]
    found = _process_wide_refusal(ScenarioResult(ok=False, error=text, error_chain=[text]))
    assert found and found[0] == framework
    other = "ImportError: module x does not support loading in subinterpreters"
    assert _process_wide_refusal(ScenarioResult(ok=False, error=other, error_chain=[other])) is None


@pytest.mark.parametrize("dist, rung_derived", [("ia-fixture-oneper", "legacy"), ("ia-fixture-single", "shared-gil"),
                                                 ("ia-fixture-multi-notsupported", "shared-gil")])
def test_an_inferred_run_agrees_with_running_it(corpus_env, dist, rung_derived):
    """Each inference rule, pinned to a fixture where it applies: the rungs and scenarios it
    derives fail exactly as running them does."""
    from interp_audit.runtime.ladder import Ladder, refused_where_checked
    from interp_audit.source.environment import EnvironmentSource
    from interp_audit.static.inspection import inspect_extensions

    source = EnvironmentSource(str(corpus_env.python), [dist])
    [item] = source.items()
    name, watched = item.import_names[0], source.watched_extensions(item)
    refused = refused_where_checked(inspect_extensions(str(corpus_env.python), item.extensions, timeout=30))
    inferred = Ladder(str(corpus_env.python), 30, source.stdlib_names()).climb(name, watched, refused=refused)
    ran = Ladder(str(corpus_env.python), 30, source.stdlib_names(), infer=False).climb(name, watched, refused=refused)
    derived = [(mode, result) for mode, result in inferred.modes.items()
               if result.inferred and "not run: beside main" in result.inferred
               or result.alone is not None and result.alone.inferred]
    assert rung_derived in dict(derived)  # the rule applied here
    assert not any(result.inferred for result in ran.modes.values() if result.ok is False)
    for mode, result in derived:
        assert result.ok == ran.modes[mode].ok, mode
        if result.alone is not None and result.alone.inferred:
            assert result.alone.ok == ran.modes[mode].alone.ok is False, mode
