"""Due dates and late policies: the course's `[deadline]`, times parsed strictly, the late penalty.

The assignment is the course: one `[deadline]` table in course.toml (`due`, `policy` and the
policy's numbers) for everything `grade batch` grades; a batch of a topic set handed out as an
assignment of its own gives its date with `grade batch --due`. A student's roster row may move
their due date (`extension_days` or `due`). Penalties are exact fractions of the raw total,
rounded once (core.result.points). docs/deadlines.md tells the rules.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

from dlgrade.batch.entries import BatchError
from dlgrade.core.result import points

POLICIES = ("none", "per_day", "cutoff")
_KEYS = {
    "none": {"due", "policy"},
    "per_day": {"due", "policy", "percent_per_day", "max_percent", "cutoff_days"},
    "cutoff": {"due", "policy", "cutoff_days"},
}
DAY = timedelta(days=1)


class DeadlineError(BatchError):
    """A due date, a late policy or a submission time cannot be used; the message is one line."""


def parse_time(text: str, what: str) -> datetime:
    """An ISO 8601 date and time with a time zone ('2026-12-01T23:59:00+01:00', '...Z')."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise DeadlineError(f"{what}: {text!r} is not an ISO 8601 date and time") from None
    if "T" not in text.strip().upper() and " " not in text.strip():
        raise DeadlineError(f"{what}: {text!r} needs a time of day and a time zone (2026-12-01T23:59+01:00)")
    if when.tzinfo is None or when.utcoffset() is None:
        raise DeadlineError(f"{what}: {text!r} has no time zone (add Z or an offset such as +01:00)")
    return when


