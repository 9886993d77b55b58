"""The pytest session that runs inside a sub-interpreter of the child process.

``run_session`` is called by the code ``child.py`` gives each sub-interpreter.
It runs ``pytest.main()`` on the test files of one batch with the project's
own configuration (conftest, fixtures, marks, plugins that import here) and
keeps only the test ids the outer session asked for.  Everything the outer
session shows comes back as events (``auditor/probe/events.py``), tagged with
``where`` (``sub1``, ``round2-sub3``, ...):

* ``begin`` / ``end`` around every module load (a crash leaves the culprit);
* ``collect-begin`` / ``collect-error`` for each test file, ``collected``
  with how many of the asked tests were found;
* ``start``, ``report`` (the report in pytest's own serializable form, as
  pytest-xdist sends them), ``finish`` for each test;
* ``session-done`` with pytest's exit status and the tail of its terminal output.
"""

import io
import os
import sys

import pytest

from ..probe.events import emit, install_import_markers

# True while this interpreter runs the inner session: the plugin then only
# registers its markers and makes no variants (no recursion).
ACTIVE = False

OUTPUT_TAIL = 4000


class Reporter:
    """pytest plugin of the inner session: keeps the asked tests, reports them as events."""

    def __init__(self, fd, where, nodeids, ready_fd, go_fd):
        self.fd = fd
        self.where = where
        self.wanted = set(nodeids)
        self.barrier = (ready_fd, go_fd) if ready_fd >= 0 else None
        self.config = None

    def emit(self, event):
        event["where"] = self.where
        emit(self.fd, event)

    def release(self):
        """Tell the child this interpreter is ready, then wait until all are (``n > 1`` only)."""
        if self.barrier is not None:
            ready_fd, go_fd = self.barrier
            self.barrier = None
            os.write(ready_fd, b".")
            os.read(go_fd, 1)

    def pytest_configure(self, config):
        self.config = config

    def pytest_collectstart(self, collector):
        if isinstance(collector, pytest.Module):
            self.emit({"event": "collect-begin", "nodeid": collector.nodeid})

    def pytest_collectreport(self, report):
        if report.failed:
            self.emit({"event": "collect-error", "nodeid": report.nodeid, "text": str(report.longrepr)})

    def pytest_collection_modifyitems(self, config, items):
        kept = [item for item in items if item.nodeid in self.wanted]
        deselected = [item for item in items if item.nodeid not in self.wanted]
        self.emit({"event": "collected", "kept": len(kept), "total": len(items)})
        items[:] = kept
        if deselected:
            config.hook.pytest_deselected(items=deselected)

    def pytest_runtest_logstart(self, nodeid, location):
        self.emit({"event": "start", "nodeid": nodeid})

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item):
        self.release()

    def pytest_runtest_logreport(self, report):
        data = self.config.hook.pytest_report_to_serializable(config=self.config, report=report)
        data["user_properties"] = [(str(name), value if isinstance(value, (str, int, float, bool, type(None)))
                                    else repr(value)) for name, value in data.get("user_properties", ())]
        self.emit({"event": "report", "nodeid": report.nodeid, "when": report.when, "data": data})

    def pytest_runtest_logfinish(self, nodeid, location):
        self.emit({"event": "finish", "nodeid": nodeid})


def serve_session(job_fd):
    """Wait for this interpreter's job (one literal, then end of file) and run it.

    pytest is imported by then: the child makes the interpreter before the
    request arrives.
    """
    import ast

    job = ast.literal_eval(b"".join(iter(lambda: os.read(job_fd, 1 << 16), b"")).decode("utf-8"))
    run_session(job["request"], job["where"], job["ready_fd"], job["go_fd"])


def run_session(request, where, ready_fd, go_fd):
    """Run the request's tests with ``pytest.main()`` in this (sub-)interpreter."""
    global ACTIVE
    fd = request["events_fd"]
    install_import_markers(fd, where)
    reporter = Reporter(fd, where, request["nodeids"], ready_fd, go_fd)
    os.makedirs(request["basetemp"], exist_ok=True)
    basetemp = os.path.join(request["basetemp"], where)
    args = list(request["args"]) + ["--basetemp", basetemp] + list(request["paths"])
    terminal = io.StringIO()  # pytest's own output (the tests' output is captured per test)
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = terminal
    ACTIVE = True
    try:
        status = pytest.main(args, plugins=[reporter])
    finally:
        ACTIVE = False
        sys.stdout, sys.stderr = saved
        reporter.release()
    reporter.emit({"event": "session-done", "status": int(status), "output": terminal.getvalue()[-OUTPUT_TAIL:]})
