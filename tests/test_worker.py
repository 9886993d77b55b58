"""The probe worker: events survive crashes, floods are cut, hangs are killed, parsing is exact."""

from __future__ import annotations

import ast

from interp_audit.probe import probe_path
import pytest

from interp_audit.runtime.worker import (LiveWorker, WorkerEnded, _parse_events, encode_request, exit_description,
                                         run_probe)


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


def test_the_probe_leaves_every_module_beyond_start_up_to_the_audited_import(target_python):
    """``re``, ``enum`` and ``functools`` are loaded by the import of ``json`` in main, not by the
    probe before it (as ``ast`` for its request and ``runpy`` for its sibling files did): what a
    package loads, and so what its crash controls import, is what a fresh process loads for it."""
    run = run_probe(target_python, probe_path("runtime"),
                    {"names": ["json"], "mode": "isolated", "scenario": "beside_main", "extensions": []}, 60)
    main = next(e for e in run.events if e["event"] == "result" and e["where"] == "main")
    assert {"re", "enum", "functools"} <= set(main["top_level_loaded"]), main["top_level_loaded"]


def test_a_request_too_long_for_the_command_line_goes_through_a_file(target_python, tmp_path):
    request = {"names": ["json"], "mode": "isolated", "scenario": "alone", "extensions": [],
               "exclude": ["padding.%06d" % i for i in range(20000)]}
    assert encode_request(request, str(tmp_path)).startswith("@")
    run = run_probe(target_python, probe_path("runtime"), request, 60)
    assert not run.died and [e["where"] for e in run.events if e["event"] == "result"] == ["sub1"]


LIVE_SCRIPT = """
import ast, os, signal, sys, time
requests, events = int(sys.argv[-2]), int(sys.argv[-1])
for line in os.fdopen(requests):
    request = ast.literal_eval(line)
    if request["op"] == "crash":
        print("about to crash", flush=True)
        os.kill(os.getpid(), signal.SIGSEGV)
    if request["op"] == "hang":
        time.sleep(600)
    os.write(events, (repr({"event": "echo", "n": request["n"]}) + "\\n").encode())
"""


def test_live_worker_streams_events_and_reports_a_crash_and_a_hang(target_python, tmp_path):
    script = tmp_path / "live.py"
    script.write_text(LIVE_SCRIPT)
    worker = LiveWorker(target_python, script)
    for n in range(3):
        assert worker.send({"op": "echo", "n": n})
    assert [worker.next_event(30)["n"] for _ in range(3)] == [0, 1, 2]  # one process, answers as they come
    assert worker.send({"op": "hang"})
    assert worker.next_event(0.5) is None  # nothing within the time: the caller decides it hangs
    worker.kill()
    with pytest.raises(WorkerEnded):
        worker.next_event(30)
    worker.close()

    crashing = LiveWorker(target_python, script)
    crashing.send({"op": "echo", "n": 7})
    crashing.send({"op": "crash"})
    assert crashing.next_event(30) == {"event": "echo", "n": 7}  # written before the crash: kept
    with pytest.raises(WorkerEnded):
        crashing.next_event(30)
    assert exit_description(crashing.returncode) == "SIGSEGV (signal 11)"
    assert not crashing.send({"op": "echo", "n": 8})  # no one reads requests any more
    crashing.close()
    assert "about to crash" in crashing.output_tail()
