"""The `relu_nets` graders' messages (tests/test_fixtures.py runs the known-wrong files)."""

from __future__ import annotations

import re
import shutil

import pytest

from dlgrade.core.manifest import Course
from tests.support import (
    FIXTURES,
    grade_folder,
    reference_copy,
    variant,
    with_appended,
)


def test_memorised_fit_passes_the_default_data_only(course: Course, tmp_path) -> None:
    v = variant("relu_nets", "irony_memorised")
    result = grade_folder(course, with_appended(course, v.module, v.path, tmp_path), "fit_irony_of_spec")
    checks = {c.name: c for c in result.exercises[0].checks}
    assert checks["the fitted probability follows the true curve on irony_of_spec_data()"].passed
    hidden = checks["fits other curves of the same family"]
    assert not hidden.passed
    assert hidden.message == "the fitted curve is too far from the true probability"


def test_wrong_slope_is_shown_at_a_point(course: Course, tmp_path) -> None:
    v = variant("relu_nets", "wrong_slopes")
    result = grade_folder(course, with_appended(course, v.module, v.path, tmp_path), "pwlinr_params")
    check = next(c for c in result.exercises[0].checks if c.visibility == "public")
    assert re.search(r"at x = -1 the network gives 13\.5; expected -4\.5", check.message), check.message
    assert "relu(-x)" in check.hint


@pytest.mark.slow
def test_conventional_solution_gets_full_marks_from_the_graders_own_data(course: Course, tmp_path) -> None:
    """torch.optim inside the sandbox; the submission's copy of irony_of_spec_data raises if called."""
    folder = reference_copy(course, tmp_path / "sub")
    shutil.copy(FIXTURES / "solved" / "relu_nets.py", folder / "relu_nets.py")
    result = grade_folder(course, folder, "relu_nets")
    assert result.internal_errors == ()
    assert {e.id: e.status for e in result.exercises} == {
        e.id: "passed" for e in course.topic("relu_nets").exercises
    }
