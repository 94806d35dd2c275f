"""The gradebook of a batch: one row per submission, as CSV for people and JSON with every result.

A shard's gradebook records which slice it is (I of N) and a digest of every submission id in
the batch, so `merge` can refuse shards of different batches, overlapping or missing shards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from dlgrade.batch.deadline import Deadline, Late
from dlgrade.batch.entries import Row
from dlgrade.batch.roster import Roster
from dlgrade.core.atomic import write_atomic
from dlgrade.core.result import points_text
from dlgrade.core.sheets import csv_text

GRADEBOOK_FORMAT = "dlgrade-gradebook"
GRADEBOOK_VERSION = 1


class GradebookError(ValueError):
    """A gradebook cannot be read or merged; the message is one line."""


def number(x: float | Fraction) -> str:
    """Points as short text: 5, 2.08 (core.result.points_text: at most two decimals)."""
    return points_text(x)


@dataclass(frozen=True)
class Gradebook:
    course: str
    exercises: tuple[str, ...]  # the graded exercise ids, in course order: the CSV's columns
    max_score: float
    rows: tuple[Row, ...]
    universe: str  # batch.universe_digest of every submission in the batch
    submissions: int  # how many submissions the whole batch has
    shard: tuple[int, int] | None = None
    roster: Roster = field(default_factory=Roster)  # student columns per submission id (--roster)
    deadline: Deadline | None = None  # the due date and late policy applied (docs/deadlines.md)
    late: dict[str, Late] = field(default_factory=dict)  # submission id -> its time and penalty

    def total(self, row: Row) -> float | None:
        """The total that counts: a graded row's raw total less its late penalty; None if not graded."""
        if row.status != "graded" or row.result is None:
            return None
        late = self.late.get(row.id)
        return late.adjusted(row.result.score) if late and self.deadline else row.result.score

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": GRADEBOOK_FORMAT,
            "schema_version": GRADEBOOK_VERSION,
            "course": self.course,
            "exercises": list(self.exercises),
            "max_score": self.max_score,
            "shard": None if self.shard is None else {"index": self.shard[0], "count": self.shard[1]},
            "universe": {"sha256": self.universe, "submissions": self.submissions},
            "counts": {s: sum(r.status == s for r in self.rows) for s in ("graded", "rejected", "error")},
            "roster": self.roster.to_dict(),
            "rows": [r.to_dict() for r in self.rows],
            **({"deadline": self._deadline_dict()} if self.deadline else {}),
        }

    def _deadline_dict(self) -> dict[str, Any]:
        """The due date and policy, and per submission its time, penalty, raw and adjusted totals."""
        rows = {r.id: r for r in self.rows}
        late = {
            sid: {**x.to_dict(), "raw_total": _raw(raw), "total": self.total(raw)}
            for sid, x in sorted(self.late.items())
            if (raw := rows.get(sid)) is not None
        }
        return {**(self.deadline.to_dict() if self.deadline else {}), "submissions": late}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Gradebook:
        if d.get("format") != GRADEBOOK_FORMAT or d.get("schema_version") != GRADEBOOK_VERSION:
            raise ValueError(f"not a {GRADEBOOK_FORMAT} version {GRADEBOOK_VERSION} document")
        shard = d.get("shard")
        return cls(
            course=str(d["course"]),
            exercises=tuple(str(x) for x in d["exercises"]),
            max_score=float(d["max_score"]),
            rows=tuple(Row.from_dict(r) for r in d["rows"]),
            universe=str(d["universe"]["sha256"]),
            submissions=int(d["universe"]["submissions"]),
            shard=None if shard is None else (int(shard["index"]), int(shard["count"])),
            roster=Roster.from_dict(d.get("roster")),
            deadline=Deadline.from_dict(_policy(d.get("deadline"))),
            late={str(k): Late.from_dict(v) for k, v in _late(d.get("deadline")).items()},
        )

    def csv_text(self) -> str:
        """id, the roster's columns, status, total, max_score, one column per exercise, reason,
        digest. Blank points: not graded. Every cell as core.sheets writes it (no formulas)."""
        students = self.roster.columns
        lateness = list(LATE_COLUMNS) if self.deadline else []
        head = ["id", *students, "status", "total", *lateness, "max_score"]
        rows = [[*head, *self.exercises, "reason", "digest"]]
        for row in self.rows:
            points = {e.id: e.score for e in row.result.exercises} if row.result else {}
            total = self.total(row)
            graded = row.status == "graded"
            cells = [number(points[x]) if graded and x in points else "" for x in self.exercises]
            who = list(self.roster.fields(row.id).values())
            shown = "" if total is None else number(total)
            head = [row.id, *who, row.status, shown, *self._late_cells(row), number(self.max_score)]
            rows.append([*head, *cells, row.reason, row.digest])
        return csv_text(rows)

    def _late_cells(self, row: Row) -> list[str]:
        """raw_total, handed_in, due_date, days_late, penalty_percent (only with a deadline)."""
        if not self.deadline:
            return []
        late = self.late.get(row.id)
        score = _raw(row)
        raw = "" if score is None else number(score)
        if late is None:
            return [raw, "", "", "", ""]
        stamp = late.submitted.isoformat(), late.due.isoformat()
        return [raw, *stamp, str(late.days), number(late.penalty)]

    def json_text(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"


# not the roster's own `submitted_at` and `due` (inputs), which the CSV may already carry
LATE_COLUMNS = ("raw_total", "handed_in", "due_date", "days_late", "penalty_percent")


def _raw(row: Row) -> float | None:
    return row.result.score if row.status == "graded" and row.result else None


def _late(d: dict[str, Any] | None) -> dict[str, Any]:
    return dict((d or {}).get("submissions") or {})


def _policy(d: dict[str, Any] | None) -> dict[str, Any] | None:
    """The deadline's own keys, without the per-submission part."""
    return None if not d else {k: v for k, v in d.items() if k != "submissions"}


def json_path(csv_path: Path) -> Path:
    """The JSON with every result is written beside the CSV: grades.csv -> grades.json."""
    return csv_path.with_suffix(".json")


def write_gradebook(book: Gradebook, csv_path: Path) -> tuple[Path, Path]:
    """JSON first, then CSV, each atomically: an interrupted run leaves the old CSV whole."""
    target = json_path(csv_path)
    if target == csv_path:
        raise GradebookError(f"--csv {csv_path} needs a name that does not end in .json")
    write_atomic(target, book.json_text())
    write_atomic(csv_path, book.csv_text())
    return csv_path, target


def read_gradebook(path: Path) -> Gradebook:
    try:
        return Gradebook.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise GradebookError(f"{path}: no such file") from None
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise GradebookError(f"{path}: not a batch gradebook JSON ({exc})") from None


def merge(books: list[Gradebook]) -> Gradebook:
    """Join the shards of one batch into its gradebook, as if it had been graded unsharded."""
    if not books:
        raise GradebookError("no gradebooks to merge")
    first = books[0]
    for book in books:
        if book.shard is None:
            raise GradebookError("merge takes shard gradebooks (written by `grade batch --shard I/N`)")
        if (book.universe, book.submissions, book.exercises, book.course, book.roster, book.deadline) != (
            first.universe,
            first.submissions,
            first.exercises,
            first.course,
            first.roster,
            first.deadline,
        ):
            raise GradebookError(
                f"shard {book.shard[0]}/{book.shard[1]} comes from a different batch "
                "(other submissions, exercises, course, roster or due date)"
            )
    count = first.shard[1] if first.shard else 0
    indices = [b.shard[0] for b in books if b.shard is not None]
    if any(b.shard is not None and b.shard[1] != count for b in books):
        raise GradebookError("the shards were cut into different numbers of slices")
    twice = sorted({i for i in indices if indices.count(i) > 1})
    if twice:
        raise GradebookError(f"overlapping shards: shard {twice[0]}/{count} given more than once")
    missing = sorted(set(range(1, count + 1)) - set(indices))
    if missing:
        raise GradebookError(f"missing shards: {', '.join(f'{i}/{count}' for i in missing)}")
    rows = sorted((r for b in books for r in b.rows), key=lambda r: r.id)
    if len({r.id for r in rows}) != len(rows) or len(rows) != first.submissions:
        raise GradebookError(f"the shards hold {len(rows)} rows for {first.submissions} submissions")
    late = {sid: x for b in books for sid, x in b.late.items()}
    return replace(first, rows=tuple(rows), shard=None, late=late)
