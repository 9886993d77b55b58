"""Child process doing the sub-interpreter work for the pytest plugin.

Standard library (and ``interp_audit.probe``) only in this process's main
interpreter: the sub-interpreter work happens here, never in the pytest
process, so a crash or a hang costs this process and not the test session.
Two commands:

``python -P child.py tests SYS_PATH MODE REQUEST_FD EVENTS_FD``
    a long-lived process: each request (one ``repr()`` of a dict a line on
    REQUEST_FD) runs a pytest session in fresh sub-interpreters, see
    ``inner.py``; its events go to EVENTS_FD, then ``{"event": "batch-done"}``.
``python -P child.py serve MODE REQUEST_FD RESPONSE_FD SYS_PATH``
    make one sub-interpreter and serve the ``subinterpreter`` fixture's
    requests in it (length-prefixed pickles: ``run``, ``eval``, ``call``,
    ``close``) until ``close`` or end of input.

A ``tests`` request holds ``mode``, ``n`` (interpreters at once, one thread
each), ``rounds`` (times to start again with fresh interpreters), and what
``inner.run_session`` needs: ``args``, ``paths``, ``nodeids``, ``basetemp``.
Events are written by ``emit`` of ``auditor/probe/events.py`` (imported once
``sys.path`` is the parent's), one line with one ``os.write`` each, so the parent
reads back everything written before a crash.  Faulthandler is on
in this process's main interpreter: a fatal signal in a sub-interpreter
dumps the stack to the output the parent keeps the tail of.
"""

import os
import sys
import threading

# Imported in this process's main interpreter before any sub-interpreter is
# made, as in any real program (and as in the pytest process itself): CPython
# 3.12 aborts at exit when an isolated interpreter is the first to import the
# OpenSSL-backed modules.
MAIN_PRE_IMPORTS = ("hashlib", "ssl", "pytest", "_pytest.assertion.rewrite")

# The code run in the sub-interpreter that serves the ``subinterpreter``
# fixture.  Frames are an 8-byte big-endian length and a pickle.
SERVE_CODE = r'''
def _interp_audit_serve(rfd, wfd, sys_path):
    import importlib, os, pickle, sys, traceback

    sys.path[:] = sys_path
    namespace = {"__name__": "__interp_audit__"}

    def read_exact(size):
        chunks = []
        while size:
            chunk = os.read(rfd, size)
            if not chunk:
                return None
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def send_bytes(data):
        data = len(data).to_bytes(8, "big") + data
        while data:
            data = data[os.write(wfd, data):]

    # CPython 3.12.1's C pickler makes an isolated interpreter abort at
    # destroy once it has pickled a tuple holding an interned str; the
    # pure-Python pickler does not.
    dumps = pickle._dumps if sys.version_info < (3, 13) else pickle.dumps

    def send(obj):
        send_bytes(dumps(obj, protocol=4))

    def failure(exc):
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == "<string>":
            tb = tb.tb_next
        return ("raised", "".join(traceback.format_exception(type(exc), exc, tb)))

    def resolve(target):
        module_name, _, qualname = target.partition(":")
        obj = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        return obj

    send(("ready", None))
    while True:
        header = read_exact(8)
        if header is None:
            return
        op, text, arguments = pickle.loads(read_exact(int.from_bytes(header, "big")))
        if op == "close":
            return
        try:
            if op == "run":
                exec(compile(text, "<subinterpreter>", "exec"), namespace)
                value = None
            elif op == "eval":
                value = eval(compile(text, "<subinterpreter>", "eval"), namespace)
            else:
                args, kwargs = pickle.loads(arguments)
                value = resolve(text)(*args, **kwargs)
        except BaseException as exc:
            send(failure(exc))
            continue
        try:
            payload = dumps(("ok", value), protocol=4)
        except BaseException as exc:
            send(("unpicklable", "%s: %s; repr: %s" % (type(exc).__name__, exc, repr(value)[:500])))
        else:
            send_bytes(payload)
'''


def _prepare(sys_path):
    """Take the parent's ``sys.path`` (a literal), import ``MAIN_PRE_IMPORTS``; returns the
    sub-interpreter helpers shared with the scan's probes."""
    import ast

    sys.path[:] = ast.literal_eval(sys_path)
    from interp_audit.probe import interpreters

    for name in MAIN_PRE_IMPORTS:
        try:
            __import__(name)
        except ImportError:
            pass
    return interpreters


