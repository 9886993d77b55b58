"""The plug point for report formats: every format is a :class:`Reporter`.

A reporter turns one (possibly merged) :class:`~interp_audit.model.ScanReport`
into text.  Conflicts found while merging several result files are passed
along so that each format can show them instead of hiding them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

from interp_audit.model import ScanReport
from interp_audit.reports.merge import Conflict


class Reporter(ABC):
    """One output format of ``interp-audit report``."""

    #: The ``--format`` name.
    name: str

    @abstractmethod
    def render(self, report: ScanReport, conflicts: Sequence[Conflict] = ()) -> str:
        """Return the whole document for ``report``."""
