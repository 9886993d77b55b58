"""CSV: the matrix for spreadsheets and pandas, one row per distribution version.

Columns: ``distribution, version``, then for every interpreter ``<label> isolated``,
``<label> shared-gil``, ``<label> legacy``, ``<label> main``, ``<label> tier``, then
``flags, culprit, findings, conflict``.  Mode cells hold a status word (ok, fail,
crash, inferred-ok, inferred-fail, not-run).  When the results hold smoke checks,
each group continues with ``<label> <check>`` for every check of ``docs/smoke.md``
(passed, failed, crashed, inconclusive, skipped, error, not-run), then the cost
in numbers: ``<label> cost import_ms`` and ``<label> cost rss_kib`` (medians for
one more interpreter with the package; empty when unknown).  Cells that a
spreadsheet would run as a formula are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
from typing import Optional, Sequence

from interp_audit.model import MODES, ScanReport
from interp_audit.reports.interface import Reporter
from interp_audit.reports.matrix import build
from interp_audit.reports.merge import Conflict
from interp_audit.reports.smoke import check_status, cost_numbers
from interp_audit.reports.status import degraded_text, mode_status

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _number(value: Optional[float], scale: float, digits: int) -> str:
    return "" if value is None else f"{value * scale:.{digits}f}"


def render_csv(report: ScanReport, conflicts: Sequence[Conflict] = ()) -> str:
    matrix = build(report, conflicts)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["distribution", "version"]
    cost = ["cost import_ms", "cost rss_kib"] if matrix.checks else []
    for column in matrix.columns:
        header += [f"{column.label} {mode}" for mode in MODES] + [f"{column.label} tier", f"{column.label} degraded"]
        header += [f"{column.label} {name}" for name in (*matrix.checks, *cost)]
    writer.writerow(header + ["flags", "culprit", "findings", "conflict"])
    for row in matrix.rows:
        cells = [row.name, row.version]
        for column in matrix.columns:
            result = row.cells.get(column.key)
            if result is None:
                cells += [""] * (len(MODES) + 1 + len(matrix.checks) + len(cost))
                continue
            cells += [mode_status(result.modes.get(mode)) for mode in MODES] + [result.tier or "", degraded_text(result) or ""]
            cells += [check_status(result, check) for check in matrix.checks]
            if cost:
                seconds, kib = cost_numbers(result)
                cells += [_number(seconds, 1000, 3), _number(kib, 1, 0)]
        cells += [
            ";".join(row.flags),
            ";".join(row.culprits),
            ";".join(f.code for f in row.findings),
            ";".join(c.label for c in matrix.columns if c.key in row.conflicted),
        ]
        writer.writerow([_cell(cell) for cell in cells])
    return buffer.getvalue()


class CsvReporter(Reporter):
    name = "csv"

    def render(self, report: ScanReport, conflicts: Sequence[Conflict] = ()) -> str:
        return render_csv(report, conflicts)
