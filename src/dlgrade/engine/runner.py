"""Run the graders on one submission and build its GradeResult."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import io
import os
import sys
import time
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

from dlgrade import __version__
from dlgrade.core import secret
from dlgrade.core.manifest import Course, Exercise, find_course_root, load_course
from dlgrade.core.mistakes import Mistake
from dlgrade.core.result import (
    CHECK_DECIMALS,
    CheckResult,
    ExerciseResult,
    GradeResult,
    Visibility,
    deferred_points,
    exercise_status,
    points,
    points_sum,
)
from dlgrade.engine import integrity
from dlgrade.engine.devices import workers_for
from dlgrade.engine.inputs_check import add_inputs_checks
from dlgrade.engine.lanes import run_in_lanes
from dlgrade.engine.plugin import GraderPlugin
from dlgrade.engine.sandboxes import private_paths
from dlgrade.engine.session import CheckRecord, GradingSession, course_sandbox, open_session
from dlgrade.engine.threads import one_torch_thread
from dlgrade.intake.submission import resolve_submission
from dlgrade.sandbox import policy
from dlgrade.sandbox.pool import Sandbox

# A submission's whole grading must end within BASE + FACTOR x the sum of its exercises' time
# limits; past that, what is left is `error` and the zygote is replaced (docs/sandbox.md).
DEADLINE_BASE_S = 60.0
DEADLINE_FACTOR = 3.0
_INI = Path(__file__).with_name("grading.ini")
# pytest plugins grading has no use for; several cost time on every run (the terminal
# reporter, logging capture, gc.collect() from the unraisable-exception check).
_PLUGIN_NAMES = (
    "terminal cacheprovider stepwise logging unraisableexception threadexception faulthandler "
    "pastebin junitxml doctest setuponly setupplan warnings legacypath tmpdir debugging "
    "unittest subtests recwarn"
)
_UNUSED_PLUGINS = tuple(_PLUGIN_NAMES.split())


class EngineError(RuntimeError):
    """Grading could not complete (a grader or the sandbox failed, not the student)."""


class CourseTampered(EngineError):
    """A course file changed while a submission was graded: that grade cannot be trusted."""


def grade(
    course: Course,
    folder: Path,
    names: Sequence[str] = (),
    *,
    label: str = "",
    sandbox: Sandbox | None = None,
    device: str = "cpu",
    visibility: Visibility | None = None,
    containment: policy.Mode | None = None,
    revealed: dict[str, dict[str, str]] | None = None,
    lanes: int = 1,
    device_worker: str | None = None,
) -> GradeResult:
    """Grade the exercise modules in `folder` against `course`'s graders.

    `visibility` ("public" or "hidden") runs only those checks; the others are reported as not run,
    with their usual points, so scores stay on the same scale as a full run. `containment` ("require"
    or "warn", default from the environment: dlgrade.sandbox.policy) says what to do where the kernel
    cannot contain the workers. `revealed` receives the hidden checks' full messages, which the result
    withholds (GradingSession.hidden_messages). `lanes` > 1 grades in parallel processes (engine.lanes;
    the result is the serial one). `device_worker`: a worker per exercise or per submission (engine.devices).
    """
    started = time.perf_counter()
    selected = course.select(list(names))
    box = sandbox if sandbox is not None else course_sandbox(course)
    box.start()
    private = private_paths(course)  # never readable by a worker
    box.admission = lambda b: policy.enforce(b, private, containment)
    box.deadline = time.monotonic() + DEADLINE_BASE_S + DEADLINE_FACTOR * sum(e.time_limit for e in selected)
    before = integrity.digests(course)
    serving, lanes = workers_for(box, device, selected, lanes, device_worker)
    session = open_session(course, folder, selected, sandbox=serving, device=device, visibility=visibility)
    _freeze_imports()
    try:
        with one_torch_thread():
            run_in_lanes(session, lanes, run_checks, EngineError)
    finally:
        box.deadline = None
        session.close()
        if box.broken:  # the zygote died, hung or ran out of time: the next run gets a new one
            box.close()
    tampered = integrity.changes(course, before)
    if tampered:
        box.mark_broken(tampered)
        box.close()
        raise CourseTampered(tampered)
    result = build_result(session, time.perf_counter() - started, label or str(folder))
    if revealed is not None:
        revealed.update(session.hidden_messages())
    return dataclasses.replace(result, isolation=box.isolation)


@contextlib.contextmanager
def _quiet_pytest() -> Iterator[None]:
    """Keep pytest's own output off stdout (stdout may carry the JSON result), and the user's
    pytest settings (PYTEST_ADDOPTS, PYTEST_PLUGINS) out of the graders' run."""
    names = ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")
    saved = {n: os.environ.pop(n) for n in names if n in os.environ}
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        for n in names:
            os.environ.pop(n, None)
        os.environ.update(saved)


@contextlib.contextmanager
def _fresh_grader_modules(graders: Path) -> Iterator[None]:
    """Import the graders afresh on each run, so a run never reuses another course's graders.

    pytest's importlib mode names a grader after its path below the rootdir
    (`graders.test_stability`) and reuses a module of that name found in sys.modules.
    """
    top = graders.name
    for name in [n for n in sys.modules if n == top or n.startswith(f"{top}.")]:
        del sys.modules[name]  # left by an earlier run in this process, perhaps of another course
    try:
        yield
    finally:
        for name in [n for n in sys.modules if n == top or n.startswith(f"{top}.")]:
            del sys.modules[name]


