"""The `xor` graders' messages (tests/test_fixtures.py runs the known-wrong files)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dlgrade.core.manifest import Course, load_course
from tests.support import (
    FIXTURES,
    ROOT,
    grade_folder,
    reference_copy,
    scores,
    variant,
    with_appended,
)


def _graded(course: Course, stem: str, tmp_path: Path, *names: str):
    v = variant("xor", stem)
    return grade_folder(course, with_appended(course, v.module, v.path, tmp_path / "sub"), *names)


def test_hard_coded_weights_pass_in_public_and_fail_in_hidden(course: Course, tmp_path) -> None:
    """Weights worked out for XOR look right on the public checks about the result; the check that
    steps, lr and seed count exposes them in public, the hidden targets too."""
    ex = _graded(course, "mlp_hardcoded", tmp_path, "train_xor_mlp").exercises[0]
    budget = "honours steps, lr, seed and hidden (steps 0 and 3, lr 0, seeds 0 and 1, hidden 3)"
    every_step = (
        "every step counts (steps 0, 1, 2 and 3 give four different results; "
        "at lr 0.01 so do steps 30 and 60)"
    )
    trained = "every parameter is trained (steps 3 at lr 0.1 moves W1, b1, W2 and b2)"
    told = (budget, every_step, trained)
    assert all(c.passed for c in ex.checks if c.visibility == "public" and c.name not in told)
    assert [c.passed for c in ex.checks if c.name in told] == [False, False, False]
    assert [c.passed for c in ex.checks if c.visibility == "hidden"] == [False]


def test_failed_public_check_says_what_went_wrong(course: Course, tmp_path) -> None:
    ex = _graded(course, "mlp_without_relu", tmp_path, "train_xor_mlp").exercises[0]
    check = next(c for c in ex.checks if c.name == "learns XOR: MSE below 0.01 (seed 0)")
    assert not check.passed
    assert "XOR, seed=0, hidden=4, steps=500" in check.message
    assert re.search(r"MSE 0\.2\d+ on the corners; expected < 0\.01", check.message), check.message
    assert "dead ReLUs" in check.hint


def test_corner_lookup_is_told_which_points_fail(course: Course, tmp_path) -> None:
    ex = _graded(course, "corner_lookup", tmp_path, "xor_features").exercises[0]
    check = next(c for c in ex.checks if c.name == "points within 0.1 of a corner get that corner's label")
    assert not check.passed
    assert re.search(r"\d+ of 144 points within 0\.1 of a corner get the wrong label", check.message)
    assert "near corner (" in check.message


HIDDEN_LEAKS = re.compile(r"\[|shape|seed|float\d\d|tensor|=|\bX?N?AND\b|\bX?N?OR\b|\d\.\d{3,}|\d+ of \d+")


@pytest.mark.parametrize(
    "stem", ["mlp_hardcoded", "linear_constant", "batch_statistics", "fit_linear_no_bias"]
)
def test_hidden_checks_never_show_inputs(course: Course, tmp_path, stem: str) -> None:
    """Hidden messages name the property (and the contract's own threshold), never a case."""
    v = variant("xor", stem)
    result = _graded(course, stem, tmp_path, *v.loses)
    hidden = [c for e in result.exercises for c in e.checks if c.visibility == "hidden"]
    assert any(not c.passed for c in hidden)
    for c in hidden:
        assert not HIDDEN_LEAKS.search(c.message), c.message
        assert c.hint == ""


def test_same_code_same_score(course: Course) -> None:
    """Training is seeded: grading the reference twice gives the same result, check by check."""
    first = grade_folder(course, course.reference_dir(), "train_xor_mlp", "train_xor_linear").to_dict()
    again = grade_folder(course, course.reference_dir(), "train_xor_linear", "train_xor_mlp").to_dict()
    by_id = {e["id"]: e for e in first["exercises"]}
    for e in again["exercises"]:
        assert e == by_id[e["id"]]


def test_overrunning_training_gets_a_timeout_line(tmp_path) -> None:
    """A loop that never ends costs its exercise, with one clear line, within the declared budget."""
    root = tmp_path / "course"
    root.mkdir()
    for name in ("course.toml", "exercises", "reference", "graders"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    toml = root / "course.toml"
    text = toml.read_text()
    budget = "time_limit = 15.0         # one call: steps=500\n"
    assert budget in text
    toml.write_text(text.replace(budget, "time_limit = 2.0\n"))
    course = load_course(root)
    fixture = FIXTURES / "timeout" / "endless_training.py"
    folder = with_appended(course, "xor", fixture, tmp_path / "sub")
    result = grade_folder(course, folder, "xor")
    assert result.internal_errors == ()
    got = scores(result)
    assert got["train_xor_linear"][:2] == ("error", 0.0)
    ex = next(e for e in result.exercises if e.id == "train_xor_linear")
    assert ex.message.startswith("train_xor_linear ran past the 2 s time limit"), ex.message
    assert all(status == "passed" for ex_id, (status, _s, _m) in got.items() if ex_id != "train_xor_linear")


@pytest.mark.slow
def test_conventional_solution_gets_full_marks(course: Course, tmp_path) -> None:
    """nn.Sequential, autograd and torch.optim inside the sandbox, within the graded budgets."""
    folder = reference_copy(course, tmp_path / "sub")
    shutil.copy(FIXTURES / "solved" / "xor.py", folder / "xor.py")
    result = grade_folder(course, folder, "xor")
    assert result.internal_errors == ()
    expected = {e.id: "passed" for e in course.topic("xor").exercises}
    assert {e.id: e.status for e in result.exercises} == expected
