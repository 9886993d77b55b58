"""The rule catalogue, its configuration and the ``rules`` / ``explain`` commands.

Rules judge facts, so most tests build the facts as model dataclasses (this is
the rules' real input, not a stand-in for an interpreter).  The end-to-end tests
at the bottom feed evidence produced by the real static readers from compiled
fixture extensions, and by the real runtime ladder on the installed fixture corpus.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import fixturelib
from interp_audit._cli import main as cli
from interp_audit.model import (
    BlockedBy,
    Crash,
    DistributionResult,
    ExtensionInfo,
    Framework,
    InterpreterRun,
    ModeResult,
    PythonInfo,
    ScanReport,
    ScenarioResult,
)
from interp_audit.rules import _docs, registry
from interp_audit.rules.config import ConfigError, RuleConfig, load_config
from interp_audit.rules.interface import RuleContext

REPO = Path(__file__).resolve().parent.parent
PY312 = RuleContext(PythonInfo(version="3.12.1", implementation="cpython", executable="python3.12"))
PY313 = RuleContext(PythonInfo(version="3.13.0", implementation="cpython", executable="python3.13"))
PY311 = RuleContext(PythonInfo(version="3.11.7", implementation="cpython", executable="python3.11"))


# --------------------------------------------------------------------------- fact builders


def ext(module="pkg._ext", **fields) -> ExtensionInfo:
    return ExtensionInfo(module=module, path="/site/%s.so" % module.replace(".", "/"), **fields)


def dist(*extensions, name="pkg", **fields) -> DistributionResult:
    return DistributionResult(name=name, version="1.0", extensions=list(extensions), **fields)


def scenario(ok, **fields) -> ScenarioResult:
    return ScenarioResult(ok=ok, **fields)


def mode(ok, **fields) -> ModeResult:
    return ModeResult(ok=ok, **fields)


def multi(**fields) -> dict:
    """Fields of a multi-phase module whose slots were read by the init-function probe."""
    return {"init": "multi-phase", "method": {"slots": "initfunc"}, **fields}


def glob(name, size, section=".bss"):
    return {"name": name, "size": size, "section": section, "exported": False}


def run(code, facts, context=PY313):
    """The findings of one rule."""
    return list(registry.get(code).check(facts, context))


REFUSAL = "ImportError: module pkg._ext does not support loading in subinterpreters"
ISOLATED_REFUSED = {"isolated": mode(False, error=REFUSAL, alone=scenario(False, error=REFUSAL, failed_module="pkg._ext"))}
SEGV = Crash(signal="SIGSEGV", returncode=-11, culprit="pkg._ext", stderr_tail="Fatal Python error: Segmentation fault")

#: code -> (facts that trigger the rule, facts that do not).  Every rule must be here.
CASES = {
    "IA101": (dist(ext(init="single-phase")), dist(ext(init="multi-phase"))),
    "IA102": (dist(ext(**multi())), dist(ext(**multi(multiple_interpreters="per-interpreter-gil")))),
    "IA103": (dist(ext(init="multi-phase", multiple_interpreters="not-supported")),
              dist(ext(init="multi-phase", multiple_interpreters="supported"))),
    "IA104": (dist(ext(init="multi-phase", multiple_interpreters="supported")),
              dist(ext(init="multi-phase", multiple_interpreters="per-interpreter-gil"))),
    "IA105": (dist(ext(**multi(gil=None))), dist(ext(**multi(gil="not-used")))),
    "IA106": (dist(ext(init="multi-phase", m_size=0, evidence={"writable_globals": [glob("counter", 4)]})),
              dist(ext(init="multi-phase", m_size=16, evidence={"writable_globals": [glob("counter", 4)]}))),
    "IA107": (dist(ext(evidence={"initfunc": {"error": "PyInit__ext crashed the process (SIGSEGV)"},
                                 "initfunc_crash": {"signal": "SIGSEGV", "culprit": "pkg._ext", "stderr_tail": "boom"}})),
              dist(ext(evidence={"initfunc": {"source": "initfunc", "def_name": "_ext"}}), modes={"main": mode(True)})),
    "IA201": (dist(ext(evidence={"writable_globals": [glob("module_def", 104, ".data"), glob("cache", 8)]})),
              dist(ext(evidence={"writable_globals": [glob("module_def", 104, ".data"), glob("methods", 64, ".data"),
                                                      glob("completed.0", 1), glob("__dso_handle", 0, ".data")]}))),
    "IA202": (dist(ext(evidence={"static_types": True})), dist(ext(evidence={"static_types": False}))),
    "IA203": (dist(ext(evidence={"module_lookup": ["PyState_FindModule"]})), dist(ext(evidence={"module_lookup": []}))),
    "IA204": (dist(ext(evidence={"gilstate": ["PyGILState_Ensure", "PyGILState_Release"]})),
              dist(ext(evidence={"gilstate": []}))),
    "IA205": (dist(ext(framework=Framework("cython", "3.1.2"),
                       evidence={"writable_globals": [glob("__pyx_v_3pkg_4_ext_counter", 8)]})),
              dist(ext(framework=Framework("c-api"), evidence={"writable_globals": [glob("__pyx_v_3pkg_4_ext_counter", 8)]}))),
    "IA301": (dist(modes=dict(ISOLATED_REFUSED)), dist(modes={"isolated": mode(True)})),
    "IA302": (dist(flags=["one-per-process"], one_per_process=[
                  {"module": "pkg._rs", "framework": "pyo3",
                   "refusal": "ImportError: PyO3 modules do not yet support subinterpreters, see https://github.com/PyO3/pyo3/issues/576"}]),
              dist(modes={"isolated": mode(True)})),
    "IA303": (dist(flags=["crashed"], modes={"isolated": mode(False, crash=SEGV)}), dist(modes={"isolated": mode(True)})),
    "IA304": (dist(flags=["degraded"], degraded_modules=["pkg._speedups"]), dist(modes={"isolated": mode(True)})),
    "IA305": (dist(flags=["blocked-by"], blocked_by=[BlockedBy("other._c", "other", False, REFUSAL.replace("pkg._ext", "other._c"))]),
              dist(modes={"isolated": mode(True)})),
    "IA306": (dist(ext(init="multi-phase", multiple_interpreters="per-interpreter-gil"),
                   modes={"isolated": mode(False, crash=SEGV)}),
              dist(ext(init="multi-phase", multiple_interpreters="per-interpreter-gil"),
                   modes={"isolated": mode(True, alone=scenario(True, loaded_extensions=["pkg._ext"]))})),
}

#: IA4xx: code -> framework name as ExtensionInfo.framework.name spells it.
FRAMEWORK_RULES = {
    "IA401": "cython", "IA402": "pybind11", "IA403": "nanobind", "IA404": "pyo3",
    "IA405": "swig", "IA406": "mypyc", "IA407": "cffi", "IA408": "hpy",
}
for _code, _framework in FRAMEWORK_RULES.items():
    CASES[_code] = (
        dist(ext(**multi(framework=Framework(_framework)))),  # no slot: shared GIL at best
        dist(ext(init="multi-phase", multiple_interpreters="per-interpreter-gil", framework=Framework(_framework)),
             modes={"isolated": mode(True, alone=scenario(True, loaded_extensions=["pkg._ext"]))}),
    )


# --------------------------------------------------------------------------- the catalogue


def test_every_rule_has_a_trigger_and_a_non_trigger_case():
    """Rules of this catalogue are in CASES; rules other stages add (IA31x smoke rules) must be
    exercised by their own test module."""
    assert set(CASES) <= set(registry.codes())
    others = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py") if p.name != Path(__file__).name)
    untested = [code for code in registry.codes() if code not in CASES and code not in others]
    assert untested == []


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_fires_on_its_facts(code):
    findings = run(code, CASES[code][0])
    assert findings, code
    for finding in findings:
        assert finding.code == code
        assert finding.severity in ("info", "low", "medium", "high", "critical")
        assert finding.distribution == "pkg"
        assert finding.remediation
        assert not re.search(r"\{\w+\}", finding.message), finding.message  # every placeholder filled
        assert "\n" not in finding.message


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_stays_quiet_on_other_facts(code):
    assert run(code, CASES[code][1]) == []


def test_codes_the_source_linter_reuses_exist():
    for code in ("IA101", "IA102", "IA103", "IA104", "IA105", "IA201", "IA202", "IA203", "IA204", "IA205", "IA401"):
        rule = registry.get(code)
        assert rule.scope == "extension"
        finding = rule.finding(distribution=None, module="src/mod.c", names="counter", m_size=0, framework="Cython")
        assert finding.code == code and "src/mod.c" in finding.message


def test_rules_have_unique_names_references_and_docs():
    rules = registry.all_rules()
    assert len({r.name for r in rules}) == len(rules)
    for rule in rules:
        rule.validate()
        assert rule.references and all(url.startswith("https://") for url in rule.references)


def test_get_accepts_lower_case_and_names_and_suggests():
    assert registry.get("ia101").code == "IA101"
    assert registry.get("single-phase-init").code == "IA101"
    with pytest.raises(registry.UnknownRule) as info:
        registry.get("IA1O1")
    assert "IA101" in info.value.suggestions
    with pytest.raises(registry.UnknownRule) as info:
        registry.get("pyo3")
    assert info.value.suggestions == ["IA404"]


# --------------------------------------------------------------------------- rule details


def test_single_phase_is_inferred_from_imported_api():
    inferred = ext(init="unknown", evidence={"imports_single_phase": True, "imports_module_def_init": False})
    ambiguous = ext(init="unknown", evidence={"imports_single_phase": True, "imports_module_def_init": True})
    assert [f.detail for f in run("IA101", dist(inferred))] == ["inferred from the C-API functions the module imports"]
    assert run("IA101", dist(ambiguous)) == []


def test_version_dependent_rules_follow_the_audited_python():
    facts = dist(ext(**multi()))
    assert run("IA105", facts, PY313) and not run("IA105", facts, PY312)
    assert run("IA102", facts, PY312) and not run("IA102", facts, PY311)
    assert run("IA105", facts, RuleContext())  # unknown interpreter: report


def test_unknown_slots_are_not_missing_slots():
    """--static-only (or an init probe that could not run) leaves the slots unknown."""
    unknown = dist(ext(init="multi-phase", reason="declared slots unknown: the init function was not called"))
    for code in ("IA102", "IA105", "IA401", "IA402", "IA405"):
        facts = dist(ext(init="multi-phase", framework=Framework(FRAMEWORK_RULES.get(code, "c-api"))))
        assert run(code, unknown) == [] and run(code, facts) == [], code
    declared = dist(ext(init="multi-phase", multiple_interpreters="supported", framework=Framework("pybind11")))
    assert run("IA402", declared)


def test_writable_globals_leave_out_definition_tables_and_toolchain_symbols():
    facts = dist(ext(evidence={"writable_globals": [
        glob("methods", 128, ".data"), glob("module_def", 104, ".data"), glob("slots", 16, ".bss"),
        glob("first_interpreter", 8, ".data"), glob("cache", 8), glob("counter", 4), glob("buffers", 256),
        glob("completed.0", 1), glob("__TMC_END__", 0, ".data"),
    ]}))
    [finding] = run("IA201", facts)
    assert finding.message.endswith(": first_interpreter, cache, counter, buffers")
    plain_names = dist(ext(evidence={"writable_globals": ["state_a", "state_b"]}))
    assert run("IA201", plain_names)[0].message.endswith(": state_a, state_b")


def test_long_name_lists_are_shortened():
    names = [glob("g%d" % i, 4) for i in range(10)]
    [finding] = run("IA201", dist(ext(evidence={"writable_globals": names})))
    assert finding.message.endswith("g0, g1, g2, g3, g4, g5 and 4 more")


def test_cython_globals_are_demangled():
    [finding] = run("IA205", CASES["IA205"][0])
    assert finding.message.endswith(": counter")


def test_missing_evidence_keys_do_not_break_rules():
    bare = dist(ext(), ext("pkg._other", init="multi-phase", evidence={"writable_globals": None, "gilstate": "PyGILState_Ensure"}))
    findings = registry.evaluate(bare)
    assert "IA204" in {f.code for f in findings}
    assert registry.evaluate(dist()) == []


def test_init_probe_crash_and_raise():
    [crashed] = run("IA107", CASES["IA107"][0])
    assert crashed.message == "pkg._ext failed to initialize: PyInit__ext crashed the process (SIGSEGV)"
    assert crashed.detail == "boom"
    raised = dist(ext(evidence={"initfunc": {"source": "initfunc", "error": "ImportError: libfoo.so.1: cannot open"}}))
    assert "its init function raised ImportError: libfoo.so.1" in run("IA107", raised)[0].message
    not_reached = dist(ext(evidence={"initfunc": {"error": "not probed"}}))  # the probe's own trouble
    assert run("IA107", not_reached) == []


def test_init_failure_in_main_names_the_module():
    crashed = dist(ext(), modes={"main": mode(False, crash=SEGV, alone=scenario(False, crash=SEGV))})
    [finding] = run("IA107", crashed)
    assert finding.module == "pkg._ext" and "main interpreter crashed with SIGSEGV" in finding.message
    raised = dist(ext(), modes={"main": mode(False, error="ImportError: libfoo.so.1: cannot open shared object file",
                                             alone=scenario(False, failed_module="pkg._ext"))})
    assert "libfoo.so.1" in run("IA107", raised)[0].message
    other = dist(ext(), modes={"main": mode(False, error="ImportError: No module named 'pkg._extra'")})
    assert run("IA107", other) == []


def test_isolated_failure_defers_to_better_explanations():
    assert run("IA301", dist(modes=dict(ISOLATED_REFUSED), blocked_by=[BlockedBy("other._c")])) == []
    assert run("IA301", dist(modes={"isolated": mode(False, crash=SEGV)})) == []
    second_only = {"isolated": mode(False, alone=scenario(True), beside_main=scenario(False, error="ImportError: x"))}
    assert run("IA301", dist(modes=second_only)) == []
    [finding] = run("IA301", CASES["IA301"][0])
    assert finding.module == "pkg._ext" and REFUSAL in finding.message


def test_isolated_fallback_is_reported_as_degraded_not_as_failure():
    fallback = "imported without its extension module(s) pkg._speedups (silent pure-Python fallback)"
    facts = dist(degraded_modules=["pkg._speedups"], flags=["degraded"],
                 modes={"isolated": mode(False, error=fallback, alone=scenario(False, error=fallback))})
    assert {f.code for f in registry.evaluate(facts)} == {"IA304"}


def test_one_per_process_quotes_refusal_module_and_framework():
    [finding] = run("IA302", CASES["IA302"][0])
    assert finding.module == "pkg._rs"
    assert "(pyo3)" in finding.message and "PyO3 modules do not yet support subinterpreters" in finding.message
    refusal = "ImportError: pkg._ext: cannot load module more than once per process"
    per_mode = [{"mode": m, "module": "pkg._ext", "framework": None, "refusal": refusal} for m in ("isolated", "legacy")]
    [grouped] = run("IA302", dist(one_per_process=per_mode))
    assert grouped.detail == "seen in isolated, legacy sub-interpreters" and grouped.message.endswith(refusal)
    flagged_only = run("IA302", dist(flags=["one-per-process"], culprit="pkg._ext"))
    assert [f.module for f in flagged_only] == ["pkg._ext"]


def test_crash_names_signal_culprit_and_groups_modes():
    shared = {"isolated": mode(False, crash=SEGV), "shared-gil": mode(False, crash=SEGV)}
    [finding] = run("IA303", dist(modes=shared))
    assert finding.severity == "critical"
    assert "SIGSEGV" in finding.message and "while importing pkg._ext" in finding.message
    assert "in isolated (own-GIL) and shared-GIL sub-interpreters crashed" in finding.message
    assert "Segmentation fault" in finding.detail
    hang = Crash(timeout=True, culprit="pkg._ext")
    [hung] = run("IA303", dist(modes={"isolated": mode(False, crash=hang)}))
    assert "in an isolated (own-GIL) sub-interpreter hung (timed out)" in hung.message
    [in_main] = run("IA303", dist(modes={"main": mode(False, crash=SEGV), "legacy": mode(False, crash=SEGV)}))
    assert "in a legacy sub-interpreter and the main interpreter crashed" in in_main.message


def test_crash_in_the_standard_library_says_so():
    hashlib_abort = Crash(signal="SIGABRT", culprit="_hashlib", culprit_is_stdlib=True)
    [finding] = run("IA303", dist(modes={"isolated": mode(False, crash=hashlib_abort)}), PY312)
    assert finding.severity == "high"
    assert "standard-library module _hashlib" in finding.message
    assert "CPython bug" in finding.remediation


def test_blocked_by_names_the_blocking_distribution_or_stdlib():
    [finding] = run("IA305", CASES["IA305"][0])
    assert "other._c (from other)" in finding.message and "does not support loading" in finding.message
    [stdlib] = run("IA305", dist(blocked_by=[BlockedBy("_curses", None, True, "ImportError: nope")]))
    assert "standard-library module _curses" in stdlib.message


def test_degraded_names_modules():
    [finding] = run("IA304", dist(degraded_modules=["pkg._a", "pkg._b"]))
    assert "pkg._a, pkg._b did not load" in finding.message


@pytest.mark.parametrize("facts, fragment", [
    (dist(ext(init="single-phase"), modes={"isolated": mode(True, alone=scenario(True, loaded_extensions=["pkg._ext"]))}),
     "looks single-phase, yet it loaded"),
    (dist(ext(init="multi-phase", multiple_interpreters="not-supported"),
          modes={"isolated": mode(True, alone=scenario(True, loaded_extensions=["pkg._ext"]))}),
     "declares no sub-interpreter support, yet it loaded"),
    (dist(ext(init="multi-phase", multiple_interpreters="per-interpreter-gil"), modes=dict(ISOLATED_REFUSED)),
     "declares per-interpreter GIL support but fails to import"),
    (dist(ext(init="multi-phase", multiple_interpreters="per-interpreter-gil"), modes={"isolated": mode(False, crash=SEGV)}),
     "declares per-interpreter GIL support but crashed with SIGSEGV"),
])
def test_static_runtime_mismatches(facts, fragment):
    [finding] = run("IA306", facts)
    assert fragment in finding.message


def test_mismatch_needs_the_module_to_have_really_loaded():
    degraded = dist(ext(init="single-phase"), modes={"isolated": mode(True, alone=scenario(True, loaded_extensions=[]))})
    assert run("IA306", degraded) == []
    inferred = dist(ext(init="single-phase"), modes={"isolated": mode(True, inferred="implied")})
    assert run("IA306", inferred) == []


@pytest.mark.parametrize("version, fragment", [
    ("2.11.1", "upgrade to pybind11 >= 3.0"),
    ("<3", "upgrade to pybind11 >= 3.0"),  # what the static stage derives from the internals key
    ("3.0.1", "add py::multiple_interpreters::per_interpreter_gil()"),
    (">=3.0,<3.1", "add py::multiple_interpreters::per_interpreter_gil()"),
])
def test_pybind11_hint_depends_on_version(version, fragment):
    facts = dist(ext(init="multi-phase", multiple_interpreters="not-supported", framework=Framework("pybind11", version)))
    [finding] = run("IA402", facts)
    assert fragment in finding.detail and "pybind11 %s" % version in finding.message
    assert "per_interpreter_gil()" in finding.remediation


def test_cython_hint_and_unparsable_versions():
    old = dist(ext(**multi(framework=Framework("cython", "3.0.11"))))
    assert "upgrade to Cython >= 3.1" in run("IA401", old)[0].detail
    new = dist(ext(**multi(framework=Framework("cython", "3.3.1"))))
    assert "-DCYTHON_USE_MODULE_STATE=1" in run("IA401", new)[0].detail
    odd = dist(ext(**multi(framework=Framework("cython", "not a version"))))
    assert run("IA401", odd)[0].detail is None


def test_frameworks_without_support_fire_even_without_init_facts():
    for code in ("IA403", "IA404", "IA406", "IA407", "IA408"):
        assert run(code, dist(ext(framework=Framework(FRAMEWORK_RULES[code])))), code
    for code in ("IA401", "IA402", "IA405"):  # these can build own-GIL modules: need evidence
        assert run(code, dist(ext(framework=Framework(FRAMEWORK_RULES[code])))) == [], code


# --------------------------------------------------------------------------- evaluate


def test_evaluate_sorts_by_severity_then_code():
    facts = dist(ext(init="single-phase", evidence={"gilstate": ["PyGILState_Ensure"]}),
                 modes={"isolated": mode(False, crash=SEGV)}, flags=["crashed"])
    findings = registry.evaluate(facts, python=PythonInfo("3.13.0", "cpython", "python3.13"))
    severities = [f.severity for f in findings]
    assert severities == sorted(severities, key=["critical", "high", "medium", "low", "info"].index)
    assert findings[0].code == "IA303"
    assert [f.code for f in findings if f.severity == "high"] == sorted(f.code for f in findings if f.severity == "high")


def test_evaluate_applies_selection_and_per_distribution_ignores():
    facts = dist(ext(init="single-phase", evidence={"gilstate": ["PyGILState_Ensure"]}))
    everything = {f.code for f in registry.evaluate(facts)}
    assert {"IA101", "IA204"} <= everything
    only_init = RuleConfig(select=("IA1",))
    assert {f.code for f in registry.evaluate(facts, only_init)} == {c for c in everything if c.startswith("IA1")}
    from interp_audit.rules.config import Ignore
    accepted = RuleConfig(per_distribution_ignores={"pkg": (Ignore("IA101", "main interpreter only"),)})
    assert "IA101" not in {f.code for f in registry.evaluate(facts, accepted)}
    other = dist(ext(init="single-phase"), name="other")
    assert "IA101" in {f.code for f in registry.evaluate(other, accepted)}


def test_apply_fills_findings_of_a_report():
    report = ScanReport(interpreters=[InterpreterRun(
        python=PythonInfo("3.12.1", "cpython", "python3.12"),
        distributions=[dist(ext(**multi())), dist(name="clean")],
    )])
    registry.apply(report)
    first, second = report.interpreters[0].distributions
    assert {f.code for f in first.findings} == {"IA102"}  # no IA105 on 3.12: Py_mod_gil does not exist there
    assert second.findings == []


# --------------------------------------------------------------------------- configuration


def write(tmp_path, text, name="pyproject.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_config_select_ignore_and_specificity(tmp_path):
    write(tmp_path, '[project]\nname = "x"\n\n[tool.interp-audit]\nselect = ["IA2", "ia301"]\nignore = ["IA205"]\n'
                    'fail-under = "own-gil"  # other stages\' keys are left alone\n')
    config = load_config(directory=tmp_path)
    assert config.path == tmp_path / "pyproject.toml"
    assert config.enabled_codes() == ["IA201", "IA202", "IA203", "IA204", "IA301"]
    write(tmp_path, '[tool.interp-audit]\nselect = ["IA101"]\nignore = ["IA1"]\n')
    assert load_config(directory=tmp_path).enabled_codes() == ["IA101"]  # the more specific selector wins
    write(tmp_path, '[tool.interp-audit]\nselect = ["IA1"]\nignore = ["IA10"]\n')
    assert load_config(directory=tmp_path).enabled_codes() == []
    write(tmp_path, '[tool.interp-audit]\nselect = ["IA30"]\nignore = ["IA30"]\n')
    assert load_config(directory=tmp_path).enabled_codes() == []  # a tie goes to ignore


def test_config_defaults_when_absent(tmp_path):
    assert load_config(directory=tmp_path).enabled_codes() == registry.codes()
    write(tmp_path, '[project]\nname = "x"\n')
    assert load_config(directory=tmp_path) == RuleConfig()


def test_per_distribution_ignores_need_a_reason(tmp_path):
    write(tmp_path, '[tool.interp-audit.per-distribution-ignores]\nnumpy = [{ code = "IA101" }]\n')
    with pytest.raises(ConfigError) as info:
        load_config(directory=tmp_path)
    assert "a reason is required" in info.value.message and "numpy[0]" in info.value.message
    assert info.value.exit_code == 2


def test_per_distribution_ignores_apply_to_normalized_names(tmp_path):
    write(tmp_path, '[tool.interp-audit.per-distribution-ignores]\n'
                    'My_Package = [{ code = "IA1", reason = "used in the main interpreter only" }]\n')
    config = load_config(directory=tmp_path)
    assert config.suppression("my-package", "IA101") == "used in the main interpreter only"
    assert config.suppression("my.package", "IA305") is None
    assert config.suppression("other", "IA101") is None
    facts = dist(ext(init="single-phase", evidence={"static_types": True}), name="my-package")
    assert {f.code for f in registry.evaluate(facts, config)} == {"IA202"}


@pytest.mark.parametrize("text, fragment", [
    ('[tool.interp-audit]\nselect = ["IA999"]\n', "unknown rule code or prefix 'IA999'"),
    ('[tool.interp-audit]\nignore = ["IA1O1"]\n', "did you mean IA101"),
    ('[tool.interp-audit]\nselect = "IA1"\nignore = [3]\n', "expected a rule code or prefix"),
    ('[tool.interp-audit.per-distribution-ignores]\nx = [{ code = "IA101", reason = "r", reasn = "typo" }]\n', "unknown key(s) reasn"),
    ('[tool.interp-audit.per-distribution-ignores]\nx = [{ code = "IA777", reason = "r" }]\n', "IA777"),
    ('[tool.interp-audit\nselect = 1\n', "is not valid TOML"),
])
def test_bad_configuration_is_a_clear_error(tmp_path, text, fragment):
    write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(directory=tmp_path)
    assert fragment in info.value.message
    assert "\n" not in info.value.message.strip()


def test_explicit_config_path(tmp_path):
    path = write(tmp_path, '[tool.interp-audit]\nselect = ["IA4"]\n', name="audit.toml")
    assert load_config(path).enabled_codes() == [c for c in registry.codes() if c.startswith("IA4")]
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="has no \\[tool.interp-audit\\] table"):
        load_config(write(tmp_path, "[tool.other]\nx = 1\n", name="other.toml"))


def test_command_line_select_replaces_and_ignore_extends():
    config = RuleConfig(select=("IA1",), ignore=("IA105",))
    merged = config.merged(select=["IA2,IA301"], ignore=["IA201"])
    assert merged.select == ("IA2", "IA301") and merged.ignore == ("IA105", "IA201")
    assert config.merged(select=(), ignore=()) == config
    with pytest.raises(ConfigError, match="--select: unknown rule code"):
        config.merged(select=["IA9"])


# --------------------------------------------------------------------------- commands


def test_rules_command_lists_every_rule():
    result = CliRunner().invoke(cli, ["rules"])
    assert result.exit_code == 0, result.output
    for rule in registry.all_rules():
        assert re.search(r"^%s\s+%s\s+%s\s" % (rule.code, rule.severity, rule.name), result.output, re.M)


def test_rules_command_json_and_selection(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["rules", "--format", "json", "--select", "IA3", "--ignore", "IA306"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["code"] for r in rows] == registry.codes()
    enabled = [r["code"] for r in rows if r["enabled"]]
    assert enabled == [code for code in registry.codes() if code.startswith("IA3") and code != "IA306"]
    assert "IA305" in enabled and "IA101" not in enabled
    assert all(r["rationale"] and r["remediation"] and r["references"] for r in rows)


def test_rules_command_reads_pyproject_and_rejects_bad_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    write(tmp_path, '[tool.interp-audit]\nignore = ["IA4"]\n')
    result = runner.invoke(cli, ["rules"])
    assert result.exit_code == 0
    assert re.search(r"^IA401 .*\(off\)$", result.output, re.M)
    assert not re.search(r"^IA101 .*\(off\)$", result.output, re.M)
    write(tmp_path, '[tool.interp-audit.per-distribution-ignores]\nnumpy = [{ code = "IA101" }]\n')
    result = runner.invoke(cli, ["rules"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.strip().startswith("Error:") and "a reason is required" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_explain_prints_the_full_text():
    result = CliRunner().invoke(cli, ["explain", "ia101"])
    assert result.exit_code == 0, result.output
    rule = registry.get("IA101")
    text = " ".join(result.output.split())
    for part in (rule.rationale, rule.remediation):
        assert " ".join(part.split()) in text
    assert all(url in result.output for url in rule.references)
    by_name = CliRunner().invoke(cli, ["explain", "one-per-process", "--format", "json"])
    assert json.loads(by_name.output)["code"] == "IA302"


@pytest.mark.parametrize("code, hint", [("IA1O1", "Did you mean IA101"), ("XYZ", "")])
def test_explain_unknown_code_is_a_one_line_error(code, hint):
    result = CliRunner().invoke(cli, ["explain", code])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: unknown rule code")
    assert hint in lines[0]


def test_committed_rules_doc_is_up_to_date():
    committed = (REPO / "docs" / "rules.md").read_text()
    assert committed == _docs.render(), "run: python -m interp_audit.rules._docs > docs/rules.md"
    for rule in registry.all_rules():
        assert "### %s %s" % (rule.code, rule.name) in committed


# --------------------------------------------------------------------------- end to end: real evidence


#: fixturelib.EXPECTED "static" kinds -> the rule that reports them.
STATIC_KIND_RULE = {"static-pyobject": "IA201", "mutable-global": "IA201", "static-type": "IA202",
                    "pystate": "IA203", "gilstate": "IA204"}


def test_static_rules_on_compiled_fixtures(target_python, tmp_path):
    """The real static stage (symbols + init-function probe) on every corpus extension."""
    from interp_audit.static.inspection import inspect_extensions

    version = tuple(fixturelib.python_info(target_python)["version"])
    expected = fixturelib.expected_for(version)
    owner = {module: name for name in expected for module in fixturelib.corpus_spec(name).extensions}
    modules = list(fixturelib.extension_sources().items())
    paths = [(m, str(fixturelib.build_extension(target_python, src, m, tmp_path))) for m, src in modules]
    infos = inspect_extensions(target_python, paths)
    python = PythonInfo(".".join(map(str, version)), "cpython", target_python)
    for info in infos:
        module = info.module
        facts = expected[owner[module]]
        init, declared = facts["init"][module], facts["multiple_interpreters"][module]
        findings = registry.evaluate(dist(info, name=owner[module]), python=python)
        codes = {f.code for f in findings}
        assert info.init == init, module
        assert ("IA101" in codes) == (init == "single-phase"), (module, findings)
        assert ("IA102" in codes) == (init == "multi-phase" and declared is None), (module, findings)
        assert ("IA103" in codes) == (declared == "not-supported"), (module, findings)
        assert ("IA104" in codes) == (declared == "supported"), (module, findings)
        no_gil_slot = init == "multi-phase" and version >= (3, 13) and facts["gil"][module] is None
        assert ("IA105" in codes) == no_gil_slot, (module, findings)
        assert "IA107" not in codes, (module, findings)
        wanted = {STATIC_KIND_RULE[kind] for kind in facts["static"]}
        assert codes & {"IA201", "IA202", "IA203", "IA204"} == wanted, (module, findings)
        globals_expected = facts["static"].get("static-pyobject", []) + facts["static"].get("mutable-global", [])
        if globals_expected:
            [finding] = [f for f in findings if f.code == "IA201"]
            listed = finding.message.rsplit(": ", 1)[1].split(", ")
            assert sorted(listed) == sorted(globals_expected), module
        for kind in ("pystate", "gilstate"):
            for symbol in facts["static"].get(kind, []):
                assert any(symbol in f.message for f in findings if f.code == STATIC_KIND_RULE[kind])


def test_init_crash_seen_by_the_real_init_probe(target_python, tmp_path):
    from interp_audit.static.inspection import inspect_extensions

    source = tmp_path / "ia_initcrash.c"
    source.write_text(
        "#include <Python.h>\n"
        "PyMODINIT_FUNC PyInit_ia_initcrash(void) { volatile int *p = 0; *p = 1; return NULL; }\n"
    )
    path = fixturelib.build_extension(target_python, source, "ia_initcrash", tmp_path)
    [info] = inspect_extensions(target_python, [("ia_initcrash", str(path))], timeout=20)
    [finding] = [f for f in registry.evaluate(dist(info)) if f.code == "IA107"]
    assert finding.module == "ia_initcrash" and "SIGSEGV" in finding.message


#: fixture distribution -> every finding code its scan must produce (no more, no less; IA105, the
#: version-dependent free-threading note, aside).
RUNTIME_EXPECTATIONS = {
    "ia-fixture-single": {"IA101", "IA301"},
    "ia-fixture-segv": {"IA303", "IA306"},  # declares per-interpreter GIL support, then crashes there
    "ia-fixture-oneper": {"IA302", "IA306", "IA201", "IA106"},  # declares it, then refuses a second interpreter
    "ia-fixture-blocked": {"IA305"},
    "ia-fixture-degraded": {"IA101", "IA304"},
}


def test_runtime_rules_on_a_real_ladder(corpus_env):
    """The scan's own stages (static inspection, ladder, verdict) on the installed corpus, then the rules."""
    from interp_audit.runtime.ladder import Ladder
    from interp_audit.source.environment import EnvironmentSource
    from interp_audit.static.inspection import inspect_extensions
    from interp_audit.verdict import judge

    source = EnvironmentSource(str(corpus_env.python), list(RUNTIME_EXPECTATIONS) + ["ia-fixture-clean"])
    ladder = Ladder(str(corpus_env.python), 30.0, source.stdlib_names())
    python = source.python()

    def audit(item) -> DistributionResult:
        result = DistributionResult(name=item.name, version=item.version, import_names=list(item.import_names))
        result.extensions = inspect_extensions(str(corpus_env.python), item.extensions)
        outcomes = [ladder.climb(name, source.watched_extensions(item)) for name in item.import_names]
        return judge(result, outcomes, [], None, source.owner_of, source.stdlib_names())

    items = {item.name: item for item in source.items()}
    for name, wanted in RUNTIME_EXPECTATIONS.items():
        findings = registry.evaluate(audit(items[name]), python=python)
        assert {f.code for f in findings} - {"IA105"} == wanted, (name, findings)
        if name == "ia-fixture-oneper":
            [finding] = [f for f in findings if f.code == "IA302"]
            assert "cannot load module more than once per process" in finding.message
        if name == "ia-fixture-segv":
            [finding] = [f for f in findings if f.code == "IA303"]
            assert "SIGSEGV" in finding.message and "ia_segv" in finding.message
    assert registry.evaluate(audit(items["ia-fixture-clean"]), python=python) == []


