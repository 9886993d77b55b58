"""The result store: finished results by cache key, and a record of every run."""

from __future__ import annotations

import abc
from typing import Iterable, Optional

from interp_audit.model import DistributionResult, Finding, PythonInfo


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
    def get_findings(self, key: str, rules: str) -> Optional[list[Finding]]:
        """The findings the rules configuration ``rules`` (a digest) gave for the result under ``key``, or None."""

    @abc.abstractmethod
    def put_findings(self, rules: str, findings: Iterable[tuple[str, list[Finding]]]) -> None:
        """Keep each result key's findings under the rules digest ``rules`` (one transaction)."""

    @abc.abstractmethod
    def get_inventory(self, python: str, scope: str, fingerprint: str) -> Optional[dict]:
        """The inventory document of ``python`` for ``scope``, if stored under this ``fingerprint``."""

    @abc.abstractmethod
    def put_inventory(self, python: str, scope: str, fingerprint: str, document: dict) -> None:
        """Keep ``document`` as the inventory of ``python`` for ``scope`` (replacing an older one)."""

    @abc.abstractmethod
    def begin_run(self, python: PythonInfo, scope: str, tool_version: str) -> int:
        """Record the start of a run; returns its id."""

    @abc.abstractmethod
    def record(self, run_id: int, results: Iterable[tuple[str, DistributionResult]]) -> None:
        """Note that run ``run_id`` saw these results, each stored under its key (one transaction)."""

    @abc.abstractmethod
    def finish_run(self, run_id: int) -> None:
        """Mark a run as finished."""

    @abc.abstractmethod
    def latest(self, distribution: str) -> list[tuple[PythonInfo, DistributionResult]]:
        """The newest result of ``distribution`` (any spelling) per interpreter, with its newest findings."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the store."""
