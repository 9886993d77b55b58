"""Where the plugin's child process script is, and which sub-interpreters this Python can make."""

from pathlib import Path

CHILD_SCRIPT = Path(__file__).resolve().parent / "child.py"


def support_reason(mode):
    """None when this Python can make ``mode`` sub-interpreters, else the reason it cannot."""
    from ..probe import interpreters

    return interpreters.support().get(mode, "unknown mode %r" % (mode,))
