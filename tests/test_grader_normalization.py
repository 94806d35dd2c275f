"""The `normalization` graders' messages (tests/test_fixtures.py runs the known-wrong files)."""

from __future__ import annotations

from dlgrade.core.manifest import Course
from tests.support import (
    grade_folder,
    variant,
    with_appended,
)


def _grade(course: Course, stem: str, tmp_path, *names: str):
    v = variant("normalization", stem)
    return grade_folder(course, with_appended(course, v.module, v.path, tmp_path), *names)


def test_missing_identity_path_is_reported_on_dx(course: Course, tmp_path) -> None:
    result = _grade(course, "residual_without_identity", tmp_path, "residual_backward")
    check = next(c for c in result.exercises[0].checks if c.name.startswith("dx carries"))
    assert check.message.count("dx: rel. error") == 1 and "dx = dz @ W.T + dout" in check.hint


def test_batch_axis_layernorm_fails_on_a_batch_of_one(course: Course, tmp_path) -> None:
    result = _grade(course, "over_batch_axis", tmp_path, "layernorm_forward")
    checks = {c.name: c for c in result.exercises[0].checks}
    assert not checks["a batch of one row, and eps inside the square root"].passed
