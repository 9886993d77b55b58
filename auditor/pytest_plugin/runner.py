"""Run the sub-interpreter variants in a long-lived child process (``child.py tests``).

Variants are grouped into batches: one pytest session in one fresh
sub-interpreter per batch (``--subinterpreters-scope``: the whole session,
each test module, or each test), or ``n`` sessions at once, ``rounds``
times, for a test marked ``subinterpreters(n=..., rounds=...)``.  A batch is
sent to the child when the outer session reaches its first variant; the
child streams events back (``inner.py``) and the results of the following
variants are already there when the outer session gets to them.

When the child crashes or hangs, the test that was running fails with the
signal or the timeout, the culprit and the tail of the child's output; a new
child runs the rest of the batch.  A crash while collecting a test file fails
that file's tests, a crash after the last test (destroying the
sub-interpreter) fails the last test reported.
"""

import sys
import time
from dataclasses import dataclass, field
from typing import Optional

from ..runtime.worker import LiveWorker, OpenSteps, WorkerEnded, exit_description
from .launch import CHILD_SCRIPT

SCOPES = ("session", "module", "test")
PHASES = ("setup", "call", "teardown")
OUTPUT_TAIL = 32768  # enough for a faulthandler dump of a few threads deep in pytest


@dataclass
class Failure:
    """Why a test has no (complete) result from its sub-interpreter: the text, and the child's output tail."""

    text: str
    tail: str = ""


@dataclass
class InnerRun:
    """What became of one test id in its sub-interpreter(s)."""

    reports: dict = field(default_factory=dict)  # where -> serialized reports, in order
    finished: set = field(default_factory=set)  # wheres that logged the test's finish
    failure: Optional[Failure] = None


class Batch:
    """The tests one request runs: one pytest session in each of its sub-interpreters."""

    def __init__(self, mode, n=1, rounds=1):
        self.mode = mode
        self.n = n
        self.rounds = rounds
        self.items = {}  # inner test id -> variant item, in the outer session's order
        self.runs = {}  # inner test id -> InnerRun
        self.consumed = set()
        self.running = False
        self.collect_errors = {}  # collector node id -> text
        self.harness_errors = {}  # where -> text
        self.sessions = {}  # where -> (pytest exit status, terminal output tail)
        self.collected = {}  # where -> (asked tests found, tests collected)

    def complete(self, nodeid):
        run = self.runs.get(nodeid)
        return run is not None and (run.failure is not None or len(run.finished) >= self.n * self.rounds)

    def pending(self):
        return [nodeid for nodeid in self.items if not self.complete(nodeid)]


