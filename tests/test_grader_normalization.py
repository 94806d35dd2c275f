"""Proof for the `normalization` graders: full marks, zero, and points lost exactly where due."""

from __future__ import annotations

import pytest

from dlgrade.core.manifest import Course
from tests.support import (
    assert_loses_only_where_due,
    grade_folder,
    variant,
    variants,
    with_appended,
)


def _grade(course: Course, stem: str, tmp_path, *names: str):
    v = variant("normalization", stem)
    return grade_folder(course, with_appended(course, v.module, v.path, tmp_path), *names)


@pytest.mark.parametrize("variant", variants("normalization"), ids=lambda v: v.id)
def test_known_wrong_loses_points_on_the_checks_it_names(course: Course, variant, tmp_path) -> None:
    assert_loses_only_where_due(course, variant, "normalization", tmp_path)


def test_missing_identity_path_is_reported_on_dx(course: Course, tmp_path) -> None:
    result = _grade(course, "residual_without_identity", tmp_path, "residual_backward")
    check = next(c for c in result.exercises[0].checks if c.name.startswith("dx carries"))
    assert check.message.count("dx: rel. error") == 1 and "dx = dz @ W.T + dout" in check.hint


def test_batch_axis_layernorm_fails_on_a_batch_of_one(course: Course, tmp_path) -> None:
    result = _grade(course, "over_batch_axis", tmp_path, "layernorm_forward")
    checks = {c.name: c for c in result.exercises[0].checks}
    assert not checks["a batch of one row, and eps inside the square root"].passed
