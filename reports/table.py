"""The terminal answer of ``interp-audit scan`` and ``report``: known problems, the matrix, why, findings.

The matrix fits the terminal (100 columns when the output is not one): the
essentials are the distribution, its version, one tier column per Python, the
flags and a short reason (``reports/why.py``).  Tiers, flags and reasons are
never cut: cells wrap at spaces, only a distribution name too long for its
column is shortened in the middle.  The rung and smoke-check columns are added
when they fit, or always with ``wide``.

Under the matrix, a "why" section gives one or two lines for every
distribution below own-gil or flagged (``quiet`` hides it), and ``findings``
lists every finding with its fix.  Colour follows the console (``NO_COLOR``,
``--color``); the symbols are Unicode on a UTF-8 terminal, else ASCII words.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Optional, Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from interp_audit.model import MODES, TIERS, DistributionResult, KnownProblem, ScanReport
from interp_audit.reports import why
from interp_audit.reports.interface import Reporter
from interp_audit.reports.matrix import Column, Matrix, Row, build
from interp_audit.reports.merge import Conflict
from interp_audit.reports.smoke import HEADINGS, INFORMATIONAL, check_status
from interp_audit.reports.status import grouped, mode_status

#: Width of the matrix when the output is not a terminal (and COLUMNS is not set).
DEFAULT_WIDTH = 100
GAP = 2
#: Narrowest a distribution name is shortened to; the reason column's widths before and after the others give way.
NAME_MIN, REASON_COMFORT, REASON_MIN = 14, 24, 12
#: Before the reason column goes under the rows, names are shortened to no fewer characters than this.
NAME_KEEP = 24
#: A reason column narrower than this goes under its row instead, indented by BELOW_INDENT.
REASON_BELOW, BELOW_INDENT = 20, 4
MODE_HEADINGS = {"isolated": "isolated", "shared-gil": "shared", "legacy": "legacy", "main": "main"}

#: Rung and check cells: (Unicode, ASCII) text and colour per status.  Every symbol takes one cell.
RUNG_SYMBOLS = {
    "ok": ("✓", "ok", "green"),
    "fail": ("✗", "FAIL", "red"),
    "crash": ("✹", "CRASH", "bold red"),
    "inferred-ok": ("~✓", "~ok", "dim green"),
    "inferred-fail": ("~✗", "~FAIL", "dim red"),
    "not-run": ("–", "-", "dim"),
}
CHECK_SYMBOLS = {
    "passed": ("✓", "ok", "green"),
    "failed": ("✗", "FAIL", "red"),
    "crashed": ("✹", "CRASH", "bold red"),
    "inconclusive": ("?", "?", "yellow"),
    "skipped": ("–", "-", "dim"),
    "error": ("!", "ERR", "yellow"),
    "not-run": ("–", "-", "dim"),
}
LEGEND = ("✓ works  ✗ fails  ✹ crashed  ~ inferred from another rung  – not run",
          "ok works, FAIL fails, CRASH crashed, ~ inferred from another rung, - not run")
SMOKE_LEGEND = ("smoke checks: ✓ passed  ✗ failed  ✹ crashed  ? inconclusive  ! probe error  – skipped or not run; "
                "xi only informs",
                "smoke checks: ok passed, FAIL failed, CRASH crashed, ? inconclusive, ERR probe error, "
                "- skipped or not run; xi only informs")
#: Smoke checks the terminal leaves out (numbers, not a verdict: see ``interp-audit show``).
TERMINAL_CHECKS_EXCLUDED = ("cost",)
TIER_STYLES = {
    "own-gil": "bold green",
    "shared-gil": "yellow",
    "legacy-only": "dark_orange",
    "main-only": "red",
    "broken": "bold white on red",
}


@dataclass
class Style:
    """How this console shows things: Unicode symbols or ASCII words."""

    unicode: bool

    @classmethod
    def of(cls, console: Console) -> "Style":
        return cls(unicode=console.is_terminal and console.encoding.lower().replace("-", "").startswith("utf"))

    def symbol(self, table: dict, status: str, style: Optional[str] = None) -> Text:
        fancy, plain, colour = table[status]
        return Text(fancy if self.unicode else plain, style=style or colour)

    @property
    def ellipsis(self) -> str:
        return "…" if self.unicode else "~"

    @property
    def rule(self) -> str:
        return "─" if self.unicode else "-"


def console_width(console: Console) -> int:
    """The terminal's width; for a pipe or file, ``COLUMNS`` or :data:`DEFAULT_WIDTH`."""
    if console.is_terminal or "COLUMNS" in os.environ:
        return console.width
    return DEFAULT_WIDTH


