"""Sources of what to audit: the inventory probe's answer is reused from the store
while the installed metadata is unchanged, and re-read as soon as it changes.

Real venvs of every target interpreter, real wheels, a real SQLite store.  To
see whether the inventory probe ran, the tests replace it with a function that
fails: a reused inventory never calls it.
"""

from __future__ import annotations

import os
import shutil

import pytest

import fixturelib
from interp_audit.source import inventory
from interp_audit.source.fingerprint import metadata_fingerprint
from interp_audit.store.sqlite import SQLiteStore
from interp_audit.target import resolve


def _spec(name: str) -> fixturelib.DistSpec:
    module = name.replace("-", "_")
    return fixturelib.DistSpec(name=name, version="1.0", python_files={module + ".py": "VALUE = 1\n"})


@pytest.fixture
def small_env(target_python, tmp_path):
    """A venv with one pure-Python distribution; yields (target, wheel dir)."""
    python = fixturelib.make_venv(target_python, tmp_path / "venv")
    wheels = tmp_path / "wheels"
    fixturelib.install_wheels(python, [fixturelib.build_wheel(target_python, _spec("ia-src-first"), wheels)])
    return resolve(str(python)), wheels


def _probe_must_not_run(*args, **kwargs):
    raise AssertionError("the inventory probe ran")


def _names(document: dict) -> list[str]:
    return [d["name"] for d in document["distributions"]]


def test_target_reports_the_sys_path_the_probes_see(small_env):
    target, _ = small_env
    site = str(fixturelib.site_packages(target.executable))
    assert site in target.sys_path
    assert "" not in target.sys_path and os.getcwd() not in target.sys_path


def test_an_unchanged_environment_reuses_the_stored_inventory(small_env, tmp_path, monkeypatch):
    target, _ = small_env
    store = SQLiteStore(tmp_path / "store.sqlite3")
    first = inventory.stored_inventory(target.executable, target.sys_path, store)
    assert "ia-src-first" in _names(first)
    monkeypatch.setattr(inventory, "run_inventory", _probe_must_not_run)
    assert inventory.stored_inventory(target.executable, target.sys_path, store) == first
    reopened = SQLiteStore(tmp_path / "store.sqlite3")  # a later scan, a new process
    assert inventory.stored_inventory(target.executable, target.sys_path, reopened) == first


def test_installing_a_distribution_runs_the_inventory_again(small_env, target_python, tmp_path):
    target, wheels = small_env
    store = SQLiteStore(tmp_path / "store.sqlite3")
    inventory.stored_inventory(target.executable, target.sys_path, store)
    fixturelib.install_wheels(target.executable,
                              [fixturelib.build_wheel(target_python, _spec("ia-src-second"), wheels)])
    again = inventory.stored_inventory(target.executable, target.sys_path, store)
    assert {"ia-src-first", "ia-src-second"} <= set(_names(again))


def test_removing_a_distribution_runs_the_inventory_again(small_env, tmp_path):
    target, _ = small_env
    store = SQLiteStore(tmp_path / "store.sqlite3")
    inventory.stored_inventory(target.executable, target.sys_path, store)
    site = fixturelib.site_packages(target.executable)
    shutil.rmtree(site / "ia_src_first-1.0.dist-info")
    (site / "ia_src_first.py").unlink()
    assert "ia-src-first" not in _names(inventory.stored_inventory(target.executable, target.sys_path, store))


def test_a_record_that_became_unreadable_is_seen_on_the_next_scan(small_env, tmp_path):
    target, _ = small_env
    store = SQLiteStore(tmp_path / "store.sqlite3")
    inventory.stored_inventory(target.executable, target.sys_path, store)
    record = fixturelib.site_packages(target.executable) / "ia_src_first-1.0.dist-info" / "RECORD"
    record.unlink()
    record.mkdir()  # a RECORD that cannot be read, even by root
    document = inventory.stored_inventory(target.executable, target.sys_path, store)
    first = next(d for d in document["distributions"] if d["name"] == "ia-src-first")
    assert any("cannot read its RECORD" in p for p in first["problems"])


def _fake_site(root):
    site = root / "site-packages"
    info = site / "pkg-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Name: pkg\nVersion: 1.0\n")
    (info / "RECORD").write_text("pkg.py,,\n")
    (site / "pkg.py").write_text("")
    return site


def test_fingerprint_follows_every_metadata_change(tmp_path):
    site = _fake_site(tmp_path)
    executable = shutil.which("python3")
    seen = {metadata_fingerprint(executable, [str(site)])}
    assert metadata_fingerprint(executable, [str(site)]) in seen  # unchanged: the same key

    def changed() -> bool:
        value = metadata_fingerprint(executable, [str(site)])
        new = value not in seen
        seen.add(value)
        return new

    (site / "other-2.0.dist-info").mkdir()
    assert changed(), "a distribution was added"
    (site / "other-2.0.dist-info" / "METADATA").write_text("Name: other\nVersion: 2.0\n")
    assert changed(), "a metadata file was written into a new .dist-info"
    (site / "pkg-1.0.dist-info" / "RECORD").write_text("pkg.py,,\npkg_extra.py,,\n")
    assert changed(), "a RECORD was rewritten in place"
    (site / "pkg-1.0.dist-info" / "RECORD").chmod(0o200)
    assert changed(), "a RECORD's permissions changed"
    shutil.rmtree(site / "other-2.0.dist-info")
    assert changed(), "a distribution was removed"
    assert metadata_fingerprint(executable, [str(site), str(tmp_path)]) not in seen, "sys.path changed"


def test_fingerprint_ignores_module_files(tmp_path):
    site = _fake_site(tmp_path)
    executable = shutil.which("python3")
    before = metadata_fingerprint(executable, [str(site)])
    (site / "pkg.py").write_text("VALUE = 2\n")  # a module edited in place: not inventory metadata
    assert metadata_fingerprint(executable, [str(site)]) == before