class VariantRunner:
    """Owns the child process, sends it batches and turns its events into :class:`InnerRun` s."""

    def __init__(self, config, mode, scope, timeout):
        self.config = config
        self.mode = mode  # of the sub-interpreter the child keeps ready
        self.scope = scope
        self.timeout = timeout or None
        self.batches = {}
        self.batch_of = {}  # variant node id -> Batch
        self.worker = None
        self.running = None  # the batch the child is running
        self.children = 0
        self.replaced = []  # one line per child lost to a crash or a hang
        self.sub_sessions = 0
        self._base_args = None
        self._basetemp = None

    # ------------------------------------------------------------------ planning

    def add(self, item):
        """Plan a variant that will run: put it in its batch."""
        plan = item.plan
        if plan.n > 1 or plan.rounds > 1:
            key = ("concurrent", item.nodeid)
        elif self.scope == "session":
            key = (plan.mode,)
        elif self.scope == "module":
            key = (plan.mode, str(item.original.path))
        else:
            key = (plan.mode, item.nodeid)
        batch = self.batches.get(key)
        if batch is None:
            batch = self.batches[key] = Batch(plan.mode, plan.n, plan.rounds)
        batch.items[item.original.nodeid] = item
        self.batch_of[item.nodeid] = batch

    # ------------------------------------------------------------------ results

    def result(self, item):
        """The :class:`InnerRun` of a planned variant, running its batch as far as needed."""
        batch = self.batch_of[item.nodeid]
        nodeid = item.original.nodeid
        while not self._settled(batch, nodeid):
            if not batch.running:
                self._submit(batch)
                continue
            self._step(batch, nodeid)
        batch.consumed.add(nodeid)
        return batch.runs[nodeid]

    def _settled(self, batch, nodeid):
        """Complete, and not the last test of a running batch (that one waits for the interpreter's end)."""
        if not batch.complete(nodeid):
            return False
        if not batch.running:
            return True
        return any(other != nodeid and other not in batch.consumed for other in batch.items)

    def close(self):
        """End the child process (at once when it still runs a batch nobody waits for, after -x)."""
        if self.worker is not None:
            if self.running is not None:
                self.worker.kill()
            self.worker.close()
            self.worker = None

    def summary(self):
        """Lines for the terminal summary, or none when no variant ran in a child."""
        if not self.children:
            return []
        lines = ["sub-interpreter variants: %d pytest session(s) in sub-interpreters (scope: %s), "
                 "%d child process(es), %d replaced after a crash or hang"
                 % (self.sub_sessions, self.scope, self.children, len(self.replaced))]
        lines.extend("  replaced: " + line for line in self.replaced)
        return lines

    # ------------------------------------------------------------------ the child

    def spawn(self):
        """Start the child process (early: it starts up while the outer session collects)."""
        if self.worker is None:
            self.worker = LiveWorker(sys.executable, CHILD_SCRIPT, ("tests", repr(list(sys.path)), self.mode),
                                     cwd=str(self.config.invocation_params.dir), tail_bytes=OUTPUT_TAIL)
            self.children += 1

    def _submit(self, batch):
        if self.running is not None and self.running is not batch:
            while self.running is not None:  # the outer order left that batch: run it to its end
                self._step(self.running, None)
        pending = batch.pending()
        if not pending:
            return
        for nodeid in pending:
            batch.runs.setdefault(nodeid, InnerRun())
        self.spawn()
        request = {
            "mode": batch.mode, "n": batch.n, "rounds": batch.rounds, "nodeids": pending,
            "paths": list(dict.fromkeys(str(batch.items[nodeid].original.path) for nodeid in pending)),
            "args": self._inner_args(batch), "basetemp": str(self._temp_root() / ("b%d" % self.sub_sessions)),
        }
        self.sub_sessions += 1
        self._current, self._collecting, self._open = {}, {}, OpenSteps()
        self._last_progress = time.monotonic()
        batch.running = True
        self.running = batch
        if not self.worker.send(request):
            self._lost(batch, None, timed_out=False)

    def _step(self, batch, target):
        """Read and handle one event of the running batch, or handle the child's end."""
        wait = None
        if self.timeout is not None:
            wait = max(0.0, self._last_progress + self.timeout - time.monotonic())
        try:
            event = self.worker.next_event(wait)
        except WorkerEnded:
            self._lost(batch, target, timed_out=False)
            return
        if event is None:
            self.worker.kill()
            self._lost(batch, target, timed_out=True)
            return
        self._handle(batch, event)

    def _handle(self, batch, event):
        kind, where = event["event"], event.get("where")
        nodeid = event.get("nodeid")
        if kind in ("begin", "end"):
            self._open.add(event)
        elif kind == "collect-begin":
            self._collecting[where] = nodeid
            self._last_progress = time.monotonic()
        elif kind == "collect-error":
            batch.collect_errors[nodeid] = event["text"]
        elif kind == "start":
            self._collecting.pop(where, None)
            self._current[where] = nodeid
            self._last_progress = time.monotonic()
        elif kind == "report" and nodeid in batch.runs:
            batch.runs[nodeid].reports.setdefault(where, []).append(event["data"])
        elif kind == "finish":
            self._current.pop(where, None)
            if nodeid in batch.runs:
                batch.runs[nodeid].finished.add(where)
            self._last_progress = time.monotonic()
        elif kind == "session-done":
            batch.sessions[where] = (event["status"], event["output"])
        elif kind == "collected":
            batch.collected[where] = (event["kept"], event["total"])
        elif kind == "harness-error":
            batch.harness_errors[where] = event["text"]
        elif kind == "batch-done":
            for nodeid in batch.pending():
                batch.runs[nodeid].failure = Failure(self._not_run(batch, nodeid))
            batch.running = False
            self.running = None

    def _not_run(self, batch, nodeid):
        """Why the inner session(s) gave no complete result for ``nodeid``."""
        for collector, text in batch.collect_errors.items():
            if nodeid.startswith(collector + "::"):
                errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
                return "collecting %s in the %s sub-interpreter failed%s\n%s" % (
                    collector, batch.mode, ": " + errors[-1] if errors else ":", text)
        for where, text in batch.harness_errors.items():
            return "the pytest session could not run in %s sub-interpreter %s:\n%s" % (batch.mode, where, text)
        statuses = ", ".join("%s: exit status %s" % (where, status) for where, (status, _) in batch.sessions.items())
        why = "it stopped before collecting"
        if not batch.sessions:
            why = "no session ended"
        elif batch.collected:
            kept, total = next(iter(batch.collected.values()))
            why = ("it collected %d tests, %d of them asked for, but not this id; an id made from a value that "
                   "differs there (a module that does not import in this interpreter) does not match" % (total, kept))
        outputs = [output for status, output in batch.sessions.values() if status not in (0, 1) and output.strip()]
        return "the pytest session in the %s sub-interpreter did not run this test (%s): %s%s" % (
            batch.mode, statuses or "no session ended", why, "\n" + outputs[0] if outputs else "")

    def _lost(self, batch, target, timed_out):
        """The child crashed or hung while running ``batch``: fail what was running, requeue the rest."""
        worker, self.worker = self.worker, None
        tail = worker.output_tail()
        worker.close()
        if timed_out:
            what = "timed out after %gs (--subinterpreters-timeout)" % self.timeout
            after = "; the child process (pid %d) was killed" % worker.pid
        else:
            what = "the child process (pid %d) running the %s sub-interpreter crashed with %s" % (
                worker.pid, batch.mode, exit_description(worker.returncode))
            after = ""
        pending = batch.pending()
        if self._current:
            victims = [nodeid for nodeid in set(self._current.values()) if nodeid in batch.runs]
        elif self._collecting:
            files = set(self._collecting.values())
            victims = [nodeid for nodeid in pending if nodeid.split("::")[0] in files]
        elif not pending:  # all reported: the crash came while destroying the interpreter
            unconsumed = [nodeid for nodeid in batch.items if nodeid not in batch.consumed]
            victims = [target] if target in batch.items else unconsumed[-1:]
        else:
            victims = []
        victims = victims or pending  # nothing running to blame: what is left would only crash again
        text = "%s %s%s" % (what, self._culprit(batch), after)
        for nodeid in victims:
            batch.runs[nodeid].failure = Failure(text, tail)
        self.replaced.append(text.splitlines()[0])
        batch.running = False
        self.running = None

    def _culprit(self, batch):
        """What was going on in the sub-interpreters when the child stopped."""
        doings = {}  # what was going on -> the sub-interpreters doing it
        imports = {}  # where -> the import in progress there, the innermost
        for where, kind, name in self._open.steps:
            if kind == "module":
                imports[where] = name
        wheres = sorted(set(self._current) | set(self._collecting) | set(imports))
        for where in wheres:
            nodeid = self._current.get(where)
            if nodeid is not None:
                item = batch.items.get(nodeid)
                done = len(batch.runs[nodeid].reports.get(where, ())) if nodeid in batch.runs else 0
                phase = PHASES[min(done, 2)]
                doing = "running %s (%s)" % (item.nodeid if item is not None else nodeid, phase)
            elif where in self._collecting:
                doing = "collecting %s" % self._collecting[where]
            else:
                doing = None
            if where in imports:
                importing = "importing module %r" % imports[where]
                doing = importing if doing is None else "%s, %s," % (doing, importing)
            doings.setdefault(doing, []).append(where)
        parts = ["while %s in sub-interpreter%s %s" % (doing, "s" if len(where) > 1 else "", ", ".join(where))
                 for doing, where in doings.items()]
        if parts:
            return "; ".join(parts)
        if batch.sessions or any(batch.complete(nodeid) for nodeid in batch.items):
            return "after its tests finished (while destroying the sub-interpreter)"
        return "before any test started (while creating the sub-interpreter or starting pytest there)"

    # ------------------------------------------------------------------ the inner session

    def _inner_args(self, batch):
        if self._base_args is None:
            self._base_args = inner_args(self.config)
        if batch.n > 1:
            return self._base_args + ["--capture=sys"]  # n sessions at once share the process's fds
        return self._base_args

    def _temp_root(self):
        if self._basetemp is None:
            factory = getattr(self.config, "_tmp_path_factory", None)
            if factory is not None:
                self._basetemp = factory.mktemp("subinterpreters", numbered=True)
            else:
                import tempfile
                from pathlib import Path

                self._basetemp = Path(tempfile.mkdtemp(prefix="interp-audit-"))
        return self._basetemp


