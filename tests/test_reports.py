"""Reports: JSON writer/reader and schema, terminal matrix, merge, every --format, badges, site files."""

from __future__ import annotations

import dataclasses
import html
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


def test_json_writes_strings_as_the_encoder_does():
    """Strings are written without the encoder's per-call overhead, byte for byte as it writes them."""
    report = sample_report()
    dist = report.interpreters[0].distributions[0]
    dist.summary = 'quote " backslash \\ newline \n tab \t é ✓ \x01 \u2028 \ud800'
    text = json_report.dumps(report)
    assert json.dumps(dist.summary, ensure_ascii=False) in text
    assert json.loads(text) == model.to_dict(report)


def test_json_key_order_is_stable_and_modes_follow_the_ladder():
    report = sample_report()
    shuffled = sample_report()
    for run in shuffled.interpreters:
        for result in run.distributions:
            result.modes = dict(reversed(list(result.modes.items())))
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
    data["schema_version"] = model.SCHEMA_VERSION + 1
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


from screen import parse_grid, plain  # noqa: E402


def _row(text: str, name: str) -> dict[str, str]:
    """The cells of the matrix row of distribution ``name`` (tests/screen.py reads the columns)."""
    return parse_grid(text).rows[name]


def test_plain_table_has_a_tier_column_per_python_flags_and_reason():
    text = table.render_text(sample_report())
    assert text.isascii()
    grid = parse_grid(text)
    assert [h for h, _, _ in grid.columns] == ["distribution", "version", "3.12.1 tier", "3.13.0 tier", "flags", "reason"]
    assert _row(text, "crashy") == {"distribution": "crashy", "version": "0.0.1", "3.12.1 tier": "main-only",
                                    "3.13.0 tier": "main-only", "flags": "crashed",
                                    "reason": "crashy._native: crashed (SIGSEGV)"}
    assert _row(text, "sharedext")["3.13.0 tier"] == "shared-gil"
    assert _row(text, "Dependent_Pkg")["flags"] == "blocked-by"
    assert _row(text, "degraded-pkg")["3.13.0 tier"] == "own-gil, degraded"
    assert "3.13.0: own-gil 3, shared-gil 1, legacy-only 2, main-only 1, broken 1" in text.splitlines()


def test_wide_plain_table_shows_every_rung_in_ascii():
    text = table.render_text(sample_report(), wide=True)
    assert text.isascii()
    crashy = _row(text, "crashy")
    assert [crashy[f"3.13.0 {m}"] for m in ("isolated", "shared", "legacy", "main", "tier")] == [
        "CRASH", "-", "-", "ok", "main-only"]
    assert [_row(text, "sharedext")[f"3.12.1 {m}"] for m in ("isolated", "shared", "legacy", "main")] == [
        "FAIL", "ok", "~ok", "ok"]
    assert "ok works, FAIL fails, CRASH crashed" in text


def test_table_on_a_colour_terminal_uses_one_cell_symbols_and_colour():
    buffer = io.StringIO()
    table.render(sample_report(), Console(file=buffer, force_terminal=True, color_system="truecolor", width=220),
                 wide=True)
    text = buffer.getvalue()
    assert "\x1b[" in text
    for symbol in ("✓", "✗", "✹", "~✓", "–"):
        assert symbol in text
    assert "💥" not in text  # two cells wide: it misaligned the columns


