"""`grade batch` end to end: find the submissions, take this shard, grade them, build the gradebook."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dlgrade.batch import entries as batch
from dlgrade.batch import regrade
from dlgrade.batch.deadline import Deadline, Late, late
from dlgrade.batch.gradebook import Gradebook
from dlgrade.batch.roster import Roster
from dlgrade.core.manifest import Course
from dlgrade.core.result import points_sum


@dataclass(frozen=True)
class BatchRun:
    book: Gradebook
    seconds: float
    kept: int = 0  # rows taken unchanged from the --since gradebook

    @property
    def per_second(self) -> float:
        return len(self.book.rows) / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        n = len(self.book.rows)
        counts = ", ".join(f"{sum(r.status == s for r in self.book.rows)} {s}" for s in batch.ROW_STATUSES)
        kept = f" ({self.kept} kept from the previous gradebook)" if self.kept else ""
        late = sum(x.days > 0 for x in self.book.late.values())
        after = f"; {late} handed in after their due date" if self.book.deadline else ""
        return f"{n} submissions in {self.seconds:.1f} s ({self.per_second:.2f}/s): {counts}{kept}{after}"

    @property
    def failed(self) -> bool:
        """Some submission could not be graded for a reason other than its content."""
        return any(r.status == "error" for r in self.book.rows)


@contextlib.contextmanager
def _workdir(workdir: Path | None) -> Iterator[Path]:
    """Where submissions are unpacked: the given folder, or a private one removed afterwards."""
    if workdir is not None:
        if not workdir.is_dir():
            raise batch.BatchError(f"--workdir {str(workdir)!r} is not a folder")
        yield workdir
        return
    with tempfile.TemporaryDirectory(prefix="dlgrade-batch-", ignore_cleanup_errors=True) as tmp:
        yield Path(tmp)


def run_batch(
    course: Course,
    submissions: Path,
    names: tuple[str, ...] = (),
    *,
    shard: tuple[int, int] | None = None,
    processes: int | None = None,
    timeout: float | None = None,
    workdir: Path | None = None,
    device: str = "cpu",
    ignore: tuple[Path, ...] = (),
    on_start: Callable[[int], None] = lambda n: None,
    on_row: Callable[[batch.Row], None] = lambda row: None,
    since: Gradebook | None = None,
    errors_only: bool = False,
    roster: Roster | None = None,
    deadline: Deadline | None = None,
    times: dict[str, datetime] | None = None,
    times_name: str = "",
) -> BatchRun:
    """Grade every submission in `submissions` (or one shard of them) and return the gradebook.

    With `since` (an earlier gradebook), its rows are kept where regrade.plan allows; with
    `errors_only` too, only its `error` rows (and submissions it lacks) are graded again.
    With a `deadline`, each submission's time (`times`, the --submitted-at file named
    `times_name`; else the roster's or the file's: batch.submitted) is set against its due date.
    """
    from dlgrade.batch.pool import Job, grade_all

    selected = course.select(list(names))  # unknown names fail before any work starts
    everything = batch.discover(submissions, ignore)
    entries = batch.shard(everything, *shard) if shard else everything
    part = regrade.course_digest(course, names)
    digests = {e.id: regrade.entry_digest(e, part) for e in entries}
    lateness = _lateness(deadline, entries, roster or Roster(), times, times_name)
    todo, kept = regrade.plan(entries, digests, since.rows if since else (), errors_only=errors_only)
    on_start(len(todo))
    started = time.perf_counter()
    with _workdir(workdir) as work:
        job = Job(str(course.root), tuple(names), str(work.resolve()), device)
        graded = grade_all(
            job,
            todo,
            processes=processes or os.cpu_count() or 1,
            timeout=timeout or batch.default_timeout(course, names),
            on_row=on_row,
        )
    rows = sorted([*regrade.stamp(graded, digests), *kept], key=lambda r: r.id)
    book = Gradebook(
        course=course.title,
        exercises=tuple(e.id for e in selected),
        max_score=points_sum(e.points for e in selected),
        rows=tuple(rows),
        universe=batch.universe_digest(everything),
        submissions=len(everything),
        shard=shard,
        roster=roster or Roster(),
        deadline=deadline,
        late=lateness,
    )
    return BatchRun(book, time.perf_counter() - started, kept=len(kept))


def _lateness(
    deadline: Deadline | None,
    entries: list[batch.Entry],
    roster: Roster,
    times: dict[str, datetime] | None,
    times_name: str,
) -> dict[str, Late]:
    """Every entry's time and penalty (none without a deadline); bad times fail before grading."""
    from dlgrade.batch.submitted import submission_times

    if deadline is None:
        return {}
    found = submission_times(entries, roster, times, times_name)
    return {sid: late(deadline, at, roster.fields(sid), sid, source) for sid, (at, source) in found.items()}
