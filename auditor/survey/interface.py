"""Executors: where survey tasks run (this machine's processes, or a Dask cluster)."""

from __future__ import annotations

import abc
from typing import Iterator, Sequence

from interp_audit.survey.task import SurveyTask, TaskResult


class ExecutorError(Exception):
    """The executor cannot start (missing extra, unreachable scheduler); the message says what to do."""


class Executor(abc.ABC):
    """Runs survey tasks and hands back each outcome as soon as it is finished."""

    name: str

    @abc.abstractmethod
    def run(self, tasks: Sequence[SurveyTask]) -> Iterator[TaskResult]:
        """Run every task once, yielding outcomes in completion order.

        A task whose process or worker died is retried a bounded number of
        times; one that keeps dying comes back with status ``worker-lost``.
        ``TaskResult.attempts`` says how many tries it took.
        """

    def close(self) -> None:
        """Release workers, clients and clusters."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def lost(task: SurveyTask, attempts: int, message: str) -> TaskResult:
    """The outcome of a task that kept killing the process or worker running it."""
    return TaskResult(project=task.project, python=task.python, status="worker-lost", attempts=attempts,
                      message=message)


def failed(task: SurveyTask, message: str, attempts: int = 1) -> TaskResult:
    """The outcome of a task that raised instead of returning (a bug, or a worker-side import error)."""
    return TaskResult(project=task.project, python=task.python, status="error", attempts=attempts, message=message)
