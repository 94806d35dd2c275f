"""When each submission was handed in: an instructor's file, a roster column, or the file times.

In that order: `grade batch --submitted-at FILE` (a CSV with `id` and `submitted_at` columns,
the times an LMS export gives), else a `submitted_at` column of the roster, else the
submission's own modification time (a zip's; a folder's newest file). Every time given as text
needs a time zone; a submission that a file or column leaves without a time is an error.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from dlgrade.batch.deadline import DeadlineError, parse_time
from dlgrade.batch.entries import Entry
from dlgrade.batch.roster import Roster, read_keyed_csv

COLUMN = "submitted_at"


def read_times(path: Path) -> dict[str, datetime]:
    """`--submitted-at FILE`: a CSV (UTF-8, a BOM allowed) with `id` and `submitted_at` columns."""
    what = f"--submitted-at {path}"
    needs = f"the header needs an 'id' and a '{COLUMN}' column"
    header, keyed = read_keyed_csv(path, what, ("id", COLUMN), needs, DeadlineError)
    when = [h.lower() for h in header].index(COLUMN)
    return {sid: parse_time(row[when], f"{what} line {n}") for sid, (n, row) in keyed.items()}


def file_time(path: Path) -> datetime:
    """A zip's modification time; a folder's newest regular file's (symlinks not followed)."""
    newest = os.lstat(path).st_mtime
    if path.is_dir() and not path.is_symlink():
        for folder, _, files in os.walk(path):
            for name in files:
                info = os.lstat(os.path.join(folder, name))
                newest = max(newest, info.st_mtime)
    return datetime.fromtimestamp(newest, UTC)


def submission_times(
    entries: list[Entry], roster: Roster, given: dict[str, datetime] | None, given_name: str = ""
) -> dict[str, tuple[datetime, str]]:
    """Each entry's time and where it came from ('file time', 'roster' or the file's name)."""
    column = next((c for c in roster.columns if c.strip().lower() == COLUMN), None)
    out: dict[str, tuple[datetime, str]] = {}
    for e in entries:
        if given is not None:
            if e.id not in given:
                raise DeadlineError(f"--submitted-at {given_name}: no time for submission {e.id!r}")
            out[e.id] = (given[e.id], given_name)
        elif column is not None:
            text = roster.fields(e.id)[column]
            if not text:
                raise DeadlineError(f"roster: no {COLUMN} for submission {e.id!r}")
            out[e.id] = (parse_time(text, f"roster {COLUMN} of {e.id!r}"), "roster")
        else:
            out[e.id] = (file_time(Path(e.path)), "file time")
    return out
