"""Smoke probe: check that a package *runs* in sub-interpreters.

Run by the *target* interpreter as ``python -P smoke.py REQUEST EVENTS_FD``;
standard library only, it never imports interp_audit.  REQUEST is a dict, as
``marshal`` data in hex (``read_request`` of ``events.py``), with:

* ``check``       -- ``generic`` | ``snippet`` | ``parallel`` | ``reimport`` |
  ``static_types`` | ``cross_interpreter`` | ``cost`` | ``app``; or
* ``checks``      -- a list of them, run one after another in this process (a
  *session*), each between ``{"event": "check", "check": ..., "state": "begin"}``
  and ``{..., "state": "end", "seconds": ...}``, each with its own ``deadline``;
* ``mode``        -- the kind of interpreter: ``isolated`` | ``shared-gil`` |
  ``legacy`` | ``main`` (``main`` only for ``generic`` and ``snippet``);
* ``import_names``, ``extensions`` -- the distribution's top-level import names
  and the dotted names of its extension modules;
* ``snippets``    -- ``[{"name": ..., "code": ...}]``; a snippet may bind
  ``result``, whose ``repr`` (addresses removed) is compared between interpreters;
* ``parallel``, ``rounds``, ``iterations``, ``samples``, ``max_modules``,
  ``walk_seconds`` -- sizes; ``deadline`` -- seconds a check (each snippet of
  ``snippet``) may run before the probe reports a hang itself;
* ``app``         -- (check ``app``) ``{"module", "attribute", "kind", "requests"}``:
  an application served as a worker would serve it (``APP_TASK``).

Sub-interpreters are kept alive as *members*: each runs, in its own thread, a
loop that reads task code from a pipe, ``exec``s it and writes a reply back
(see ``MEMBER_CODE``).  That gives several live interpreters at once with only
``interpreters.run`` (which creates, runs and destroys), on every supported
CPython and in every mode.

Every event is one ``repr()`` of a dict written with a single ``os.write`` to
EVENTS_FD (``events.py``), so the parent can read them back even after a crash:

* ``{"event": "begin"|"end", "module"|"step": ..., "where": ..., "t": ...}`` around
  every module load, snippet, touched attribute and interpreter destruction (a crash
  or hang leaves a ``begin`` without its ``end``: the culprit; ``t`` is
  ``time.monotonic()``, to tell a hang from work still under way at the deadline);
* ``{"event": "result", "check": ..., ...}`` with the check's findings;
* ``{"event": "hang", "waiting_for": [...], "t": ...}`` before the probe exits on its own
  deadline; ``{"event": "unsupported", "reason": ...}``; ``{"event": "done"}``.
"""

import ast
import os
import select
import sys
import threading
import time

# Imported in main before any sub-interpreter exists, as real programs have
# them: CPython 3.12.1 aborts at exit when an isolated sub-interpreter was the
# first to import them.  The runtime ladder's "alone" scenario reports that bug
# on its own; the smoke checks are about the package's behaviour.
MAIN_PRELOAD = ("hashlib", "ssl")


def _load_events():
    """The sibling ``events.py``, run from its text (kept as ``SOURCE``): probes never touch
    sys.path, and this imports nothing (``events.load_sibling`` loads the other siblings so)."""
    events = type(sys)("_interp_audit_events")
    events.__file__ = os.path.join(os.path.dirname(os.path.abspath(__file__)), "events.py")
    with open(events.__file__, encoding="utf-8") as source:
        events.SOURCE = source.read()
    exec(compile(events.SOURCE, events.__file__, "exec"), vars(events))
    return events


events = _load_events()

# Runs inside every interpreter that runs tasks (members and, for rechecks,
# the probe's main one), after the text of events.py.  ``_interp_audit_tools``
# installs the module-load markers and returns the helpers every task gets as
# globals: emit, clip, chain, normal, step, where, state (a dict kept between
# tasks), and reply (the dict sent back, added per task).
# ``_interp_audit_member`` is the loop of a member: read task code from a pipe,
# exec it, write the reply.
MEMBER_CODE = r'''
def _interp_audit_tools(fd, where):
    import re

    def emit_here(event):
        emit(fd, event)

    addresses = re.compile(r" at 0x[0-9a-fA-F]+")

    def normal(obj):
        """repr without memory addresses, comparable between interpreters."""
        try:
            text = repr(obj)
        except BaseException as exc:
            text = "<repr failed: %s>" % type(exc).__name__
        return clip(addresses.sub("", text))

    class step:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            marker(fd, "begin", "step", self.name, where)

        def __exit__(self, *exc):
            marker(fd, "end", "step", self.name, where)

    install_import_markers(fd, where)
    return {"emit": emit_here, "clip": clip, "chain": chain, "normal": normal, "step": step,
            "where": where, "state": {}}


def _interp_audit_run_task(tools, code):
    reply = {"ok": True, "error": None, "chain": []}
    scope = dict(tools, __name__="__interp_audit_task__", reply=reply)
    try:
        exec(code, scope)
    except BaseException as exc:
        reply["ok"] = False
        reply["chain"] = chain(exc)
        reply["error"] = reply["chain"][0]
    return reply


def _interp_audit_member(fd, where, cmd_fd, reply_fd):
    import os

    tools = _interp_audit_tools(fd, where)

    def read_exact(size):
        data = b""
        while len(data) < size:
            chunk = os.read(cmd_fd, size - len(data))
            if not chunk:
                raise EOFError("the probe closed the command pipe")
            data += chunk
        return data

    def send(reply):
        data = repr(reply).encode("utf-8", "backslashreplace")
        os.write(reply_fd, len(data).to_bytes(8, "big") + data)

    send({"ready": True})
    while True:
        size = int.from_bytes(read_exact(8), "big")
        if size == 0:
            break
        send(_interp_audit_run_task(tools, read_exact(size).decode("utf-8")))
    emit(fd, {"event": "begin", "step": "destroy interpreter", "where": where})
'''
# What every interpreter that runs tasks runs first: events.py, then MEMBER_CODE.
MEMBER_SOURCE = events.SOURCE + "\n" + MEMBER_CODE

