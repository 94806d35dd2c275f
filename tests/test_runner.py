"""The runner on broken submissions, and the graders run with plain `pytest graders/`."""

from __future__ import annotations

import itertools
import subprocess
import sys
from dataclasses import replace

from dlgrade.core.manifest import Course
from dlgrade.core.result import GradeResult
from dlgrade.engine.runner import _exercise_result, grade
from dlgrade.engine.session import CheckRecord
from dlgrade.sandbox.handle import Worker, WorkerSpec
from dlgrade.sandbox.pool import Sandbox
from tests.support import ROOT, reference_copy


def statuses(result) -> dict[str, tuple[str, str]]:
    return {e.id: (e.status, e.message) for e in result.exercises}


def test_missing_module_syntax_error_and_missing_function(course: Course, tmp_path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "other.py").write_text("x = 1\n")
    result = grade(course, empty, ["stability"])
    assert {s for s, _ in statuses(result).values()} == {"error"}
    assert all("stability.py is missing" in m for _, m in statuses(result).values())

    broken = reference_copy(course, tmp_path / "broken")
    (broken / "stability.py").write_text("import torch\ndef logsumexp(x, dim=-1, keepdim=False:\n    pass\n")
    assert all(
        "syntax error at line 2" in m for _, m in statuses(grade(course, broken, ["stability"])).values()
    )

    partial = reference_copy(course, tmp_path / "partial")
    src = (partial / "stability.py").read_text().replace("def log_softmax", "def log_softmax_renamed")
    (partial / "stability.py").write_text(src)
    got = statuses(grade(course, partial, ["stability"]))
    assert got["log_softmax"] == ("error", "log_softmax is not defined in stability.py")
    assert got["logsumexp"][0] == "passed"


def test_import_time_exception_names_the_line(course: Course, tmp_path) -> None:
    folder = reference_copy(course, tmp_path)
    path = folder / "stability.py"
    path.write_text(path.read_text() + "\nprint('hello from import')\nundefined_name + 1\n")
    result = grade(course, folder, ["logsumexp"])
    status, message = statuses(result)["logsumexp"]
    assert status == "error"
    assert "NameError: name 'undefined_name' is not defined (stability.py:" in message
    assert "hello from import" in message


def test_student_exception_is_reported_with_type_message_and_line(course: Course, tmp_path) -> None:
    folder = reference_copy(course, tmp_path)
    path = folder / "stability.py"
    path.write_text(
        path.read_text() + "\ndef logsumexp(x, dim=-1, keepdim=False):\n"
        "    raise ValueError('dims confuse me')\n"
    )
    ex = grade(course, folder, ["logsumexp"]).exercises[0]
    assert (ex.status, ex.score) == ("error", 0)
    public = [c for c in ex.checks if c.visibility == "public"]
    assert "raised ValueError: dims confuse me at stability.py:" in public[0].message
    assert "logsumexp(float" in public[0].message  # the arguments, in words
    hidden = [c for c in ex.checks if c.visibility == "hidden"]
    assert hidden and all(c.message == "logsumexp raised ValueError" for c in hidden)


def test_selection_grades_only_what_is_named(course: Course) -> None:
    result = grade(course, course.reference_dir(), ["log_softmax"])
    assert [e.id for e in result.exercises] == ["log_softmax"]


def test_plain_pytest_on_graders() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "graders", "-q", "-p", "no:cacheprovider", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )

    ok = run("--submission", "reference", "-k", "logsumexp")
    assert ok.returncode == 0, ok.stdout[-2000:]
    assert "dlgrade: 5/5 points" in ok.stdout
    stubs = run("-k", "logsumexp")
    assert stubs.returncode == 1
    assert "still raises NotImplementedError" in stubs.stdout


def test_a_bundle_score_with_every_public_check_passed_is_the_public_maximum(course: Course) -> None:
    # 6 points over weights 1, 2, 2 (run) and 1, 1 (deferred): each deferred check lists
    # round(6/7, 4) = 0.8571 points, together 1.71 (rounded once, to two decimals), and the
    # score must be what those listed points leave.
    exercise = replace(course.exercise("xor_features"), points=6.0)
    records = [
        CheckRecord("xor_features", f"c{i}", w, hidden, "", "", outcome="deferred" if hidden else "passed")
        for i, (w, hidden) in enumerate([(1, False), (2, False), (2, False), (1, True), (1, True)])
    ]
    e = _exercise_result(exercise, records)
    result = GradeResult((e,))
    assert [c.max_score for c in e.checks if c.outcome == "deferred"] == [0.8571, 0.8571]
    assert e.status == "passed"
    assert e.score == result.score == result.public_max_score == 4.29
    assert result.deferred_summary() == {"count": 2, "points": 1.71}


