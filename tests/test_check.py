"""``interp-audit check``: the source linter for C, C++ and Cython.

The fixture corpus' C sources must produce exactly the static evidence that
``fixturelib.EXPECTED`` declares for them; hand-written sources under
``tests/data/check`` cover suppressions, macros, C++ and Cython; SARIF output is
validated against the official SARIF 2.1.0 schema; real sdists from PyPI are
checked end to end.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import fixturelib
from interp_audit._cli import main
from interp_audit.check.runner import check_paths
from interp_audit.rules.config import RuleConfig, load_config

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "check"
FIXTURES = HERE / "fixtures" / "ext"
SARIF_SCHEMA = HERE / "data" / "sarif-2.1.0-schema.json"

#: fixturelib "static" evidence kinds -> the rule code the linter reports them with.
EVIDENCE_CODES = {
    "static-pyobject": "IA201",
    "mutable-global": "IA201",
    "static-type": "IA202",
    "pystate": "IA203",
    "gilstate": "IA204",
}
DECLARED_CODES = {None: "IA102", "not-supported": "IA103", "supported": "IA104"}


def findings(*paths, config=None):
    report = check_paths([Path(p) for p in paths], config)
    assert not report.errors
    return report


def pairs(report) -> set[tuple[str, str]]:
    return {(item.finding.code, item.symbol) for item in report.findings}


def codes(report) -> set[str]:
    return {item.finding.code for item in report.findings}


def expected_pairs(facts: dict, module: str) -> set[tuple[str, str]]:
    """What the linter must report for one fixture extension, from fixturelib's declared facts."""
    expected = set()
    init = facts["init"].get(module)
    leaf = module.rsplit(".", 1)[-1]
    if init == "single-phase":
        expected.add(("IA101", "PyInit_" + leaf))
    elif init == "multi-phase":
        declared = facts["multiple_interpreters"].get(module)
        if declared != "per-interpreter-gil":
            expected.add((DECLARED_CODES[declared], "slots"))
        if facts.get("gil", {}).get(module) != "not-used":
            expected.add(("IA105", "slots"))
    for kind, symbols in facts["static"].items():
        expected.update((EVIDENCE_CODES[kind], symbol) for symbol in symbols)
    return expected


def _fixture_extensions():
    sources = fixturelib.extension_sources()
    for spec in fixturelib.CORPUS:
        for module in spec.extensions:
            yield pytest.param(spec.name, module, sources[module], id=module)


@pytest.mark.parametrize("dist, module, source", list(_fixture_extensions()))
def test_fixture_sources_give_exactly_their_declared_findings(dist, module, source):
    report = findings(source)
    assert pairs(report) == expected_pairs(fixturelib.EXPECTED[dist], module)


def test_every_fixture_source_is_covered():
    used = {Path(p).resolve() for p in fixturelib.extension_sources().values()}
    libraries = {Path(p).resolve() for spec in fixturelib.CORPUS for p in getattr(spec, "libraries", {}).values()}
    assert {p.resolve() for p in FIXTURES.glob("*.c")} <= used | libraries


def test_single_phase_and_clean_fixtures():
    assert codes(findings(FIXTURES / "ia_single.c")) == {"IA101"}
    assert findings(FIXTURES / "ia_clean.c").findings == []


def test_plain_shared_library_source_has_no_findings():
    libraries = [p for spec in fixturelib.CORPUS for p in getattr(spec, "libraries", {}).values()]
    assert libraries, "the corpus has a ctypes library fixture"
    for library in libraries:
        assert findings(library).findings == []


def test_findings_carry_catalogue_texts_and_locations():
    item = findings(FIXTURES / "ia_single.c").findings[0]
    assert item.finding.severity == "high"
    assert "ia_single" in item.finding.message
    assert "PyModuleDef_Init" in item.finding.remediation
    text = (FIXTURES / "ia_single.c").read_text().splitlines()[item.location.line - 1]
    assert text[item.location.column - 1:].startswith("PyInit_ia_single")


def test_tricky_c_macros_comments_scopes_and_writes():
    report = findings(DATA / "tricky.c")
    assert pairs(report) == {
        ("IA201", "hook"),  # function pointer, written
        ("IA201", "calls"),  # written between Py_BEGIN/END_ALLOW_THREADS
        ("IA201", "stats"),  # a field written
        ("IA201", "singleton"),  # pointer to a PyObject_HEAD struct
        ("IA201", "cached"),  # function-static PyObject *
        ("IA201", "initialised"),  # function-static, written
        ("IA203", "PyState_FindModule"),  # inside a #define body
    }
    # multi-phase through a helper, slots inside #if blocks: no IA101/IA102/IA105
    assert not codes(report) & {"IA101", "IA102", "IA105"}


def test_single_phase_through_a_helper_function():
    assert pairs(findings(DATA / "helper_single.c")) == {("IA101", "PyInit_helper_single")}


