"""Reports: JSON writer/reader and schema, terminal matrix, merge, every --format, badges, site files."""

from __future__ import annotations

import dataclasses
import json
import typing

import pytest

from interp_audit import model
from interp_audit.model import (
    BlockedBy,
    Crash,
    DistributionResult,
    ExtensionInfo,
    Finding,
    Framework,
    InterpreterRun,
    ModeResult,
    PythonInfo,
    ScanReport,
    ScenarioResult,
)

HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">'
HOSTILE_SUMMARY = '<script>window.__pwned=1</script> & "quotes" \'single\' </td></tr>'


def _python(version: str) -> PythonInfo:
    major, minor, micro = (int(p) for p in version.split("."))
    return PythonInfo(
        version=version,
        implementation="CPython",
        executable=f"/root/.pyenv/versions/{version}/bin/python{major}.{minor}",
        hexversion=(major << 24) | (minor << 16) | (micro << 8) | 0xF0,
        platform="Linux-6.1-x86_64-with-glibc2.36",
        ext_suffix=f".cpython-{major}{minor}-x86_64-linux-gnu.so",
        sysconfig_platform="linux-x86_64",
        chosen_because="--python",
    )


def _ok(seconds: float = 0.01) -> ModeResult:
    scenario = ScenarioResult(ok=True, seconds=seconds)
    return ModeResult(ok=True, alone=scenario, beside_main=dataclasses.replace(scenario))


def _fail(error: str, chain: list[str] | None = None) -> ModeResult:
    scenario = ScenarioResult(ok=False, error=error, error_chain=chain or [error], seconds=0.02)
    return ModeResult(ok=False, error=error, alone=scenario, beside_main=dataclasses.replace(scenario))


def _inferred_ok(why: str) -> ModeResult:
    return ModeResult(ok=True, inferred=why)


def _ladder_ok() -> dict[str, ModeResult]:
    return {
        "isolated": _ok(),
        "shared-gil": _inferred_ok("isolated passed"),
        "legacy": _inferred_ok("isolated passed"),
        "main": _ok(),
    }


def _ext(module: str, init: str, multi: str | None, gil: str | None = None, framework: str = "c-api") -> ExtensionInfo:
    return ExtensionInfo(
        module=module,
        path=module.replace(".", "/") + ".cpython-313-x86_64-linux-gnu.so",
        init=init,
        multiple_interpreters=multi,
        multiple_interpreters_effective=multi or ("supported" if init == "multi-phase" else "not-supported"),
        gil=gil,
        m_size=0 if init == "multi-phase" else -1,
        slots=["Py_mod_exec"] + (["Py_mod_multiple_interpreters"] if multi else []),
        framework=Framework(name=framework, version="3.0.10" if framework == "cython" else None),
        evidence={"symbols": ["PyInit_" + module.rsplit(".", 1)[-1]], "PyModuleDef_Init": init == "multi-phase"},
        method={"init": "elf", "multiple_interpreters": "runtime"},
    )


