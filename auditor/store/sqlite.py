"""The result store in one SQLite file (or in memory for ``--no-cache``)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional, Union

from interp_audit.model import DistributionResult, PythonInfo, from_dict, to_dict
from interp_audit.store.interface import ResultStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    python_version TEXT NOT NULL,
    python_executable TEXT NOT NULL,
    distribution TEXT NOT NULL,
    version TEXT NOT NULL,
    created TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,
    finished TEXT,
    tool_version TEXT NOT NULL,
    python_version TEXT NOT NULL,
    python_executable TEXT NOT NULL,
    scope TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS run_results (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    key TEXT NOT NULL REFERENCES results(key),
    distribution TEXT NOT NULL,
    version TEXT NOT NULL,
    tier TEXT,
    PRIMARY KEY (run_id, key)
);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class SQLiteStore(ResultStore):
    """Results keyed by interpreter, distribution, version, file hashes and tool version."""

    def __init__(self, path: Union[Path, str]) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._db.commit()

    def get(self, key: str) -> Optional[DistributionResult]:
        row = self._db.execute("SELECT data FROM results WHERE key = ?", (key,)).fetchone()
        return from_dict(DistributionResult, json.loads(row[0])) if row else None

    def put(self, key: str, python: PythonInfo, result: DistributionResult) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, python.version, python.executable, result.name, result.version, _now(),
                 json.dumps(to_dict(result))),
            )

    def begin_run(self, python: PythonInfo, scope: str, tool_version: str) -> int:
        with self._db:
            cursor = self._db.execute(
                "INSERT INTO runs (started, tool_version, python_version, python_executable, scope)"
                " VALUES (?, ?, ?, ?, ?)",
                (_now(), tool_version, python.version, python.executable, scope),
            )
        return int(cursor.lastrowid)

    def record(self, run_id: int, key: str, result: DistributionResult) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO run_results VALUES (?, ?, ?, ?, ?)",
                (run_id, key, result.name, result.version, result.tier),
            )

    def finish_run(self, run_id: int) -> None:
        with self._db:
            self._db.execute("UPDATE runs SET finished = ? WHERE id = ?", (_now(), run_id))

    def close(self) -> None:
        self._db.close()
