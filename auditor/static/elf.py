"""ELF reader (Linux, the BSDs): headers and symbol tables only, nothing is loaded.

pyelftools parses the ELF and section headers; the symbol tables and string
searches then work on a memory map of the file with :mod:`struct`, which is
what makes a whole environment readable faster than one ``nm -D`` per file.
Only ``.dynsym``/``.dynstr``, ``.symtab``/``.strtab`` (when not stripped),
``.comment`` and the ``.rodata`` sections are touched.
"""

from __future__ import annotations

import mmap
import os
import struct
from typing import Sequence

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from interp_audit.static.interface import ENTRY_PREFIXES, BinaryFacts, BinaryReader, DataObject
from interp_audit.static.moduledef import Image, find_module_defs, read_entry_points
from interp_audit.static.strings import find_strings


_MACHINES = {
    "EM_X86_64": "x86_64",
    "EM_386": "x86",
    "EM_AARCH64": "aarch64",
    "EM_ARM": "arm",
    "EM_PPC64": "ppc64",
    "EM_PPC": "ppc",
    "EM_S390": "s390x",
    "EM_RISCV": "riscv",
    "EM_MIPS": "mips",
    "EM_LOONGARCH": "loongarch64",
}

_SHN_UNDEF = 0
_STB_GLOBAL, _STB_WEAK, _STB_GNU_UNIQUE = 1, 2, 10
_STT_OBJECT, _STT_TLS = 1, 6
_SHF_WRITE, _SHF_ALLOC = 0x1, 0x2
_SHT_NOBITS = 8
_SHT_RELA, _SHT_REL, _SHT_RELR = 4, 9, 19
#: Relocation types that store an address: (relative ones, symbol + addend ones), per machine.
_ADDRESS_RELOCATIONS = {
    "x86_64": ({8}, {1, 6, 7}),  # R_X86_64_RELATIVE; R_X86_64_64, GLOB_DAT, JUMP_SLOT
    "aarch64": ({1027}, {257, 1025, 1026}),  # R_AARCH64_RELATIVE; ABS64, GLOB_DAT, JUMP_SLOT
}


class _Section:
    __slots__ = ("index", "name", "offset", "size", "type", "flags", "addr", "link", "entsize")

    def __init__(self, index: int, header: tuple) -> None:
        # Elf32_Shdr / Elf64_Shdr, in file order.
        _name, self.type, self.flags, self.addr, self.offset, self.size, self.link, _info, _align, self.entsize = header
        self.index = index
        self.name = ""

    @property
    def nobits(self) -> bool:
        return self.type == _SHT_NOBITS


def _section_headers(elf: ELFFile, view) -> list[_Section]:
    """Parse the section header table with :mod:`struct` (much faster than pyelftools objects)."""
    order = "<" if elf.little_endian else ">"
    fmt = order + ("IIQQQQIIQQ" if elf.elfclass == 64 else "IIIIIIIIII")
    size = struct.calcsize(fmt)
    offset, count, strndx = elf["e_shoff"], elf["e_shnum"], elf["e_shstrndx"]
    if offset == 0:
        return []
    if elf["e_shentsize"] != size:
        raise ValueError(f"section headers of {elf['e_shentsize']} bytes, expected {size}")
    first = struct.unpack_from(fmt, view, offset)
    if count == 0:  # more than 0xff00 sections: the count is in section 0
        count = first[5]
    if strndx == 0xFFFF:  # SHN_XINDEX: the index is in section 0
        strndx = first[6]
    if offset + count * size > len(view):
        raise ValueError("truncated: the section headers lie past the end of the file")
    raw = list(struct.iter_unpack(fmt, view[offset : offset + count * size]))
    sections = [_Section(i, header) for i, header in enumerate(raw)]
    if 0 < strndx < count:
        names = sections[strndx]
        table = view[names.offset : names.offset + names.size]
        for section, header in zip(sections, raw):
            section.name = _cstring(table, header[0]) if header[0] < len(table) else ""
    return sections


def _is_writable_data(section: _Section) -> bool:
    """``.data``/``.bss`` and their ``-fdata-sections`` pieces, not RELRO data."""
    name = section.name
    if not (section.flags & _SHF_WRITE and section.flags & _SHF_ALLOC):
        return False
    if name.startswith(".data.rel.ro"):
        return False
    return name in (".data", ".bss") or name.startswith((".data.", ".bss."))


