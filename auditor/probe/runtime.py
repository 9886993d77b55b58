"""Runtime probe: import names in main and/or sub-interpreters, report what happened.

Run by the *target* interpreter as ``python -P runtime.py REQUEST EVENTS_FD``;
standard library only, it never imports interp_audit.  REQUEST is a dict, as
``marshal`` data in hex (``read_request`` of ``events.py``), with:

* ``names``      -- the modules to import, in order (one import name of the
  ladder; the standard-library modules of a crash control);
* ``mode``       -- ``isolated`` | ``shared-gil`` | ``legacy`` | ``main``;
* ``scenario``   -- ``alone`` (one sub-interpreter, nothing in main),
  ``beside_main`` (import in main, then in two successive sub-interpreters) or
  ``walk`` (beside main, but main first walks the public submodules of
  ``names`` and every interpreter imports all of them);
* ``extensions`` -- dotted names of the distribution's extension modules, to
  report which of them got loaded (a silent pure-Python fallback shows here);
* ``exclude``    -- (walk) modules left out, with their submodules;
  ``modules``    -- (walk) import exactly these instead of walking;
  ``max_modules``, ``walk_seconds`` -- (walk) bounds of the walk;
* ``attribute``  -- (mode ``main``) a dotted attribute of the first name to look
  up after its import (an application's ``module:attribute``).

Every event is one ``repr()`` of a dict written with a single ``os.write`` to
EVENTS_FD (``events.py``), so the parent can read them back even after a crash:

* ``{"event": "begin"|"end", "module": ..., "where": ..., "t": ...}`` around every
  module load (a crash leaves a ``begin`` without its ``end``: the culprit; a load
  that raises keeps its ``begin`` open too, and is named in ``failed_module`` or
  ``tolerated``);
* ``{"event": "module", "where": ..., "module": ..., "ok": ...}`` per module of
  a walk (with ``error``, ``chain``, ``failed_module``; when it imported, ``tolerated``:
  the modules whose import failed inside it and were done without);
* ``{"event": "walk", "modules": [...], "failed_in_main": [...], "truncated": ...,
  "top_level_loaded": [...]}``: the public submodules found by main's walk, and the
  top-level names of every module the walk loaded;
* ``{"event": "result", "where": "main"|"sub1"|"sub2", "ok": ..., ...}``, with
  ``loaded`` (which of ``extensions`` are in sys.modules) and
  ``top_level_loaded`` (the top-level names of every module that the import
  loaded in that interpreter: the shutdown-crash culprit candidates);
* ``{"event": "attribute", "ok": ..., "error": ..., "kind": ...}``: the looked-up
  attribute, ``kind`` being ``asgi`` | ``wsgi`` | ``callable`` | ``object``;
* ``{"event": "done"}`` when all steps ran (a crash after it happened at shutdown);
* ``{"event": "unsupported", "reason": ...}`` when the mode cannot be made here.
"""

import os
import sys


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

# The code run in every interpreter (main and subs), after the text of events.py:
# install the import markers, import the names, report.  Kept as text so that
# sub-interpreters (which share nothing with this module) can run it.
INTERPRETER_CODE = r'''
def _interp_audit_probe(fd, where, names, extensions, ignore, each):
    import sys, time

    failed = []
    install_import_markers(fd, where, failed)

    def outcome(name):
        del failed[:]
        try:
            __import__(name)
        except BaseException as exc:
            found = chain(exc)
            return {"ok": False, "error": found[0], "chain": found, "failed_module": failed[0] if failed else None}
        # Modules whose import failed inside a successful one: the importer had a fallback.
        return {"ok": True, "error": None, "chain": [], "failed_module": None, "tolerated": sorted(set(failed))}

    before = set(sys.modules)
    started = time.perf_counter()
    result = {"event": "result", "where": where, "ok": True, "error": None, "chain": [], "failed_module": None}
    for name in names:
        found = outcome(name)
        if each:
            emit(fd, dict(found, event="module", where=where, module=name))
        if result["ok"] and not found["ok"]:
            result.update(found)
    result["seconds"] = time.perf_counter() - started
    result["loaded"] = [m for m in extensions if m in sys.modules and m not in ignore]
    result["top_level_loaded"] = sorted({n.split(".")[0] for n in list(sys.modules) if n not in before})
    emit(fd, result)
'''


