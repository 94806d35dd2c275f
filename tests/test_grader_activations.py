"""The `activations` graders' messages (tests/test_fixtures.py runs the known-wrong files)."""

from __future__ import annotations

from dlgrade.core.manifest import Course
from tests.support import (
    grade_folder,
    variant,
    with_appended,
)


def _grade(course: Course, stem: str, tmp_path, *names: str):
    v = variant("activations", stem)
    return grade_folder(course, with_appended(course, v.module, v.path, tmp_path), *names)


def test_tanh_builtin_is_forbidden_and_named(course: Course, tmp_path) -> None:
    ex = _grade(course, "tanh_builtin", tmp_path, "tanh_forward").exercises[0]
    assert (ex.status, ex.score) == ("error", 0)
    assert "torch.tanh" in ex.message and "activations.py:" in ex.message


def test_slope_at_zero_is_reported_on_dx(course: Course, tmp_path) -> None:
    result = _grade(course, "prelu_slope_one_at_zero", tmp_path, "prelu_backward")
    check = next(c for c in result.exercises[0].checks if c.name.startswith("dx and dalpha"))
    assert "dx: rel. error" in check.message and "exactly x = 0" in check.hint


def test_unreduced_dalpha_is_named_by_shape(course: Course, tmp_path) -> None:
    result = _grade(course, "dalpha_not_reduced", tmp_path, "prelu_backward")
    check = next(c for c in result.exercises[0].checks if c.name.startswith("dalpha has alpha's shape"))
    assert "dalpha has shape" in check.message and "expected (C,)" in check.message


def test_hidden_checks_never_show_inputs(course: Course, tmp_path) -> None:
    result = _grade(course, "swish_dbeta_without_x_squared", tmp_path, "swish_backward")
    hidden = [c for e in result.exercises for c in e.checks if c.visibility == "hidden" and not c.passed]
    assert hidden
    for c in hidden:
        assert "1000" not in c.message and "shape" not in c.message and c.hint == ""


def test_tanh_reached_at_run_time_is_forbidden_too(course: Course, tmp_path) -> None:
    ex = _grade(course, "tanh_dynamic", tmp_path, "tanh_forward").exercises[0]
    # a name built at run time is refused before the code runs (dlgrade/engine/routes.py)
    assert (ex.status, ex.score) == ("error", 0) and "builds a name at run time" in ex.message


def test_mlp_overflow_is_named_on_hidden_with_its_hint(course: Course, tmp_path) -> None:
    result = _grade(course, "mlp_sigmoid_overflows", tmp_path, "mlp_forward")
    check = next(c for c in result.exercises[0].checks if c.name.startswith("pre-activations of +-1000"))
    assert "hidden: got nan" in check.message and "activation='sigmoid'" in check.message
    assert "exponentiate only -|z|" in check.hint


def test_mlp_hidden_check_never_shows_inputs(course: Course, tmp_path) -> None:
    result = _grade(course, "mlp_b1_forgotten", tmp_path, "mlp_forward")
    (hidden,) = [c for c in result.exercises[0].checks if c.visibility == "hidden"]
    assert not hidden.passed and hidden.hint == ""
    assert "shape" not in hidden.message and "activation=" not in hidden.message
