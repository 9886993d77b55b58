"""History: every run kept, `interp-audit history`, `report --changes-since` and the site's lists and timelines.

Two surveys over fixture versions: ia-fixture-mover 1.0 imports a single-phase
extension (legacy-only), 2.0 is pure Python (own-gil).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

import fixturelib
from interp_audit.history import Entry, History, HistoryError, parse_date
from interp_audit.reports.timeline import timeline_svg

PYTHONS = fixturelib.target_pythons()
MOVER = "ia-fixture-mover"


def interp_audit(*args, cwd, check=True) -> subprocess.CompletedProcess:
    completed = subprocess.run([sys.executable, "-m", "interp_audit", *map(str, args)], cwd=cwd,
                               capture_output=True, text=True)
    if check and completed.returncode != 0:
        raise AssertionError(f"exit {completed.returncode}\n{completed.stdout}\n{completed.stderr}")
    return completed


def mover(version: str) -> fixturelib.DistSpec:
    if version == "1.0":
        return fixturelib.DistSpec(MOVER, "1.0", python_files={"ia_mover/__init__.py": "import ia_single\n"},
                                   requires=["ia-fixture-single"], summary="Needs a single-phase extension.")
    return fixturelib.DistSpec(MOVER, version, python_files={"ia_mover/__init__.py": "VALUE = 2\n"},
                               summary="Pure Python now.")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@pytest.fixture(scope="module")
def two_surveys(tmp_path_factory):
    """Survey the mover twice into one output directory: 1.0 (legacy-only), then 2.0 (own-gil)."""
    if not PYTHONS:
        pytest.fail("no CPython >= 3.12 found")
    python = PYTHONS[-1]
    root = tmp_path_factory.mktemp("history")
    old, new = root / "wheels-1", root / "wheels-2"
    for directory, versions in ((old, ["1.0"]), (new, ["1.0", "2.0"])):
        fixturelib.build_wheel(python, fixturelib.corpus_spec("ia-fixture-single"), directory)
        for version in versions:
            fixturelib.build_wheel(python, mover(version), directory)
    listing = root / "list.txt"
    listing.write_text(MOVER + "\n")
    out = root / "results"
    common = ["survey", listing, "--python", python, "-o", out, "--no-index", "--no-smoke", "--timeout", "10"]
    interp_audit(*common, "--find-links", old, cwd=root)
    first = json.loads(next(out.glob("*.json")).read_text())
    time.sleep(1.1)
    since = now_iso()
    time.sleep(1.1)
    interp_audit(*common, "--find-links", new, cwd=root)
    return {"root": root, "out": out, "since": since, "first": first, "python": python}


def test_fixture_versions_move_between_tiers(two_surveys):
    first = two_surveys["first"]["interpreters"][0]["distributions"][0]
    latest = json.loads(next(two_surveys["out"].glob("*.json")).read_text())["interpreters"][0]["distributions"][0]
    assert (first["version"], first["tier"]) == ("1.0", "legacy-only")
    assert (latest["version"], latest["tier"]) == ("2.0", "own-gil")


def test_runs_are_recorded_and_never_overwritten(two_surveys):
    db = sqlite3.connect(two_surveys["out"] / "survey.sqlite3")
    try:
        runs = db.execute("SELECT id, tool_version, python_version, scope, started FROM runs ORDER BY id").fetchall()
        seen = db.execute("SELECT run_id, version, tier, key FROM run_results ORDER BY run_id").fetchall()
        stored = {key: json.loads(data) for key, data in db.execute("SELECT key, data FROM results")}
    finally:
        db.close()
    assert len(runs) == 2 and all(run[1] and run[2] and run[3] == "survey" for run in runs)
    assert [(version, tier) for _, version, tier, _ in seen] == [("1.0", "legacy-only"), ("2.0", "own-gil")]
    assert stored[seen[0][3]]["tier"] == "legacy-only"  # the first run's result is still there
    assert stored[seen[1][3]]["tier"] == "own-gil"


def test_history_command_shows_the_tier_over_time(two_surveys):
    store = two_surveys["out"] / "survey.sqlite3"
    text = interp_audit("history", MOVER, "--store", store, cwd=two_surveys["root"]).stdout
    minor = ".".join(two_surveys["first"]["interpreters"][0]["python"]["version"].split(".")[:2])
    assert f"Python {minor}" in text
    assert text.index("legacy-only") < text.index("own-gil")
    assert "gained: new release 1.0 → 2.0" in text
    data = json.loads(interp_audit("history", "IA_Fixture.Mover", "--store", store, "--format", "json",
                                   cwd=two_surveys["root"]).stdout)  # any spelling of the name
    assert [(e["version"], e["tier"]) for e in data["pythons"][minor]] == [("1.0", "legacy-only"), ("2.0", "own-gil")]
    missing = interp_audit("history", "no-such-dist", "--store", store, cwd=two_surveys["root"], check=False)
    assert missing.returncode == 2 and "no history for no-such-dist" in missing.stderr
    no_store = interp_audit("history", MOVER, "--store", two_surveys["root"] / "none.sqlite3",
                            cwd=two_surveys["root"], check=False)
    assert no_store.returncode == 2 and "no result store" in no_store.stderr


def test_report_changes_since(two_surveys):
    files = sorted(two_surveys["out"].glob("*.json"))
    root, since = two_surveys["root"], two_surveys["since"]
    text = interp_audit("report", *files, "--changes-since", since, cwd=root).stdout
    assert "Gained a tier:" in text and "Lost a tier" not in text
    assert f"{MOVER} on Python" in text and "legacy-only → own-gil (new release 1.0 → 2.0" in text
    data = json.loads(interp_audit("report", *files, "--changes-since", since, "--format", "json", cwd=root).stdout)
    [change] = data["changes"]
    assert (change["distribution"], change["direction"], change["reasons"]) == (MOVER, "gained", ["new release 1.0 → 2.0"])
    markdown = interp_audit("report", *files, "--changes-since", since, "--format", "markdown", cwd=root).stdout
    assert "### Gained a tier" in markdown and f"**{MOVER}**" in markdown
    later = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
    assert "No distribution gained or lost a tier" in interp_audit("report", *files, "--changes-since", later,
                                                                   cwd=root).stdout
    bad = interp_audit("report", *files, "--changes-since", "last tuesday", cwd=root, check=False)
    assert bad.returncode == 2 and "not a date" in bad.stderr


def test_site_lists_the_gain_and_draws_the_timeline(two_surveys):
    root, files = two_surveys["root"], sorted(two_surveys["out"].glob("*.json"))
    site = root / "site"
    interp_audit("site", *files, "-o", site, "--changes-since", two_surveys["since"], cwd=root)
    index = (site / "index.html").read_text()
    gained = index[index.index('id="gained"'):index.index('id="regressed"')]
    assert f'href="packages/{MOVER}.html">{MOVER}</a>' in gained and "legacy-only → own-gil" in gained
    assert "None." in index[index.index('id="regressed"'):]
    page = (site / "packages" / f"{MOVER}.html").read_text()
    svg = page[page.index('<svg class="chart timeline"'):]
    svg = svg[:svg.index("</svg>")]
    assert svg.count("<circle") == 2 and 'class="seg legacy-only"' in svg and 'class="seg own-gil"' in svg
    assert "http" not in svg.replace("http://www.w3.org", "")  # no network
    api = json.loads((site / "api" / "history.json").read_text())
    assert [(c["distribution"], c["direction"], c["slug"]) for c in api["changes"]] == [(MOVER, "gained", MOVER)]
    detail = json.loads((site / "api" / "packages" / f"{MOVER}.json").read_text())
    assert [e["tier"] for entries in detail["history"].values() for e in entries] == ["legacy-only", "own-gil"]
    # the lists come from the store: result files without one make a site without them
    alone = root / "alone"
    alone.mkdir()
    copies = []
    for path in files:
        copies.append(alone / path.name)
        copies[-1].write_text(path.read_text())
    interp_audit("site", *copies, "-o", root / "site-2", cwd=root)
    assert 'id="gained"' not in (root / "site-2" / "index.html").read_text()


def test_every_scan_run_is_recorded(tmp_path):
    if not PYTHONS:
        pytest.fail("no CPython >= 3.12 found")
    wheel = fixturelib.build_wheel(PYTHONS[-1], mover("2.0"), tmp_path / "wheels")
    venv = fixturelib.make_venv(PYTHONS[-1], tmp_path / "venv")
    fixturelib.install_wheels(venv, [wheel])
    for _ in range(2):  # the second run takes the result from the store, and is recorded all the same
        interp_audit("scan", "--python", venv, MOVER, "--cache-dir", tmp_path / "cache", "--no-smoke",
                     "--format", "json", cwd=tmp_path)
    data = json.loads(interp_audit("history", MOVER, "--store", tmp_path / "cache" / "results.sqlite3",
                                   "--format", "json", cwd=tmp_path).stdout)
    [entries] = data["pythons"].values()
    assert [(e["version"], e["tier"]) for e in entries] == [("2.0", "own-gil")] * 2


def test_a_store_named_twice_is_read_once_and_runs_in_one_second_are_kept(tmp_path):
    from interp_audit.model import DistributionResult, PythonInfo
    from interp_audit.store.sqlite import SQLiteStore

    path = tmp_path / "results.sqlite3"
    store = SQLiteStore(path)
    python = PythonInfo(version="3.13.0", implementation="cpython", executable="python3.13")
    result = DistributionResult(name="demo", version="1.0", tier="own-gil")
    store.put("key", python, result)
    for _ in range(2):  # two runs that start in the same second
        run_id = store.begin_run(python, "environment", "0.1.0")
        store.record(run_id, [("key", result)])
        store.finish_run(run_id)
    store.close()
    (tmp_path / "link.sqlite3").symlink_to(path)
    history = History.load([path, path, tmp_path / "link.sqlite3"])
    assert [(e.distribution, e.tier) for e in history.entries] == [("demo", "own-gil")] * 2


def entry(date: str, tier, version="1.0", python="3.13.0", tool="0.1.0", name="demo") -> Entry:
    return Entry(date=date, python=python, tool_version=tool, distribution=name, version=version, tier=tier)


def test_changes_name_their_reasons_and_direction():
    since = parse_date("2030-06-01")
    history = History([
        entry("2030-05-01T00:00:00+00:00", "own-gil", name="regresses"),
        entry("2030-06-02T00:00:00+00:00", "shared-gil", name="regresses", tool="0.2.0"),
        entry("2030-05-01T00:00:00+00:00", "legacy-only", name="newpython"),
        entry("2030-06-03T00:00:00+00:00", "own-gil", name="newpython", python="3.13.1"),
        entry("2030-05-01T00:00:00+00:00", "own-gil", name="same"),
        entry("2030-06-03T00:00:00+00:00", "own-gil", name="same", version="2.0"),
        entry("2030-05-01T00:00:00+00:00", "own-gil", name="failed-later"),
        entry("2030-06-03T00:00:00+00:00", None, name="failed-later", version=""),  # no verdict: not a change
        entry("2030-06-03T00:00:00+00:00", "broken", name="only-new"),  # nothing before: not a change
        entry("2030-05-01T00:00:00+00:00", "legacy-only", name="other-line", python="3.12.1"),
        entry("2030-06-03T00:00:00+00:00", "own-gil", name="other-line", python="3.13.0"),  # another Python line
    ])
    changes = {c.distribution: (c.direction, c.reasons) for c in history.changes_since(since)}
    assert changes == {
        "regresses": ("regressed", ["new interp-audit 0.1.0 → 0.2.0"]),
        "newpython": ("gained", ["new Python 3.13.0 → 3.13.1"]),
    }
    assert [c.distribution for c in history.changes_since(since, names=["NewPython"])] == ["newpython"]
    with pytest.raises(HistoryError):
        parse_date("yesterday")
    assert parse_date("2030-06-01T12:00:00") == datetime(2030, 6, 1, 12, tzinfo=timezone.utc)


def test_timeline_escapes_package_text():
    svg = str(timeline_svg({"3.13": [entry("2030-05-01T00:00:00+00:00", "own-gil", version="<script>x</script>")]}))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
