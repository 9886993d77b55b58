"""Cross-check of verdicts: an independent, deliberately simple tier for every
distribution of the benchmark environment, compared with ``interp-audit scan``.

Usage::

    python benchmarks/crosscheck.py --python 3.13                 # /tmp/bench-scan-313, all distributions
    python benchmarks/crosscheck.py --python 3.12 --dists numpy,lxml -j 2
    python benchmarks/crosscheck.py --python /path/venv/bin/python --save xc.json
    python benchmarks/crosscheck.py --load xc.json --scan-json scan.json   # compare again, nothing re-run

The environment is the venv of ``benchmarks/bench_scan.py`` (``--env``, default
``/tmp/bench-scan-3XY``): created from wheels on the first run, reused afterwards.
A ``--python`` that is already a venv's interpreter is used as it is.

The method shares no code with the scanner's auditing machinery (``auditor/runtime``,
``auditor/probe``, ``auditor/verdict.py``).  Everything that runs in the target is in
this file, standard library only:

* names: each distribution's top-level import names (from its RECORD, else
  top_level.txt), and its public submodules: walked breadth first with ``pkgutil``
  in main, listed in the RECORD, no ``_``-prefixed part, no test modules, at most
  ``--max-submodules``; a submodule that does not import in main is left out.
* a top-level name counts when ``python -c "import NAME"`` works in a fresh process;
  one that fails is listed but counts only when no name of the distribution imports.
* each name climbs the rungs ``isolated`` (own GIL), ``shared-gil``
  (check_multi_interp_extensions, main's GIL) and ``legacy``; on each rung two
  scenarios run, each in one fresh process of the target python: ``alone`` (the import
  in one sub-interpreter) and ``beside_main`` (the import in main, then in two
  successive sub-interpreters, each created, imported into and destroyed).  A scenario
  passes when every import succeeds and the process exits 0; an import that works
  without an extension module that loads in main passes (degraded).  The name's tier
  is the first rung where both pass (own-gil, shared-gil, legacy-only), else main-only.
  Submodules are tried on a rung only when every top-level name passes that rung.
* a scenario that crashes or hangs is re-run importing only the standard-library
  modules the name's import loaded in main, up to 5 times; if that crashes too, the
  crash is CPython's and does not fail the rung (counted apart).
* the distribution's tier is the worst over its counted names; nothing imports in
  main: ``broken``.

It then runs ``interp-audit scan --format json --no-smoke`` (and, with
``--with-smoke``, also with smoke checks) on the same venv and prints a table:
distribution, cross-check tier, scan tier, agreement, and for each disagreement the
names whose tiers differ with their rung/scenario results on both sides.  Always
exits 0; the last line counts the disagreements.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNGS = ("isolated", "shared-gil", "legacy")
TIER_OF_RUNG = {"isolated": "own-gil", "shared-gil": "shared-gil", "legacy": "legacy-only"}
TIERS = ("own-gil", "shared-gil", "legacy-only", "main-only", "broken")
CONTROL_RUNS = 5
MAIN_SCANNER = "/work/main/.venv/bin/interp-audit"  # the lead's checkout: an editable install of main

# --- code run in the target python (standard library only) ---------------------------

INVENTORY = r"""
import importlib.machinery, importlib.metadata, json, sys
SUFFIXES = tuple(importlib.machinery.SOURCE_SUFFIXES + importlib.machinery.EXTENSION_SUFFIXES)

def module_of(path):
    parts = path.split("/")
    if parts[0] in ("", "..") or parts[0].endswith((".dist-info", ".data")) or "__pycache__" in parts:
        return None
    for suffix in SUFFIXES:
        if parts[-1].endswith(suffix):
            parts[-1] = parts[-1][:-len(suffix)]
            if parts[-1] == "__init__":
                parts.pop()
            return ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None
    return None

