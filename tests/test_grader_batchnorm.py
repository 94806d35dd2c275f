"""The `batchnorm` graders' messages (tests/test_fixtures.py runs the known-wrong files)."""

from __future__ import annotations

import re

import pytest

from dlgrade.core.manifest import Course
from tests.support import (
    grade_folder,
    variant,
    with_appended,
)


def _grade(course: Course, stem: str, tmp_path, *names: str):
    v = variant("batchnorm", stem)
    return grade_folder(course, with_appended(course, v.module, v.path, tmp_path), *(names or ("batchnorm",)))


def _exercise(result, exercise_id: str):
    return next(e for e in result.exercises if e.id == exercise_id)


def test_backward_feedback_names_the_largest_error_and_where(course: Course, tmp_path) -> None:
    result = _grade(course, "no_mean_terms", tmp_path, "batchnorm_backward")
    check = next(c for c in result.exercises[0].checks if c.name.startswith("dx, dgamma, dbeta"))
    assert not check.passed
    assert re.search(r"dx: rel\. error \d(\.\d)?e-?\d+ at \[\d+, \d+\]; got \S+, expected \S+", check.message)
    assert "(a correct dx is within 1e-7)" in check.message
    assert "mean and the variance" in check.hint


def test_wrong_gradient_shape_is_named_in_symbols(course: Course, tmp_path) -> None:
    result = _grade(course, "dgamma_not_summed", tmp_path, "batchnorm_backward")
    check = next(c for c in result.exercises[0].checks if c.name.startswith("dx, dgamma, dbeta"))
    assert "dgamma has shape (N, D) = (3, 4); expected (D,) = (4,)" in check.message


def test_backward_judged_on_a_wrong_forward_says_so(course: Course, tmp_path) -> None:
    result = _grade(course, "unbiased_forward", tmp_path, "batchnorm_forward", "batchnorm_backward")
    backward = _exercise(result, "batchnorm_backward")
    public = [c for c in backward.checks if c.visibility == "public" and not c.passed]
    assert public
    for c in public:
        assert "judged on the cache of your own batchnorm_forward" in c.message
        assert "fix batchnorm_forward first" in c.message
    hidden = [c for c in backward.checks if c.visibility == "hidden"]
    assert all("own batchnorm_forward" in c.message for c in hidden if not c.passed)


def test_backward_without_a_forward_points_at_the_forward(course: Course, tmp_path) -> None:
    result = _grade(course, "forward_not_started", tmp_path, "batchnorm_forward", "batchnorm_backward")
    assert _exercise(result, "batchnorm_forward").status == "not_started"
    backward = _exercise(result, "batchnorm_backward")
    assert (backward.status, backward.score) == ("failed", 0)
    public = [c for c in backward.checks if c.visibility == "public"]
    assert all("still raises NotImplementedError: write batchnorm_forward first" in c.message for c in public)


def test_a_cache_that_is_not_plain_data_is_named(course: Course, tmp_path) -> None:
    result = _grade(course, "object_cache", tmp_path, "batchnorm_forward", "batchnorm_backward")
    for e in result.exercises:
        first = next(c for c in e.checks if not c.passed)
        assert "holds an object of type batchnorm.Saved" in first.message, first.message
        assert "plain data" in first.message


@pytest.mark.parametrize(
    ("stem", "exercise", "call"),
    [
        # a name built at run time is refused before the code runs (dlgrade/engine/routes.py)
        ("dynamic_functional", "batchnorm_forward", "builds a name at run time"),
        ("dynamic_module", "batchnorm2d_forward", "builds a name at run time"),
        ("dynamic_autograd", "batchnorm2d_backward", "builds a name at run time"),
        ("layer_norm_shortcut", "batchnorm_forward", "layer_norm"),
        ("autograd_backward", "batchnorm_backward", "backward"),
    ],
)
def test_forbidden_calls_are_caught_statically_or_at_run_time(
    course: Course, tmp_path, stem: str, exercise: str, call: str
) -> None:
    result = _grade(course, stem, tmp_path, exercise)
    ex = result.exercises[0]
    assert (ex.status, ex.score) == ("error", 0)
    assert call in ex.message and "batchnorm.py:" in ex.message


def test_a_forbidden_forward_fails_its_backward_with_a_pointer(course: Course, tmp_path) -> None:
    result = _grade(course, "dynamic_functional", tmp_path, "batchnorm_backward")
    backward = result.exercises[0]
    assert backward.status == "failed"
    message = next(c.message for c in backward.checks if c.visibility == "public")
    assert "graded on the cache of your batchnorm_forward, which failed" in message
    assert "torch.nn.functional.batch_norm" in message


def test_hidden_checks_never_show_inputs(course: Course, tmp_path) -> None:
    for stem in ("no_mean_terms", "unbiased_forward", "dgamma_not_summed", "batch_stats_at_inference"):
        result = _grade(course, stem, tmp_path / stem)
        hidden = [c for e in result.exercises for c in e.checks if c.visibility == "hidden" and not c.passed]
        assert hidden, stem
        for c in hidden:
            assert not re.search(r"\[|shape \(|=|float\d\d|tensor|\d", c.message), c.message
            assert c.hint == ""
