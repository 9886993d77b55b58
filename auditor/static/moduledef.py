"""Find ``PyModuleDef`` structures in a binary's data and decode their slots, running nothing.

A multi-phase module's ``PyInit_*`` returns ``PyModuleDef_Init(&def)``; the
declared slots (``Py_mod_multiple_interpreters``, ``Py_mod_gil``) sit in
``def.m_slots``.  Both are initialised data, so they can be read from the file:

* a ``PyModuleDef`` (64-bit) is the ``PyModuleDef_HEAD_INIT`` head -- a
  reference count, a NULL ``ob_type``, NULL ``m_init``, 0 ``m_index``, NULL
  ``m_copy`` -- then ``m_name`` (a pointer the loader relocates to a C string),
  ``m_doc``, ``m_size``, ``m_methods``, ``m_slots``, ``m_traverse``,
  ``m_clear``, ``m_free`` (each NULL or relocated).  Free-threaded builds have a
  32-byte PyObject head (``ob_tid``, flags, local and shared counts, type);
* ``m_slots`` points at ``{int slot; void *value;}`` pairs ending with ``{0, NULL}``:
  ``Py_mod_create``/``Py_mod_exec`` values are relocated function pointers,
  ``Py_mod_multiple_interpreters``/``Py_mod_gil`` values are small numbers
  stored in place.

Pointers are recognised by their load-time relocations, never by guessing at
numbers.  Anything that does not have this exact shape is not a
``PyModuleDef``; a slot array that lies in zero-filled data (filled at run
time, as pybind11 does) or holds a relocated value where a number belongs is
reported as undecodable.  :func:`tail_call_argument` reads the first argument
``PyInit_*`` loads before a tail call, which names the def when ``m_name``
differs from the module's name.

Format-neutral: a reader describes its file as an :class:`Image`.
"""

from __future__ import annotations

import bisect
import re
from typing import Optional, Union

from interp_audit.static.interface import EXPORT_PREFIXES, INIT_PREFIXES, ModuleDef

WORD = 8
#: PyObject head sizes: the default build, the free-threaded build (3.13t+).
HEADS = ((16, "default"), (32, "free-threaded"))
#: Low 32 bits of the reference count PyModuleDef_HEAD_INIT stores: 1 (up to 3.11),
#: immortal UINT_MAX >> 2 (3.12), UINT_MAX (3.13), 3 << 30 (3.14+, flags in the high bits).
HEAD_COUNTS = frozenset((1, 0x3FFFFFFF, 0xFFFFFFFF, 0xC0000000))
#: Fields between the PyObject head and m_name: m_init, m_index, m_copy.
BASE_TAIL = 3 * WORD
SLOT_ENTRY = 16  # int slot, 4 bytes of padding, void *value
#: Slots whose value is a number, not a pointer (Py_mod_multiple_interpreters, Py_mod_gil,
#: Py_mod_state_size of PEP 793).
VALUE_SLOTS = (3, 4, 8)
PY_MOD_STATE_SIZE = 8
#: Highest slot number of any released CPython header (3.15 adds PEP 793's 5-13).
LAST_KNOWN_SLOT = 13
MAX_SLOTS = 64
MAX_NAME = 200
#: Largest plausible m_size (bytes of per-module state).
MAX_M_SIZE = 1 << 40
_NAME = re.compile(r"[^\W\d][\w.]*")

Target = Union[int, str]  # an address in this file, or the name of an imported symbol


