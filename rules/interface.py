"""What a rule is: a small unit with a stable code that judges scan facts.

A rule never runs probes.  It reads a :class:`~interp_audit.model.DistributionResult`
(runtime ladder results, static :class:`~interp_audit.model.ExtensionInfo`
evidence, smoke results) and yields :class:`~interp_audit.model.Finding` objects.
Its documentation (``interp-audit explain CODE``, ``docs/rules.md``) is generated
from the class attributes, so the text lives next to the check.

To add a rule, write one subclass in a module of this package named
``ia<digits>_<topic>.py``; :mod:`interp_audit.rules.registry` finds it.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Optional

from interp_audit.model import SEVERITIES, DistributionResult, ExtensionInfo, Finding, PythonInfo
from interp_audit.rules import facts

#: Where a rule's facts come from: ``distribution`` (runtime behaviour of the
#: whole distribution), ``extension`` (static evidence about one extension file;
#: the source linter ``interp-audit check`` emits the same codes from C/Cython
#: sources) or ``source`` (only the source linter can see it).
SCOPES = ("distribution", "extension", "source")

CODE_PATTERN = re.compile(r"^IA[1-9][0-9]{2}$")
NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class RuleContext:
    """What a rule may know besides the distribution: the audited interpreter."""

    python: Optional[PythonInfo] = None
    #: Facts worked out once per context: (fact name, id(ext)) -> (ext, value); ext is kept so its id stays unique.
    _derived: dict = field(default_factory=dict, compare=False, repr=False)

    def state_globals(self, ext: ExtensionInfo) -> list[str]:
        """:func:`facts.state_globals` of ``ext``, computed once (several rules ask for it)."""
        key = ("state_globals", id(ext))
        if key not in self._derived:
            self._derived[key] = (ext, facts.state_globals(ext))
        return self._derived[key][1]

    @property
    def version(self) -> Optional[tuple[int, ...]]:
        """``(major, minor, micro)`` of the audited interpreter, or None when unknown."""
        if self.python is None or not self.python.version:
            return None
        parts = re.findall(r"\d+", self.python.version)[:3]
        return tuple(int(p) for p in parts) or None


class _Blank(dict):
    """Format mapping that leaves unknown placeholders visible instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Rule(ABC):
    """One check with a stable code.

    Subclasses set the class attributes and implement :meth:`check`.
    ``message`` is a one-line ``str.format`` template; the placeholders are
    filled from the keyword arguments of :meth:`finding`.
    """

    code: ClassVar[str]
    name: ClassVar[str]  # kebab-case, stable
    severity: ClassVar[str]  # one of model.SEVERITIES
    message: ClassVar[str]
    rationale: ClassVar[str]
    remediation: ClassVar[str]
    references: ClassVar[tuple[str, ...]] = ()
    scope: ClassVar[str] = "extension"

    @abstractmethod
    def check(self, dist: DistributionResult, context: RuleContext) -> Iterable[Finding]:
        """Yield the findings of this rule for one distribution."""

    def format_message(self, **fields: Any) -> str:
        """The message with placeholders filled; unknown ones stay as ``{name}``."""
        return self.message.format_map(_Blank(fields))

    def finding(
        self,
        distribution: Optional[str] = None,
        module: Optional[str] = None,
        detail: Optional[str] = None,
        remediation: Optional[str] = None,
        severity: Optional[str] = None,
        **fields: Any,
    ) -> Finding:
        """Build a :class:`Finding` of this rule.

        ``module`` and ``distribution`` also fill the ``{module}`` and ``{dist}``
        placeholders.  ``remediation`` defaults to the rule's own text and
        ``severity`` to the rule's severity (a rule may lower or raise it for a
        particular finding, e.g. a crash caused by the standard library).
        """
        fields.setdefault("module", module)
        fields.setdefault("dist", distribution)
        return Finding(
            code=self.code,
            severity=severity or self.severity,
            message=self.format_message(**fields),
            distribution=distribution,
            module=module,
            detail=detail,
            remediation=remediation or self.remediation,
        )

    def describe(self) -> dict[str, Any]:
        """Everything a user reads about this rule, as a JSON-able dict."""
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "scope": self.scope,
            "message": self.message,
            "rationale": self.rationale,
            "remediation": self.remediation,
            "references": list(self.references),
        }

    def validate(self) -> None:
        """Raise ValueError when the class attributes break the catalogue's conventions."""
        problems = []
        if not CODE_PATTERN.match(getattr(self, "code", "")):
            problems.append("code must look like IA123")
        if not NAME_PATTERN.match(getattr(self, "name", "")):
            problems.append("name must be kebab-case")
        if getattr(self, "severity", None) not in SEVERITIES:
            problems.append("severity must be one of %s" % ", ".join(SEVERITIES))
        if getattr(self, "scope", None) not in SCOPES:
            problems.append("scope must be one of %s" % ", ".join(SCOPES))
        for attribute in ("message", "rationale", "remediation"):
            text = getattr(self, attribute, "")
            if not isinstance(text, str) or not text.strip():
                problems.append("%s is required" % attribute)
        if "\n" in getattr(self, "message", ""):
            problems.append("message must be one line")
        if problems:
            raise ValueError("%s: %s" % (type(self).__name__, "; ".join(problems)))
