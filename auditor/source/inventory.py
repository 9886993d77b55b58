"""Run the inventory probe in the target interpreter and load its answer."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from interp_audit.probe import probe_path
from interp_audit.source.interface import SourceError


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
