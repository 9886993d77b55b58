"""What a scan audits: a source yields the items (distributions or stdlib modules) of one target."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

from interp_audit.model import PythonInfo


@dataclass
class AuditItem:
    """One thing to audit: its import names and extension-module files."""

    name: str
    version: str
    import_names: list[str]
    extensions: list[tuple[str, str]] = field(default_factory=list)  # (dotted module, path)
    summary: str = ""
    fingerprint: str = ""  # changes whenever the installed files change
    problems: list[str] = field(default_factory=list)


class SourceError(Exception):
    """The source cannot be read (e.g. an unknown distribution name was asked for)."""


class AuditSource(abc.ABC):
    """A source of audit items for one target interpreter."""

    scope: str
    _document: dict

    @abc.abstractmethod
    def python(self) -> PythonInfo:
        """The target interpreter, as the inventory saw it."""

    @abc.abstractmethod
    def items(self) -> list[AuditItem]:
        """Everything to audit, sorted by name."""

    def stdlib_names(self) -> frozenset[str]:
        """Top-level names of the target's standard library."""
        return frozenset(self._document.get("stdlib_module_names", ()))

    def watched_extensions(self, item: AuditItem) -> list[str]:
        """Extension modules whose absence in a sub-interpreter means a silent fallback."""
        return [module for module, _ in item.extensions]

    @abc.abstractmethod
    def owner_of(self, module: str) -> str | None:
        """Name of the item that provides the top-level module of ``module``, if any."""
