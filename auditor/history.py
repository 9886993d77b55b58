"""History: a package's tier over time, and what gained or lost a tier since a date.

Read from result stores (``runs`` and ``run_results``: every scan and survey
run, with its date, tool version, Python version and the versions it saw;
results are never overwritten).  Several stores (CI shards, machines) are
read as one history.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional, Sequence

from interp_audit.model import tier_rank
from interp_audit.store.sqlite import SQLiteStore
from interp_audit.survey.shard import normalize
from interp_audit.survey.task import LABELS, failure_status


class HistoryError(Exception):
    """A store or date that cannot be used; the message says which."""


@dataclass(frozen=True)
class Entry:
    """What one run saw of one distribution on one interpreter."""

    date: str  # when the run started, ISO 8601 UTC
    python: str  # full Python version, e.g. 3.13.0
    tool_version: str
    distribution: str
    version: str  # "" when the run got no version (install failed, worker lost)
    tier: Optional[str]  # None: no verdict
    status: str = "scanned"  # or a survey failure: install-failed, scan-failed, error, worker-lost

    @property
    def minor(self) -> str:
        """The Python line a timeline is drawn for, e.g. 3.13."""
        return ".".join(self.python.split(".")[:2])

    @property
    def outcome(self) -> str:
        """The tier, or why there is none."""
        return self.tier or LABELS.get(self.status, "no verdict")


@dataclass
class Change:
    """A distribution that gained or lost a tier on one Python line."""

    distribution: str
    python: str  # the Python line, e.g. 3.13
    direction: str  # gained | regressed
    before: Entry
    after: Entry
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"distribution": self.distribution, "python": self.python, "direction": self.direction,
                "before": asdict(self.before), "after": asdict(self.after), "reasons": list(self.reasons)}


def parse_date(text: str) -> datetime:
    """``2026-11-01`` or a full ISO 8601 time; a time without zone is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise HistoryError(f"{text!r} is not a date (use YYYY-MM-DD or an ISO 8601 time)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _entries(store: SQLiteStore) -> list[Entry]:
    entries = []
    for row in store.history_rows():
        if row["scope"] == "stdlib":
            continue
        status = "scanned"
        if row["tier"] is None:
            stored = store.get(row["key"])
            status = (failure_status(stored) if stored is not None else None) or "scanned"
        entries.append(Entry(date=row["started"], python=row["python_version"], tool_version=row["tool_version"],
                             distribution=row["distribution"], version=row["version"], tier=row["tier"],
                             status=status))
    return entries


def reasons(before: Entry, after: Entry) -> list[str]:
    """Why two runs can differ: a new release, a new Python, a new interp-audit."""
    found = []
    if before.version != after.version:
        found.append(f"new release {before.version} → {after.version}")
    if before.python != after.python:
        found.append(f"new Python {before.python} → {after.python}")
    if before.tool_version != after.tool_version:
        found.append(f"new interp-audit {before.tool_version} → {after.tool_version}")
    return found or ["same release, Python and interp-audit: a re-run with another outcome"]


@dataclass
class History:
    entries: list[Entry] = field(default_factory=list)  # oldest first

    @classmethod
    def load(cls, stores: Sequence[Path]) -> "History":
        """Read every store once (missing files are an error, not an empty history).

        Two runs that saw the same thing in the same second are two entries: only
        a store named twice (or reached by two paths) is read once.
        """
        entries: list[Entry] = []
        read: set[Path] = set()
        for path in stores:
            if not Path(path).is_file():
                raise HistoryError(f"{path}: no result store there")
            real = Path(path).resolve()
            if real in read:
                continue
            read.add(real)
            store = SQLiteStore(path)
            try:
                entries += _entries(store)
            finally:
                store.close()
        return cls(sorted(entries, key=lambda e: (parse_date(e.date), e.python, normalize(e.distribution))))

    def names(self) -> list[str]:
        """Every distribution with a history, in the first spelling seen."""
        found: dict[str, str] = {}
        for entry in self.entries:
            found.setdefault(normalize(entry.distribution), entry.distribution)
        return sorted(found.values(), key=normalize)

    def timeline(self, distribution: str) -> dict[str, list[Entry]]:
        """Python line -> what each run saw of ``distribution``, oldest first (newest Python line first)."""
        wanted = normalize(distribution)
        lines: dict[str, list[Entry]] = {}
        for entry in self.entries:
            if normalize(entry.distribution) == wanted:
                lines.setdefault(entry.minor, []).append(entry)
        return dict(sorted(lines.items(), key=lambda item: [int(p) for p in item[0].split(".") if p.isdigit()],
                           reverse=True))

    def latest(self) -> Optional[datetime]:
        return max((parse_date(e.date) for e in self.entries), default=None)

    def changes_since(self, since: datetime, names: Optional[Sequence[str]] = None) -> list[Change]:
        """Distributions whose tier on a Python line differs between the last verdict before ``since``
        and the newest verdict (if that is from ``since`` on); only ``names`` if given."""
        wanted = {normalize(n) for n in names} if names is not None else None
        groups: dict[tuple[str, str], list[Entry]] = {}
        for entry in self.entries:
            if entry.tier is not None and (wanted is None or normalize(entry.distribution) in wanted):
                groups.setdefault((normalize(entry.distribution), entry.minor), []).append(entry)
        changes = []
        for (_, minor), entries in groups.items():
            earlier = [e for e in entries if parse_date(e.date) < since]
            after = entries[-1]
            if not earlier or parse_date(after.date) < since or earlier[-1].tier == after.tier:
                continue
            before = earlier[-1]
            direction = "gained" if tier_rank(after.tier) < tier_rank(before.tier) else "regressed"
            changes.append(Change(after.distribution, minor, direction, before, after, reasons(before, after)))
        return sorted(changes, key=lambda c: (c.direction, normalize(c.distribution), c.python))


def default_since(history: History, days: int = 30) -> datetime:
    """The start of "recently": ``days`` before the newest run (now, for an empty history)."""
    return (history.latest() or datetime.now(timezone.utc)) - timedelta(days=days)
