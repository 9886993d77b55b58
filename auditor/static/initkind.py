"""Run the init-kind probe in child processes of the target Python and survive its crashes.

:func:`probe_init_kinds` hands the extension files to
``auditor/probe/initkind.py`` running in the target interpreter.  A file whose
``PyInit_*`` crashes or hangs the child is recorded as such (a crash is a
finding, not a scanner failure) and a new child carries on with the next file.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any, Optional, Sequence

from interp_audit.model import to_dict
from interp_audit.probe import probe_path
from interp_audit.runtime.worker import CRASH_TAIL, EXIT_GRACE, ProbeProcess, ProbeRun, WorkerEnded
from interp_audit.static.evidence import init_function_name

#: Slot numbers of PyModuleDef_Slot (Include/moduleobject.h).  1-2 since 3.5,
#: 3 since 3.12, 4 since 3.13; 5-13 are the PEP 793 slots of 3.15.
SLOT_NAMES = {
    1: "Py_mod_create",
    2: "Py_mod_exec",
    3: "Py_mod_multiple_interpreters",
    4: "Py_mod_gil",
    5: "Py_mod_abi",
    6: "Py_mod_name",
    7: "Py_mod_doc",
    8: "Py_mod_state_size",
    9: "Py_mod_methods",
    10: "Py_mod_state_traverse",
    11: "Py_mod_state_clear",
    12: "Py_mod_state_free",
    13: "Py_mod_token",
}
PY_MOD_MULTIPLE_INTERPRETERS = 3
PY_MOD_GIL = 4
MULTIPLE_INTERPRETERS_VALUES = {0: "not-supported", 1: "supported", 2: "per-interpreter-gil"}
GIL_VALUES = {0: "used", 1: "not-used"}


def slot_name(number: int) -> str:
    return SLOT_NAMES.get(number, f"slot {number}")


def _start_child(python: str, items: list[tuple[int, str, str]], workdir: str) -> ProbeProcess:
    """A run of the probe over the files still to do."""
    request = os.path.join(workdir, "request.txt")
    with open(request, "w", encoding="utf-8") as handle:
        handle.write(repr({"extensions": items}))
    return ProbeProcess(python, probe_path("initkind"), ("@" + request,), cwd=workdir, tail_bytes=CRASH_TAIL)


def probe_init_kinds(
    python: str, extensions: Sequence[tuple[str, str]], *, timeout: float = 30.0
) -> list[dict[str, Any]]:
    """Call every extension's init function in children of ``python``.

    ``extensions`` are ``(dotted module name, path)`` pairs.  Returns one dict
    per extension, in order: the probe's result (``init``, ``m_size``,
    ``slots``, ``def_name``, ``source``, ``error``) or, for a file whose init
    crashed or hung the child, ``{"init": None, "error": ..., "crash": {...}}``
    with the keys of :class:`~interp_audit.model.Crash`.  ``timeout`` bounds
    each file (and the child's start-up).
    """
    python = os.path.abspath(python)  # the child runs in a scratch directory
    results: dict[int, dict[str, Any]] = {}
    pending = [(index, module, os.path.abspath(path)) for index, (module, path) in enumerate(extensions)]
    with tempfile.TemporaryDirectory(prefix="interp-audit-initkind-") as workdir:
        while pending:
            try:
                child = _start_child(python, pending, workdir)
            except OSError as exc:
                error = f"cannot run {python}: {exc.strerror or exc}"
                return [{"init": None, "error": error} for _ in extensions]
            current: Optional[int] = None
            timed_out = done = False
            deadline = time.monotonic() + timeout  # for the start-up, then for each file
            while True:
                try:
                    event = child.next_event(max(0.0, deadline - time.monotonic()))
                except WorkerEnded:
                    break
                if event is None:
                    timed_out = True
                    break
                kind = event.get("event")
                if kind == "begin":
                    current = event.get("index")
                    deadline = time.monotonic() + timeout
                elif kind == "result":
                    index = event.pop("index", None)
                    event.pop("event", None)
                    if index is not None:
                        results[index] = event
                elif kind == "end":
                    current = None
                elif kind == "done":
                    done = True
                    break
            child.close(EXIT_GRACE if done else 0)
            if done:
                break
            run = child.ended(timed_out)
            by_index = {item[0]: item for item in pending}
            if current is None or current not in by_index:
                unresolved = [item for item in pending if item[0] not in results]
                if len(unresolved) < len(pending):
                    pending = unresolved  # it died between two files: carry on
                    continue
                # The child died before reaching any file: nothing to blame, nothing to retry.
                tail = run.output_tail
                why = "timed out" if timed_out else f"exited with code {child.returncode}"
                for index, _module, _path in pending:
                    results.setdefault(
                        index,
                        {"init": None, "error": f"init probe {why} before reaching this file: {tail[-300:].strip()}"},
                    )
                break
            module = by_index[current][1]
            results[current] = _crash_result(module, run, timeout)
            position = [item[0] for item in pending].index(current)
            pending = [item for item in pending[position + 1 :] if item[0] not in results]
    return [results.get(index, {"init": None, "error": "not probed"}) for index in range(len(extensions))]


def _crash_result(module: str, run: ProbeRun, timeout: float) -> dict[str, Any]:
    symbol = init_function_name(module)
    if run.timed_out:
        error = f"{symbol} did not return within {timeout:g} s"
    elif run.signal:
        error = f"{symbol} crashed the process ({run.signal})"
    else:
        error = f"{symbol} ended the process (exit code {run.returncode})"
    crash = to_dict(run.crash(culprit=module))
    del crash["at_shutdown"]  # only the import ladder tells a crash at shutdown
    return {"init": None, "error": error, "crash": crash}