# Import the distribution's names; wait at the barrier (parallel runs); run the
# snippets ``iterations`` times; with no snippets, record each module's public
# names instead.  Results are lists (one item per iteration) of normal reprs.
WORKLOAD_TASK = r'''
import importlib, os
environ_before = dict(os.environ)
try:
    for name in ARGS["imports"]:
        with step("import " + name):
            importlib.import_module(name)
finally:
    if ARGS["barrier"]:
        os.write(ARGS["barrier"][0], b"x")
        os.read(ARGS["barrier"][1], 1)
results = {}
for _ in range(ARGS["iterations"]):
    for snippet in ARGS["snippets"]:
        namespace = {"__name__": "__interp_audit_snippet__"}
        with step("snippet " + snippet["name"]):
            exec(compile(snippet["code"], "<smoke snippet %s>" % snippet["name"], "exec"), namespace)
        results.setdefault(snippet["name"], []).append(normal(namespace["result"]) if "result" in namespace else None)
        if ARGS["keep"]:
            state.setdefault("objects", []).append(("snippet " + snippet["name"], namespace.get("result")))
    if not ARGS["snippets"]:
        for name in ARGS["imports"]:
            module = importlib.import_module(name)
            names = sorted(n for n in dir(module) if not n.startswith("_"))
            for attribute in names:
                with step("attribute %s.%s" % (name, attribute)):
                    getattr(module, attribute)
            results.setdefault("public names of " + name, []).append(normal(names))
reply["results"] = results
# The process environment is shared by every interpreter created later.
reply["environ_set"] = sorted(k for k in set(environ_before) | set(os.environ)
                              if environ_before.get(k) != os.environ.get(k))
'''

# Walk the packages' submodules and touch their public attributes.
GENERIC_TASK = r'''
import importlib, pkgutil, time
started = time.monotonic()
own = set(ARGS["tops"])
walked, failed, skipped, refused, truncated, touched = [], [], [], [], False, 0
REFUSAL = "does not support loading in subinterpreters"

def foreign_missing(exc):
    missing = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
    return missing if missing and missing.split(".")[0] not in own else None

queue = list(ARGS["imports"])
while queue:
    name = queue.pop(0)
    if len(walked) >= ARGS["max_modules"] or time.monotonic() - started > ARGS["walk_seconds"]:
        truncated = True
        queue.insert(0, name)
        break
    try:
        with step("import " + name):
            module = importlib.import_module(name)
    except BaseException as exc:
        missing = foreign_missing(exc)
        if missing:
            skipped.append({"module": name, "reason": "needs %s, which is not installed (an optional extra?)" % missing})
        elif name not in ARGS["imports"] and isinstance(exc, ImportError) and any(REFUSAL in t for t in chain(exc)):
            refused.append({"module": name, "error": next(t for t in chain(exc) if REFUSAL in t)})
        else:
            failed.append({"module": name, "attribute": None, "error": chain(exc)[0], "chain": chain(exc)})
        continue
    walked.append(name)
    public = getattr(module, "__all__", None)
    if not isinstance(public, (list, tuple)) or not all(isinstance(n, str) for n in public):
        public = [n for n in dir(module) if not n.startswith("_")]
    for attribute in sorted(set(public))[:ARGS["max_attributes"]]:
        try:
            with step("attribute %s.%s" % (name, attribute)):
                getattr(module, attribute)
            touched += 1
        except BaseException as exc:
            missing = foreign_missing(exc)
            if missing:
                skipped.append({"module": name + "." + attribute, "reason": "needs %s, which is not installed" % missing})
            else:
                failed.append({"module": name, "attribute": attribute, "error": chain(exc)[0], "chain": chain(exc)})
    path = getattr(module, "__path__", None)
    if path is None:
        continue
    try:
        found = sorted(info.name for info in pkgutil.iter_modules(path, name + "."))
    except BaseException as exc:
        failed.append({"module": name, "attribute": "__path__", "error": chain(exc)[0], "chain": chain(exc)})
        continue
    for child in found:
        leaf = child.rpartition(".")[2]
        if leaf in ARGS["skip"] or leaf.startswith("test_") or leaf.endswith("_test"):
            skipped.append({"module": child, "reason": "tests or entry point, not walked"})
        elif leaf.startswith("_"):
            skipped.append({"module": child, "reason": "private module, not walked (the public API counts)"})
        elif any(child == gone or child.startswith(gone + ".") for gone in ARGS["exclude"]):
            skipped.append({"module": child, "reason": "excluded (ignore-modules)"})
        else:
            queue.append(child)
reply.update(walked=walked, failed=failed, skipped=skipped, refused=refused, truncated=truncated,
             not_walked=queue, attributes_touched=touched)
'''

