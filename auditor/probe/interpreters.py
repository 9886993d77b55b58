"""Create, run code in, and destroy sub-interpreters on CPython 3.12, 3.13 and 3.14.

Standard library only: this file runs inside the audited interpreter, which
need not have interp-audit installed.  It hides the differences between
``_xxsubinterpreters`` (3.12), ``_interpreters`` (3.13+) and
``_testcapi.run_in_subinterp_with_config`` (the only way to get a shared-GIL
interpreter with extension checks on 3.12).

The kinds of interpreter (the "modes" of the ladder):

* ``isolated``   -- own GIL, own obmalloc, multi-phase extension checks on;
* ``shared-gil`` -- the main GIL, extension checks on;
* ``legacy``     -- the main GIL, no checks (what ``Py_NewInterpreter`` gives).

Code handed to :func:`run` reports back on its own (through a file descriptor);
:func:`run` only returns an error text when the code itself escaped with an
exception, or raises :class:`Unsupported` when the mode cannot be made here.
"""

import sys

MODES = ("isolated", "shared-gil", "legacy")


class Unsupported(Exception):
    """This interpreter cannot create a sub-interpreter of the asked kind."""


def _new_api():
    try:
        import _interpreters  # 3.13+
    except ImportError:
        return None
    if not hasattr(_interpreters, "new_config"):
        return None
    return _interpreters


def _old_api():
    try:
        import _xxsubinterpreters  # 3.12
    except ImportError:
        return None
    return _xxsubinterpreters


def _describe(excinfo):
    """Text of an exception summary returned by ``_interpreters.exec``."""
    if excinfo is None:
        return None
    formatted = getattr(excinfo, "formatted", None)
    return formatted or str(excinfo)


def support():
    """Map each mode to None when it can be made here, or to the reason it cannot."""
    if sys.implementation.name != "cpython" or sys.version_info < (3, 12):
        reason = "sub-interpreters with their own GIL need CPython 3.12 or newer"
        return {mode: reason for mode in MODES}
    if _new_api() is not None:
        return {mode: None for mode in MODES}
    if _old_api() is None:
        reason = "neither _interpreters nor _xxsubinterpreters is importable"
        return {mode: reason for mode in MODES}
    result = {"isolated": None, "legacy": None, "shared-gil": None}
    try:
        import _testcapi
    except ImportError:
        _testcapi = None
    if _testcapi is None or not hasattr(_testcapi, "run_in_subinterp_with_config"):
        result["shared-gil"] = (
            "CPython %d.%d has no public way to create a shared-GIL interpreter with "
            "extension checks, and _testcapi is not installed" % sys.version_info[:2]
        )
    return result


def run(mode, code):
    """Create a sub-interpreter of ``mode``, run ``code`` in it, destroy it.

    Returns None when the code ran to its end, else the text of the exception
    that escaped.  Raises :class:`Unsupported` when the mode is not available.
    """
    reason = support().get(mode, "unknown mode %r" % (mode,))
    if reason:
        raise Unsupported(reason)
    new = _new_api()
    if new is not None:
        if mode == "isolated":
            config = new.new_config("isolated")
        elif mode == "shared-gil":
            config = new.new_config("legacy", check_multi_interp_extensions=True)
        else:
            config = new.new_config("legacy")
        interp = new.create(config)
        try:
            return _describe(new.exec(interp, code))
        finally:
            new.destroy(interp)
    old = _old_api()
    if mode == "shared-gil":
        return _run_testcapi(code)
    interp = old.create(isolated=(mode == "isolated"))
    try:
        old.run_string(interp, code)
    except Exception as exc:  # RunFailedError carries only the text
        return str(exc)
    finally:
        old.destroy(interp)
    return None


def _run_testcapi(code):
    import _testcapi

    options = dict(
        use_main_obmalloc=True,
        allow_fork=True,
        allow_exec=True,
        allow_threads=True,
        allow_daemon_threads=True,
        check_multi_interp_extensions=True,
    )
    try:
        rc = _testcapi.run_in_subinterp_with_config(code, gil=1, **options)  # 1 = PyInterpreterConfig_SHARED_GIL
    except TypeError:
        rc = _testcapi.run_in_subinterp_with_config(code, own_gil=False, **options)
    return None if rc == 0 else "the code in the sub-interpreter failed (exit status %r)" % (rc,)
