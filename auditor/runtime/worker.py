"""Run probe scripts in processes of the target interpreter, and read their events.

The one process runner of the parent side: every probe process (the import
ladder, the smoke checks, the init-kind probe, the pytest plugin's child)
starts, is read, is killed and is described here.

A probe reports through events written to an inherited file descriptor
(see ``auditor/probe/events.py``): one ``repr()`` of a dict a line,
each written with one ``os.write``, so everything written before a crash
survives it.  Output the audited package prints is drained and only its tail
kept, so a package that floods stdout cannot fill memory or disk.  A hang is
ended by killing the whole process group.

* :func:`run_probe` -- one request, one fresh process, events from a file;
* :class:`ProbeProcess` -- a process streaming its events back through a pipe
  as they happen;
* :class:`LiveWorker` -- a long-lived one taking requests one line at a time;
* :func:`open_steps` -- the ``begin`` events still without their ``end``: what
  was going on when a process died;
* :func:`signal_name`, :func:`exit_description` -- how a process ended.
"""

from __future__ import annotations

import ast
import collections
import marshal
import os
import re
import select
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

from ..model import Crash

TAIL_BYTES = 4096
#: The output tail a :class:`~interp_audit.model.Crash` keeps.
CRASH_TAIL = 2000
#: Seconds a process gets to exit once it is done (or has closed its events pipe) before it is killed.
EXIT_GRACE = 5.0


@dataclass
class ProbeRun:
    """What one probe process did."""

    events: list[dict[str, Any]] = field(default_factory=list)
    returncode: Optional[int] = None
    timed_out: bool = False
    output_tail: str = ""
    seconds: float = 0.0

    @property
    def signal(self) -> Optional[str]:
        """Name of the signal that killed the process, if any."""
        return signal_name(self.returncode)

    @property
    def died(self) -> bool:
        """True when the process crashed, hung or exited with an error status."""
        return self.timed_out or self.returncode not in (0, None)

    def unfinished_imports(self) -> list[tuple[str, str]]:
        """(where, module) of every import that began but never ended, oldest first."""
        return [(where, name) for where, kind, name in open_steps(self.events) if kind == "module"]

    def crash(self, culprit: Optional[str] = None, culprit_is_stdlib: bool = False, hang: bool = False) -> Crash:
        """The :class:`~interp_audit.model.Crash` of this run; ``hang``: the probe said it hung."""
        return Crash(
            signal=self.signal,
            returncode=self.returncode,
            timeout=self.timed_out or hang,
            culprit=culprit,
            culprit_is_stdlib=culprit_is_stdlib,
            stderr_tail=self.output_tail[-CRASH_TAIL:],
        )


class OpenSteps:
    """The ``begin`` events still without their ``end``, followed as events come.

    :attr:`steps` holds ``(where, kind, name)``, oldest first; ``kind`` is
    ``module`` (an import in progress) or ``step`` (a snippet, a touched
    attribute, an interpreter being destroyed...).
    """

    def __init__(self) -> None:
        self.steps: list[tuple[str, str, str]] = []

    def add(self, event: dict[str, Any]) -> None:
        """Follow one event (any event: only ``begin`` and ``end`` of a module or step count)."""
        kind = "module" if "module" in event else "step" if "step" in event else None
        if kind is None or event.get("event") not in ("begin", "end"):
            return
        key = (str(event.get("where")), kind, str(event[kind]))
        if event["event"] == "begin":
            self.steps.append(key)
        elif key in self.steps:
            del self.steps[len(self.steps) - 1 - self.steps[::-1].index(key)]


