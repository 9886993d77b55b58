"""Sub-interpreter variants of collected test functions (``test_x[subinterp-isolated]``).

A variant is a separate pytest item beside (or instead of) the original.  It
is run by a pytest session inside a sub-interpreter of the child process
(``runner.py``, ``inner.py``): the original test id runs there with its own
fixtures, and the reports of its setup, call and teardown come back and are
logged under the variant's id.
"""

from dataclasses import dataclass

import pytest
from _pytest.outcomes import Skipped

from .launch import support_reason
from .runner import PHASES


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


class SubinterpreterItem(pytest.Item):
    """A collected test function to run again inside sub-interpreters.

    The plugin's ``pytest_runtest_protocol`` logs the inner session's reports
    for it; :meth:`runtest` only runs for a variant that is skipped here.
    """

    def __init__(self, *, original, plan, opt_out=None, **kwargs):
        super().__init__(**kwargs)
        self.original = original
        self.plan = plan
        self.opt_out = opt_out
        self.own_markers.extend(original.own_markers)
        self.keywords.update(original.keywords)
        self.extra_keyword_matches.update(original.extra_keyword_matches)

    def reportinfo(self):
        path, lineno, _ = self.original.reportinfo()
        return path, lineno, self.name

    def skip_reason(self):
        """Why this variant is not run here, or None."""
        if self.opt_out is not None:
            return self.opt_out
        reason = support_reason(self.plan.mode)
        if reason:
            return "%s sub-interpreters: %s" % (self.plan.mode, reason)
        if self.config.getoption("usepdb", False) or self.config.getoption("trace", False):
            return "interp-audit: --pdb and --trace cannot debug inside a sub-interpreter of the child process"
        return None

    def runtest(self):
        raise Skipped(self.skip_reason(), _use_item_location=True)  # reported at the test's own location


def make_variant(item, plan, opt_out=None):
    """A :class:`SubinterpreterItem` for ``item`` with ``plan``'s label in its id."""
    label = plan.label()
    if item.name.endswith("]"):
        name = item.name[:-1] + "-" + label + "]"
    else:
        name = "%s[%s]" % (item.name, label)
    return SubinterpreterItem.from_parent(item.parent, name=name, original=item, plan=plan, opt_out=opt_out)


def variant_reports(item, run):
    """The reports to log for ``item`` from its :class:`~.runner.InnerRun`."""
    config = item.config
    expected = item.plan.n * item.plan.rounds
    reports = []
    for when in PHASES:
        candidates = [(where, data) for where, datas in run.reports.items() for data in datas if data["when"] == when]
        if not candidates:
            continue
        failed = [(where, data) for where, data in candidates if data["outcome"] == "failed"]
        where, data = (failed or candidates)[0]
        report = config.hook.pytest_report_from_serializable(config=config, data=data)
        if expected > 1 and failed:
            report.longrepr = "%d of %d sub-interpreter runs failed; first failure in %s sub-interpreter %s:\n%s" % (
                len(failed), expected, item.plan.mode, where, report.longrepr)
        reports.append(report)
    if run.failure is not None:
        done = PHASES.index(reports[-1].when) + 1 if reports else 0
        if done == len(PHASES):
            reports[-1] = _made_report(item, "teardown", run.failure)
        else:
            reports.append(_made_report(item, PHASES[done], run.failure))
            if PHASES[done] != "teardown":
                reports.append(_made_report(item, "teardown", None))
    for report in reports:
        report.nodeid = item.nodeid
        report.location = item.location
        report.keywords = {name: 1 for name in item.keywords}
    return reports


def _made_report(item, when, failure):
    """A report of phase ``when``: failed with the text ``failure``, or passed when it is None."""
    from _pytest.reports import TestReport

    sections = [("Captured stderr child process (tail)", failure.tail)] if failure is not None and failure.tail else []
    return TestReport(item.nodeid, item.location, {}, "passed" if failure is None else "failed",
                      None if failure is None else failure.text, when, sections)
