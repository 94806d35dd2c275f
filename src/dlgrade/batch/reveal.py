"""After the due date: hidden checks shown as public ones, and the lines feedback adds about lateness.

`grade batch --feedback DIR --reveal-hidden` reveals; it refuses while any student of the batch
(extensions included) may still hand in, unless `--force-reveal`. Before, feedback says what it
always said (report.hidden_note).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from dlgrade.batch.deadline import Deadline, DeadlineError, own_due
from dlgrade.batch.entries import Row
from dlgrade.batch.gradebook import Gradebook, number
from dlgrade.batch.roster import Roster
from dlgrade.core.result import GradeResult

NOT_RECORDED = "(its message was not recorded: this row was graded by an older dlgrade; regrade to see it)"


def last_due(deadline: Deadline | None, roster: Roster) -> datetime | None:
    """The latest due date of anyone in the batch: the course's, or a roster student's own."""
    if deadline is None:
        return None
    dues = [own_due(deadline, roster.fields(sid), sid) for sid in roster.students]
    return max([deadline.due, *dues])


def allow_reveal(deadline: Deadline | None, roster: Roster, now: datetime, force: bool) -> None:
    """Refuse, in one line, to reveal before every student's due date has passed (unless forced)."""
    if force:
        return
    due = last_due(deadline, roster)
    if due is None:
        raise DeadlineError(
            "--reveal-hidden needs a due date (course.toml [deadline] or --due); "
            "--force-reveal reveals anyway"
        )
    if now < due:
        raise DeadlineError(
            f"refusing to reveal hidden checks before the due date ({due.isoformat()}, extensions "
            "included): students could still hand in; --force-reveal reveals anyway"
        )


def revealed(result: GradeResult, row: Row) -> GradeResult:
    """`result` with every hidden check run shown as a public one, with its full message."""
    exercises = []
    for e in result.exercises:
        mine = row.revealed.get(e.id, {})
        checks = tuple(
            replace(c, visibility="public", message=mine.get(c.name, NOT_RECORDED if not c.passed else ""))
            if c.visibility == "hidden" and c.outcome != "deferred"
            else c
            for c in e.checks
        )
        exercises.append(replace(e, checks=checks))
    return replace(result, exercises=tuple(exercises))


def reveal_note(result: GradeResult) -> str:
    """The line that says the hidden checks are shown, as public ones, below."""
    count = sum(len(e.hidden_checks) for e in result.exercises)
    if not count:
        return ""
    return f"The due date has passed: the {count} hidden checks are shown as public ones, messages included."


def late_note(book: Gradebook, row: Row) -> str:
    """When this submission came in against its due date, and what that cost."""
    late = book.late.get(row.id)
    if late is None or book.deadline is None:
        return ""
    when = f"Handed in {late.submitted.isoformat()}; due {late.due.isoformat()}"
    if late.days == 0:
        return f"{when}: on time."
    total = book.total(row)
    counted = ""
    if total is not None and row.result is not None:
        counted = f": {number(total)} of {number(row.result.score)} points count"
    rule = book.deadline.policy.describe()
    return f"{when}: {late.days} day(s) late, {number(late.penalty)}% off ({rule}){counted}."
