"""`grade insight`: what a class got wrong, from a batch's gradebook alone (no regrading).

Per exercise: how many students passed, lost points, did not start it or could not be graded;
per check: the share of the students who tried the exercise and failed that check; the known
mistakes (misconceptions, docs/mistakes.md) their feedback named, with the students behind
each; failure signatures that no known mistake explains but many students share (the same
failing checks with the same messages, which quote the same wrong values) as clusters for the
instructor to name; and a ranked list of what to re-teach (the points lost by those who tried).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from dlgrade.batch.gradebook import Gradebook
from dlgrade.core.result import ExerciseResult, points_sum

STARTED = ("passed", "partial", "failed")  # statuses of an exercise a student tried


@dataclass(frozen=True)
class ExerciseStat:
    exercise: str
    topic: str
    submissions: int  # graded submissions
    passed: int
    partial: int
    failed: int
    not_started: int
    error: int
    lost: float  # points lost by the students who tried it
    max_score: float

    @property
    def tried(self) -> int:
        return self.passed + self.partial + self.failed


@dataclass(frozen=True)
class CheckStat:
    exercise: str
    check: str
    visibility: str
    failed: int  # students who tried the exercise and failed this check
    tried: int

    @property
    def share(self) -> float:
        return self.failed / self.tried if self.tried else 0.0


@dataclass(frozen=True)
class Cluster:
    """Students whose exercise failed in exactly the same way: a mistake waiting for a name."""

    exercise: str
    checks: tuple[str, ...]  # the failed checks
    messages: tuple[str, ...]  # what each said (the same wrong values for every student here)
    students: tuple[str, ...]


@dataclass(frozen=True)
class MistakeStat:
    """A known mistake the feedback of these students named (engine.diagnosis)."""

    exercise: str
    name: str
    teaches: str
    students: tuple[str, ...]


@dataclass(frozen=True)
class Reteach:
    exercise: str
    lost_share: float  # of the points at stake for those who tried
    tried: int
    worst_check: str  # the check most of them failed
    worst_share: float


@dataclass(frozen=True)
class Insight:
    course: str
    submissions: int  # graded rows
    ungraded: int  # rejected or error rows: no result to learn from
    exercises: tuple[ExerciseStat, ...]
    checks: tuple[CheckStat, ...]
    clusters: tuple[Cluster, ...]
    reteach: tuple[Reteach, ...]
    mistakes: tuple[MistakeStat, ...] = ()

    def to_dict(self, *, with_ids: bool = True) -> dict[str, Any]:
        clusters = [asdict(c) | ({} if with_ids else {"students": len(c.students)}) for c in self.clusters]
        mistakes = [
            asdict(m) | {"count": len(m.students)} | ({} if with_ids else {"students": len(m.students)})
            for m in self.mistakes
        ]
        return {
            "course": self.course,
            "submissions": self.submissions,
            "ungraded": self.ungraded,
            "exercises": [asdict(e) | {"tried": e.tried} for e in self.exercises],
            "checks": [asdict(c) | {"share": round(c.share, 4)} for c in self.checks],
            "mistakes": mistakes,
            "clusters": clusters,
            "reteach": [asdict(r) for r in self.reteach],
        }


def insight(book: Gradebook, *, min_cluster: int = 3) -> Insight:
    """The class report of `book`; clusters need at least `min_cluster` students."""
    graded = [r for r in book.rows if r.status == "graded" and r.result is not None]
    by_exercise: dict[str, list[tuple[str, ExerciseResult]]] = defaultdict(list)
    for row in graded:
        assert row.result is not None
        for e in row.result.exercises:
            by_exercise[e.id].append((row.id, e))
    order = [x for x in book.exercises if x in by_exercise] + sorted(set(by_exercise) - set(book.exercises))
    exercises = tuple(_exercise_stat(x, by_exercise[x]) for x in order)
    checks = tuple(c for x in order for c in _check_stats(x, by_exercise[x]))
    clusters = tuple(c for x in order for c in _clusters(x, by_exercise[x], min_cluster))
    mistakes = tuple(m for x in order for m in _mistakes(x, by_exercise[x]))
    return Insight(
        course=book.course,
        submissions=len(graded),
        ungraded=len(book.rows) - len(graded),
        exercises=exercises,
        checks=checks,
        clusters=tuple(sorted(clusters, key=lambda c: (-len(c.students), c.exercise, c.checks))),
        reteach=_reteach(exercises, checks),
        mistakes=tuple(sorted(mistakes, key=lambda m: -len(m.students))),  # stable: course order next
    )


def _exercise_stat(exercise: str, results: list[tuple[str, ExerciseResult]]) -> ExerciseStat:
    count = Counter(e.status for _, e in results)
    tried = [e for _, e in results if e.status in STARTED]
    return ExerciseStat(
        exercise=exercise,
        topic=results[0][1].topic,
        submissions=len(results),
        passed=count["passed"],
        partial=count["partial"],
        failed=count["failed"],
        not_started=count["not_started"],
        error=count["error"],
        lost=points_sum(e.max_score - e.score for e in tried),
        max_score=max(e.max_score for _, e in results),
    )


def _check_stats(exercise: str, results: list[tuple[str, ExerciseResult]]) -> list[CheckStat]:
    tried = [e for _, e in results if e.status in STARTED]
    failed: Counter[str] = Counter()
    visibility: dict[str, str] = {}
    for e in tried:
        for c in e.checks:
            visibility.setdefault(c.name, c.visibility)
            failed[c.name] += not c.passed
    return [CheckStat(exercise, name, visibility[name], failed[name], len(tried)) for name in visibility]


def _clusters(exercise: str, results: list[tuple[str, ExerciseResult]], least: int) -> list[Cluster]:
    groups: dict[tuple[tuple[str, str], ...], list[str]] = defaultdict(list)
    for sid, e in results:
        if e.status in ("partial", "failed") and not e.mistake:  # a named mistake explains it
            signature = tuple(sorted((c.name, c.message) for c in e.checks if not c.passed))
            if signature:
                groups[signature].append(sid)
    return [
        Cluster(exercise, tuple(n for n, _ in sig), tuple(m for _, m in sig), tuple(sorted(ids)))
        for sig, ids in groups.items()
        if len(ids) >= least
    ]


def _mistakes(exercise: str, results: list[tuple[str, ExerciseResult]]) -> list[MistakeStat]:
    """Each named mistake of the exercise with its students, most students first."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for sid, e in results:
        if e.mistake and e.status in ("partial", "failed"):
            groups[(e.mistake["name"], e.mistake.get("teaches", ""))].append(sid)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [MistakeStat(exercise, name, teaches, tuple(sorted(ids))) for (name, teaches), ids in ranked]


def _reteach(exercises: tuple[ExerciseStat, ...], checks: tuple[CheckStat, ...]) -> tuple[Reteach, ...]:
    out = []
    for e in exercises:
        if not e.tried or not e.lost:
            continue
        mine = [c for c in checks if c.exercise == e.exercise]
        worst = max(mine, key=lambda c: (c.share, c.visibility == "public"), default=None)
        out.append(
            Reteach(
                exercise=e.exercise,
                lost_share=round(e.lost / (e.max_score * e.tried), 4),
                tried=e.tried,
                worst_check=worst.check if worst else "",
                worst_share=round(worst.share, 4) if worst else 0.0,
            )
        )
    return tuple(sorted(out, key=lambda r: (-r.lost_share * r.tried, r.exercise)))
