"""One survey task: install a project into a throwaway environment of one Python and scan it.

:func:`run_task` runs wherever the executor puts it (a local pool process or
a Dask worker).  The scan itself runs as ``python -m interp_audit scan`` in a
subprocess: the task only waits for processes, so neither a crashing probe
nor a stuck scan takes the worker down, a whole-scan timeout can kill the
process group, and every task starts from clean state.  The task never
raises: every outcome, failures included, comes back as a :class:`TaskResult`
of plain JSON-able data.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from interp_audit import __version__
from interp_audit.model import DistributionResult, PythonInfo, from_dict
from interp_audit.runtime.worker import kill_group
from interp_audit.source.interface import SourceError
from interp_audit.source.inventory import run_inventory
from interp_audit.survey.environments import InstallError, InstallSpec, choose
from interp_audit.survey.shard import normalize
from interp_audit.target import Target, TargetError, resolve, validate

#: How a task ended.  Only "scanned" carries a verdict; the others are recorded as
#: a result with no tier and a ``problems`` entry starting with the status's label.
STATUSES = ("scanned", "install-failed", "scan-failed", "error", "worker-lost")
LABELS = {
    "install-failed": "install failed",
    "scan-failed": "scan failed",
    "error": "survey task failed",
    "worker-lost": "worker lost",
}


@dataclass(frozen=True)
class SurveyTask:
    """What to do for one (project, Python) pair; picklable, sent to workers."""

    project: str
    python: str  # a --python value (path or version), resolved on the worker
    executable: Optional[str] = None  # what the client resolved it to; used when it exists on the worker
    installer: str = "auto"
    install: InstallSpec = InstallSpec()
    probe_timeout: float = 60.0
    scan_timeout: float = 1800.0
    smoke: bool = True

    @property
    def key(self) -> str:
        """Unique within a survey: the normalised project name and the Python asked for."""
        return f"{normalize(self.project)}@{self.python}"


@dataclass
class TaskResult:
    """What a task sends back: its status, the interpreter and the scan's results as dicts."""

    project: str
    python: str
    status: str
    python_info: Optional[dict[str, Any]] = None
    results: list[dict[str, Any]] = field(default_factory=list)  # DistributionResult dicts
    tool_version: str = __version__
    installer: str = ""
    seconds: dict[str, float] = field(default_factory=dict)  # create, install, scan
    message: str = ""
    attempts: int = 1  # filled in by the executor: 2 means one retry after a lost worker

    @property
    def key(self) -> str:
        return f"{normalize(self.project)}@{self.python}"


def failure_result(project: str, status: str, message: str) -> DistributionResult:
    """The result recorded for a task that produced no verdict: no version, no tier, the reason as a problem."""
    lines = [line for line in message.strip().splitlines() if line.strip()] or ["no detail"]
    return DistributionResult(
        name=project,
        version="",
        problems=[f"{LABELS[status]}: {lines[-1].strip()}"],
        notes=lines[:-1],
    )


def failure_status(result: DistributionResult) -> Optional[str]:
    """The task status of a result made by :func:`failure_result`, or None for a real verdict."""
    if result.tier is not None or result.version:
        return None
    for problem in result.problems:
        for status, label in LABELS.items():
            if problem.startswith(label + ":"):
                return status
    return None


@functools.lru_cache(maxsize=None)
def _target(spec: str, executable: Optional[str]) -> Target:
    """Resolve ``spec`` once per worker process; the client's resolution is taken when it fits here."""
    if executable and Path(executable).exists():
        target = validate(executable, f"--python {spec} resolved to {executable}")
        wanted = tuple(int(part) for part in spec.split(".")) if re.fullmatch(r"\d+(\.\d+)*", spec) else ()
        if target.version[:len(wanted)] == wanted:
            return target
    return resolve(spec)


def _python_info(executable: str) -> Optional[dict[str, Any]]:
    try:
        return dict(run_inventory(executable, timeout=60)["python"])
    except SourceError:
        return None


