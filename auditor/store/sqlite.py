"""The result store in one SQLite file (or in memory for ``--no-cache``)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Optional, Union

from interp_audit.model import DistributionResult, Finding, PythonInfo, from_dict, to_dict
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
CREATE TABLE IF NOT EXISTS findings (
    key TEXT NOT NULL REFERENCES results(key),
    rules TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (key, rules)
);
CREATE TABLE IF NOT EXISTS inventories (
    python_executable TEXT NOT NULL,
    scope TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (python_executable, scope)
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

#: Surveys (``interp-audit survey``): what was asked, and which tasks are done, so a
#: killed survey resumes; each (survey, Python) records its results as one run.
SURVEY_SCHEMA = """
CREATE TABLE IF NOT EXISTS surveys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,
    finished TEXT,
    tool_version TEXT NOT NULL,
    digest TEXT NOT NULL,
    description TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS survey_runs (
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    python TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    PRIMARY KEY (survey_id, python)
);
CREATE TABLE IF NOT EXISTS survey_tasks (
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    task TEXT NOT NULL,
    project TEXT NOT NULL,
    python TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    seconds TEXT NOT NULL,
    finished TEXT NOT NULL,
    PRIMARY KEY (survey_id, task)
);
"""


#: SQL condition: run_results.distribution (as ``rr``) is the name bound to ``?``, in any spelling.
SAME_NAME = "lower(replace(replace(rr.distribution, '_', '-'), '.', '-')) = ?"


def _spelling(name: str) -> str:
    """``name`` as :data:`SAME_NAME` compares it."""
    return name.lower().replace("_", "-").replace(".", "-")


STORE_FILE = "results.sqlite3"


def store_path(cache_dir: Optional[Path] = None) -> Path:
    """Where ``scan`` keeps its results: ``cache_dir`` (default: the user cache directory) / results.sqlite3."""
    if cache_dir is None:
        import platformdirs

        cache_dir = Path(platformdirs.user_cache_dir("interp-audit"))
    return Path(cache_dir) / STORE_FILE


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
        self._db.executescript(SURVEY_SCHEMA)
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
            self._db.execute("DELETE FROM findings WHERE key = ?", (key,))  # they judged the result replaced

    def get_findings(self, key: str, rules: str) -> Optional[list[Finding]]:
        row = self._db.execute("SELECT data FROM findings WHERE key = ? AND rules = ?", (key, rules)).fetchone()
        return from_dict(list[Finding], json.loads(row[0])) if row else None

    def put_findings(self, rules: str, findings: Iterable[tuple[str, list[Finding]]]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO findings VALUES (?, ?, ?)",
                                 [(key, rules, json.dumps(to_dict(found))) for key, found in findings])

    def get_inventory(self, python: str, scope: str, fingerprint: str) -> Optional[dict]:
        row = self._db.execute(
            "SELECT data FROM inventories WHERE python_executable = ? AND scope = ? AND fingerprint = ?",
            (python, scope, fingerprint)).fetchone()
        return json.loads(row[0]) if row else None

    def put_inventory(self, python: str, scope: str, fingerprint: str, document: dict) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO inventories VALUES (?, ?, ?, ?)",
                             (python, scope, fingerprint, json.dumps(document)))

    def begin_run(self, python: PythonInfo, scope: str, tool_version: str) -> int:
        with self._db:
            cursor = self._db.execute(
                "INSERT INTO runs (started, tool_version, python_version, python_executable, scope)"
                " VALUES (?, ?, ?, ?, ?)",
                (_now(), tool_version, python.version, python.executable, scope),
            )
        return int(cursor.lastrowid)

    def record(self, run_id: int, results: Iterable[tuple[str, DistributionResult]]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO run_results VALUES (?, ?, ?, ?, ?)",
                [(run_id, key, result.name, result.version, result.tier) for key, result in results],
            )

    def finish_run(self, run_id: int) -> None:
        with self._db:
            self._db.execute("UPDATE runs SET finished = ? WHERE id = ?", (_now(), run_id))

    def latest(self, distribution: str) -> list[tuple[PythonInfo, DistributionResult]]:
        rows = self._db.execute(
            "SELECT runs.python_version, runs.python_executable, rr.key FROM run_results rr"
            " JOIN runs ON runs.id = rr.run_id WHERE " + SAME_NAME + " ORDER BY runs.id DESC",
            (_spelling(distribution),))
        found: dict[str, tuple[PythonInfo, DistributionResult]] = {}
        for version, executable, key in rows:
            if executable in found:
                continue
            result = self.get(key)
            if result is None:
                continue
            newest = self._db.execute("SELECT data FROM findings WHERE key = ? ORDER BY rowid DESC LIMIT 1",
                                      (key,)).fetchone()
            if newest:
                result.findings = from_dict(list[Finding], json.loads(newest[0]))
            found[executable] = (PythonInfo(version=version, implementation="CPython", executable=executable), result)
        return list(found.values())

    def close(self) -> None:
        self._db.close()

    # -- surveys ---------------------------------------------------------------------------

    def unfinished_survey(self, digest: str) -> Optional[int]:
        """The newest unfinished survey asked with the same ``digest`` (to resume), or None."""
        row = self._db.execute("SELECT id FROM surveys WHERE digest = ? AND finished IS NULL ORDER BY id DESC",
                               (digest,)).fetchone()
        return int(row[0]) if row else None

    def begin_survey(self, digest: str, description: dict, tool_version: str) -> int:
        with self._db:
            cursor = self._db.execute(
                "INSERT INTO surveys (started, tool_version, digest, description) VALUES (?, ?, ?, ?)",
                (_now(), tool_version, digest, json.dumps(description)),
            )
        return int(cursor.lastrowid)

    def survey_run(self, survey_id: int, python_spec: str, python: PythonInfo, tool_version: str) -> int:
        """The run that holds the results of ``survey_id`` on ``python_spec`` (begun on first use)."""
        row = self._db.execute("SELECT run_id FROM survey_runs WHERE survey_id = ? AND python = ?",
                               (survey_id, python_spec)).fetchone()
        if row:
            return int(row[0])
        run_id = self.begin_run(python, "survey", tool_version)
        with self._db:
            self._db.execute("INSERT INTO survey_runs VALUES (?, ?, ?)", (survey_id, python_spec, run_id))
        return run_id

    def record_task(self, survey_id: int, task: str, project: str, python_spec: str, status: str,
                    attempts: int, seconds: dict) -> None:
        """Mark a survey task done (after its results were stored)."""
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO survey_tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (survey_id, task, project, python_spec, status, attempts, json.dumps(seconds), _now()),
            )

    def survey_tasks(self, survey_id: int) -> dict[str, dict]:
        """The finished tasks of a survey: task key -> project, python, status, attempts, seconds."""
        rows = self._db.execute(
            "SELECT task, project, python, status, attempts, seconds FROM survey_tasks WHERE survey_id = ?",
            (survey_id,),
        )
        return {task: {"project": project, "python": python, "status": status, "attempts": attempts,
                       "seconds": json.loads(seconds)}
                for task, project, python, status, attempts, seconds in rows}

    def finish_survey(self, survey_id: int) -> None:
        """Mark a survey and its runs finished."""
        with self._db:
            self._db.execute("UPDATE surveys SET finished = ? WHERE id = ?", (_now(), survey_id))
            self._db.execute(
                "UPDATE runs SET finished = ? WHERE id IN (SELECT run_id FROM survey_runs WHERE survey_id = ?)",
                (_now(), survey_id),
            )

    # -- history ---------------------------------------------------------------------------

    def history_rows(self, distribution: Optional[str] = None) -> list[dict]:
        """What every run saw, oldest first: started, tool_version, python_version, scope,
        distribution, version, tier, key; only ``distribution`` (any spelling) if given."""
        query = ("SELECT runs.started, runs.tool_version, runs.python_version, runs.scope, rr.distribution,"
                 " rr.version, rr.tier, rr.key FROM run_results rr JOIN runs ON runs.id = rr.run_id")
        args: tuple = ()
        if distribution is not None:
            query += " WHERE " + SAME_NAME
            args = (_spelling(distribution),)
        columns = ("started", "tool_version", "python_version", "scope", "distribution", "version", "tier", "key")
        rows = self._db.execute(query + " ORDER BY runs.started, runs.id", args)
        return [dict(zip(columns, row)) for row in rows]
