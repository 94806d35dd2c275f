"""The result model: frozen dataclasses that every reporter reads, with to_dict/from_dict."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Literal

SCHEMA_VERSION = 1

Status = Literal["passed", "partial", "failed", "not_started", "error"]
Visibility = Literal["public", "hidden"]
# What happened in one check; `status` of an exercise is derived from these.
Outcome = Literal[
    "passed",
    "failed",
    "raised",
    "not_started",
    "timeout",
    "crashed",
    "forbidden",
    "import_error",
    "not_run",
    "internal",
    "deferred",  # declared but not run here: a hidden check in a student bundle
]
STATUSES: tuple[Status, ...] = ("passed", "partial", "failed", "not_started", "error")
_SANDBOX_OUTCOMES = frozenset({"timeout", "crashed", "forbidden", "import_error"})
# Points (docs/grading.md): computed as exact fractions, rounded once to POINT_DECIMALS for
# exercise scores and totals (what people read), CHECK_DECIMALS for one check's share in JSON.
POINT_DECIMALS = 2
CHECK_DECIMALS = 4


def points(value: float | Fraction) -> float:
    """Points as every channel states them: rounded once to two decimals, halves away from 0
    (1.125 is 1.13). A float stands for its shortest decimal (2.675, not 2.67499999...)."""
    exact = value if isinstance(value, Fraction) else Fraction(repr(float(value)))
    scaled = abs(exact) * 10**POINT_DECIMALS
    rounded = math.floor(scaled + Fraction(1, 2)) / Fraction(10**POINT_DECIMALS)
    return float(rounded if exact >= 0 else -rounded)


def points_sum(values: Iterable[float]) -> float:
    """The exact sum of points (their decimal values, no float noise), rounded once."""
    return points(sum((Fraction(repr(float(v))) for v in values), Fraction(0)))


def points_text(value: float | Fraction) -> str:
    """Points as short text: 5, 2.5, 1.67 (at most two decimals, no trailing zeros)."""
    text = f"{points(value):.{POINT_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def deferred_points(checks: Iterable[CheckResult]) -> float:
    """The points of an exercise's deferred checks, rounded once: what a bundle's score lacks.
    Totals add these per exercise, so a bundle's total and its public maximum agree exactly."""
    return points_sum(c.max_score for c in checks if c.outcome == "deferred")


def score_text(score: float, max_score: float) -> str:
    """`score/max` as every report writes it: '2.5/5'."""
    return f"{points_text(score)}/{points_text(max_score)}"


@dataclass(frozen=True)
class CheckResult:
    name: str
    visibility: Visibility
    passed: bool
    score: float
    max_score: float
    message: str = ""
    outcome: Outcome = "passed"
    hint: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "visibility": self.visibility,
            "passed": self.passed,
            "score": self.score,
            "max_score": self.max_score,
            "message": self.message,
            "outcome": self.outcome,
            "hint": self.hint,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckResult:
        return cls(
            name=str(d["name"]),
            visibility=d["visibility"],
            passed=bool(d["passed"]),
            score=float(d["score"]),
            max_score=float(d["max_score"]),
            message=str(d.get("message", "")),
            outcome=d.get("outcome", "passed"),
            hint=str(d.get("hint", "")),
        )


@dataclass(frozen=True)
class ExerciseResult:
    id: str
    topic: str
    status: Status
    score: float
    max_score: float
    checks: tuple[CheckResult, ...] = ()
    message: str = ""
    hint: str = ""
    hints_opened: int = 0  # hint tiers the student asked for with `grade hint` (docs/student.md)
    hint_tiers: int = 0  # how many tiers `grade hint` has for it (the table points there)
    # The known mistake its failing outputs match: {"name", "teaches"} (engine.diagnosis), or None
    mistake: dict[str, str] | None = None

    @property
    def hidden_checks(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.visibility == "hidden")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "message": self.message,
            "hint": self.hint,
            "hints_opened": self.hints_opened,
            "hint_tiers": self.hint_tiers,
            "checks": [c.to_dict() for c in self.checks],
        } | ({"mistake": dict(self.mistake)} if self.mistake else {})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExerciseResult:
        return cls(
            id=str(d["id"]),
            topic=str(d["topic"]),
            status=d["status"],
            score=float(d["score"]),
            max_score=float(d["max_score"]),
            checks=tuple(CheckResult.from_dict(c) for c in d.get("checks", [])),
            message=str(d.get("message", "")),
            hint=str(d.get("hint", "")),
            hints_opened=int(d.get("hints_opened", 0)),
            hint_tiers=int(d.get("hint_tiers", 0)),
            mistake=_mistake(d.get("mistake")),
        )

    def mistake_text(self) -> str:
        """'matches a common mistake: NAME; TEACHES', or '' when no known mistake matched."""
        if not self.mistake:
            return ""
        return f"matches a common mistake: {self.mistake['name']}; {self.mistake['teaches']}"


