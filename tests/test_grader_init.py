"""The `init` graders' messages (tests/test_fixtures.py runs the known-wrong files)."""

from __future__ import annotations

import torch

from dlgrade.core.manifest import Course
from dlgrade.kit import sampling
from tests.support import (
    grade_folder,
    variant,
    with_appended,
)


def _grade(course: Course, stem: str, tmp_path, *names: str):
    v = variant("init", stem)
    return grade_folder(course, with_appended(course, v.module, v.path, tmp_path), *names)


def test_global_rng_is_told_to_use_the_generator(course: Course, tmp_path) -> None:
    ex = _grade(course, "global_rng", tmp_path, "xavier_normal").exercises[0]
    check = next(c for c in ex.checks if c.name == "every draw comes from `generator`")
    assert "draw from `generator`, not from the global RNG" in check.message


def test_fan_out_is_reported_with_the_formula(course: Course, tmp_path) -> None:
    ex = _grade(course, "he_fan_out", tmp_path, "he_normal").exercises[0]
    check = next(c for c in ex.checks if c.name.startswith("mean 0 and variance"))
    assert "Var(W) = 2 / n_in = 0.01667" in check.message and "probability 1 - 1e-10" in check.message


def test_the_bounds_hold_for_correct_samplers_over_many_seeds() -> None:
    """The statistics a correct sampler is judged by stay inside their bounds on 200 seeds
    (each bound is left with probability below 1e-10, so a failure here is a wrong bound)."""
    for seed in range(200):
        g = torch.Generator().manual_seed(seed)
        w = torch.randn(120, 250, generator=g, dtype=torch.float64)
        lo, hi = sampling.normal_square_mean_bounds(w.numel(), 1.0)
        assert lo <= float((w * w).mean()) <= hi
        assert abs(float(w.mean())) <= sampling.normal_mean_bound(w.numel(), 1.0)
        assert sampling.ks_distance(w, sampling.normal_cdf(1.0)) <= sampling.dkw_epsilon(w.numel())
        u = torch.rand(120, 250, generator=g, dtype=torch.float64) * 2 - 1
        assert sampling.ks_distance(u, sampling.uniform_cdf(1.0)) <= sampling.dkw_epsilon(u.numel())


def test_the_bounds_reject_the_lessons_mistakes() -> None:
    """He with fan_out (std x0.82) and a normal posing as uniform are at least twice the bound away."""
    w = torch.randn(120, 250, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    eps = sampling.dkw_epsilon(w.numel())
    assert sampling.ks_distance(w * (120 / 250) ** 0.5, sampling.normal_cdf(1.0)) > 2 * eps
    assert sampling.ks_distance(w / 3**0.5, sampling.uniform_cdf(1.0)) > 2 * eps


def test_nn_init_reached_at_run_time_is_forbidden(course: Course, tmp_path) -> None:
    ex = _grade(course, "nn_init_dynamic", tmp_path, "he_normal").exercises[0]
    assert (ex.status, ex.score) == ("error", 0) and "builds a name at run time" in ex.message
