"""Turn the command line's arguments (wheel files, directories, project names) into audited wheels.

Every argument is handled on its own: a bad one becomes an error line, the
others are still audited.  Results are grouped per wheel tag into the
interpreter runs of one :class:`~interp_audit.model.ScanReport` (scope
``wheel``), so every report format shows them.
"""

from __future__ import annotations

import fnmatch
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional, Sequence

from interp_audit import __version__
from interp_audit.model import InterpreterRun, ScanReport
from interp_audit.rules import registry
from interp_audit.wheels.audit import WheelError, WheelResult, audit_wheel
from interp_audit.wheels.index import IndexLookupError, download, pip_indexes, release_wheels

SCOPE = "wheel"


def _tag_matches(filename: str, platforms: Sequence[str], python_tags: Sequence[str]) -> bool:
    parts = filename[: -len(".whl")].split("-")
    python_tag, platform = parts[-3], parts[-1]
    ok_platform = not platforms or any(fnmatch.fnmatch(p, pattern) for p in platform.split(".") for pattern in platforms)
    ok_python = not python_tags or any(fnmatch.fnmatch(p, pattern) for p in python_tag.split(".") for pattern in python_tags)
    return ok_platform and ok_python


def wheel_paths(
    arguments: Sequence[str], cache: Path, platforms: Sequence[str] = (), python_tags: Sequence[str] = (),
    warn: Callable[[str], None] = lambda message: None,
) -> tuple[list[str], list[str]]:
    """``(wheel files to audit, errors)`` for FILE.whl, DIR (its ``*.whl``) and NAME[==VERSION] arguments."""
    paths, errors = [], []
    indexes: Optional[list[str]] = None
    for argument in arguments:
        if os.path.isdir(argument):
            found = sorted(str(p) for p in Path(argument).glob("*.whl"))
            if not found:
                errors.append(f"{argument}: no *.whl files in this directory")
            paths += [p for p in found if _tag_matches(os.path.basename(p), platforms, python_tags)]
        elif argument.endswith(".whl") or os.path.exists(argument):
            paths.append(argument)
        else:
            indexes = indexes if indexes is not None else pip_indexes()
            try:
                links, notes = release_wheels(argument, indexes)
                for note in notes:
                    warn(note)
                links = [link for link in links if _tag_matches(link.filename, platforms, python_tags)]
                if not links:
                    errors.append(f"{argument}: no wheel matches --platform/--python-tag")
                paths += [str(download(link, cache)) for link in links]
            except IndexLookupError as exc:
                errors.append(f"{argument}: {exc}")
    return paths, errors


def audit_wheels(paths: Sequence[str], progress: Callable[[str], None] = lambda path: None,
                 ) -> tuple[ScanReport, list[str]]:
    """Audit every wheel; ``(report, errors)`` with one run per wheel tag."""
    runs: dict[str, InterpreterRun] = {}
    errors = []
    for path in paths:
        progress(path)
        if not os.path.isfile(path):
            errors.append(f"{path}: no such file")
            continue
        try:
            audited: WheelResult = audit_wheel(path)
        except WheelError as exc:
            errors.append(f"{os.path.basename(path)}: {exc}")
            continue
        run = runs.setdefault(audited.tag, InterpreterRun(python=audited.python, scope=SCOPE))
        audited.result.findings = registry.evaluate(audited.result, None, audited.python)
        run.distributions.append(audited.result)
        errors += [f"{os.path.basename(path)}: {problem}" for problem in audited.result.problems]
    report = ScanReport(interpreters=[runs[tag] for tag in sorted(runs)], tool_version=__version__,
                        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    return report, errors
