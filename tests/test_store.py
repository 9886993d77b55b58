"""The result store: a re-scan of an unchanged environment takes results *and*
findings from it; findings are worked out again only when the rules configuration changes.

A real venv of every target interpreter with one compiled fixture, a real
SQLite store.  To see whether the rules ran, the tests replace the rule
evaluation with a function that fails: stored findings never call it.
"""

from __future__ import annotations

import pytest

import fixturelib
from interp_audit.model import to_dict
from interp_audit.rules import registry
from interp_audit.rules.config import RuleConfig
from interp_audit.options import ScanOptions
from interp_audit.scan import scan_target
from interp_audit.store.sqlite import SQLiteStore
from interp_audit.target import resolve


@pytest.fixture
def single_phase_env(target_python, tmp_path):
    """A venv with the single-phase fixture (it has findings: IA101 and more)."""
    python = fixturelib.make_venv(target_python, tmp_path / "venv")
    spec = fixturelib.corpus_spec("ia-fixture-single")
    fixturelib.install_wheels(python, [fixturelib.build_wheel(target_python, spec, tmp_path / "wheels")])
    return resolve(str(python))


def _rules_must_not_run(*args, **kwargs):
    raise AssertionError("the rules ran")


def _findings(run) -> list[dict]:
    return [to_dict(f) for d in run.distributions for f in d.findings]


def test_a_rescan_takes_findings_from_the_store_until_the_rules_change(single_phase_env, tmp_path, monkeypatch):
    options = ScanOptions(names=["ia-fixture-single"], smoke=False, timeout=30, rules=RuleConfig())
    first = scan_target(single_phase_env, options, SQLiteStore(tmp_path / "store.sqlite3"))
    assert "IA101" in {f["code"] for f in _findings(first)}

    with monkeypatch.context() as patch:
        patch.setattr(registry, "evaluate", _rules_must_not_run)
        again = scan_target(single_phase_env, options, SQLiteStore(tmp_path / "store.sqlite3"))
    assert _findings(again) == _findings(first)

    ignoring = ScanOptions(names=["ia-fixture-single"], smoke=False, timeout=30, rules=RuleConfig(ignore=("IA101",)))
    with monkeypatch.context() as patch:
        patch.setattr(registry, "evaluate", _rules_must_not_run)
        with pytest.raises(AssertionError, match="the rules ran"):
            scan_target(single_phase_env, ignoring, SQLiteStore(tmp_path / "store.sqlite3"))
    changed = scan_target(single_phase_env, ignoring, SQLiteStore(tmp_path / "store.sqlite3"))
    assert "IA101" not in {f["code"] for f in _findings(changed)}
    assert _findings(changed) == [f for f in _findings(first) if f["code"] != "IA101"]


def test_replacing_a_result_drops_the_findings_made_from_it(tmp_path):
    from interp_audit.model import DistributionResult, Finding, PythonInfo

    store = SQLiteStore(tmp_path / "store.sqlite3")
    python = PythonInfo(version="3.13.0", implementation="cpython", executable="python3.13")
    store.put("key", python, DistributionResult(name="demo", version="1.0", tier="legacy-only"))
    store.put_findings("rules", [("key", [Finding(code="IA101", severity="high", message="m", distribution="demo")])])
    assert [f.code for f in store.get_findings("key", "rules")] == ["IA101"]
    store.put("key", python, DistributionResult(name="demo", version="1.0", tier="own-gil"))
    assert store.get_findings("key", "rules") is None


def test_results_stored_with_untyped_smoke_load_typed(tmp_path):
    """Rows written while ``smoke`` was a dict: ``{}`` comes back as None, a smoke report typed."""
    import json

    from interp_audit.model import SMOKE_CHECKS, SmokeParallel, SmokeReport

    store = SQLiteStore(tmp_path / "store.sqlite3")
    checks = {check: {"status": "skipped", "ok": None, "reason": "not requested"} for check in SMOKE_CHECKS}
    checks["parallel"] = {"status": "failed", "ok": False, "seconds": 1.5, "crash": None, "interpreters": 4,
                          "rounds": 3, "rounds_completed": 3, "iterations": 5, "different_results": [],
                          "errors": [{"round": 1, "where": "r1p2", "error": "RuntimeError: x"}]}
    smoke = dict(checks, mode="isolated", python="python3.13", distribution="demo", snippets_used=[], ok=False,
                 failed_checks=["parallel"], seconds=2.0)
    for key, stored in (("none", {}), ("ran", smoke)):
        row = {"name": "demo", "version": "1.0", "tier": "own-gil", "smoke": stored}
        store._db.execute("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (key, "3.13.0", "python3.13", "demo", "1.0", "2026-01-01", json.dumps(row)))
    assert store.get("none").smoke is None
    ran = store.get("ran").smoke
    assert isinstance(ran, SmokeReport) and isinstance(ran.parallel, SmokeParallel)
    assert ran.parallel.errors[0].where == "r1p2" and ran.parallel.errors[0].explained_by is None
    assert ran.generic.reason == "not requested" and ran.rungs == {}
    assert to_dict(ran) == dict(smoke, rungs={})
