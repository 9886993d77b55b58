"""A cheap fingerprint of the distribution metadata an interpreter sees.

``importlib.metadata`` (and so the inventory probe) finds distributions by
listing every ``sys.path`` entry and reading the files of the ``*.dist-info``,
``*.egg-info`` and ``*.egg`` entries it finds there.  Installing, removing or
upgrading a distribution adds or removes such entries (changing the listed
directory's modification time) and writes their files; editing or chmod-ing a
metadata file changes its size, modification or change time.  Hashing those
``stat`` results, with the interpreter's own, gives a key that changes whenever
the inventory could, for the price of a few hundred ``stat`` calls instead of
a run of the target interpreter.
"""

from __future__ import annotations

import hashlib
import os
from typing import Iterable

METADATA_ENTRIES = (".dist-info", ".egg-info", ".egg")


def _stat_line(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError as exc:
        return f"{path}:{exc.errno}"
    return f"{path}:{st.st_mode}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def _tree(path: str, depth: int) -> Iterable[str]:
    """Stat lines of ``path`` and, ``depth`` levels down, of what it holds."""
    yield _stat_line(path)
    if depth > 0:
        try:
            names = sorted(os.listdir(path))
        except OSError:
            return
        for name in names:
            yield from _tree(os.path.join(path, name), depth - 1)


def metadata_fingerprint(executable: str, sys_path: Iterable[str]) -> str:
    """Hash of ``executable``, each ``sys_path`` entry and every metadata entry (with its files) in them.

    Directory entries are stat-ed too, so the standard library's modules
    (``scan --stdlib``) are covered as well: adding or removing one changes its directory.
    """
    lines = [_stat_line(executable)]
    for entry in sys_path:
        lines.append(_stat_line(entry))
        try:
            names = sorted(os.listdir(entry))
        except OSError:
            continue
        for name in names:
            if name.lower().endswith(METADATA_ENTRIES):
                lines.extend(_tree(os.path.join(entry, name), 2))  # an .egg holds EGG-INFO/ with the files
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
