"""The plug point of ``interp-audit check``: one :class:`SourceChecker` per source language.

A checker reads one file and reports :class:`Hit` objects (a rule code at a
place, with a sentence about that place) and the file's comments.  It knows
nothing about severities, catalogue texts, suppressions or configuration: the
runner (:mod:`interp_audit.check.runner`) adds those.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Optional

from interp_audit.model import Finding


@dataclass(frozen=True)
class Location:
    """A span in a source file; lines and columns are 1-based, columns count characters."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass
class Hit:
    """What a checker saw, before the rule catalogue and suppressions are applied."""

    code: str
    location: Location
    detail: str  # one sentence about this place, e.g. "static PyObject *cache at file scope"
    symbol: Optional[str] = None  # the variable, type or function concerned
    #: First line of the statement that holds the hit; a suppression comment on
    #: any line from here to ``location.line`` (or just above) applies.
    statement_line: Optional[int] = None
    module: Optional[str] = None  # extension module name when known (from PyInit_<name>)


@dataclass
class Comment:
    """A source comment, as the suppression parser needs it."""

    line: int
    end_line: int
    text: str
    alone: bool  # no code shares its lines


@dataclass
class FileResult:
    """Everything one checker run found in one file."""

    path: str
    language: str
    lines: int
    hits: list[Hit] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    #: Lines holding no code (blank or only comments): a suppression comment
    #: standing alone applies to the next line that is not one of these.
    noncode_lines: frozenset[int] = frozenset()
    problems: list[str] = field(default_factory=list)  # parse trouble that did not stop the check


@dataclass
class SourceFinding:
    """A catalogued finding at a place in the sources."""

    finding: Finding
    location: Location
    symbol: Optional[str] = None
    justification: Optional[str] = None  # set when a suppression comment silenced it


class SourceChecker(ABC):
    """Finds sub-interpreter blockers in one kind of source file."""

    #: Name used in reports, e.g. ``c``, ``c++``, ``cython``.
    language: str
    #: File name endings this checker reads, with their dots.
    suffixes: tuple[str, ...]
    #: Every rule code this checker can report.
    codes: tuple[str, ...]

    @abstractmethod
    def check(self, source: bytes, path: str) -> FileResult:
        """Check the file contents ``source``; ``path`` is used for locations only."""


@dataclass
class CheckReport:
    """The result of one ``interp-audit check`` run, as the output formats receive it."""

    findings: list[SourceFinding] = field(default_factory=list)
    suppressed: list[SourceFinding] = field(default_factory=list)  # silenced by comments
    files: list[str] = field(default_factory=list)  # checked, in order
    lines: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, message): could not be checked
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (path, message): checked, with parse trouble
    config_path: Optional[str] = None  # the pyproject.toml whose [tool.interp-audit] applied
    codes: list[str] = field(default_factory=list)  # the enabled rule codes the checkers can report
