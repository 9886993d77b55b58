"""What the Mach-O and PE readers share: parsing with LIEF and turning sections into facts.

LIEF (``lief`` on PyPI) parses both formats, including their relocations
(PE base relocations, Mach-O rebase/bind opcodes and chained fixups), so the
format-neutral :mod:`moduledef` search works on them as on ELF.  Section
contents are copied into one buffer; :class:`Piece` says where each lies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from interp_audit.static.interface import ENTRY_PREFIXES, BinaryFacts
from interp_audit.static.moduledef import Image, Target, find_module_defs, read_entry_points
from interp_audit.static.strings import find_strings



@dataclass
class Piece:
    """One section: its address, its bytes in the joined buffer, and what else it is."""

    name: str
    address: int
    size: int  # bytes in memory
    offset: Optional[int]  # in the joined buffer; None when zero-filled
    stored: int  # bytes present in the file (the rest of ``size`` is zero-filled)
    writable: bool
    rodata: bool


def parse(path: str, facts: BinaryFacts, parser: Callable):
    """``parser(path)`` with LIEF's logging off; None (and ``facts.error``) when it fails."""
    import lief

    lief.logging.disable()
    try:
        facts.file_size = os.path.getsize(path)
        binary = parser(path)
    except OSError as exc:
        facts.error = f"cannot read: {exc.strerror or exc}"
        return None
    except Exception as exc:  # LIEF raises its own error types, or returns None
        facts.error = f"corrupt or truncated {facts.format} file: {exc}"
        return None
    if binary is None:
        facts.error = f"corrupt or truncated {facts.format} file: LIEF could not parse it"
    return binary


def join_sections(pieces: list[tuple[Piece, bytes]]) -> tuple[bytes, list[Piece]]:
    """One buffer holding every section's stored bytes; the pieces with their offsets set."""
    chunks, placed, at = [], [], 0
    for piece, content in pieces:
        if piece.stored:
            piece.offset = at
            chunks.append(content[: piece.stored])
            at += len(chunks[-1])
        placed.append(piece)
    return b"".join(chunks), placed


def stored_words(addresses, buffer: bytes, pieces: list[Piece]) -> dict[int, int]:
    """The 8-byte little-endian word stored in the file at each address (where there is one)."""
    spans = sorted((p.address, p.stored, p.offset) for p in pieces if p.offset is not None)
    words = {}
    for address in addresses:
        for start, stored, offset in spans:
            if start <= address and address + 8 <= start + stored:
                at = offset + address - start
                words[address] = int.from_bytes(buffer[at : at + 8], "little")
                break
    return words


def fill_facts(
    facts: BinaryFacts,
    buffer: bytes,
    pieces: list[Piece],
    relocations: dict[int, Target],
    exports: dict[str, int],
    anchors: Sequence[bytes],
    first_argument: str = "rdi",
) -> None:
    """Writable data, fingerprint strings, PyModuleDefs and init tail calls from the sections.

    ``exports`` maps exported names to addresses (the same address space as the
    pieces and relocations).
    """
    facts.writable_sections = {p.name: p.size for p in pieces if p.writable}
    facts.writable_data_bytes = sum(facts.writable_sections.values())
    if anchors:
        facts.strings = find_strings(buffer, [p for p in pieces if p.rodata and p.offset is not None], anchors)
    entries = {name: address for name, address in exports.items() if name.startswith(ENTRY_PREFIXES)}
    if not entries:
        return
    if facts.bits != 64 or facts.machine not in ("x86_64", "aarch64"):
        facts.module_defs_error = f"PyModuleDef is not read from {facts.machine} ({facts.bits}-bit) binaries"
        return
    ranges = []
    for p in pieces:
        if p.stored and p.offset is not None:
            ranges.append((p.address, min(p.stored, p.size), p.offset))
        if p.size > p.stored:
            ranges.append((p.address + p.stored, p.size - p.stored, None))
    image = Image(buffer, ranges, relocations)
    facts.module_defs = find_module_defs(image)
    facts.init_loads, facts.export_slots = read_entry_points(image, facts.machine, entries, first_argument)
