"""`grade export`: a batch gradebook as the CSV a gradebook tool imports (Canvas, Gradescope, plain).

Scores: a `graded` row's total, less its late penalty where the gradebook has a due date (the
`csv` export keeps the raw score beside it; Canvas reads every extra column as one more
assignment, so the LMS files carry the score that counts only); 0 for `rejected` (what was
handed in cannot be graded); blank for `error` (grading failed on our side: regrade it, do
not publish a zero). Students in the roster who handed nothing in get a blank score.
docs/batch.md lists the columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dlgrade.batch.entries import Row
from dlgrade.batch.gradebook import Gradebook, number
from dlgrade.core.sheets import csv_text

# Roster columns each tool's columns are taken from (compared case- and space-insensitively).
ALIASES = {
    "Student": ("student", "name", "full name"),
    "ID": ("canvas id", "canvas_id", "user id"),
    "SIS User ID": ("sis user id", "sis_id", "sis id", "student number"),
    "SIS Login ID": ("sis login id", "login", "login id", "username"),
    "Section": ("section",),
    "Name": ("name", "student", "full name"),
    "SID": ("sid", "student id", "sis user id", "sis_id", "student number"),
    "Email": ("email", "e-mail", "email address"),
}
CANVAS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
GRADESCOPE = ("Name", "SID", "Email")
CANVAS_KEYS = ("ID", "SIS User ID", "SIS Login ID")  # Canvas matches a row by one of these
GRADESCOPE_KEYS = ("Email", "SID")


@dataclass(frozen=True)
class Export:
    text: str
    skipped: tuple[str, ...]  # submission ids left out: the roster has nothing to match them by


def _pick(fields: dict[str, str], column: str) -> str:
    norm = {k.strip().lower(): v for k, v in fields.items()}
    return next((norm[a] for a in (column.lower(), *ALIASES[column]) if norm.get(a)), "")


def score(book: Gradebook, row: Row | None, *, raw: bool = False) -> str:
    """The score that counts (the late penalty taken, docs/deadlines.md), or with `raw` the one before."""
    if row is None or row.status == "error":
        return ""
    if row.status == "rejected" or row.result is None:
        return "0"
    total = book.total(row)
    return number(row.result.score if raw or total is None else total)


def _people(book: Gradebook) -> list[tuple[str, Row | None]]:
    """Every submission id and every roster student without one, in id order."""
    rows: dict[str, Row | None] = {r.id: r for r in book.rows}
    for sid in book.roster.students:
        rows.setdefault(sid, None)
    return sorted(rows.items())


def _tool(book: Gradebook, columns: tuple[str, ...], keys: tuple[str, ...], head: list[str]) -> Export:
    rows = [[*columns, *head]]
    if columns == CANVAS:
        rows.append(["Points Possible", "", "", "", "", number(book.max_score)])
    skipped = []
    for sid, row in _people(book):
        values = [_pick(book.roster.fields(sid), c) for c in columns]
        if not any(values[columns.index(k)] for k in keys):
            skipped.append(sid)
            continue
        tail = [score(book, row)] if columns == CANVAS else [score(book, row), number(book.max_score)]
        rows.append([*values, *tail])
    return Export(csv_text(rows), tuple(skipped))


def canvas(book: Gradebook, assignment: str) -> Export:
    """Canvas's gradebook import: its five student columns, then one assignment column."""
    return _tool(book, CANVAS, CANVAS_KEYS, [assignment])


def gradescope(book: Gradebook, assignment: str) -> Export:
    """Gradescope's score upload: students matched by Email (or SID), a score and its maximum."""
    return _tool(book, GRADESCOPE, GRADESCOPE_KEYS, ["Total Score", "Max Points"])


def plain(book: Gradebook, assignment: str) -> Export:
    """Every submission and roster student: id, roster columns, status, score, max, percent."""
    raw = ["raw_score", "days_late", "penalty_percent"] if book.deadline else []
    rows = [["id", *book.roster.columns, "status", "score", *raw, "max_score", "percent"]]
    for sid, row in _people(book):
        got = score(book, row)
        percent = number(100 * float(got) / book.max_score) if got and book.max_score else ""
        status = row.status if row else "missing"
        late = book.late.get(sid)
        lateness = [str(late.days), number(late.penalty)] if late else ["", ""]
        beside = [score(book, row, raw=True), *lateness] if book.deadline else []
        tail = [status, got, *beside, number(book.max_score), percent]
        rows.append([sid, *book.roster.fields(sid).values(), *tail])
    return Export(csv_text(rows), ())


TARGETS: dict[str, Callable[[Gradebook, str], Export]] = {
    "canvas": canvas,
    "gradescope": gradescope,
    "csv": plain,
}