def _scan(env_python: Path, task: SurveyTask, cwd: str) -> tuple[Optional[dict[str, Any]], str]:
    """Run ``interp-audit scan`` on the project in its environment: (report dict or None, error text)."""
    command = [sys.executable, "-m", "interp_audit", "scan", "--python", str(env_python), task.project,
               "--format", "json", "--no-cache", "--jobs", "1", "--timeout", str(task.probe_timeout)]
    if not task.smoke:
        command.append("--no-smoke")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = process.communicate(timeout=task.scan_timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        process.communicate()
        return None, f"the scan did not finish within {task.scan_timeout:.0f} s"
    try:
        return json.loads(out), ""
    except ValueError:
        return None, err.strip() or f"the scan exited with status {process.returncode} and printed no result"


def run_task(task: SurveyTask) -> TaskResult:
    """Create the environment, install the project, scan it, delete the environment."""
    outcome = TaskResult(project=task.project, python=task.python, status="error")
    try:
        target = _target(task.python, task.executable)
        maker = choose(task.installer)
    except (TargetError, InstallError) as exc:
        outcome.message = f"on {os.uname().nodename}: {exc}"
        return outcome
    outcome.installer = maker.name
    with tempfile.TemporaryDirectory(prefix="interp-audit-survey-") as scratch:
        clock = time.monotonic()
        try:
            env_python = maker.create(target.executable, Path(scratch) / "env", task.install.timeout)
        except InstallError as exc:
            outcome.message = f"cannot create an environment of {target.executable}: {exc}"
            return outcome
        outcome.seconds["create"], clock = time.monotonic() - clock, time.monotonic()
        try:
            maker.install(env_python, task.project, task.install)
        except InstallError as exc:
            outcome.status, outcome.message = "install-failed", str(exc)
            outcome.python_info = _python_info(target.executable)
            return outcome
        finally:
            outcome.seconds["install"] = time.monotonic() - clock
        clock = time.monotonic()
        report, error = _scan(env_python, task, scratch)
        outcome.seconds["scan"] = time.monotonic() - clock
    if report is None:
        outcome.status, outcome.message = "scan-failed", error
        outcome.python_info = _python_info(target.executable)
        return outcome
    run = report["interpreters"][0]
    outcome.python_info = {**run["python"], "executable": target.executable,
                           "chosen_because": f"survey: a throwaway {maker.name} environment of {target.executable}"}
    outcome.results = run["distributions"]
    outcome.tool_version = report.get("tool_version", __version__)
    outcome.status = "scanned"
    return outcome


def result_rows(outcome: TaskResult) -> list[DistributionResult]:
    """The results a task outcome is recorded as (a failure becomes one verdict-less result)."""
    if outcome.status == "scanned":
        return [from_dict(DistributionResult, data) for data in outcome.results]
    return [failure_result(outcome.project, outcome.status, outcome.message)]


def python_of(outcome: TaskResult) -> Optional[PythonInfo]:
    """The interpreter the task ran on, if it could be identified."""
    return from_dict(PythonInfo, outcome.python_info) if outcome.python_info else None



def task_to_dict(task: SurveyTask) -> dict[str, Any]:
    """JSON-able form of a task (for task processes)."""
    return dataclasses.asdict(task)


def task_from_dict(data: dict[str, Any]) -> SurveyTask:
    install = dict(data.get("install", {}))
    install["find_links"] = tuple(install.get("find_links", ()))
    return SurveyTask(**{**data, "install": InstallSpec(**install)})


def result_to_dict(outcome: TaskResult) -> dict[str, Any]:
    return dataclasses.asdict(outcome)


def result_from_dict(data: dict[str, Any]) -> TaskResult:
    names = {f.name for f in dataclasses.fields(TaskResult)}
    return TaskResult(**{key: value for key, value in data.items() if key in names})
