"""Scan speed: ``interp-audit scan`` against importing every top-level name once.

Usage::

    python benchmarks/bench_scan.py --env /tmp/bench-scan            # create once, then reuse
    python benchmarks/bench_scan.py --env /tmp/bench-scan --python 3.12

The environment is a venv of ``--python`` (default: CPython 3.13, found like
``interp-audit scan --python 3.13`` finds it) with the pinned
``benchmarks/requirements-scan.txt`` installed from wheels only, byte code
compiled at install time.  It is created when ``--env`` does not hold it yet
(needs PyPI) and reused afterwards.  One run then measures, one after another:

* ``naive``      -- ``python -c "import NAME"`` once per top-level import name of
  the scan's own inventory, sequentially, main interpreter only (the baseline);
* ``floor``      -- the least the scan's design must run: the isolated rung's two
  scenarios (alone, beside main) per name, as many at a time as the scan's ``-j``;
  no lower rungs, no static inspection, no smoke checks.  A lower bound for ``full``;
* ``full``       -- ``interp-audit scan --no-cache --format json`` (default ``-j``,
  smoke checks on, as a user runs it);
* ``no-smoke``   -- the same with ``--no-smoke``;
* ``prime``      -- a full scan into a fresh ``--cache-dir``;
* ``cached``     -- the same command again, five times (the median counts): every
  result comes from the store.

It prints wall seconds, CPU seconds (this process's children: robust when the
machine is shared) and the ratios to the naive loop beside the targets of the
scan's speed goal: full <= 3.0x, --no-smoke <= 1.8x, cached <= 0.05x.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from interp_audit.source.environment import EnvironmentSource
from interp_audit.target import TargetError, resolve

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-scan.txt"
MARKER = ".bench-scan-requirements"  # in the venv: hash of the installed requirements file
TARGETS = {"full": 3.0, "no-smoke": 1.8, "cached": 0.05}  # issue 16
CACHED_REPEATS = 5


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _installer(env_python: Path, requirements: Path) -> list[str]:
    uv = Path(sys.executable).parent / "uv"
    uv = str(uv) if uv.exists() else shutil.which("uv")
    if uv:
        return [uv, "pip", "install", "--python", str(env_python), "--only-binary", ":all:", "--compile-bytecode",
                "-r", str(requirements)]
    return [sys.executable, "-m", "pip", "--python", str(env_python), "install", "--only-binary=:all:",
            "-r", str(requirements)]  # pip compiles byte code by default


def prepare(env: Path, python: str, requirements: Path) -> Path:
    """The venv's python, after creating the venv and installing ``requirements`` if needed."""
    env_python = env / "bin" / "python"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    marker = env / MARKER
    if env_python.exists() and marker.exists() and marker.read_text().strip() == digest:
        return env_python
    if not env_python.exists():
        print(f"creating {env} with {python}", flush=True)
        subprocess.run([python, "-m", "venv", "--without-pip", str(env)], check=True)
    print(f"installing {requirements.name} into {env} (wheels only)", flush=True)
    subprocess.run(_installer(env_python, requirements), check=True)
    marker.write_text(digest + "\n")
    return env_python


def warm_page_cache(env: Path) -> None:
    """Read every file of the venv once, so no phase pays for a cold disk cache."""
    for root, _dirs, names in os.walk(env):
        for name in names:
            try:
                with open(os.path.join(root, name), "rb") as handle:
                    while handle.read(1 << 20):
                        pass
            except OSError:
                pass


