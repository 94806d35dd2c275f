"""Proof for the `autodiff` graders: full marks, zero, and points lost exactly where due."""

from __future__ import annotations

import pytest
import torch

from dlgrade.core.manifest import Course
from dlgrade.kit import graphs
from tests.support import (
    assert_loses_only_where_due,
    grade_folder,
    variant,
    variants,
    with_appended,
)


def _grade(course: Course, stem: str, tmp_path, *names: str):
    v = variant("autodiff", stem)
    return grade_folder(course, with_appended(course, v.module, v.path, tmp_path), *names)


@pytest.mark.parametrize("variant", variants("autodiff"), ids=lambda v: v.id)
def test_known_wrong_loses_points_on_the_checks_it_names(course: Course, variant, tmp_path) -> None:
    assert_loses_only_where_due(course, variant, "autodiff", tmp_path)


def test_one_sweep_per_input_times_out_on_the_large_graph_only(course: Course, tmp_path) -> None:
    ex = _grade(course, "sweep_per_input", tmp_path, "grad").exercises[0]
    checks = {c.name: c for c in ex.checks}
    large = next(c for name, c in checks.items() if name.startswith("a large graph"))
    assert large.outcome == "timeout" and not large.passed
    assert all(
        c.passed
        for name, c in checks.items()
        if not name.startswith("a large graph") and c.visibility == "public"
    )


def test_autograd_is_forbidden_and_named(course: Course, tmp_path) -> None:
    ex = _grade(course, "autograd_reverse", tmp_path, "grad").exercises[0]
    assert (ex.status, ex.score) == ("error", 0)
    assert "autograd" in ex.message and "autodiff.py:" in ex.message


def test_the_lesson_examples_are_what_the_lesson_says() -> None:
    """The expected side (torch) gives the lesson's numbers on its two worked examples."""
    for graph, x, f, g in (graphs.LESSON_XY, graphs.LESSON_POLY):
        y, grad = graphs.torch_grad(graph, torch.tensor(x, dtype=torch.float64))
        assert float(y) == f and tuple(grad.tolist()) == g


def test_random_graphs_are_seeded_and_finite() -> None:
    a, xa = graphs.random_graph(7, 5, 200)
    b, xb = graphs.random_graph(7, 5, 200)
    assert a == b and torch.equal(xa, xb) and 180 <= len(a) <= 220
    y, g = graphs.torch_grad(a, xa)
    assert torch.isfinite(y) and torch.isfinite(g).all() and (g != 0).any()
    assert {n[0] for n in a} >= {"input", "add", "mul", "div", "exp", "log", "sin", "tanh", "relu", "pow"}
