"""Feedback for students out of a batch gradebook: `grade report --id` and `grade batch --feedback`."""

from __future__ import annotations

import json
from pathlib import Path

from dlgrade.batch.entries import Row
from dlgrade.batch.gradebook import GRADEBOOK_FORMAT, Gradebook, GradebookError, read_gradebook
from dlgrade.core.atomic import write_atomic
from dlgrade.core.result import GradeResult
from dlgrade.report.html import escape as html_escape
from dlgrade.report.html import render_html
from dlgrade.report.json_report import ResultFileError, read_result
from dlgrade.report.markdown import escape, render_markdown


def find_row(book: Gradebook, key: str) -> Row:
    """The row of submission id `key`, or of the one student whose roster columns hold `key`
    (an email, a student number)."""
    rows = {r.id: r for r in book.rows}
    if key in rows:
        return rows[key]
    owners = [sid for sid in rows if key in book.roster.fields(sid).values()]
    if len(owners) == 1:
        return rows[owners[0]]
    if owners:
        raise GradebookError(f"{key!r} matches {len(owners)} students in the roster; give a submission id")
    raise GradebookError(f"no submission {key!r} in the gradebook (nor a roster entry that names it)")


def _notes(book: Gradebook, row: Row, reveal: bool) -> tuple[GradeResult | None, list[str]]:
    """The result a student is shown (hidden checks revealed after the due date, with `reveal`)
    and the lines said above it: lateness, the reveal."""
    from dlgrade.batch.reveal import late_note, reveal_note, revealed

    if row.status != "graded" or row.result is None:
        return None, []
    notes = [late_note(book, row), reveal_note(row.result) if reveal else ""]
    shown = revealed(row.result, row) if reveal else row.result
    return shown, [n for n in notes if n]


def feedback_text(book: Gradebook, row: Row, reveal: bool = False) -> str:
    """The Markdown a student gets: the graded report (hidden checks' details withheld, unless
    `reveal`), or why the submission could not be graded."""
    shown, notes = _notes(book, row, reveal)
    if shown is not None:
        head, _, rest = render_markdown(shown).partition("\n")
        return "\n".join([head, *(f"\n{escape(n)}" for n in notes), rest])
    what = "could not be read" if row.status == "rejected" else "could not be graded (a fault on our side)"
    return f"## {escape(book.course)}\n\nYour submission {what}: {escape(row.reason)}\n"


def feedback_html(book: Gradebook, row: Row, reveal: bool = False) -> str:
    """The same as a page for a browser."""
    shown, notes = _notes(book, row, reveal)
    if shown is not None:
        page = render_html(shown, submission=row.id)
        said = "".join(f'\n<p class="note">{html_escape(n)}</p>' for n in notes)
        return page.replace("</header>", "</header>" + said, 1)
    what = "could not be read" if row.status == "rejected" else "could not be graded (a fault on our side)"
    body = f"<h1>{html_escape(book.course)}</h1><p>Your submission {what}: {html_escape(row.reason)}</p>"
    return f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"></head><body>{body}</body></html>\n'


def write_feedback(book: Gradebook, folder: Path, reveal: bool = False) -> list[Path]:
    """`<id>.md` and `<id>.html` per submission in `folder` (created if needed), each atomically;
    with `reveal`, hidden checks shown (batch.reveal.allow_reveal says when that is allowed)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for row in book.rows:
        if "/" in row.id or "\\" in row.id or row.id in ("", ".", ".."):
            continue  # ids are file names, so this cannot happen; never write outside `folder`
        written.append(write_atomic(folder / f"{row.id}.md", feedback_text(book, row, reveal)))
        written.append(write_atomic(folder / f"{row.id}.html", feedback_html(book, row, reveal)))
    return written


def read_saved(path: Path, key: str | None = None) -> GradeResult:
    """A saved result, or with `key` the result of one submission in a batch gradebook."""
    try:
        head = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return read_result(path)  # says why, in its words
    is_book = isinstance(head, dict) and head.get("format") == GRADEBOOK_FORMAT
    if not is_book:
        if key is not None:
            raise ResultFileError(f"{path}: --id picks a submission of a batch gradebook; this is one result")
        return read_result(path)
    if key is None:
        raise ResultFileError(f"{path} is a batch gradebook: name a submission with --id ID")
    try:
        row = find_row(read_gradebook(path), key)
    except GradebookError as exc:
        raise ResultFileError(str(exc)) from None
    if row.result is None or row.status != "graded":
        raise ResultFileError(f"submission {row.id!r} was not graded ({row.status}: {row.reason})")
    return row.result
