"""Run the init-kind probe in child processes of the target Python and survive its crashes.

:func:`probe_init_kinds` hands the extension files to
``auditor/probe/initkind.py`` running in the target interpreter.  A file whose
``PyInit_*`` crashes or hangs the child is recorded as such (a crash is a
finding, not a scanner failure) and a new child carries on with the next file.
"""

from __future__ import annotations

import ast
import os
import select
import signal
import subprocess
import tempfile
import time
from typing import Any, Optional, Sequence

from interp_audit.probe import probe_path
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

#: Seconds a child gets to exit after reporting it is done.
_EXIT_GRACE = 5.0
_STDERR_TAIL = 2000


def slot_name(number: int) -> str:
    return SLOT_NAMES.get(number, f"slot {number}")


def _signal_name(returncode: Optional[int]) -> Optional[str]:
    if returncode is None or returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


class _Child:
    """One run of the probe over the files still to do."""

    def __init__(self, python: str, items: list[tuple[int, str, str]], workdir: str) -> None:
        request = os.path.join(workdir, "request.txt")
        with open(request, "w", encoding="utf-8") as handle:
            handle.write(repr({"extensions": items}))
        self.stderr_path = os.path.join(workdir, "stderr.txt")
        read_fd, write_fd = os.pipe()
        self.read_fd = read_fd
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [python, "-P", str(probe_path("initkind")), "@" + request, str(write_fd)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                pass_fds=(write_fd,),
                cwd=workdir,
            )
        os.close(write_fd)
        self.buffer = b""

    def events(self, timeout: float):
        """Yield events; yield ``{"event": "timeout"}`` when nothing ends within ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                try:
                    event = ast.literal_eval(line.decode("utf-8", "replace"))
                except (ValueError, SyntaxError):
                    continue
                if event.get("event") == "begin":
                    deadline = time.monotonic() + timeout
                yield event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                yield {"event": "timeout"}
                return
            ready, _, _ = select.select([self.read_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self.read_fd, 65536)
            if not chunk:
                return
            self.buffer += chunk

    def finish(self, kill: bool) -> int:
        if kill and self.process.poll() is None:
            self.process.kill()
        try:
            code = self.process.wait(timeout=_EXIT_GRACE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        os.close(self.read_fd)
        return code

    def stderr_tail(self) -> str:
        try:
            with open(self.stderr_path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - _STDERR_TAIL))
                return handle.read().decode("utf-8", "replace")
        except OSError:
            return ""


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
                child = _Child(python, pending, workdir)
            except OSError as exc:
                error = f"cannot run {python}: {exc.strerror or exc}"
                return [{"init": None, "error": error} for _ in extensions]
            current: Optional[int] = None
            timed_out = done = False
            for event in child.events(timeout):
                kind = event.get("event")
                if kind == "begin":
                    current = event.get("index")
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
                elif kind == "timeout":
                    timed_out = True
                    break
            code = child.finish(kill=timed_out or not done)
            if done:
                break
            by_index = {item[0]: item for item in pending}
            if current is None or current not in by_index:
                unresolved = [item for item in pending if item[0] not in results]
                if len(unresolved) < len(pending):
                    pending = unresolved  # it died between two files: carry on
                    continue
                # The child died before reaching any file: nothing to blame, nothing to retry.
                tail = child.stderr_tail()
                why = "timed out" if timed_out else f"exited with code {code}"
                for index, _module, _path in pending:
                    results.setdefault(
                        index,
                        {"init": None, "error": f"init probe {why} before reaching this file: {tail[-300:].strip()}"},
                    )
                break
            module = by_index[current][1]
            results[current] = _crash_result(module, code, timed_out, timeout, child.stderr_tail())
            position = [item[0] for item in pending].index(current)
            pending = [item for item in pending[position + 1 :] if item[0] not in results]
    return [results.get(index, {"init": None, "error": "not probed"}) for index in range(len(extensions))]


def _crash_result(module: str, code: int, timed_out: bool, timeout: float, stderr_tail: str) -> dict[str, Any]:
    symbol = init_function_name(module)
    name = _signal_name(code)
    if timed_out:
        error = f"{symbol} did not return within {timeout:g} s"
    elif name:
        error = f"{symbol} crashed the process ({name})"
    else:
        error = f"{symbol} ended the process (exit code {code})"
    crash = {
        "signal": None if timed_out else name,
        "returncode": None if timed_out else code,
        "timeout": timed_out,
        "culprit": module,
        "culprit_is_stdlib": False,
        "stderr_tail": stderr_tail,
    }
    return {"init": None, "error": error, "crash": crash}