def distributions(python: str) -> list[DistributionResult]:
    """One distribution per tier and flag, as a scan of ``python`` would produce them."""
    refusal = "ImportError: module legacyext._core does not support loading in subinterpreters"
    crash = Crash(signal="SIGSEGV", returncode=-11, culprit="crashy._native", stderr_tail="Fatal Python error: Segmentation fault")
    return [
        DistributionResult(
            name="purepkg", version="1.0", import_names=["purepkg"], tier="own-gil", modes=_ladder_ok(),
            summary="A pure Python package",
        ),
        DistributionResult(
            name="fastext", version="2.1.0", import_names=["fastext"], tier="own-gil", modes=_ladder_ok(),
            extensions=[_ext("fastext._speedups", "multi-phase", "per-interpreter-gil", "not-used" if python >= "3.13" else None)],
            summary="Fast things, isolated",
        ),
        DistributionResult(
            name="sharedext", version="0.3", import_names=["sharedext"], tier="shared-gil",
            modes={
                "isolated": _fail("ImportError: module sharedext._c does not support a per-interpreter GIL"),
                "shared-gil": _ok(), "legacy": _inferred_ok("shared-gil passed"), "main": _ok(),
            },
            culprit="sharedext._c",
            extensions=[_ext("sharedext._c", "multi-phase", "supported", framework="cython")],
            findings=[Finding(code="IA201", severity="medium", message="sharedext._c declares Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED",
                              distribution="sharedext", module="sharedext._c",
                              remediation="Move global state into module state and declare Py_MOD_PER_INTERPRETER_GIL_SUPPORTED.")],
        ),
        DistributionResult(
            name="legacyext", version="5.0", import_names=["legacyext"], tier="legacy-only", flags=["one-per-process"],
            modes={
                "isolated": _fail(refusal), "shared-gil": ModeResult(ok=False, error=refusal, inferred="isolated refused the module"),
                "legacy": _ok(), "main": _ok(),
            },
            culprit="legacyext._core",
            one_per_process=[{"module": "legacyext._core", "framework": "pybind11", "refusal": refusal}],
            extensions=[_ext("legacyext._core", "single-phase", None, framework="pybind11")],
            findings=[Finding(code="IA101", severity="high", message="legacyext._core uses single-phase initialisation",
                              distribution="legacyext", module="legacyext._core",
                              remediation="Port the module to multi-phase initialisation (PEP 489).")],
        ),
        DistributionResult(
            name="crashy", version="0.0.1", import_names=["crashy"], tier="main-only", flags=["crashed"],
            modes={
                "isolated": ModeResult(ok=False, error="worker died with SIGSEGV", crash=crash),
                "shared-gil": ModeResult(ok=None), "legacy": ModeResult(ok=None), "main": _ok(),
            },
            culprit="crashy._native",
            extensions=[_ext("crashy._native", "single-phase", None)],
        ),
        DistributionResult(
            name="Dependent_Pkg", version="1.2", import_names=["dependent_pkg"], tier="legacy-only", flags=["blocked-by"],
            modes={
                "isolated": _fail("ImportError: cannot import dependent_pkg", ["ImportError: cannot import dependent_pkg", refusal]),
                "shared-gil": ModeResult(ok=False, inferred="isolated failed"), "legacy": _ok(), "main": _ok(),
            },
            blocked_by=[BlockedBy(module="legacyext._core", distribution="legacyext", message=refusal)],
            smoke={"checks": 2, "passed": 2},
        ),
        DistributionResult(
            name="degraded-pkg", version="3.3", import_names=["degraded_pkg"], tier="own-gil", flags=["degraded"],
            modes=_ladder_ok(), degraded_modules=["degraded_pkg._accel"],
            extensions=[_ext("degraded_pkg._accel", "single-phase", None)],
            notes=["fell back to pure Python in sub-interpreters"],
        ),
        DistributionResult(
            name="broken-pkg", version="0.1", import_names=["broken_pkg"], tier="broken",
            modes={m: _fail("ModuleNotFoundError: No module named 'missing_dep'") for m in model.MODES},
            culprit="missing_dep",
        ),
    ]


def sample_report(versions: typing.Sequence[str] = ("3.12.1", "3.13.0")) -> ScanReport:
    """A realistic scan of two interpreters (the same corpus on each)."""
    return ScanReport(
        interpreters=[InterpreterRun(python=_python(v), distributions=distributions(v)) for v in versions],
        tool_version="0.1.0",
        generated_at="2024-10-07T12:00:00+00:00",
    )


def hostile_report() -> ScanReport:
    report = sample_report(("3.13.0",))
    report.interpreters[0].distributions.append(
        DistributionResult(
            name=HOSTILE_NAME, version='1.0"><b>', tier="shared-gil", modes=_ladder_ok(),
            summary=HOSTILE_SUMMARY, culprit="<i>evil</i>",
            findings=[Finding(code="IA999", severity="low", message="<script>alert(1)</script>",
                              remediation="<a href='javascript:alert(1)'>fix</a>")],
        )
    )
    return report