def _machine(elf: ELFFile) -> str:
    raw = elf["e_machine"]
    name = _MACHINES.get(raw, str(raw).removeprefix("EM_").lower())
    if name == "ppc64" and elf.little_endian:
        return "ppc64le"
    if name == "riscv":
        return "riscv64" if elf.elfclass == 64 else "riscv32"
    return name


def _cstring(table: bytes, offset: int) -> str:
    end = table.find(b"\0", offset)
    if end < 0:
        end = len(table)
    return table[offset:end].decode("utf-8", "replace")


class ElfReader(BinaryReader):
    """Reads ELF shared objects with pyelftools plus direct table parsing."""

    format = "elf"

    def matches(self, magic: bytes) -> bool:
        return magic[:4] == b"\x7fELF"

    def read(self, path: str, anchors: Sequence[bytes] = ()) -> BinaryFacts:
        facts = BinaryFacts(path=path, format=self.format)
        try:
            with open(path, "rb") as stream:
                facts.file_size = os.fstat(stream.fileno()).st_size
                if facts.file_size == 0:
                    facts.error = "empty file"
                    return facts
                self._read(stream, facts, anchors)
        except (ELFError, struct.error, ValueError, IndexError, KeyError, TypeError) as exc:
            facts.error = f"corrupt or truncated ELF file: {exc or type(exc).__name__}"
        except OSError as exc:
            facts.error = f"cannot read: {exc.strerror or exc}"
        return facts

    # -- the reading itself -------------------------------------------------

    def _read(self, stream, facts: BinaryFacts, anchors: Sequence[bytes]) -> None:
        elf = ELFFile(stream)
        facts.machine = _machine(elf)
        facts.bits = elf.elfclass
        with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as view:
            sections = _section_headers(elf, view)
            if not sections:
                facts.error = "no section headers"
                return
            for section in sections:
                if not section.nobits and section.offset + section.size > len(view):
                    facts.error = f"truncated: section {section.name} ends past the end of the file"
                    return
            self._read_sections(elf, view, sections, facts, anchors)

    def _read_sections(self, elf, view, sections, facts: BinaryFacts, anchors) -> None:
        by_name = {s.name: s for s in sections}
        writable = {s.index: s for s in sections if _is_writable_data(s)}
        facts.writable_sections = {s.name: s.size for s in writable.values()}
        facts.writable_data_bytes = sum(facts.writable_sections.values())
        fmt = ("<" if elf.little_endian else ">") + ("IBBHQQ" if elf.elfclass == 64 else "IIIBBH")
        entsize = struct.calcsize(fmt)

        objects: dict[str, DataObject] = {}
        dynsym = by_name.get(".dynsym")
        dynamic: list[tuple] = []
        if dynsym is not None:
            exported, imported = set(), set()
            dynamic = list(_symbols(view, dynsym, sections, fmt, entsize, elf.elfclass))
            for name, info, shndx, _value, size in dynamic:
                if not name:
                    continue
                if shndx == _SHN_UNDEF:
                    imported.add(name)
                    continue
                bind = info >> 4
                if bind in (_STB_GLOBAL, _STB_WEAK, _STB_GNU_UNIQUE):
                    exported.add(name)
                    if shndx in writable and (info & 0xF) in (_STT_OBJECT, _STT_TLS):
                        objects[name] = DataObject(name, size, writable[shndx].name, exported=True)
            facts.exported = frozenset(exported)
            facts.imported = frozenset(imported)

        symtab = by_name.get(".symtab")
        facts.stripped = symtab is None
        zero_filled: dict[int, int] = {}
        if symtab is not None:
            for name, info, shndx, value, size in _symbols(
                view, symtab, sections, fmt, entsize, elf.elfclass, only_sections=writable
            ):
                if (info & 0xF) == _STT_OBJECT and writable[shndx].nobits:
                    zero_filled[value] = size
                if name and name not in objects and (info & 0xF) in (_STT_OBJECT, _STT_TLS):
                    objects[name] = DataObject(name, size, writable[shndx].name)
        facts.data_objects = sorted(objects.values(), key=lambda o: (-o.size, o.name))

        comment = by_name.get(".comment")
        if comment is not None and not comment.nobits:
            raw = view[comment.offset : comment.offset + min(comment.size, 4096)]
            facts.comment = [t.decode("utf-8", "replace") for t in dict.fromkeys(raw.split(b"\0")) if t][:20]
        if anchors:
            rodata = [s for s in sections if s.name.startswith(".rodata") and not s.nobits]
            facts.strings = find_strings(view, rodata, anchors)
        if any(name.startswith(ENTRY_PREFIXES) for name in facts.exported):
            _read_module_defs(elf, view, sections, dynamic, zero_filled, facts)


