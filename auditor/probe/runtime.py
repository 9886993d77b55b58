"""Runtime probe: import one name in main and/or sub-interpreters, report what happened.

Run by the *target* interpreter as ``python -P runtime.py REQUEST EVENTS_FD``;
standard library only, it never imports interp_audit.  REQUEST is a Python
literal (dict) with:

* ``name``       -- the top-level import name;
* ``mode``       -- ``isolated`` | ``shared-gil`` | ``legacy`` | ``main``;
* ``scenario``   -- ``alone`` (one sub-interpreter, nothing in main) or
  ``beside_main`` (import in main, then in two successive sub-interpreters);
* ``extensions`` -- dotted names of the distribution's extension modules, to
  report which of them got loaded (a silent pure-Python fallback shows here).

Every event is one ``repr()`` of a dict written with a single ``os.write`` to
EVENTS_FD, so the parent can read them back even after a crash:

* ``{"event": "begin"|"end", "module": ..., "where": ...}`` around every module
  load (a crash leaves a ``begin`` without its ``end``: the culprit);
* ``{"event": "result", "where": "main"|"sub1"|"sub2", "ok": ..., ...}``, with
  ``loaded`` (which of ``extensions`` are in sys.modules) and
  ``top_level_loaded`` (the top-level names of every module that the import
  loaded in that interpreter: the shutdown-crash culprit candidates);
* ``{"event": "done"}`` when all steps ran (a crash after it happened at shutdown);
* ``{"event": "unsupported", "reason": ...}`` when the mode cannot be made here.

``repr`` and ``ast.literal_eval`` are used instead of JSON so that the probe
imports nothing that the audited package might want to import first.
"""

import os
import sys

# The code run in every interpreter (main and subs): install the import
# markers, import the name, report.  Kept as text so that sub-interpreters
# (which share nothing with this module) can run it.
INTERPRETER_CODE = r'''
def _interp_audit_probe(fd, where, name, extensions, max_text, ignore):
    import os, sys, time

    def emit(event):
        os.write(fd, (repr(event) + "\n").encode("utf-8", "backslashreplace"))

    def clip(text):
        text = str(text)
        return text if len(text) <= max_text else text[:max_text] + "..."

    bootstrap = sys.modules.get("_frozen_importlib")
    original = getattr(bootstrap, "_load_unlocked", None)
    failed = []
    if original is not None and not getattr(original, "_interp_audit", False):
        def _load_unlocked(spec):
            emit({"event": "begin", "module": spec.name, "where": where})
            try:
                module = original(spec)
            except BaseException:
                if not failed:
                    failed.append(spec.name)
                raise
            emit({"event": "end", "module": spec.name, "where": where})
            return module
        _load_unlocked._interp_audit = True
        bootstrap._load_unlocked = _load_unlocked

    before = set(sys.modules)
    started = time.perf_counter()
    result = {"event": "result", "where": where, "ok": True, "error": None, "chain": [], "failed_module": None}
    try:
        __import__(name)
    except BaseException as exc:
        result["ok"] = False
        chain, seen, current = [], set(), exc
        while current is not None and id(current) not in seen and len(chain) < 10:
            seen.add(id(current))
            chain.append(clip("%s: %s" % (type(current).__name__, current)))
            current = current.__cause__ or current.__context__
        result["error"] = chain[0]
        result["chain"] = chain
        result["failed_module"] = failed[0] if failed else None
    result["seconds"] = time.perf_counter() - started
    result["loaded"] = [m for m in extensions if m in sys.modules and m not in ignore]
    result["top_level_loaded"] = sorted({n.split(".")[0] for n in list(sys.modules) if n not in before})
    emit(result)
'''

MAX_TEXT = 1500


def _load_interpreters():
    """The sibling ``interpreters.py``, run by path: probes never touch sys.path."""
    import runpy
    import types

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "interpreters.py")
    return types.SimpleNamespace(**runpy.run_path(path, run_name="_interp_audit_interpreters"))


def _call(where, fd, request, ignore=()):
    """Code running the probe in one interpreter; modules in ``ignore`` were
    loaded by the probe itself and are never reported as loaded."""
    return "%s\n_interp_audit_probe(%d, %r, %r, %r, %d, %r)\n" % (
        INTERPRETER_CODE,
        fd,
        where,
        request["name"],
        list(request.get("extensions", ())),
        MAX_TEXT,
        sorted(ignore),
    )


def _emit(fd, event):
    os.write(fd, (repr(event) + "\n").encode("utf-8", "backslashreplace"))


def _in_sub(fd, mode, where, request, interpreters):
    escaped = interpreters.run(mode, _call(where, fd, request))
    if escaped:
        _emit(fd, {"event": "probe-error", "where": where, "error": escaped[:MAX_TEXT]})


def main(argv):
    import ast

    startup = set(sys.modules)
    request = ast.literal_eval(argv[1])
    fd = int(argv[2])
    mode, scenario = request["mode"], request["scenario"]
    interpreters = None
    if mode != "main":
        interpreters = _load_interpreters()
        reason = interpreters.support().get(mode)
        if reason:
            _emit(fd, {"event": "unsupported", "reason": reason})
            return 0
    if mode == "main" or scenario == "beside_main":
        probe_modules = set(sys.modules) - startup
        exec(_call("main", fd, request, probe_modules), {"__name__": "__interp_audit__"})
    if mode != "main":
        rounds = 1 if scenario == "alone" else 2
        for index in range(rounds):
            _in_sub(fd, mode, "sub%d" % (index + 1), request, interpreters)
    _emit(fd, {"event": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
