"""Hostile submissions: each attack costs only the exercises it touches and fools nothing."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from dlgrade.core.manifest import Course, load_course
from dlgrade.engine.inputs import INPUTS_CHECK
from dlgrade.engine.runner import grade
from dlgrade.sandbox.pool import Sandbox
from tests.courses import with_time_limit
from tests.snapshots import processes_with
from tests.support import hostiles, scores, with_appended

# Slow tier (CONTRIBUTING.md, "The test tiers"): the ones that wait out a limit, when another
# of their kind stays fast (infinite_loop waits out the call's time limit; floods_output and,
# through a real `grade`, native_floods_disk flood) or when tests/test_containment.py's fast
# tier grades the same file through a real `grade`.
SLOW = {
    "memory_hog": "three workers each fill the memory limit",
    "loops_at_import": "waits out the import's time limit",
    "sigterm_ignored": "waits out the time limit and the kill",
    "native_floods_disk": "test_containment.py grades it through a real `grade` in the fast tier",
}
# Those that run until their exercise's time limit stops them, graded in a course copy where
# that limit is 1 s instead of 5 s (tests/courses.with_time_limit): what the test asserts does
# not depend on the limit's size, and each waits it out.
SHORT_LIMIT = {"infinite_loop": "stable_softmax", "floods_output": "log_softmax"}


@pytest.mark.parametrize(
    "hostile",
    [pytest.param(h, id=h.id, marks=pytest.mark.slow if h.id in SLOW else ()) for h in hostiles()],
)
def test_hostile_submission_is_contained(course: Course, hostile, tmp_path) -> None:
    if hostile.id in SHORT_LIMIT:
        course = load_course(with_time_limit(tmp_path / "course", SHORT_LIMIT[hostile.id], 1.0))
    folder = with_appended(course, hostile.module, hostile.path, tmp_path / "sub")
    result = grade(course, folder, [hostile.topic(course)])
    assert result.internal_errors == ()
    got = {ex: status for ex, (status, _s, _m) in scores(result).items()}
    assert got == hostile.statuses(course)
    for e in result.exercises:
        if e.status != "passed":
            assert e.score < e.max_score
            assert e.status != "error" or e.message, "an error needs a one-line reason"
    if hostile.id in SHORT_LIMIT:  # stopped by the copy's limit
        stopped = next(e for e in result.exercises if e.id == SHORT_LIMIT[hostile.id])
        assert "past the 1 s time limit" in stopped.message, stopped.message


def _eventually(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_no_process_outlives_grading(course: Course, tmp_path) -> None:
    """With the kernel and audit layers off, spawned processes get out; the zygote still kills them all."""
    from dlgrade.sandbox.handle import WorkerSpec

    (tmp_path / "stability.py").write_text(
        "import os, time\n"
        "def stable_softmax(x, dim=-1):\n"
        "    os.posix_spawnp('sleep', ['sleep', '301'], dict(os.environ), setsid=True)\n"
        "    r, w = os.pipe()  # close-on-exec: it reads end of file once 'sleep 302' runs\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        "            os.execvp('sleep', ['sleep', '302'])\n"
        "        os.close(w)\n"
        "        time.sleep(600)\n"
        "    os.close(w)\n"
        "    os.read(r, 1)  # returns once both strays run, whatever the load\n"
        "    return x\n"
    )
    box = Sandbox([])
    try:
        worker = box.spawn(WorkerSpec(str(tmp_path), "stability", 2048, audit=False, confine=False))
        assert worker.hello(30)["kind"] == "ready"
        import torch

        reply, _ = worker.request(
            {"op": "call", "fn": "stable_softmax", "args": [torch.ones(2)], "kwargs": {}}, 120
        )  # the call returns once the strays run: the limit only bounds a failure
        assert reply["kind"] == "ok"
        assert _eventually(lambda: processes_with("sleep\x00301") and processes_with("sleep\x00302"))
        worker.close()  # kills the worker and strays it can see, without waiting for them
        box.sweep()  # what a grading session does before it returns: every stray is gone
        assert processes_with("sleep\x00301") == [] and processes_with("sleep\x00302") == []
    finally:
        box.close()


def test_secrets_in_the_environment_stay_out(course: Course, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DLGRADE_TEST_SECRET", "hunter2-token")
    hostile = next(h for h in hostiles() if h.id == "leaks_environment")
    folder = with_appended(course, hostile.module, hostile.path, tmp_path)
    box = Sandbox(course.all_rule_patterns())  # a fresh zygote, started with the secret set
    try:
        result = grade(course, folder, ["logsumexp"], sandbox=box)
    finally:
        box.close()
    text = json.dumps(result.to_dict())
    assert "env: " in text  # the submission did print its environment...
    assert "hunter2-token" not in text and "DLGRADE_TEST_SECRET" not in text  # ...without secrets
    assert os.environ["DLGRADE_TEST_SECRET"] == "hunter2-token"


def test_a_crashing_exercise_gets_two_fresh_workers_then_stops(course: Course, tmp_path) -> None:
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "stability.py").write_text(
        (course.reference_dir() / "stability.py").read_text()
        + "\nimport os\n\ndef log_softmax(x, dim=-1):\n    os._exit(9)\n"
    )
    ex = grade(course, folder, ["log_softmax"]).exercises[0]
    outcomes = [c.outcome for c in ex.checks if c.name != INPUTS_CHECK]  # that one repeats the first
    assert outcomes.count("crashed") == 3  # the first worker and two replacements
    assert set(outcomes) == {"crashed", "not_run"}
    assert "exit status 9" in ex.message


def _children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_bytes()
            except OSError:
                continue
            if int(stat[stat.rfind(b")") + 2 :].split()[1]) == pid:
                out.append(int(entry.name))
    return out


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_grading_returns_with_no_worker_left(course: Course) -> None:
    """Workers are released without waiting and the next ones start ahead of need; none of
    them, not even a worker started for an exercise that never came, outlives the run."""
    from dlgrade.sandbox.handle import WorkerSpec

    box = Sandbox(course.all_rule_patterns())
    try:
        box.prespawn(WorkerSpec(str(course.reference_dir()), "layers", 2048))  # never asked for
        result = grade(course, course.reference_dir(), ["stable_softmax", "logsumexp"], sandbox=box)
        assert result.score == result.max_score
        assert box._proc is not None and _children_of(box._proc.pid) == []
    finally:
        box.close()