def test_cpp_pybind11_and_globals():
    assert pairs(findings(DATA / "binding.cpp")) == {
        ("IA201", "cache"),
        ("IA201", "registry"),
        ("IA201", "shared"),
        ("IA104", "binding"),
    }


def test_cython_globals_and_directive():
    report = findings(DATA / "globals.pyx")
    assert pairs(report) == {
        ("IA401", "globals"),
        ("IA205", "counter"),
        ("IA205", "_cache"),
        ("IA205", "_other"),
        ("IA205", "callback"),
        ("IA205", "scale"),
        ("IA205", "names"),
    }
    assert findings(DATA / "own_gil.pyx").findings == []
    assert codes(findings(DATA / "shared_gil.pyx")) == {"IA104"}


def test_cython_tokenizer_error_is_a_warning_and_checking_goes_on():
    report = findings(DATA / "broken.pyx")
    assert pairs(report) == {("IA205", "after_the_error")}
    assert report.warnings and "line 4" in report.warnings[0][1]


def test_suppression_comments():
    report = findings(DATA / "suppressed.c")
    assert pairs(report) == {("IA201", "not_silenced")}
    silenced = {(item.finding.code, item.symbol): item.justification for item in report.suppressed}
    assert silenced == {
        ("IA201", "trailing"): "set once at import, never replaced",
        ("IA201", "above"): "read-only after exec",
        ("IA202", "Legacy_Type"): "legacy type, ported in issue 12",
        ("IA203", "PyState_FindModule"): "no reason given",
        ("IA101", "PyInit_suppressed"): "single-phase on purpose in this example",
    }


def test_suppression_needs_the_right_code(tmp_path):
    source = tmp_path / "wrong_code.c"
    source.write_text("static PyObject *x; // interp-audit: ignore[IA202] wrong code\n")
    report = findings(source)
    assert pairs(report) == {("IA201", "x")} and not report.suppressed


def test_config_select_and_ignore(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.interp-audit]\nignore = ["IA105"]\n')
    config = load_config(directory=tmp_path)
    assert codes(findings(FIXTURES / "ia_multi_noslot.c", config=config)) == {"IA102"}
    only = RuleConfig().merged(select=["IA2"])
    assert codes(findings(FIXTURES / "ia_static_globals.c", FIXTURES / "ia_single.c", config=only)) == {"IA201"}


def test_directory_walk_skips_build_dirs_and_cython_output(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "build").mkdir()
    (tmp_path / "src" / "mod.c").write_bytes((FIXTURES / "ia_single.c").read_bytes())
    (tmp_path / "build" / "copy.c").write_bytes((FIXTURES / "ia_single.c").read_bytes())
    (tmp_path / "src" / "gen.c").write_text("/* Generated by Cython 3.0.11 */\nstatic PyObject *x;\n")
    (tmp_path / "src" / "notes.txt").write_text("static PyObject *x;\n")
    report = check_paths([tmp_path])
    assert [Path(p).name for p in report.files] == ["mod.c"]
    assert [Path(p).name for p, _ in report.skipped] == ["gen.c"]


# --- command line -------------------------------------------------------------------


def run_cli(*args, cwd=None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, ["check", *map(str, args)])
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, ["check", *map(str, args)])
    finally:
        os.chdir(old)


def test_cli_exit_codes_and_text(tmp_path):
    result = run_cli(FIXTURES / "ia_single.c", cwd=tmp_path)
    assert result.exit_code == 1
    assert "ia_single.c:18:16: IA101 [high]" in result.output
    assert "How to fix:" in result.output and "Checked 1 file" in result.output
    assert run_cli(FIXTURES / "ia_clean.c", cwd=tmp_path).exit_code == 0
    # IA105 is a note (info): below the default --fail-on low
    assert run_cli("--select", "IA105", FIXTURES / "ia_hang.c", cwd=tmp_path).exit_code == 0
    assert run_cli("--fail-on", "critical", FIXTURES / "ia_single.c", cwd=tmp_path).exit_code == 0
    assert run_cli("--fail-on", "never", FIXTURES / "ia_single.c", cwd=tmp_path).exit_code == 0
    assert run_cli("--fail-on", "info", FIXTURES / "ia_hang.c", cwd=tmp_path).exit_code == 1


def test_cli_bad_input_is_exit_2_without_traceback(tmp_path):
    for args in ([tmp_path / "missing.c"], ["--select", "IA999x", FIXTURES], ["--config", tmp_path / "none.toml", FIXTURES]):
        result = run_cli(*args, cwd=tmp_path)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output


