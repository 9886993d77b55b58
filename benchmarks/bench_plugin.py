"""The pytest plugin's speed: a real third-party suite, plain against inside sub-interpreters.

Usage::

    python benchmarks/bench_plugin.py --env /tmp/bench-plugin            # create once, then reuse
    python benchmarks/bench_plugin.py --env /tmp/bench-plugin --python 3.12 --repeat 5

The suite is crc32c's own tests (a C extension that loads in isolated
sub-interpreters; a conftest with fixtures, an autouse fixture,
parametrized classes; five test modules), from the sdist of the version
pinned in ``benchmarks/requirements-plugin.txt``, downloaded from PyPI into
the environment at the first run.  The environment is a venv of
``--python`` (default CPython 3.13) with those pinned wheels and this
checkout of interp-audit (editable).  Each round runs, one after another:

* ``plain``     -- ``python -m pytest -p no:cacheprovider -q TESTS``;
* ``isolated``  -- the same with ``--subinterpreters-only`` (default scope: module);
* ``legacy``    -- the same with ``--subinterpreters-only --subinterpreters=legacy``;
* ``isolated/session`` -- isolated with ``--subinterpreters-scope=session``.

It prints the median wall and CPU seconds (this process's children: robust
when the machine is shared), each command's ratio to plain, pytest's own
summary line (so a fast run that ran nothing would show), and the goal:
at most 3x plain for the whole command at the default scope.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from bench_scan import _children_cpu, prepare, warm_page_cache

from interp_audit.target import TargetError, resolve

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REQUIREMENTS = HERE / "requirements-plugin.txt"
SUITE = "crc32c"
GOAL = 3.0
COMMANDS = {
    "plain": [],
    "isolated": ["--subinterpreters-only"],
    "legacy": ["--subinterpreters-only", "--subinterpreters=legacy"],
    "isolated/session": ["--subinterpreters-only", "--subinterpreters-scope=session"],
}


def suite_version() -> str:
    for line in REQUIREMENTS.read_text().splitlines():
        if line.startswith(SUITE + "=="):
            return line.split("==", 1)[1].strip()
    raise SystemExit("error: %s is not pinned in %s" % (SUITE, REQUIREMENTS))


def prepare_suite(env: Path, env_python: Path) -> Path:
    """The suite's test directory (with its pytest configuration), from the pinned sdist."""
    version = suite_version()
    tests = env / ("suite-%s-%s" % (SUITE, version))
    if (tests / "test").is_dir():
        return tests / "test"
    with tempfile.TemporaryDirectory() as download:
        print("downloading the %s %s sdist for its tests" % (SUITE, version), flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        "-d", download, "%s==%s" % (SUITE, version)], check=True)
        (sdist,) = Path(download).glob("*.tar.gz")
        with tarfile.open(sdist) as archive:
            top = archive.getnames()[0].split("/")[0]
            members = [m for m in archive.getmembers() if m.name.startswith((top + "/test/", top + "/pyproject.toml"))]
            archive.extractall(download, members=members, filter="data")
        (Path(download) / top).rename(tests)
    return tests / "test"


def install_plugin(env_python: Path) -> None:
    """This checkout of interp-audit, editable, without its command-line dependencies."""
    subprocess.run([sys.executable, "-m", "pip", "--python", str(env_python), "install", "-q", "--no-deps",
                    "-e", str(ROOT)], check=True)


def run_once(env_python: Path, tests: Path, extra: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds and pytest's summary line of one run."""
    cpu = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run([str(env_python), "-m", "pytest", "-p", "no:cacheprovider", "-q", *extra, str(tests)],
                            cwd=tests.parent, capture_output=True, text=True)
    wall = time.perf_counter() - started
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    return wall, _children_cpu() - cpu, lines[-1] if lines else "(no output) " + result.stderr[-200:]


def measure(env_python: Path, tests: Path, repeat: int) -> None:
    walls: dict[str, list[float]] = {name: [] for name in COMMANDS}
    cpus: dict[str, list[float]] = {name: [] for name in COMMANDS}
    summaries = {}
    run_once(env_python, tests, [])  # warm-up: byte code, page cache
    for _ in range(repeat):
        for name, extra in COMMANDS.items():  # side by side: a load change hits every command alike
            wall, cpu, summaries[name] = run_once(env_python, tests, extra)
            walls[name].append(wall)
            cpus[name].append(cpu)
    plain_wall, plain_cpu = statistics.median(walls["plain"]), statistics.median(cpus["plain"])
    version = subprocess.run([str(env_python), "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True).stdout.strip()
    print("\n%s %s test suite, CPython %s, median of %d rounds, load average %.1f"
          % (SUITE, suite_version(), version, repeat, os.getloadavg()[0]))
    print("%-17s %8s %7s %8s %7s  %s" % ("command", "wall s", "ratio", "CPU s", "ratio", "pytest says"))
    for name in COMMANDS:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print("%-17s %8.2f %6.2fx %8.2f %6.2fx  %s" % (name, wall, wall / plain_wall, cpu, cpu / plain_cpu,
                                                      summaries[name]))
    for name in ("isolated", "legacy"):
        ratio = statistics.median(walls[name]) / plain_wall
        print("goal: %s <= %.1fx plain (wall): %.2fx, %s" % (name, GOAL, ratio, "met" if ratio <= GOAL else "NOT met"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", type=Path, default=Path(tempfile.gettempdir()) / "bench-plugin",
                        help="the benchmark's venv (created when missing, reused afterwards)")
    parser.add_argument("--python", default="3.13", help="the CPython to run the suite with (default 3.13)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of the four commands (default 5)")
    args = parser.parse_args()
    try:
        python = resolve(args.python).executable
    except TargetError as exc:
        parser.error(str(exc))
    env = args.env.resolve()
    env_python = prepare(env, python, REQUIREMENTS)
    install_plugin(env_python)
    tests = prepare_suite(env, env_python)
    warm_page_cache(env)
    measure(env_python, tests, args.repeat)


if __name__ == "__main__":
    main()
