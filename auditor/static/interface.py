"""The plug point for reading compiled binaries: one :class:`BinaryReader` per format.

A reader turns one file into :class:`BinaryFacts` without running it: the
format and machine, the dynamic symbols it exports and imports, how much
writable global data it carries, and a bounded set of strings that identify
the binding framework.  Readers never raise for a bad file; they return facts
with :attr:`BinaryFacts.error` set.  ``readers.py`` picks the reader by the
file's first bytes, so Mach-O and PE readers can be added beside ``elf.py``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Optional, Sequence

#: Bytes read from the start of a file to choose its reader.
MAGIC_SIZE = 64
#: Prefixes of the module init functions CPython looks up (PEP 489: PyInitU_ for non-ASCII names).
INIT_PREFIXES = ("PyInit_", "PyInitU_")
#: Prefixes of the PEP 793 export hooks (3.15+) that return a module's slot array.
EXPORT_PREFIXES = ("PyModExport_", "PyModExportU_")
ENTRY_PREFIXES = INIT_PREFIXES + EXPORT_PREFIXES


@dataclass(frozen=True)
class DataObject:
    """A global or static variable that lives in writable memory."""

    name: str
    size: int
    section: str
    exported: bool = False  # visible in the dynamic symbol table


@dataclass(frozen=True)
class ModuleDef:
    """A ``PyModuleDef`` found in a binary's initialised data (see ``moduledef.py``)."""

    address: int  # virtual address of the structure
    name: str  # what m_name points at
    m_size: int
    #: ``(slot number, value)`` pairs of m_slots, in order; the value is the
    #: number stored for Py_mod_multiple_interpreters / Py_mod_gil, None for
    #: pointer slots.  None as a whole when m_slots is NULL.
    slots: Optional[tuple[tuple[int, Optional[int]], ...]] = None
    slots_error: Optional[str] = None  # why m_slots cannot be decoded (then ``slots`` is None)
    header: str = "default"  # PyObject header layout: "default" or "free-threaded"


@dataclass
class BinaryFacts:
    """What the bytes of one binary say, before anything is loaded."""

    path: str
    format: Optional[str] = None  # "elf", later "macho", "pe"
    machine: Optional[str] = None  # e.g. "x86_64", "aarch64", "x86"
    bits: Optional[int] = None  # 32 or 64
    file_size: int = 0
    exported: frozenset[str] = frozenset()  # defined dynamic symbols
    imported: frozenset[str] = frozenset()  # undefined dynamic symbols
    writable_data_bytes: Optional[int] = None  # sizes of .data and .bss added
    writable_sections: dict[str, int] = field(default_factory=dict)  # section name -> size
    data_objects: list[DataObject] = field(default_factory=list)  # largest first
    stripped: Optional[bool] = None  # True when there is no full symbol table
    strings: dict[str, list[str]] = field(default_factory=dict)  # anchor -> strings that contain it
    comment: list[str] = field(default_factory=list)  # toolchain notes (.comment)
    module_defs: list[ModuleDef] = field(default_factory=list)  # every PyModuleDef found in initialised data
    #: exported ``PyInit_*`` -> address of the PyModuleDef its code passes to a
    #: tail call (``return PyModuleDef_Init(&def)``), where the code has that shape
    init_loads: dict[str, int] = field(default_factory=dict)
    #: exported ``PyModExport_*`` -> ``(slots, None)`` for the static slot array it returns,
    #: or ``(None, why not)``; slots as in :attr:`ModuleDef.slots`
    export_slots: dict[str, tuple] = field(default_factory=dict)
    module_defs_error: Optional[str] = None  # why the data sections were not searched
    error: Optional[str] = None  # why the file could not be read (fully)

    @property
    def ok(self) -> bool:
        return self.error is None


class BinaryReader(abc.ABC):
    """Reads one binary format."""

    #: Short name of the format, e.g. ``"elf"``.
    format: str = ""

    @abc.abstractmethod
    def matches(self, magic: bytes) -> bool:
        """True when ``magic`` (the first bytes of a file) is this format."""

    @abc.abstractmethod
    def read(self, path: str, anchors: Sequence[bytes] = ()) -> BinaryFacts:
        """Read ``path``; collect the strings in read-only data that contain any of ``anchors``.

        Never raises for unreadable, truncated or corrupt files: returns facts
        whose ``error`` says what went wrong (with whatever was read before).
        """
