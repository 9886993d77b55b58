"""pytest plugin: run a project's own tests inside CPython sub-interpreters.

Registered through the ``pytest11`` entry point and off unless asked for:
without ``--subinterpreters`` (or a ``subinterpreters`` marker in the tests
themselves) it adds no items and changes no outcome.  See
``docs/pytest-plugin.md`` for usage.

* ``--subinterpreters[=isolated|shared-gil|legacy]`` adds a variant
  ``test_x[subinterp-MODE]`` of every test function;
  ``--subinterpreters-only`` runs the variants instead of the originals;
  ``--subinterpreters-timeout`` bounds each variant.
* ``@pytest.mark.subinterpreters(n=4, mode="isolated", rounds=1)`` runs the
  body in ``n`` interpreters at once; ``@pytest.mark.main_interpreter_only``
  opts a test out.
* The ``subinterpreter`` fixture creates interpreters and runs code or calls
  functions in them.
"""

import pytest

from .handle import subinterpreter  # noqa: F401  (the fixture, found by pytest here)
from .launch import support_reason

MODES = ("isolated", "shared-gil", "legacy")
DEFAULT_TIMEOUT = 300.0


def pytest_addoption(parser):
    group = parser.getgroup("interp-audit", "sub-interpreters (interp-audit)")
    group.addoption(
        "--subinterpreters",
        nargs="?",
        const="isolated",
        default=None,
        choices=MODES,
        metavar="MODE",
        help="also run every test function in a fresh sub-interpreter of MODE "
        "(isolated, shared-gil or legacy; default isolated), as test_x[subinterp-MODE]. "
        "Write it as --subinterpreters=MODE or after the paths.",
    )
    group.addoption(
        "--subinterpreters-only",
        action="store_true",
        default=False,
        help="run the sub-interpreter variants instead of the normal test functions "
        "(implies --subinterpreters)",
    )
    group.addoption(
        "--subinterpreters-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="fail a sub-interpreter variant that runs longer than this (default %(default)s; 0: no limit)",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "subinterpreters(n=1, mode='isolated', rounds=1): run the test body in n sub-interpreters "
        "at once (one thread each), rounds times with fresh interpreters (interp-audit)",
    )
    config.addinivalue_line(
        "markers",
        "main_interpreter_only(reason): never run this test inside a sub-interpreter (interp-audit)",
    )
    mode = requested_mode(config)
    if mode is not None:
        reason = support_reason(mode)
        if reason:
            raise pytest.UsageError("--subinterpreters=%s: %s (this is %s)" % (mode, reason, _python_name()))


def requested_mode(config):
    """The mode asked for on the command line, or None when the option is absent."""
    mode = config.getoption("subinterpreters", None)
    if mode is None and config.getoption("subinterpreters_only", False):
        mode = "isolated"
    return mode


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """Add (or substitute) the sub-interpreter variants; -k and -m then apply to them too."""
    from .variants import make_variant

    cli_mode = requested_mode(config)
    only = config.getoption("subinterpreters_only", False)
    timeout = config.getoption("subinterpreters_timeout", DEFAULT_TIMEOUT)
    result = []
    changed = False
    for item in items:
        plan = _plan_for(item, cli_mode)
        if plan is None:
            result.append(item)
            continue
        changed = True
        if not only:
            result.append(item)
        result.append(make_variant(item, plan, timeout, _opt_out(item)))
    if changed:
        items[:] = result


def _plan_for(item, cli_mode):
    from .variants import Plan

    if not isinstance(item, pytest.Function) or "subinterpreter" in item.fixturenames:
        return None
    marker = item.get_closest_marker("subinterpreters")
    if marker is None:
        return Plan(cli_mode) if cli_mode else None
    n = marker.kwargs.get("n", marker.args[0] if marker.args else 1)
    mode = marker.kwargs.get("mode", cli_mode or "isolated")
    rounds = marker.kwargs.get("rounds", 1)
    if mode not in MODES or not isinstance(n, int) or n < 1 or not isinstance(rounds, int) or rounds < 1:
        raise pytest.UsageError(
            "%s: @pytest.mark.subinterpreters wants n >= 1, rounds >= 1 and mode in %s, got %r"
            % (item.nodeid, ", ".join(MODES), marker.kwargs or marker.args)
        )
    return Plan(mode, n, rounds)


def _opt_out(item):
    marker = item.get_closest_marker("main_interpreter_only")
    if marker is None:
        return None
    reason = marker.kwargs.get("reason", marker.args[0] if marker.args else "")
    return "main_interpreter_only" + (": %s" % reason if reason else "")


def _python_name():
    import sys

    return "%s %d.%d.%d" % ((sys.implementation.name,) + tuple(sys.version_info[:3]))