# Retry in the probe's main interpreter what failed in the sub-interpreter.
RECHECK_TASK = r'''
import importlib
still = []
for item in ARGS["failed"]:
    try:
        module = importlib.import_module(item["module"])
        if item["attribute"]:
            getattr(module, item["attribute"])
    except BaseException as exc:
        still.append([item["module"], item["attribute"], chain(exc)[0]])
reply["still_failing"] = still
'''

# Types reachable from each extension module, with their identity.
STATIC_TYPES_TASK = r'''
import builtins, importlib
own = set(ARGS["tops"])
found = {}
for ext in ARGS["extensions"]:
    try:
        with step("import " + ext):
            module = importlib.import_module(ext)
    except BaseException as exc:
        found[ext] = {"error": chain(exc)[0], "types": []}
        continue
    types, seen = [], set()
    for attribute, obj in sorted(vars(module).items()):
        if not isinstance(obj, type) or id(obj) in seen:
            continue
        owner = getattr(obj, "__module__", None) or ""
        if owner == "builtins":
            if getattr(builtins, obj.__name__, None) is obj:
                continue
        elif owner.split(".")[0] not in own and owner != ext:
            continue
        seen.add(id(obj))
        types.append({"attribute": attribute, "name": "%s.%s" % (owner, obj.__qualname__), "id": id(obj),
                      "heap": bool(obj.__flags__ & (1 << 9))})
    found[ext] = {"error": None, "types": types}
reply["extensions"] = found
'''

# First interpreter of the cross-interpreter check: gather the package's
# objects, try each way of sending them, put what can go into the transport.
CROSS_SEND_TASK = r'''
import importlib, pickle, types
own = set(ARGS["tops"])
objects = list(state.get("objects", []))
for name in ARGS["imports"]:
    module = importlib.import_module(name)
    for attribute in sorted(n for n in dir(module) if not n.startswith("_")):
        obj = getattr(module, attribute, None)
        kind = type(obj)
        if isinstance(obj, (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType)) or callable(obj):
            continue
        if (getattr(kind, "__module__", "") or "").split(".")[0] not in own:
            continue
        objects.append(("attribute %s.%s" % (name, attribute), obj))
objects = [(source, obj) for source, obj in objects if obj is not None][:ARGS["max_objects"]]

transport = ARGS["transport"]
if transport == "_interpqueues":
    import _interpqueues as queues
    import _interpreters
    def put(obj):
        try:
            queues.put(ARGS["channel"], obj, 0, 1)
        except TypeError:
            queues.put(ARGS["channel"], obj, 0)
    shareable = _interpreters.is_shareable
elif transport in ("_interpchannels", "_xxinterpchannels"):
    channels = importlib.import_module(transport)
    def put(obj):
        channels.send(ARGS["channel"], obj)
    shareable = importlib.import_module("_xxsubinterpreters").is_shareable
else:
    put = None
    shareable = lambda obj: False

items, relay = [], []
for source, obj in objects:
    kind = type(obj)
    item = {"source": source, "type": "%s.%s" % (kind.__module__, kind.__qualname__), "repr": normal(obj),
            "native": bool(shareable(obj)), "pickle": None, "buffer": None, "sent": []}
    try:
        data = pickle.dumps(obj)
    except BaseException as exc:
        item["pickle"] = "cannot pickle: " + chain(exc)[0]
    else:
        item["sent"].append("pickle")
        put(data) if put else relay.append(data)
    try:
        view = memoryview(obj)
    except TypeError:
        item["buffer"] = "no buffer interface"
    else:
        item["buffer_bytes"] = view.tobytes()
        if transport == "_interpqueues":
            try:
                put(view)
                item["sent"].append("buffer")
            except BaseException as exc:
                item["buffer"] = "cannot share the buffer: " + chain(exc)[0]
        else:
            item["buffer"] = "no cross-interpreter buffer sharing on this Python (%s)" % transport
    items.append(item)
reply["items"] = items
reply["relay"] = relay
'''

