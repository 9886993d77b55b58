"""PE reader (Windows ``.pyd``), with LIEF: exports, imports, sections, base relocations.

Addresses are relative to the image base (RVAs).  A DIR64 base relocation
marks a pointer; the loader adds the slide to the absolute address stored in
place, so the pointer's target is that address minus the image base.
"""

from __future__ import annotations

from typing import Sequence

from interp_audit.static.interface import BinaryFacts, BinaryReader
from interp_audit.static.lief_common import Piece, fill_facts, join_sections, parse, stored_words

_MACHINES = {"AMD64": ("x86_64", 64), "ARM64": ("aarch64", 64), "I386": ("x86", 32), "ARMNT": ("arm", 32)}
_MEM_WRITE, _UNINITIALIZED = 0x80000000, 0x00000080
_READ_ONLY_DATA = (".rdata",)


class PeReader(BinaryReader):
    """Reads Windows DLLs (``.pyd``) with LIEF."""

    format = "pe"

    def matches(self, magic: bytes) -> bool:
        return magic[:2] == b"MZ"

    def read(self, path: str, anchors: Sequence[bytes] = ()) -> BinaryFacts:
        import lief

        facts = BinaryFacts(path=path, format=self.format)
        binary = parse(path, facts, lief.PE.parse)
        if binary is None:
            return facts
        try:
            self._read(binary, facts, anchors)
        except Exception as exc:  # a malformed file LIEF half-parsed
            facts.error = f"corrupt or truncated pe file: {exc}"
        return facts

    def _read(self, binary, facts: BinaryFacts, anchors) -> None:
        facts.machine, facts.bits = _MACHINES.get(binary.header.machine.__name__, (binary.header.machine.__name__.lower(), None))
        exports = {f.name: f.address for f in binary.exported_functions if f.name}
        facts.exported = frozenset(exports)
        facts.imported = frozenset(entry.name for library in binary.imports for entry in library.entries if entry.name)
        facts.stripped = True  # a PE file has no symbol table of its statics
        pieces = []
        for section in binary.sections:
            flags = section.characteristics
            stored = min(section.sizeof_raw_data, section.virtual_size or section.sizeof_raw_data)
            if flags & _UNINITIALIZED:
                stored = 0
            piece = Piece(section.name, section.virtual_address, max(section.virtual_size, stored), None, stored,
                          writable=bool(flags & _MEM_WRITE), rodata=section.name in _READ_ONLY_DATA)
            pieces.append((piece, bytes(section.content)))
        buffer, placed = join_sections(pieces)
        base = binary.optional_header.imagebase
        pointers = [e.address for block in binary.relocations for e in block.entries if e.type.__name__ == "DIR64"]
        relocations = {rva: stored - base for rva, stored in stored_words(pointers, buffer, placed).items()}
        fill_facts(facts, buffer, placed, relocations, exports, anchors, "rcx")