# What each sub-interpreter runs: the inner pytest session (``inner.py``).
SESSION_CODE = """\
import sys
sys.path[:] = %r
from interp_audit.pytest_plugin import inner
inner.serve_session(%d)
"""


class _Session:
    """A fresh sub-interpreter of ``mode`` with pytest imported, waiting for the job it will run.

    The job (one literal, then end of file) comes through a pipe: a session
    made before its request arrived is ready the moment it does.
    """

    def __init__(self, interpreters, mode):
        self.mode = mode
        self.escaped = None
        self._job_read, self._job_write = os.pipe()
        self.thread = threading.Thread(target=self._work, args=(interpreters,))
        self.thread.start()

    def _work(self, interpreters):
        code = SESSION_CODE % (sys.path, self._job_read)
        try:
            self.escaped = interpreters.run(self.mode, code)
        except Exception as exc:  # the interpreter could not be made
            self.escaped = "%s: %s" % (type(exc).__name__, exc)
        os.close(self._job_read)

    def start(self, job):
        """Hand the session its job."""
        data = repr(job).encode("utf-8")
        try:
            while data:
                data = data[os.write(self._job_write, data):]
        except OSError:  # the interpreter is gone already: self.escaped says why
            pass
        os.close(self._job_write)


def _run_request(interpreters, request, spare):
    """Run every round of ``request``, one after the other; returns the spare session for the next one.

    With ``n > 1`` the sessions wait for each other just before the test call
    (``ready``/``go`` pipes), so the bodies run at the same time.
    """
    from interp_audit.probe.events import emit

    n, mode, fd = request["n"], request["mode"], request["events_fd"]
    for round_index in range(request["rounds"]):
        if n == 1 and spare is not None and spare.mode == mode:
            sessions, spare = [spare], None
        else:
            sessions = [_Session(interpreters, mode) for _ in range(n)]
        ready_r, ready_w, go_r, go_w = os.pipe() + os.pipe() if n > 1 else (-1, -1, -1, -1)
        for index, session in enumerate(sessions):
            where = "sub%d" % (index + 1)
            if request["rounds"] > 1:
                where = "round%d-%s" % (round_index + 1, where)
            session.where = where
            session.start({"request": request, "where": where, "ready_fd": ready_w, "go_fd": go_r})
        if spare is None:
            spare = _Session(interpreters, mode)  # made and warmed while these sessions run
        if n > 1:
            arrived = 0
            while arrived < n:
                arrived += len(os.read(ready_r, n - arrived))
            os.write(go_w, b"." * n)
        for session in sessions:
            session.thread.join()
            if session.escaped:
                emit(fd, {"event": "harness-error", "where": session.where, "text": session.escaped})
        for pipe_fd in (ready_r, ready_w, go_r, go_w):
            if pipe_fd >= 0:
                os.close(pipe_fd)
    emit(fd, {"event": "batch-done"})
    return spare


def _tests(sys_path, mode, request_fd, events_fd):
    """Serve test requests (one literal line each) until the parent closes the pipe.

    One spare session of the last mode used (at first ``mode``) is always
    being made and warmed, so that the next request starts at once.
    """
    import ast
    import faulthandler

    interpreters = _prepare(sys_path)
    # A fatal signal dumps the stacks into the output the parent keeps, through a copy of
    # stderr: the inner session's output capture replaces file descriptor 2 itself.
    faulthandler.enable(os.fdopen(os.dup(2), "w"), all_threads=True)
    fd = int(events_fd)
    spare = _Session(interpreters, mode)
    with os.fdopen(int(request_fd), encoding="utf-8") as requests:
        for line in requests:
            request = ast.literal_eval(line)
            request["events_fd"] = fd
            spare = _run_request(interpreters, request, spare)
    os._exit(0)  # every event is written; the spare need not finish warming up


def _serve(mode, request_fd, response_fd, sys_path):
    import pickle

    interpreters = _prepare(sys_path)
    code = "%s\n_interp_audit_serve(%d, %d, %r)\n" % (SERVE_CODE, int(request_fd), int(response_fd), sys.path)
    try:
        escaped = interpreters.run(mode, code)
    except Exception as exc:  # the interpreter could not be made
        escaped = "%s: %s" % (type(exc).__name__, exc)
    if escaped:
        data = pickle.dumps(("broken", escaped), protocol=4)
        os.write(int(response_fd), len(data).to_bytes(8, "big") + data)
    return 0


def main(argv):
    if argv[1:2] == ["tests"]:
        return _tests(*argv[2:])
    return _serve(*argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
