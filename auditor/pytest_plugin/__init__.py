"""pytest plugin: run a project's own tests inside CPython sub-interpreters.

Registered through the ``pytest11`` entry point and off unless asked for:
without ``--subinterpreters`` (or a ``subinterpreters`` marker in the tests
themselves) it adds no items and changes no outcome.  See
``docs/pytest-plugin.md`` for usage.

* ``--subinterpreters[=isolated|shared-gil|legacy]`` adds a variant
  ``test_x[subinterp-MODE]`` of every test function, run by a pytest session
  inside a sub-interpreter of a long-lived child process (``runner.py``);
  ``--subinterpreters-only`` runs the variants instead of the originals;
  ``--subinterpreters-scope`` says how long one sub-interpreter lives;
  ``--subinterpreters-timeout`` bounds each variant.
* ``@pytest.mark.subinterpreters(n=4, mode="isolated", rounds=1)`` runs the
  body in ``n`` interpreters at once; ``@pytest.mark.main_interpreter_only``
  opts a test out.
* The ``subinterpreter`` fixture creates interpreters and runs code or calls
  functions in them.
"""

import pytest

from . import inner
from .handle import subinterpreter  # noqa: F401  (the fixture, found by pytest here)
from .launch import support_reason
from .runner import SCOPES, VariantRunner

MODES = ("isolated", "shared-gil", "legacy")
DEFAULT_TIMEOUT = 300.0
RUNNER = pytest.StashKey()


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
    group.addoption(
        "--subinterpreters-scope",
        default="module",
        choices=SCOPES,
        help="how long one sub-interpreter (and the pytest session inside it) lives: the whole session, "
        "each test module (default: module state does not leak from one file into the next), "
        "or each test (to hunt state leaks)",
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
    if inner.ACTIVE:
        return  # the session inside a sub-interpreter: markers only, no variants of variants
    mode = requested_mode(config)
    if mode is not None:
        reason = support_reason(mode)
        if reason:
            raise pytest.UsageError("--subinterpreters=%s: %s (this is %s)" % (mode, reason, _python_name()))
        if config.getoption("usepdb", False) or config.getoption("trace", False):
            raise pytest.UsageError(
                "--subinterpreters cannot be used with --pdb or --trace: the variants run in a sub-interpreter "
                "of a child process, with no terminal to debug in. Debug the test itself without "
                "--subinterpreters, or use the subinterpreter fixture to reproduce the failure.")
    runner = config.stash[RUNNER] = VariantRunner(config, mode or "isolated",
                                                  config.getoption("subinterpreters_scope", "module"),
                                                  config.getoption("subinterpreters_timeout", DEFAULT_TIMEOUT))
    if mode is not None:
        runner.spawn()  # the child starts up while this process collects


def requested_mode(config):
    """The mode asked for on the command line, or None when the option is absent."""
    mode = config.getoption("subinterpreters", None)
    if mode is None and config.getoption("subinterpreters_only", False):
        mode = "isolated"
    return mode


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """Add (or substitute) the sub-interpreter variants; -k and -m then apply to them too.

    Beside the originals, the variants of one sub-interpreter's batch come
    after the batch's last original (a module's after the module's tests): the
    child runs a batch while this process logs its results, never while this
    process runs the original tests.
    """
    from .variants import make_variant

    if inner.ACTIVE:
        return
    cli_mode = requested_mode(config)
    only = config.getoption("subinterpreters_only", False)
    scope = config.getoption("subinterpreters_scope", "module")
    result = []
    batches = {}  # batch -> (its variants, the position after its last original)
    changed = False
    for item in items:
        plan = _plan_for(item, cli_mode)
        if plan is None:
            result.append(item)
            continue
        changed = True
        variant = make_variant(item, plan, _opt_out(item))
        if only:
            result.append(variant)
            continue
        result.append(item)
        if scope == "test" or plan.n > 1 or plan.rounds > 1:
            batch = item.nodeid
        else:
            batch = str(item.path) if scope == "module" else None
        variants = batches.setdefault(batch, ([], []))[0]
        variants.append(variant)
        batches[batch] = (variants, len(result))
    for variants, position in sorted(batches.values(), key=lambda entry: -entry[1]):
        result[position:position] = variants
    if changed:
        items[:] = result


def pytest_collection_finish(session):
    """Put every variant that will run into its batch (after -k, -m and --deselect)."""
    from .variants import SubinterpreterItem

    runner = session.config.stash.get(RUNNER, None)
    if runner is None:
        return
    for item in session.items:
        if isinstance(item, SubinterpreterItem) and item.skip_reason() is None:
            runner.add(item)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """Log a variant's reports from its sub-interpreter(s) as if it had run here."""
    from .variants import SubinterpreterItem, variant_reports

    runner = item.config.stash.get(RUNNER, None)
    if runner is None or not isinstance(item, SubinterpreterItem) or item.nodeid not in runner.batch_of:
        return None  # skipped variants run the usual way (their runtest skips)
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    reports = variant_reports(item, runner.result(item))
    # What the outer session set up for the tests before this one (their class or module) ends
    # here when the next item needs it no more, as at the end of any item's teardown.
    outer = pytest.CallInfo.from_call(lambda: item.session._setupstate.teardown_exact(nextitem), "teardown")
    if outer.excinfo is not None:
        reports[-1] = item.ihook.pytest_runtest_makereport(item=item, call=outer)
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def pytest_sessionfinish(session):
    runner = session.config.stash.get(RUNNER, None)
    if runner is not None:
        runner.close()


def pytest_terminal_summary(terminalreporter, config):
    lines = config.stash[RUNNER].summary() if RUNNER in config.stash else []
    if lines:
        terminalreporter.section("interp-audit sub-interpreters", sep="-")
        for line in lines:
            terminalreporter.write_line(line)


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