# Second interpreter: take everything out of the transport and compare.
CROSS_RECEIVE_TASK = r'''
import importlib, pickle
transport = ARGS["transport"]
relay = list(ARGS["relay"])
if transport == "_interpqueues":
    import _interpqueues as queues
    import _interpreters
    take = lambda: queues.get(ARGS["channel"])[0]
elif transport in ("_interpchannels", "_xxinterpchannels"):
    channels = importlib.import_module(transport)
    take = lambda: channels.recv(ARGS["channel"])
else:
    take = lambda: relay.pop(0)
for name in ARGS["imports"]:
    importlib.import_module(name)
outcomes = []
for item in ARGS["items"]:
    outcome = {"pickle": item["pickle"], "buffer": item["buffer"]}
    if "pickle" in item["sent"]:
        data = take()
        try:
            with step("unpickle " + item["source"]):
                obj = pickle.loads(data)
        except BaseException as exc:
            outcome["pickle"] = "unpickling failed in the second interpreter: " + chain(exc)[0]
        else:
            outcome["pickle"] = "ok" if normal(obj) == item["repr"] else "differs after the crossing: %s" % normal(obj)
    if "buffer" in item["sent"]:
        view = take()
        try:
            same = memoryview(view).tobytes() == item["buffer_bytes"]
            outcome["buffer"] = "ok" if same else "the shared buffer shows different bytes"
        except BaseException as exc:
            outcome["buffer"] = "cannot read the shared buffer: " + chain(exc)[0]
        del view  # release the other interpreter's buffer while it is still alive
    outcomes.append(outcome)
import gc
gc.collect()
reply["outcomes"] = outcomes
'''

# Import the names, timed inside the interpreter; note the process environment variables
# the import set (every interpreter created later starts with them).
COST_TASK = r'''
import importlib, os, time
environ_before = dict(os.environ)
started = time.perf_counter()
for name in ARGS["imports"]:
    importlib.import_module(name)
reply["seconds"] = time.perf_counter() - started
reply["environ_set"] = sorted(k for k in set(environ_before) | set(os.environ)
                              if environ_before.get(k) != os.environ.get(k))
'''


# Serve an application in this interpreter, one phase per task: "start" imports
# it and runs its start-up (ASGI lifespan, on this interpreter's own event
# loop), "requests" waits at the barrier and runs every request (ASGI, WSGI or a
# plain call), "stop" runs the lifespan shutdown.
APP_TASK = r'''
import asyncio, importlib, io, os, time
app_state = state.setdefault("app", {})

def serve_asgi(app, method, target):
    path, _, query = target.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
             "root_path": "", "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 50000),
             "server": ("testserver", 80), "state": dict(app_state.get("lifespan_state", {}))}
    response = {"status": None, "body": []}

    async def run():
        done = asyncio.Event()

        async def receive():
            if not response.get("asked"):
                response["asked"] = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
            elif message["type"] == "http.response.body":
                response["body"].append(message.get("body", b""))
                if not message.get("more_body"):
                    done.set()
        await app(scope, receive, send)
    app_state["loop"].run_until_complete(run())
    return response["status"], b"".join(response["body"])

def serve_wsgi(app, method, target):
    path, _, query = target.partition("?")
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
               "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
               "HTTP_HOST": "testserver", "CONTENT_LENGTH": "0", "wsgi.version": (1, 0),
               "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": io.StringIO(),
               "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False}
    status, chunks = [], []

    def start_response(line, headers, exc_info=None):
        status.append(int(line.split()[0]))
        return chunks.append
    body = app(environ, start_response)
    try:
        chunks.extend(body)
    finally:
        getattr(body, "close", lambda: None)()
    return (status or [None])[0], b"".join(chunks)

def serve_call(app):
    value = app()
    if asyncio.iscoroutine(value):
        value = app_state["loop"].run_until_complete(value)
    return None, normal(value).encode()

async def lifespan(app, message):
    if message == "lifespan.startup":
        inbox, outbox = asyncio.Queue(), asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        task = asyncio.ensure_future(app(scope, inbox.get, outbox.put))
        app_state.update(lifespan=(inbox, outbox, task), lifespan_state=scope["state"])
    elif "lifespan" not in app_state:
        return
    inbox, outbox, task = app_state["lifespan"]
    await inbox.put({"type": message})
    answer = asyncio.ensure_future(outbox.get())
    await asyncio.wait({task, answer}, return_when=asyncio.FIRST_COMPLETED)
    if answer.done():
        if answer.result()["type"].endswith(".failed"):
            raise RuntimeError("%s failed: %s" % (message, answer.result().get("message", "")))
        return
    answer.cancel()
    app_state.pop("lifespan")
    if task.exception() is not None and message == "lifespan.shutdown":
        raise task.exception()
    app_state["no_lifespan"] = True  # an app that does not speak lifespan ends the task at once

if ARGS["phase"] == "requests" and ARGS["barrier"]:
    os.write(ARGS["barrier"][0], b"x")
    os.read(ARGS["barrier"][1], 1)
started = time.perf_counter()
if ARGS["phase"] != "start" and "app" not in app_state:
    reply["skipped"] = "the start-up failed"
elif ARGS["phase"] == "start":
    with step("import " + ARGS["module"]):
        obj = importlib.import_module(ARGS["module"])
    for part in (ARGS["attribute"] or "").split(".") if ARGS["attribute"] else ():
        obj = getattr(obj, part)
    app_state["app"] = obj
    app_state["loop"] = asyncio.new_event_loop()
    if ARGS["kind"] == "asgi":
        with step("lifespan startup"):
            app_state["loop"].run_until_complete(lifespan(obj, "lifespan.startup"))
elif ARGS["phase"] == "requests":
    answers = []
    for request in ARGS["requests"]:
        method, _, target = request.partition(" ")
        answer = {"request": request, "status": None, "body": None, "error": None}
        try:
            with step("serve " + request):
                if ARGS["kind"] == "asgi":
                    answer["status"], body = serve_asgi(app_state["app"], method, target or "/")
                elif ARGS["kind"] == "wsgi":
                    answer["status"], body = serve_wsgi(app_state["app"], method, target or "/")
                else:
                    answer["status"], body = serve_call(app_state["app"])
            answer["body"] = clip(body.decode("utf-8", "replace"))
        except BaseException as exc:
            answer["error"] = chain(exc)[0]
        answers.append(answer)
    reply["answers"] = answers
else:
    if ARGS["kind"] == "asgi":
        with step("lifespan shutdown"):
            app_state["loop"].run_until_complete(lifespan(app_state["app"], "lifespan.shutdown"))
    app_state["loop"].close()
reply["seconds"] = time.perf_counter() - started
'''