#: One real PyPI wheel per framework (pinned, binary only): module -> framework rule that must fire.
REAL_FRAMEWORK_WHEELS = {
    "pyyaml==6.0.4": ("yaml._yaml", "IA401"),  # Cython without module state: no slot, one interpreter
    "rpds-py==2026.9.1": ("rpds.rpds", "IA404"),  # PyO3
    "argon2-cffi-bindings==26.2.0": ("_argon2_cffi_bindings._ffi", "IA407"),  # cffi
    "pykcs11==1.5.20": ("PyKCS11._LowLevel", "IA405"),  # SWIG
    "apngasm-python==1.3.2": ("apngasm_python._apngasm_python", "IA403"),  # nanobind
    "black==26.10.1": ("blib2to3.pgen2.token", "IA406"),  # mypyc
}


@pytest.fixture(scope="module")
def framework_wheels(target_python, tmp_path_factory):
    """A venv of ``target_python`` with the wheels above (no dependencies but cffi)."""
    import os
    import subprocess

    root = tmp_path_factory.mktemp("rules-wheels-" + fixturelib.python_info(target_python)["label"])
    venv_python = fixturelib.make_venv(target_python, root / "venv")
    uv = fixturelib._uv()
    command = ([uv, "pip", "install", "--python", str(venv_python)] if uv
               else [str(venv_python), "-m", "pip", "install"])
    command += ["--no-deps", "--only-binary", ":all:", "cffi==2.1.1", *REAL_FRAMEWORK_WHEELS]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        message = "could not install real wheels from PyPI:\n" + done.stderr[-2000:]
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    site = fixturelib.site_packages(venv_python)
    suffix = fixturelib.python_info(target_python)["ext_suffix"]
    paths = {}
    for module, _ in REAL_FRAMEWORK_WHEELS.values():
        base = str(site / module.replace(".", "/"))
        paths[module] = next(base + s for s in (suffix, ".abi3.so") if os.path.exists(base + s))
    return venv_python, paths


def test_framework_rules_on_real_wheels(framework_wheels):
    from interp_audit.static.inspection import inspect_extensions

    venv_python, paths = framework_wheels
    infos = {i.module: i for i in inspect_extensions(str(venv_python), list(paths.items()), timeout=60)}
    for module, code in REAL_FRAMEWORK_WHEELS.values():
        findings = registry.evaluate(dist(infos[module]))
        framework_codes = {f.code for f in findings if f.code.startswith("IA4")}
        assert framework_codes == {code}, (module, infos[module].framework, findings)
        [finding] = [f for f in findings if f.code == code]
        assert registry.get(code).label in finding.message


def test_rules_and_reports_read_the_model_and_never_import_the_runtime():
    """Rules and reports see results only through auditor/model.py (typed smoke results included)."""
    root = Path(__file__).resolve().parents[1]
    for path in sorted((root / "rules").glob("*.py")) + sorted((root / "reports").glob("*.py")):
        imports = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", path.read_text(encoding="utf-8"), re.M)
        assert not [name for name in imports if "runtime" in name.split(".")], path.name
