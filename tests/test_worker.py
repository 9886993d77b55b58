"""The probe worker: events survive crashes, floods are cut, hangs are killed, parsing is exact."""

from __future__ import annotations

import ast

from interp_audit.probe import probe_path
from interp_audit.runtime.worker import _parse_events, run_probe


def test_fast_marker_parsing_equals_literal_eval():
    events = [
        {"event": "begin", "module": "pkg.sub", "where": "sub1"},
        {"event": "end", "step": "destroy interpreter", "where": "main"},
        {"event": "begin", "module": "it's", "where": "sub1"},  # repr switches quotes
        {"event": "begin", "module": "back\\slash", "where": "sub2"},
        {"event": "result", "where": "sub1", "ok": False, "error": "ImportError: x", "chain": ["a", "b"]},
    ]
    data = "".join(repr(e) + "\n" for e in events) + "{'event': 'begin', 'modu"  # cut short by a crash
    assert _parse_events(data.encode()) == events
    assert [ast.literal_eval(repr(e)) for e in events] == events


def test_a_real_probe_run_reads_back_every_event(target_python):
    run = run_probe(target_python, probe_path("runtime"),
                    {"names": ["json"], "mode": "isolated", "scenario": "beside_main", "extensions": ["_json"]}, 60)
    assert not run.died
    results = [e for e in run.events if e["event"] == "result"]
    assert [r["where"] for r in results] == ["main", "sub1", "sub2"]
    assert all(r["ok"] and r["loaded"] == ["_json"] for r in results)
    assert run.unfinished_imports() == []
    assert any(e["event"] == "begin" and e["module"] == "json" for e in run.events)


def test_top_level_loaded_lists_only_what_the_import_loaded(target_python):
    # These are the candidates for a shutdown-crash culprit: modules every interpreter
    # has before any import (sys, builtins, __main__, the probe's own) cannot be one.
    run = run_probe(target_python, probe_path("runtime"),
                    {"names": ["json"], "mode": "isolated", "scenario": "alone", "extensions": []}, 60)
    loaded = next(e for e in run.events if e["event"] == "result")["top_level_loaded"]
    assert "json" in loaded
    assert not {"sys", "builtins", "__main__", "time", "os"} & set(loaded), loaded
