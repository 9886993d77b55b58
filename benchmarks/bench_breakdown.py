"""Where a scan's time goes: every probe process of one ``interp-audit scan``, timed and grouped.

Usage::

    python benchmarks/bench_breakdown.py --env /tmp/bench-scan          # the venv bench_scan.py made
    python benchmarks/bench_breakdown.py --env /tmp/bench-scan --no-smoke --json /tmp/processes.json

It runs ``scan --python ENV/bin/python --no-cache --format json`` in this process, with
the one process runner (``auditor/runtime/worker.py``'s ``run_probe``, as the ladder and the
smoke checks call it) and the static inspection wrapped to time each call, and prints
process-seconds per kind of work: ladder scenarios per rung, the walk, the climbs of failing
submodules (``walk(modules)``), the smoke session and the checks run one process each, the
crash controls (ladder scenarios and smoke checks re-run with the standard library only) and
the init-kind probe.  Options after ``--`` go to ``scan``.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import interp_audit.audit as audit
import interp_audit.runtime.ladder as ladder
import interp_audit.runtime.smoke as smoke
import interp_audit.runtime.worker as worker
from interp_audit._cli import main as cli

records: list[tuple[str, float]] = []
_lock = threading.Lock()
_local = threading.local()


def _kind(script: Path, request: dict) -> str:
    prefix = "control " if getattr(_local, "control", False) else ""
    if Path(script).stem == "runtime":
        scenario = request.get("scenario")
        if scenario == "walk" and request.get("modules") is not None:
            scenario = "walk(modules)"
        return f"{prefix}ladder {request.get('mode')} {scenario}"
    return f"{prefix}smoke {'session' if request.get('checks') else request.get('check')}"


def _timed_probe(python, script, request, timeout, env=None):
    run = worker.run_probe(python, script, request, timeout, env)
    with _lock:
        records.append((_kind(script, request), run.seconds))
    return run


def _timed_control(original):
    def control(self, *args, **kwargs):
        _local.control = True
        try:
            return original(self, *args, **kwargs)
        finally:
            _local.control = False
    return control


def _timed_inspection(original):
    def inspect(*args, **kwargs):
        started = time.monotonic()
        try:
            return original(*args, **kwargs)
        finally:
            with _lock:
                records.append(("static inspection (init-kind probe)", time.monotonic() - started))
    return inspect


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", type=Path, required=True, help="a venv to scan (bench_scan.py's)")
    parser.add_argument("--no-smoke", action="store_true", help="scan with --no-smoke")
    parser.add_argument("--json", type=Path, help="also write every process (kind, seconds) here")
    parser.add_argument("scan_args", nargs="*", help="more options for scan (after --)")
    args = parser.parse_args()
    ladder.run_probe = smoke.run_probe = _timed_probe
    ladder.Ladder.control = _timed_control(ladder.Ladder.control)
    audit.inspect_extensions = _timed_inspection(audit.inspect_extensions)
    with tempfile.TemporaryDirectory() as out:
        command = ["scan", "--python", str(args.env / "bin" / "python"), "--no-cache", "--format", "json",
                   "-o", str(Path(out) / "scan.json"), *(["--no-smoke"] if args.no_smoke else []), *args.scan_args]
        started = time.monotonic()
        try:
            cli(command)
        except SystemExit as done:
            if done.code not in (0, None):
                print(f"scan exited with {done.code}", file=sys.stderr)
        wall = time.monotonic() - started
    by_kind: dict[str, list[float]] = collections.defaultdict(list)
    for kind, seconds in records:
        by_kind[kind].append(seconds)
    total = sum(sum(v) for v in by_kind.values())
    print(f"\nwall {wall:.1f} s; {total:.1f} process-seconds in {len(records)} probe runs\n")
    print(f"| work | runs | process-seconds | share |\n| --- | ---: | ---: | ---: |")
    for kind, seconds in sorted(by_kind.items(), key=lambda item: -sum(item[1])):
        print(f"| {kind} | {len(seconds)} | {sum(seconds):.1f} | {100 * sum(seconds) / total:.0f}% |")
    if args.json:
        args.json.write_text(json.dumps(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