def inner_args(config):
    """Arguments of the inner ``pytest.main()``: the outer session's own settings that change how tests run.

    The ini file's ``addopts`` are already part of the outer options, so
    they are not read again; selection (``-k``, ``-m``, ``-x``, ``--lf``) and
    reporting stay outside, and faulthandler (refused by sub-interpreters)
    stays with the child's main interpreter.
    """
    option = config.option
    args = ["-p", "no:faulthandler", "-p", "no:cacheprovider", "-o", "addopts=",
            "--rootdir", str(config.rootpath), "--continue-on-collection-errors",
            "--verbosity=%d" % getattr(option, "verbose", 0)]
    if config.inipath is not None:
        args += ["-c", str(config.inipath)]
    for name in getattr(option, "plugins", None) or ():
        args += ["-p", name]
    for warning in getattr(option, "pythonwarnings", None) or ():
        args += ["-W", warning]
    for override in getattr(option, "override_ini", None) or ():
        if not override.startswith("addopts="):
            args += ["-o", override]
    for name in ("importmode", "tbstyle", "assertmode", "confcutdir"):
        value = getattr(option, name, None)
        if value is not None:
            args.append("--%s=%s" % ({"importmode": "import-mode", "tbstyle": "tb", "assertmode": "assert"}.get(
                name, name), value))
    capture = getattr(option, "capture", "fd")
    if capture not in ("no", "fd"):
        args.append("--capture=%s" % capture)
    for name, flag in (("showlocals", "-l"), ("strict_markers", "--strict-markers"), ("runxfail", "--runxfail"),
                       ("noconftest", "--noconftest")):
        if getattr(option, name, False):
            args.append(flag)
    return args