out = []
for dist in importlib.metadata.distributions():
    files = dist.files
    modules = sorted({m for m in (module_of(str(f)) for f in files or ()) if m})
    tops = sorted({m.split(".")[0] for m in modules})
    if files is None:
        tops = sorted(n for n in (dist.read_text("top_level.txt") or "").split() if n.isidentifier())
    out.append({"name": dist.metadata["Name"], "version": dist.version, "top_level": tops, "modules": modules})
print(json.dumps(out))
"""

# argv: OUT, json [top names], json [record modules], limit, json [names to skip]
LISTER = r"""
import importlib, json, pkgutil, sys
out, tops, record, limit, skip = sys.argv[1], json.loads(sys.argv[2]), set(json.loads(sys.argv[3])), int(sys.argv[4]), set(json.loads(sys.argv[5]))
TESTS = {"tests", "test", "testing", "conftest", "__main__"}

def public(name):
    return all(not p.startswith("_") and p not in TESTS and not p.startswith("test_") and not p.endswith("_test")
               for p in name.split(".")[1:])

def note(**kw):
    with open(out, "a") as f:
        f.write(repr(kw) + "\n")

queue, seen, found = [], set(), 0
for top in tops:
    try:
        module = importlib.import_module(top)
    except BaseException:
        continue
    queue.append(module)
while queue and found < limit:
    package = queue.pop(0)
    for info in sorted(pkgutil.iter_modules(getattr(package, "__path__", None) or [], package.__name__ + "."),
                       key=lambda i: i.name):
        name = info.name
        if name in seen or not public(name) or name not in record or found >= limit:
            continue
        seen.add(name)
        found += 1
        if name in skip:
            note(name=name, ok=False, error="crashed or hung the listing process")
            continue
        note(name=name, start=True)
        try:
            module = importlib.import_module(name)
        except BaseException as exc:
            note(name=name, ok=False, error=type(exc).__name__ + ": " + str(exc)[:300])
            continue
        note(name=name, ok=True)
        if info.ispkg:
            queue.append(module)
"""

# argv: OUT, NAME
STDLIB_LOADED = r"""
import sys
before = set(sys.modules)
__import__(sys.argv[2])
with open(sys.argv[1], "a") as f:
    f.write(repr([m for m in sys.modules if m not in before and m.split(".")[0] in sys.stdlib_module_names]) + "\n")
"""

# Runs in every sub-interpreter and, beside main, in main.  NAMES: the imports; STRICT:
# False for a crash control (only whether the process survives matters).
IMPORTS = r"""
import sys
_before = set(sys.modules)
with open(OUT, "a") as _f:
    _f.write(repr({"event": "start", "where": WHERE}) + "\n")
_r = {"event": "import", "where": WHERE, "ok": True, "error": None}
for _n in NAMES:
    try:
        __import__(_n)
    except BaseException as _e:
        if STRICT:
            _r.update(ok=False, error="%s: %s" % (type(_e).__name__, str(_e)[:300]))
            break
_r["ext"] = sorted(k for k, m in list(sys.modules.items())
                   if k not in _before and str(getattr(m, "__file__", None) or "").endswith(".so"))
with open(OUT, "a") as _f:
    _f.write(repr(_r) + "\n")
"""

# The scenario process: RUNG, SCENARIO, OUT and SUB (the sub-interpreter code) are prepended.
SCENARIO = r"""
import sys

def note(**kw):
    with open(OUT, "a") as f:
        f.write(repr(kw) + "\n")

