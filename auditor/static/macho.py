"""Mach-O reader (macOS ``.so``), with LIEF: symbols, sections, rebases/binds and chained fixups.

A universal (fat) file is read for its first architecture; the others are
named in ``comment``.  Symbol names lose the leading underscore of the C
naming convention, so ``_PyInit_foo`` is ``PyInit_foo`` as in ELF.
"""

from __future__ import annotations

import warnings
from typing import Sequence

from interp_audit.static.interface import BinaryFacts, BinaryReader
from interp_audit.static.lief_common import Piece, fill_facts, join_sections, parse, stored_words

_MACHINES = {"X86_64": ("x86_64", 64), "ARM64": ("aarch64", 64), "X86": ("x86", 32), "ARM": ("arm", 32),
             "POWERPC": ("ppc", 32), "POWERPC64": ("ppc64", 64)}
_MAGICS = (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce")
_ZERO_FILL = ("ZEROFILL", "GB_ZEROFILL", "THREAD_LOCAL_ZEROFILL")
_READ_ONLY = ("__cstring", "__const", "__rodata")


def _plain(name: str) -> str:
    return name[1:] if name.startswith("_") else name


class MachOReader(BinaryReader):
    """Reads Mach-O bundles and dylibs (thin or universal) with LIEF."""

    format = "macho"

    def matches(self, magic: bytes) -> bool:
        return magic[:4] in _MAGICS

    def read(self, path: str, anchors: Sequence[bytes] = ()) -> BinaryFacts:
        import lief

        facts = BinaryFacts(path=path, format=self.format)
        fat = parse(path, facts, lief.MachO.parse)
        if fat is None:
            return facts
        try:
            with warnings.catch_warnings():  # LIEF warns about enum values it has no name for
                warnings.simplefilter("ignore", RuntimeWarning)
                self._read_slices(fat, facts, anchors)
        except Exception as exc:  # a malformed file LIEF half-parsed
            facts.error = f"corrupt or truncated macho file: {exc}"
        return facts

    def _read_slices(self, fat, facts: BinaryFacts, anchors) -> None:
        slices = [fat.at(i) for i in range(fat.size)]
        if not slices:
            facts.error = "corrupt or truncated macho file: no architecture in it"
            return
        if len(slices) > 1:
            names = ", ".join(_MACHINES.get(s.header.cpu_type.__name__, ("?",))[0] for s in slices)
            facts.comment.append(f"universal binary ({names}); read the first")
        self._read(slices[0], facts, anchors)

    def _read(self, binary, facts: BinaryFacts, anchors) -> None:
        cpu = binary.header.cpu_type.__name__
        facts.machine, facts.bits = _MACHINES.get(cpu, (cpu.lower(), None))
        exports = {_plain(s.name): s.value for s in binary.exported_symbols}
        facts.exported = frozenset(exports)
        facts.imported = frozenset(_plain(s.name) for s in binary.imported_symbols)
        facts.stripped = not any(not s.is_external for s in binary.symbols)
        pieces = []
        for section in binary.sections:
            zero = section.type.__name__ in _ZERO_FILL
            stored = 0 if zero else section.size
            writable = section.segment_name == "__DATA" and section.name in ("__data", "__bss", "__common")
            piece = Piece(f"{section.segment_name},{section.name}", section.virtual_address, section.size, None,
                          stored, writable=writable, rodata=section.name in _READ_ONLY)
            pieces.append((piece, b"" if zero else bytes(section.content)))
        buffer, placed = join_sections(pieces)
        relocations, rebased = {}, []
        for relocation in binary.relocations:
            if relocation.has_symbol:
                relocations[relocation.address] = _plain(relocation.symbol.name)
            elif hasattr(relocation, "target"):  # chained fixups: the target is encoded in place
                relocations[relocation.address] = relocation.target
            else:  # rebase opcodes: the unslid address is stored in place
                rebased.append(relocation.address)
        relocations.update(stored_words(rebased, buffer, placed))
        fill_facts(facts, buffer, placed, relocations, exports, anchors)

