"""A progress bar on standard error for long work (hidden when stderr is not a terminal)."""

from __future__ import annotations

import contextlib
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from interp_audit.scan import ProgressCallback


@contextlib.contextmanager
def progress_bar(console: Console, label: str) -> Iterator[ProgressCallback]:
    """Yield a scan progress callback drawing one bar per target interpreter."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[current]}"))
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = None

        def update(event: str, detail: object) -> None:
            nonlocal task
            if event == "total":
                task = progress.add_task(label, total=int(detail), current="")
            elif task is not None:
                progress.update(task, advance=1, current=str(detail))

        yield update
