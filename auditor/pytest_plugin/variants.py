"""Sub-interpreter variants of collected test functions (``test_x[subinterp-isolated]``).

A variant is a separate pytest item beside (or instead of) the original.  It
runs the original function in a child process (see ``launch.py``), so it
gets no fixtures from the pytest process: only ``tmp_path`` (made here, one
directory per interpreter) and direct ``parametrize`` values (pickled) reach
the sub-interpreter.  A test that needs anything else is skipped with the
reason, as is an ``async def`` test.
"""

import inspect
import pickle
import sys
import tempfile
import unittest
from dataclasses import dataclass

import pytest
from _pytest.outcomes import Skipped

from .launch import run_in_child, support_reason

SUPPORTED_FIXTURES = ("tmp_path",)


@dataclass(frozen=True)
class Plan:
    """How a variant runs: kind of interpreter, how many at once, how many rounds."""

    mode: str
    n: int = 1
    rounds: int = 1

    def label(self):
        """The id suffix, e.g. ``subinterp-isolated`` or ``subinterp-isolated-n4``."""
        text = "subinterp-" + self.mode
        if self.n > 1:
            text += "-n%d" % self.n
        if self.rounds > 1:
            text += "-r%d" % self.rounds
        return text


class SubinterpreterFailure(Exception):
    """The test failed inside a sub-interpreter (or crashed or hung there)."""


class SubinterpreterItem(pytest.Item):
    """Runs one collected test function inside sub-interpreters in a child process."""

    def __init__(self, *, original, plan, timeout, opt_out=None, **kwargs):
        super().__init__(**kwargs)
        self.original = original
        self.plan = plan
        self.timeout = timeout
        self.opt_out = opt_out
        self.own_markers.extend(original.own_markers)
        self.keywords.update(original.keywords)
        self.extra_keyword_matches.update(original.extra_keyword_matches)

    def reportinfo(self):
        path, lineno, _ = self.original.reportinfo()
        return path, lineno, self.name

    def runtest(self):
        if self.opt_out is not None:
            _skip(self.opt_out)
        reason = support_reason(self.plan.mode)
        if reason:
            _skip("%s sub-interpreters: %s" % (self.plan.mode, reason))
        reason = unsupported_reason(self.original)
        if reason:
            _skip(reason)
        kwargs = direct_params(self.original)
        try:
            pickled = pickle.dumps(kwargs, protocol=4)
        except Exception as exc:
            _skip("interp-audit: parameters cannot be pickled into a sub-interpreter (%s)" % exc)
        outcome = run_in_child(self._request(pickled), self.timeout)
        if outcome.status == "skipped":
            _skip(outcome.text)
        if outcome.status == "xfailed":
            pytest.xfail(outcome.text)
        if outcome.status == "failed":
            raise SubinterpreterFailure(outcome.text)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, SubinterpreterFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def _request(self, pickled_kwargs):
        original = self.original
        tmp_path = None
        if "tmp_path" in function_argnames(original):
            tmp_path = str(_make_tmp_dir(self.config, self.name))
        cls = original.cls
        return {
            "nodeid": self.nodeid,
            "module": original.module.__name__,
            "path": str(original.path),
            "cls": cls.__qualname__ if cls is not None else None,
            "function": original.originalname,
            "kind": "unittest" if _is_unittest(original) else "function",
            "kwargs": pickled_kwargs,
            "tmp_path": tmp_path,
            "sys_path": list(sys.path),
            "rewrite": self.config.getoption("assertmode", "plain") == "rewrite",
            "mode": self.plan.mode,
            "n": self.plan.n,
            "rounds": self.plan.rounds,
        }


def make_variant(item, plan, timeout, opt_out=None):
    """A :class:`SubinterpreterItem` for ``item`` with ``plan``'s label in its id."""
    label = plan.label()
    if item.name.endswith("]"):
        name = item.name[:-1] + "-" + label + "]"
    else:
        name = "%s[%s]" % (item.name, label)
    return SubinterpreterItem.from_parent(
        item.parent, name=name, original=item, plan=plan, timeout=timeout, opt_out=opt_out
    )


def function_argnames(item):
    """The arguments the test function itself asks for (not autouse fixtures)."""
    if _is_unittest(item):
        return ()
    return tuple(item._fixtureinfo.argnames)


def direct_params(item):
    """The values given by direct ``parametrize`` (not by fixtures), by argument name."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    return {name: params[name] for name in function_argnames(item) if _is_direct_param(item, name, params)}


def unsupported_reason(item):
    """Why ``item`` cannot run in a sub-interpreter, or None."""
    if inspect.iscoroutinefunction(getattr(item, "obj", None)):
        return "interp-audit: async tests are not run inside sub-interpreters"
    params = getattr(getattr(item, "callspec", None), "params", {})
    missing = [
        name for name in function_argnames(item)
        if name not in SUPPORTED_FIXTURES and not _is_direct_param(item, name, params)
    ]
    if missing:
        return (
            "interp-audit: fixtures other than %s are not available inside sub-interpreters "
            "(this test asks for: %s)" % (", ".join(SUPPORTED_FIXTURES), ", ".join(missing))
        )
    return None


def _skip(reason):
    """Skip, reported at the test's own location (as skip markers are)."""
    raise Skipped(reason, _use_item_location=True)


def _is_direct_param(item, name, params):
    if name not in params:
        return False
    definitions = item._fixtureinfo.name2fixturedefs.get(name) or ()
    return all(getattr(d.func, "__name__", "") == "get_direct_param_fixture_func" for d in definitions)


def _is_unittest(item):
    return item.cls is not None and issubclass(item.cls, unittest.TestCase)


def _make_tmp_dir(config, name):
    factory = getattr(config, "_tmp_path_factory", None)
    safe = "".join(c if c.isalnum() else "_" for c in name)[:30]
    if factory is not None:
        return factory.mktemp(safe, numbered=True)
    return tempfile.mkdtemp(prefix=safe)
