"""Rule selection and per-distribution ignores, from ``[tool.interp-audit]`` in pyproject.toml.

::

    [tool.interp-audit]
    select = ["IA1", "IA3"]          # codes or prefixes; default: every rule ("ALL")
    ignore = ["IA105"]

    [tool.interp-audit.per-distribution-ignores]
    numpy = [{ code = "IA101", reason = "we only use numpy in the main interpreter" }]

A more specific selector wins (``select = ["IA101"]`` with ``ignore = ["IA1"]``
keeps IA101); on equal length ``ignore`` wins.  Every per-distribution ignore
needs a reason.  Bad configuration raises :class:`ConfigError`, which the CLI
shows as a one-line error with exit code 2.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

import click
from packaging.utils import canonicalize_name

from interp_audit.rules import registry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CONFIG_FILE = "pyproject.toml"
TABLE = "[tool.interp-audit]"
ALL = "ALL"


class ConfigError(click.ClickException):
    """Invalid interp-audit configuration (exit code 2 when it reaches click)."""

    exit_code = 2


@dataclass(frozen=True)
class Ignore:
    """One per-distribution ignore: a code or prefix, and why it is acceptable."""

    code: str
    reason: str


@dataclass(frozen=True)
class RuleConfig:
    """Which rules run, and which findings are accepted for which distribution."""

    select: tuple[str, ...] = (ALL,)
    ignore: tuple[str, ...] = ()
    per_distribution_ignores: Mapping[str, tuple[Ignore, ...]] = field(default_factory=dict)
    path: Optional[Path] = None  # the file it was read from, if any

    def is_enabled(self, code: str) -> bool:
        """True when the most specific matching selector is a ``select`` one."""
        selected = _longest_match(self.select, code)
        if selected is None:
            return False
        ignored = _longest_match(self.ignore, code)
        return ignored is None or selected > ignored

    def suppression(self, distribution: str, code: str) -> Optional[str]:
        """The reason a finding of ``code`` is accepted for ``distribution``, or None."""
        if not self.per_distribution_ignores:
            return None
        for entry in self.per_distribution_ignores.get(canonicalize_name(distribution), ()):
            if _matches(entry.code, code):
                return entry.reason
        return None

    def enabled_codes(self) -> list[str]:
        return [code for code in registry.codes() if self.is_enabled(code)]

    def merged(self, select: Optional[Iterable[str]] = None, ignore: Optional[Iterable[str]] = None) -> "RuleConfig":
        """Apply command-line options: ``--select`` replaces the selection, ``--ignore`` extends it."""
        config = self
        if select is not None:
            values = tuple(select)
            if values:
                config = replace(config, select=parse_selectors(values, "--select"))
        if ignore is not None:
            config = replace(config, ignore=config.ignore + parse_selectors(tuple(ignore), "--ignore"))
        return config


def _matches(selector: str, code: str) -> bool:
    return selector == ALL or code.upper().startswith(selector)


def _longest_match(selectors: Iterable[str], code: str) -> Optional[int]:
    lengths = [0 if s == ALL else len(s) for s in selectors if _matches(s, code)]
    return max(lengths) if lengths else None


def check_selector(text: Any, where: str) -> str:
    """A code or prefix in canonical form; :class:`ConfigError` when it matches no rule."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("%s: expected a rule code or prefix such as IA101 or IA1, got %r" % (where, text))
    value = text.strip().upper()
    if value == ALL or any(code.startswith(value) for code in registry.codes()):
        return value
    close = registry.suggest(value)
    hint = " (did you mean %s?)" % ", ".join(close) if close else ""
    raise ConfigError("%s: unknown rule code or prefix %r%s; see 'interp-audit rules'" % (where, text, hint))


