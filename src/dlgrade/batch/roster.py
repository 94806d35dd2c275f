"""The class roster: a CSV mapping submission ids to the student columns a gradebook carries.

The roster needs a header with an `id` column (the submission id: a zip's name without
`.zip`, or a folder's name); every other column (name, email, SIS id, section...) is copied
into the gradebook beside that submission's row, and `grade export` reads the ones it knows.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ID = "id"


class RosterError(ValueError):
    """The roster cannot be used; the message is one line."""


@dataclass(frozen=True)
class Roster:
    columns: tuple[str, ...] = ()  # the student columns, roster order, `id` left out
    students: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id -> one value per column

    def fields(self, sid: str) -> dict[str, str]:
        """The roster columns of submission `sid` (empty strings when the roster lacks it)."""
        values = self.students.get(sid, ("",) * len(self.columns))
        return dict(zip(self.columns, values, strict=True))

    def to_dict(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "students": {k: list(v) for k, v in self.students.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Roster:
        if not d:
            return cls()
        columns = tuple(str(c) for c in d["columns"])
        students = {str(k): tuple(str(x) for x in v) for k, v in d["students"].items()}
        if any(len(v) != len(columns) for v in students.values()):
            raise ValueError("a roster row has the wrong number of columns")
        return cls(columns, students)


def read_keyed_csv(
    path: Path, what: str, needs: tuple[str, ...], missing: str, error: type[ValueError]
) -> tuple[list[str], dict[str, tuple[int, list[str]]]]:
    """A CSV (UTF-8, a BOM allowed, as spreadsheets write it) keyed by its `id` column: its header
    (stripped) and each id's line number and row. `needs` are the columns the header must have (lower case;
    `missing` says so); every error is one line of type `error` that starts with `what`."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        raise error(f"{what}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise error(f"{what}: not a readable CSV ({exc})") from None
    header = [h.strip() for h in rows[0]] if rows else []
    if not all(n in [h.lower() for h in header] for n in needs):
        raise error(f"{what}: {missing}")
    at = [h.lower() for h in header].index(ID)
    keyed: dict[str, tuple[int, list[str]]] = {}
    for n, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise error(f"{what}: line {n} has {len(row)} fields, the header {len(header)}")
        sid = row[at].strip()
        if sid in keyed:
            raise error(f"{what}: id {sid!r} appears twice (line {n})")
        keyed[sid] = (n, row)
    return header, keyed


def read_roster(path: Path) -> Roster:
    """Read a roster CSV (UTF-8, a BOM allowed, as spreadsheets write it)."""
    needs = "the header needs an 'id' column (the submission id)"
    header, keyed = read_keyed_csv(path, f"--roster {path}", (ID,), needs, RosterError)
    at = [h.lower() for h in header].index(ID)
    columns = tuple(h for i, h in enumerate(header) if i != at)
    students = {sid: tuple(c.strip() for i, c in enumerate(r) if i != at) for sid, (_, r) in keyed.items()}
    return Roster(columns, students)
