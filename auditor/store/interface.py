"""The result store: finished results by cache key, and a record of every run."""

from __future__ import annotations

import abc
from typing import Optional

from interp_audit.model import DistributionResult, PythonInfo


class ResultStore(abc.ABC):
    """Keeps distribution results so unchanged environments are not re-run,
    and records each run (date, tool version, Python, what it saw) for history."""

    @abc.abstractmethod
    def get(self, key: str) -> Optional[DistributionResult]:
        """The stored result for ``key``, or None."""

    @abc.abstractmethod
    def put(self, key: str, python: PythonInfo, result: DistributionResult) -> None:
        """Store ``result`` under ``key`` (committed at once, so a killed scan keeps it)."""

    @abc.abstractmethod
    def begin_run(self, python: PythonInfo, scope: str, tool_version: str) -> int:
        """Record the start of a run; returns its id."""

    @abc.abstractmethod
    def record(self, run_id: int, key: str, result: DistributionResult) -> None:
        """Note that run ``run_id`` saw ``result`` (stored under ``key``)."""

    @abc.abstractmethod
    def finish_run(self, run_id: int) -> None:
        """Mark a run as finished."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the store."""
