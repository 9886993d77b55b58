"""Run one test in a child process (``child.py``) and read back what happened.

The child's events survive a crash, so a signal or a hang turns into a test
failure that names the signal and the culprit (the module being imported or
the test being run, from the last ``begin`` event without its ``end``).
"""

import ast
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHILD_SCRIPT = Path(__file__).resolve().parent / "child.py"


@dataclass
class Outcome:
    """What became of a test run in sub-interpreters: a pytest status and its text."""

    status: str  # passed | failed | skipped | xfailed
    text: str = ""


def support_reason(mode):
    """None when this Python can make ``mode`` sub-interpreters, else the reason it cannot."""
    from ..probe import interpreters

    return interpreters.support().get(mode, "unknown mode %r" % (mode,))


def read_events(path):
    """Parse the events file; a line cut short by a crash is dropped."""
    events = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                events.append(ast.literal_eval(line))
            except (SyntaxError, ValueError):
                continue
    return events


def signal_name(returncode):
    """``SIGSEGV (signal 11)`` for a child killed by a signal."""
    number = -returncode
    try:
        return "%s (signal %d)" % (signal.Signals(number).name, number)
    except ValueError:
        return "signal %d" % number


def culprit(events, nodeid):
    """Describe what was going on when the child stopped, from unmatched begin events."""
    open_items = []
    for event in events:
        kind, where = event.get("event"), event.get("where")
        if kind == "begin":
            open_items.append((where, "while importing module %r" % event["module"]))
        elif kind == "call-begin":
            open_items.append((where, "while running %s" % event["test"]))
        elif kind in ("end", "call-end"):
            for index in range(len(open_items) - 1, -1, -1):
                if open_items[index][0] == where:
                    del open_items[index]
                    break
    if open_items:
        where, doing = open_items[-1]
        others = sorted({w for w, _ in open_items[:-1] if w != where})
        text = "%s in sub-interpreter %s" % (doing, where)
        if others:
            text += " (also busy: %s)" % ", ".join(others)
        return text
    if any(event.get("event") == "result" for event in events):
        return "after %s finished (while destroying a sub-interpreter or at process exit)" % nodeid
    return "before %s started (while creating a sub-interpreter or loading the harness)" % nodeid


def run_in_child(request, timeout, python=None):
    """Run the test described by ``request`` (see ``child.py``) and return its :class:`Outcome`."""
    handle, events_path = tempfile.mkstemp(prefix="interp-audit-", suffix=".events")
    os.close(handle)
    command = [python or sys.executable, "-P", str(CHILD_SCRIPT), "test", events_path]
    try:
        try:
            completed = subprocess.run(command, input=repr(request), text=True, timeout=timeout or None)
            returncode, timed_out = completed.returncode, False
        except subprocess.TimeoutExpired:
            returncode, timed_out = None, True
        events = read_events(events_path)
    finally:
        os.unlink(events_path)
    return interpret(events, returncode, timed_out, timeout, request)


def interpret(events, returncode, timed_out, timeout, request):
    """Turn the child's events and exit into one :class:`Outcome`."""
    nodeid = request["nodeid"]
    for event in events:
        if event.get("event") == "unsupported":
            return Outcome("skipped", "%s sub-interpreters: %s" % (request["mode"], event["reason"]))
    if timed_out:
        return Outcome("failed", "timed out after %gs (--subinterpreters-timeout), %s; the child process was killed"
                       % (timeout, culprit(events, nodeid)))
    if returncode is not None and returncode < 0:
        return Outcome("failed", "the process running the %s sub-interpreter(s) crashed with %s %s"
                       % (request["mode"], signal_name(returncode), culprit(events, nodeid)))
    if returncode != 0 or not any(event.get("event") == "done" for event in events):
        return Outcome("failed", "the child process exited with status %s %s"
                       % (returncode, culprit(events, nodeid)))
    harness = [event for event in events if event.get("event") == "harness-error"]
    if harness:
        return Outcome("failed", "in sub-interpreter %s: %s" % (harness[0]["where"], harness[0]["text"]))
    return _combine([event for event in events if event.get("event") == "result"], request)


def _combine(results, request):
    expected = request["n"] * request["rounds"]
    if len(results) != expected:
        return Outcome("failed", "expected %d results from the sub-interpreters, got %d" % (expected, len(results)))
    failed = [result for result in results if result["outcome"] == "failed"]
    if failed:
        first = failed[0]
        header = "in %s sub-interpreter %s" % (request["mode"], first["where"])
        if expected > 1:
            header = "%d of %d sub-interpreter runs failed; first failure %s" % (len(failed), expected, header)
        return Outcome("failed", "%s:\n%s" % (header, first["text"]))
    for status in ("xfailed", "skipped"):
        matching = [result for result in results if result["outcome"] == status]
        if matching:
            return Outcome(status, matching[0]["text"])
    return Outcome("passed")
