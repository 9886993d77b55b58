"""The ``subinterpreter`` fixture: make sub-interpreters and run code or call functions in them.

Each :class:`Interpreter` is one live sub-interpreter inside its own child
process (``child.py serve``), so a crash or a hang fails the calling test
and not the session.  Whatever goes wrong inside the sub-interpreter comes
back as a :class:`SubinterpreterError`, an ``AssertionError`` carrying the
sub-interpreter's own traceback.
"""

import os
import pickle
import select
import subprocess
import sys

import pytest

from ..runtime.worker import exit_description
from .launch import CHILD_SCRIPT, support_reason


class SubinterpreterError(AssertionError):
    """Code in a sub-interpreter raised, crashed it, hung, or returned an unpicklable value."""


class Interpreter:
    """One live sub-interpreter of ``mode`` (``isolated``, ``shared-gil`` or ``legacy``).

    ``run(code)`` executes statements, ``eval(expression)`` returns a value,
    ``call("pkg.mod:func", *args, **kwargs)`` (or ``call(func, ...)`` for an
    importable function) returns the function's result; names bound by
    ``run`` stay visible to later ``run``/``eval`` calls.  Arguments and
    results cross by pickle.
    """

    def __init__(self, mode="isolated", timeout=None):
        reason = support_reason(mode)
        if reason:
            pytest.skip("%s sub-interpreters: %s" % (mode, reason))
        self.mode = mode
        self.timeout = timeout or None
        request_read, self._request_fd = os.pipe()
        self._response_fd, response_write = os.pipe()
        command = [sys.executable, "-P", str(CHILD_SCRIPT), "serve", mode,
                   str(request_read), str(response_write), repr(list(sys.path))]
        self._process = subprocess.Popen(command, pass_fds=(request_read, response_write))
        os.close(request_read)
        os.close(response_write)
        self._closed = False
        self._receive("creating the sub-interpreter")

    def run(self, code):
        """Execute ``code`` (statements) in the sub-interpreter."""
        __tracebackhide__ = True
        self._ask("run", code, None, "running %r" % _short(code))

    def eval(self, expression):
        """The value of ``expression`` evaluated in the sub-interpreter."""
        __tracebackhide__ = True
        return self._ask("eval", expression, None, "evaluating %r" % _short(expression))

    def call(self, target, *args, **kwargs):
        """Call ``target`` ("module:qualname" or an importable function) there and return its result."""
        __tracebackhide__ = True
        target = _target_name(target)
        return self._ask("call", target, pickle.dumps((args, kwargs), protocol=4), "calling %s" % target)

    def close(self):
        """Destroy the sub-interpreter and end its process; raises if that crashed."""
        __tracebackhide__ = True
        if self._closed:
            return
        self._closed = True
        try:
            self._send(("close", None, None))
        except OSError:
            pass
        os.close(self._request_fd)
        os.close(self._response_fd)
        try:
            returncode = self._process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            raise SubinterpreterError("destroying the %s sub-interpreter timed out after %gs" % (self.mode, self.timeout))
        if returncode < 0:
            raise SubinterpreterError("the %s sub-interpreter's process crashed with %s while destroying it"
                                      % (self.mode, exit_description(returncode)))

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _ask(self, op, text, arguments, doing):
        __tracebackhide__ = True
        if self._closed:
            raise SubinterpreterError("this sub-interpreter was closed")
        self._send((op, text, arguments))
        kind, payload = self._receive(doing)
        if kind == "ok":
            return payload
        if kind == "raised":
            raise SubinterpreterError("%s in the %s sub-interpreter raised:\n%s" % (doing, self.mode, payload))
        raise SubinterpreterError("%s in the %s sub-interpreter: the result cannot be pickled (%s)"
                                  % (doing, self.mode, payload))

    def _send(self, message):
        data = pickle.dumps(message, protocol=4)
        data = len(data).to_bytes(8, "big") + data
        while data:
            data = data[os.write(self._request_fd, data):]

    def _receive(self, doing):
        __tracebackhide__ = True
        header = self._read(8, doing)
        kind, payload = pickle.loads(self._read(int.from_bytes(header, "big"), doing))
        if kind == "broken":
            self._fail("the %s sub-interpreter stopped serving while %s:\n%s" % (self.mode, doing, payload))
        return kind, payload

    def _read(self, size, doing):
        __tracebackhide__ = True
        chunks = []
        while size:
            ready, _, _ = select.select([self._response_fd], [], [], self.timeout)
            if not ready:
                self._process.kill()
                self._fail("timed out after %gs while %s in the %s sub-interpreter; its process was killed"
                           % (self.timeout, doing, self.mode))
            chunk = os.read(self._response_fd, size)
            if not chunk:
                returncode = self._process.wait()
                self._fail("the %s sub-interpreter's process crashed with %s while %s"
                           % (self.mode, exit_description(returncode), doing))
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def _fail(self, message):
        __tracebackhide__ = True
        self._closed = True
        self._process.wait()
        os.close(self._request_fd)
        os.close(self._response_fd)
        raise SubinterpreterError(message)


class SubinterpreterHandle:
    """What the ``subinterpreter`` fixture gives: a factory of :class:`Interpreter`.

    ``create(mode)`` returns a live interpreter (closed at teardown at the
    latest); ``run``, ``eval`` and ``call`` are one-shot shortcuts in a fresh
    interpreter of the default mode (``--subinterpreters=MODE``, else isolated).
    """

    def __init__(self, mode, timeout):
        self.mode = mode
        self.timeout = timeout
        self._live = []

    def create(self, mode=None):
        """A new live sub-interpreter of ``mode`` (default: the handle's mode)."""
        interpreter = Interpreter(mode or self.mode, self.timeout)
        self._live.append(interpreter)
        return interpreter

    def run(self, code):
        """Execute ``code`` in a fresh sub-interpreter, then destroy it."""
        __tracebackhide__ = True
        with self.create() as interpreter:
            interpreter.run(code)

    def eval(self, expression):
        """Evaluate ``expression`` in a fresh sub-interpreter and return the value."""
        __tracebackhide__ = True
        with self.create() as interpreter:
            return interpreter.eval(expression)

    def call(self, target, *args, **kwargs):
        """Call ``target`` in a fresh sub-interpreter and return its result."""
        __tracebackhide__ = True
        with self.create() as interpreter:
            return interpreter.call(target, *args, **kwargs)

    def close_all(self):
        """Close every interpreter still open; the first failure is raised."""
        __tracebackhide__ = True
        live, self._live = self._live, []
        errors = []
        for interpreter in live:
            try:
                interpreter.close()
            except SubinterpreterError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]


@pytest.fixture
def subinterpreter(request):
    """Create sub-interpreters and run code or call importable functions in them (interp-audit)."""
    config = request.config
    mode = config.getoption("subinterpreters", None) or "isolated"
    handle = SubinterpreterHandle(mode, config.getoption("subinterpreters_timeout", None))
    yield handle
    handle.close_all()


def _target_name(target):
    if isinstance(target, str):
        if ":" not in target and "." not in target:
            raise ValueError("%r names no module; pass 'module:qualname'" % (target,))
        return target if ":" in target else "%s:%s" % tuple(target.rsplit(".", 1))
    module, qualname = getattr(target, "__module__", None), getattr(target, "__qualname__", "")
    if not module or module == "__main__" or "<locals>" in qualname:
        raise TypeError("%r is not importable by name; pass 'module:qualname'" % (target,))
    return "%s:%s" % (module, qualname)


def _short(text, limit=60):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