def test_a_submission_past_its_deadline_is_abandoned_not_an_engine_error(course: Course, monkeypatch) -> None:
    """Past the submission's overall deadline, what is left could not be graded (each check says
    so); starting the next exercise's worker ahead of need must not turn that into grader errors."""
    from dlgrade.engine import runner
    from dlgrade.sandbox.pool import Sandbox

    monkeypatch.setattr(runner, "DEADLINE_BASE_S", -3600.0)  # the deadline has passed at the start
    box = Sandbox(course.all_rule_patterns())
    try:
        result = grade(course, course.reference_dir(), ["stability"], sandbox=box)
    finally:
        box.close()
    assert result.internal_errors == ()
    checks = [c for e in result.exercises for c in e.checks]
    assert checks and not any(c.passed for c in checks)
    public = [c for c in checks if c.visibility == "public"]
    assert public and all("could not be graded" in c.message for c in public)


class _Recording(Sandbox):
    """A real sandbox that logs which worker each prespawn started and each spawn handed out."""

    def __init__(self, patterns: list[str]) -> None:
        super().__init__(patterns)
        self.log: list[tuple[str, str, int]] = []

    def prespawn(self, spec: WorkerSpec, key: str = "") -> None:
        super().prespawn(spec, key)
        self.log.append(("prespawn", key, id(self._spares.get((spec, key)))))

    def spawn(self, spec: WorkerSpec, key: str = "") -> Worker:
        worker = super().spawn(spec, key)
        self.log.append(("spawn", key, id(worker)))
        return worker


def test_each_exercise_gets_the_worker_started_for_it_while_the_one_before_was_graded(
    course: Course,
) -> None:
    """The exercises of one module share a worker spec: the worker started ahead for the next
    exercise must not be taken by the current one (which would wait for it to start)."""
    box = _Recording(course.all_rule_patterns())
    try:
        grade(course, course.reference_dir(), ["stability"], sandbox=box)
    finally:
        box.close()
    spawns = [(i, key, worker) for i, (what, key, worker) in enumerate(box.log) if what == "spawn"]
    assert [key for _, key, _ in spawns] == [e.id for e in course.topic("stability").exercises]
    prespawned: dict[tuple[str, int], int] = {}  # when each worker was first asked for
    for i, (what, k, w) in enumerate(box.log):
        if what == "prespawn":
            prespawned.setdefault((k, w), i)
    for (before, _, _), (_, key, worker) in itertools.pairwise(spawns):
        assert prespawned.get((key, worker), len(box.log)) < before, (key, box.log)


def test_a_zygote_is_up_once_its_hello_has_come_and_up_never_waits(course: Course) -> None:
    """`Sandbox.up` (the head start's test): False before the zygote is started and while its
    hello has not come; once the hello waits on the link, up() reads it without a spawn."""
    import select

    box = Sandbox(course.all_rule_patterns())
    try:
        assert box.up() is False  # not started: nothing to read, nothing started
        box.start()
        assert box._ctl is not None
        assert select.select([box._ctl], [], [], 300)[0]  # the hello is on the link, unread
        assert box.ready is False
        assert box.up() is True and box.ready is True
    finally:
        box.close()
    assert box.up() is False


def test_a_lanes_head_start_takes_the_first_exercise_no_lane_has_claimed(course: Course) -> None:
    """In lanes (engine.lanes), a lane's head start claims and starts the first exercise that
    is still unclaimed: the one another lane holds is left to it."""
    from dlgrade.engine.claims import Claims
    from dlgrade.engine.session import open_session

    box = _Recording(course.all_rule_patterns())
    selected = course.select(["stability"])
    session = open_session(course, course.reference_dir(), selected, sandbox=box)
    try:
        box.admit()  # the zygote is up
        ids = [e.id for e in selected]
        claims = session.claims = Claims(ids)
        claims.lane = 1
        assert claims.take(ids[0])  # lane 1 holds the first exercise
        claims.lane = 0
        session.head_start()
        assert [(what, key) for what, key, _ in box.log] == [("prespawn", ids[1])]
        assert claims.owner(ids[1]) == 0 and claims.owner(ids[0]) == 1
        assert not claims.mine(ids[2])  # only the one it started is claimed
    finally:
        session.close()
        box.close()
