"""Choose the reader for a binary by its first bytes, and read it.

ELF (``elf.py``), Mach-O (``macho.py``) and PE (``pe.py``; the last two through
LIEF).  Files no reader claims get facts with an ``error``.
"""

from __future__ import annotations

from typing import Sequence

from interp_audit.static.elf import ElfReader
from interp_audit.static.interface import MAGIC_SIZE, BinaryFacts, BinaryReader
from interp_audit.static.macho import MachOReader
from interp_audit.static.pe import PeReader

READERS: tuple[BinaryReader, ...] = (ElfReader(), MachOReader(), PeReader())


def read_binary(path: str, anchors: Sequence[bytes] = ()) -> BinaryFacts:
    """Read ``path`` with the reader its magic bytes call for; never raises."""
    try:
        with open(path, "rb") as stream:
            magic = stream.read(MAGIC_SIZE)
    except OSError as exc:
        return BinaryFacts(path=path, error=f"cannot read: {exc.strerror or exc}")
    if not magic:
        return BinaryFacts(path=path, error="empty file")
    for reader in READERS:
        if reader.matches(magic):
            return reader.read(path, anchors)
    return BinaryFacts(path=path, error=f"not a shared library (starts with {magic[:4]!r})")
