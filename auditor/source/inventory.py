"""Run the inventory probe in the target interpreter and load its answer, or reuse a stored one."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from interp_audit.probe import probe_path
from interp_audit.source.fingerprint import metadata_fingerprint
from interp_audit.source.interface import SourceError
from interp_audit.store.interface import ResultStore


def run_inventory(python: str, *, stdlib: bool = False, timeout: float = 300) -> dict[str, Any]:
    """The inventory document (see ``probe/inventory.py``) of ``python``."""
    command = [python, "-P", str(probe_path("inventory"))] + (["--stdlib"] if stdlib else [])
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                   stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SourceError(f"the inventory of {python} failed: {exc}") from None
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise SourceError(f"the inventory of {python} failed: {last}")
    try:
        return json.loads(completed.stdout)
    except ValueError:
        raise SourceError(f"the inventory of {python} printed something that is not JSON") from None


def stored_inventory(python: str, sys_path: tuple[str, ...], store: ResultStore, *, stdlib: bool = False) -> dict[str, Any]:
    """The inventory of ``python``, from ``store`` while the metadata on ``sys_path`` is unchanged.

    A re-scan of an unchanged environment then starts no interpreter for it
    (see :mod:`interp_audit.source.fingerprint`).  Without ``sys_path`` the probe always runs.
    """
    if not sys_path:
        return run_inventory(python, stdlib=stdlib)
    scope = "stdlib" if stdlib else "environment"
    fingerprint = metadata_fingerprint(python, sys_path)
    document = store.get_inventory(python, scope, fingerprint)
    if document is None:
        document = run_inventory(python, stdlib=stdlib)
        store.put_inventory(python, scope, fingerprint, document)
    return document