_frozen = False


def _freeze_imports() -> None:
    """Once per process: what is loaded before the first grading run (torch, pytest, the
    engine) lives as long as the process, so full collections stop walking it (about 80 ms
    each with torch loaded). Once only: what later runs leave behind stays collectable."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


def run_checks(session: GradingSession, *, collect_only: bool = False) -> None:
    """Run the selected exercises' checks (or, with `collect_only`, only record which exist)."""
    import pytest

    course = session.course
    topics = []
    for e in session.selected:
        if e.topic not in topics:
            topics.append(e.topic)
    files = [course.grader_path(t) for t in topics]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise EngineError(f"grader file missing: {missing[0]}")
    args = [
        *map(str, files),
        "-c",
        str(_INI),
        "--rootdir",
        str(course.root),
        "--assert=plain",
        "--capture=sys",
        "--import-mode=importlib",
        *(arg for plugin in _UNUSED_PLUGINS for arg in ("-p", f"no:{plugin}")),
        *(["--collect-only"] if collect_only else []),
    ]
    with _quiet_pytest(), _fresh_grader_modules(course.graders_dir()):
        code = pytest.main(args, plugins=[GraderPlugin(session)])
    if not collect_only:
        add_inputs_checks(session)
    if session.fatal is not None:
        raise session.fatal
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        detail = "; ".join(session.internal_errors) or f"pytest exit code {int(code)}"
        raise EngineError(f"the graders did not run: {detail}")


def build_result(session: GradingSession, duration_s: float, label: str = "") -> GradeResult:
    exercises = []
    internal = list(session.internal_errors)
    for e in session.selected:
        records = [r for r in session.records.values() if r.exercise == e.id]
        if not records:
            internal.append(f"no checks for exercise {e.id} in {session.course.grader_path(e.topic).name}")
        exercises.append(_exercise_result(e, records, session.mistake(e.id)))
    return GradeResult(
        exercises=tuple(exercises),
        submission=label,
        course=session.course.title,
        version=__version__,
        duration_s=duration_s,
        internal_errors=tuple(internal),
        notices=(secret.NOTICE,) if session.unsalted else (),
    )


def _exercise_result(
    e: Exercise, records: list[CheckRecord], mistake: Mistake | None = None
) -> ExerciseResult:
    # Exact shares (docs/grading.md): each check's points as a fraction of the exercise's, the
    # score their exact sum rounded once; a check's own share is stated to CHECK_DECIMALS.
    weights = [_exact(r.weight) for r in records]
    total_weight = sum(weights, Fraction(0)) or Fraction(1)
    forbidden = next((r for r in records if r.outcome == "forbidden"), None)
    checks = []
    earned = Fraction(0)
    deferred = Fraction(0)
    for r, w in zip(records, weights, strict=True):
        share = _exact(e.points) * w / total_weight
        max_score = float(round(share, CHECK_DECIMALS))
        passed = r.outcome == "passed" and forbidden is None
        earned += share if passed else 0
        deferred += share if r.outcome == "deferred" else 0
        message = r.secret if r.hidden else r.public
        if forbidden is not None and r.outcome == "passed":
            message = "not counted: the exercise uses a forbidden call"
        checks.append(
            CheckResult(
                name=r.name,
                visibility="hidden" if r.hidden else "public",
                passed=passed,
                score=max_score if passed else 0.0,
                max_score=max_score,
                message=message,
                outcome=r.outcome,
                hint=r.shown_hint if not passed else "",
            )
        )
    all_passed = bool(checks) and all(c.passed for c in checks)
    score = e.points if all_passed else points(earned)
    ran = [r for r in records if r.outcome != "deferred"]
    if len(ran) < len(records) and all(r.outcome == "passed" for r in ran):
        # A student bundle: every check that ran passed; the deferred ones count 0. The score is
        # the points less the deferred points as listed, so that it equals public_max_score.
        score = points_sum((e.points, -deferred_points(checks)))
    status = exercise_status(tuple(checks), score, e.points)
    message = _summary(records, forbidden)
    return ExerciseResult(
        id=e.id,
        topic=e.topic,
        status=status,
        score=score,
        max_score=e.points,
        checks=tuple(checks),
        message=message,
        hint=e.hint if status != "passed" else "",
        hint_tiers=len(e.hints),
        mistake={"name": mistake.name, "teaches": mistake.teaches}
        if mistake and status != "passed"
        else None,
    )


def _summary(records: list[CheckRecord], forbidden: CheckRecord | None) -> str:
    """One line for the exercise when something beyond wrong values happened."""
    if forbidden is not None:
        return forbidden.public
    for outcome in ("import_error", "timeout", "crashed", "not_started", "raised"):
        hits = [r for r in records if r.outcome == outcome]
        if hits:
            public = [r for r in hits if not r.hidden]
            return public[0].public if public else hits[0].secret
    return ""


def plain_pytest_session(start: Path, submission: str | None, device: str) -> GradingSession:
    """The session for `pytest graders/`: every exercise, the given or the course's submission."""
    course = load_course(find_course_root(start))
    resolved = resolve_submission(course, submission)
    return open_session(course, resolved.folder, device=device, brief_reports=False)


def _exact(x: float) -> Fraction:
    """A weight or points value as the fraction it stands for: 0.1 as 1/10, a third as 1/3."""
    return Fraction(x).limit_denominator(10**6)