def runner():
    if sys.version_info >= (3, 13):
        import _interpreters as api
        config = {"isolated": lambda: api.new_config("isolated"),
                  "shared-gil": lambda: api.new_config("legacy", check_multi_interp_extensions=True,
                                                       allow_daemon_threads=False),
                  "legacy": lambda: api.new_config("legacy")}[RUNG]()

        def run(code):
            interp = api.create(config)
            failure = api.exec(interp, code)
            if failure is not None:
                note(event="sub-error", error=failure.formatted)
            api.destroy(interp)
    elif RUNG == "shared-gil":
        import _testcapi  # the only way to a shared-GIL interpreter with the extension check on 3.12

        def run(code):
            if _testcapi.run_in_subinterp_with_config(
                    code, use_main_obmalloc=True, allow_fork=True, allow_exec=True, allow_threads=True,
                    allow_daemon_threads=False, check_multi_interp_extensions=True, gil=1) != 0:
                note(event="sub-error", error="run_in_subinterp_with_config returned -1")
    else:
        import _xxsubinterpreters as api

        def run(code):
            interp = api.create(isolated=RUNG == "isolated")
            try:
                api.run_string(interp, code)
            except Exception as exc:
                note(event="sub-error", error=repr(exc))
            api.destroy(interp)
    return run

try:
    run = runner()
except ImportError as exc:
    note(event="unavailable", error=str(exc))
    raise SystemExit(0)
if SCENARIO == "beside_main":
    exec(SUB.replace("WHERE = 'sub'", "WHERE = 'main'", 1))
    subs = ("sub1", "sub2")
else:
    subs = ("sub1",)
for where in subs:
    run(SUB.replace("WHERE = 'sub'", "WHERE = %r" % where, 1))
    note(event="destroyed", where=where)