# --------------------------------------------------------------------------- the grid


@dataclass
class GridColumn:
    """One column: its heading (``top`` may span the following columns without one) and a cell per row.

    ``fit`` says how a cell gives way: ``fixed`` never, ``name`` is shortened in
    the middle, ``words`` wraps at spaces (a word is split only when ``fold``).
    """

    header: str
    cells: list[Text]
    fit: str = "words"
    top: str = ""
    fold: bool = False
    justify: str = "left"
    top_spans: bool = False
    natural: int = 0
    floor: int = 0

    def measure(self) -> None:
        widths = [cell_len(c.plain) for c in self.cells]
        self.natural = max([cell_len(self.header), *widths])
        words = [cell_len(w) for c in self.cells for w in c.plain.split()]
        if self.fit == "fixed":
            self.floor = self.natural
        elif self.fit == "name":
            self.floor = max(cell_len(self.header), min(self.natural, NAME_MIN))
        else:
            longest = max(words, default=0)
            self.floor = max(cell_len(self.header), min(longest, REASON_MIN) if self.fold else longest)
        if self.top and not self.top_spans:
            self.natural = max(self.natural, cell_len(self.top))
            self.floor = max(self.floor, cell_len(self.top))


def _widths(columns: list[GridColumn], width: int, names_whole: bool = False) -> list[int]:
    """Column widths that fit ``width`` when the columns' floors allow it (see the module docstring).

    The reason gives way first (down to a readable width), then the wrapping columns, then the
    names (with ``names_whole``, not below :data:`NAME_KEEP` characters), then the reason down to its floor.
    """
    for column in columns:
        column.measure()
    widths = [c.natural for c in columns]
    excess = sum(widths) + GAP * (len(widths) - 1) - width

    def give(indexes: list[int], floor_of) -> None:
        """Narrow the widest of ``indexes`` one cell at a time, none below its floor."""
        nonlocal excess
        while excess > 0:
            room = [i for i in indexes if widths[i] > floor_of(columns[i])]
            if not room:
                return
            widest = max(room, key=lambda i: widths[i])
            widths[widest] -= 1
            excess -= 1

    order = {fit: [i for i, c in enumerate(columns) if c.fit == fit] for fit in ("name", "words")}
    folding = [i for i, c in enumerate(columns) if c.fold]
    give(folding, lambda c: max(c.floor, REASON_COMFORT))
    give([i for i in order["words"] if i not in folding], lambda c: c.floor)
    give(order["name"], lambda c: max(c.floor, min(c.natural, NAME_KEEP)) if names_whole else c.floor)
    give(folding, lambda c: c.floor)
    return widths


def _cell_lines(column: GridColumn, cell: Text, width: int, console: Console, style: Style) -> list[Text]:
    if column.fit == "name" and cell_len(cell.plain) > width:
        return [Text(why.shorten_middle(cell.plain, width, style.ellipsis), style=cell.style)]
    if column.fit == "fixed" or cell_len(cell.plain) <= width:
        return [cell]
    return list(cell.wrap(console, width, overflow="fold"))  # only a folding column has words wider than itself


