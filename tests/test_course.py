"""The bundled course as a whole: every topic's reference passes, every stub is not started
(every topic's fixture files: tests/test_fixtures.py).

Each topic reads its exercises from the whole course's grading made once a session (the model
solutions': `shared.reference`; the stubs': `shared_grade`, which tests/test_release.py reads
too) instead of grading its topic again: each exercise is graded in its own worker either way.
"""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from dlgrade.core.manifest import Course, load_course
from dlgrade.core.result import GradeResult
from dlgrade.dev.check import static_problems
from tests.gradings import shared_grade
from tests.shared import Shared
from tests.support import ROOT

TOPICS = [t.id for t in load_course(ROOT).topics]


@pytest.mark.parametrize("topic", TOPICS)
def test_reference_gets_full_marks(course: Course, topic: str, shared: Shared) -> None:
    result = of_topic(course, shared.reference(course), topic)
    assert result.internal_errors == ()
    failing = {
        e.id: (e.status, e.message, [c.message for c in e.checks if not c.passed])
        for e in result.exercises
        if e.status != "passed"
    }
    assert failing == {}
    assert result.score == result.max_score == course.topic(topic).points


@pytest.mark.parametrize("topic", TOPICS)
def test_untouched_stubs_are_not_started(course: Course, topic: str, shared: Shared) -> None:
    result = of_topic(course, shared_grade(shared, course, ROOT / "exercises"), topic)
    assert result.internal_errors == ()
    assert {e.id: (e.status, e.score) for e in result.exercises} == {
        e.id: ("not_started", 0.0) for e in course.topic(topic).exercises
    }


def of_topic(course: Course, result: GradeResult, topic: str) -> GradeResult:
    """The whole course's `result` less the other topics' exercises: its score is its topic's."""
    ids = [e.id for e in course.topic(topic).exercises]
    mine = tuple(e for e in result.exercises if e.id in ids)
    assert [e.id for e in mine] == ids, f"{topic} was not graded"
    return dataclasses.replace(result, exercises=mine)


def test_course_files_agree_with_the_manifest(course: Course) -> None:
    assert [str(p) for p in static_problems(course)] == []


def test_dev_check_finds_drift(tmp_path) -> None:
    for name in ("course.toml", "exercises", "reference", "graders"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    (tmp_path / "exercises" / "stray.py").write_text("x = 1\n")
    stub = tmp_path / "exercises" / "stability.py"
    stub.write_text(
        stub.read_text().replace(
            "dim: int = -1, keepdim: bool = False", "dim: int = 0, keepdim: bool = False"
        )
    )
    (tmp_path / "reference" / "stability.py").unlink()
    found = [str(p) for p in static_problems(load_course(tmp_path))]
    assert "exercises/stray.py: not declared in course.toml" in found
    assert "reference/stability.py: declared in course.toml but missing" in found
    shutil.copy(ROOT / "reference" / "stability.py", tmp_path / "reference" / "stability.py")
    found = [str(p) for p in static_problems(load_course(tmp_path))]
    assert "stability.py::logsumexp: stub and model solution signatures differ" in found
