"""Run one probe script in a fresh process of the target interpreter.

The probe reports through events written to an inherited file descriptor
(see ``interp_audit/probe/runtime.py``); the worker collects them from a
temporary file, so everything written before a crash survives it.  Output the
audited package prints is drained and only its tail kept, so a package that
floods stdout cannot fill memory or disk.  A hang is ended by killing the
whole process group after ``timeout`` seconds.
"""

from __future__ import annotations

import ast
import collections
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

TAIL_BYTES = 4096


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
        if self.returncode is None or self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"

    @property
    def died(self) -> bool:
        """True when the process crashed, hung or exited with an error status."""
        return self.timed_out or self.returncode not in (0, None)

    def unfinished_imports(self) -> list[tuple[str, str]]:
        """(where, module) of every import that began but never ended, oldest first."""
        stack: list[tuple[str, str]] = []
        for event in self.events:
            key = (event.get("where", ""), event.get("module", ""))
            if event.get("event") == "begin":
                stack.append(key)
            elif event.get("event") == "end" and key in stack:
                del stack[len(stack) - 1 - stack[::-1].index(key)]
        return stack


def _drain(stream, tail: collections.deque) -> None:
    for chunk in iter(lambda: stream.read(1024), b""):
        tail.append(chunk)
        while sum(len(c) for c in tail) > TAIL_BYTES and len(tail) > 1:
            tail.popleft()


# The begin/end markers are most of a probe's output: parsed without literal_eval.
_MARKER = re.compile(r"\{'event': '(begin|end)', '(module|step)': '([^'\\\x00]*)', 'where': '([^'\\\x00]*)'\}")


def _parse_events(data: bytes) -> list[dict[str, Any]]:
    events = []
    for line in data.decode("utf-8", "replace").splitlines():
        marker = _MARKER.fullmatch(line)
        if marker:
            event, kind, name, where = marker.groups()
            events.append({"event": event, kind: name, "where": where})
            continue
        try:
            event = ast.literal_eval(line)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue  # a line cut short by a crash
        if isinstance(event, dict):
            events.append(event)
    return events


def run_probe(python: str, script: Path, request: dict[str, Any], timeout: float,
              env: Optional[dict[str, str]] = None) -> ProbeRun:
    """Run ``python -P script REQUEST FD`` and collect its events.

    Never raises for anything the probe does; raises OSError only when the
    interpreter cannot be started at all.
    """
    run = ProbeRun()
    with tempfile.TemporaryFile() as events_file, tempfile.TemporaryDirectory() as cwd:
        fd = events_file.fileno()
        os.set_inheritable(fd, True)
        started = time.monotonic()
        process = subprocess.Popen(
            [python, "-P", str(script), repr(request), str(fd)],
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        tail: collections.deque = collections.deque()
        reader = threading.Thread(target=_drain, args=(process.stdout, tail), daemon=True)
        reader.start()
        try:
            run.returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            run.timed_out = True
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
            run.returncode = None
        reader.join(timeout=5)
        process.stdout.close()
        run.seconds = time.monotonic() - started
        run.output_tail = b"".join(tail).decode("utf-8", "replace")[-TAIL_BYTES:]
        events_file.seek(0)
        run.events = _parse_events(events_file.read())
    return run