def _number(value: Any, what: str, *, low: Fraction = Fraction(0), high: Fraction | None = None) -> Fraction:
    """A TOML or CSV number as the exact decimal it is written as."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DeadlineError(f"{what}: {value!r} is not a number")
    try:
        exact = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        raise DeadlineError(f"{what}: {value!r} is not a number") from None
    if exact < low or (high is not None and exact > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise DeadlineError(f"{what}: {value!r} must be {bound}")
    return exact


@dataclass(frozen=True)
class LatePolicy:
    kind: str = "none"  # "none": lateness recorded, nothing taken; "per_day"; "cutoff"
    percent_per_day: Fraction = Fraction(0)  # per_day: taken per started day late
    max_percent: Fraction = Fraction(100)  # per_day: the most taken before the cut-off
    cutoff_days: Fraction | None = None  # zero once more than this many days late

    def penalty(self, late: timedelta) -> Fraction:
        """The percentage taken off a total handed in `late` after its due date."""
        if late <= timedelta(0) or self.kind == "none":
            return Fraction(0)
        if self.cutoff_days is not None and late > span(self.cutoff_days):
            return Fraction(100)
        if self.kind == "cutoff":
            return Fraction(0)
        return min(self.max_percent, self.percent_per_day * started_days(late))

    def describe(self) -> str:
        cut = "" if self.cutoff_days is None else f"; zero after {_text(self.cutoff_days)} days late"
        if self.kind == "per_day":
            per_day, most = _text(self.percent_per_day), _text(self.max_percent)
            return f"{per_day}% per started day late, at most {most}%{cut}"
        if self.kind == "cutoff":
            return f"no penalty{cut}" if cut else "no penalty"
        return "no penalty (lateness recorded)"


def started_days(late: timedelta) -> int:
    """Days late, any part of a day counting as a day: 1 second late is 1 day."""
    return max(0, math.ceil(late / DAY))


def span(x: Fraction) -> timedelta:
    """`x` days as a timedelta (to the microsecond)."""
    return timedelta(microseconds=int(x * 86_400_000_000))


def _text(x: Fraction) -> str:
    return f"{float(x):g}"


@dataclass(frozen=True)
class Deadline:
    due: datetime
    policy: LatePolicy = LatePolicy()

    def to_dict(self) -> dict[str, Any]:
        p = self.policy
        numbers = {
            "percent_per_day": float(p.percent_per_day),
            "max_percent": float(p.max_percent),
            "cutoff_days": None if p.cutoff_days is None else float(p.cutoff_days),
        }
        kept = {k: v for k, v in numbers.items() if k in _KEYS[p.kind] and v is not None}
        return {"due": self.due.isoformat(), "policy": p.kind, **kept}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Deadline | None:
        if not d:
            return None
        return parse_deadline({k: v for k, v in d.items() if v is not None}, "gradebook deadline")


def parse_deadline(table: dict[str, Any], what: str = "course.toml [deadline]") -> Deadline:
    """The `[deadline]` table: `due`, `policy` and the numbers that policy reads."""
    kind = table.get("policy", "none")
    if kind not in POLICIES:
        raise DeadlineError(f"{what}: policy {kind!r} is not one of {', '.join(POLICIES)}")
    extra = sorted(set(table) - _KEYS[kind])
    if extra:
        raise DeadlineError(f"{what}: {extra[0]!r} is not a setting of policy {kind!r}")
    if "due" not in table or not isinstance(table["due"], str | datetime):
        raise DeadlineError(f"{what}: 'due' must be a quoted ISO 8601 date and time with a time zone")
    due = table["due"] if isinstance(table["due"], datetime) else parse_time(table["due"], f"{what} due")
    if due.tzinfo is None:
        raise DeadlineError(f"{what}: due {due.isoformat()} has no time zone")
    hundred = Fraction(100)
    cutoff = table.get("cutoff_days", 0 if kind == "cutoff" else None)  # cutoff alone: no grace
    if kind == "per_day" and "percent_per_day" not in table:
        raise DeadlineError(f"{what}: policy 'per_day' needs percent_per_day")
    policy = LatePolicy(
        kind=kind,
        percent_per_day=_number(table.get("percent_per_day", 0), f"{what} percent_per_day", high=hundred),
        max_percent=_number(table.get("max_percent", 100), f"{what} max_percent", high=hundred),
        cutoff_days=None if cutoff is None else _number(cutoff, f"{what} cutoff_days"),
    )
    return Deadline(due, policy)


def course_deadline(root: Path, due: str | None = None) -> Deadline | None:
    """The course's `[deadline]`, with `due` (grade batch --due) replacing its date; None without either."""
    try:
        data = tomllib.loads((root / "course.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        data = {}  # the manifest loader has already said what is wrong with it
    table = data.get("deadline")
    if table is not None and not isinstance(table, dict):
        raise DeadlineError("course.toml: 'deadline' must be a table ([deadline])")
    if due is not None:
        return parse_deadline({**(table or {}), "due": parse_time(due, "--due")})
    return parse_deadline(table) if table is not None else None


@dataclass(frozen=True)
class Late:
    """One submission's time against its own due date, and what the policy takes."""

    submitted: datetime
    due: datetime  # the course's, or the student's own (an extension)
    source: str  # where the time came from: "file time", "roster", or the --submitted-at file
    penalty: Fraction  # percent taken off the raw total

    @property
    def days(self) -> int:
        return started_days(self.submitted - self.due)

    def adjusted(self, raw: float) -> float:
        """The raw total less the penalty: exact, rounded once."""
        return points(Fraction(repr(float(raw))) * (100 - self.penalty) / 100)

    def to_dict(self) -> dict[str, Any]:
        return {
            "submitted_at": self.submitted.isoformat(),
            "due": self.due.isoformat(),
            "source": self.source,
            "days_late": self.days,
            "penalty_percent": float(self.penalty),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Late:
        return cls(
            submitted=parse_time(str(d["submitted_at"]), "gradebook submitted_at"),
            due=parse_time(str(d["due"]), "gradebook due"),
            source=str(d.get("source", "")),
            penalty=_number(d["penalty_percent"], "gradebook penalty_percent", high=Fraction(100)),
        )


def own_due(deadline: Deadline, fields: dict[str, str], who: str) -> datetime:
    """A student's due date: the course's, moved by the roster's `extension_days` or `due`."""
    norm = {k.strip().lower(): v.strip() for k, v in fields.items()}
    days, due = norm.get("extension_days", ""), norm.get("due", "")
    if days and due:
        raise DeadlineError(f"roster: {who!r} has both extension_days and due; give one")
    if due:
        return parse_time(due, f"roster due of {who!r}")
    if days:
        return deadline.due + span(_number(days, f"roster extension_days of {who!r}"))
    return deadline.due


def late(deadline: Deadline, submitted: datetime, fields: dict[str, str], who: str, source: str) -> Late:
    due = own_due(deadline, fields, who)
    return Late(submitted, due, source, deadline.policy.penalty(submitted - due))