class Hang(Exception):
    """A member did not answer before the deadline."""


def _task(body, args):
    return "ARGS = %r\n%s" % (args, body)


class Probe:
    """The state of one probe run: where events go, the mode, the deadline."""

    def __init__(self, request, fd):
        self.request = request
        self.fd = fd
        self.mode = request["mode"]
        self.start_clock()
        self.interpreters = None if self.mode == "main" else events.load_sibling("interpreters")
        self.members = []
        self._count = 0

    def start_clock(self):
        """Give the work that starts now its own ``deadline``."""
        self.deadline = time.monotonic() + float(self.request.get("deadline", 50))

    def emit(self, event):
        events.emit(self.fd, event)

    def member(self, label=None):
        """A new live interpreter of the probe's mode (the main one for mode ``main``)."""
        self._count += 1
        label = label or "sub%d" % self._count
        made = MainMember(self, label) if self.mode == "main" else Member(self, label)
        self.members.append(made)
        return made

    def close_all(self, members=None, together=False):
        """Destroy the given members (all by default): one after another, or all at once."""
        members = list(self.members if members is None else members)
        if together:
            for made in members:
                made.quit()
        for made in members:
            made.quit()
            made.wait_exit()
            self.members.remove(made)


class Member:
    """A sub-interpreter alive in its own thread, running tasks sent through a pipe."""

    def __init__(self, probe, where):
        self.probe = probe
        self.where = where
        self.cmd_r, self.cmd_w = os.pipe()
        self.reply_r, self.reply_w = os.pipe()
        self.exited = None
        self.escaped = None
        self.quitting = False
        code = "%s\n_interp_audit_member(%d, %r, %d, %d)\n" % (MEMBER_SOURCE, probe.fd, where, self.cmd_r, self.reply_w)
        self.thread = threading.Thread(target=self._run, args=(code,), name=where, daemon=True)
        self.thread.start()
        self.ready = self._receive()

    def _run(self, code):
        try:
            escaped = self.probe.interpreters.run(self.probe.mode, code)
        except BaseException as exc:
            escaped = events.describe(exc)
        data = repr({"exited": True, "escaped": escaped and escaped[:events.MAX_TEXT]}).encode()
        os.write(self.reply_w, len(data).to_bytes(8, "big") + data)

    def _read(self, size):
        data = b""
        while len(data) < size:
            left = self.probe.deadline - time.monotonic()
            if left <= 0 or not select.select([self.reply_r], [], [], left)[0]:
                raise Hang(self.where)
            chunk = os.read(self.reply_r, size - len(data))
            if not chunk:
                raise Hang(self.where)
            data += chunk
        return data

    def _receive(self):
        size = int.from_bytes(self._read(8), "big")
        reply = ast.literal_eval(self._read(size).decode("utf-8"))
        if reply.get("exited"):
            self.exited = reply
            self.escaped = reply.get("escaped")
            return {"ok": False, "error": self.escaped or "the interpreter exited", "chain": [], "exited": True}
        return reply

    def submit(self, code):
        """Send task code; collect the reply with :meth:`result`."""
        if self.exited:
            return
        data = code.encode("utf-8")
        os.write(self.cmd_w, len(data).to_bytes(8, "big") + data)

    def result(self):
        if self.exited:
            return {"ok": False, "error": self.escaped or "the interpreter exited", "chain": [], "exited": True}
        return self._receive()

    def call(self, code):
        self.submit(code)
        return self.result()

    def quit(self):
        if not self.exited and not self.quitting:
            self.quitting = True
            os.write(self.cmd_w, (0).to_bytes(8, "big"))

    def wait_exit(self):
        while not self.exited:
            self._receive()
        self.thread.join(max(0.0, self.probe.deadline - time.monotonic()))
        if self.thread.is_alive():
            raise Hang(self.where)
        self.probe.emit({"event": "end", "step": "destroy interpreter", "where": self.where})
        for fd in (self.cmd_r, self.cmd_w, self.reply_r, self.reply_w):
            os.close(fd)


