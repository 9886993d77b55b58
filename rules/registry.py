"""The rule catalogue: every :class:`Rule` subclass in the ``ia*`` modules of this package.

Adding a rule means adding a class to an ``ia<digits>_<topic>.py`` module (or
a new such module); nothing here needs editing.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import os
import pkgutil
from typing import TYPE_CHECKING, Iterable, Optional

from interp_audit.model import SEVERITIES, DistributionResult, Finding, PythonInfo, ScanReport
from interp_audit.rules.interface import Rule, RuleContext

if TYPE_CHECKING:
    from interp_audit.rules.config import RuleConfig

RULE_MODULE_PREFIX = "ia"


class UnknownRule(LookupError):
    """No rule has this code; ``suggestions`` holds close codes or names."""

    def __init__(self, code: str, suggestions: list[str]):
        self.code = code
        self.suggestions = suggestions
        hint = " (did you mean %s?)" % ", ".join(suggestions) if suggestions else ""
        super().__init__("unknown rule %r%s" % (code, hint))


def _rule_classes() -> Iterable[type[Rule]]:
    package = importlib.import_module(__package__)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.name.startswith(RULE_MODULE_PREFIX):
            continue
        module = importlib.import_module("%s.%s" % (__package__, info.name))
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Rule)
                and cls.__module__ == module.__name__
                and not inspect.isabstract(cls)
                and getattr(cls, "code", None)
            ):
                yield cls


@functools.lru_cache(maxsize=1)
def _catalogue() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    names: dict[str, str] = {}
    for cls in _rule_classes():
        rule = cls()
        rule.validate()
        if rule.code in rules:
            raise ValueError("duplicate rule code %s (%s and %s)" % (rule.code, type(rules[rule.code]).__name__, cls.__name__))
        if rule.name in names:
            raise ValueError("duplicate rule name %s (%s and %s)" % (rule.name, names[rule.name], rule.code))
        rules[rule.code] = rule
        names[rule.name] = rule.code
    return dict(sorted(rules.items()))


def all_rules() -> list[Rule]:
    """Every rule, sorted by code."""
    return list(_catalogue().values())


def codes() -> list[str]:
    return list(_catalogue())


def get(code: str) -> Rule:
    """The rule with this code (case-insensitive) or kebab-case name; :class:`UnknownRule` otherwise."""
    wanted = code.strip()
    catalogue = _catalogue()
    rule = catalogue.get(wanted.upper())
    if rule is not None:
        return rule
    for rule in catalogue.values():
        if rule.name == wanted.lower():
            return rule
    raise UnknownRule(code, suggest(code))


def suggest(text: str, limit: int = 3) -> list[str]:
    """Codes of rules whose code or name is close to ``text``, closest first."""
    catalogue = _catalogue()
    wanted = text.strip()
    found = [rule.code for rule in catalogue.values() if wanted and wanted.lower() in rule.name.split("-")]
    scored = []
    for rule in catalogue.values():
        for candidate, typed in ((rule.code, wanted.upper()), (rule.name, wanted.lower())):
            ratio = difflib.SequenceMatcher(None, typed, candidate).ratio()
            if ratio >= 0.6:
                prefix = len(os.path.commonprefix([typed, candidate]))
                scored.append((-ratio, -prefix, rule.code))
    found += [code for _, _, code in sorted(scored)]
    return list(dict.fromkeys(found))[:limit]


def sort_key(finding: Finding) -> tuple:
    """Most severe first, then by code, distribution and module."""
    rank = SEVERITIES.index(finding.severity) if finding.severity in SEVERITIES else -1
    return (-rank, finding.code, finding.distribution or "", finding.module or "", finding.message)


def evaluate(
    dist: DistributionResult,
    config: Optional[RuleConfig] = None,
    python: Optional[PythonInfo] = None,
) -> list[Finding]:
    """Run every enabled rule on one distribution; findings sorted, suppressed ones dropped.

    ``config`` (a :class:`~interp_audit.rules.config.RuleConfig`) selects rules
    and carries per-distribution ignores; None enables every rule.  ``python``
    is the audited interpreter, used by rules that depend on its version.
    """
    context = RuleContext(python=python)
    findings: list[Finding] = []
    for rule in all_rules():
        if config is not None and not config.is_enabled(rule.code):
            continue
        for finding in rule.check(dist, context):
            if config is None or config.suppression(dist.name, finding.code) is None:
                findings.append(finding)
    return sorted(findings, key=sort_key)


def apply(report: ScanReport, config: Optional[RuleConfig] = None) -> None:
    """Set ``findings`` of every distribution of a report from the rules."""
    for run in report.interpreters:
        for dist in run.distributions:
            dist.findings = evaluate(dist, config, run.python)
