"""The `layers` graders' messages (tests/test_fixtures.py runs the known-wrong files)."""

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
    v = variant("layers", stem)
    return grade_folder(course, with_appended(course, v.module, v.path, tmp_path), *(names or ("layers",)))


def test_flat_dx_is_named_in_symbols(course: Course, tmp_path) -> None:
    result = _grade(course, "dx_left_flat", tmp_path, "affine_backward")
    check = next(c for c in result.exercises[0].checks if c.name.startswith("dx comes back"))
    assert not check.passed
    assert "dx has shape (N, D) = (3, 40); expected (N, d1, d2, d3) = (3, 2, 4, 5)" in check.message
    assert "reshape it to x.shape" in check.hint


def test_transposed_dw_is_named_in_symbols(course: Course, tmp_path) -> None:
    result = _grade(course, "transposed_dw", tmp_path, "affine_backward")
    check = next(c for c in result.exercises[0].checks if c.name.startswith("dx, dW, db"))
    assert "dW has shape (M, D) = (4, 5); expected (D, M) = (5, 4)" in check.message


def test_relu_gradient_at_zero_names_the_entry(course: Course, tmp_path) -> None:
    result = _grade(course, "relu_grad_one_at_zero", tmp_path, "relu_backward")
    checks = {c.name: c for c in result.exercises[0].checks}
    zero = checks["the gradient is 0 at exactly x = 0"]
    assert not zero.passed
    assert re.search(r"dx: rel\. error 1e0 at \[\d, \d\]; got \S+, expected 0", zero.message), zero.message
    assert checks["dx equals autograd on random inputs (float64 and float32)"].passed  # no exact zeros there


def test_a_correct_backward_is_not_blamed_for_its_forward(course: Course, tmp_path) -> None:
    """The forward forgets b, but its cache is right: only the forward loses points."""
    result = _grade(course, "forward_without_bias", tmp_path, "affine_forward", "affine_backward")
    assert {e.id: e.status for e in result.exercises} == {
        "affine_forward": "failed",
        "affine_backward": "passed",
    }


def test_overflowing_sigmoid_shows_nan_and_points_at_the_forward(course: Course, tmp_path) -> None:
    result = _grade(course, "naive_sigmoid", tmp_path, "sigmoid_forward", "sigmoid_backward")
    fwd, bwd = result.exercises
    check = next(c for c in fwd.checks if c.name.startswith("+-1000"))
    assert "got nan at" in check.message and "expected 1" in check.message
    check = next(c for c in bwd.checks if c.name.startswith("the gradient at +-1000"))
    assert "rel. error inf" in check.message and "got nan" in check.message
    assert "judged on the cache of your own sigmoid_forward" in check.message


@pytest.mark.parametrize(
    ("stem", "exercise", "call"),
    [
        ("dynamic_func", "sigmoid_backward", "builds a name at run time"),  # refused statically
        ("autograd_backward", "affine_backward", "backward"),
    ],
)
def test_autograd_is_caught_statically_or_at_run_time(course: Course, tmp_path, stem, exercise, call) -> None:
    result = _grade(course, stem, tmp_path, exercise)
    ex = result.exercises[0]
    assert (ex.status, ex.score) == ("error", 0)
    assert call in ex.message and "layers.py:" in ex.message


def test_same_code_same_score(course: Course, tmp_path) -> None:
    folder = with_appended(course, "layers", variant("layers", "transposed_dw").path, tmp_path)
    first = grade_folder(course, folder, "layers").to_dict()
    again = grade_folder(course, folder, "affine_backward", "relu_backward").to_dict()
    by_id = {e["id"]: e for e in first["exercises"]}
    for e in again["exercises"]:
        assert e == by_id[e["id"]]


def test_hidden_checks_never_show_inputs(course: Course, tmp_path) -> None:
    for stem in ("naive_sigmoid", "relu_grad_one_at_zero", "dx_left_flat"):
        result = _grade(course, stem, tmp_path / stem)
        hidden = [c for e in result.exercises for c in e.checks if c.visibility == "hidden" and not c.passed]
        assert hidden, stem
        for c in hidden:
            assert not re.search(r"\[|shape \(|=|float\d\d|tensor|\d", c.message), c.message
            assert c.hint == ""
