"""``interp-audit survey``: install and scan every project of a list, each in a throwaway environment."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Optional

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from interp_audit.model import PythonInfo
from interp_audit.source.interface import SourceError
from interp_audit.source.inventory import run_inventory
from interp_audit.store.sqlite import SQLiteStore
from interp_audit.survey import lists
from interp_audit.survey.client import STORE_NAME, SurveyClient, SurveySummary
from interp_audit.survey.environments import INSTALLERS, InstallSpec
from interp_audit.survey.interface import Executor, ExecutorError
from interp_audit.survey.shard import ShardError, parse_shard, select
from interp_audit.survey.task import LABELS, SurveyTask, TaskResult
from interp_audit.target import TargetError, resolve

EPILOG = """\b
Examples:
  interp-audit survey --python 3.13 -o results/               the shipped top-PyPI list
  interp-audit survey my-list.txt --python 3.12 --python 3.13 -o results/
  interp-audit survey --top 100 --shard 2/4 --python 3.13 -o results/    one machine of four
  interp-audit survey --executor dask --scheduler tcp://10.0.0.5:8786 --python 3.13 -o results/
  interp-audit survey --refresh-list top-pypi-packages.min.json  write a new dated default list
  interp-audit report results/*.json            then: interp-audit site results/*.json -o public/

\b
Each project's latest release is installed (wheels only unless --allow-sdist)
into its own throwaway environment of each --python, scanned, and the
environment deleted.  A project that does not install is recorded as an
install failure and the survey goes on.  Results go to OUT/<project>.<python>.json
and to the store (OUT/survey.sqlite3): run the same command again after an
interruption and it resumes where it stopped.
Exit codes: 0 survey finished; 2 usage error, or tasks that could not run at all
(no such interpreter on a worker, no installer).
"""


def _pythons(specs: tuple[str, ...], executor: str, err: Console) -> dict[str, tuple[Optional[str], Optional[PythonInfo]]]:
    """--python value -> (executable, PythonInfo) as resolved here; remote workers may resolve it themselves."""
    found: dict[str, tuple[Optional[str], Optional[PythonInfo]]] = {}
    for spec in specs or (None,):
        try:
            target = resolve(spec)
            info = PythonInfo(**run_inventory(target.executable)["python"])
        except (TargetError, SourceError) as exc:
            if executor == "local" or spec is None:
                raise click.UsageError(str(exc)) from None
            err.print(f"note: {exc}; the Dask workers will look for it themselves")
            found[spec] = (None, None)
            continue
        found[spec or target.executable] = (target.executable, info)
    return found


def _projects(list_file: Optional[Path], top: Optional[int], shard: Optional[str]) -> tuple[list[str], str]:
    try:
        path = list_file or lists.default_list()
        names = lists.read_list(path)
    except lists.ListError as exc:
        raise click.UsageError(str(exc)) from None
    if top:
        names = names[:top]
    if shard:
        try:
            k, n = parse_shard(shard)
        except ShardError as exc:
            raise click.BadParameter(str(exc), param_hint="--shard") from None
        names = select(names, k, n)
    return names, str(path)


def _executor(kind: str, scheduler: Optional[str], jobs: int, max_attempts: int) -> Executor:
    try:
        if kind == "dask":
            from interp_audit.survey.dask import DaskExecutor

            return DaskExecutor(scheduler, workers=jobs, max_attempts=max_attempts)
        from interp_audit.survey.local import LocalExecutor

        return LocalExecutor(jobs, max_attempts=max_attempts)
    except ExecutorError as exc:
        raise click.UsageError(str(exc)) from None


def _line(outcome: TaskResult) -> str:
    where = f"on {outcome.python_info['version']}" if outcome.python_info else f"on {outcome.python}"
    if outcome.status == "scanned":
        verdicts = ", ".join(f"{r['version']}: {r['tier'] or 'no verdict'}" for r in outcome.results)
        times = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in outcome.seconds.items())
        text = f"{outcome.project} {where}: {verdicts} ({times})"
    else:
        lines = outcome.message.strip().splitlines() or ["no detail"]
        text = f"{outcome.project} {where}: {LABELS[outcome.status]}: {lines[-1].strip()}"
    if outcome.attempts > 1:
        text += f" [{outcome.attempts} tries]"
    return text


class _Progress:
    """A bar on a terminal, and one line per finished task (also in CI logs)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        columns = (TextColumn("Surveying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        self.bar = Progress(*columns, console=console, transient=True, disable=not console.is_terminal)
        self.task = None
        self.count = self.total = self.resumed = 0
        self.started = time.monotonic()
        self.seconds: Counter[str] = Counter()  # step -> seconds summed over this client's tasks

    def __call__(self, event: str, detail: object) -> None:
        if event == "total":
            self.total = int(detail)
            self.task = self.bar.add_task("survey", total=self.total)
            return
        self.count += 1
        if event == "resumed":
            self.resumed += 1
        else:
            self.seconds.update(getattr(detail, "seconds", None) or {})
            self.bar.console.print(f"[{self.count}/{self.total}] {_line(detail)}", markup=False, highlight=False)
        self.bar.update(self.task, completed=self.count)


def _summarize(summary: SurveySummary, progress: _Progress, out_dir: Path, store_path: Path, err: Console) -> None:
    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.statuses.items()))
    resumed = f"; {summary.resumed} were already done (resumed survey {summary.survey_id})" if summary.resumed else ""
    retries = f"; {summary.retries} retr{'y' if summary.retries == 1 else 'ies'} after a lost worker" \
        if summary.retries else ""
    err.print(f"Survey {summary.survey_id} finished: {counts or 'nothing to do'}{resumed}{retries}.",
              highlight=False)
    ran, minutes = progress.count - progress.resumed, (time.monotonic() - progress.started) / 60
    if ran:
        steps = ", ".join(f"{step} {seconds / ran:.1f} s" for step, seconds in progress.seconds.items())
        err.print(f"Ran {ran} task(s) in {minutes:.1f} min: {ran / max(minutes, 1e-9):.1f} per minute"
                  + (f"; per task: {steps}" if steps else ""), highlight=False)
    err.print(f"Results: {out_dir}/*.json (interp-audit report / site), store: {store_path}", highlight=False)


@click.command("survey", epilog=EPILOG)
@click.argument("list_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--python", "pythons", multiple=True, metavar="PATH|VERSION",
              help="Interpreter to survey on (repeatable). Default: as for `scan`.")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the per-project result files and the store. Required for a survey.")
@click.option("--top", type=click.IntRange(min=1), metavar="N", help="Only the first N projects of the list.")
@click.option("--shard", metavar="K/N",
              help="Only shard K of N (a stable hash of each name), so N machines each take a share.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local: processes on this machine; dask: a dask.distributed cluster (pip install 'interp-audit[dask]').")
@click.option("--scheduler", metavar="ADDRESS",
              help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: $DASK_SCHEDULER_ADDRESS, else a local "
                   "cluster of --jobs worker processes).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 2, show_default="cores",
              help="Tasks at once (local), or workers of the local Dask cluster.")
@click.option("--installer", type=click.Choice(INSTALLERS), default="auto", show_default=True,
              help="auto: uv when available, else venv + pip.")
@click.option("--allow-sdist", is_flag=True, help="Build from source when a project has no wheel (within --install-timeout).")
@click.option("--install-timeout", type=click.FloatRange(min=1), default=600.0, show_default=True,
              help="Seconds for creating the environment and for the install (including any build).")
@click.option("--timeout", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="Seconds before a probe process counts as hung (as for `scan`).")
@click.option("--scan-timeout", type=click.FloatRange(min=1), default=1800.0, show_default=True,
              help="Seconds for the whole scan of one project.")
@click.option("--no-smoke", is_flag=True, help="Skip the behaviour checks after a successful import.")
@click.option("--find-links", multiple=True, metavar="DIR|URL", help="Also look for wheels here (repeatable).")
@click.option("--index-url", metavar="URL", help="Package index to install from (default: the installer's).")
@click.option("--no-index", is_flag=True, help="Use only --find-links (offline).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Shared download cache for uv/pip (default: the installer's own, shared by all environments).")
@click.option("--store", "store_path", type=click.Path(dir_okay=False, path_type=Path),
              help=f"The result store (default: OUT/{STORE_NAME}); it keeps every run for `interp-audit history`.")
@click.option("--max-attempts", type=click.IntRange(min=1), default=3, show_default=True,
              help="Tries of a task whose process or worker dies (for an existing Dask cluster, its "
                   "distributed.scheduler.allowed-failures decides).")
@click.option("--fresh", is_flag=True, help="Start a new survey even if an interrupted one with the same tasks exists.")
@click.option("--refresh-list", metavar="URL|FILE",
              help="Instead of surveying: write a new dated top-PyPI list from a download ranking (JSON of the "
                   "top-pypi-packages dataset, a CSV/TSV with name and rank columns, or a plain list).")
@click.option("--list-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where --refresh-list writes (default: the user data directory, where the default list is also looked for).")
@click.option("--static-wheels", is_flag=True,
              help="Install and run nothing: read every published wheel of each project's newest release "
                   "(declared slots, init kinds, frameworks per platform tag) and predict tiers. Fast and safe; "
                   "writes OUT/<project>.wheels.json. Uses the index pip is configured to use.")
@click.option("--platform", "platforms", multiple=True, metavar="GLOB",
              help="With --static-wheels: only wheels whose platform tag matches (repeatable).")
@click.option("--python-tag", "python_tags", multiple=True, metavar="GLOB",
              help="With --static-wheels: only wheels whose Python tag matches, e.g. cp313 (repeatable).")
def command(list_file, pythons, out_dir, top, shard, executor, scheduler, jobs, installer, allow_sdist,
            install_timeout, timeout, scan_timeout, no_smoke, find_links, index_url, no_index, cache_dir,
            store_path, max_attempts, fresh, refresh_list, list_dir, static_wheels, platforms, python_tags) -> None:
    """Survey many projects: install each into a throwaway venv, scan it, record the result
    (or, with --static-wheels, read their published wheels without installing anything)."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if refresh_list:
        try:
            path = lists.refresh(refresh_list, top or 500, list_dir)
        except lists.ListError as exc:
            raise click.UsageError(str(exc)) from None
        err.print(f"wrote {path} ({len(lists.read_list(path))} projects)")
        return
    if out_dir is None:
        raise click.UsageError("give an output directory with -o/--output")
    projects, source = _projects(list_file, top, shard)
    if static_wheels:
        _static_wheels(projects, source, out_dir, cache_dir, platforms, python_tags, jobs, fresh, err)
        return
    if platforms or python_tags:
        raise click.UsageError("--platform and --python-tag go with --static-wheels")
    resolved = _pythons(pythons, executor, err)
    spec = InstallSpec(allow_sdist=allow_sdist, find_links=tuple(find_links), index_url=index_url,
                       no_index=no_index, cache_dir=str(cache_dir) if cache_dir else None, timeout=install_timeout)
    tasks = [SurveyTask(project=name, python=python, executable=executable, installer=installer, install=spec,
                        probe_timeout=timeout, scan_timeout=scan_timeout, smoke=not no_smoke)
             for name in projects for python, (executable, _) in resolved.items()]
    store_path = store_path or out_dir / STORE_NAME
    store = SQLiteStore(store_path)
    description = {"list": source, "top": top, "shard": shard, "pythons": list(resolved), "executor": executor}
    err.print(f"Surveying {len(projects)} project(s) from {source} on {', '.join(resolved)} "
              f"({executor} executor)", highlight=False)
    try:
        with _executor(executor, scheduler, jobs, max_attempts) as runner:
            client = SurveyClient(store, out_dir, {p: info for p, (_, info) in resolved.items()})
            progress = _Progress(err)
            summary = client.run(tasks, runner, fresh=fresh, description=description, progress=progress)
    finally:
        store.close()
    _summarize(summary, progress, out_dir, store_path, err)
    if summary.statuses.get("error"):
        sys.exit(2)


def _static_wheels(projects, source, out_dir: Path, cache_dir: Optional[Path], platforms, python_tags, jobs: int,
                   fresh: bool, err: Console) -> None:
    from interp_audit.survey.static_wheels import survey_static_wheels

    if cache_dir is None:
        import platformdirs

        cache_dir = Path(platformdirs.user_cache_dir("interp-audit"))
    err.print(f"Reading the published wheels of {len(projects)} project(s) from {source}: nothing is installed or run",
              highlight=False)
    counter = iter(range(1, len(projects) + 1))

    def show(outcome) -> None:
        detail = "; ".join(f"{tag}: {tier}" for tag, tier in outcome.tiers.items()) or "; ".join(outcome.errors)
        err.print(f"[{next(counter)}/{len(projects)}] {outcome.project}: {outcome.status}"
                  + (f" ({detail})" if detail else ""), highlight=False, markup=False)

    outcomes = survey_static_wheels(projects, out_dir, cache_dir / "wheels", platforms=platforms,
                                    python_tags=python_tags, jobs=jobs, fresh=fresh, progress=show)
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    err.print("Static wheel pass finished: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
              + f". Results: {out_dir}/*.wheels.json (interp-audit report / site)", highlight=False)