class MainMember:
    """The probe's own main interpreter, with the same interface as :class:`Member`."""

    def __init__(self, probe, where="main"):
        self.where = "main"
        self.exited = None
        self.pending = None
        self.namespace = {"__name__": "__interp_audit_main__"}
        exec(MEMBER_SOURCE, self.namespace)
        self.tools = self.namespace["_interp_audit_tools"](probe.fd, "main")
        self.ready = {"ready": True}

    def submit(self, code):
        self.pending = code

    def result(self):
        return self.namespace["_interp_audit_run_task"](self.tools, self.pending)

    def call(self, code):
        self.submit(code)
        return self.result()

    def quit(self):
        pass

    def wait_exit(self):
        pass


def _tops(request):
    names = list(request.get("import_names", ())) + list(request.get("extensions", ()))
    return sorted({name.split(".")[0] for name in names})


def _workload(request, snippets, iterations=1, barrier=None, keep=False):
    return _task(WORKLOAD_TASK, {"imports": list(request["import_names"]), "snippets": snippets,
                                 "iterations": iterations, "barrier": barrier, "keep": keep})


def _failure(reply):
    return {"error": reply.get("error"), "chain": reply.get("chain", [])}


def check_generic(probe):
    """Walk the submodules and touch public attributes in one interpreter."""
    request = probe.request
    member = probe.member()
    reply = member.call(_task(GENERIC_TASK, {
        "imports": list(request["import_names"]), "tops": _tops(request),
        "max_modules": int(request.get("max_modules", 200)), "max_attributes": int(request.get("max_attributes", 500)),
        "walk_seconds": float(request.get("walk_seconds", 20)),
        "skip": ["tests", "test", "testing", "conftest", "__main__"], "exclude": list(request.get("exclude", ())),
    }))
    probe.close_all()
    if not reply["ok"]:
        probe.emit(dict({"event": "result", "check": "generic", "ok": False}, **_failure(reply)))
        return
    failed = reply["failed"]
    also_in_main = []
    if failed and probe.mode != "main":
        main = MainMember(probe, "main")
        checked = main.call(_task(RECHECK_TASK, {"failed": failed}))
        also_in_main = checked.get("still_failing", [])
    keys = {(module, attribute) for module, attribute, _ in also_in_main}
    for module, attribute, error in also_in_main:
        what = module + ("." + attribute if attribute else "")
        reply["skipped"].append({"module": what, "reason": "fails in the main interpreter too: " + error})
    failed = [item for item in failed if (item["module"], item["attribute"]) not in keys]
    probe.emit({"event": "result", "check": "generic", "ok": not failed, "modules_walked": reply["walked"],
                "failed": failed, "skipped": reply["skipped"], "refused": reply["refused"],
                "truncated": reply["truncated"],
                "not_walked": reply["not_walked"][:50], "attributes_touched": reply["attributes_touched"]})


def check_snippet(probe):
    """Run each snippet in a fresh interpreter; a failure is retried in main."""
    request = probe.request
    for snippet in request["snippets"]:
        probe.start_clock()
        started = time.monotonic()
        member = probe.member()
        reply = member.call(_workload(dict(request, import_names=[]), [snippet]))
        probe.close_all()
        event = {"event": "result", "check": "snippet", "name": snippet["name"], "ok": reply["ok"],
                 "result": (reply.get("results", {}).get(snippet["name"]) or [None])[0],
                 "fails_in_main_too": False}
        if not reply["ok"]:
            event.update(_failure(reply))
            if probe.mode != "main":
                main = MainMember(probe, "main")
                event["fails_in_main_too"] = not main.call(_workload(dict(request, import_names=[]), [snippet]))["ok"]
        event["seconds"] = time.monotonic() - started
        probe.emit(event)


def _release(probe, members, ready_r, go_w, what):
    """Wait until every live member reached the start barrier (one byte each on ``ready_r``),
    then let them all go at once."""
    live = [m for m in members if not m.exited]
    arrived = 0
    while arrived < len(live):
        left = probe.deadline - time.monotonic()
        if left <= 0 or not select.select([ready_r], [], [], left)[0]:
            raise Hang(what)
        arrived += len(os.read(ready_r, len(live) - arrived))
    os.write(go_w, b"x" * len(live))


