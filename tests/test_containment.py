"""Kernel containment: hostile submissions that reach native code change nothing, start nothing,
stop nothing and learn nothing, through the real `grade` command and in a batch.

Each fixture of tests/fixtures/hostile/ names what it attacks in its docstring. These tests run
as whatever user runs the suite (root in CI); tests/test_unprivileged.py runs them as `nobody`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dlgrade.core.manifest import Course, load_course
from dlgrade.engine.runner import CourseTampered, grade
from dlgrade.sandbox import kernel
from dlgrade.sandbox.pool import Sandbox
from tests.courses import course_copy
from tests.shared import Shared
from tests.snapshots import (
    installation_listing,
    leaked,
    marked_processes,
    private_lines,
    shm_listing,
    tree_digest,
)
from tests.support import hostiles, with_appended

CONTAINED = kernel.landlock_abi() >= 6 and sys.platform.startswith("linux")
pytestmark = pytest.mark.skipif(not CONTAINED, reason="needs Linux with Landlock ABI >= 6")
PREFIXES = ("native_", "spawns_", "signals_", "reads_", "leaks_", "forges_")
NATIVE = [h for h in hostiles() if h.id.startswith(PREFIXES)]
# The fast tier (CONTRIBUTING.md, "The test tiers") keeps one attack of each kind through a
# real `grade` (writes, reads and floods by native code, signals, processes, the environment:
# exits and hangs through `grade` are tests/test_device_worker.py's) and one of each kind with
# the kernel alone; the rest run in the slow tier. tests/test_hostile.py grades every one in
# process in the fast tier.
FAST_THROUGH_GRADE = {
    "native_write_reference",
    "native_read_readline",
    "native_floods_disk",
    "signals_grader",
    "spawns_processes",
    "leaks_environment",
}
FAST_KERNEL_ALONE = {
    "native_write_reference",
    "native_read_from_file",
    "native_write_dev_shm",
    "signals_grader",
    "spawns_unsandboxed",
    "reads_parent_environ",
}


def tiered(fast: set[str]) -> list:
    """NATIVE as parameters, those not in `fast` marked slow."""
    assert fast <= {h.id for h in NATIVE}, fast - {h.id for h in NATIVE}
    return [pytest.param(h, id=h.id, marks=() if h.id in fast else pytest.mark.slow) for h in NATIVE]


SECRET = "DLGRADE_TEST_SECRET_TOKEN=hunter2-containment"


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the course: if containment failed, the damage lands here, not in the repo."""
    return course_copy(tmp_path_factory.mktemp("course"))