def _symbols(view, table: _Section, sections, fmt: str, entsize: int, elfclass: int, only_sections=None):
    """Yield (name, st_info, st_shndx, st_value, st_size) from a symbol table section.

    With ``only_sections`` (a dict keyed by section index) other symbols are
    skipped before their name is decoded: a full symbol table can be large.
    """
    if table.entsize and table.entsize != entsize:
        raise ValueError(f"{table.name} has entries of {table.entsize} bytes, expected {entsize}")
    if not 0 < table.link < len(sections):
        raise ValueError(f"{table.name} names no string table")
    strtab = sections[table.link]
    names = view[strtab.offset : strtab.offset + strtab.size]
    count = table.size // entsize
    data = view[table.offset : table.offset + count * entsize]
    if elfclass == 64:
        for st_name, info, _other, shndx, value, size in struct.iter_unpack(fmt, data):
            if only_sections is not None and shndx not in only_sections:
                continue
            yield (_cstring(names, st_name) if st_name else ""), info, shndx, value, size
    else:
        for st_name, value, size, info, _other, shndx in struct.iter_unpack(fmt, data):
            if only_sections is not None and shndx not in only_sections:
                continue
            yield (_cstring(names, st_name) if st_name else ""), info, shndx, value, size


# --------------------------------------------------------------------------- PyModuleDef


def _read_module_defs(elf, view, sections, dynamic, zero_filled, facts: BinaryFacts) -> None:
    """Fill ``facts.module_defs``, ``init_loads`` and ``export_slots`` (see ``moduledef.py``)."""
    kinds = _ADDRESS_RELOCATIONS.get(facts.machine or "")
    if kinds is None or elf.elfclass != 64 or not elf.little_endian:
        facts.module_defs_error = f"PyModuleDef is not read from {facts.machine} ({facts.bits}-bit) binaries"
        return
    ranges = [(s.addr, s.size, None if s.nobits else s.offset) for s in sections if s.flags & _SHF_ALLOC and s.addr]
    relocations: dict[int, object] = {}
    for section in sections:
        if not section.flags & _SHF_ALLOC or section.nobits:
            continue
        if section.type == _SHT_RELA:
            _rela(view, section, dynamic, kinds, relocations)
        elif section.type == _SHT_RELR:
            _relr(view, section, relocations)
    image = Image(view, ranges, relocations, zero_filled)
    for value_at, target in list(relocations.items()):
        if target is _IMPLICIT:
            relocations[value_at] = image.word(value_at)
    facts.module_defs = find_module_defs(image)
    entries = {name: value for name, _info, shndx, value, _size in dynamic
               if shndx != _SHN_UNDEF and name.startswith(ENTRY_PREFIXES)}
    facts.init_loads, facts.export_slots = read_entry_points(image, facts.machine, entries)


_IMPLICIT = object()  # a RELR entry: the address is stored in place


def _rela(view, section, dynamic, kinds, relocations: dict) -> None:
    relative, symbolic = kinds
    raw = view[section.offset : section.offset + section.size - section.size % 24]
    for offset, info, addend in struct.iter_unpack("<QQq", raw):
        kind = info & 0xFFFFFFFF
        if kind in relative:
            relocations[offset] = addend
        elif kind in symbolic:
            index = info >> 32
            if not 0 < index < len(dynamic):
                continue
            name, _info, shndx, value, _size = dynamic[index]
            relocations[offset] = (value + addend) if shndx != _SHN_UNDEF else name


def _relr(view, section, relocations: dict) -> None:
    """SHT_RELR: addresses of relative relocations packed as an address then bitmaps."""
    raw = view[section.offset : section.offset + section.size - section.size % 8]
    where = 0
    for (entry,) in struct.iter_unpack("<Q", raw):
        if entry & 1 == 0:
            relocations[entry] = _IMPLICIT
            where = entry + 8
        else:
            bits = entry >> 1
            for bit in range(63):
                if bits >> bit & 1:
                    relocations[where + 8 * bit] = _IMPLICIT
            where += 63 * 8
