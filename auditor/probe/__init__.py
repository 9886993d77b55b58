"""Code that runs inside the audited interpreter.

Standard library only, valid on CPython 3.12, 3.13 and 3.14, and never imports
``interp_audit``: each file is run by path with ``python -P FILE``.
"""

from pathlib import Path

PROBE_DIR = Path(__file__).resolve().parent


def probe_path(name: str) -> Path:
    """Path of the probe script ``name`` (e.g. ``"runtime"``)."""
    return PROBE_DIR / f"{name}.py"
