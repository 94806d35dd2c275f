"""`grade batch`'s due-date options: --due, --submitted-at, --reveal-hidden, --force-reveal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from dlgrade.batch.deadline import Deadline
    from dlgrade.batch.roster import Roster

F = TypeVar("F", bound=Callable[..., Any])


def deadline_options(f: F) -> F:
    options = [
        click.option(
            "--due",
            metavar="WHEN",
            default=None,
            help="The due date (ISO 8601 with a time zone) [default: course.toml's [deadline] due].",
        ),
        click.option(
            "--submitted-at",
            "submitted_at",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            metavar="FILE",
            help="A CSV of 'id' and 'submitted_at' columns [default: the roster's column, else file times].",
        ),
        click.option(
            "--reveal-hidden",
            is_flag=True,
            help="With --feedback: show hidden checks' names, verdicts and messages (after the due date).",
        ),
        click.option("--force-reveal", is_flag=True, help="Reveal hidden checks even before the due date."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@dataclass(frozen=True)
class Due:
    deadline: Deadline | None
    times: dict[str, datetime] | None
    times_name: str


def load_due(root: Path, due: str | None, submitted_at: Path | None) -> Due:
    """The deadline and the instructor's times; a DeadlineError (one line) when unusable."""
    from dlgrade.batch.deadline import course_deadline
    from dlgrade.batch.submitted import read_times

    deadline = course_deadline(root, due)
    if submitted_at is not None and deadline is None:
        raise click.UsageError("--submitted-at needs a due date (course.toml [deadline] or --due)")
    times = read_times(submitted_at) if submitted_at is not None else None
    return Due(deadline, times, str(submitted_at) if submitted_at is not None else "")


def check_reveal(due: Due, roster: Roster | None, feedback: Path | None, reveal: bool, force: bool) -> None:
    """Before any grading: --reveal-hidden only with --feedback, and only after every due date."""
    from dlgrade.batch.reveal import allow_reveal
    from dlgrade.batch.roster import Roster

    if force and not reveal:
        raise click.UsageError("--force-reveal goes with --reveal-hidden")
    if not reveal:
        return
    if feedback is None:
        raise click.UsageError("--reveal-hidden shows hidden checks in --feedback files; give --feedback DIR")
    allow_reveal(due.deadline, roster or Roster(), datetime.now(UTC), force)