def check_parallel(probe):
    """N interpreters import and run the workload at the same moment, several rounds."""
    request = probe.request
    count = int(request.get("parallel", 4))
    for round_index in range(int(request.get("rounds", 3))):
        ready_r, ready_w = os.pipe()
        go_r, go_w = os.pipe()
        members = [probe.member("r%dp%d" % (round_index + 1, i + 1)) for i in range(count)]
        code = _workload(request, request["snippets"], int(request.get("iterations", 5)), (ready_w, go_r))
        for member in members:
            member.submit(code)
        _release(probe, members, ready_r, go_w, "the parallel start barrier")
        replies = [member.result() for member in members]
        probe.close_all(members, together=True)
        for fd in (ready_r, ready_w, go_r, go_w):
            os.close(fd)
        probe.emit({"event": "result", "check": "parallel", "round": round_index + 1, "members": [
            {"where": m.where, "ok": r["ok"], "error": r.get("error"), "results": r.get("results", {})}
            for m, r in zip(members, replies)]})


def check_reimport(probe):
    """Create, import, run, destroy -- several times in a row."""
    request = probe.request
    for index in range(int(request.get("rounds", 3))):
        member = probe.member("reimport%d" % (index + 1))
        reply = member.call(_workload(request, request["snippets"]))
        probe.close_all()
        probe.emit({"event": "result", "check": "reimport", "index": index + 1, "ok": reply["ok"],
                    "error": reply.get("error"), "chain": reply.get("chain", []),
                    "results": reply.get("results", {}), "environ_set": reply.get("environ_set", [])})


def check_static_types(probe):
    """Compare the identity of every extension type in two live interpreters."""
    request = probe.request
    code = _task(STATIC_TYPES_TASK, {"extensions": list(request["extensions"]), "tops": _tops(request)})
    first, second = probe.member(), probe.member()
    replies = [first.call(code), second.call(code)]
    probe.close_all()
    seen = [r.get("extensions", {}) for r in replies]
    shared, errors, checked = [], {}, []
    for ext in request["extensions"]:
        one, two = seen[0].get(ext, {}), seen[1].get(ext, {})
        if one.get("error") or two.get("error") or not one:
            errors[ext] = one.get("error") or two.get("error") or replies[0].get("error")
            continue
        checked.append(ext)
        ids = {t["id"] for t in two.get("types", [])}
        for kind in one.get("types", []):
            if kind["id"] in ids:
                shared.append({"type": kind["name"], "module": ext, "attribute": kind["attribute"],
                               "heap": kind["heap"]})
    probe.emit({"event": "result", "check": "static_types", "ok": not shared, "shared": shared,
                "checked": checked, "errors": errors,
                "types_compared": sum(len(seen[0].get(ext, {}).get("types", [])) for ext in checked)})


def _transport():
    """The best cross-interpreter channel of this Python: (name, id, the object keeping it open)."""
    try:
        import _interpqueues

        try:
            queue = _interpqueues.create(0, 0, 1)  # maxsize, format, unbound-item policy (3.13)
        except TypeError:
            queue = _interpqueues.create(0, 0)
        return "_interpqueues", queue, queue
    except ImportError:
        pass
    for name in ("_interpchannels", "_xxinterpchannels"):
        try:
            channels = __import__(name)
        except ImportError:
            continue
        channel = channels.create()  # the channel lives as long as this object
        return name, int(channel), channel
    return "relay", None, None


def check_cross_interpreter(probe):
    """Send the package's objects from one live interpreter to another."""
    request = probe.request
    transport, channel, keep_open = _transport()
    sender, receiver = probe.member(), probe.member()
    setup = sender.call(_workload(request, request["snippets"], keep=True))
    args = {"imports": list(request["import_names"]), "tops": _tops(request), "transport": transport,
            "channel": channel, "max_objects": int(request.get("max_objects", 10))}
    sent = sender.call(_task(CROSS_SEND_TASK, args)) if setup["ok"] else setup
    received = {"ok": True, "outcomes": []}
    if sent["ok"] and sent["items"]:
        received = receiver.call(_task(CROSS_RECEIVE_TASK, dict(args, items=sent["items"], relay=sent["relay"])))
    probe.close_all([receiver])  # the receiver may hold views of the sender's buffers: it goes first
    probe.close_all()
    del keep_open
    items = []
    for index, item in enumerate(sent.get("items", [])):
        outcome = (received.get("outcomes") or [{}] * (index + 1))[index] if received["ok"] else {
            "pickle": "the second interpreter failed: %s" % received.get("error"), "buffer": item["buffer"]}
        can = item["native"] or outcome.get("pickle") == "ok" or outcome.get("buffer") == "ok"
        items.append({"source": item["source"], "type": item["type"], "native": item["native"],
                      "pickle": outcome.get("pickle"), "buffer": outcome.get("buffer"), "crosses": can})
    event = {"event": "result", "check": "cross_interpreter", "mechanism": transport, "objects": items,
             "ok": all(i["crosses"] for i in items) if sent["ok"] else False,
             "error": None if sent["ok"] else sent.get("error")}
    probe.emit(event)


