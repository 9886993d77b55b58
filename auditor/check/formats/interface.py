"""The plug point for ``interp-audit check --format``: every format is a :class:`CheckFormatter`."""

from __future__ import annotations

from abc import ABC, abstractmethod

from interp_audit.check.interface import CheckReport


class CheckFormatter(ABC):
    """Renders one :class:`CheckReport` as a whole document."""

    #: The ``--format`` name.
    name: str

    @abstractmethod
    def render(self, report: CheckReport) -> str:
        """The document for ``report``, ending with a newline."""
