"""How the code running inside the audited interpreter reports: events and import markers.

Standard library only, and nothing at module level but imports, constants and
definitions, because this file is used three ways:

* run by path by the probe scripts (``runtime.py``, ``smoke.py``: ``python -P``
  makes no sibling importable), from its text, which they keep as ``SOURCE``;
* that text executed in every interpreter the probes run code in (sub-interpreters
  share nothing with the probe, so their code is passed as text): prepended to that
  code, it defines these functions there;
* imported as ``interp_audit.probe.events`` by the pytest plugin's child process and
  inner session, which have interp-audit on ``sys.path``.

Every event is one ``repr()`` of a dict written with a single ``os.write``, so the
parent reads back everything written before a crash.  Nothing here imports a module
that a fresh interpreter has not loaded at start-up, so that the audited package's
import is the first to load any other (what it loads is reported): events are
``repr()`` text rather than JSON, requests arrive as ``marshal`` data
(:func:`read_request`) and sibling probe files are run from their text.  Module
loads are marked ``{'event': 'begin'|'end', 'module': ..., 'where': ..., 't': ...}``
in this key order: the parent parses markers with a regular expression
(``auditor/runtime/worker.py``).
"""

import os
import sys
import time

#: Longest text of an error in an event; longer ones are clipped, ending in "...".
MAX_TEXT = 1500
#: Most exceptions of a cause/context chain reported.
MAX_CHAIN = 10


def emit(fd, event):
    """Write ``event`` to ``fd``: one ``repr()`` line, with one ``os.write`` so a crash cannot cut it in two."""
    os.write(fd, (repr(event) + "\n").encode("utf-8", "backslashreplace"))


def clip(text):
    """``str(text)``, cut to MAX_TEXT characters."""
    text = str(text)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "..."


def describe(exc):
    """``Type: message`` of an exception."""
    return "%s: %s" % (type(exc).__name__, exc)


def chain(exc):
    """Clipped descriptions of ``exc`` and of its causes (else contexts), outermost first."""
    found, seen = [], set()
    while exc is not None and id(exc) not in seen and len(found) < MAX_CHAIN:
        seen.add(id(exc))
        found.append(clip(describe(exc)))
        exc = exc.__cause__ or exc.__context__
    return found


def marker(fd, state, kind, name, where):
    """Write the ``begin`` or ``end`` (``state``) of a module load or a step (``kind``), with
    its time (``t``, ``time.monotonic()``): a crash or hang leaves a ``begin`` without its ``end``."""
    emit(fd, {"event": state, kind: name, "where": where, "t": time.monotonic()})


def install_import_markers(fd, where, failed=None):
    """Mark every module load of this interpreter from now on (once per interpreter).

    A load that raises gets its ``end`` all the same, so only a crash or a hang
    leaves a ``begin`` open.  With a ``failed`` list, a load that raises is added
    to it instead and keeps its ``begin`` open (the runtime probe's convention:
    the ladder takes the last open ``begin`` of a crashed run as the culprit).
    """
    bootstrap = sys.modules.get("_frozen_importlib")
    original = getattr(bootstrap, "_load_unlocked", None)
    if original is None or getattr(original, "_interp_audit", False):
        return

    def _load_unlocked(spec):
        __tracebackhide__ = True  # pytest leaves this frame out of an import error's traceback
        marker(fd, "begin", "module", spec.name, where)
        try:
            module = original(spec)
        except BaseException:
            if failed is None:
                marker(fd, "end", "module", spec.name, where)
            else:
                failed.append(spec.name)
            raise
        marker(fd, "end", "module", spec.name, where)
        return module

    _load_unlocked._interp_audit = True
    bootstrap._load_unlocked = _load_unlocked


def read_request(argument):
    """The request the parent passed as ``argument``: ``marshal`` data in hex, or ``@PATH`` of
    a file holding that data (``auditor/runtime/worker.py``, ``encode_request``)."""
    import marshal

    if argument.startswith("@"):
        with open(argument[1:], encoding="ascii") as handle:
            argument = handle.read()
    return marshal.loads(bytes.fromhex(argument))


def load_sibling(name):
    """The probe file ``name``.py beside this one, run from its text (kept as ``SOURCE``) as a
    module of a private name: probes never touch ``sys.path``."""
    module = type(sys)("_interp_audit_" + name)
    module.__file__ = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py")
    with open(module.__file__, encoding="utf-8") as source:
        module.SOURCE = source.read()
    exec(compile(module.SOURCE, module.__file__, "exec"), vars(module))
    return module
