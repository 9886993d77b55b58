"""Child process doing the sub-interpreter work for the pytest plugin.

Standard library (and interp_audit.probe) only: the sub-interpreter work happens here, never in the
pytest process, so a crash or a hang costs this process and not the test
session.  Two commands:

``python -P child.py test EVENTS_PATH``
    run one test function (the request, a Python literal dict, comes on
    standard input) in fresh sub-interpreters; see below.
``python -P child.py serve MODE REQUEST_FD RESPONSE_FD SYS_PATH``
    make one sub-interpreter and serve the ``subinterpreter`` fixture's
    requests in it (length-prefixed pickles: ``run``, ``eval``, ``call``,
    ``close``) until ``close`` or end of input.

The ``test`` request holds:

* ``module``, ``path``  -- the test module's import name and file;
* ``cls``, ``function`` -- qualified class name (or None) and function name;
* ``kind``              -- ``function`` or ``unittest`` (a TestCase method);
* ``kwargs``            -- pickled dict of the direct parametrize values;
* ``tmp_path``          -- a directory when the test asks for ``tmp_path``;
* ``sys_path``, ``rewrite`` -- the pytest process's sys.path, and whether to
  rewrite asserts like pytest does;
* ``mode``, ``n``, ``rounds`` -- kind of interpreter, how many at once (one
  thread each), and how many times to start again with fresh interpreters.

For ``test``, every event is one ``repr()`` of a dict appended with one ``os.write`` to the
events file, so the parent can read them back after a crash:
``begin``/``end`` around module loads and ``call-begin``/``call-end`` around
the test call (a ``begin`` without its ``end`` names the culprit), and one
``result`` per interpreter (``outcome`` is passed, failed, skipped or xfailed).
"""

import os
import sys
import threading

# Imported in this process's main interpreter before any sub-interpreter is
# made, as in any real program (and as in the pytest process itself): CPython
# 3.12 aborts at exit when an isolated interpreter is the first to import the
# OpenSSL-backed modules.
MAIN_PRE_IMPORTS = ("hashlib", "ssl", "pytest", "_pytest.assertion.rewrite")

# The code run in every sub-interpreter, kept as text because
# sub-interpreters share no objects with this module.
SUB_CODE = r'''
def _interp_audit_test(request, where, tmp_path, ready_fd, go_fd):
    import os, sys

    fd = request["events_fd"]

    def emit(event):
        event["where"] = where
        os.write(fd, (repr(event) + "\n").encode("utf-8", "backslashreplace"))

    def classify(exc, stage):
        import traceback
        kind = type(exc).__name__
        origin = type(exc).__module__
        if origin in ("_pytest.outcomes", "builtins", "unittest.case"):  # pytest sets builtins
            msg = str(getattr(exc, "msg", None) or exc)
            if kind in ("Skipped", "SkipTest"):
                return {"event": "result", "outcome": "skipped", "text": msg}
            if kind == "XFailed":
                return {"event": "result", "outcome": "xfailed", "text": msg}
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == "<string>":
            tb = tb.tb_next
        text = "".join(traceback.format_exception(type(exc), exc, tb))
        return {"event": "result", "outcome": "failed", "stage": stage, "text": text}

    def install_markers():
        bootstrap = sys.modules.get("_frozen_importlib")
        original = getattr(bootstrap, "_load_unlocked", None)
        if original is None or getattr(original, "_interp_audit", False):
            return

        def _load_unlocked(spec):
            emit({"event": "begin", "module": spec.name})
            module = original(spec)
            emit({"event": "end", "module": spec.name})
            return module

        _load_unlocked._interp_audit = True
        bootstrap._load_unlocked = _load_unlocked

    def load_module():
        import ast, importlib, importlib.util
        name, path = request["module"], request["path"]
        parent = name.rpartition(".")[0]
        if parent:
            try:
                importlib.import_module(parent)
            except ImportError:
                pass
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        with open(path, "rb") as handle:
            source = handle.read()
        tree = ast.parse(source, path)
        if request["rewrite"]:
            from _pytest.assertion.rewrite import rewrite_asserts
            rewrite_asserts(tree, source, path)
        code = compile(tree, path, "exec", dont_inherit=True)
        sys.modules[name] = module
        emit({"event": "begin", "module": name})
        exec(code, module.__dict__)
        emit({"event": "end", "module": name})
        return module

    def make_call(module):
        import pickle
        owner = module
        for part in (request["cls"] or "").split(".") if request["cls"] else ():
            owner = getattr(owner, part)
        if request["kind"] == "unittest":
            return owner(request["function"]).debug
        kwargs = pickle.loads(request["kwargs"])
        if tmp_path is not None:
            import pathlib
            kwargs["tmp_path"] = pathlib.Path(tmp_path)
        if owner is module:
            function = getattr(module, request["function"])
            return lambda: function(**kwargs)
        instance = owner()
        method = getattr(instance, request["function"])

        def call():
            if hasattr(instance, "setup_method"):
                instance.setup_method(method)
            try:
                method(**kwargs)
            finally:
                if hasattr(instance, "teardown_method"):
                    instance.teardown_method(method)

        return call

    result = {"event": "result", "outcome": "passed", "text": ""}
    call = None
    try:
        sys.path[:] = request["sys_path"]
        install_markers()
        call = make_call(load_module())
    except BaseException as exc:
        result = classify(exc, "import")
    finally:
        os.write(ready_fd, b".")
        os.read(go_fd, 1)
    if call is not None:
        emit({"event": "call-begin", "test": request["nodeid"]})
        try:
            call()
        except BaseException as exc:
            result = classify(exc, "call")
        emit({"event": "call-end", "test": request["nodeid"]})
    emit(result)
'''


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


