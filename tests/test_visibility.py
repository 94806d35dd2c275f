"""`runner.grade(..., visibility=...)` runs only public or only hidden checks, on the usual scale."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlgrade.core.manifest import Course
from dlgrade.core.result import points_sum
from dlgrade.engine.runner import grade
from tests.support import variant, with_appended


@pytest.fixture(scope="module")
def wrong_softmax(course: Course, tmp_path_factory: pytest.TempPathFactory) -> Path:
    v = variant("stability", "naive_softmax")
    return with_appended(course, v.module, v.path, tmp_path_factory.mktemp("naive"))


def test_each_visibility_runs_its_own_checks_on_the_full_runs_scale(
    course: Course, wrong_softmax: Path
) -> None:
    full = grade(course, wrong_softmax, ["stable_softmax"]).exercises[0]
    assert 0 < full.score < full.max_score
    by_name = {c.name: c for c in full.checks}
    parts = {}
    for visibility in ("public", "hidden"):
        part = grade(course, wrong_softmax, ["stable_softmax"], visibility=visibility).exercises[0]
        assert part.max_score == full.max_score
        for c in part.checks:
            assert c.max_score == by_name[c.name].max_score
            if c.visibility == visibility:
                assert (c.passed, c.score, c.message) == (
                    by_name[c.name].passed,
                    by_name[c.name].score,
                    by_name[c.name].message,
                )
            else:
                assert (c.outcome, c.passed, c.score) == ("not_run", False, 0.0)
        parts[visibility] = part.score
    # each part is rounded once, to two decimals (docs/grading.md): together they may miss
    # the full score by a cent
    assert abs(parts["public"] + parts["hidden"] - full.score) <= 0.01 + 1e-9


def test_untouched_stubs_stay_not_started_with_either_visibility(course: Course) -> None:
    for visibility in ("public", "hidden"):
        result = grade(course, course.exercises_dir(), ["stability"], visibility=visibility)
        assert {e.status for e in result.exercises} == {"not_started"}


def test_reference_passes_every_check_of_the_chosen_visibility(course: Course) -> None:
    result = grade(course, course.reference_dir(), ["stability"], visibility="hidden")
    for e in result.exercises:
        hidden = [c for c in e.checks if c.visibility == "hidden"]
        assert hidden and all(c.passed for c in hidden)
        assert e.score == points_sum(c.max_score for c in hidden)
