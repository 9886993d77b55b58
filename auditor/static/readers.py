"""Choose the reader for a binary by its first bytes, and read it.

Only ELF is implemented; a Mach-O or PE reader is one more entry in
:data:`READERS`.  Files no reader claims get facts with an ``error``.
"""

from __future__ import annotations

from typing import Sequence

from interp_audit.static.elf import ElfReader
from interp_audit.static.interface import MAGIC_SIZE, BinaryFacts, BinaryReader

READERS: tuple[BinaryReader, ...] = (ElfReader(),)

#: Magic numbers of formats we recognise but cannot read yet.
_UNSUPPORTED = (
    (b"\xcf\xfa\xed\xfe", "Mach-O"),
    (b"\xce\xfa\xed\xfe", "Mach-O"),
    (b"\xca\xfe\xba\xbe", "Mach-O universal"),
    (b"MZ", "PE (Windows)"),
)


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
    for prefix, name in _UNSUPPORTED:
        if magic.startswith(prefix):
            return BinaryFacts(path=path, format=name, file_size=0, error=f"{name} binaries are not read yet")
    return BinaryFacts(path=path, error=f"not a shared library (starts with {magic[:4]!r})")