def _load_interpreters():
    """The sub-interpreter helpers shared with the scan's probes."""
    from interp_audit.probe import interpreters

    return interpreters


def _emit(fd, event):
    os.write(fd, (repr(event) + "\n").encode("utf-8", "backslashreplace"))


def _pre_import():
    for name in MAIN_PRE_IMPORTS:
        try:
            __import__(name)
        except ImportError:
            pass


def _one_round(interpreters, request, round_index):
    """Run the test in ``n`` fresh interpreters at once, one thread each."""
    n, fd = request["n"], request["events_fd"]
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()

    def work(index):
        where = "sub%d" % (index + 1) if request["rounds"] == 1 else "round%d-sub%d" % (round_index + 1, index + 1)
        tmp = request["tmp_path"]
        if tmp is not None and (n > 1 or request["rounds"] > 1):
            tmp = os.path.join(tmp, where)
            os.makedirs(tmp, exist_ok=True)
        code = "%s\n_interp_audit_test(%r, %r, %r, %d, %d)\n" % (SUB_CODE, request, where, tmp, ready_w, go_r)
        try:
            escaped = interpreters.run(request["mode"], code)
        except Exception as exc:  # the interpreter could not be made
            escaped = "%s: %s" % (type(exc).__name__, exc)
            os.write(ready_w, b".")
        if escaped:
            _emit(fd, {"event": "harness-error", "where": where, "text": escaped})

    threads = [threading.Thread(target=work, args=(index,)) for index in range(n)]
    for thread in threads:
        thread.start()
    arrived = 0
    while arrived < n:
        arrived += len(os.read(ready_r, n - arrived))
    os.write(go_w, b"." * n)
    for thread in threads:
        thread.join()
    for pipe_fd in (ready_r, ready_w, go_r, go_w):
        os.close(pipe_fd)


def _test(events_path):
    import ast

    request = ast.literal_eval(sys.stdin.read())
    fd = os.open(events_path, os.O_WRONLY | os.O_APPEND)
    request["events_fd"] = fd
    sys.path[:] = request["sys_path"]
    interpreters = _load_interpreters()
    reason = interpreters.support().get(request["mode"], "unknown mode %r" % (request["mode"],))
    if reason:
        _emit(fd, {"event": "unsupported", "reason": reason})
        return 0
    _pre_import()
    for round_index in range(request["rounds"]):
        _one_round(interpreters, request, round_index)
    _emit(fd, {"event": "done"})
    return 0


def _serve(mode, request_fd, response_fd, sys_path):
    import ast
    import pickle

    sys.path[:] = ast.literal_eval(sys_path)
    interpreters = _load_interpreters()
    _pre_import()
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
    if argv[1:2] == ["test"]:
        return _test(*argv[2:])
    return _serve(*argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
