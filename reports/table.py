"""The terminal matrix (rich): what ``interp-audit scan`` and ``report --format table`` print.

Colour and Unicode symbols (✓ ✗ 💥 ~ –) on a colour terminal; plain ASCII words
(ok FAIL CRASH ~ok ~FAIL -) when the output is not a terminal, when NO_COLOR is
set or when the console has no colour, so logs and pipes stay readable.

When the results hold smoke checks, every column group also gets one column per
check except ``cost`` (numbers, not a verdict: it stays on the package page, in
HTML, Markdown, CSV and JSON, so that the terminal table stays readable).
"""

from __future__ import annotations

import io
from typing import Optional, Sequence

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from interp_audit.model import MODES, TIERS, ScanReport
from interp_audit.reports.interface import Reporter
from interp_audit.reports.matrix import Matrix, build
from interp_audit.reports.merge import Conflict
from interp_audit.reports.smoke import HEADINGS, INFORMATIONAL, check_status
from interp_audit.reports.status import NO_VERDICT, mode_status

MODE_HEADINGS = {"isolated": "isolated", "shared-gil": "shared", "legacy": "legacy", "main": "main"}

FANCY = {
    "ok": ("✓", "green"),
    "fail": ("✗", "red"),
    "crash": ("💥", "bold red"),
    "inferred-ok": ("~✓", "dim green"),
    "inferred-fail": ("~✗", "dim red"),
    "not-run": ("–", "dim"),
}
PLAIN = {
    "ok": "ok",
    "fail": "FAIL",
    "crash": "CRASH",
    "inferred-ok": "~ok",
    "inferred-fail": "~FAIL",
    "not-run": "-",
}
LEGEND_FANCY = "✓ works  ✗ fails  💥 crashed  ~ inferred from another mode  – not run"
LEGEND_PLAIN = "ok works, FAIL fails, CRASH crashed, ~ inferred from another mode, - not run"
#: Smoke-check cells (statuses of ``reports.smoke.check_status``).
CHECK_FANCY = {
    "passed": ("✓", "green"),
    "failed": ("✗", "red"),
    "crashed": ("💥", "bold red"),
    "inconclusive": ("?", "yellow"),
    "skipped": ("–", "dim"),
    "error": ("!", "yellow"),
    "not-run": ("–", "dim"),
}
CHECK_PLAIN = {"passed": "ok", "failed": "FAIL", "crashed": "CRASH", "inconclusive": "?", "skipped": "-",
               "error": "ERR", "not-run": "-"}
SMOKE_LEGEND_FANCY = ("smoke checks: ✓ passed  ✗ failed  💥 crashed  ? inconclusive  ! probe error  – skipped or not run; "
                      "xi only informs; cost: see --format html/csv/json")
SMOKE_LEGEND_PLAIN = ("smoke checks: ok passed, FAIL failed, CRASH crashed, ? inconclusive, ERR probe error, "
                      "- skipped or not run; xi only informs; cost: see --format html/csv/json")
#: Smoke checks the terminal table leaves out (see the module docstring).
TERMINAL_CHECKS_EXCLUDED = ("cost",)
TIER_STYLES = {
    "own-gil": "bold green",
    "shared-gil": "yellow",
    "legacy-only": "dark_orange",
    "main-only": "red",
    "broken": "bold white on red",
}


def _fancy(console: Console) -> bool:
    return console.is_terminal and not console.no_color and console.color_system is not None


def _checks(matrix: Matrix) -> list[str]:
    return [c for c in matrix.checks if c not in TERMINAL_CHECKS_EXCLUDED]


def _check_cell(status: str, check: str, fancy: bool) -> Text:
    if not fancy:
        return Text(CHECK_PLAIN[status])
    symbol, style = CHECK_FANCY[status]
    if status == "failed" and check in INFORMATIONAL:
        style = "yellow"
    return Text(symbol, style=style)