# --- JSON writer, reader and schema -------------------------------------------------------------

from interp_audit.reports import json as json_report  # noqa: E402


def _schema() -> dict:
    return json.loads(json_report.SCHEMA_PATH.read_text(encoding="utf-8"))


def test_json_round_trip_keeps_every_field():
    report = sample_report()
    text = json_report.dumps(report)
    assert json.loads(text) == model.to_dict(report)
    assert model.from_dict(ScanReport, json.loads(text)) == report
    assert list(json.loads(text))[:3] == ["schema_version", "tool_version", "generated_at"]


def test_json_key_order_is_stable_and_modes_follow_the_ladder():
    report = sample_report()
    shuffled = sample_report()
    for run in shuffled.interpreters:
        for result in run.distributions:
            result.modes = dict(reversed(list(result.modes.items())))
            result.smoke = dict(reversed(list(result.smoke.items())))
    assert json_report.dumps(report) == json_report.dumps(shuffled)
    first = json.loads(json_report.dumps(report))["interpreters"][0]["distributions"][0]
    assert list(first["modes"]) == list(model.MODES)


def test_sample_report_validates_against_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(json.loads(json_report.dumps(sample_report())))


def test_schema_rejects_wrong_values():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(_schema())
    good = json.loads(json_report.dumps(sample_report()))
    bad_values = [
        ("tier", "great"),
        ("flags", ["sparkly"]),
        ("modes", {"weird-mode": {"ok": True}}),
        ("extensions", [{"module": "m", "path": "p", "init": "three-phase"}]),
    ]
    for key, value in bad_values:
        data = json.loads(json.dumps(good))
        data["interpreters"][0]["distributions"][0][key] = value
        assert list(validator.iter_errors(data)), f"{key}={value!r} should be rejected"
    data = json.loads(json.dumps(good))
    data["schema_version"] = 2
    assert list(validator.iter_errors(data))


def _dataclass_defs() -> dict[str, type]:
    return {
        "ScanReport": ScanReport, "InterpreterRun": InterpreterRun, "PythonInfo": PythonInfo,
        "DistributionResult": DistributionResult, "ModeResult": ModeResult, "ScenarioResult": ScenarioResult,
        "Crash": Crash, "BlockedBy": BlockedBy, "ExtensionInfo": ExtensionInfo, "Framework": Framework,
        "Finding": Finding,
    }


def test_schema_documents_every_model_field_and_enum():
    schema = _schema()
    for def_name, cls in _dataclass_defs().items():
        node = schema if def_name == "ScanReport" else schema["$defs"][def_name]
        missing = {f.name for f in dataclasses.fields(cls)} - set(node["properties"])
        assert not missing, f"schema $defs/{def_name} lacks {sorted(missing)}: document new model fields"
    dist = schema["$defs"]["DistributionResult"]["properties"]
    assert [t for t in dist["tier"]["enum"] if t] == list(model.TIERS)
    assert dist["flags"]["items"]["enum"] == list(model.FLAGS)
    assert schema["$defs"]["Modes"]["propertyNames"]["enum"] == list(model.MODES)
    assert schema["$defs"]["Finding"]["properties"]["severity"]["enum"] == list(model.SEVERITIES)
    assert schema["properties"]["schema_version"]["const"] == model.SCHEMA_VERSION


def test_json_doc_mentions_every_schema_field():
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "json-schema.md").read_text(encoding="utf-8")
    for def_name, cls in _dataclass_defs().items():
        for f in dataclasses.fields(cls):
            assert f"`{f.name}`" in doc, f"docs/json-schema.md does not describe {def_name}.{f.name}"