def _call(where, fd, request, names, ignore=()):
    """Code importing ``names`` in one interpreter; modules in ``ignore`` were
    loaded by the probe itself and are never reported as loaded."""
    return "%s\n%s\n_interp_audit_probe(%d, %r, %r, %r, %r, %r)\n" % (
        events.SOURCE,
        INTERPRETER_CODE,
        fd,
        where,
        list(names),
        list(request.get("extensions", ())),
        sorted(ignore),
        request["scenario"] == "walk",
    )


TEST_PARTS = ("tests", "test", "testing", "conftest", "__main__")


def _public(name, exclude):
    """True for a module a user would import: no private or test part, not excluded."""
    parts = name.split(".")
    if any(part.startswith("_") or part in TEST_PARTS or part.startswith("test_") or part.endswith("_test")
           for part in parts[1:]):
        return False
    return not any(name == gone or name.startswith(gone + ".") for gone in exclude)


def _walk(request):
    """Public submodules of the request's names that import in main, breadth first."""
    import pkgutil
    import time

    started = time.monotonic()
    exclude = list(request.get("exclude", ()))
    limit, seconds = int(request.get("max_modules", 200)), float(request.get("walk_seconds", 20))
    queue, found, failed, truncated = list(request["names"]), [], [], False
    while queue:
        name = queue.pop(0)
        if len(found) >= limit or time.monotonic() - started > seconds:
            truncated = True
            break
        try:
            module = __import__(name, fromlist=["_"])
        except BaseException as exc:
            failed.append({"module": name, "error": events.describe(exc)})
            continue
        if name not in request["names"]:
            found.append(name)
        path = getattr(module, "__path__", None)
        try:
            children = sorted(info.name for info in pkgutil.iter_modules(path, name + ".")) if path else []
        except BaseException:
            children = []
        queue.extend(child for child in children if _public(child, exclude))
    return found, failed, truncated


def _in_sub(fd, mode, where, request, names, interpreters):
    escaped = interpreters.run(mode, _call(where, fd, request, names))
    if escaped:
        events.emit(fd, {"event": "probe-error", "where": where, "error": escaped[:events.MAX_TEXT]})


def app_kind(obj):
    """How a worker would serve ``obj``: ``asgi`` (async, 3 parameters), ``wsgi`` (2),
    ``callable`` or ``object``."""
    import inspect

    if not callable(obj):
        return "object"
    call = obj if inspect.isroutine(obj) else getattr(type(obj), "__call__", obj)
    try:
        parameters = [p for p in inspect.signature(obj).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return "callable"
    if len(parameters) == 3 and (inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(obj)):
        return "asgi"
    if len(parameters) == 2:
        return "wsgi"
    return "callable"


def _attribute(fd, name, attribute):
    module = sys.modules.get(name)
    event = {"event": "attribute", "ok": False, "error": None, "kind": None}
    try:
        obj = module
        for part in attribute.split("."):
            obj = getattr(obj, part)
        event.update(ok=True, kind=app_kind(obj))
    except BaseException as exc:
        event["error"] = events.describe(exc)
    events.emit(fd, event)


def main(argv):
    startup = set(sys.modules)
    request = events.read_request(argv[1])
    fd = int(argv[2])
    mode, scenario = request["mode"], request["scenario"]
    interpreters = None
    if mode != "main":
        interpreters = events.load_sibling("interpreters")
        reason = interpreters.support().get(mode)
        if reason:
            events.emit(fd, {"event": "unsupported", "reason": reason})
            return 0
    names = list(request["names"])
    if scenario == "walk" and request.get("modules") is not None:
        names, failed, truncated = list(request["modules"]), [], False  # a walk over known modules
        events.emit(fd, {"event": "walk", "modules": names, "failed_in_main": failed, "truncated": truncated})
    elif scenario == "walk":
        before = set(sys.modules)
        names, failed, truncated = _walk(request)
        loaded = sorted({name.split(".")[0] for name in set(sys.modules) - before})
        events.emit(fd, {"event": "walk", "modules": names, "failed_in_main": failed, "truncated": truncated,
                         "top_level_loaded": loaded})
    if mode == "main" or scenario in ("beside_main", "walk"):
        probe_modules = set(sys.modules) - startup
        exec(_call("main", fd, request, names, probe_modules), {"__name__": "__interp_audit__"})
        if request.get("attribute") and names and names[0] in sys.modules:
            _attribute(fd, names[0], request["attribute"])
    if mode != "main":
        rounds = 1 if scenario == "alone" else 2
        for index in range(rounds):
            _in_sub(fd, mode, "sub%d" % (index + 1), request, names, interpreters)
    events.emit(fd, {"event": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