def _grade_cli(course_dir: Path, submission: Path, *names: str) -> subprocess.CompletedProcess[str]:
    grade_cmd = Path(sys.executable).with_name("grade")
    env = {**os.environ, SECRET.split("=")[0]: SECRET.split("=")[1]}
    return subprocess.run(
        [str(grade_cmd), *names, "--submission", str(submission), "--format", "json"],
        cwd=course_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("hostile", tiered(FAST_THROUGH_GRADE))
def test_hostile_submission_through_grade(course_dir: Path, hostile, tmp_path: Path) -> None:
    course = load_course(course_dir)
    submission = with_appended(course, hostile.module, hostile.path, tmp_path / "sub")
    before = (tree_digest(course_dir), installation_listing(), shm_listing())
    run = _grade_cli(course_dir, submission, hostile.topic(course))
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert {e["id"]: e["status"] for e in result["exercises"]} == hostile.statuses(course)
    assert set(result["isolation"]["layers"]) >= {"no_new_privs", "landlock", "seccomp"}
    after = (tree_digest(course_dir), installation_listing(), shm_listing())
    assert after[0] == before[0], "the course tree changed"
    assert after[1] == before[1], "the installation changed"
    assert after[2] == before[2], "/dev/shm changed"
    assert marked_processes() == []
    output = run.stdout + run.stderr
    assert leaked(output, private_lines(course_dir)) == []
    assert SECRET.split("=")[1] not in output


@pytest.mark.parametrize("hostile", tiered(FAST_KERNEL_ALONE))
def test_the_kernel_alone_holds(course_dir: Path, hostile, tmp_path: Path) -> None:
    """With the audit hook off, the kernel layers on their own still hold every attack."""
    course = load_course(course_dir)
    submission = with_appended(course, hostile.module, hostile.path, tmp_path / "sub")
    before = (tree_digest(course_dir), installation_listing(), shm_listing())
    box = Sandbox(course.all_rule_patterns(), audit=False)
    try:
        result = grade(course, submission, [hostile.topic(course)], sandbox=box)
    finally:
        box.close()
    assert (tree_digest(course_dir), installation_listing(), shm_listing()) == before
    assert marked_processes() == []
    assert leaked(json.dumps(result.to_dict()), private_lines(course_dir)) == []


def _hostile(name: str):
    return next(h for h in hostiles() if h.id == name)


def test_without_the_kernel_the_attack_is_real_and_the_digests_catch_it(tmp_path: Path) -> None:
    """The fixtures are real attacks: uncontained, one rewrites the model solution, and the
    grading process notices (course digests) instead of reporting that grade."""
    (tmp_path / "course").mkdir()
    course = load_course(course_copy(tmp_path / "course"))
    submission = with_appended(course, "stability", _hostile("native_write_reference").path, tmp_path / "sub")
    original = (course.reference_dir() / "stability.py").read_bytes()
    box = Sandbox(course.all_rule_patterns(), confine=False, audit=False)
    try:
        with pytest.raises(CourseTampered, match=r"reference/stability\.py"):
            grade(course, submission, ["logsumexp"], sandbox=box)
    finally:
        box.close()
    assert (course.reference_dir() / "stability.py").read_bytes() != original


def test_without_the_kernel_a_quoted_answer_key_is_withheld(tmp_path: Path) -> None:
    """Uncontained, a worker reads the graders natively; the feedback filter still withholds
    the text it sends back."""
    (tmp_path / "course").mkdir()
    course = load_course(course_copy(tmp_path / "course"))
    submission = with_appended(course, "stability", _hostile("native_read_readline").path, tmp_path / "sub")
    box = Sandbox(course.all_rule_patterns(), confine=False, audit=False)
    try:
        result = grade(course, submission, ["logsumexp"], sandbox=box)
    finally:
        box.close()
    text = json.dumps(result.to_dict())
    assert "withheld" in text
    assert leaked(text, private_lines(course.root)) == []


def test_a_hostile_submission_does_not_change_the_next_ones_grade(
    course_dir: Path, course: Course, shared: Shared, tmp_path: Path
) -> None:
    """In one batch process, attacks on the course, the installation and the batch itself come
    first; the clean submission after them scores exactly what it scores alone (the model
    solutions' grading that the session shares)."""
    copy = load_course(course_dir)
    subs = tmp_path / "subs"
    for i, name in enumerate(("native_write_reference", "native_write_site_packages", "signals_grader")):
        with_appended(copy, "stability", _hostile(name).path, subs / f"{i}_hostile")
    with_appended(copy, "stability", Path(os.devnull), subs / "9_clean")
    grade_cmd = str(Path(sys.executable).with_name("grade"))
    run = subprocess.run(
        [grade_cmd, "batch", str(subs), "stability", "--jobs", "1", "--csv", str(tmp_path / "g.csv")],
        cwd=course_dir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    rows = {r["id"]: r for r in json.loads((tmp_path / "g.json").read_text())["rows"]}
    assert rows["9_clean"]["status"] == "graded"
    alone = [e for e in shared.reference(course).exercises if e.topic == "stability"]
    got = rows["9_clean"]["result"]
    assert [(e["id"], e["status"], e["score"]) for e in got["exercises"]] == [
        (e.id, e.status, e.score) for e in alone
    ]
    assert got["score"] == sum(e.score for e in alone) == sum(e.max_score for e in alone)


@pytest.mark.slow  # waits out the zygote's answer time; the killed zygote below is the fast proof
def test_a_stopped_zygote_costs_one_submission_not_the_run(course: Course) -> None:
    box = Sandbox(course.all_rule_patterns())
    try:
        box.admit()  # started and ready
        assert box._proc is not None
        os.kill(box._proc.pid, signal.SIGSTOP)
        stopped = grade(course, course.reference_dir(), ["stability"], sandbox=box)
        assert {e.status for e in stopped.exercises} == {"error"}
        assert all("could not be graded" in e.message for e in stopped.exercises)
        again = grade(course, course.reference_dir(), ["stability"], sandbox=box)  # a new zygote
        assert again.score == again.max_score
    finally:
        box.close()


def test_a_killed_zygote_costs_one_submission_not_the_run(course: Course) -> None:
    box = Sandbox(course.all_rule_patterns())
    try:
        box.admit()
        assert box._proc is not None
        os.kill(box._proc.pid, signal.SIGKILL)
        killed = grade(course, course.reference_dir(), ["stability"], sandbox=box)
        assert {e.status for e in killed.exercises} == {"error"}
        again = grade(course, course.reference_dir(), ["stability"], sandbox=box)
        assert again.score == again.max_score
    finally:
        box.close()