def test_load_results_reads_many_files(tmp_path):
    paths = []
    for version in ("3.12.1", "3.13.0"):
        path = tmp_path / f"{version}.json"
        path.write_text(json_report.dumps(sample_report((version,))), encoding="utf-8")
        paths.append(path)
    reports = json_report.load_results(paths)
    assert [r.interpreters[0].python.version for r in reports] == ["3.12.1", "3.13.0"]
    assert json_report.load_results(paths[0]) == [sample_report(("3.12.1",))]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("{not json", "not JSON"),
        ('["a list"]', "not an interp-audit result file"),
        ('{"schema_version": 99, "interpreters": []}', "newer interp-audit"),
        ('{"schema_version": "1", "interpreters": []}', "must be an integer"),
        ('{"schema_version": 1, "interpreters": [{"python": {"version": "3.13.0"}}]}', "does not match the result schema"),
        ('{"schema_version": 1, "interpreters": [{"python": {"version": "3.13.0", "implementation": "CPython", '
         '"executable": "x"}, "distributions": [{"name": "a", "version": "1", "modes": {"isolated": {}}}]}]}',
         "does not match the result schema"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
    ],
)
def test_load_results_explains_bad_files(tmp_path, content, expected):
    path = tmp_path / "results.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(json_report.ResultsError) as info:
        json_report.load_results([path])
    message = str(info.value)
    assert expected in message and str(path) in message and "\n" not in message


# --- terminal matrix ----------------------------------------------------------------------------

import io  # noqa: E402

from rich.console import Console  # noqa: E402

from interp_audit.reports import table  # noqa: E402


def _row(text: str, name: str) -> list[str]:
    """The cells of the plain-table row whose first cell is ``name``."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == name:
            return cells
    raise AssertionError(f"no row {name!r} in:\n{text}")


def test_plain_table_has_a_column_group_per_python_and_ascii_symbols():
    text = table.render_text(sample_report())
    assert text.isascii()
    header = [line for line in text.splitlines() if "isolated" in line][0]
    assert header.count("isolated") == 2 and header.count("tier") == 2
    versions_line = [line for line in text.splitlines() if "3.12.1" in line][0]
    assert "3.13.0" in versions_line
    # distribution, version, 2 x (4 modes + tier), flags, culprit
    assert _row(text, "crashy") == ["crashy", "0.0.1", "CRASH", "-", "-", "ok", "main-only",
                                    "CRASH", "-", "-", "ok", "main-only", "crashed", "crashy._native"]
    assert _row(text, "sharedext")[2:7] == ["FAIL", "ok", "~ok", "ok", "shared-gil"]
    assert _row(text, "Dependent_Pkg")[-2:] == ["blocked-by", "legacyext._core"]
    assert "3.13.0: own-gil 3, shared-gil 1, legacy-only 2, main-only 1, broken 1" in text.splitlines()


def test_table_on_a_colour_terminal_uses_symbols_and_colour():
    buffer = io.StringIO()
    table.render(sample_report(), Console(file=buffer, force_terminal=True, color_system="truecolor", width=220))
    text = buffer.getvalue()
    assert "\x1b[" in text
    for symbol in ("✓", "✗", "💥", "~✓", "–"):
        assert symbol in text


def test_table_respects_no_color(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    buffer = io.StringIO()
    table.render(sample_report(), Console(file=buffer, force_terminal=True, width=220))
    text = buffer.getvalue()
    assert "\x1b[3" not in text and "✓" not in text
    assert _row(text, "crashy")[2] == "CRASH"


def test_table_prints_package_text_literally():
    report = sample_report(("3.13.0",))
    report.interpreters[0].distributions[0].name = "[bold red]evil[/bold red]"
    text = table.render_text(report)
    assert "[bold red]evil[/bold red]" in text


def test_table_of_an_empty_report_says_so():
    text = table.render_text(ScanReport(interpreters=[InterpreterRun(python=_python("3.13.0"))]))
    assert "No distributions" in text
