"""``interp-audit wheel``: wheels audited without installing them.

Real wheels: the fixture corpus built for each target Python, and pinned
releases from PyPI for Linux, macOS and Windows, downloaded at test time and
cached (``fixturelib.pypi_wheel``, or the command's own ``--cache-dir``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import fixturelib
import pytest

FORMATS = ["table", "json", "markdown", "html", "csv", "junit"]


def run_cli(*args, env=None) -> subprocess.CompletedProcess:
    """The installed CLI, as a user runs it (a separate process)."""
    return subprocess.run([sys.executable, "-m", "interp_audit", "wheel", *map(str, args)], capture_output=True,
                          text=True, timeout=900, env={**os.environ, "NO_COLOR": "1", **(env or {})})


def runs_of(document: dict) -> dict[str, list[dict]]:
    """Wheel tag -> its distributions, from a JSON report."""
    return {run["python"]["executable"]: run["distributions"] for run in document["interpreters"]}


def extension(dist: dict, module: str) -> dict:
    return next(e for e in dist["extensions"] if e["module"] == module)


def _cache() -> Path:
    return Path(fixturelib._cache_root()) / "wheel-command-cache"


# --------------------------------------------------------------------------- fixture wheels


def test_fixture_wheels_predict_the_tier_their_declarations_allow(target_python, tmp_path):
    """Corpus wheels for this Python: the declared slots decide the predicted tier."""
    names = ["ia-fixture-single", "ia-fixture-multi-noslot", "ia-fixture-multi-notsupported",
             "ia-fixture-multi-supported", "ia-fixture-clean", "ia-fixture-pure"]
    wheels = [fixturelib.build_wheel(target_python, fixturelib.corpus_spec(n), tmp_path) for n in names]
    done = run_cli(*wheels, "--format", "json", "-o", tmp_path / "out.json")
    assert done.returncode == 0, done.stderr
    [(tag, dists)] = [(t, d) for t, d in runs_of(json.loads((tmp_path / "out.json").read_text())).items()
                      if t != "py3-none-any"]
    assert tag == fixturelib.python_info(target_python)["tag"]
    tiers = {d["name"]: d["tier"] for d in dists}
    assert tiers == {"ia-fixture-single": "legacy-only", "ia-fixture-multi-noslot": "shared-gil",
                     "ia-fixture-multi-notsupported": "legacy-only", "ia-fixture-multi-supported": "shared-gil",
                     "ia-fixture-clean": "own-gil"}
    expected = fixturelib.expected_for(fixturelib.python_info(target_python)["version"])
    for dist in dists:
        assert dist["static_only"] and any("nothing was installed or run" in n for n in dist["notes"])
        for info in dist["extensions"]:
            facts = expected[dist["name"]]
            assert info["init"] == facts["init"][info["module"]]
            assert info["multiple_interpreters"] == facts["multiple_interpreters"][info["module"]]
            assert info["gil"] == facts["gil"][info["module"]]
            assert info["method"].get("slots") == "moduledef"
    [pure] = runs_of(json.loads((tmp_path / "out.json").read_text()))["py3-none-any"]
    assert pure["name"] == "ia-fixture-pure" and pure["tier"] == "own-gil" and pure["extensions"] == []


# --------------------------------------------------------------------------- real wheels, every platform

#: (requirement, platform) -> (predicted tier, {module: (init, Py_mod_multiple_interpreters, Py_mod_gil)})
REAL = {
    ("numpy==2.5.5", "linux-x86_64"): ("legacy-only", {
        "numpy._core._multiarray_umath": ("multi-phase", "not-supported", "not-used"),
        "numpy._core._simd": ("single-phase", None, None)}),
    ("numpy==2.5.5", "macos-arm64"): ("legacy-only", {
        "numpy._core._multiarray_umath": ("multi-phase", "not-supported", "not-used")}),
    ("numpy==2.5.5", "windows-amd64"): ("legacy-only", {
        "numpy._core._multiarray_umath": ("multi-phase", "not-supported", "not-used")}),
    ("msgpack==1.2.4", "linux-aarch64"): ("shared-gil", {"msgpack._cmsgpack": ("multi-phase", None, None)}),
    ("msgpack==1.2.4", "macos-x86_64"): ("shared-gil", {"msgpack._cmsgpack": ("multi-phase", None, None)}),
    ("msgpack==1.2.4", "windows-amd64"): ("shared-gil", {"msgpack._cmsgpack": ("multi-phase", None, None)}),
}


def test_real_wheels_for_linux_macos_and_windows(tmp_path):
    wheels = {key: fixturelib.pypi_wheel(*key) for key in REAL}
    done = run_cli(*wheels.values(), "--format", "json", "-o", tmp_path / "out.json")
    assert done.returncode == 0, done.stderr
    by_file = {}
    for tag, dists in runs_of(json.loads((tmp_path / "out.json").read_text())).items():
        for dist in dists:
            by_file.setdefault((dist["name"], tag), dist)
    for key, wheel in wheels.items():
        tier, modules = REAL[key]
        name, version = key[0].split("==")
        tag = "-".join(wheel.name[: -len(".whl")].split("-")[-3:])
        dist = by_file[(name, tag)]
        assert (dist["version"], dist["tier"]) == (version, tier), key
        for module, (init, declared, gil) in modules.items():
            info = extension(dist, module)
            assert (info["init"], info["multiple_interpreters"], info["gil"]) == (init, declared, gil), (key, module)
        assert all(e["evidence"]["format"] == {"linux": "elf", "macos": "macho", "windows": "pe"}[key[1].split("-")[0]]
                   for e in dist["extensions"])


def test_project_name_fetches_the_release_from_the_index_with_a_cache(tmp_path):
    """NAME==VERSION: the wheels come from the index pip uses (PyPI here), filtered by tag, cached."""
    cache = _cache()
    args = ["markupsafe==3.0.4", "--platform", "manylinux_2_17_x86_64", "--platform", "macosx_11_0_arm64",
            "--platform", "win_amd64", "--python-tag", "cp313", "--cache-dir", cache, "--format", "json"]
    done = run_cli(*args, "-o", tmp_path / "first.json")
    assert done.returncode == 0, done.stderr
    runs = runs_of(json.loads((tmp_path / "first.json").read_text()))
    assert sorted(t.split("-", 2)[2].split(".")[0] for t in runs) == [
        "macosx_11_0_arm64", "manylinux2014_x86_64", "win_amd64"]
    for tag, [dist] in runs.items():
        info = extension(dist, "markupsafe._speedups")
        assert (dist["tier"], info["multiple_interpreters"], info["gil"]) == ("own-gil", "per-interpreter-gil",
                                                                               "not-used"), tag
    cached = sorted((cache / "wheels").glob("markupsafe-3.0.4-cp313-cp313-*.whl"))
    assert len(cached) == 3
    stamps = [p.stat().st_mtime_ns for p in cached]
    again = run_cli(*args, "-o", tmp_path / "second.json")
    assert again.returncode == 0, again.stderr
    assert [p.stat().st_mtime_ns for p in cached] == stamps  # read from the cache, not downloaded again


def test_index_url_comes_from_the_pip_configuration(target_python, tmp_path):
    """PIP_INDEX_URL (as pip reads it) names a local PEP 503 index; nothing else is asked."""
    wheel = fixturelib.build_wheel(target_python, fixturelib.corpus_spec("ia-fixture-clean"), tmp_path / "files")
    project = tmp_path / "index" / "ia-fixture-clean"
    project.mkdir(parents=True)
    (project / "index.html").write_text(f'<a href="{wheel.as_uri()}">{wheel.name}</a>\n', encoding="utf-8")
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nindex-url = {(tmp_path / 'index').as_uri()}\n", encoding="utf-8")
    done = run_cli("ia-fixture-clean", "--cache-dir", tmp_path / "cache", "--format", "json",
                   env={"PIP_CONFIG_FILE": str(config), "PIP_EXTRA_INDEX_URL": ""})
    assert done.returncode == 0, done.stderr
    [[dist]] = runs_of(json.loads(done.stdout)).values()
    assert (dist["name"], dist["tier"]) == ("ia-fixture-clean", "own-gil")
    assert (tmp_path / "cache" / "wheels" / wheel.name).exists()


# --------------------------------------------------------------------------- bad input and formats


def test_bad_wheels_give_one_error_line_each_and_the_others_are_reported(target_python, tmp_path):
    good = fixturelib.build_wheel(target_python, fixturelib.corpus_spec("ia-fixture-multi-supported"), tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "junk-1.0-cp313-cp313-linux_x86_64.whl").write_bytes(b"this is not a zip file")
    data = good.read_bytes()
    (bad / "truncated-1.0-cp313-cp313-linux_x86_64.whl").write_bytes(data[: len(data) // 2])
    with zipfile.ZipFile(bad / "odd-1.0-cp313-cp313-linux_x86_64.whl", "w") as archive:
        archive.writestr("odd/_native.cpython-313-x86_64-linux-gnu.so", b"\x00\x01 no known binary format" * 8)
    done = run_cli(good, bad, "no-such-project-ia-zz", "--cache-dir", tmp_path / "cache", "--format", "json")
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 4, done.stderr
    assert any("junk-1.0" in e and "not a zip file" in e for e in errors)
    assert any("truncated-1.0" in e and ("not a zip file" in e or "truncated" in e) for e in errors)
    assert any("odd-1.0" in e and "not a shared library" in e for e in errors)
    assert any("no-such-project-ia-zz" in e and "no wheels" in e for e in errors)
    assert "Traceback" not in done.stderr
    dists = {d["name"]: d for ds in runs_of(json.loads(done.stdout)).values() for d in ds}
    assert dists["ia-fixture-multi-supported"]["tier"] == "shared-gil"
    assert dists["odd"]["tier"] is None  # an unreadable module: no tier is guessed
    assert any("declarations unknown for odd._native" in note for note in dists["odd"]["notes"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_output_format(target_python, tmp_path, fmt):
    wheels = [fixturelib.build_wheel(target_python, fixturelib.corpus_spec(n), tmp_path)
              for n in ("ia-fixture-clean", "ia-fixture-single")]
    done = run_cli(*wheels, "--format", fmt)
    assert done.returncode == 0, done.stderr
    assert "ia-fixture-clean" in done.stdout and "ia-fixture-single" in done.stdout
    if fmt == "table":
        assert "per-interpreter-gil" in done.stdout and "single-phase" in done.stdout
        assert "predicted from the declarations" in done.stdout
    else:
        assert "own-gil" in done.stdout and "legacy-only" in done.stdout


def test_fail_under_help_and_usage(target_python, tmp_path):
    single = fixturelib.build_wheel(target_python, fixturelib.corpus_spec("ia-fixture-single"), tmp_path)
    assert run_cli(single, "--fail-under", "legacy-only").returncode == 0
    assert run_cli(single, "--fail-under", "shared-gil").returncode == 1
    shown = run_cli("--help")
    assert shown.returncode == 0 and "NAME[==VERSION]" in shown.stdout and "Exit codes" in shown.stdout
    missing = run_cli()
    assert missing.returncode == 2 and "Missing argument" in missing.stderr


def test_predictions_are_marked_and_the_site_shows_where_measurement_differs(target_python, tmp_path):
    """Every format marks a predicted tier; the site puts a wheel's prediction beside a measured
    result of the same Python x.y and names the difference."""
    wheel = fixturelib.build_wheel(target_python, fixturelib.corpus_spec("ia-fixture-multi-supported"), tmp_path)
    predicted_json = tmp_path / "predicted.json"
    assert run_cli(wheel, "--format", "json", "-o", predicted_json).returncode == 0
    for fmt, marker in (("markdown", r"shared-gil \(predicted\)"), ("junit", "shared-gil (predicted)"),
                        ("html", 'class="predicted"')):
        shown = subprocess.run([sys.executable, "-m", "interp_audit", "report", predicted_json, "--format", fmt],
                               capture_output=True, text=True, timeout=300)
        assert shown.returncode == 0 and marker in shown.stdout, (fmt, shown.stderr)
    # A measured result of the same distribution on the same Python x.y (as a scan writes it).
    document = json.loads(predicted_json.read_text())
    run = document["interpreters"][0]
    run["scope"] = "environment"
    run["python"].update(version=run["python"]["version"] + ".0", executable="/usr/bin/python3",
                         platform="linux-x86_64", sysconfig_platform="linux-x86_64")
    run["distributions"][0].update(static_only=False, tier="legacy-only")
    measured_json = tmp_path / "measured.json"
    measured_json.write_text(json.dumps(document))
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "interp_audit", "site", predicted_json, measured_json, "-o", site],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    minor = ".".join(run["python"]["version"].split(".")[:2])
    gap = f"{minor}: measured legacy-only, predicted shared-gil"
    assert gap in (site / "index.html").read_text()
    assert gap in (site / "packages" / "ia-fixture-multi-supported.html").read_text()


def test_member_names_never_choose_where_files_are_written(tmp_path):
    """A wheel whose extension member climbs out of the archive ("../") is read, not written outside."""
    outside = tmp_path / "escaped.cpython-313-x86_64-linux-gnu.so"
    wheel = tmp_path / "wheels" / "evil-1.0-cp313-cp313-linux_x86_64.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("../" * 12 + str(outside).lstrip("/"), b"\x7fELF not really")
        archive.writestr("evil/platlib_ok.py", "")
    done = run_cli(wheel, "--format", "json")
    assert not outside.exists()
    assert done.returncode == 2 and "Traceback" not in done.stderr
