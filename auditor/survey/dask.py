"""The Dask executor: one task per (project, Python) on a ``dask.distributed`` cluster.

Connects to an existing scheduler (``--scheduler`` or ``DASK_SCHEDULER_ADDRESS``),
or starts a ``LocalCluster`` of worker processes on this machine when none is
given.  Workers need interp-audit installed (they import
:func:`~interp_audit.survey.task.run_task`) and the target Pythons.

A task whose worker dies is put back by the scheduler and run elsewhere;
the scheduler's ``distributed.scheduler.allowed-failures`` bounds how often
(``max_attempts - 1`` for a cluster started here).  Past that the task
errs with ``KilledWorker`` and is recorded as ``worker-lost``.  How many
tries a finished task took is read from the scheduler (its ``suspicious``
count).  Tasks that raise (not expected: run_task catches its failures) are
retried ``retries`` times by Dask itself.
"""

from __future__ import annotations

import os
import uuid
from typing import Any, Iterator, Optional, Sequence

from interp_audit.survey.interface import Executor, ExecutorError, failed, lost
from interp_audit.survey.task import SurveyTask, TaskResult, run_task

INSTALL_HINT = "the dask executor needs dask.distributed: pip install 'interp-audit[dask]'"
ADDRESS_VARIABLE = "DASK_SCHEDULER_ADDRESS"


class DaskExecutor(Executor):
    name = "dask"

    def __init__(self, address: Optional[str] = None, workers: int = 2, max_attempts: int = 3,
                 retries: int = 1) -> None:
        try:
            import dask
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ExecutorError(INSTALL_HINT) from None
        self.retries = retries
        self.cluster = None
        address = address or os.environ.get(ADDRESS_VARIABLE)
        try:
            if address:
                self.client = Client(address, timeout="30s")
            else:
                with dask.config.set({"distributed.scheduler.allowed-failures": max(0, max_attempts - 1)}):
                    self.cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                                dashboard_address=None)
                self.client = Client(self.cluster)
        except (OSError, TimeoutError) as exc:
            if self.cluster is not None:
                self.cluster.close()
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        self.address = self.client.scheduler.address

    def _tries(self, key: str) -> int:
        """How many workers the task has been on (1 + worker deaths), asked of the scheduler."""

        def tries_on_scheduler(dask_scheduler: Any = None) -> int:  # nested: pickled by value, so the
            state = dask_scheduler.tasks.get(key)                    # scheduler needs no interp-audit
            return 1 + (state.suspicious if state is not None else 0)

        try:
            return int(self.client.run_on_scheduler(tries_on_scheduler))
        except Exception:  # a scheduler that refuses run_on_scheduler: the count is unknown, not an error
            return 1

    def run(self, tasks: Sequence[SurveyTask]) -> Iterator[TaskResult]:
        from dask.distributed import KilledWorker, as_completed

        batch = uuid.uuid4().hex[:8]
        futures = {}
        for task in tasks:
            key = f"interp-audit-survey-{batch}-{task.key}"
            futures[self.client.submit(run_task, task, key=key, pure=False, retries=self.retries)] = task
        try:
            for future in as_completed(list(futures)):
                task = futures.pop(future)
                try:
                    outcome = future.result()
                except KilledWorker as exc:
                    outcome = lost(task, exc.allowed_failures + 1,
                                   f"its worker died {exc.allowed_failures + 1} times (last: {exc.last_worker.address})")
                except Exception as exc:  # the task raised: recorded, the survey goes on
                    outcome = failed(task, f"{type(exc).__name__}: {exc}", attempts=self.retries + 1)
                else:
                    outcome.attempts = self._tries(future.key)
                future.release()
                yield outcome
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
