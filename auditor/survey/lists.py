"""Project lists: read one, find the default (the newest dated top-PyPI list), refresh it.

A list is a text file with one project name a line; ``#`` starts a comment.
The shipped default, ``data/top-pypi-YYYY-MM-DD.txt``, names the most-downloaded
projects on PyPI on that date.  ``refresh`` writes a new dated list from a
download-ranking source (a URL or a file) into the user data directory, where
the default lookup finds it too.
"""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.request
from datetime import date
from pathlib import Path
from typing import Optional

from interp_audit.survey.shard import normalize

SHIPPED_DIR = Path(__file__).with_name("data")
LIST_PATTERN = re.compile(r"top-pypi-(\d{4}-\d{2}-\d{2})\.txt")
_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
_NAME_COLUMNS = ("project", "name", "package")
_RANK_COLUMNS = ("rank", "rank_among_15000_most_downloaded", "download_rank")
_COUNT_COLUMNS = ("download_count", "downloads")


class ListError(Exception):
    """A list that cannot be read or built; the message names the file."""


def user_list_dir() -> Path:
    """Where refreshed lists go (and are looked for) by default."""
    import platformdirs

    return Path(platformdirs.user_data_dir("interp-audit")) / "lists"


def parse_names(text: str, source: str = "<list>") -> list[str]:
    """Project names of a list file, first spelling of each normalised name kept, in order."""
    names: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        if not _NAME.fullmatch(name):
            raise ListError(f"{source}:{number}: {name!r} is not a project name")
        if normalize(name) not in seen:
            seen.add(normalize(name))
            names.append(name)
    return names


def read_list(path: Path) -> list[str]:
    """Read a list file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ListError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    return parse_names(text, str(path))


def dated_lists(*dirs: Path) -> list[tuple[str, Path]]:
    """(date, path) of every ``top-pypi-DATE.txt`` in ``dirs``, oldest first."""
    found = []
    for directory in dirs:
        if directory.is_dir():
            for path in directory.iterdir():
                match = LIST_PATTERN.fullmatch(path.name)
                if match:
                    found.append((match.group(1), path))
    return sorted(found)


def default_list(extra_dir: Optional[Path] = None) -> Path:
    """The newest dated list: shipped with interp-audit or written by ``refresh``."""
    found = dated_lists(SHIPPED_DIR, extra_dir or user_list_dir())
    if not found:
        raise ListError(f"no top-pypi-DATE.txt list in {SHIPPED_DIR}")
    return found[-1][1]


def _fetch(source: str, timeout: float) -> str:
    if re.match(r"https?://", source):
        try:
            with urllib.request.urlopen(source, timeout=timeout) as response:  # noqa: S310 - http(s) only
                return response.read().decode("utf-8")
        except (OSError, ValueError) as exc:
            raise ListError(f"{source}: cannot download ({exc})") from None
    try:
        return Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ListError(f"{source}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None


def _column(header: list[str], choices: tuple[str, ...]) -> Optional[int]:
    lowered = [h.strip().lower() for h in header]
    return next((lowered.index(c) for c in choices if c in lowered), None)


def _ranked_from_table(text: str, source: str) -> list[str]:
    """Names of a CSV/TSV ranking, best first: by its rank column, else its download count, else file order."""
    dialect = "excel-tab" if "\t" in text.split("\n", 1)[0] else "excel"
    rows = list(csv.reader(io.StringIO(text), dialect=dialect))
    if not rows:
        return []
    name_at = _column(rows[0], _NAME_COLUMNS)
    if name_at is None:
        raise ListError(f"{source}: no column named {' or '.join(_NAME_COLUMNS)}")
    rank_at, count_at = _column(rows[0], _RANK_COLUMNS), _column(rows[0], _COUNT_COLUMNS)
    ranked = []
    for position, row in enumerate(rows[1:]):
        if len(row) <= name_at or not row[name_at].strip():
            continue
        if rank_at is not None:
            if len(row) <= rank_at or not row[rank_at].strip().isdigit():
                continue  # unranked rows of a full registry listing
            order = int(row[rank_at])
        elif count_at is not None:
            order = -int(row[count_at] or 0)
        else:
            order = position
        ranked.append((order, row[name_at].strip()))
    return [name for _, name in sorted(ranked, key=lambda pair: pair[0])]


def ranked_names(text: str, source: str) -> tuple[list[str], Optional[str]]:
    """Names of a download ranking, best first, and the date it states (if any).

    Reads the JSON of the "top PyPI packages" dataset (``{"last_update", "rows":
    [{"project", "download_count"}]}``), a CSV/TSV with a name column and a rank or
    download-count column, or a plain list (already in order).
    """
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
            rows = sorted(data["rows"], key=lambda row: -int(row.get("download_count", 0)))
            names = [row["project"] for row in rows]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ListError(f"{source}: not a top-packages JSON document ({exc})") from None
        stated = re.match(r"\d{4}-\d{2}-\d{2}", str(data.get("last_update", "")))
        return names, stated.group(0) if stated else None
    first = stripped.split("\n", 1)[0]
    if "\t" in first or "," in first:
        return _ranked_from_table(text, source), None
    return parse_names(text, source), None


def refresh(source: str, top: int, out_dir: Optional[Path] = None, timeout: float = 60.0) -> Path:
    """Write ``top-pypi-DATE.txt`` (the ``top`` best-ranked names of ``source``) and return its path."""
    names, stated = ranked_names(_fetch(source, timeout), source)
    names = parse_names("\n".join(names), source)[:top]
    if not names:
        raise ListError(f"{source}: no project names found")
    day = stated or date.today().isoformat()
    out_dir = out_dir or user_list_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"top-pypi-{day}.txt"
    header = (f"# The {len(names)} most-downloaded projects on PyPI, most downloaded first (names only).\n"
              f"# Snapshot of {day}, from {source}.\n")
    path.write_text(header + "\n".join(names) + "\n", encoding="utf-8")
    return path
