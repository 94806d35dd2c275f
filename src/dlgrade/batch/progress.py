"""The batch's progress bar on stderr, with one line for each submission that was not graded."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from dlgrade.batch.entries import Row
from dlgrade.core.printable import printable


class BatchProgress:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def start(self, total: int) -> None:
        self.task = self.progress.add_task("grading", total=total)

    def row(self, row: Row) -> None:
        if self.task is not None:
            self.progress.advance(self.task)
        if row.status != "graded":
            line = printable(f"{row.id}: {row.status}: {row.reason}")
            self.progress.console.print(line, highlight=False, markup=False)


@contextlib.contextmanager
def batch_progress() -> Iterator[BatchProgress]:
    console = Console(stderr=True, highlight=False)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        yield BatchProgress(progress)