def _mistake(d: Any) -> dict[str, str] | None:
    if not isinstance(d, dict) or not isinstance(d.get("name"), str) or not d["name"]:
        return None
    return {"name": d["name"], "teaches": str(d.get("teaches", ""))}


@dataclass(frozen=True)
class GradeResult:
    exercises: tuple[ExerciseResult, ...]
    submission: str = ""
    course: str = ""
    version: str = ""
    duration_s: float = 0.0
    internal_errors: tuple[str, ...] = field(default=())
    # The containment in force: {"layers": {layer: what}, "missing": {layer: why}} (docs/sandbox.md)
    isolation: dict[str, Any] = field(default_factory=dict, compare=False)
    notices: tuple[str, ...] = field(default=())  # how this run differs from a fully secured one

    @property
    def score(self) -> float:
        return points_sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> float:
        return points_sum(e.max_score for e in self.exercises)

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 100.0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for e in self.exercises:
            out[e.status] += 1
        return out

    def hidden_summary(self) -> dict[str, float]:
        hidden = [c for e in self.exercises for c in e.hidden_checks]
        return {
            "count": len(hidden),
            "failed": sum(not c.passed and c.outcome != "deferred" for c in hidden),
            # rounded per exercise, as deferred_summary: a bundle defers exactly these points
            "points": points_sum(points_sum(c.max_score for c in e.hidden_checks) for e in self.exercises),
        }

    def deferred_summary(self) -> dict[str, float]:
        """Checks declared but not run here (hidden checks in a student bundle) and their points."""
        deferred = [c for e in self.exercises for c in e.checks if c.outcome == "deferred"]
        return {
            "count": len(deferred),
            "points": points_sum(deferred_points(e.checks) for e in self.exercises),
        }

    @property
    def public_max_score(self) -> float:
        """The most a submission can score here: the maximum less the deferred checks' points."""
        return points_sum((self.max_score, -self.deferred_summary()["points"]))

    def to_dict(self) -> dict[str, Any]:
        out = {
            "schema_version": SCHEMA_VERSION,
            "score": self.score,
            "max_score": self.max_score,
            "submission": self.submission,
            "course": self.course,
            "dlgrade_version": self.version,
            "duration_s": round(self.duration_s, 3),
            "statuses": self.counts(),
            "hidden": self.hidden_summary(),
            "internal_errors": list(self.internal_errors),
            "isolation": self.isolation,
            "exercises": [e.to_dict() for e in self.exercises],
        }
        if self.notices:
            out["notices"] = list(self.notices)
        deferred = self.deferred_summary()
        if deferred["count"]:  # only a student bundle defers checks (docs/release.md)
            out["public"] = {"score": self.score, "max_score": self.public_max_score}
            out["deferred"] = deferred
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GradeResult:
        if d.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"result schema_version {d.get('schema_version')!r} is not {SCHEMA_VERSION}")
        return cls(
            exercises=tuple(ExerciseResult.from_dict(e) for e in d["exercises"]),
            submission=str(d.get("submission", "")),
            course=str(d.get("course", "")),
            version=str(d.get("dlgrade_version", "")),
            duration_s=float(d.get("duration_s", 0.0)),
            internal_errors=tuple(d.get("internal_errors", [])),
            isolation=dict(d.get("isolation") or {}),
            notices=tuple(str(n) for n in d.get("notices", [])),
        )


def exercise_status(checks: tuple[CheckResult, ...], score: float, max_score: float) -> Status:
    """Derive an exercise's status from its checks (the rules are in docs/grading.md).

    Deferred checks (not run here, see docs/release.md) do not count: an exercise whose
    every other check passed is `passed`, though its score is below its maximum.
    """
    ran = tuple(c for c in checks if c.outcome != "deferred")
    deferred, checks = len(ran) < len(checks), ran
    outcomes = {c.outcome for c in checks}
    if not checks or (outcomes <= {"not_started", "not_run"} and "not_started" in outcomes):
        return "not_started"
    if outcomes & _SANDBOX_OUTCOMES:
        return "error"
    if score <= 0 and "raised" in outcomes:
        return "error"
    if score >= max_score or (deferred and all(c.passed for c in checks)):
        return "passed"
    return "partial" if score > 0 else "failed"


def with_status(ex: ExerciseResult) -> ExerciseResult:
    return replace(ex, status=exercise_status(ex.checks, ex.score, ex.max_score))
