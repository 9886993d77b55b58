"""A single self-contained HTML report: inline CSS and JS, no network, sortable and filterable."""

from __future__ import annotations

from typing import Sequence

from interp_audit.model import ScanReport
from interp_audit.reports.interface import Reporter
from interp_audit.reports.matrix import build
from interp_audit.reports.merge import Conflict
from interp_audit.reports.templating import render


def render_html(report: ScanReport, conflicts: Sequence[Conflict] = ()) -> str:
    matrix = build(report, conflicts)
    return render(
        "report.html.j2", matrix=matrix, home="#", tool_version=report.tool_version, generated_at=report.generated_at
    )


class HtmlReporter(Reporter):
    name = "html"

    def render(self, report: ScanReport, conflicts: Sequence[Conflict] = ()) -> str:
        return render_html(report, conflicts)
