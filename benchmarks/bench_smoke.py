"""Smoke phase speed: a distribution's checks in one worker process against one process per check.

Usage::

    python benchmarks/bench_smoke.py --env /tmp/bench-scan --report full.json
    python benchmarks/bench_smoke.py --env /tmp/bench-scan --report full.json --dists lxml,regex

``--env`` is ``benchmarks/bench_scan.py``'s environment (created there).  ``--report``
is an ``interp-audit scan --format json`` report of it with smoke checks (``bench_scan.py
--keep DIR`` writes ``DIR/full.json``): every distribution in it that got smoke checks is
checked again here, with the mode, import names and extension modules the scan used and
the curated snippets, twice side by side: ``run_smoke(..., session=True)`` (the checks share
one worker process unless one crashes, hangs or fails) and ``session=False`` (a process per
check, each snippet too: the scan before issue 16).  Which of the two goes first alternates
from one distribution to the next, so both meet the same load.  One distribution at a time.

It prints, per distribution and in total, wall seconds, CPU seconds of the child processes
and worker processes of each way, the ratio session / per-check, and every check whose
status differs between the two (expected only where a check's outcome is a race, e.g. a
parallel crash that does not happen every time).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import resource
import subprocess
import time
from pathlib import Path

from interp_audit.model import SMOKE_CHECKS, SmokeReport
from interp_audit.runtime.smoke import run_smoke
from interp_audit.smoke_config import snippets_for


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _stdlib_names(python: str) -> list[str]:
    code = "import sys; print(repr(sorted(sys.stdlib_module_names)))"
    return ast.literal_eval(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout)


def smoked(report: dict, only: set[str]) -> list[dict]:
    """The distributions of ``report`` that got smoke checks (``only``: these names)."""
    found = []
    for run in report["interpreters"]:
        for dist in run["distributions"]:
            if (dist.get("smoke") or {}).get("mode") and (not only or dist["name"].lower() in only):
                found.append(dist)
    return found


def timed(dist: dict, python: str, stdlib: list[str], session: bool) -> tuple[SmokeReport, float, float]:
    """One run_smoke of ``dist`` as the scan ran it: the report, wall and child-CPU seconds."""
    wall, cpu = time.perf_counter(), _children_cpu()
    result = run_smoke(python, dist["name"], dist["import_names"], [e["module"] for e in dist.get("extensions", [])],
                       dist["smoke"]["mode"], snippets_for(dist["name"], dist["import_names"]),
                       stdlib_names=stdlib, session=session)
    return result, time.perf_counter() - wall, _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", type=Path, required=True, help="bench_scan.py's environment (a venv)")
    parser.add_argument("--report", type=Path, required=True, help="a scan report of it, with smoke checks")
    parser.add_argument("--dists", default="", help="comma-separated distribution names (default: all)")
    args = parser.parse_args()
    python = str(args.env.absolute() / "bin" / "python")
    report = json.loads(args.report.read_text(encoding="utf-8"))
    dists = smoked(report, {name.strip().lower() for name in args.dists.split(",") if name.strip()})
    stdlib = _stdlib_names(python)
    print(f"{len(dists)} distributions with smoke checks; load average {os.getloadavg()[0]:.1f}", flush=True)
    print(f"{'distribution':28s} {'session s':>9s} {'alone s':>8s} {'ratio':>6s} {'processes':>10s}  differences")
    totals = {True: [0.0, 0.0, 0], False: [0.0, 0.0, 0]}
    differences = 0
    for index, dist in enumerate(dists):
        runs = {}
        for session in ((True, False) if index % 2 == 0 else (False, True)):
            runs[session] = timed(dist, python, stdlib, session)
            result, wall, cpu = runs[session]
            totals[session][0] += wall
            totals[session][1] += cpu
            totals[session][2] += result.processes or 0
        shared, alone = runs[True][0], runs[False][0]
        differ = [f"{c}: {shared.check(c).status} / {alone.check(c).status}" for c in SMOKE_CHECKS
                  if shared.check(c).status != alone.check(c).status]
        differences += len(differ)
        print(f"{dist['name'][:28]:28s} {runs[True][1]:9.2f} {runs[False][1]:8.2f} "
              f"{runs[True][1] / runs[False][1]:5.2f}x {shared.processes:>4d} / {alone.processes:<3d}  "
              + "; ".join(differ), flush=True)
    print()
    print(f"{'way':26s} {'wall s':>8s} {'CPU s':>8s} {'processes':>10s}")
    for session, label in ((False, "a process per check"), (True, "one session per dist")):
        wall, cpu, processes = totals[session]
        print(f"{label:26s} {wall:8.1f} {cpu:8.1f} {processes:10d}")
    print(f"session / per-check: wall {totals[True][0] / totals[False][0]:.2f}x, "
          f"CPU {totals[True][1] / totals[False][1]:.2f}x, processes {totals[True][2]} / {totals[False][2]}; "
          f"{differences} check statuses differ; load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