class Image:
    """A 64-bit little-endian binary as laid out in memory, with its load-time relocations.

    ``ranges`` are ``(address, size, file offset or None)`` for every part of
    memory the file describes (None: zero-filled, like ``.bss``);
    ``relocations`` maps an address to what the loader stores there.
    """

    def __init__(
        self,
        data,
        ranges: list[tuple[int, int, Optional[int]]],
        relocations: dict[int, Target],
        zero_filled_sizes: Optional[dict[int, int]] = None,
    ):
        self.data = data
        self.ranges = sorted((r for r in ranges if r[1] > 0), key=lambda r: r[0])
        self._starts = [r[0] for r in self.ranges]
        self.relocations = relocations
        #: address -> size of the variables in zero-filled memory, from a full symbol table
        self.zero_filled_sizes = zero_filled_sizes or {}

    def _locate(self, address: int, size: int) -> Optional[tuple[int, Optional[int], int]]:
        """``(range start, file offset, range end)`` of the range holding ``address..+size``."""
        index = bisect.bisect_right(self._starts, address) - 1
        if index < 0:
            return None
        start, length, offset = self.ranges[index]
        if address + size > start + length:
            return None
        return start, offset, start + length

    def file_backed(self, address: int, size: int = WORD) -> bool:
        found = self._locate(address, size)
        return found is not None and found[1] is not None

    def bytes_at(self, address: int, size: int, clip: bool = False) -> Optional[bytes]:
        """``size`` bytes at ``address`` (with ``clip``: fewer where its range ends first)."""
        found = self._locate(address, 1 if clip else size)
        if found is None:
            return None
        start, offset, end = found
        size = min(size, end - address)
        if offset is None:
            return bytes(size)
        begin = offset + address - start
        return bytes(self.data[begin : begin + size]) if begin + size <= len(self.data) else None

    def word(self, address: int) -> Optional[int]:
        raw = self.bytes_at(address, WORD)
        return None if raw is None else int.from_bytes(raw, "little")

    def cstring(self, address: int, limit: int = MAX_NAME) -> Optional[str]:
        found = self._locate(address, 1)
        if found is None or found[1] is None:
            return None
        start, offset, end = found
        raw = self.bytes_at(address, min(limit + 1, end - address))
        if raw is None or b"\0" not in raw:
            return None
        try:
            return raw[: raw.index(b"\0")].decode("utf-8")
        except UnicodeDecodeError:
            return None

    def null(self, address: int) -> bool:
        """A pointer field the loader leaves alone and that holds 0."""
        return address not in self.relocations and self.word(address) == 0

    def null_or_pointer(self, address: int) -> bool:
        return address in self.relocations or self.word(address) == 0


def find_module_defs(image: Image) -> list[ModuleDef]:
    """Every structure in ``image`` with the exact shape of a PyModuleDef, by address."""
    found: dict[int, ModuleDef] = {}
    relocations = image.relocations
    for name_at, target in relocations.items():
        if not isinstance(target, int):
            continue
        copy_at = name_at - WORD
        if copy_at in relocations or image.word(copy_at) != 0:  # cheap rejection first
            continue
        for head, layout in HEADS:
            start = name_at - BASE_TAIL - head
            if start not in found and _has_head(image, start, head):
                module_def = _read_def(image, start, name_at, target, layout)
                if module_def is not None:
                    found[start] = module_def
    return [found[address] for address in sorted(found)]


def _has_head(image: Image, start: int, head: int) -> bool:
    """PyModuleDef_HEAD_INIT: a count, NULL type, NULL m_init, 0 m_index, NULL m_copy."""
    if start in image.relocations:
        return False
    if head == 16:
        count_ok = (image.word(start) or 0) & 0xFFFFFFFF in HEAD_COUNTS
    else:  # ob_tid 0, then flags/mutex/gc bits and a non-zero local count, shared count 0
        count_ok = image.null(start) and bool(image.word(start + WORD)) and image.null(start + 2 * WORD)
    return count_ok and all(image.null(start + head - WORD + i * WORD) for i in range(4))


def _read_def(image: Image, start: int, name_at: int, name_target: int, layout: str) -> Optional[ModuleDef]:
    name = image.cstring(name_target)
    if not name or not _NAME.fullmatch(name):
        return None
    doc_at, size_at, methods_at, slots_at = (name_at + i * WORD for i in (1, 2, 3, 4))
    if size_at in image.relocations:
        return None
    m_size = image.word(size_at)
    if m_size is None:
        return None
    m_size = m_size - (1 << 64) if m_size >= 1 << 63 else m_size
    if not -1 <= m_size < MAX_M_SIZE:
        return None
    pointers = (doc_at, methods_at, slots_at) + tuple(name_at + i * WORD for i in (5, 6, 7))
    if not all(image.null_or_pointer(at) for at in pointers):
        return None
    slots, error = None, None
    if slots_at in image.relocations:
        slots, error = decode_slots(image, image.relocations[slots_at])
    return ModuleDef(address=start, name=name, m_size=m_size, slots=slots, slots_error=error, header=layout)


