"""Reading the terminal answer as a user sees it: run a command in a real pseudo-terminal, parse the matrix.

* :func:`run_in_pty` -- the command's output through a pty of a given size (the
  child sees a real terminal: ``isatty``, ``TIOCGWINSZ``), escape sequences kept;
* :func:`plain` -- that output without escape sequences and carriage returns;
* :func:`parse_grid` -- the matrix's columns (from the rule line under the
  header) and each row's cells (wrapped lines joined), checking on the way that
  every gap between columns is blank on every line, i.e. that the columns are aligned.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
from dataclasses import dataclass, field
from typing import Optional

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
RULE = re.compile(r"^[─-]+(  +[─-]+)*$")
#: Lines that end the matrix: the tier counts, conflicts, legends, an empty line.
#: Columns that belong to no Python; the others are named "<Python label> <heading>", e.g. "3.13.0 tier".
UNGROUPED = ("distribution", "version", "flags", "reason")
AFTER_MATRIX = re.compile(r"^(\S+: own-gil \d|conflict:|✓ works|ok works|smoke checks:|$)")


def run_in_pty(args: list[str], columns: int, env: Optional[dict] = None, rows: int = 60, timeout: float = 120) -> str:
    """Run ``args`` with stdin, stdout and stderr on a new pty of ``columns`` x ``rows``; its whole output."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TERM", "CI")}
    environment.update({"TERM": "xterm-256color", "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"})
    environment.update(env or {})
    process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=environment, close_fds=True)
    os.close(slave)
    chunks = []
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
        process.wait(timeout=timeout)
    return b"".join(chunks).decode("utf-8", errors="replace")


def plain(output: str) -> str:
    return ANSI.sub("", output).replace("\r\n", "\n").replace("\r", "")


@dataclass
class Grid:
    columns: list[tuple[str, int, int]]  # (heading, start, end)
    rows: dict[str, dict[str, str]] = field(default_factory=dict)  # first-line name -> heading -> cell text
    below: dict[str, str] = field(default_factory=dict)  # name -> the reason printed under the row
    lines: list[str] = field(default_factory=list)  # every line of the matrix (header to last row)


def parse_grid(text: str) -> Grid:
    """The matrix in ``text`` (plain), columns named as in :data:`UNGROUPED`."""
    lines = text.split("\n")
    rule_at = next(i for i, line in enumerate(lines) if line.strip() and RULE.match(line.rstrip()))
    rule, header = lines[rule_at].rstrip(), lines[rule_at - 1]
    top = lines[rule_at - 2] if rule_at >= 2 else ""
    columns, group = [], ""
    for match in re.finditer(r"[─-]+", rule):
        start, end = match.span()
        heading = header[start:end].strip()
        if len(top) > start and top[start] != " " and (start == 0 or top[start - 1] == " "):
            label = top[start:].split("  ")[0].strip().removeprefix("Python ")
            group = group if label == "smoke" else label
        if heading in UNGROUPED:
            columns.append((heading, start, end))
        else:
            columns.append((f"{group} {heading}", start, end))
    grid = Grid(columns=columns, lines=lines[rule_at - 1: rule_at + 1])
    current: Optional[str] = None
    for line in lines[rule_at + 1:]:
        if AFTER_MATRIX.match(line):
            break
        grid.lines.append(line)
        stripped = line.strip()
        if stripped.startswith(("↳ ", "-> ")):
            grid.below[current] = (grid.below.get(current, "") + " " + stripped.split(" ", 1)[1]).strip()
            continue
        for (_, start, end), (_, next_start, _) in zip(columns, columns[1:]):
            gap = line[end:next_start]
            assert not gap.strip(), f"text in the gap between columns at {end}:{next_start}: {line!r}"
        cells = {heading: line[start:end].strip() for heading, start, end in columns}
        if line[:1] != " ":
            current = cells[columns[0][0]]
            grid.rows[current] = cells
        else:
            for heading, value in cells.items():
                if value:
                    grid.rows[current][heading] = (grid.rows[current][heading] + " " + value).strip()
    return grid


def squeeze(text: str) -> str:
    """``text`` without whitespace: compares a cell that wrapped (or folded) with the text it holds."""
    return "".join(text.split())
