"""The local executor: a pool of worker slots on this machine, each task in a fresh process.

Every task runs as ``python -m interp_audit.survey.child`` (task in on stdin,
outcome out on stdout), so a task whose process dies is known exactly and is
retried alone, up to ``max_attempts`` tries, without disturbing the others.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Iterator, Sequence

from interp_audit.runtime.worker import signal_name
from interp_audit.survey.interface import Executor, lost
from interp_audit.survey.task import SurveyTask, TaskResult, task_to_dict, result_from_dict


def _describe_death(returncode: int, stderr: str) -> str:
    killer = signal_name(returncode)
    if killer:
        return f"the task process was killed by {killer}"
    tail = stderr.strip().splitlines()[-1:] or [f"exit status {returncode}"]
    return f"the task process died: {tail[0]}"


class LocalExecutor(Executor):
    name = "local"

    def __init__(self, jobs: int, max_attempts: int = 3) -> None:
        self.jobs = max(1, jobs)
        self.max_attempts = max(1, max_attempts)

    def _attempt(self, task: SurveyTask) -> tuple[TaskResult | None, str]:
        completed = subprocess.run(
            [sys.executable, "-m", "interp_audit.survey.child"], input=json.dumps(task_to_dict(task)),
            capture_output=True, text=True,
        )
        if completed.returncode == 0:
            try:
                return result_from_dict(json.loads(completed.stdout)), ""
            except (ValueError, KeyError, TypeError):
                pass
        return None, _describe_death(completed.returncode, completed.stderr)

    def _run_one(self, task: SurveyTask) -> TaskResult:
        why = ""
        for attempt in range(1, self.max_attempts + 1):
            outcome, why = self._attempt(task)
            if outcome is not None:
                outcome.attempts = attempt
                return outcome
        return lost(task, self.max_attempts, f"{why} ({self.max_attempts} tries)")

    def run(self, tasks: Sequence[SurveyTask]) -> Iterator[TaskResult]:
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            futures = [pool.submit(self._run_one, task) for task in tasks]
            try:
                for future in as_completed(futures):
                    yield future.result()
            finally:
                for future in futures:
                    future.cancel()
