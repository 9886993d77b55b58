"""A progress bar on standard error for long work (hidden when stderr is not a terminal),
and the closing count of what was audited and what came from the result store."""

from __future__ import annotations

import contextlib
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from interp_audit.scan import ProgressCallback


@contextlib.contextmanager
def progress_bar(console: Console, label: str) -> Iterator[ProgressCallback]:
    """Yield a scan progress callback drawing one bar per target interpreter;
    on leaving, print how many items were audited and how many were cached."""
    counts = {"done": 0, "cached": 0}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[current]}"))
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = None

        def update(event: str, detail: object) -> None:
            nonlocal task
            if event == "total":
                task = progress.add_task(label, total=int(detail), current="")
            else:
                counts[event] += 1
                if task is not None:
                    progress.update(task, advance=1, current=str(detail))

        yield update
    console.print(f"Audited {counts['done']} item(s); {counts['cached']} more came unchanged from the result store.")