def _table(matrix: Matrix, fancy: bool) -> Table:
    table = Table(header_style="bold", box=box.SIMPLE_HEAD if fancy else box.ASCII2)
    table.add_column("distribution", no_wrap=True)
    table.add_column("version", no_wrap=True)
    checks = _checks(matrix)
    for column in matrix.columns:
        for mode in MODES:
            group = column.label if mode == MODES[0] else ""
            table.add_column(f"{group}\n{MODE_HEADINGS[mode]}", justify="center", no_wrap=True)
        table.add_column("\ntier", no_wrap=True)
        for check in checks:
            table.add_column(f"{'smoke' if check == checks[0] else ''}\n{HEADINGS[check]}", justify="center", no_wrap=True)
    table.add_column("flags")
    table.add_column("culprit")
    for row in matrix.rows:
        cells: list[Text | str] = [Text(row.name), Text(row.version)]
        for column in matrix.columns:
            result = row.cells.get(column.key)
            for mode in MODES:
                status = mode_status(result.modes.get(mode)) if result is not None else "not-run"
                if fancy:
                    symbol, style = FANCY[status]
                    cells.append(Text(symbol, style=style))
                else:
                    cells.append(Text(PLAIN[status]))
            tier = (result.tier or NO_VERDICT) if result is not None else "-"
            text = Text(tier, style=TIER_STYLES.get(tier, "dim") if fancy else "")
            if column.key in row.conflicted:
                text.append(" (conflict)", style="yellow" if fancy else "")
            cells.append(text)
            cells += [_check_cell(check_status(result, check), check, fancy) for check in checks]
        cells.append(Text(", ".join(row.flags)))
        cells.append(Text(", ".join(row.culprits)))
        table.add_row(*cells)
    return table


def _wide(console: Console, grid: Table) -> Console:
    """A console on the same file, as wide as ``grid`` needs."""
    needed = Measurement.get(console, console.options.update_width(100_000), grid).maximum
    if needed <= console.width:
        return console
    return Console(file=console.file, width=needed, force_terminal=False, no_color=True, color_system=None)


def summary_lines(matrix: Matrix) -> list[str]:
    """``"3.13.0: own-gil 3, shared-gil 1, ..."`` for every interpreter."""
    lines = []
    for column in matrix.columns:
        counts = matrix.tier_counts(column)
        parts = [f"{tier} {counts[tier]}" for tier in TIERS]
        if counts[None]:
            parts.append(f"no verdict {counts[None]}")
        lines.append(f"{column.label}: " + ", ".join(parts))
    return lines


def render(report: ScanReport, console: Optional[Console] = None, conflicts: Sequence[Conflict] = ()) -> None:
    """Print the matrix, any merge conflicts and the per-Python tier counts to ``console``."""
    console = console or Console()
    matrix = build(report, conflicts)
    fancy = _fancy(console)
    if not matrix.rows:
        console.print("No distributions in this report.", markup=False, highlight=False, soft_wrap=True)
    else:
        grid = _table(matrix, fancy)
        if console.is_terminal:
            console.print(grid)
        else:  # pipes and files get the whole table, not one squeezed to 80 columns
            _wide(console, grid).print(grid)
        legend = LEGEND_FANCY if fancy else LEGEND_PLAIN
        console.print(legend, style="dim" if fancy else None, markup=False, highlight=False, soft_wrap=True)
        if matrix.checks:
            console.print(SMOKE_LEGEND_FANCY if fancy else SMOKE_LEGEND_PLAIN, style="dim" if fancy else None,
                          markup=False, highlight=False, soft_wrap=True)
    for conflict in matrix.conflicts:
        console.print(
            f"conflict: {conflict.distribution} {conflict.version} on {conflict.python}: "
            f"{'; '.join(conflict.differences)} (showing {conflict.kept}, not {conflict.other})",
            style="yellow" if fancy else None,
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    for line in summary_lines(matrix):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def render_text(report: ScanReport, conflicts: Sequence[Conflict] = ()) -> str:
    """The plain-ASCII matrix as a string (no colour, no Unicode symbols)."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, no_color=True, color_system=None)
    render(report, console, conflicts)
    return buffer.getvalue()


class TableReporter(Reporter):
    name = "table"

    def render(self, report: ScanReport, conflicts: Sequence[Conflict] = ()) -> str:
        return render_text(report, conflicts)