def decode_slots(image: Image, target: Target) -> tuple[Optional[tuple], Optional[str]]:
    """``(slots, None)`` or ``(None, why not)`` for the slot array at ``target``."""
    if not isinstance(target, int):
        return None, f"m_slots points at the imported symbol {target}"
    if not image.file_backed(target, SLOT_ENTRY):
        if image.zero_filled_sizes.get(target) == SLOT_ENTRY:
            return (), None  # room for one entry only: the {0, NULL} terminator
        return None, "m_slots points at zero-filled data (.bss): the slots may be filled in at run time"
    slots = []
    for index in range(MAX_SLOTS):
        at = target + index * SLOT_ENTRY
        raw = image.bytes_at(at, SLOT_ENTRY)
        if raw is None:
            return None, "m_slots runs past the end of its section"
        if at in image.relocations:
            return None, f"slot entry {index} has a relocated slot number"
        number = int.from_bytes(raw[:4], "little", signed=True)
        value_at = at + WORD
        relocated = value_at in image.relocations
        value = int.from_bytes(raw[WORD:], "little")
        if number == 0:
            if relocated or value:
                return None, f"slot entry {index} has number 0 but a value"
            return tuple(slots), None
        if not 0 < number <= LAST_KNOWN_SLOT:
            return None, f"slot entry {index} has the unknown number {number}"
        if number in VALUE_SLOTS:
            if relocated:
                return None, f"slot {number} holds a pointer where a number belongs"
            slots.append((number, value))
        else:
            if not relocated:
                return None, f"slot {number} holds no relocated pointer"
            slots.append((number, None))
    return None, f"m_slots has no terminating {{0, NULL}} entry within {MAX_SLOTS} entries"


# --------------------------------------------------------------------------- PyInit_* code

_ENDBR64 = b"\xf3\x0f\x1e\xfa"
#: lea REG, [rip+X] for the register of the first argument: System V (rdi) or Windows x64 (rcx).
_LEA_RIP = {"rdi": b"\x48\x8d\x3d", "rcx": b"\x48\x8d\x0d"}
_MOV_ESI = b"\xbe"  # mov esi, imm32
_SUB_RSP, _ADD_RSP = b"\x48\x83\xec", b"\x48\x83\xc4"  # with an 8-bit immediate
#: jmp rel32, jmp [rip+d] (plain, REX.W as MSVC writes it, with bnd/notrack prefixes)
_X86_TAIL = (b"\xe9", b"\xff\x25", b"\x48\xff\x25", b"\x3e\xff\x25", b"\xf2\xe9", b"\xf2\xff\x25")
_MOV_W1 = 0x52800001  # movz w1, #imm16
_AARCH64_PROLOGUE = (0xD503245F, 0xD503233F)  # bti c, paciasp


def tail_call_argument(machine: Optional[str], code: bytes, address: int, first_argument: str = "rdi") -> Optional[int]:
    """The address ``PyInit_*`` at ``address`` passes as first argument to its last call, or None.

    ``first_argument`` is ``"rcx"`` for Windows x64.  Only the shape
    ``[endbr64] lea rdi, [rip+X]; jmp ...`` (x86-64; or framed as
    ``sub rsp, N; lea ...; call ...; add rsp, N; ret``) or
    ``[bti c] adrp x0, P; add x0, x0, #O; b ...`` (aarch64) is recognised: the
    optimised ``return PyModuleDef_Init(&def);`` (or ``PyModule_Create2(&def, N)``,
    with a ``mov esi, N`` / ``mov w1, N`` next to the address).
    """
    if machine == "x86_64":
        pos = len(_ENDBR64) if code.startswith(_ENDBR64) else 0
        framed = code[pos : pos + 3] == _SUB_RSP
        if framed:  # sub rsp, N; lea rdi, [rip+X]; call ...; add rsp, N; ret
            pos += 4
        if code[pos : pos + 1] == _MOV_ESI:  # PyModule_Create2(&def, PYTHON_API_VERSION)
            pos += 5
        if code[pos : pos + 3] != _LEA_RIP[first_argument] or len(code) < pos + 9:
            return None
        displacement = int.from_bytes(code[pos + 3 : pos + 7], "little", signed=True)
        after = code[pos + 7 :]
        if after[:1] == _MOV_ESI:
            after = after[5:]
        if framed:
            if not (after[:1] == b"\xe8" and after[5:8] == _ADD_RSP and after[9:10] == b"\xc3"):
                return None
        elif not after.startswith(_X86_TAIL):
            return None
        return address + pos + 7 + displacement
    if machine == "aarch64":
        words = [int.from_bytes(code[i : i + 4], "little") for i in range(0, len(code) - 3, 4)]
        pos = 1 if words and words[0] in _AARCH64_PROLOGUE else 0
        if len(words) < pos + 3:
            return None
        if words[pos] & 0xFFE0001F == _MOV_W1:  # PyModule_Create2(&def, N)
            pos += 1
        if len(words) < pos + 3:
            return None
        adrp, add, branch = words[pos : pos + 3]
        if branch & 0xFFE0001F == _MOV_W1 and len(words) > pos + 3:
            branch = words[pos + 3]
        if branch & 0xFC000000 != 0x14000000:
            return None
        return _adrp_add(adrp, add, address + 4 * pos)
    return None


