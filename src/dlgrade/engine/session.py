"""One grading run's state (GradingSession), its checks (CheckRecord), and the one way to open one.

`open_session` is where a run gets its sandbox (`course_sandbox`: one shared zygote per set of
guard patterns), its answers (engine.references), its static verdicts (engine.rules.analyse)
and the course secret. Every channel (grade, plain pytest, release, watch, notebooks, batch)
opens its sessions here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dlgrade.core import secret as course_secret
from dlgrade.core.calls import StudentError
from dlgrade.core.declare import HINT_KINDS_DEFAULT
from dlgrade.core.manifest import Course, Exercise
from dlgrade.core.mistakes import Mistake
from dlgrade.core.result import Outcome
from dlgrade.engine.claims import Claims
from dlgrade.engine.devices import usable_device
from dlgrade.engine.diagnosis import Failures, diagnose
from dlgrade.engine.exercise_sandbox import ExerciseSandbox
from dlgrade.engine.inputs import InputsLedger
from dlgrade.engine.oracle import Oracle
from dlgrade.engine.references import AnswerSource, answer_source
from dlgrade.engine.rules import analyse
from dlgrade.engine.sandboxes import course_sandbox
from dlgrade.sandbox.pool import Sandbox, SandboxError


@dataclass
class CheckRecord:
    exercise: str
    name: str
    weight: float
    hidden: bool
    hint: str
    nodeid: str
    outcome: Outcome = "not_run"
    public: str = "not run"
    secret: str = "not run"
    hint_when: tuple[str, ...] = HINT_KINDS_DEFAULT
    kind: str = ""  # what a failure was about (checks.KINDS), or the outcome when the check raised

    @property
    def visibility(self) -> str:
        return "hidden" if self.hidden else "public"

    @property
    def shown_hint(self) -> str:
        """The hint, where the check failed with a wrong answer of a kind it is about."""
        about = self.outcome in ("failed", "raised") and self.kind in self.hint_when
        return self.hint if about and not self.hidden else ""


@dataclass
class GradingSession:
    """Everything one grading run needs and produces."""

    course: Course
    folder: str
    selected: tuple[Exercise, ...]
    sandbox: Sandbox
    device: str = "cpu"
    blocked: dict[str, StudentError] = field(default_factory=dict)
    import_failures: dict[str, str] = field(default_factory=dict)
    records: dict[str, CheckRecord] = field(default_factory=dict)
    internal_errors: list[str] = field(default_factory=list)
    boxes: dict[str, ExerciseSandbox] = field(default_factory=dict)
    brief_reports: bool = False  # True under `grade`: pytest's own reports are not shown
    # The `reference` fixture's answers and a bundle's deferred hidden checks (engine.references).
    answers: AnswerSource | None = None
    # "public" or "hidden": run only those checks; the others stay in the result as not run,
    # so every check keeps its share of the exercise's points.
    visibility: str | None = None
    run_order: list[str] = field(default_factory=list)  # exercise ids, in the order their checks run
    fatal: Exception | None = None  # stops the run: raised by run_checks once pytest is done
    secret: str | None = None  # the course secret: hidden checks' key, fresh draws' (fresh_secret)
    unsalted: bool = False  # a hidden check ran without a secret
    ledgers: dict[str, InputsLedger] = field(default_factory=dict)  # what calls did to inputs (engine.inputs)
    failures: Failures = field(default_factory=Failures)  # failing checks' calls (engine.diagnosis)
    claims: Claims | None = None  # graded in lanes: which lane grades which exercise (engine.lanes)
    diagnosed: dict[str, Mistake | None] = field(default_factory=dict)  # by the lane that graded it
    _opened: set[str] = field(default_factory=set)
    _admitted: bool = False

    def answer_source(self) -> AnswerSource:
        if self.answers is None:
            self.answers = answer_source(self.course)
        return self.answers

    def fresh_secret(self) -> str | None:
        """The secret that draws every check's inputs afresh, where grading counts: a course
        secret and the model solutions as answers (never a bundle: it replays the fixed draws'
        recorded answers). None keeps the fixed draws the student's own `grade` shows."""
        if self.secret is None or self.answer_source().loader is None:
            return None
        return self.secret

    def mistake(self, exercise_id: str) -> Mistake | None:
        """The known mistake that explains every failing case of the exercise, if one does
        (engine.diagnosis); never in a bundle or a release's run (no model solutions there)."""
        if exercise_id in self.diagnosed:
            return self.diagnosed[exercise_id]
        loader = self.answer_source().loader
        folder = loader.folder if loader is not None else None
        return diagnose(self.course, exercise_id, self.failures.failing(exercise_id), folder)

    def box(self, exercise_id: str) -> ExerciseSandbox:
        box = self.boxes.get(exercise_id)
        if box is None:
            self._admit()
        if self.fatal is not None:
            pytest.exit(str(self.fatal), returncode=3)
        if box is None:
            box = self.boxes[exercise_id] = ExerciseSandbox(
                self.sandbox,
                self.course,
                self.course.exercise(exercise_id),
                self.folder,
                self.import_failures,
                self.device,
                ledgers=self.ledgers,
            )
            self._opened.add(exercise_id)
            self._prespawn(exercise_id)  # its own worker first: the zygote forks in order
            self._prefetch_after(exercise_id)
        return box

    def _admit(self) -> None:
        """Once, before the run's first worker: the sandbox may refuse an uncontained run."""
        if not self._admitted and self.fatal is None:
            self._admitted = True
            try:
                self.sandbox.admit()
            except SandboxError as exc:
                self.fatal = exc

    def head_start(self) -> None:
        """Start the first exercise's worker before the checks are collected: it starts while
        pytest collects. Only on a zygote that is already up, so that the grader never waits
        for it here; in lanes, each lane's first unclaimed exercise (claimed now)."""
        box = self.sandbox
        if not isinstance(box, Sandbox) or not box.up():
            return  # a device worker (engine.devices), or a zygote still starting
        claims = self.claims
        first = next(
            (e for e in self.selected if e.id not in self.blocked and (claims is None or claims.take(e.id))),
            None,
        )
        if first is not None:
            self._admit()
            if self.fatal is None:
                self._prespawn(first.id)

    def _prespawn(self, exercise_id: str) -> None:
        e = self.course.exercise(exercise_id)
        if e.module not in self.import_failures:
            # Only a head start: if the sandbox broke or the submission's deadline passed,
            # that exercise's own first call says so (its checks: "could not be graded").
            with contextlib.suppress(SandboxError):
                self.sandbox.prespawn(ExerciseSandbox.spec_for(e, self.folder, self.device), exercise_id)

    def _prefetch_after(self, exercise_id: str) -> None:
        """Start the next exercise's worker now: it imports the module while this one is graded."""
        if exercise_id not in self.run_order:
            return
        for later in self.run_order[self.run_order.index(exercise_id) + 1 :]:
            if later in self._opened or later in self.blocked:
                continue
            if self.claims is not None and not self.claims.take(later):
                continue  # another lane grades it
            self._prespawn(later)
            return

    def hidden_messages(self) -> dict[str, dict[str, str]]:
        """{exercise: {check: message}}: each hidden check's full message, which results withhold;
        a batch keeps them for after the due date (docs/deadlines.md)."""
        out: dict[str, dict[str, str]] = {}
        for r in self.records.values():
            if r.hidden and r.outcome != "deferred":
                out.setdefault(r.exercise, {})[r.name] = r.public
        return out

    def close(self) -> None:
        for box in self.boxes.values():
            box.close()
        self.boxes.clear()
        self.sandbox.release_spares()
        self.sandbox.sweep()  # every process the student code started is gone when grading returns


def open_session(
    course: Course,
    folder: Path,
    selected: Sequence[Exercise] | None = None,
    *,
    sandbox: Sandbox | None = None,
    device: str = "cpu",
    brief_reports: bool = True,
    visibility: str | None = None,
    oracle: Callable[[str], Oracle] | None = None,
    salted: bool = True,
) -> GradingSession:
    """A session grading `folder` (all exercises unless `selected`), with the course's answers
    (or `oracle`'s, for a release that records them) and, if `salted`, the course secret."""
    chosen = tuple(course.exercises if selected is None else selected)
    return GradingSession(
        course=course,
        folder=str(folder.resolve()),
        selected=chosen,
        sandbox=sandbox if sandbox is not None else course_sandbox(course),
        device=usable_device(device),
        blocked=analyse(course, folder, chosen),
        brief_reports=brief_reports,
        visibility=visibility,
        secret=course_secret.load(course.root) if salted else None,
        answers=answer_source(course) if oracle is None else AnswerSource(oracle),
    )