def _rss_kib():
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024, "/proc/self/statm"
    except (OSError, ValueError, IndexError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return (peak // 1024 if sys.platform == "darwin" else peak), "getrusage peak"


def check_cost(probe):
    """Import time and resident-memory growth of each extra interpreter."""
    request = probe.request
    samples = []
    code = _task(COST_TASK, {"imports": list(request["import_names"])})
    source = None
    environ_set = set()
    for index in range(int(request.get("samples", 5))):
        before, source = _rss_kib()
        member = probe.member("cost%d" % (index + 1))
        created, _ = _rss_kib()
        reply = member.call(code)
        imported, _ = _rss_kib()
        environ_set.update(reply.get("environ_set", ()))
        if not reply["ok"]:
            probe.emit({"event": "result", "check": "cost", "ok": False, "error": reply.get("error"),
                        "samples": samples, "rss_source": source, "environ_set": sorted(environ_set)})
            probe.close_all()
            return
        samples.append({"import_seconds": reply["seconds"], "interpreter_kib": created - before,
                        "import_kib": imported - created})
    probe.close_all()
    probe.emit({"event": "result", "check": "cost", "ok": True, "samples": samples, "rss_source": source,
                "environ_set": sorted(environ_set)})


def check_app(probe):
    """Serve an application as a worker pool would: first in main (the reference), then
    start ``parallel`` interpreters at once, send every request in all of them at the same
    moment, shut them down; record answers, start-up time and memory per interpreter."""
    request = probe.request
    args = dict(request["app"], barrier=None)

    def submit(members, name, barrier=None):
        for member in members:
            member.submit(_task(APP_TASK, dict(args, phase=name, barrier=barrier)))

    main = MainMember(probe, "main")
    reference = {name: main.call(_task(APP_TASK, dict(args, phase=name))) for name in ("start", "requests", "stop")}
    count = int(request.get("parallel", 4))
    before, source = _rss_kib()
    created = time.perf_counter()
    members = [probe.member("app%d" % (index + 1)) for index in range(count)]
    create_seconds = (time.perf_counter() - created) / count
    submit(members, "start")
    starts = [member.result() for member in members]
    after, _ = _rss_kib()
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    submit(members, "requests", (ready_w, go_r))
    _release(probe, members, ready_r, go_w, "the request barrier")
    served = [member.result() for member in members]
    submit(members, "stop")
    stops = [member.result() for member in members]
    probe.close_all(members, together=True)
    for fd in (ready_r, ready_w, go_r, go_w):
        os.close(fd)

    def outcome(where, start, answers, stop):
        return {"where": where, "start": _failure(start) if not start["ok"] else None,
                "startup_seconds": start.get("seconds"), "answers": answers.get("answers", []),
                "requests": None if answers["ok"] else _failure(answers),
                "stop": _failure(stop) if not stop["ok"] else None}

    probe.emit({"event": "result", "check": "app", "main": outcome("main", *reference.values()),
                "members": [outcome(m.where, *r) for m, r in zip(members, zip(starts, served, stops))],
                "cost": {"interpreter_seconds": create_seconds, "rss_kib_per_interpreter": (after - before) // count,
                         "rss_source": source}})


CHECKS = {
    "generic": check_generic,
    "snippet": check_snippet,
    "parallel": check_parallel,
    "reimport": check_reimport,
    "static_types": check_static_types,
    "cross_interpreter": check_cross_interpreter,
    "cost": check_cost,
    "app": check_app,
}


def run_session(probe, checks):
    """Run ``checks`` one after another in this process, each marked and timed.

    The caller chooses the order and decides which results a fresh process would
    have given the same (``auditor/runtime/smoke.py``)."""
    for name in checks:
        probe.emit({"event": "check", "check": name, "state": "begin"})
        probe.start_clock()
        started = time.monotonic()
        CHECKS[name](probe)
        probe.emit({"event": "check", "check": name, "state": "end", "seconds": time.monotonic() - started})


def main(argv):
    import faulthandler

    faulthandler.enable()  # a crash leaves the stacks of every thread in the output tail
    request = events.read_request(argv[1])
    for name in MAIN_PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    probe = Probe(request, int(argv[2]))
    if probe.interpreters is not None:
        reason = probe.interpreters.support().get(probe.mode)
        if reason:
            probe.emit({"event": "unsupported", "reason": reason})
            return 0
    try:
        if "checks" in request:
            run_session(probe, request["checks"])
        else:
            CHECKS[request["check"]](probe)
    except Hang as hang:
        waiting = sorted({m.where for m in probe.members if not m.exited} | {str(hang)})
        probe.emit({"event": "hang", "waiting_for": waiting, "t": time.monotonic()})
        os._exit(4)
    probe.emit({"event": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
