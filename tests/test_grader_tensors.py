"""Proof for the `tensors` graders: exact values, the right axes, the biased variance."""

from __future__ import annotations

import re

from dlgrade.core.manifest import Course
from tests.support import grade_folder, variant, with_appended


def _checks(course: Course, stem: str, exercise: str, tmp_path):
    v = variant("tensors", stem)
    result = grade_folder(course, with_appended(course, v.module, v.path, tmp_path), exercise)
    assert result.internal_errors == ()
    return {c.name: c for c in result.exercises[0].checks}


def test_reshape_gets_no_exact_check(course: Course, tmp_path) -> None:
    checks = _checks(course, "reshape_for_permute", "nchw_to_nhwc", tmp_path)
    exact = checks["moves every value to its place (exact)"]
    assert not exact.passed
    assert "random images" in exact.message and "elements differ" in exact.message
    assert "permute" in exact.hint


def test_unbiased_variance_fails_the_biased_check(course: Course, tmp_path) -> None:
    checks = _checks(course, "unbiased_variance", "channel_normalize", tmp_path)
    biased = checks["uses the biased variance"]
    assert not biased.passed and "few values per channel" in biased.message
    assert "correction=0" in biased.hint


def test_squeeze_fails_only_the_batch_of_one(course: Course, tmp_path) -> None:
    checks = _checks(course, "squeezed_mean", "spatial_mean", tmp_path)
    assert [n for n, c in checks.items() if not c.passed] == ["a batch of one keeps its axis"]
    assert "has shape" in checks["a batch of one keeps its axis"].message


def test_hidden_checks_never_show_inputs(course: Course, tmp_path) -> None:
    checks = _checks(course, "per_image_statistics", "channel_normalize", tmp_path)
    hidden = [c for c in checks.values() if c.visibility == "hidden"]
    assert hidden and not any(c.passed for c in hidden)
    for c in hidden:
        assert not re.search(r"\[|shape|eps|float\d\d|tensor|\d\.\d|\d+ of \d+", c.message), c.message