def test_table_respects_no_color(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    buffer = io.StringIO()
    table.render(sample_report(), Console(file=buffer, force_terminal=True, width=220), wide=True)
    text = buffer.getvalue()
    assert "\x1b[3" not in text and "\x1b[9" not in text
    assert _row(plain(text), "crashy")["3.13.0 isolated"] == "✹"


def test_table_falls_back_to_ascii_where_the_terminal_cannot_show_the_symbols():
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    table.render(sample_report(), Console(file=stream, force_terminal=True, width=220), wide=True)
    stream.flush()
    text = plain(raw.getvalue().decode("ascii"))
    assert _row(text, "crashy")["3.13.0 isolated"] == "CRASH"


def test_table_prints_package_text_literally():
    report = sample_report(("3.13.0",))
    report.interpreters[0].distributions[0].name = "[bold red]evil[/bold red]"
    text = table.render_text(report)
    assert "[bold red]evil[/bold red]" in text


def test_table_of_an_empty_report_says_so():
    text = table.render_text(ScanReport(interpreters=[InterpreterRun(python=_python("3.13.0"))]))
    assert "No distributions" in text


# --- merging ------------------------------------------------------------------------------------

from interp_audit.reports.merge import merge  # noqa: E402


def test_merging_files_of_different_pythons_gives_one_matrix():
    from interp_audit.reports.matrix import build

    merged = merge([sample_report(("3.12.1",)), sample_report(("3.13.0",))], ["a.json", "b.json"])
    matrix = build(merged.report, merged.conflicts)
    assert [c.label for c in matrix.columns] == ["3.12.1", "3.13.0"]
    assert len(matrix.rows) == len(distributions("3.13.0"))
    assert all(len(row.cells) == 2 for row in matrix.rows)
    assert merged.conflicts == []


def test_identical_shards_merge_quietly_and_conflicts_are_reported_not_overwritten():
    first = sample_report(("3.13.0",))
    same = sample_report(("3.13.0",))
    other = sample_report(("3.13.0",))
    changed = next(d for d in other.interpreters[0].distributions if d.name == "sharedext")
    changed.tier = "own-gil"
    changed.modes["isolated"] = _ok()
    merged = merge([first, same, other], ["first.json", "same.json", "other.json"])
    assert len(merged.report.interpreters) == 1
    assert len(merged.report.interpreters[0].distributions) == len(distributions("3.13.0"))
    assert len(merged.conflicts) == 1
    conflict = merged.conflicts[0]
    assert (conflict.distribution, conflict.kept, conflict.other) == ("sharedext", "first.json", "other.json")
    assert "tier: shared-gil != own-gil" in conflict.differences
    kept = next(d for d in merged.report.interpreters[0].distributions if d.name == "sharedext")
    assert kept.tier == "shared-gil"
    text = table.render_text(merged.report, merged.conflicts)
    assert "conflict" in _row(text, "sharedext")["3.13.0 tier"]
    assert "conflict: sharedext 0.3" in text


def test_same_version_on_other_platforms_stays_separate():
    mac = sample_report(("3.13.0",))
    mac.interpreters[0].python.sysconfig_platform = "macosx-14.0-arm64"
    merged = merge([sample_report(("3.13.0",)), mac])
    assert len(merged.report.interpreters) == 2 and merged.conflicts == []
    text = table.render_text(merged.report)
    assert "macosx-14.0-arm64" in text


# --- markdown, html, csv, junit, json formats ---------------------------------------------------

import csv as csv_module  # noqa: E402
from html.parser import HTMLParser  # noqa: E402
from xml.etree import ElementTree  # noqa: E402

from interp_audit.reports import formats  # noqa: E402


class _Tables(HTMLParser):
    """Collects the text of every table cell, the tags and attributes seen, and scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self.texts: list[str] = []
        self._cell: list[str] | None = None
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "script":
            self._in_script = True

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_script:
            self.scripts.append(data)
        else:
            self.texts.append(data)

    @property
    def text(self) -> str:
        """All text outside scripts, as a reader sees it."""
        return "\n".join(self.texts)


def _parse_html(text: str) -> _Tables:
    parser = _Tables()
    parser.feed(text)
    return parser


def test_every_format_is_registered_and_renders():
    assert set(formats.NAMES) == {"table", "markdown", "html", "csv", "json", "junit", "survey"}
    for name in formats.NAMES:
        assert formats.get(name).render(sample_report()).strip()


def test_markdown_renders_as_a_github_table():
    from markdown_it import MarkdownIt

    text = formats.get("markdown").render(sample_report())
    html = MarkdownIt("commonmark").enable("table").render(text)
    parsed = _parse_html(html)
    header = parsed.rows[0]
    assert header[:3] == ["distribution", "version", "3.12.1 isolated"] and header[-3:] == ["flags", "culprit", "findings"]
    by_name = {row[0]: row for row in parsed.rows[1:]}
    assert by_name["crashy"][2:7] == ["💥", "–", "–", "✓", "🔴 main-only"]
    assert by_name["legacyext"][-3:] == ["one-per-process", "legacyext._core", "IA101"]
    assert "Port the module to multi-phase initialisation (PEP 489)." in html


def test_markdown_escapes_hostile_text():
    from markdown_it import MarkdownIt

    text = formats.get("markdown").render(hostile_report())
    html = MarkdownIt("commonmark").enable("table").render(text)
    parsed = _parse_html(html)
    assert not parsed.scripts
    assert not [t for t, attrs in parsed.tags if t in ("img", "script", "i", "b") or "onerror" in attrs]
    assert any(row and row[0] == HOSTILE_NAME for row in parsed.rows)
    assert "@\u200b" in formats.get("markdown").render(_with_summary("ping @maintainer"))


def _with_summary(summary: str) -> ScanReport:
    report = sample_report(("3.13.0",))
    report.interpreters[0].distributions[0].findings.append(Finding(code="IA1", severity="info", message=summary))
    return report


def test_html_report_is_self_contained_sortable_and_escaped():
    text = formats.get("html").render(hostile_report())
    parsed = _parse_html(text)
    srcs = [attrs.get("src") or attrs.get("href") for tag, attrs in parsed.tags if tag in ("script", "link", "img")]
    assert all(s is None or s.startswith(("#", "data:")) for s in srcs), srcs
    assert "http://" not in text and "https://" not in text
    assert any("sortable" in (attrs.get("class") or "") for tag, attrs in parsed.tags if tag == "th")
    assert ("input", {"type": "search", "id": "search", "placeholder": "Search packages, summaries, culprits…",
                      "aria-label": "Search packages"}) in parsed.tags
    assert not [t for t, attrs in parsed.tags if t in ("img", "i", "b") or "onerror" in attrs]
    assert all("__pwned" not in script for script in parsed.scripts)
    names = [row[0] for row in parsed.rows if row]
    assert any(n.startswith(HOSTILE_NAME) for n in names)
    crashy = next(row for row in parsed.rows if row and row[0] == "crashy")
    assert crashy[2:7] == ["✹", "–", "–", "✓", "main-only"]


def test_csv_is_a_matrix_and_defuses_formulas():
    report = sample_report()
    report.interpreters[0].distributions[0].culprit = "=HYPERLINK(\"http://evil\")"
    rows = list(csv_module.reader(io.StringIO(formats.get("csv").render(report))))
    header = rows[0]
    assert header[:7] == ["distribution", "version", "3.12.1 isolated", "3.12.1 shared-gil", "3.12.1 legacy",
                          "3.12.1 main", "3.12.1 tier"]
    assert header[-4:] == ["flags", "culprit", "findings", "conflict"]
    by_name = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    assert by_name["crashy"]["3.13.0 isolated"] == "crash"
    assert by_name["sharedext"]["3.13.0 legacy"] == "inferred-ok"
    assert by_name["legacyext"]["findings"] == "IA101"
    assert by_name["purepkg"]["culprit"].startswith("'=")


def test_junit_makes_each_distribution_a_test_case():
    root = ElementTree.fromstring(formats.get("junit").render(sample_report()))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["interp-audit Python 3.12.1", "interp-audit Python 3.13.0"]
    cases = {c.get("name"): c for c in suites[1].findall("testcase")}
    assert set(cases) == {f"{d.name}=={d.version}" for d in distributions("3.13.0")}
    assert cases["purepkg==1.0"].find("failure") is None and cases["purepkg==1.0"].find("error") is None
    assert cases["sharedext==0.3"].find("failure").get("type") == "shared-gil"
    assert cases["crashy==0.0.1"].find("error").get("type") == "crashed"
    assert cases["broken-pkg==0.1"].find("error").get("type") == "broken"
    assert "Port the module" in cases["legacyext==5.0"].find("failure").text
    assert (suites[1].get("tests"), suites[1].get("failures"), suites[1].get("errors")) == ("8", "3", "2")
    assert root.get("tests") == "16"


def test_junit_threshold_moves_with_fail_under():
    root = ElementTree.fromstring(formats.get("junit", fail_under="shared-gil").render(sample_report(("3.13.0",))))
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["sharedext==0.3"].find("failure") is None
    assert cases["legacyext==5.0"].find("failure") is not None


def test_junit_survives_control_characters_in_package_text():
    report = hostile_report()
    report.interpreters[0].distributions[0].modes["isolated"] = _fail("ImportError: bad \x00\x1b byte")
    report.interpreters[0].distributions[0].tier = "legacy-only"
    ElementTree.fromstring(formats.get("junit").render(report))


def test_json_format_round_trips_a_merged_report():
    merged = merge([sample_report(("3.12.1",)), sample_report(("3.13.0",))])
    text = formats.get("json").render(merged.report, merged.conflicts)
    assert json_report.loads(text) == merged.report


# --- badges -------------------------------------------------------------------------------------

from interp_audit.reports import badge as badge_module  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


def _result(name: str) -> DistributionResult:
    return next(d for d in distributions("3.13.0") if d.name == name)


@pytest.mark.parametrize(
    ("name", "message", "color"),
    [
        ("fastext", "per-interpreter GIL", "#44cc11"),
        ("purepkg", "pure Python", "#007ec6"),
        ("degraded-pkg", "per-interpreter GIL, degraded", "#44cc11"),  # the tier's colour, the note beside it
        ("sharedext", "shared GIL", "#dfb317"),
        ("legacyext", "legacy only", "#fe7d37"),
        ("crashy", "crashes", "#8b0000"),
        ("broken-pkg", "broken", "#9f9f9f"),
    ],
)
def test_badge_message_and_colour_follow_the_tier(name, message, color):
    badge = badge_module.badge_for(_result(name))
    assert (badge.message, badge.color) == (message, color)
    root = ElementTree.fromstring(badge_module.render_svg(badge))
    assert root.get("aria-label") == f"subinterpreters: {message}" and root.get("role") == "img"
    assert root.find(f"{SVG}title").text == f"subinterpreters: {message}"
    fills = [rect.get("fill") for rect in root.iter(f"{SVG}rect")]
    assert color in fills
    assert [t.text for t in root.iter(f"{SVG}text")] == ["subinterpreters"] * 2 + [message] * 2


def test_main_only_badge_is_red():
    result = _result("purepkg")
    result.tier = "main-only"
    assert badge_module.badge_for(result).color == "#e05d44"
    assert badge_module.badge_for(None).message == "not audited"


def test_badge_width_grows_with_text_and_text_fits_its_box():
    widths = []
    for message in ("ok", "shared GIL", "per-interpreter GIL", "per-interpreter GIL WWWWWW"):
        root = ElementTree.fromstring(badge_module.render_svg(badge_module.Badge("subinterpreters", message, "#44cc11")))
        rects = list(root.iter(f"{SVG}rect"))
        label_box, message_box = float(rects[1].get("width")), float(rects[2].get("width"))
        texts = list(root.iter(f"{SVG}text"))
        assert float(texts[0].get("textLength")) < label_box
        assert float(texts[2].get("textLength")) < message_box
        assert float(root.get("width")) == label_box + message_box
        widths.append(float(root.get("width")))
    assert widths == sorted(widths) and len(set(widths)) == len(widths)
    # real metrics, not a fixed width per character: "i" is much narrower than "W"
    assert badge_module.text_width("iiii") * 3 < badge_module.text_width("WWWW")


def test_badge_escapes_its_text():
    svg = badge_module.render_svg(badge_module.Badge("a<b>&\"", "<script>", "#44cc11"))
    root = ElementTree.fromstring(svg)
    assert root.get("aria-label") == 'a<b>&": <script>'
    assert not list(root.iter(f"{SVG}script"))


def test_shields_endpoint_json():
    data = json.loads(badge_module.shields_endpoint(badge_module.badge_for(_result("sharedext"))))
    assert data == {"schemaVersion": 1, "label": "subinterpreters", "message": "shared GIL", "color": "dfb317"}


def test_find_result_prefers_newest_python_and_honours_python():
    report = sample_report()
    report.interpreters[0].distributions[2].tier = "legacy-only"  # sharedext on 3.12
    assert badge_module.find_result(report, "sharedext").tier == "shared-gil"
    assert badge_module.find_result(report, "SharedExt", "3.12").tier == "legacy-only"
    assert badge_module.find_result(report, "sharedext", "3.11") is None
    assert badge_module.find_result(report, "dependent-pkg").name == "Dependent_Pkg"


# --- website files ------------------------------------------------------------------------------

from interp_audit.reports.site import build_site  # noqa: E402


def test_site_has_index_pages_badges_and_api(tmp_path):
    merged = merge([sample_report(("3.12.1",)), hostile_report()])
    build_site(merged, tmp_path)
    api = json.loads((tmp_path / "api" / "packages.json").read_text(encoding="utf-8"))
    assert api["schema_version"] == model.SCHEMA_VERSION
    assert [p["label"] for p in api["pythons"]] == ["3.13.0", "3.12.1"]  # newest first
    slugs = {p["name"]: p["slug"] for p in api["packages"]}
    assert slugs["Dependent_Pkg"] == "dependent-pkg"
    for package in api["packages"]:
        for key in ("page", "badge", "json"):
            assert (tmp_path / package[key]).is_file(), package[key]
        assert package["slug"].replace("-", "").isalnum()
    legacy = json.loads((tmp_path / "api" / "packages" / "legacyext.json").read_text(encoding="utf-8"))
    assert legacy["schema_version"] == model.SCHEMA_VERSION
    assert [r["python"]["version"] for r in legacy["results"]] == ["3.13.0", "3.12.1"]
    assert legacy["results"][0]["result"]["tier"] == "legacy-only"
    ElementTree.parse(tmp_path / "badges" / "legacyext.svg")
    assert json.loads((tmp_path / "badges" / "crashy.json").read_text())["message"] == "crashes"
    page = _parse_html((tmp_path / "packages" / "legacyext.html").read_text(encoding="utf-8"))
    text = " ".join(" ".join(row) for row in page.rows)
    assert "single-phase" in text and "pybind11" in text and "legacy-only" in text
    snippet = next(attrs for tag, attrs in page.tags if tag == "textarea")
    assert snippet["data-badge"] == "../badges/legacyext.svg"


def test_site_package_page_explains_blockers_findings_and_crashes(tmp_path):
    build_site(merge([sample_report()]), tmp_path, base_url="https://compat.example.org/")
    dependent = (tmp_path / "packages" / "dependent-pkg.html").read_text(encoding="utf-8")
    assert "legacyext._core (from legacyext)" in dependent
    assert "[![subinterpreters: legacy only](https://compat.example.org/badges/dependent-pkg.svg)]" \
           "(https://compat.example.org/packages/dependent-pkg.html)" in dependent
    legacy = (tmp_path / "packages" / "legacyext.html").read_text(encoding="utf-8")
    assert "Port the module to multi-phase initialisation (PEP 489)." in legacy
    crashy = (tmp_path / "packages" / "crashy.html").read_text(encoding="utf-8")
    assert "SIGSEGV" in crashy and "Fatal Python error: Segmentation fault" in crashy


def test_site_index_leaves_finding_texts_to_the_package_pages(tmp_path):
    """The survey's 500-row index was half finding tooltips (1.4 MB): the index keeps the code and
    its severity, the package page the message; the single-file HTML report keeps the message."""
    merged = merge([sample_report()])
    build_site(merged, tmp_path)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    dist, finding = next((d, d.findings[0]) for run in merged.report.interpreters for d in run.distributions
                         if d.findings)
    assert f'<span title="{finding.severity}">{finding.code}</span>' in index
    assert html.escape(finding.message) not in index
    page = tmp_path / "packages" / f"{dist.name.lower()}.html"
    assert html.escape(finding.message) in page.read_text(encoding="utf-8")
    assert html.escape(finding.message) in formats.get("html").render(merged.report)


def test_site_escapes_hostile_package_text(tmp_path):
    build_site(merge([hostile_report()]), tmp_path)
    for page in [tmp_path / "index.html", *sorted((tmp_path / "packages").glob("*.html"))]:
        parsed = _parse_html(page.read_text(encoding="utf-8"))
        injected = [(t, a) for t, a in parsed.tags if t in ("i", "b") or (t == "img" and a.get("src") == "x")
                    or any(k.startswith("on") for k in a)]
        assert not injected, (page, injected)
        assert all("__pwned" not in script for script in parsed.scripts), page
    hostile_page = next(p for p in (tmp_path / "packages").glob("*.html") if "onerror" in p.read_text())
    shown = _parse_html(hostile_page.read_text(encoding="utf-8")).text
    assert HOSTILE_NAME in shown and HOSTILE_SUMMARY in shown and "<a href='javascript:alert(1)'>fix</a>" in shown


def test_site_with_nothing_in_it_still_builds(tmp_path):
    build_site(merge([ScanReport(interpreters=[InterpreterRun(python=_python("3.13.0"))])]), tmp_path)
    assert (tmp_path / "index.html").is_file()
    assert json.loads((tmp_path / "api" / "packages.json").read_text())["packages"] == []


# --- command line -------------------------------------------------------------------------------

from click.testing import CliRunner  # noqa: E402

from interp_audit._cli import main  # noqa: E402


def _results(tmp_path, versions=("3.12.1", "3.13.0"), name="results.json"):
    path = tmp_path / name
    path.write_text(json_report.dumps(sample_report(versions)), encoding="utf-8")
    return str(path)


def test_cli_report_formats(tmp_path):
    runner = CliRunner()
    results = _results(tmp_path)
    table_out = runner.invoke(main, ["report", results])
    assert table_out.exit_code == 0 and _row(table_out.output, "crashy")["3.13.0 tier"] == "main-only"
    md = runner.invoke(main, ["report", results, "--format", "markdown"])
    assert md.exit_code == 0 and "| **crashy** |" in md.output
    out = tmp_path / "report.xml"
    junit = runner.invoke(main, ["report", results, "--format", "junit", "-o", str(out)])
    assert junit.exit_code == 0 and ElementTree.parse(out).getroot().get("tests") == "16"


def test_a_result_without_a_tier_says_no_verdict_in_the_table_and_markdown(tmp_path):
    report = sample_report(("3.13.0",))
    report.interpreters[0].distributions.append(DistributionResult(
        name="unjudged", version="", problems=["install failed: no matching distribution"]))
    results = tmp_path / "results.json"
    results.write_text(json_report.dumps(report), encoding="utf-8")
    table = CliRunner().invoke(main, ["report", str(results)])
    assert table.exit_code == 0 and _row(table.output, "unjudged")["3.13.0 tier"] == "no verdict"
    markdown = CliRunner().invoke(main, ["report", str(results), "--format", "markdown"])
    assert next(line for line in markdown.output.splitlines() if "unjudged" in line).count("| no verdict |") == 1


def test_cli_report_merges_and_warns_about_conflicts(tmp_path):
    runner = CliRunner()
    a = _results(tmp_path, ("3.13.0",), "a.json")
    other = sample_report(("3.13.0",))
    other.interpreters[0].distributions[0].tier = "broken"
    b = tmp_path / "b.json"
    b.write_text(json_report.dumps(other), encoding="utf-8")
    result = runner.invoke(main, ["report", a, str(b), "--format", "csv"])
    assert result.exit_code == 0
    assert "warning: conflicting results for purepkg 1.0" in result.stderr
    rows = list(csv_module.DictReader(io.StringIO(result.stdout)))
    assert next(r for r in rows if r["distribution"] == "purepkg")["conflict"] == "3.13.0"


def test_cli_report_and_site_read_every_result_file_of_a_directory(tmp_path):
    shards = tmp_path / "shards"
    shards.mkdir()
    _results(shards, ("3.12.1",), "py312.json")
    _results(shards, ("3.13.0",), "py313.json")
    (shards / "notes.txt").write_text("not a result file")
    result = CliRunner().invoke(main, ["report", str(shards), "--format", "csv"])
    assert result.exit_code == 0, result.output
    header = next(csv_module.reader(io.StringIO(result.stdout)))
    assert "3.12.1 tier" in header and "3.13.0 tier" in header  # one column group per file
    site = CliRunner().invoke(main, ["site", str(shards), "-o", str(tmp_path / "site")])
    assert site.exit_code == 0, site.output
    assert (tmp_path / "site" / "index.html").exists()


def test_cli_report_of_a_directory_without_results_is_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "no *.json result files" in result.stderr and "Traceback" not in result.output


def test_cli_report_fail_under_exits_1(tmp_path):
    runner = CliRunner()
    results = _results(tmp_path)
    assert runner.invoke(main, ["report", results, "--format", "json", "--fail-under", "broken"]).exit_code == 0
    assert runner.invoke(main, ["report", results, "--format", "json", "--fail-under", "legacy-only"]).exit_code == 1


@pytest.mark.parametrize("content", [None, "{not json", '{"schema_version": 7, "interpreters": []}'])
@pytest.mark.parametrize("command", [["report"], ["site", "-o", "SITE"], ["badge", "purepkg", "--results"]])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, content, command):
    path = tmp_path / "in.json"
    if content is not None:
        path.write_text(content)
    args = [str(tmp_path / "site") if a == "SITE" else a for a in command] + [str(path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ") and str(path) in result.stderr
    assert "Traceback" not in result.output


def test_cli_badge(tmp_path):
    runner = CliRunner()
    results = _results(tmp_path)
    out = tmp_path / "b.svg"
    assert runner.invoke(main, ["badge", "legacyext", "--results", results, "-o", str(out)]).exit_code == 0
    assert ElementTree.parse(out).getroot().get("aria-label") == "subinterpreters: legacy only"
    endpoint = runner.invoke(main, ["badge", "sharedext", "--results", results, "--format", "shields-endpoint"])
    assert json.loads(endpoint.stdout)["message"] == "shared GIL"
    unknown = runner.invoke(main, ["badge", "nope", "--results", results])
    assert unknown.exit_code == 2 and "no result for distribution 'nope'" in unknown.stderr
    missing = runner.invoke(main, ["badge", "purepkg"])
    assert missing.exit_code == 2 and "--results" in missing.stderr


def test_cli_site(tmp_path):
    result = CliRunner().invoke(main, ["site", _results(tmp_path), "-o", str(tmp_path / "public")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "public" / "index.html").is_file()
    assert (tmp_path / "public" / "badges" / "purepkg.svg").is_file()


# --- end to end: a real scan of real compiled fixtures, then every report --------------------------

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

REAL_DISTS = ("ia-fixture-single", "ia-fixture-clean", "ia-fixture-segv", "ia-fixture-blocked", "ia-fixture-pure")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "interp_audit", *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "NO_COLOR": "1"})


def test_reports_of_a_real_scan(corpus_env, tmp_path):
    results = tmp_path / "results.json"
    scan = _cli("scan", "--python", str(corpus_env.python), "--no-cache", "--timeout", "60", *REAL_DISTS,
                "--format", "json", "-o", str(results))
    assert scan.returncode == 0, scan.stderr
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator(_schema()).validate(json.loads(results.read_text()))

    table_text = _cli("report", str(results)).stdout
    tier = f"{json.loads(results.read_text())['interpreters'][0]['python']['version']} tier"
    assert _row(table_text, "ia-fixture-segv")["flags"] == "crashed" and _row(table_text, "ia-fixture-single")[tier] == "legacy-only"

    junit = ElementTree.fromstring(_cli("report", str(results), "--format", "junit").stdout)
    cases = {c.get("name"): c for c in junit.iter("testcase")}
    assert cases["ia-fixture-single==1.0"].find("failure").get("type") == "legacy-only"
    assert cases["ia-fixture-segv==1.0"].find("error").get("type") == "crashed"
    assert cases["ia-fixture-clean==1.0"].find("failure") is None

    for dist, message in (("ia-fixture-segv", "crashes"), ("ia-fixture-clean", "per-interpreter GIL"),
                          ("ia-fixture-single", "legacy only"), ("ia-fixture-blocked", "legacy only")):
        svg = _cli("badge", dist, "--results", str(results))
        assert svg.returncode == 0, svg.stderr
        assert ElementTree.fromstring(svg.stdout).get("aria-label") == f"subinterpreters: {message}"

    site = _cli("site", str(results), "-o", str(tmp_path / "site"))
    assert site.returncode == 0, site.stderr
    blocked = (tmp_path / "site" / "packages" / "ia-fixture-blocked.html").read_text(encoding="utf-8")
    assert "ia_single" in blocked and "blocked by" in blocked
    segv = (tmp_path / "site" / "packages" / "ia-fixture-segv.html").read_text(encoding="utf-8")
    assert "SIGSEGV" in segv
    assert "Extension modules" in (tmp_path / "site" / "packages" / "ia-fixture-single.html").read_text()


# --- smoke checks: a column per check in every format, schema version 2 --------------------------

from interp_audit.model import SMOKE_CHECKS as CHECKS  # noqa: E402

HOSTILE_ERROR = '<img src=x onerror="window.__pwned=1"> @maintainer | `code` </td>'


def _passed(**more) -> dict:
    return {"status": "passed", "ok": True, "seconds": 0.4, "crash": None, **more}


def smoke_result(python: str, mode: str = "isolated", **checks: dict) -> model.SmokeReport:
    """A DistributionResult.smoke as run_smoke returns it, built from its JSON: every check passed unless given
    in ``checks``."""
    report = {
        "mode": mode, "python": f"/usr/bin/python{python[:4]}", "distribution": "x",
        "snippets_used": [{"name": "roundtrip", "source": "curated"}],
        "generic": _passed(modules_walked=["x"], failed=[], skipped=[], refused=[], truncated=False, not_walked=[],
                           attributes_touched=12, error=None),
        "snippets": _passed(items=[{"name": "roundtrip", "source": "curated", "ok": True, "error": None,
                                    "result": "b'ok'", "seconds": 0.1, "crash": None}], invalid=[]),
        "parallel": _passed(interpreters=4, rounds=3, rounds_completed=3, iterations=5, errors=[], different_results=[]),
        "reimport": _passed(rounds=3, rounds_completed=3, first_error=None, failures=[], state_leaks=[]),
        "static_types": _passed(shared=[], checked=["x._c"], errors={}, types_compared=2),
        "cross_interpreter": _passed(mechanism="_interpqueues", error=None,
                                     objects=[{"source": "roundtrip", "type": "bytes", "native": True, "pickle": "ok",
                                               "buffer": "ok", "crosses": True}]),
        "cost": _passed(samples=[{"import_seconds": 0.0012, "interpreter_kib": 3500, "import_kib": 180}] * 2,
                        rss_source="/proc/self/statm", first_import_seconds=0.002, import_seconds_median=0.0012,
                        interpreter_rss_kib_median=3500, import_rss_kib_median=180, rss_growth_kib_median=3680),
    }
    for name, value in checks.items():
        report[name] = value
    report["failed_checks"] = [c for c in ("generic", "snippets", "parallel", "reimport", "static_types")
                               if report[c]["status"] in ("failed", "crashed")]
    report["ok"] = not report["failed_checks"]
    report["seconds"] = 4.2
    report["rungs"] = {c: {mode: report[c]["status"]} for c in report["failed_checks"]}
    return model.from_dict(model.SmokeReport, report)


def _leaky(python: str) -> DistributionResult:
    """Imports in own-GIL interpreters but its smoke checks fail: a shared static type (3.13), a crash (3.12)."""
    if python >= "3.13":
        smoke = smoke_result(python, static_types={
            "status": "failed", "ok": False, "seconds": 0.5, "crash": None, "checked": ["leaky._c"], "errors": {},
            "types_compared": 1, "shared": [{"type": "leaky._c.Thing", "module": "leaky._c", "attribute": "Thing",
                                             "heap": False}]})
        why = "its extension types are shared between interpreters (process-global state) (static_types)"
    else:
        crash = {"signal": "SIGSEGV", "returncode": -11, "timeout": False, "culprit": "leaky._c",
                 "culprit_is_stdlib": False, "stderr_tail": "Fatal Python error: Segmentation fault",
                 "open_steps": ["r1p2: module leaky._c"]}
        smoke = smoke_result(python, parallel={
            "status": "crashed", "ok": False, "seconds": 1.0, "crash": crash, "interpreters": 4, "rounds": 3,
            "rounds_completed": 0, "iterations": 5, "errors": [], "different_results": [], "note": HOSTILE_ERROR},
            generic=_passed(failed=[], modules_walked=["leaky"], error=None))
        why = "it misbehaves when several interpreters use it at once (parallel)"
    return DistributionResult(
        name="leaky", version="2.0", import_names=["leaky"], tier="shared-gil", flags=["smoke-failed"],
        modes=_ladder_ok(), smoke=smoke, summary="Declares a per-interpreter GIL, but",
        notes=[f"loses the own-gil tier: smoke failed in own-GIL interpreters: {why}"],
    )


def smoke_report(versions: typing.Sequence[str] = ("3.12.1", "3.13.0")) -> ScanReport:
    """sample_report plus smoke data: purepkg passes everything, leaky fails differently on each Python."""
    report = sample_report(versions)
    for run in report.interpreters:
        python = run.python.version
        pure = next(d for d in run.distributions if d.name == "purepkg")
        pure.smoke = smoke_result(python, cross_interpreter={
            "status": "failed", "ok": False, "seconds": 0.3, "crash": None, "mechanism": "_interpqueues", "error": None,
            "objects": [{"source": "roundtrip", "type": "purepkg.Handle", "native": False, "buffer": "not a buffer",
                         "pickle": "TypeError: cannot pickle 'Handle' object", "crosses": False}]})
        run.distributions.append(_leaky(python))
    return report


def test_smoke_report_validates_and_schema_matches_the_documented_fragment():
    import re
    from pathlib import Path

    jsonschema = pytest.importorskip("jsonschema")
    schema = _schema()
    validator = jsonschema.Draft202012Validator(schema)
    data = json.loads(json_report.dumps(smoke_report()))
    validator.validate(data)
    leaky = data["interpreters"][1]["distributions"][-1]
    assert leaky["smoke"]["static_types"]["status"] == "failed"
    assert data["interpreters"][0]["distributions"][1]["smoke"] == {}  # --no-smoke / --static-only: {} stays valid
    assert schema["$defs"]["DistributionResult"]["properties"]["smoke"] == {"$ref": "#/$defs/SmokeResult"}
    doc = (Path(__file__).parents[1] / "docs" / "smoke.md").read_text(encoding="utf-8")
    fragment = json.loads(re.search(r"```json\n(.*?)\n```", doc, re.S).group(1))
    for name, definition in fragment["$defs"].items():
        assert schema["$defs"][name] == definition, f"$defs/{name} differs from docs/smoke.md"
    for key, value in (("status", "exploded"), ("ok", "yes")):
        bad = json.loads(json.dumps(data))
        bad["interpreters"][1]["distributions"][-1]["smoke"]["parallel"][key] = value
        assert list(validator.iter_errors(bad)), f"smoke.parallel.{key}={value!r} should be rejected"
    bad = json.loads(json.dumps(data))
    del bad["interpreters"][1]["distributions"][-1]["smoke"]["cost"]
    assert list(validator.iter_errors(bad)), "a smoke result with a mode must have every check"


def test_smoke_results_are_typed_and_their_json_is_kept_key_for_key():
    """A typed smoke report writes the keys run_smoke's checks had: optional keys only when set,
    the keys of a check that ran only when it ran, {} for no smoke run."""
    data = json.loads(json_report.dumps(smoke_report(("3.13.0",))))
    smoke = data["interpreters"][0]["distributions"][-1]["smoke"]
    smoke["static_types"] = {"status": "skipped", "ok": None, "reason": "not requested"}
    smoke["snippets"] = {"status": "skipped", "ok": None, "reason": "no snippet", "items": []}
    smoke["parallel"]["errors"] = [{"round": 1, "where": "r1p1", "error": "E: x", "explained_by": "snippets"},
                                   {"round": 1, "where": "r1p2", "error": "E: y"}]
    smoke["parallel"].update(status="crashed", ok=False, deadlock=True)
    smoke["reimport"].update(crashed_in_round=2)
    text = json.dumps(data)
    report = json_report.loads(text)
    leaky = report.interpreters[0].distributions[-1]
    assert isinstance(leaky.smoke, model.SmokeReport) and leaky.smoke.static_types.seconds is None
    assert [e.explained_by for e in leaky.smoke.parallel.errors] == ["snippets", None]
    assert leaky.smoke.parallel.deadlock is True and leaky.smoke.reimport.crashed_in_round == 2
    assert leaky.smoke.generic.failed == [] and leaky.smoke.snippets.items == []
    assert report.interpreters[0].distributions[1].smoke is None  # written {}
    assert json.loads(json_report.dumps(report)) == data
    assert json.loads(json.dumps(model.to_dict(report))) == data
    assert json_report.dumps(json_report.loads(json_report.dumps(report))) == json_report.dumps(report)


def test_matrix_has_check_columns_only_when_a_row_has_smoke_data():
    from interp_audit.reports.matrix import build

    assert build(smoke_report()).checks == list(CHECKS)
    assert build(sample_report()).checks == []  # no smoke run (smoke None, written {}): no check data


def test_wide_table_shows_a_column_per_check_except_cost():
    text = table.render_text(smoke_report(), wide=True)
    assert text.isascii()
    grid = parse_grid(text)
    headings = [h for h, _, _ in grid.columns]
    for heading in ("generic", "snippets", "parallel", "reimport", "types", "xi"):
        assert f"3.12.1 {heading}" in headings and f"3.13.0 {heading}" in headings, heading
    assert not any("cost" in h for h in headings)
    checks = ("generic", "snippets", "parallel", "reimport", "types", "xi")
    leaky = _row(text, "leaky")
    assert [leaky[f"3.12.1 {c}"] for c in checks] == ["ok", "ok", "CRASH", "ok", "ok", "ok"]
    assert [leaky[f"3.13.0 {c}"] for c in checks] == ["ok", "ok", "ok", "ok", "FAIL", "ok"]
    assert leaky["flags"] == "smoke-failed"
    assert [_row(text, "purepkg")[f"3.13.0 {c}"] for c in checks] == ["ok"] * 5 + ["FAIL"]
    assert [_row(text, "crashy")[f"3.13.0 {c}"] for c in checks] == ["-"] * 6
    assert "smoke checks: ok passed, FAIL failed, CRASH crashed" in text
    buffer = io.StringIO()
    table.render(smoke_report(), Console(file=buffer, force_terminal=True, color_system="truecolor", width=400))
    assert "types" in buffer.getvalue() and "\x1b[" in buffer.getvalue()  # 400 columns: wide without asking


def test_markdown_shows_check_columns_cost_and_why_smoke_failed():
    from markdown_it import MarkdownIt

    text = formats.get("markdown").render(smoke_report())
    parsed = _parse_html(MarkdownIt("commonmark").enable("table").render(text))
    header = parsed.rows[0]
    group = ["3.13.0 isolated", "shared GIL", "legacy", "main", "3.13.0 tier", "3.13.0 smoke generic", "snippets",
             "parallel", "reimport", "types", "xi", "cost"]
    assert header[14:26] == group
    rows = {row[0]: row for row in parsed.rows[1:]}
    assert rows["leaky"][7:14] == ["✓", "✓", "💥", "✓", "✓", "✓", "1.2 ms 3.6 MiB"]
    assert rows["leaky"][19:26] == ["✓", "✓", "✓", "✓", "✗", "✓", "1.2 ms 3.6 MiB"]
    assert rows["crashy"][7:14] == ["–"] * 7
    assert "smoke types failed on 3.13.0 (isolated interpreters): leaky._c.Thing is the same object" in parsed.text
    assert "smoke parallel crashed on 3.12.1 (isolated interpreters): crashed with SIGSEGV in leaky._c" in parsed.text
    assert not [t for t, attrs in parsed.tags if t == "img" or "onerror" in attrs]


def test_csv_has_a_column_per_check_per_python_and_cost_numbers():
    rows = list(csv_module.DictReader(io.StringIO(formats.get("csv").render(smoke_report()))))
    leaky = next(r for r in rows if r["distribution"] == "leaky")
    assert [leaky[f"3.13.0 {c}"] for c in CHECKS] == ["passed"] * 4 + ["failed", "passed", "passed"]
    assert leaky["3.12.1 parallel"] == "crashed"
    assert (leaky["3.13.0 cost import_ms"], leaky["3.13.0 cost rss_kib"]) == ("1.200", "3680")
    crashy = next(r for r in rows if r["distribution"] == "crashy")
    assert crashy["3.12.1 generic"] == "not-run" and crashy["3.12.1 cost rss_kib"] == ""
    assert list(rows[0])[8:17] == [f"3.12.1 {c}" for c in CHECKS] + ["3.12.1 cost import_ms", "3.12.1 cost rss_kib"]


def _matrix(text: str) -> _Tables:
    """The parsed ``table.matrix`` of an HTML page, without the page's other tables."""
    start = text.index('<table class="matrix"')
    return _parse_html(text[start:text.index("</table>", start) + len("</table>")])


def _named(rows: list[list[str]], name: str) -> list[str]:
    """The matrix row of distribution ``name`` (its cell also holds the summary)."""
    return next(row for row in rows if row and row[0].startswith(name))


def _sortable_columns_line_up(matrix: _Tables) -> None:
    """Every sortable header's data-col is the index of its column in the body rows."""
    columns = sorted(int(attrs["data-col"]) for tag, attrs in matrix.tags if tag == "th" and "data-col" in attrs)
    widths = {len(row) for row in matrix.rows[2:]}
    assert len(widths) == 1, widths
    assert columns == list(range(widths.pop()))


def test_html_report_has_sortable_check_columns_and_a_smoke_table():
    text = formats.get("html").render(smoke_report())
    parsed, matrix = _parse_html(text), _matrix(text)
    _sortable_columns_line_up(matrix)
    check_headers = [a.get("title", "") for t, a in matrix.tags if t == "th" and "check" in (a.get("class") or "")]
    assert len(check_headers) == 2 * len(CHECKS) and all(h.startswith("smoke check ") for h in check_headers)
    assert matrix.rows[1][:12] == ["isolated", "shared", "legacy", "main", "tier", "generic", "snippets", "parallel",
                                   "reimport", "types", "xi", "cost"]
    leaky = _named(matrix.rows, "leaky")
    assert leaky[7:14] == ["✓", "✓", "✹", "✓", "✓", "✓", "1.2 ms 3.6 MiB"]
    assert leaky[19:26] == ["✓", "✓", "✓", "✓", "✗", "✓", "1.2 ms 3.6 MiB"]
    titles = [a.get("title", "") for t, a in parsed.tags if t == "td"]
    assert "types: failed: leaky._c.Thing is the same object in two interpreters (module leaky._c)" in titles
    smoke_rows = [row for row in parsed.rows if row and row[0].startswith("types static_types")]
    assert len(smoke_rows) == 4  # per-package smoke tables: 2 Pythons x (purepkg, leaky)
    assert not [t for t, attrs in parsed.tags if t == "img" or "onerror" in attrs]
    assert HOSTILE_ERROR in parsed.text


def test_junit_failure_text_names_the_failed_smoke_check():
    root = ElementTree.fromstring(formats.get("junit").render(smoke_report()))
    suites = root.findall("testsuite")
    leaky = {s.get("name"): next(c for c in s.findall("testcase") if c.get("name") == "leaky==2.0") for s in suites}
    failure = leaky["interp-audit Python 3.13.0"].find("failure")
    assert failure.get("type") == "shared-gil"
    assert "smoke in isolated interpreters: types failed (leaky._c.Thing is the same object" in failure.get("message")
    assert "  static_types: failed (leaky._c.Thing is the same object in two interpreters" in failure.text
    assert "  cost: passed (one more interpreter with the package: 1.2 ms import, 3.6 MiB memory" in failure.text
    crashed = leaky["interp-audit Python 3.12.1"].find("failure")
    assert "parallel crashed (crashed with SIGSEGV in leaky._c)" in crashed.get("message")
    pure = next(c for c in suites[1].findall("testcase") if c.get("name") == "purepkg==1.0")
    assert pure.find("failure") is None and "  generic: passed" in pure.find("system-out").text


def test_site_index_has_a_compact_smoke_column_and_package_page_every_check(tmp_path):
    build_site(merge([smoke_report()]), tmp_path)
    index = _matrix((tmp_path / "index.html").read_text(encoding="utf-8"))
    _sortable_columns_line_up(index)
    assert index.rows[1] == ["isolated", "shared", "legacy", "main", "tier", "smoke"] * 2
    leaky = _named(index.rows, "leaky")
    assert (leaky[7], leaky[13]) == ("✗types", "✹parallel")  # newest Python (3.13.0) first
    assert (_named(index.rows, "purepkg")[7], _named(index.rows, "crashy")[7]) == ("✓", "–")
    page = _parse_html((tmp_path / "packages" / "leaky.html").read_text(encoding="utf-8"))
    trs = [attrs for tag, attrs in page.tags if tag == "tr"]
    checks = [(attrs["data-check"], row) for attrs, row in zip(trs, page.rows, strict=True) if "data-check" in attrs]
    assert [name for name, _ in checks] == list(CHECKS) * 2  # one table per Python
    # newest Python first: table 0 is 3.13.0, table 1 is 3.12.1; index them as 0 = 3.12.1, 1 = 3.13.0
    by_check = {(1 - i // len(CHECKS), name): row for i, (name, row) in enumerate(checks)}
    assert by_check[0, "parallel"][1] == "✹ crashed" and "crashed with SIGSEGV in leaky._c" in by_check[0, "parallel"][2]
    assert "r1p2: module leaky._c" in by_check[0, "parallel"][2]
    assert by_check[1, "static_types"][1:3] == ["✗ failed", "leaky._c.Thing is the same object in two interpreters (module leaky._c)"]
    assert by_check[1, "parallel"][1] == "✓ passed"
    cost = by_check[1, "cost"][2]
    for text in ("first import 2.0 ms", "import in one more interpreter (median) 1.2 ms",
                 "a bare interpreter (median RSS growth) 3.4 MiB", "the import in it (median RSS growth) 180 KiB",
                 "one more interpreter with the package (median) 3.6 MiB"):
        assert text.replace(" ", "") in cost.replace(" ", ""), (text, cost)  # <dt>label</dt><dd>value</dd>
    assert "Smoke checks (Python 3.13.0, isolated (own GIL) interpreters)" in page.text
    assert HOSTILE_ERROR in page.text and not [t for t, a in page.tags if t == "img" and a.get("src") == "x"]
    api = json.loads((tmp_path / "api" / "packages" / "leaky.json").read_text(encoding="utf-8"))
    assert api["results"][0]["result"]["smoke"]["failed_checks"] == ["static_types"]  # 3.13.0, newest first


def test_schema_1_files_still_load_and_come_back_as_the_current_version(tmp_path):
    old = json.loads(json_report.dumps(sample_report(("3.13.0",))))
    old["schema_version"] = 1
    for result in old["interpreters"][0]["distributions"]:
        result["smoke"] = {}
    old["interpreters"][0]["distributions"][1]["smoke"] = {"checks": 2, "passed": 2}  # schema 1: free-form
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    [report] = json_report.load_results([path])
    assert [d.smoke for d in report.interpreters[0].distributions] == [None] * len(distributions("3.13.0"))
    assert report.schema_version == model.SCHEMA_VERSION == 3
    assert [d.name for d in report.interpreters[0].distributions] == [d.name for d in distributions("3.13.0")]
    assert json.loads(json_report.dumps(report))["schema_version"] == 3
    result = CliRunner().invoke(main, ["report", str(path), "--format", "csv"])
    assert result.exit_code == 0 and "smoke" not in result.stdout.splitlines()[0]
    assert "3.13.0 generic" not in result.stdout


@pytest.mark.parametrize("version", [4, 0])
def test_schema_versions_this_version_never_wrote_are_refused_in_one_line(tmp_path, version):
    data = json.loads(json_report.dumps(smoke_report(("3.13.0",))))
    data["schema_version"] = version
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(json_report.ResultsError) as info:
        json_report.load(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "reads schema_version 1 to 3" in message
    assert ("newer interp-audit" in message) == (version == 4)
    cli = CliRunner().invoke(main, ["report", str(path)])
    assert cli.exit_code == 2 and cli.stderr.count("\n") == 1 and "Traceback" not in cli.output


def test_json_doc_describes_version_2_and_every_smoke_field():
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "json-schema.md").read_text(encoding="utf-8")
    assert "currently **2**" in doc
    for check in CHECKS:
        assert f"`{check}`" in doc, check
    schema = _schema()
    for field_name in schema["$defs"]["SmokeResult"]["properties"]:
        assert f"`{field_name}`" in doc, field_name
    for field_name in schema["$defs"]["SmokeCheck"]["properties"]:
        assert f"`{field_name}`" in doc, field_name


def test_reports_of_a_real_scan_with_smoke_checks(target_python, tmp_path):
    import fixturelib

    corpus = fixturelib.build_corpus(
        target_python, tmp_path / "corpus",
        [fixturelib.corpus_spec(name) for name in ("ia-fixture-clean", "ia-fixture-leaktype")])
    results = tmp_path / "results.json"
    scan = _cli("scan", "--python", str(corpus.python), "--no-cache", "--format", "json", "-o", str(results),
                "ia-fixture-clean", "ia-fixture-leaktype")
    assert scan.returncode == 0, scan.stderr  # no --fail-under: 1 would be a crash
    data = json.loads(results.read_text(encoding="utf-8"))
    assert data["schema_version"] == 3
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator(_schema()).validate(data)
    dists = {d["name"]: d for d in data["interpreters"][0]["distributions"]}
    assert dists["ia-fixture-leaktype"]["smoke"]["failed_checks"] == ["static_types"]

    grid = parse_grid(_cli("report", str(results), "--wide").stdout)
    [leak_row] = [row for name, row in grid.rows.items() if name.endswith("aktype")]
    [clean_row] = [row for name, row in grid.rows.items() if name.endswith("-clean")]
    types = next(heading for heading, _, _ in grid.columns if heading.endswith("types"))
    tier = next(heading for heading, _, _ in grid.columns if heading.endswith("tier"))
    assert (leak_row[types], leak_row[tier]) == ("FAIL", "shared-gil")
    assert (clean_row[types], clean_row[tier]) == ("ok", "own-gil")

    rows = list(csv_module.DictReader(io.StringIO(_cli("report", str(results), "--format", "csv").stdout)))
    leak = next(r for r in rows if r["distribution"] == "ia-fixture-leaktype")
    label = data["interpreters"][0]["python"]["version"]
    assert leak[f"{label} static_types"] == "failed" and float(leak[f"{label} cost rss_kib"]) > 0


def test_json_writes_one_distribution_per_line_and_reads_back_equal():
    from interp_audit.reports import json as results_json
    from interp_audit.model import DistributionResult, InterpreterRun, PythonInfo, ScanReport

    report = ScanReport(tool_version="0.1.0", generated_at="2026-11-25T00:00:00+00:00", interpreters=[
        InterpreterRun(python=PythonInfo(version="3.13.0", implementation="cpython", executable="/p"),
                       distributions=[DistributionResult(name="a", version="1", tier="own-gil"),
                                      DistributionResult(name="b\n<c>", version="2", tier="broken")])])
    text = results_json.dumps(report)
    rows = [line for line in text.splitlines() if line.lstrip().startswith('{"name"')]
    assert len(rows) == 2 and text.endswith("}\n")
    assert results_json.loads(text) == report


def test_every_format_shows_degraded_beside_the_tier_and_the_known_problems():
    from interp_audit.reports.badge import TIER_MESSAGES, COLORS, badge_for
    from interp_audit.verdict import known_problems

    report = sample_report(("3.13.0",))
    run = report.interpreters[0]
    degraded = next(d for d in run.distributions if d.name == "degraded-pkg")
    degraded.degraded_in = {"degraded_pkg._accel": ["isolated"]}
    degraded.controls = [model.Control(kind="parallel", mode="isolated", imports=["_datetime"], runs=1,
                                       crashed=True, problem="parallel/isolated/_datetime")]
    run.known_problems = known_problems(run.distributions)
    text = "degraded: no C speedups for degraded_pkg._accel"
    from interp_audit.reports.markdown import escape

    for fmt in ("markdown", "html", "csv", "junit"):
        rendered = formats.get(fmt).render(report)
        assert (escape(text) if fmt == "markdown" else text) in rendered, fmt
        if fmt in ("markdown", "html"):
            problem = escape("parallel/isolated/_datetime") if fmt == "markdown" else "parallel/isolated/_datetime"
            assert "Known problems of this Python" in rendered and problem in rendered, fmt
    badge = badge_for(degraded)  # the tier's colour, the note beside it
    assert (badge.message, badge.color) == ("per-interpreter GIL, degraded", COLORS[TIER_MESSAGES["own-gil"]])


def test_site_reads_newest_python_first_without_alarm_red_and_links_wrong_verdicts(tmp_path):
    import re
    from urllib.parse import parse_qs, urlparse

    build_site(merge([sample_report(("3.12.1", "3.13.0"))]), tmp_path, report_url="https://example.org/new")
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert index.index("3.13.0") < index.index("3.12.1")  # newest Python first in every table
    css = (tmp_path / "assets" / "report.css").read_text(encoding="utf-8") if (tmp_path / "assets").exists() \
        else index
    assert "#cf222e" not in css.lower() and "--main-only: #cc79a7" in css.lower()
    page = (tmp_path / "packages" / "legacyext.html").read_text(encoding="utf-8")
    links = re.findall(r'class="report-verdict" href="([^"]+)"', page)
    assert len(links) == 2
    query = parse_qs(urlparse(links[0].replace("&amp;", "&")).query)
    assert (query["package"], query["version"], query["python"], query["tier"]) == (
        ["legacyext"], ["5.0"], ["3.13.0"], ["legacy-only"])
    assert query["tool_version"] == ["0.1.0"]
    build_site(merge([sample_report(("3.13.0",))]), tmp_path / "t",
               report_url="https://example.org/issues/new?title={package}%20{version}%20on%20{python}")
    page = (tmp_path / "t" / "packages" / "legacyext.html").read_text(encoding="utf-8")
    assert "https://example.org/issues/new?title=legacyext%205.0%20on%203.13.0" in page