def parse_selectors(values: Any, where: str) -> tuple[str, ...]:
    """Validate a list of codes/prefixes; a comma-separated string is split."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)):
        raise ConfigError("%s: expected a list of rule codes, got %r" % (where, values))
    result = []
    for value in values:
        parts = value.split(",") if isinstance(value, str) else [value]
        result.extend(check_selector(part, where) for part in parts if not isinstance(part, str) or part.strip())
    return tuple(result)


def _parse_ignores(table: Any, where: str) -> dict[str, tuple[Ignore, ...]]:
    if not isinstance(table, dict):
        raise ConfigError("%s: expected a table of distribution = [{code, reason}, ...]" % where)
    result: dict[str, tuple[Ignore, ...]] = {}
    for dist, entries in table.items():
        here = "%s.%s" % (where, dist)
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list):
            raise ConfigError('%s: expected a list like [{ code = "IA101", reason = "..." }]' % here)
        parsed = []
        for index, entry in enumerate(entries):
            spot = "%s[%d]" % (here, index)
            if not isinstance(entry, dict):
                raise ConfigError('%s: expected { code = "IA101", reason = "..." }, got %r' % (spot, entry))
            unknown = sorted(set(entry) - {"code", "reason"})
            if unknown:
                raise ConfigError("%s: unknown key(s) %s; only 'code' and 'reason' are allowed" % (spot, ", ".join(unknown)))
            reason = entry.get("reason")
            if not isinstance(reason, str) or not reason.strip():
                raise ConfigError("%s: a reason is required to ignore %s for %s" % (spot, entry.get("code", "a rule"), dist))
            parsed.append(Ignore(check_selector(entry.get("code"), spot), reason.strip()))
        name = canonicalize_name(dist)
        result[name] = result.get(name, ()) + tuple(parsed)
    return result


def config_from_table(table: Any, path: Optional[Path] = None) -> RuleConfig:
    """Build a :class:`RuleConfig` from the ``[tool.interp-audit]`` table; other keys are left to other stages."""
    source = "%s %s" % (path, TABLE) if path else TABLE
    if not isinstance(table, dict):
        raise ConfigError("%s: expected a table" % source)
    config = RuleConfig(path=path)
    if "select" in table:
        config = replace(config, select=parse_selectors(table["select"], "%s select" % source))
    if "ignore" in table:
        config = replace(config, ignore=parse_selectors(table["ignore"], "%s ignore" % source))
    if "per-distribution-ignores" in table:
        where = "%s per-distribution-ignores" % source
        config = replace(config, per_distribution_ignores=_parse_ignores(table["per-distribution-ignores"], where))
    return config


def find_config(directory: Optional[Path] = None) -> Optional[Path]:
    """``pyproject.toml`` in ``directory`` (default: the current one) if it exists."""
    candidate = Path(directory or Path.cwd()) / CONFIG_FILE
    return candidate if candidate.is_file() else None


def read_toml(path: Path) -> dict:
    """The content of a TOML file; :class:`ConfigError` when it cannot be read or parsed."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("%s is not valid TOML: %s" % (path, exc)) from None


def tool_table(data: dict) -> Optional[dict]:
    """The ``[tool.interp-audit]`` table of parsed TOML, or None when it has none."""
    tool = data.get("tool")
    table = tool.get("interp-audit") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else None


def read_table(path: Path) -> Optional[dict]:
    """The ``[tool.interp-audit]`` table of a TOML file, or None when it has none."""
    return tool_table(read_toml(path))


def load_config(path: Optional[Path] = None, directory: Optional[Path] = None) -> RuleConfig:
    """The rule configuration to use.

    ``path`` (``--config``) must exist and hold a ``[tool.interp-audit]`` table.
    Without it, ``pyproject.toml`` in ``directory`` (default: the current
    directory) is read if present; no file or no table means every rule runs.
    """
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError("config file %s does not exist" % path)
        table = read_table(path)
        if table is None:
            raise ConfigError("%s has no %s table" % (path, TABLE))
        return config_from_table(table, path)
    found = find_config(directory)
    if found is None:
        return RuleConfig()
    table = read_table(found)
    return RuleConfig() if table is None else config_from_table(table, found)