note(event="done")
"""


def _sub_code(out: str, names: list[str], strict: bool) -> str:
    return f"OUT = {out!r}\nNAMES = {names!r}\nSTRICT = {strict!r}\nWHERE = 'sub'\n" + IMPORTS


def _scenario_code(out: str, rung: str, scenario: str, names: list[str], strict: bool) -> str:
    return (f"OUT = {out!r}\nRUNG = {rung!r}\nSCENARIO = {scenario!r}\nSUB = {_sub_code(out, names, strict)!r}\n"
            + SCENARIO)


# --- running processes ------------------------------------------------------------------

class Runner:
    """Fresh processes of the target python, at most ``jobs`` at a time."""

    def __init__(self, python: str, jobs: int, timeout: float) -> None:
        self.python, self.timeout = python, timeout
        self._slots = threading.Semaphore(jobs)
        self.workdir = tempfile.mkdtemp(prefix="crosscheck-")
        self.processes = 0

    def run(self, code: str, *args: str, timeout: float | None = None) -> dict:
        """``python -I -c code args``: returncode (None on timeout), signal name, stdout, seconds."""
        with self._slots:
            self.processes += 1
            started = time.perf_counter()
            proc = subprocess.Popen([self.python, "-I", "-c", code, *args], cwd=self.workdir,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, errors="replace", start_new_session=True)
            try:
                stdout, stderr = proc.communicate(timeout=timeout or self.timeout)
                rc = proc.returncode
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                stdout, stderr = proc.communicate()
                rc = None
        sig = signal.Signals(-rc).name if rc is not None and rc < 0 else None
        return {"rc": rc, "signal": sig, "stdout": stdout, "stderr": stderr[-800:],
                "seconds": round(time.perf_counter() - started, 2)}

    def outfile(self) -> str:
        handle, path = tempfile.mkstemp(dir=self.workdir, suffix=".out")
        os.close(handle)
        return path


def _events(path: str) -> list[dict]:
    events = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                events.append(ast.literal_eval(line))
            except (SyntaxError, ValueError):
                pass
    os.unlink(path)
    return events


class CrossCheck:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self._stdlib_loaded: dict[str, list[str]] = {}

    # names ------------------------------------------------------------------------------

    def inventory(self) -> list[dict]:
        done = self.runner.run(INVENTORY, timeout=300)
        if done["rc"] != 0:
            raise SystemExit(f"error: the inventory failed in the target python: {done['stderr']}")
        return json.loads(done["stdout"])

    def imports_in_main(self, name: str) -> dict:
        done = self.runner.run(f"import {name}")
        return {"ok": done["rc"] == 0, "error": None if done["rc"] == 0 else _failure(done)}

    def submodules(self, dist: dict, tops: list[str], limit: int) -> tuple[list[str], dict[str, str]]:
        """The public submodules that import in main, and those that do not (name -> error)."""
        skip: list[str] = []
        while True:
            out = self.runner.outfile()
            done = self.runner.run(LISTER, out, json.dumps(tops), json.dumps(dist["modules"]), str(limit),
                                   json.dumps(skip), timeout=max(self.runner.timeout, 600))
            events = _events(out)
            started = [e["name"] for e in events if e.get("start")]
            finished = {e["name"]: e for e in events if "ok" in e}
            unfinished = [n for n in started if n not in finished]
            if done["rc"] == 0 or not unfinished or len(skip) >= 5:
                ok = [n for n, e in finished.items() if e["ok"]]
                failed = {n: e["error"] for n, e in finished.items() if not e["ok"]}
                failed.update({n: "crashed or hung the listing process" for n in unfinished})
                return ok, failed
            skip.append(unfinished[0])

    def stdlib_loaded(self, name: str) -> list[str]:
        if name not in self._stdlib_loaded:
            out = self.runner.outfile()
            self.runner.run(STDLIB_LOADED, out, name)
            self._stdlib_loaded[name] = next(iter(_events(out)), [])
        return self._stdlib_loaded[name]

    # scenarios ----------------------------------------------------------------------------

    def scenario(self, rung: str, scenario: str, names: list[str], strict: bool = True) -> dict:
        out = self.runner.outfile()
        done = self.runner.run(_scenario_code(out, rung, scenario, names, strict))
        events = _events(out)
        result = {"ok": False, "seconds": done["seconds"]}
        if any(e["event"] == "unavailable" for e in events):
            return {"ok": None, "error": "rung unavailable: " + next(e["error"] for e in events
                                                                  if e["event"] == "unavailable")}
        imports = [e for e in events if e["event"] == "import"]
        failed = next((e for e in imports if not e["ok"]), None)
        expected = 3 if scenario == "beside_main" else 1
        if failed is not None:
            result.update(error=failed["error"], where=failed["where"])
        elif done["rc"] != 0:
            last = events[-1] if events else {"event": "nothing"}
            result.update(crash=done["signal"] or ("timeout" if done["rc"] is None else f"exit {done['rc']}"),
                          during=f"{last['event']} {last.get('where', '')}".strip(),
                          stderr=done["stderr"][-300:])
        elif len(imports) != expected:
            result.update(error=f"{len(imports)} of {expected} imports reported", stderr=done["stderr"][-300:])
        else:
            result["ok"] = True
        main = next((e for e in imports if e["where"] == "main"), None)
        if main is not None and main["ok"]:
            missing = sorted({m for e in imports if e["where"] != "main" and e["ok"]
                              for m in set(main["ext"]) - set(e["ext"])})
            if missing:
                result["degraded"] = missing
        if main is not None and not main["ok"]:
            result["main_failed"] = True
        return result

    def scenario_with_control(self, rung: str, scenario: str, name: str) -> dict:
        result = self.scenario(rung, scenario, [name])
        if "crash" in result:
            stdlib = self.stdlib_loaded(name)
            for attempt in range(1, CONTROL_RUNS + 1):
                control = self.scenario(rung, scenario, stdlib, strict=False)
                if "crash" in control:
                    result.update(ok=True, cpython_crash=True,
                                  control={"runs": attempt, "crashed": True, "crash": control["crash"],
                                           "imports": len(stdlib)})
                    break
            else:
                result["control"] = {"runs": CONTROL_RUNS, "crashed": False, "imports": len(stdlib)}
        return result

    def rung(self, rung: str, name: str) -> dict:
        """Both scenarios of one rung; ``alone`` only when ``beside_main`` passed."""
        beside = self.scenario_with_control(rung, "beside_main", name)
        if beside.get("main_failed"):
            return {"ok": False, "main_failed": True, "beside_main": beside}
        if beside["ok"] is None:
            return {"ok": None, "beside_main": beside}
        if not beside["ok"]:
            return {"ok": False, "beside_main": beside}
        alone = self.scenario_with_control(rung, "alone", name)
        return {"ok": bool(alone["ok"]), "beside_main": beside, "alone": alone}

    # one distribution ---------------------------------------------------------------------

    def _climb(self, entries: dict, rung: str, names: list[str], pool: ThreadPoolExecutor) -> None:
        """Try ``rung`` for each of ``names`` that has no tier yet."""
        todo = [n for n in names if entries[n]["tier"] is None]
        for name, outcome in zip(todo, pool.map(lambda n: self.rung(rung, n), todo)):
            entry = entries[name]
            entry["rungs"][rung] = outcome
            if outcome.get("main_failed") and entry["kind"] == "submodule":
                entry["tier"] = "ignored: fails in main"
            elif outcome["ok"]:
                entry["tier"] = TIER_OF_RUNG[rung]

    def distribution(self, dist: dict, limit: int, pool: ThreadPoolExecutor) -> dict:
        """The distribution's result; a failure of this script is kept as its ``error``, the run goes on."""
        try:
            return self._distribution(dist, limit, pool)
        except Exception as exc:  # noqa: BLE001 - one distribution's problem must not lose the others
            return {"name": dist["name"], "version": dist["version"], "tier": "error", "names": {},
                    "error": f"{type(exc).__name__}: {exc}"}

    def _distribution(self, dist: dict, limit: int, pool: ThreadPoolExecutor) -> dict:
        started = time.perf_counter()
        tops = dist["top_level"]
        in_main = dict(zip(tops, pool.map(self.imports_in_main, tops)))
        counted = [n for n in tops if in_main[n]["ok"]]
        result = {"name": dist["name"], "version": dist["version"], "names": {}, "submodules_failing_in_main": {}}
        for name in tops:
            result["names"][name] = {"kind": "top-level", "tier": None if in_main[name]["ok"] else "broken",
                                     "main_error": in_main[name]["error"], "rungs": {}}
        if not counted:
            result["tier"] = "broken"
            return result
        subs, failing = self.submodules(dist, counted, limit)
        result["submodules_failing_in_main"] = failing
        for name in subs:
            result["names"][name] = {"kind": "submodule", "tier": None, "rungs": {}}
        for rung in RUNGS:
            self._climb(result["names"], rung, counted, pool)
            if all(result["names"][n]["tier"] is not None for n in counted):
                self._climb(result["names"], rung, subs, pool)
        for entry in result["names"].values():
            if entry["tier"] is None:
                entry["tier"] = "main-only" if entry["rungs"] or entry["kind"] == "top-level" else "not tried"
        ranks = [TIERS.index(e["tier"]) for n, e in result["names"].items()
                 if e["tier"] in TIERS and (n in counted or e["kind"] == "submodule")]
        result["tier"] = TIERS[max(ranks)]
        result["seconds"] = round(time.perf_counter() - started, 1)
        return result


