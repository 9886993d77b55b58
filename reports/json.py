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
import typing
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from interp_audit.model import (MODES, SCHEMA_VERSION, DistributionResult, InterpreterRun, ScanReport, SmokeReport,
                                from_dict, to_dict)
from interp_audit.reports.interface import Reporter
from interp_audit.reports.merge import Conflict

SCHEMA_PATH = Path(__file__).with_name("schema") / "scan-result.schema.json"

#: The oldest ``schema_version`` this version reads.  1 is 2 without the documented ``smoke`` structure.
OLDEST_READABLE = 1

#: Top-level keys first, in this order, so a reader sees the version before the data.
_HEAD = ("schema_version", "tool_version", "generated_at")


class ResultsError(Exception):
    """A result file that cannot be used; ``str()`` is a one-line message naming the file."""


_MODE_NAMES = frozenset(MODES)
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_ENCODE_SORTED = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


def _ordered_keys(value: dict) -> list:
    """Mode dicts in ladder order, other dicts sorted."""
    if value and value.keys() <= _MODE_NAMES:
        return sorted(value, key=MODES.index)
    return sorted(value, key=str)


#: What the encoder writes for the commonest scalars, without its per-call overhead.
_SCALARS: dict[type, Callable[[Any], str]] = {
    str: json.encoder.encode_basestring, bool: lambda value: "true" if value else "false",
    int: int.__repr__, type(None): lambda value: "null",
}


def _free_form(value: Any) -> str:
    """Untyped data (``dict[str, Any]``, scalars): the C encoder with sorted keys."""
    scalar = _SCALARS.get(type(value))
    if scalar is not None:
        return scalar(value)
    try:
        return _ENCODE_SORTED(value)
    except TypeError:  # a dataclass inside free-form data
        return _ENCODE_SORTED(to_dict(value))


@functools.lru_cache(maxsize=None)
def _field_writers(cls: type) -> tuple[tuple[str, str, Callable[[Any], str]], ...]:
    """(name, ``"name": `` prefix, writer) for each field of dataclass ``cls``, in declaration order."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, _ENCODE(f.name) + ": ", _none_as(f, _writer(hints[f.name]))) for f in dataclasses.fields(cls))


def _none_as(f: dataclasses.Field, write: Callable[[Any], str]) -> Callable[[Any], str]:
    """``write``, writing None as the field's ``json_none`` value (``{}`` for no smoke run) like ``to_dict``."""
    if "json_none" not in f.metadata:
        return write
    empty = _ENCODE(f.metadata["json_none"])
    return lambda value: empty if value is None else write(value)


@functools.lru_cache(maxsize=None)
def _writer(cls: Any) -> Callable[[Any], str]:
    """A function writing a value of type ``cls`` as one line of JSON with a stable key order:
    dataclass fields in declaration order, mode dicts in ladder order, other dicts sorted.
    Made once per type from the type hints; untyped parts go to the C encoder whole."""
    origin, args = typing.get_origin(cls), typing.get_args(cls)
    if origin is typing.Union:
        inner = _writer(next(a for a in args if a is not type(None)))
        return lambda value: "null" if value is None else inner(value)
    if origin in (list, dict):
        item = _writer(args[-1])  # the items' (or values') type
        if item is _free_form:
            return _free_form
        if origin is list:
            return lambda value: "[%s]" % ", ".join(map(item, value))
        return lambda value: "{%s}" % ", ".join("%s: %s" % (_ENCODE(k), item(value[k])) for k in _ordered_keys(value))
    if cls is SmokeReport:  # optional keys left out, sorted like the free-form dict it was up to schema 3
        return lambda value: _ENCODE_SORTED(to_dict(value))
    if dataclasses.is_dataclass(cls):
        def write(value: Any) -> str:
            if not isinstance(value, cls):
                return _free_form(value)
            return "{%s}" % ", ".join(prefix + item(getattr(value, name)) for name, prefix, item in _field_writers(cls))
        return write
    return _free_form


def dumps(report: ScanReport) -> str:
    """The report as JSON text: the envelope indented by 2, one distribution per line.

    One line per distribution keeps diffs between runs readable and lets the C
    encoder do most of the work (an indented dump of a large environment takes seconds).
    Stable key order (``schema_version`` first), UTF-8 kept readable, newline at the end.
    """
    envelope = sorted(_field_writers(ScanReport), key=lambda f: _HEAD.index(f[0]) if f[0] in _HEAD else len(_HEAD))
    lines = []
    for name, prefix, item in envelope:
        if name != "interpreters":
            lines.append("  " + prefix + item(getattr(report, name)))
            continue
        runs = []
        for run in report.interpreters:
            fields = ["      " + p + w(getattr(run, n)) for n, p, w in _field_writers(InterpreterRun) if n != "distributions"]
            rows = ",\n".join("        " + _writer(DistributionResult)(d) for d in run.distributions)
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
    if version == 1:
        _drop_free_form_smoke(data)
    try:
        report = from_dict(ScanReport, data)
        _check_shape(report)
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        raise ResultsError(f"{source}: does not match the result schema ({exc})") from None
    report.schema_version = SCHEMA_VERSION  # version 1 -> 2: same layout, `smoke` not yet documented
    return report


def _drop_free_form_smoke(data: dict) -> None:
    """Schema 1 left ``smoke`` free-form: an object that is no smoke report (no ``mode``) means none ran."""
    for run in data["interpreters"] if isinstance(data["interpreters"], list) else ():
        for result in run.get("distributions", ()) if isinstance(run, dict) else ():
            if isinstance(result, dict) and isinstance(result.get("smoke"), dict) and "mode" not in result["smoke"]:
                result["smoke"] = {}


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
