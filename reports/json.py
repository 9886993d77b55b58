"""The JSON result format: write a :class:`ScanReport`, read result files back.

The format is ``model.to_dict`` output, described by
``schema/scan-result.schema.json`` and ``docs/json-schema.md``.  Files of every
``schema_version`` from :data:`OLDEST_READABLE` to the current one are read
(older layouts upgraded in memory); newer ones are refused.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any, Iterable, Sequence

from interp_audit.model import MODES, SCHEMA_VERSION, ScanReport, from_dict
from interp_audit.reports.interface import Reporter
from interp_audit.reports.merge import Conflict

SCHEMA_PATH = Path(__file__).with_name("schema") / "scan-result.schema.json"

#: The oldest ``schema_version`` this version reads.  1 is 2 without the documented ``smoke`` structure.
OLDEST_READABLE = 1

#: Top-level keys first, in this order, so a reader sees the version before the data.
_HEAD = ("schema_version", "tool_version", "generated_at")


class ResultsError(Exception):
    """A result file that cannot be used; ``str()`` is a one-line message naming the file."""


@functools.lru_cache(maxsize=None)
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


_MODE_NAMES = frozenset(MODES)
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _stable(value: Any) -> Any:
    """JSON-able copy with a stable key order: dataclass field order, mode dicts in ladder order, other dicts sorted."""
    if type(value) in _SCALARS:  # most values: checked first
        return value
    if hasattr(type(value), "__dataclass_fields__"):
        return {name: _stable(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, dict):
        if value and value.keys() <= _MODE_NAMES:
            keys = sorted(value, key=MODES.index)
        else:
            keys = sorted(value, key=str)
        return {key: _stable(value[key]) for key in keys}
    if isinstance(value, (list, tuple)):
        return [_stable(v) for v in value]
    return value


def to_json_dict(report: ScanReport) -> dict[str, Any]:
    """``to_dict(report)`` with a stable key order (schema_version first)."""
    data = _stable(report)
    return {**{key: data[key] for key in _HEAD}, **{k: v for k, v in data.items() if k not in _HEAD}}


def _one_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def dumps(report: ScanReport) -> str:
    """The report as JSON text: the envelope indented by 2, one distribution per line.

    One line per distribution keeps diffs between runs readable and lets the C
    encoder do the work (an indented dump of a large environment takes seconds).
    Stable key order, UTF-8 kept readable, newline at the end.
    """
    lines = []
    for key, value in to_json_dict(report).items():
        if key != "interpreters":
            lines.append("  %s: %s" % (_one_line(key), _one_line(value)))
            continue
        runs = []
        for run in value:
            fields = ["      %s: %s" % (_one_line(k), _one_line(v)) for k, v in run.items() if k != "distributions"]
            rows = ",\n".join("        " + _one_line(d) for d in run.get("distributions", []))
            fields.append('      "distributions": [\n%s\n      ]' % rows if rows else '      "distributions": []')
            runs.append("    {\n%s\n    }" % ",\n".join(fields))
        lines.append('  "interpreters": [\n%s\n  ]' % ",\n".join(runs) if runs else '  "interpreters": []')
    return "{\n%s\n}\n" % ",\n".join(lines)


def loads(text: str, source: str = "<string>") -> ScanReport:
    """Parse one result document; raise :class:`ResultsError` if it is not one this version reads."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{source}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(data, dict) or "schema_version" not in data or "interpreters" not in data:
        raise ResultsError(f"{source}: not an interp-audit result file (no schema_version / interpreters)")
    version = data["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise ResultsError(f"{source}: schema_version must be an integer, got {version!r}")
    readable = f"this version reads schema_version {OLDEST_READABLE} to {SCHEMA_VERSION}"
    if version > SCHEMA_VERSION:
        raise ResultsError(f"{source}: schema_version {version} was written by a newer interp-audit; {readable}")
    if version < OLDEST_READABLE:
        raise ResultsError(f"{source}: schema_version {version} is not one interp-audit ever wrote; {readable}")
    try:
        report = from_dict(ScanReport, data)
        _check_shape(report)
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        raise ResultsError(f"{source}: does not match the result schema ({exc})") from None
    report.schema_version = SCHEMA_VERSION  # version 1 -> 2: same layout, `smoke` not yet documented
    return report


def _check_shape(report: ScanReport) -> None:
    """Fail early on the structural mistakes from_dict lets through (lists of the wrong things)."""
    if not isinstance(report.interpreters, list):
        raise TypeError("interpreters must be a list")
    for run in report.interpreters:
        if not isinstance(run.python.version, str):
            raise TypeError("python.version must be a string")
        for result in run.distributions:
            if not isinstance(result.name, str) or not isinstance(result.version, str):
                raise TypeError("distribution name and version must be strings")
            if not isinstance(result.modes, dict):
                raise TypeError(f"{result.name}: modes must be an object")
            if not isinstance(result.smoke, dict):
                raise TypeError(f"{result.name}: smoke must be an object")


def load(path: str | Path) -> ScanReport:
    """Read one result file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: not UTF-8 text, so not a result file") from None
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return loads(text, str(path))


def result_files(paths: Iterable[str | Path]) -> list[Path]:
    """``paths`` with every directory replaced by the ``*.json`` files directly in it, sorted by name."""
    files: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            files.append(path)
            continue
        found = sorted(path.glob("*.json"))
        if not found:
            raise ResultsError(f"{path}: a directory with no *.json result files in it")
        files += found
    return files


def load_results(paths: str | Path | Iterable[str | Path]) -> list[ScanReport]:
    """Read one or many result files, in order; the first bad one raises :class:`ResultsError`."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    return [load(path) for path in paths]


class JsonReporter(Reporter):
    name = "json"

    def render(self, report: ScanReport, conflicts: Sequence[Conflict] = ()) -> str:
        return dumps(report)
