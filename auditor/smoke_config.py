"""Smoke snippets: the curated set shipped with the rules, and the user's own.

A snippet is a few lines of Python run in a fresh sub-interpreter.  It passes
when it raises nothing; when it binds ``result``, that value's ``repr`` is
compared between interpreters (parallel and re-import checks) and the object
itself is sent to another interpreter (cross-interpreter check).

Snippets are keyed by the distribution name or an import name they apply to.
The same TOML layout serves the curated file, ``--smoke FILE.toml`` and
``pyproject.toml``::

    [tool.interp-audit.smoke]            # (a --smoke TOML file may also omit this header)
    ia_clean = "import ia_clean; assert ia_clean.add(1, 2) == 3"   # one snippet
    numpy = ["import numpy; result = int(numpy.arange(4).sum())"]  # several

    [tool.interp-audit.smoke.ia-fixture-cglobal]                    # named snippets
    state = '''
    import ia_cglobal
    result = ia_cglobal.get_value()
    ia_cglobal.set_value(42)
    '''

``--smoke FILE.py`` is one snippet for the distribution or import name given by
the file's stem (``ia_clean.py`` applies to ``ia_clean``); ``--smoke DIR`` reads
every ``*.py`` and ``*.toml`` in it.  Bad input raises :class:`ConfigError`
(a click exception with exit code 2).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Optional

from packaging.utils import canonicalize_name

from interp_audit.rules.config import ConfigError, read_toml, tomllib, tool_table

CURATED_PACKAGE = "interp_audit.rules"
CURATED_FILE = "data/smoke_snippets.toml"
PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class Snippet:
    """One smoke snippet: its name, its code, and where it came from."""

    name: str
    code: str
    source: str = "user"  # "curated", or the file it was read from
    applies_to: str = ""  # the distribution or import name it was keyed by


#: Snippets by key (a distribution or import name, as written).
SnippetTable = dict[str, list[Snippet]]


def _snippet_list(key: str, value: Any, source: str) -> list[Snippet]:
    where = "%s: smoke snippets for %r" % (source, key)
    if isinstance(value, str):
        return [Snippet(key, value, source, key)]
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise ConfigError("%s: expected a list of code strings" % where)
        if len(value) == 1:
            return [Snippet(key, value[0], source, key)]
        return [Snippet("%s-%d" % (key, i + 1), code, source, key) for i, code in enumerate(value)]
    if isinstance(value, dict):
        bad = [name for name, code in value.items() if not isinstance(code, str)]
        if bad:
            raise ConfigError("%s: snippet %r must be a code string" % (where, bad[0]))
        return [Snippet(name, code, source, key) for name, code in value.items()]
    raise ConfigError("%s: expected a code string, a list of them, or a table name = code" % where)


def parse_table(table: Any, source: str) -> SnippetTable:
    """Snippets from a ``{key: code | [code] | {name: code}}`` table; every code must compile."""
    if not isinstance(table, dict):
        raise ConfigError("%s: the smoke table must map a distribution or import name to snippets" % source)
    result: SnippetTable = {}
    for key, value in table.items():
        snippets = _snippet_list(key, value, source)
        for snippet in snippets:
            try:
                compile(snippet.code, "<smoke snippet %s>" % snippet.name, "exec")
            except SyntaxError as exc:
                raise ConfigError("%s: snippet %r is not valid Python: %s (line %s)"
                                       % (source, snippet.name, exc.msg, exc.lineno)) from None
        result.setdefault(key, []).extend(snippets)
    return result


def _smoke_table(data: dict) -> Optional[Any]:
    section = tool_table(data)
    return section.get("smoke") if section is not None else None


def load_pyproject(path: Path) -> SnippetTable:
    """The ``[tool.interp-audit.smoke]`` snippets of a pyproject.toml (empty without the table)."""
    table = _smoke_table(read_toml(Path(path)))
    return {} if table is None else parse_table(table, str(path))


def load_file(path: Path) -> SnippetTable:
    """Snippets from ``--smoke PATH``: a TOML file, a ``.py`` snippet, or a directory of them."""
    path = Path(path)
    if path.is_dir():
        result: SnippetTable = {}
        for child in sorted(path.iterdir()):
            if child.suffix in (".py", ".toml") and child.is_file():
                for key, snippets in load_file(child).items():
                    result.setdefault(key, []).extend(snippets)
        return result
    if not path.is_file():
        raise ConfigError("smoke file %s does not exist" % path)
    if path.suffix == ".py":
        try:
            code = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError("cannot read %s: %s" % (path, exc)) from None
        return parse_table({path.stem: code}, str(path))
    if path.suffix != ".toml":
        raise ConfigError("smoke file %s: expected a .toml or .py file, or a directory" % path)
    data = read_toml(path)
    table = _smoke_table(data)
    return parse_table(data if table is None else table, str(path))


@functools.lru_cache(maxsize=1)
def load_curated() -> SnippetTable:
    """The curated snippets shipped in ``interp_audit/rules/data/smoke_snippets.toml``.

    Read and compiled once per process; callers must not change the table.
    """
    text = resources.files(CURATED_PACKAGE).joinpath(CURATED_FILE).read_text(encoding="utf-8")
    return parse_table(tomllib.loads(text), "curated")


def load_user_snippets(paths: Iterable[Path] = (), project_dir: Optional[Path] = None) -> SnippetTable:
    """The user's snippets: ``pyproject.toml`` in ``project_dir`` (when given and present), then each ``--smoke`` path."""
    result: SnippetTable = {}
    sources = []
    if project_dir is not None and (Path(project_dir) / PYPROJECT).is_file():
        sources.append(load_pyproject(Path(project_dir) / PYPROJECT))
    sources.extend(load_file(Path(p)) for p in paths)
    for table in sources:
        for key, snippets in table.items():
            result.setdefault(key, []).extend(snippets)
    return result


def _matches(key: str, dist_name: str, import_names: Iterable[str]) -> bool:
    wanted = canonicalize_name(key)
    return wanted == canonicalize_name(dist_name) or any(
        key == name or wanted == canonicalize_name(name) for name in import_names)


def snippets_for(
    dist_name: str,
    import_names: Iterable[str],
    user: Optional[SnippetTable] = None,
    *,
    curated: bool = True,
) -> list[Snippet]:
    """The snippets to run for one distribution: curated ones, then the user's.

    A user snippet with the same name as a curated one replaces it.
    """
    import_names = list(import_names)
    chosen: dict[str, Snippet] = {}
    tables = ([load_curated()] if curated else []) + ([user] if user else [])
    for table in tables:
        for key, snippets in table.items():
            if _matches(key, dist_name, import_names):
                for snippet in snippets:
                    chosen[snippet.name] = snippet
    return list(chosen.values())
