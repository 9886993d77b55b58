"""CSV: the matrix for spreadsheets and pandas, one row per distribution version.

Columns: ``distribution, version``, then for every interpreter ``<label> isolated``,
``<label> shared-gil``, ``<label> legacy``, ``<label> main``, ``<label> tier``, then
``flags, culprit, findings, conflict``.  Mode cells hold a status word (ok, fail,
crash, inferred-ok, inferred-fail, not-run).  Cells that a spreadsheet would run as
a formula are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
from typing import Sequence

from interp_audit.model import MODES, ScanReport
from interp_audit.reports.interface import Reporter
from interp_audit.reports.matrix import build
from interp_audit.reports.merge import Conflict
from interp_audit.reports.status import mode_status

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_csv(report: ScanReport, conflicts: Sequence[Conflict] = ()) -> str:
    matrix = build(report, conflicts)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["distribution", "version"]
    for column in matrix.columns:
        header += [f"{column.label} {mode}" for mode in MODES] + [f"{column.label} tier"]
    writer.writerow(header + ["flags", "culprit", "findings", "conflict"])
    for row in matrix.rows:
        cells = [row.name, row.version]
        for column in matrix.columns:
            result = row.cells.get(column.key)
            if result is None:
                cells += [""] * (len(MODES) + 1)
            else:
                cells += [mode_status(result.modes.get(mode)) for mode in MODES] + [result.tier or ""]
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