def test_cli_unwritable_output_is_exit_2_without_traceback(tmp_path):
    result = run_cli("-o", tmp_path / "no-such-dir" / "out.txt", FIXTURES / "ia_clean.c", cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert "cannot write" in result.output and "Traceback" not in result.output


def test_cli_unreadable_file_is_exit_2(tmp_path):
    if os.geteuid() == 0:
        source = tmp_path / "dangling.c"
        source.symlink_to(tmp_path / "gone.c")
        (tmp_path / "gone.c").write_text("")
        (tmp_path / "gone.c").unlink()
        source = tmp_path  # the dangling link is found by the directory walk
    else:  # pragma: no cover - CI runs as root
        source = tmp_path / "secret.c"
        source.write_text("static int x;\n")
        source.chmod(0)
    result = run_cli(source, cwd=tmp_path)
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_cli_reads_pyproject_configuration(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.interp-audit]\nignore = ["IA1"]\n')
    result = run_cli("--format", "json", FIXTURES / "ia_single.c", cwd=tmp_path)
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["findings"] == [] and data["config"].endswith("pyproject.toml")


def test_json_format_structure(tmp_path):
    out = tmp_path / "report.json"
    result = run_cli("--format", "json", "-o", out, FIXTURES / "ia_static_globals.c", DATA / "suppressed.c", cwd=tmp_path)
    assert result.exit_code == 1
    data = json.loads(out.read_text())
    assert data["format"] == "interp-audit-check" and data["format_version"] == 1
    assert data["summary"]["files"] == 2 and data["summary"]["by_code"]["IA201"] == 3
    first = data["findings"][0]
    assert set(first) >= {"code", "rule", "severity", "message", "detail", "remediation", "references", "module",
                          "symbol", "location"}
    assert set(first["location"]) == {"path", "line", "column", "end_line", "end_column"}
    assert {item["justification"] for item in data["suppressed"]} >= {"read-only after exec"}


def test_sarif_validates_against_the_sarif_2_1_0_schema(tmp_path):
    out = tmp_path / "check.sarif"
    paths = [FIXTURES, DATA]
    result = run_cli("--format", "sarif", "-o", out, *paths, cwd=HERE)
    assert result.exit_code == 1
    log = json.loads(out.read_text())
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)
    run = log["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert {"IA101", "IA201", "IA205", "IA401"} <= set(rule_ids)
    for sarif_result in run["results"]:
        assert rule_ids[sarif_result["ruleIndex"]] == sarif_result["ruleId"]
        location = sarif_result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not location["artifactLocation"]["uri"].startswith("/")
        assert location["region"]["startLine"] >= 1
    assert run["properties"]["suppressed"] == 5
    fingerprints = [r["partialFingerprints"]["interpAudit/v1"] for r in run["results"]]
    assert len(set(fingerprints)) == len(fingerprints)


def test_sarif_is_schema_valid_for_an_empty_run(tmp_path):
    out = tmp_path / "empty.sarif"
    assert run_cli("--format", "sarif", "-o", out, FIXTURES / "ia_clean.c", cwd=tmp_path).exit_code == 0
    log = json.loads(out.read_text())
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()), cls=jsonschema.Draft4Validator)
    assert log["runs"][0]["results"] == []


def test_module_entry_point_runs_check():
    result = subprocess.run([sys.executable, "-m", "interp_audit", "check", str(FIXTURES / "ia_clean.c")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "0 findings" in result.stdout


# --- real-world sources ------------------------------------------------------------------

#: (project, version, sha256 of the sdist): small projects with a C extension and a Cython module.
REAL_SDISTS = {
    "markupsafe": ("3.0.2", "ee55d3edf80167e48ea11a923c7386f4669df67d7994554387f84e7d8b0a2bf0"),
    "pyyaml": ("6.0.2", None),
}


def download_sdist(project: str, version: str, sha256, target: Path) -> Path:
    """Download and unpack one sdist from PyPI (its JSON API); skip when offline outside CI."""
    index = "https://pypi.org/pypi/%s/json" % project
    try:
        with urllib.request.urlopen(index, timeout=60) as response:
            meta = json.load(response)
        sdist = next(u for u in meta["releases"][version] if u["packagetype"] == "sdist")
        with urllib.request.urlopen(urllib.parse.urljoin(index, sdist["url"]), timeout=120) as response:
            data = response.read()
    except (urllib.error.URLError, OSError) as error:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip("PyPI is unreachable: %s" % error)
    assert hashlib.sha256(data).hexdigest() == (sha256 or sdist["digests"]["sha256"])
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(target, filter="data")
    return target


@pytest.fixture(scope="module")
def real_sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("sdists")
    for project, (version, sha256) in REAL_SDISTS.items():
        download_sdist(project, version, sha256, root)
    return root


def test_real_world_sdists_are_checked(real_sources):
    report = check_paths([real_sources])
    assert not report.errors and not report.warnings
    names = {Path(p).name for p in report.files}
    assert {"_speedups.c", "_yaml.pyx"} <= names
    found = {(Path(item.location.path).name, item.finding.code) for item in report.findings}
    assert ("_speedups.c", "IA101") in found  # MarkupSafe 3.0.2 still uses PyModule_Create
    assert ("_yaml.pyx", "IA401") in found  # PyYAML 6.0.2 sets no subinterpreters_compatible directive