class Phase:
    """Wall and child-CPU seconds of one timed block."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.wall = self.cpu = 0.0

    def __enter__(self) -> "Phase":
        print(f"[{self.name}] ...", flush=True)
        self._wall, self._cpu = time.perf_counter(), _children_cpu()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = _children_cpu() - self._cpu
        print(f"[{self.name}] {self.wall:.1f} s wall, {self.cpu:.1f} s CPU", flush=True)


def naive_loop(env_python: Path, names: list[str]) -> tuple[dict[str, float], list[str]]:
    """Seconds per name of ``python -c "import NAME"``, and the names that failed."""
    seconds, failed = {}, []
    for name in names:
        started = time.perf_counter()
        completed = subprocess.run([str(env_python), "-c", f"import {name}"], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds[name] = time.perf_counter() - started
        if completed.returncode != 0:
            failed.append(name)
    return seconds, failed


def floor_loop(env_python: Path, names: list[str], jobs: int) -> None:
    """The least any scan meeting the scan issue must run: for each name, only the isolated
    rung's two scenarios (``alone`` and ``beside_main``), ``jobs`` at a time.  Nothing else:
    no lower rungs for names that fail, no static inspection, no smoke checks."""
    from concurrent.futures import ThreadPoolExecutor

    from interp_audit.probe import probe_path
    from interp_audit.runtime.worker import run_probe

    def both(name: str) -> None:
        for scenario in ("alone", "beside_main"):
            request = {"name": name, "mode": "isolated", "scenario": scenario, "extensions": []}
            run_probe(str(env_python), probe_path("runtime"), request, timeout=60)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(both, names))


def run_scan(env_python: Path, output: Path, extra: list[str]) -> dict:
    """Run ``interp-audit scan`` on the venv and return its JSON report."""
    command = [sys.executable, "-m", "interp_audit", "scan", "--python", str(env_python), "--format", "json",
               "-o", str(output)] + extra
    completed = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    # Exit 2 with a report written means input problems in some distribution, not a failed scan.
    if completed.returncode not in (0, 1, 2) or not output.exists():
        raise SystemExit(f"scan failed ({completed.returncode}): {completed.stderr.strip()[-2000:]}")
    return json.loads(output.read_text(encoding="utf-8"))


def _tiers(report: dict) -> dict[str, str]:
    return {d["name"]: d["tier"] for run in report["interpreters"] for d in run["distributions"]}


def _smoke_seconds(report: dict) -> float:
    return sum((d.get("smoke") or {}).get("seconds") or 0.0
               for run in report["interpreters"] for d in run["distributions"])


def measure(env_python: Path, jobs: int | None, keep: Path | None) -> None:
    jobs_args = ["-j", str(jobs)] if jobs else []
    out = keep or Path(tempfile.mkdtemp(prefix="bench-scan-"))
    out.mkdir(parents=True, exist_ok=True)
    with Phase("inventory") as inventory:
        items = EnvironmentSource(str(env_python)).items()
    names = [name for item in items for name in item.import_names]
    print(f"{len(items)} distributions, {len(names)} top-level import names, "
          f"{sum(len(i.extensions) for i in items)} extension modules; "
          f"scan -j {jobs or 'default (' + str(os.cpu_count()) + ' cores)'}; load average {os.getloadavg()[0]:.1f}",
          flush=True)

    with Phase("naive") as naive:
        per_name, failed = naive_loop(env_python, names)
    with Phase("floor") as floor:
        floor_loop(env_python, names, jobs or os.cpu_count() or 2)
    with Phase("full") as full:
        full_report = run_scan(env_python, out / "full.json", ["--no-cache"] + jobs_args)
    with Phase("no-smoke") as no_smoke:
        run_scan(env_python, out / "no-smoke.json", ["--no-cache", "--no-smoke"] + jobs_args)
    cache_dir = out / "cache"
    shutil.rmtree(cache_dir, ignore_errors=True)
    with Phase("prime") as prime:
        primed = run_scan(env_python, out / "prime.json", ["--cache-dir", str(cache_dir)] + jobs_args)
    repeats = []
    for attempt in range(1, CACHED_REPEATS + 1):
        with Phase(f"cached {attempt}/{CACHED_REPEATS}") as phase:
            again = run_scan(env_python, out / "cached.json", ["--cache-dir", str(cache_dir)] + jobs_args)
        repeats.append(phase)
    cached = sorted(repeats, key=lambda p: p.wall)[len(repeats) // 2]  # the median: one run is under a second

    print()
    print(f"naive loop: {len(names)} imports, {len(failed)} failed in main"
          + (f" ({', '.join(failed)})" if failed else ""))
    slowest = sorted(per_name.items(), key=lambda kv: -kv[1])[:5]
    print("  slowest: " + ", ".join(f"{n} {s:.2f} s" for n, s in slowest))
    print(f"full scan: tiers {dict(Counter(_tiers(full_report).values()))}; "
          f"smoke checks {_smoke_seconds(full_report):.1f} s summed over distributions")
    if _tiers(again) != _tiers(primed):
        print("WARNING: the cached re-scan's tiers differ from the run that primed the cache")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (a busy machine stretches wall times; "
          "CPU seconds are steadier)")
    print()
    print(f"{'phase':12s} {'wall s':>8s} {'CPU s':>8s} {'wall/naive':>11s} {'CPU/naive':>10s} {'target':>8s}")
    rows = [("inventory", inventory, None), ("naive", naive, None), ("floor", floor, None), ("full", full, "full"),
            ("no-smoke", no_smoke, "no-smoke"), ("prime", prime, "full"), ("cached", cached, "cached")]
    for label, phase, goal in rows:
        target = TARGETS.get(goal)
        verdict = ""
        if target is not None:
            verdict = f"<= {target:g}x " + ("ok" if phase.wall / naive.wall <= target else "MISSED")
        print(f"{label:12s} {phase.wall:8.1f} {phase.cpu:8.1f} {phase.wall / naive.wall:10.2f}x "
              f"{phase.cpu / naive.cpu:9.2f}x  {verdict}")
    print(f"\nreports in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", type=Path, required=True, help="venv to create (first run) or reuse")
    parser.add_argument("--python", default="3.13",
                        help="target interpreter for a new venv: a path or a version (default: 3.13)")
    parser.add_argument("--requirements", type=Path, default=REQUIREMENTS, help="pinned requirements to install")
    parser.add_argument("-j", "--jobs", type=int, help="passed to scan -j (default: the scan's default, cores)")
    parser.add_argument("--keep", type=Path, help="write the reports and the cache here instead of a temp dir")
    args = parser.parse_args()
    env = args.env.absolute()  # the scan's probes run in scratch directories
    if (env / "bin" / "python").exists():
        python = str(env / "bin" / "python")
    else:
        try:
            python = resolve(args.python).executable
        except TargetError as exc:
            parser.error(str(exc))
    env_python = prepare(env, python, args.requirements)
    warm_page_cache(env)
    measure(env_python, args.jobs, args.keep)


if __name__ == "__main__":
    main()
