"""Survey throughput: projects per minute, uv vs venv + pip, local processes vs a 2-worker Dask LocalCluster.

Usage::

    python benchmarks/bench_survey.py                       # the newest CPython 3.12+ found
    python benchmarks/bench_survey.py --python 3.12 --jobs 2 --smoke

Surveys a fixed list of 20 small PyPI projects (network to PyPI needed) three
ways in one run and prints them side by side:

* ``uv / local``        -- ``uv venv`` + ``uv pip install``, ``--jobs`` local task processes;
* ``pip / local``       -- ``python -m venv`` + ``pip --python ENV install``, same pool;
* ``uv / dask``         -- uv environments, tasks on a ``distributed.LocalCluster``
  of ``--jobs`` worker processes (1 thread each).

Before timing, each installer's download cache is warmed by one untimed
install of the whole list, so the numbers compare installers, not downloads.
Columns: projects per minute (wall clock), wall seconds, and the seconds all
tasks spent creating environments, installing and scanning (summed over
tasks, so with 2 workers they add up to about twice the wall time).  The last
lines print the ratios uv/pip and dask/local.  Smoke checks are off unless
``--smoke`` (they lengthen the scan step only).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from interp_audit.store.sqlite import SQLiteStore
from interp_audit.survey.client import SurveyClient
from interp_audit.survey.environments import InstallSpec, choose
from interp_audit.survey.interface import Executor
from interp_audit.survey.task import SurveyTask
from interp_audit.target import resolve

PROJECTS = [
    "six", "idna", "certifi", "packaging", "attrs", "click", "pyparsing", "toml", "tomli", "typing-extensions",
    "python-dateutil", "pytz", "markupsafe", "colorama", "zipp", "iniconfig", "pluggy", "decorator",
    "itsdangerous", "wcwidth",
]


def warm_cache(installer: str, python: str) -> None:
    """Install the whole list once into a scratch environment, untimed, to fill the installer's cache."""
    maker = choose(installer)
    with tempfile.TemporaryDirectory() as scratch:
        env = maker.create(python, Path(scratch) / "env", 120)
        for project in PROJECTS:
            maker.install(env, project, InstallSpec(timeout=600))


def measure(label: str, executor: Executor, installer: str, python: str, smoke: bool) -> dict:
    tasks = [SurveyTask(project=name, python=python, executable=python, installer=installer, smoke=smoke)
             for name in PROJECTS]
    with tempfile.TemporaryDirectory() as scratch:
        store = SQLiteStore(Path(scratch) / "survey.sqlite3")
        seconds = {"create": 0.0, "install": 0.0, "scan": 0.0}
        statuses: dict[str, int] = {}

        def progress(event: str, outcome: object) -> None:
            if event == "done":
                for step, spent in outcome.seconds.items():
                    seconds[step] += spent
                statuses[outcome.status] = statuses.get(outcome.status, 0) + 1

        started = time.perf_counter()
        with executor:
            SurveyClient(store, Path(scratch) / "out", {python: None}).run(tasks, executor, progress=progress)
        wall = time.perf_counter() - started
        store.close()
    return {"label": label, "wall": wall, "per_minute": len(tasks) * 60 / wall, **seconds, "statuses": statuses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=None, help="target interpreter (path or version)")
    parser.add_argument("--jobs", type=int, default=2, help="local task processes / Dask workers (default 2)")
    parser.add_argument("--smoke", action="store_true", help="run the smoke checks too")
    args = parser.parse_args()
    python = resolve(args.python).executable
    print(f"{len(PROJECTS)} projects on {python}, {args.jobs} at a time; warming the uv and pip caches...",
          flush=True)
    for installer in ("uv", "pip"):
        warm_cache(installer, python)

    from interp_audit.survey.dask import DaskExecutor
    from interp_audit.survey.local import LocalExecutor

    rows = [
        measure("uv / local", LocalExecutor(args.jobs), "uv", python, args.smoke),
        measure("pip / local", LocalExecutor(args.jobs), "pip", python, args.smoke),
        measure(f"uv / dask ({args.jobs} workers)", DaskExecutor(None, workers=args.jobs), "uv", python, args.smoke),
    ]
    print(f"{'configuration':<24}{'projects/min':>13}{'wall s':>9}{'create s':>10}{'install s':>11}{'scan s':>9}"
          "  outcomes")
    for row in rows:
        outcomes = ", ".join(f"{n} {status}" for status, n in sorted(row["statuses"].items()))
        print(f"{row['label']:<24}{row['per_minute']:>13.1f}{row['wall']:>9.1f}{row['create']:>10.1f}"
              f"{row['install']:>11.1f}{row['scan']:>9.1f}  {outcomes}")
    uv, pip, dask = rows
    print(f"uv / pip, projects per minute: {uv['per_minute'] / pip['per_minute']:.2f}x; "
          f"environment time (create + install): {(pip['create'] + pip['install']) / max(uv['create'] + uv['install'], 1e-9):.1f}x less with uv")
    print(f"dask / local, projects per minute: {dask['per_minute'] / uv['per_minute']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
