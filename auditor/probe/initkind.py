"""Init-kind probe: call each extension's ``PyInit_<name>`` and read what it returns.

Run by the *target* interpreter as ``python -P initkind.py REQUEST EVENTS_FD``;
standard library only, it never imports interp_audit.  REQUEST is a Python
literal (dict), or ``@FILE`` naming a file that holds one, with:

* ``extensions`` -- a list of ``(index, dotted module name, path)``.

For each extension the shared library is loaded with :class:`ctypes.PyDLL`
and its init function is called with ``restype=c_void_p``, so Python never
owns (nor frees) what it returns:

* a multi-phase init returns a *borrowed* ``PyModuleDef`` whose ``ob_type``
  is ``&PyModuleDef_Type``: its ``m_size`` and ``m_slots`` are read in place
  (nothing of the module runs);
* a single-phase init has already built its module (its code ran in this
  throwaway process) and returns it: ``PyModule_GetDef`` gives ``m_size``.

Events, one ``repr()`` of a dict per ``os.write`` to EVENTS_FD:

* ``{"event": "begin", "index": ...}`` before touching a file and
  ``{"event": "end", "index": ...}`` after it: a crash leaves a ``begin``
  without its ``end`` and so names the file;
* ``{"event": "result", "index": ..., "init": "multi-phase"|"single-phase"|None,
  "m_size": ..., "slots": [[number, value or None], ...], "def_name": ...,
  "source": "initfunc"|"sys.modules", "error": ...}``; slot values are
  reported only for slots whose value is a number, not a function;
* ``{"event": "done"}`` at the end.
"""

import os
import sys

#: Slots whose value is a small number rather than a function pointer.
VALUE_SLOTS = (3, 4)  # Py_mod_multiple_interpreters, Py_mod_gil
#: Stop walking m_slots after this many entries (an unterminated array).
MAX_SLOTS = 64
MAX_TEXT = 1000


def _emit(fd, event):
    os.write(fd, (repr(event) + "\n").encode("utf-8", "backslashreplace"))


def init_function_name(module):
    """The export CPython calls for ``module`` (PyInit_ or PEP 489 PyInitU_)."""
    leaf = module.rpartition(".")[2]
    try:
        leaf.encode("ascii")
    except UnicodeEncodeError:
        return "PyInitU_" + leaf.encode("punycode").decode("ascii").replace("-", "_")
    return "PyInit_" + leaf


class _Layout:
    """Offsets of PyObject and PyModuleDef fields in this build of CPython."""

    def __init__(self, ctypes):
        self.ctypes = ctypes
        self.ptr = ctypes.sizeof(ctypes.c_void_p)
        head = object.__basicsize__  # sizeof(PyObject): differs in free-threaded builds
        self.ob_type = head - self.ptr  # ob_type is the last field of PyObject
        fields = head + 3 * self.ptr  # after m_init, m_index, m_copy
        self.m_name = fields
        self.m_size = fields + 2 * self.ptr
        self.m_slots = fields + 4 * self.ptr
        self.moduledef_type = ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, "PyModuleDef_Type"))

        class Slot(ctypes.Structure):
            _fields_ = [("slot", ctypes.c_int), ("value", ctypes.c_void_p)]

        self.Slot = Slot
        get_def = ctypes.pythonapi.PyModule_GetDef
        get_def.restype = ctypes.c_void_p
        get_def.argtypes = [ctypes.py_object]
        self.get_def = get_def

    def pointer(self, address):
        return self.ctypes.c_void_p.from_address(address).value

    def read_def(self, address, result):
        ctypes = self.ctypes
        name = self.pointer(address + self.m_name)
        if name:
            result["def_name"] = ctypes.string_at(name).decode("utf-8", "replace")[:200]
        result["m_size"] = ctypes.c_ssize_t.from_address(address + self.m_size).value
        slots_at = self.pointer(address + self.m_slots)
        slots = []
        if slots_at:
            size = ctypes.sizeof(self.Slot)
            for index in range(MAX_SLOTS + 1):
                if index == MAX_SLOTS:
                    result["error"] = "m_slots has no terminating {0, NULL} entry within %d entries" % MAX_SLOTS
                    break
                entry = self.Slot.from_address(slots_at + index * size)
                if entry.slot == 0:
                    break
                value = (entry.value or 0) if entry.slot in VALUE_SLOTS else None
                slots.append([entry.slot, value])
        result["slots"] = slots
        result["has_slots"] = bool(slots_at)


def _same_file(module_object, path):
    try:
        return os.path.realpath(module_object.__file__) == os.path.realpath(path)
    except Exception:
        return False


def _from_module(layout, module_object, result):
    """Classify a module object that already exists (made by a single-phase init)."""
    address = layout.get_def(module_object)
    if not address:
        result["init"] = "single-phase"
        result["m_size"] = None
        return
    layout.read_def(address, result)
    # A module made from a def with slots went through multi-phase creation.
    result["init"] = "multi-phase" if result.get("has_slots") else "single-phase"


def probe_one(layout, module, path):
    """Load ``path`` and call its init function; return the result dict."""
    import ctypes
    import types

    result = {"event": "result", "init": None, "source": "initfunc", "error": None}
    existing = sys.modules.get(module)
    if isinstance(existing, types.ModuleType) and _same_file(existing, path):
        # An earlier single-phase init imported it: calling the init again could
        # fail ("may only be initialized once"); read the live module instead.
        result["source"] = "sys.modules"
        _from_module(layout, existing, result)
        return result
    symbol = init_function_name(module)
    try:
        library = ctypes.PyDLL(path, mode=sys.getdlopenflags())
    except OSError as exc:
        result["error"] = ("cannot load: %s" % exc)[:MAX_TEXT]
        return result
    try:
        function = getattr(library, symbol)
    except AttributeError:
        result["error"] = "exports no %s" % symbol
        return result
    function.restype = ctypes.c_void_p
    function.argtypes = []
    try:
        address = function()
    except BaseException as exc:  # the init raised: PyDLL turns the set error into this
        result["error"] = ("%s raised %s: %s" % (symbol, type(exc).__name__, exc))[:MAX_TEXT]
        return result
    if not address:
        result["error"] = "%s returned NULL without setting an exception" % symbol
        return result
    if layout.pointer(address + layout.ob_type) == layout.moduledef_type:
        result["init"] = "multi-phase"
        layout.read_def(address, result)
        return result
    returned = ctypes.cast(ctypes.c_void_p(address), ctypes.py_object).value
    if isinstance(returned, types.ModuleType):
        _from_module(layout, returned, result)
        result["init"] = "single-phase"
        return result
    result["error"] = "%s returned a %s, not a module or PyModuleDef" % (symbol, type(returned).__name__)
    return result


def main(argv):
    import ast
    import ctypes

    request = argv[1]
    if request.startswith("@"):
        with open(request[1:], encoding="utf-8") as handle:
            request = handle.read()
    request = ast.literal_eval(request)
    fd = int(argv[2])
    layout = _Layout(ctypes)
    for index, module, path in request["extensions"]:
        _emit(fd, {"event": "begin", "index": index})
        try:
            result = probe_one(layout, module, path)
        except Exception as exc:
            result = {
                "event": "result",
                "init": None,
                "error": ("probe failed: %s: %s" % (type(exc).__name__, exc))[:MAX_TEXT],
            }
        result["index"] = index
        result.pop("has_slots", None)
        _emit(fd, result)
        _emit(fd, {"event": "end", "index": index})
    _emit(fd, {"event": "done"})
    # Skip interpreter finalization: modules initialised here may have started
    # threads or registered exit handlers that hang or crash at shutdown.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
