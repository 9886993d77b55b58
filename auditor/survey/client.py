"""The survey client: plan the tasks, resume a killed survey, store outcomes as they arrive.

Every outcome is written at once, in this order: results into the store
(content-addressed, so nothing is ever overwritten and a repeat is not
duplicated), the run's record of them, the per-project JSON file in the
output directory, and last the task's "done" mark.  A client killed anywhere
in between redoes at most the tasks that had no "done" mark, and redoing one
adds nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional, Sequence

from interp_audit import __version__
from interp_audit.model import DistributionResult, InterpreterRun, PythonInfo, ScanReport
from interp_audit.reports.json import dumps
from interp_audit.reports.merge import outcome as result_outcome
from interp_audit.store.sqlite import SQLiteStore
from interp_audit.survey.interface import Executor
from interp_audit.survey.shard import normalize
from interp_audit.survey.task import SurveyTask, TaskResult, python_of, result_rows
from interp_audit.verdict import known_problems

STORE_NAME = "survey.sqlite3"

#: progress(event, detail): ("total", n) once, then ("resumed", TaskResult-like dict) for each task
#: finished by an earlier client, and ("done", TaskResult) for each task finished now.
SurveyProgress = Callable[[str, object], None]


@dataclass
class SurveySummary:
    survey_id: int
    resumed: int  # tasks an earlier, interrupted client had finished
    statuses: dict[str, int] = field(default_factory=dict)  # task status -> count, over all tasks
    retries: int = 0  # extra tries after a lost process or worker, in this client
    failures: list[TaskResult] = field(default_factory=list)  # tasks without a verdict, in this client


def digest(tasks: Sequence[SurveyTask]) -> str:
    """What identifies "the same survey" for resuming: the tasks and how they install and scan."""
    material = sorted(json.dumps([t.key, t.installer, t.install.allow_sdist, list(t.install.find_links),
                                  t.install.index_url, t.install.no_index, t.smoke, t.probe_timeout])
                      for t in tasks)
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()


def result_key(python: PythonInfo, result: DistributionResult, tool_version: str) -> str:
    """Store key of a survey result: where, what, which tool, and the outcome itself (content-addressed)."""
    material = ["survey", python.implementation, python.version, python.sysconfig_platform,
                normalize(result.name), result.version, tool_version, result_outcome(result), result.problems]
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def python_label(python: PythonInfo) -> str:
    """``cpython-3.13``: the part of a result file name that says which interpreter."""
    minor = ".".join(python.version.split(".")[:2])
    return f"{python.implementation or 'python'}-{minor}"


def result_path(out_dir: Path, project: str, python: PythonInfo) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", normalize(project)).strip("-") or "project"
    return out_dir / f"{slug}.{python_label(python)}.json"


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


class SurveyClient:
    """Runs one survey into a store and an output directory."""

    def __init__(self, store: SQLiteStore, out_dir: Path, pythons: dict[str, Optional[PythonInfo]]) -> None:
        self.store = store
        self.out_dir = out_dir
        self.pythons = dict(pythons)  # --python value -> what it is (None until a task reports it)

    def _python(self, outcome: TaskResult) -> PythonInfo:
        python = python_of(outcome) or self.pythons.get(outcome.python)
        if python is None:  # no task has reached this interpreter and the client could not resolve it
            python = PythonInfo(version=outcome.python, implementation="cpython", executable=outcome.python)
        self.pythons[outcome.python] = python
        return python

    def record(self, survey_id: int, outcome: TaskResult) -> None:
        """Store one finished task (see the module docstring for the order)."""
        python = self._python(outcome)
        run_id = self.store.survey_run(survey_id, outcome.python, python, outcome.tool_version)
        rows = result_rows(outcome)
        for row in rows:
            key = result_key(python, row, outcome.tool_version)
            if self.store.get(key) is None:
                self.store.put(key, python, row)
            self.store.record(run_id, [(key, row)])
        report = ScanReport(
            interpreters=[InterpreterRun(python=python, distributions=rows, known_problems=known_problems(rows))],
            tool_version=outcome.tool_version,
            generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        self.out_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(result_path(self.out_dir, outcome.project, python), dumps(report))
        self.store.record_task(survey_id, outcome.key, outcome.project, outcome.python, outcome.status,
                               outcome.attempts, outcome.seconds)

    def run(self, tasks: Sequence[SurveyTask], executor: Executor, fresh: bool = False,
            description: Optional[dict] = None, progress: Optional[SurveyProgress] = None) -> SurveySummary:
        """Run (or resume) the survey of ``tasks`` on ``executor``."""
        key = digest(tasks)
        survey_id = None if fresh else self.store.unfinished_survey(key)
        if survey_id is None:
            survey_id = self.store.begin_survey(key, description or {}, __version__)
        done = self.store.survey_tasks(survey_id)
        summary = SurveySummary(survey_id=survey_id, resumed=sum(1 for t in tasks if t.key in done))
        for task in tasks:
            if task.key in done:
                summary.statuses[done[task.key]["status"]] = summary.statuses.get(done[task.key]["status"], 0) + 1
        if progress:
            progress("total", len(tasks))
            for task in tasks:
                if task.key in done:
                    progress("resumed", done[task.key])
        for outcome in executor.run([t for t in tasks if t.key not in done]):
            self.record(survey_id, outcome)
            summary.statuses[outcome.status] = summary.statuses.get(outcome.status, 0) + 1
            summary.retries += outcome.attempts - 1
            if outcome.status != "scanned":
                summary.failures.append(outcome)
            if progress:
                progress("done", outcome)
        self.store.finish_survey(survey_id)
        return summary
