"""The `einsum` graders: rules named with their line (tests/test_fixtures.py runs the known-wrong files)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dlgrade.core.manifest import Course
from dlgrade.core.result import ExerciseResult
from tests.support import (
    FIXTURES,
    grade_folder,
    reference_copy,
    variant,
    with_appended,
)

MODULE = "einsum_tasks"


def graded(course: Course, stem: str, tmp_path: Path, *names: str) -> tuple[dict[str, ExerciseResult], Path]:
    """Grade the model solutions with one known-wrong file appended; results by exercise."""
    v = variant(MODULE, stem)
    folder = with_appended(course, v.module, v.path, tmp_path / "sub")
    result = grade_folder(course, folder, *(names or ("einsum",)))
    assert result.internal_errors == ()
    return {e.id: e for e in result.exercises}, folder / f"{MODULE}.py"


def line_of(path: Path, text: str) -> int:
    """The last line of `path` that contains `text` (the appended definitions come last)."""
    return max(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize(
    ("stem", "exercise", "names", "text"),
    [
        (
            "loop_over_batch",
            "batch_matmul",
            ["Python comprehension", "einsum does the iterating"],
            "for i in",
        ),
        ("matmul_operator", "matmul", ["uses the @ operator", "write the contraction"], "A @ B"),
        (
            "broadcast_no_einsum",
            "matvec",
            ["computes tensor * tensor outside einsum", "only a scale"],
            "A * x",
        ),
        ("two_einsums", "bilinear", ["calls torch.einsum 2 times (at most 1)"], "torch.einsum"),
        (
            "fused_attention",
            "attention",
            ["torch.nn.functional.scaled_dot_product_attention", "write the contraction"],
            "F.scaled_dot_product_attention",
        ),
    ],
)
def test_static_rule_named_with_its_line(course, tmp_path, stem, exercise, names, text) -> None:
    results, path = graded(course, stem, tmp_path, exercise)
    ex = results[exercise]
    assert (ex.status, ex.score) == ("error", 0)
    assert all(c.outcome == "forbidden" for c in ex.checks)
    for name in names:
        assert name in ex.message
    assert f"{MODULE}.py:{line_of(path, text)}" in ex.message


@pytest.mark.parametrize(
    ("stem", "exercise", "names", "text"),
    [
        # Each of these once ran until a run-time guard caught it; the allowed API and the
        # refusal of names built at run time (dlgrade/engine/routes.py) now name them first.
        (
            "operator_matmul",
            "matmul",
            ["uses operator.matmul, not among", "write the contraction"],
            "operator",
        ),
        ("rmatmul_by_name", "outer", ["builds a name at run time"], "getattr"),
        ("builtin_sum_over_tensor", "trace", ["uses sum, not among", "write the contraction"], "sum("),
        ("diagonal_by_name", "batch_trace", ["builds a name at run time"], "getattr"),
        ("recursive_batch", "batch_matmul", ["uses torch.cat, not among"], "torch.cat"),
    ],
)
def test_run_time_rule_named_with_its_line(course, tmp_path, stem, exercise, names, text) -> None:
    results, path = graded(course, stem, tmp_path, exercise)
    ex = results[exercise]
    assert (ex.status, ex.score) == ("error", 0)
    for name in names:
        assert name in ex.message
    assert f"{MODULE}.py:{line_of(path, text)}" in ex.message


def test_missing_einsum_is_named(course, tmp_path) -> None:
    results, _ = graded(course, "no_einsum", tmp_path, "matvec")
    ex = results["matvec"]
    assert (ex.status, ex.score) == ("error", 0)
    assert "must call torch.einsum at least 1 time(s); called it 0" in ex.message


def test_wrong_values_teach(course, tmp_path) -> None:
    results, _ = graded(course, "unscaled_scores", tmp_path, "attention_scores")
    check = next(c for c in results["attention_scores"].checks if c.name == "scores are scaled by 1/sqrt(d)")
    assert not check.passed and check.outcome == "failed"
    assert re.search(
        r"d=16, float(32|64) tensors of shape \(\d+, \d+, 16\) and \(\d+, \d+, 16\)", check.message
    )
    assert "got " in check.message and "expected " in check.message
    assert "sqrt(d)" in check.hint


def test_softmax_over_the_wrong_axis_is_named(course, tmp_path) -> None:
    results, _ = graded(course, "softmax_wrong_axis", tmp_path, "attention")
    check = next(c for c in results["attention"].checks if c.name.startswith("weights:"))
    assert not check.passed
    assert "the weights summed over the key axis" in check.message and "expected 1" in check.message


def test_swapped_axes_fail_on_every_shape(course, tmp_path) -> None:
    results, _ = graded(course, "swapped_contraction", tmp_path, "contract_4d")
    ex = results["contract_4d"]
    assert ex.score == 0 and all(c.outcome == "raised" for c in ex.checks)


def test_batch_of_one_is_its_own_check(course, tmp_path) -> None:
    results, _ = graded(course, "squeezed_batch", tmp_path, "batch_trace")
    failed = [c.name for c in results["batch_trace"].checks if not c.passed]
    assert failed == ["keeps a batch of one"]


def test_hidden_checks_never_show_inputs(course, tmp_path) -> None:
    for stem in ("unscaled_scores", "transposed_bilinear", "softmax_wrong_axis"):
        results, _ = graded(course, stem, tmp_path / stem)
        hidden = [c for e in results.values() for c in e.checks if c.visibility == "hidden"]
        assert any(not c.passed for c in hidden), stem
        for c in hidden:
            assert not re.search(r"\[|shape|d=|float\d\d|tensor|\d\.\d|\d+ of \d+", c.message), c.message
            assert c.hint == ""


def test_own_functions_named_like_torch_are_not_flagged(course, tmp_path) -> None:
    """`def matmul` / `def trace` of the student's own, and calls between them, break no rule."""
    folder = reference_copy(course, tmp_path / "sub")
    target = folder / f"{MODULE}.py"
    target.write_text(target.read_text() + (FIXTURES / "right" / MODULE / "own_helpers.py").read_text())
    result = grade_folder(course, folder, "einsum")
    assert result.internal_errors == ()
    assert {e.id: e.status for e in result.exercises if e.status != "passed"} == {}


def test_same_code_same_score(course: Course, tmp_path) -> None:
    v = variant(MODULE, "transposed_bilinear")
    folder = with_appended(course, v.module, v.path, tmp_path)
    first = grade_folder(course, folder, "einsum").to_dict()
    again = grade_folder(course, folder, "batch_bilinear", "bilinear").to_dict()
    by_id = {e["id"]: e for e in first["exercises"]}
    for e in again["exercises"]:
        assert e == by_id[e["id"]]