def _failure(done: dict) -> str:
    if done["rc"] is None:
        return "timeout"
    if done["signal"]:
        return done["signal"]
    lines = [ln for ln in done["stderr"].strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else f"exit {done['rc']}"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# --- the scan and the comparison ------------------------------------------------------

def run_scan(interp_audit: str, python: str, output: Path, smoke: bool) -> dict:
    scanner = [interp_audit] if interp_audit else [sys.executable, "-m", "interp_audit"]
    command = scanner + ["scan", "--python", python, "--format", "json", "--no-cache", "-o", str(output)]
    if not smoke:
        command.append("--no-smoke")
    print("running " + " ".join(command), flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    print(f"  {time.perf_counter() - started:.0f} s, exit {done.returncode}", flush=True)
    if done.returncode not in (0, 1, 2) or not output.exists():  # 1: findings, 2: bad input in some distribution
        raise SystemExit(f"error: the scan failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(output.read_text(encoding="utf-8"))


def scan_distributions(report: dict) -> dict[str, dict]:
    return {canonical(d["name"]): d for run in report["interpreters"] for d in run["distributions"]}


def _ours(outcome: dict | None) -> str:
    if outcome is None:
        return "-"
    if outcome.get("cpython_crash"):
        return f"pass (CPython crash {outcome.get('crash')}, control crashed)"
    if outcome.get("ok"):
        return "pass" + (f" (degraded: {', '.join(outcome['degraded'])})" if outcome.get("degraded") else "")
    if outcome.get("ok") is None:
        return outcome.get("error", "not run")
    if "crash" in outcome:
        control = outcome.get("control") or {}
        return (f"crash {outcome['crash']} during {outcome.get('during')}"
                + (f" (control clean in {control['runs']} runs)" if control else ""))
    return f"FAIL {outcome.get('error')}" + (f" [{outcome['where']}]" if outcome.get("where") else "")


def _theirs(outcome: dict | None) -> str:
    if not outcome:
        return "-"
    if outcome.get("ok"):
        missing = outcome.get("missing_extensions") or []
        return "pass" + (f" (degraded: {', '.join(missing)})" if missing else "")
    crash = outcome.get("crash")
    if crash:
        return f"crash {crash.get('signal') or ('timeout' if crash.get('timeout') else crash.get('returncode'))}"
    if outcome.get("ok") is None:
        return "not run"
    return f"FAIL {outcome.get('error')}"


def _rung_lines(ours: dict | None, theirs: dict | None) -> list[str]:
    lines = []
    for rung in RUNGS:
        mine = (ours or {}).get("rungs", {}).get(rung)
        scan = ((theirs or {}).get("modes") or {}).get(rung)
        if mine is None and scan is None:
            continue
        for scenario in ("alone", "beside_main"):
            a = _ours(mine.get(scenario)) if mine else "-"
            b = _theirs((scan or {}).get(scenario)) if scan else "-"
            if scan and not scan.get(scenario) and scan.get("inferred"):
                b = f"inferred: {scan['inferred']}"
            lines.append(f"      {rung:10s} {scenario:11s} crosscheck: {a[:150]}")
            lines.append(f"      {'':10s} {'':11s} scan:       {b[:150]}")
    return lines


def _rank(tier: str | None) -> int:
    return TIERS.index(tier) if tier in TIERS else len(TIERS)


def differences(ours: dict, theirs: dict) -> list[str]:
    """The names whose tiers differ, with both sides' rung results."""
    modules = {m["name"]: m for m in theirs.get("modules") or []}
    lines = []
    if not modules:  # an older schema: the distribution's own rungs stand for its names
        lines.append("    (the scan reports no per-module results; its distribution rungs:)")
        for name, entry in ours["names"].items():
            if entry["tier"] != ours["tier"]:
                continue
            lines.append(f"    {name}: crosscheck {entry['tier']}")
            lines += _rung_lines(entry, theirs)
        return lines
    for name in sorted(set(ours["names"]) | set(modules)):
        entry, module = ours["names"].get(name), modules.get(name)
        mine = entry["tier"] if entry else "not listed"
        scan = ("excluded" if module.get("excluded") else module.get("tier")) if module else "not listed"
        if mine == scan or mine == "not tried" or (entry and mine not in TIERS and not module):
            continue
        # a name listed on one side only matters when its tier is below the other side's distribution tier
        if not module and _rank(mine) <= _rank(theirs.get("tier")):
            continue
        if not entry and _rank(scan) <= _rank(ours["tier"]):
            continue
        note = f" (main: {entry['main_error']})" if entry and entry.get("main_error") else ""
        error = f" (scan error: {module.get('error')})" if module and module.get("error") else ""
        lines.append(f"    {name}: crosscheck {mine}{note}, scan {scan}{error}")
        if module and module.get("inferred") and not module.get("modes"):
            lines.append(f"      scan did not run it: {module['inferred']}")
        lines += _rung_lines(entry, module)
    return lines


def compare(results: list[dict], scans: dict[str, dict[str, dict]]) -> int:
    """Print the table and every difference; return the number of distribution tiers that differ."""
    results = sorted(results, key=lambda r: canonical(r["name"]))
    labels = list(scans)
    print()
    header = f"{'distribution':28s} {'crosscheck':12s} " + " ".join(f"{label:15s}" for label in labels)
    print(header + (" agree" if labels else ""))
    print("-" * (len(header) + 6))
    disagreeing, name_differences = [], []
    for ours in results:
        key = canonical(ours["name"])
        tiers = [(scans[label].get(key) or {}).get("tier") or "missing" for label in labels]
        agree = not labels or tiers[0] == ours["tier"]
        print(f"{ours['name'][:28]:28s} {ours['tier']:12s} " + " ".join(f"{t:15s}" for t in tiers)
              + ("" if not labels else " yes" if agree else " NO"))
        if labels:
            lines = differences(ours, scans[labels[0]].get(key) or {})
            (name_differences if agree else disagreeing).append((ours, lines))
    _print_cpython_crashes(results)
    name_differences = [(ours, lines) for ours, lines in name_differences if lines]
    for title, items in (("Distribution tiers that differ", disagreeing),
                         ("Same distribution tier, but some names' tiers differ", name_differences)):
        if items:
            print(f"\n{title} ({labels[0]}):")
        for ours, lines in items:
            theirs = scans[labels[0]].get(canonical(ours["name"])) or {}
            print(f"\n  {ours['name']}: crosscheck {ours['tier']}, scan {theirs.get('tier')}"
                  + (f"; scan flags {theirs.get('flags')}" if theirs.get("flags") else "")
                  + (f"; crosscheck error {ours['error']}" if ours.get("error") else ""))
            for line in lines:
                print(line)
    if labels:
        print(f"\n{len(results) - len(disagreeing)} agreements, {len(disagreeing)} disagreements "
              f"(crosscheck against {labels[0]}); {len(name_differences)} more distributions agree on the tier "
              "but not on some names")
    return len(disagreeing)


def _print_cpython_crashes(results: list[dict]) -> None:
    """Per distribution, the scenarios whose crash the standard library alone reproduced."""
    crashes: dict[str, list[str]] = {}
    for result in results:
        for name, entry in result["names"].items():
            for rung, outcome in entry["rungs"].items():
                for scenario in ("alone", "beside_main"):
                    run = outcome.get(scenario) or {}
                    if run.get("cpython_crash"):
                        stderr = (run.get("stderr") or "").strip().splitlines()
                        crashes.setdefault(result["name"], []).append(
                            f"{rung} {scenario} {run['crash']}" + (f" ({stderr[-1][:60]})" if stderr else ""))
    if crashes:
        total = sum(len(v) for v in crashes.values())
        print(f"\nCPython's own crashes (the standard library alone reproduced them; they do not fail a rung): "
              f"{total} scenarios in {len(crashes)} distributions")
        for dist, items in crashes.items():
            kinds = sorted(set(items))
            print(f"  {dist}: {len(items)} scenarios; " + "; ".join(kinds[:3]) + (" ..." if len(kinds) > 3 else ""))


# --- command line --------------------------------------------------------------------------

def _target(args: argparse.Namespace, parser: argparse.ArgumentParser) -> str:
    """The venv python to check: ``--python`` itself when it is a venv's, else bench_scan's venv."""
    python = Path(args.python)
    if python.exists() and (python.parent.parent / "pyvenv.cfg").exists() and not args.env:
        return str(python)
    sys.path.insert(0, str(HERE))
    from bench_scan import REQUIREMENTS, prepare  # the benchmark environment, shared with bench_scan.py

    from interp_audit.target import TargetError, resolve
    try:
        target = resolve(args.python)
    except TargetError as exc:
        parser.error(str(exc))
    env = args.env or Path(f"/tmp/bench-scan-{target.version[0]}{target.version[1]}")
    return str(prepare(env.absolute(), target.executable, REQUIREMENTS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("--python", default="3.13", help="3.12, 3.13 or a path (default: 3.13)")
    parser.add_argument("--env", type=Path, help="the benchmark venv (default: /tmp/bench-scan-3XY)")
    parser.add_argument("--dists", help="comma-separated distributions to check (default: all)")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="fresh processes at a time (default: 2)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per process (default: 120)")
    parser.add_argument("--max-submodules", type=int, default=200, help="per distribution (default: 200)")
    parser.add_argument("--interp-audit", default=MAIN_SCANNER if Path(MAIN_SCANNER).exists() else None,
                        help=f"the scanner to compare with (default: {MAIN_SCANNER} when it exists, "
                             "else this Python's interp_audit)")
    parser.add_argument("--with-smoke", action="store_true", help="also compare with a scan with smoke checks")
    parser.add_argument("--save", type=Path, help="write the cross-check's results (JSON) here")
    parser.add_argument("--load", type=Path, help="read cross-check results saved by --save instead of running")
    parser.add_argument("--scan-json", type=Path, action="append", default=[],
                        help="use this scan report (--no-smoke first) instead of running the scan; repeatable")
    parser.add_argument("--no-scan", action="store_true", help="only compute the cross-check's tiers")
    parser.add_argument("--out", type=Path, help="keep the scan reports in this directory")
    args = parser.parse_args()
    wanted = {canonical(d) for d in args.dists.split(",")} if args.dists else None

    if args.load:
        saved = json.loads(args.load.read_text())
        python, results = saved["python"], saved["results"]
    else:
        python = _target(args, parser)
        runner = Runner(python, args.jobs, args.timeout)
        checker = CrossCheck(runner)
        dists = [d for d in checker.inventory() if wanted is None or canonical(d["name"]) in wanted]
        if wanted and len(dists) != len(wanted):
            found = {canonical(d["name"]) for d in dists}
            print(f"not installed in {python}: {', '.join(sorted(wanted - found))}")
        print(f"cross-checking {len(dists)} distributions in {python}, -j {args.jobs}", flush=True)
        started = time.perf_counter()
        results = []
        with ThreadPoolExecutor(args.jobs) as dist_pool, ThreadPoolExecutor(4 * args.jobs) as name_pool:
            for result in dist_pool.map(lambda d: checker.distribution(d, args.max_submodules, name_pool),
                                        sorted(dists, key=lambda d: canonical(d["name"]))):
                print(f"  {result['name']}: {result['tier']} ({len(result['names'])} names, "
                      f"{result.get('seconds', 0)} s)", flush=True)
                results.append(result)
        print(f"cross-check: {time.perf_counter() - started:.0f} s, {runner.processes} processes", flush=True)
        if args.save:
            args.save.write_text(json.dumps({"python": python, "results": results}, indent=1))
    if wanted:
        results = [r for r in results if canonical(r["name"]) in wanted]
    if args.no_scan:
        compare(results, {})
        return

    scans: dict[str, dict[str, dict]] = {}
    if args.scan_json:
        for index, path in enumerate(args.scan_json):
            scans["scan --no-smoke" if index == 0 else f"scan {path.name}"] = scan_distributions(
                json.loads(path.read_text()))
    else:
        out = args.out or Path(tempfile.mkdtemp(prefix="crosscheck-scan-"))
        out.mkdir(parents=True, exist_ok=True)
        scans["scan --no-smoke"] = scan_distributions(run_scan(args.interp_audit, python, out / "no-smoke.json",
                                                               smoke=False))
        if args.with_smoke:
            scans["scan (smoke)"] = scan_distributions(run_scan(args.interp_audit, python, out / "smoke.json",
                                                                smoke=True))
        print(f"scan reports in {out}")
    compare(results, scans)


if __name__ == "__main__":
    main()