def _adrp_add(adrp: int, add: int, pc: int) -> Optional[int]:
    """The address ``adrp x0, P; add x0, x0, #O`` at ``pc`` puts in x0, or None for other instructions."""
    if adrp & 0x9F00001F != 0x90000000 or add & 0xFFC003FF != 0x91000000:
        return None
    immediate = ((adrp >> 5) & 0x7FFFF) << 2 | (adrp >> 29) & 0x3
    if immediate & (1 << 20):
        immediate -= 1 << 21
    return (pc & ~0xFFF) + (immediate << 12) + ((add >> 10) & 0xFFF)


_RET = b"\xc3"
_LEA_RAX_RIP = b"\x48\x8d\x05"
_AARCH64_RET = 0xD65F03C0
#: Bytes of an exported entry point decoded.
ENTRY_CODE = 32


def returned_address(machine: Optional[str], code: bytes, address: int) -> Optional[int]:
    """The address a PEP 793 export hook returns when its code is ``return slots;``, or None.

    x86-64 ``[endbr64] lea rax, [rip+X]; ret``; aarch64 ``[bti c] adrp x0, P; add x0, x0, #O; ret``.
    """
    if machine == "x86_64":
        pos = len(_ENDBR64) if code.startswith(_ENDBR64) else 0
        if code[pos : pos + 3] != _LEA_RAX_RIP or code[pos + 7 : pos + 8] != _RET:
            return None
        return address + pos + 7 + int.from_bytes(code[pos + 3 : pos + 7], "little", signed=True)
    if machine == "aarch64":
        words = [int.from_bytes(code[i : i + 4], "little") for i in range(0, len(code) - 3, 4)]
        pos = 1 if words and words[0] in _AARCH64_PROLOGUE else 0
        if len(words) < pos + 3 or words[pos + 2] != _AARCH64_RET:
            return None
        return _adrp_add(words[pos], words[pos + 1], address + 4 * pos)
    return None


def read_entry_points(image: Image, machine: Optional[str], exports: dict[str, int], first_argument: str = "rdi",
                      ) -> tuple[dict[str, int], dict[str, tuple]]:
    """``(init_loads, export_slots)`` of :class:`BinaryFacts` from the exported entry points' code."""
    init_loads, export_slots = {}, {}
    for name, address in exports.items():
        code = image.bytes_at(address, ENTRY_CODE, clip=True)
        if not code:
            continue
        if name.startswith(INIT_PREFIXES):
            loaded = tail_call_argument(machine, code, address, first_argument)
            if loaded is not None:
                init_loads[name] = loaded
        elif name.startswith(EXPORT_PREFIXES):
            returned = returned_address(machine, code, address)
            export_slots[name] = decode_slots(image, returned) if returned is not None else (
                None, f"{name} does more than return a static slot array")
    return init_loads, export_slots


# --------------------------------------------------------------------------- choosing a module's def


def select_module_def(
    defs: list[ModuleDef], init_loads: dict[str, int], module: str, init_symbol: str
) -> tuple[Optional[ModuleDef], Optional[str], Optional[str]]:
    """``(def, found by, None)`` for ``module``, or ``(None, None, why not)``.

    The def whose address ``init_symbol``'s code passes on is taken first
    (``"init code"``); otherwise the one whose m_name is the module's dotted
    name or its last part (``"name"``).  Several such defs that differ leave it
    undecided.
    """
    by_address = {d.address: d for d in defs}
    loaded = init_loads.get(init_symbol)
    if loaded in by_address:
        return by_address[loaded], "init code", None
    leaf = module.rpartition(".")[2]
    named = [d for d in defs if d.name in (module, leaf)]
    if not named:
        return None, None, f"no PyModuleDef named {leaf!r} in the initialised data"
    if len({(d.m_size, d.slots, d.slots_error) for d in named}) > 1:
        return None, None, f"{len(named)} different PyModuleDefs are named {leaf!r}"
    return named[0], "name", None
