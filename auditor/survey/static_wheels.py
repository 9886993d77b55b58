"""``survey --static-wheels``: a fast pass over a project list that installs and runs nothing.

For each project the newest release's wheels (every platform tag it
publishes, or those chosen by ``--platform``/``--python-tag``) come from the
index pip uses (``wheels/index.py``, cached) and are read statically
(``wheels/audit.py``).  One JSON report per project goes to
``OUT/<project>.wheels.json`` (one run per wheel tag, readable by ``report``
and ``site``); a project whose file exists is not done again.  A project
without wheels, or whose wheels cannot be read, is a line in the summary; the
survey goes on.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from interp_audit.reports import formats
from interp_audit.wheels.collect import audit_wheels, wheel_paths

SUFFIX = ".wheels.json"


@dataclass
class ProjectOutcome:
    """One project of the pass: ``status`` is done, resumed, no-wheels or error."""

    project: str
    status: str
    tiers: dict[str, str] = field(default_factory=dict)  # wheel tag -> predicted tier (or "no verdict")
    errors: list[str] = field(default_factory=list)


def result_path(out_dir: Path, project: str) -> Path:
    return out_dir / (project + SUFFIX)


def survey_project(project: str, out_dir: Path, cache: Path, platforms: Sequence[str],
                   python_tags: Sequence[str]) -> ProjectOutcome:
    """Fetch, read and record one project's wheels."""
    paths, errors = wheel_paths([project], cache, platforms, python_tags)
    if not paths:
        return ProjectOutcome(project, "no-wheels" if errors else "error", errors=errors or ["nothing to read"])
    report, audit_errors = audit_wheels(paths)
    result_path(out_dir, project).write_text(formats.get("json").render(report), encoding="utf-8")
    tiers = {run.python.executable: ", ".join(d.tier or "no verdict" for d in run.distributions)
             for run in report.interpreters}
    errors += audit_errors
    return ProjectOutcome(project, "error" if errors and not tiers else "done", tiers, errors)


def survey_static_wheels(projects: Sequence[str], out_dir: Path, cache: Path, *, platforms: Sequence[str] = (),
                         python_tags: Sequence[str] = (), jobs: int = 4, fresh: bool = False,
                         progress: Callable[[ProjectOutcome], None] = lambda outcome: None) -> list[ProjectOutcome]:
    """Every project of ``projects``, ``jobs`` at a time (downloads and reading overlap)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    outcomes = []
    todo = []
    for project in projects:
        if not fresh and result_path(out_dir, project).exists():
            outcomes.append(ProjectOutcome(project, "resumed"))
            progress(outcomes[-1])
        else:
            todo.append(project)

    def one(project: str) -> ProjectOutcome:
        try:
            return survey_project(project, out_dir, cache, platforms, python_tags)
        except Exception as exc:  # one project's failure never stops the pass
            return ProjectOutcome(project, "error", errors=[f"{type(exc).__name__}: {exc}"])

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for outcome in pool.map(one, todo):
            outcomes.append(outcome)
            progress(outcome)
    return outcomes