def _pad(text: Text, width: int, justify: str) -> Text:
    text = text.copy()
    space = width - cell_len(text.plain)
    if justify == "center" and space > 0:
        text.pad_left(space // 2)
        text.pad_right(space - space // 2)
    elif space > 0:
        text.pad_right(space)
    return text


def grid_lines(columns: list[GridColumn], width: int, console: Console, style: Style) -> list[Text]:
    """The header, a rule and every row of ``columns`` laid out in ``width`` cells.

    A last folding column (the reason) that would be narrower than :data:`REASON_BELOW`
    goes under each row instead, indented, across the whole width.
    """
    widths = _widths(columns, width, names_whole=True)
    below: Optional[GridColumn] = None
    if columns and columns[-1].fold and widths[-1] < REASON_BELOW:  # rather than shortening names more
        below, columns = columns[-1], columns[:-1]
    if below is not None or sum(widths) + GAP * (len(widths) - 1) > width:
        widths = _widths(columns, width)
    gap = Text(" " * GAP)
    lines: list[Text] = []
    if any(c.top for c in columns):
        top = Text(style="bold")
        position = 0
        for i, column in enumerate(columns):
            start = sum(widths[:i]) + GAP * i
            if column.top and start >= position:
                top.append(" " * (start - position) + column.top)
                position = start + cell_len(column.top)
        lines.append(top)
    header = Text(style="bold")
    rule = Text(style="dim")
    for i, (column, w) in enumerate(zip(columns, widths)):
        if i:
            header.append_text(gap)
            rule.append_text(gap)
        header.append_text(_pad(Text(column.header), w, column.justify))
        rule.append(style.rule * w)
    lines += [header, rule]
    for r in range(len(columns[0].cells) if columns else 0):
        cells = [_cell_lines(c, c.cells[r], w, console, style) for c, w in zip(columns, widths)]
        for k in range(max(len(c) for c in cells)):
            line = Text()
            for i, (column, w, cell) in enumerate(zip(columns, widths, cells)):
                if i:
                    line.append_text(gap)
                line.append_text(_pad(cell[k] if k < len(cell) else Text(), w, column.justify))
            lines.append(line)
        if below is not None and below.cells[r].plain:
            arrow = Text((" " * BELOW_INDENT) + ("↳ " if style.unicode else "-> "), style="dim")
            for line in below.cells[r].wrap(console, width - cell_len(arrow.plain), overflow="fold"):
                lines.append(arrow + line)
                arrow = Text(" " * cell_len(arrow.plain))
    for line in lines:
        line.rstrip()
    return lines


# --------------------------------------------------------------------------- the matrix


def _checks(matrix: Matrix) -> list[str]:
    return [c for c in matrix.checks if c not in TERMINAL_CHECKS_EXCLUDED]


def _tier_cell(row: Row, column: Column) -> Text:
    result = row.cells.get(column.key)
    text = Text(why.tier_cell(result), style=TIER_STYLES.get(result.tier if result else "", "dim"))
    if column.key in row.conflicted:
        text.append(" (conflict)", style="yellow")
    return text


def _reason_cell(row: Row, matrix: Matrix) -> Text:
    reasons = [(c.label, why.reason(row.cells.get(c.key))) for c in matrix.columns if c.key in row.cells]
    distinct = list(dict.fromkeys(r for _, r in reasons if r))
    if len(distinct) <= 1:
        return Text(distinct[0] if distinct else "")
    return Text("; ".join(f"{label}: {r}" for label, r in reasons if r))


def matrix_columns(matrix: Matrix, style: Style, wide: bool) -> list[GridColumn]:
    """The matrix as grid columns: essentials, plus rungs and checks per Python when ``wide``."""
    rows = matrix.rows
    columns = [
        GridColumn("distribution", [Text(r.name, style="bold") for r in rows], fit="name"),
        GridColumn("version", [Text(r.version) for r in rows], fit="fixed"),
    ]
    checks = _checks(matrix)
    for column in matrix.columns:
        results = [r.cells.get(column.key) for r in rows]
        if wide:
            for mode in MODES:
                cells = [style.symbol(RUNG_SYMBOLS, mode_status(res.modes.get(mode)) if res else "not-run")
                         for res in results]
                columns.append(GridColumn(MODE_HEADINGS[mode], cells, fit="fixed", justify="center",
                                          top=f"Python {column.label}" if mode == MODES[0] else "", top_spans=True))
        columns.append(GridColumn("tier", [_tier_cell(r, column) for r in rows],
                                  top="" if wide else column.label))
        for check in checks if wide else ():
            cells = [_check_cell(res, check, style) for res in results]
            columns.append(GridColumn(HEADINGS[check], cells, fit="fixed", justify="center",
                                      top="smoke" if check == checks[0] else "", top_spans=True))
    columns.append(GridColumn("flags", [Text(", ".join(r.flags), style="yellow") for r in rows]))
    columns.append(GridColumn("reason", [_reason_cell(r, matrix) for r in rows], fold=True))
    return columns


def _check_cell(result: Optional[DistributionResult], check: str, style: Style) -> Text:
    status = check_status(result, check)
    return style.symbol(CHECK_SYMBOLS, status, "yellow" if status == "failed" and check in INFORMATIONAL else None)


def _fits(columns: list[GridColumn], width: int) -> bool:
    """Whether ``columns`` fit ``width`` without wrapping anything but the reason (kept at a readable width)."""
    for column in columns:
        column.measure()
    needed = [min(c.natural, max(c.floor, REASON_COMFORT)) if c.fold else c.natural for c in columns]
    return sum(needed) + GAP * (len(columns) - 1) <= width


def choose_columns(matrix: Matrix, style: Style, width: int, wide: Optional[bool]) -> tuple[list[GridColumn], bool]:
    """(columns, wide): the rung and check columns when asked for, or when they fit ``width`` unless refused."""
    if wide is None:
        full = matrix_columns(matrix, style, True)
        if _fits(full, width):
            return full, True
        return matrix_columns(matrix, style, False), False
    return matrix_columns(matrix, style, wide), wide


# --------------------------------------------------------------------------- the sections


def _wrapped(console: Console, text: Text, width: int, indent: int) -> None:
    """Print ``text`` wrapped at ``width``, continuation lines indented by ``indent``."""
    lines = text.wrap(console, width, overflow="fold")
    first = lines[0] if lines else Text()
    first.rstrip()
    console.print(first, soft_wrap=True, highlight=False)
    rest = text[len(first.plain):]
    rest = rest[len(rest.plain) - len(rest.plain.lstrip()):]
    if rest.plain:
        for line in rest.wrap(console, max(width - indent, 10), overflow="fold"):
            line.rstrip()
            console.print(Text(" " * indent) + line, soft_wrap=True, highlight=False)


def known_problems(matrix: Matrix, console: Console, width: int) -> None:
    """The "known problems of this Python" header: each problem once, with the Pythons that have it."""
    found: dict[str, tuple[list[str], KnownProblem]] = {}
    for column in matrix.columns:
        for problem in column.known_problems:
            found.setdefault(problem.id, ([], problem))[0].append(column.label)
    if not found:
        return
    _wrapped(console, Text("Known problems of this Python (crashes the standard library alone reproduces; "
                           "the packages that ran into them keep their tiers):", style="bold yellow"), width, 2)
    for labels, problem in found.values():
        hit = f" Hit by {', '.join(problem.distributions)}." if problem.distributions else ""
        _wrapped(console, Text(f"  ! Python {', '.join(labels)}: {problem.what} [{problem.id}].{hit}"), width, 4)
    for advice in dict.fromkeys(problem.advice.rstrip(".") for _, problem in found.values()):
        _wrapped(console, Text(f"  Advice: {advice}.", style="dim"), width, 4)
    console.print()


def why_entries(row: Row, matrix: Matrix) -> list[tuple[list[str], list[str], str]]:
    """(Python labels, evidence lines, findings line) of a row: Pythons with the same evidence once,
    with the findings of all of them."""
    results = {column.label: result for column in matrix.columns if why.needs_why(result := row.cells.get(column.key))}
    return [(labels, evidence, why.finding_line(f for label in labels for f in results[label].findings))
            for labels, evidence in grouped((label, why.evidence(result)) for label, result in results.items())]


def why_section(matrix: Matrix, console: Console, width: int) -> None:
    """One or two lines for every distribution below own-gil or flagged."""
    rows = [(row, why_entries(row, matrix)) for row in matrix.rows]
    rows = [(row, groups) for row, groups in rows if groups]
    if not rows:
        return
    console.print()
    console.print(Text("Why (interp-audit show DIST for all the evidence; -q hides this):", style="bold"),
                  soft_wrap=True)
    several = len(matrix.columns) > 1
    for row, groups in rows:
        for labels, evidence, findings in groups:
            line = Text("  ")
            line.append(row.name, style="bold")
            line.append(f" {row.version}" + (f" on {', '.join(labels)}" if several else "") + ": ")
            line.append("; ".join(evidence))
            _wrapped(console, line, width, 6)
            if findings:
                _wrapped(console, Text("      " + findings, style="cyan"), width, 6)


def findings_section(matrix: Matrix, console: Console, width: int) -> None:
    """Every finding with its remediation, grouped by distribution (``--findings``)."""
    rows = [row for row in matrix.rows if row.findings]
    total = sum(len(row.findings) for row in rows)
    console.print()
    console.print(Text(f"Findings ({total}):", style="bold"), soft_wrap=True)
    for row in rows:
        console.print(Text(f"  {row.name} {row.version}", style="bold"), soft_wrap=True)
        for finding in sorted(row.findings, key=why.severity_rank, reverse=True):
            module = f" {finding.module}:" if finding.module else ""
            line = Text("    ")
            line.append(finding.code, style="bold cyan")
            line.append(f" [{finding.severity}]{module} {finding.message}")
            _wrapped(console, line, width, 6)
            if finding.remediation:
                _wrapped(console, Text(f"      fix: {finding.remediation}", style="green"), width, 11)
    if not rows:
        console.print("  none", soft_wrap=True)


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


def render(report: ScanReport, console: Optional[Console] = None, conflicts: Sequence[Conflict] = (),
           wide: Optional[bool] = None, quiet: bool = False, findings: bool = False) -> None:
    """Print known problems, the matrix, the tier counts, conflicts, the why section and (``findings``) every finding.

    ``wide``: True adds the rung and check columns, False never, None when they fit.
    """
    console = console or Console()
    matrix = build(report, conflicts)
    style = Style.of(console)
    width = console_width(console)
    known_problems(matrix, console, width)
    if not matrix.rows:
        console.print("No distributions in this report.", markup=False, highlight=False, soft_wrap=True)
    else:
        columns, shown_wide = choose_columns(matrix, style, width, wide)
        for line in grid_lines(columns, width, console, style):
            console.print(line, soft_wrap=True, highlight=False)
        if shown_wide:
            console.print(LEGEND[0 if style.unicode else 1], style="dim", highlight=False, soft_wrap=True)
            if _checks(matrix):
                console.print(SMOKE_LEGEND[0 if style.unicode else 1], style="dim", highlight=False, soft_wrap=True)
    for conflict in matrix.conflicts:
        console.print(
            f"conflict: {conflict.distribution} {conflict.version} on {conflict.python}: "
            f"{'; '.join(conflict.differences)} (showing {conflict.kept}, not {conflict.other})",
            style="yellow", markup=False, highlight=False, soft_wrap=True,
        )
    for line in summary_lines(matrix):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if not quiet:
        why_section(matrix, console, width)
    if findings:
        findings_section(matrix, console, width)


def render_text(report: ScanReport, conflicts: Sequence[Conflict] = (), **options) -> str:
    """The plain-ASCII terminal answer as a string (no colour, no Unicode symbols, 100 columns)."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, no_color=True, color_system=None, width=DEFAULT_WIDTH)
    render(report, console, conflicts, **options)
    return buffer.getvalue()


class TableReporter(Reporter):
    name = "table"

    def render(self, report: ScanReport, conflicts: Sequence[Conflict] = ()) -> str:
        return render_text(report, conflicts)