def open_steps(events: Iterable[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """``(where, kind, name)`` of every ``begin`` without its ``end``, oldest first (see :class:`OpenSteps`)."""
    still = OpenSteps()
    for event in events:
        still.add(event)
    return still.steps


def _drain(stream, tail: collections.deque, limit: int) -> None:
    for chunk in iter(lambda: stream.read(1024), b""):
        tail.append(chunk)
        while sum(len(c) for c in tail) > limit and len(tail) > 1:
            tail.popleft()


# The begin/end markers are most of a probe's output: parsed without literal_eval (with the
# smoke probe's time stamp ``t`` when there is one).
_MARKER = re.compile(r"\{'event': '(begin|end)', '(module|step)': '([^'\\\x00]*)', 'where': '([^'\\\x00]*)'"
                     r"(?:, 't': ([0-9.e+-]+))?\}")
# CPython 3.11 before 3.11.8 can fail compile() in two threads at once ("AST constructor
# recursion depth mismatch", gh-106905): the scan parses probe output in worker threads.
_LITERAL_EVAL = threading.Lock()


def parse_event(line: str) -> Optional[dict[str, Any]]:
    """The event written as ``line``, or None for a line cut short by a crash."""
    marker = _MARKER.fullmatch(line)
    if marker:
        event, kind, name, where, stamp = marker.groups()
        parsed: dict[str, Any] = {"event": event, kind: name, "where": where}
        if stamp is not None:
            parsed["t"] = float(stamp)
        return parsed
    try:
        with _LITERAL_EVAL:
            event = ast.literal_eval(line)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return event if isinstance(event, dict) else None


def _parse_events(data: bytes) -> list[dict[str, Any]]:
    events = (parse_event(line) for line in data.decode("utf-8", "replace").splitlines())
    return [event for event in events if event is not None]


def signal_name(returncode: Optional[int]) -> Optional[str]:
    """``SIGSEGV`` (``signal N`` when it has no name) for a process killed by a signal, else None."""
    if returncode is None or returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def exit_description(returncode: int) -> str:
    """``SIGSEGV (signal 11)`` for a process killed by a signal, else ``exit status N``."""
    name = signal_name(returncode)
    if name is None:
        return "exit status %d" % returncode
    return name if name.startswith("signal ") else "%s (signal %d)" % (name, -returncode)


def _start(command: list[str], pass_fds: tuple[int, ...], cwd, env,
           tail_bytes: int = TAIL_BYTES) -> tuple[subprocess.Popen, collections.deque, threading.Thread]:
    """Start ``command`` in its own process group, its output drained into a tail of ``tail_bytes``."""
    process = subprocess.Popen(command, pass_fds=pass_fds, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, cwd=cwd, env=env, start_new_session=True)
    tail: collections.deque = collections.deque()
    reader = threading.Thread(target=_drain, args=(process.stdout, tail, tail_bytes), daemon=True)
    reader.start()
    return process, tail, reader


def kill_group(process: subprocess.Popen) -> None:
    """Kill ``process`` and everything in its process group (it was started in a session of its own)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _tail_text(tail: collections.deque, limit: int = TAIL_BYTES) -> str:
    return b"".join(tail).decode("utf-8", "replace")[-limit:]


#: Longest request passed on the command line; a longer one goes through a file (``@PATH``).
MAX_REQUEST_ARGUMENT = 64 * 1024


def encode_request(request: dict[str, Any], directory: str) -> str:
    """``request`` as the probe's REQUEST argument: ``marshal`` data in hex, which the probe decodes
    without importing anything (``read_request`` of ``auditor/probe/events.py``); when it is
    longer than :data:`MAX_REQUEST_ARGUMENT`, ``@PATH`` of a file in ``directory`` holding it."""
    text = marshal.dumps(request, 4).hex()  # version 4: read by every CPython >= 3.4
    if len(text) <= MAX_REQUEST_ARGUMENT:
        return text
    path = os.path.join(directory, "request")
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)
    return "@" + path


def run_probe(python: str, script: Path, request: dict[str, Any], timeout: float,
              env: Optional[dict[str, str]] = None) -> ProbeRun:
    """Run ``python -P script REQUEST FD`` (REQUEST: :func:`encode_request`) and collect its events.

    Never raises for anything the probe does; raises OSError only when the
    interpreter cannot be started at all.
    """
    run = ProbeRun()
    with tempfile.TemporaryFile() as events_file, tempfile.TemporaryDirectory() as cwd:
        fd = events_file.fileno()
        os.set_inheritable(fd, True)
        started = time.monotonic()
        command = [python, "-P", str(script), encode_request(request, cwd), str(fd)]
        process, tail, reader = _start(command, (fd,), cwd, env)
        try:
            run.returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            run.timed_out = True
            kill_group(process)
            run.returncode = None
        reader.join(timeout=5)
        process.stdout.close()
        run.seconds = time.monotonic() - started
        run.output_tail = _tail_text(tail)
        events_file.seek(0)
        run.events = _parse_events(events_file.read())
    return run


class WorkerEnded(Exception):
    """The process closed its events pipe and every event it wrote has been read."""


class ProbeProcess:
    """A ``python -P SCRIPT ARGS... EVENTS_FD`` process whose events are read as they come.

    ``pass_fds`` are the descriptors named in ARGS that it inherits.  The
    process runs in its own group, so :meth:`kill` also ends whatever it
    started; its stdout and stderr are drained into a tail of ``tail_bytes``.
    Raises OSError when the interpreter cannot be started.
    """

    def __init__(self, python: str, script: Path, args: tuple[str, ...] = (), pass_fds: tuple[int, ...] = (),
                 cwd=None, env=None, tail_bytes: int = TAIL_BYTES):
        self.tail_bytes = tail_bytes
        self._events_fd, events_write = os.pipe()
        command = [python, "-P", str(script), *args, str(events_write)]
        try:
            self.process, self._tail, self._reader = _start(command, (*pass_fds, events_write), cwd, env, tail_bytes)
        except OSError:
            os.close(self._events_fd)
            raise
        finally:
            os.close(events_write)
        self._buffer = b""
        self._ready: collections.deque = collections.deque()

    @property
    def pid(self) -> int:
        return self.process.pid

    def next_event(self, timeout: Optional[float]) -> Optional[dict[str, Any]]:
        """The next event; None when none came within ``timeout`` seconds (None: wait forever).

        Raises :class:`WorkerEnded` once the process closed its end and all
        its events were read; by then it has exited (see :attr:`returncode`),
        or been killed when it did not within :data:`EXIT_GRACE` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ready:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            readable, _, _ = select.select([self._events_fd], [], [], left)
            if not readable:
                return None
            chunk = os.read(self._events_fd, 1 << 16)
            if not chunk:
                self._wait(EXIT_GRACE)
                raise WorkerEnded()
            *lines, self._buffer = (self._buffer + chunk).split(b"\n")
            events = (parse_event(line.decode("utf-8", "replace")) for line in lines)
            self._ready.extend(event for event in events if event is not None)
        return self._ready.popleft()

    @property
    def returncode(self) -> Optional[int]:
        return self.process.poll()

    def output_tail(self) -> str:
        """The last bytes the process wrote to stdout and stderr."""
        return _tail_text(self._tail, self.tail_bytes)

    def kill(self) -> None:
        """End the process and everything in its group."""
        kill_group(self.process)
        self._reader.join(timeout=5)

    def ended(self, timed_out: bool) -> ProbeRun:
        """How the ended process went, to describe its crash (no return code for one killed on a timeout)."""
        return ProbeRun(returncode=None if timed_out else self.returncode, timed_out=timed_out,
                        output_tail=self.output_tail())

    def _wait(self, timeout: float) -> None:
        """Give the process ``timeout`` seconds to exit, then kill its group."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def close(self, timeout: float = 10.0) -> None:
        """Let the process finish within ``timeout`` seconds, kill what is left of its group, release the pipes."""
        self._wait(timeout)
        if self._events_fd >= 0:
            os.close(self._events_fd)
            self._events_fd = -1
        self.process.stdout.close()


class LiveWorker(ProbeProcess):
    """A long-lived ``python -P SCRIPT ARGS... REQUEST_FD EVENTS_FD`` process.

    Requests are written as one ``repr()`` line each to REQUEST_FD; the script
    answers with events on EVENTS_FD, read here as they come.
    """

    def __init__(self, python: str, script: Path, args: tuple[str, ...] = (), cwd=None, env=None,
                 tail_bytes: int = TAIL_BYTES):
        request_read, self._request_fd = os.pipe()
        try:
            super().__init__(python, script, (*args, str(request_read)), (request_read,), cwd, env, tail_bytes)
        except OSError:
            os.close(self._request_fd)
            raise
        finally:
            os.close(request_read)

    def send(self, request: dict[str, Any]) -> bool:
        """Write one request; False when the process no longer reads them."""
        data = (repr(request) + "\n").encode("utf-8")
        try:
            while data:
                data = data[os.write(self._request_fd, data):]
        except OSError:
            return False
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Ask the process to finish (end of requests), killing it after ``timeout`` seconds."""
        if self._request_fd >= 0:
            os.close(self._request_fd)
            self._request_fd = -1
        super().close(timeout)
