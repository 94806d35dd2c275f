"""The `autodiff` graders' messages (tests/test_fixtures.py runs the known-wrong files)."""

from __future__ import annotations

import torch

from dlgrade.core.manifest import Course
from dlgrade.kit import graphs
from tests.support import (
    grade_folder,
    variant,
    with_appended,
)


def _grade(course: Course, stem: str, tmp_path, *names: str):
    v = variant("autodiff", stem)
    return grade_folder(course, with_appended(course, v.module, v.path, tmp_path), *names)


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


def test_random_graphs_have_every_layout() -> None:
    """Inputs anywhere and out of order, repeated, unused, relu at exactly 0 (over x_k - x_k)."""
    graph, x = graphs.random_graph(11, 60, 3000)
    ks = [n[1] for n in graph if n[0] == "input"]
    positions = [i for i, n in enumerate(graph) if n[0] == "input"]
    assert positions[-1] > 1000 and ks != sorted(ks)
    assert len(ks) > len(set(ks)) and 0 < 60 - len(set(ks)) < 60
    y, g = graphs.torch_grad(graph, x)
    unused = sorted(set(range(60)) - set(ks))
    assert torch.isfinite(y) and (g[unused] == 0).all()
    vals = {}
    at_zero = [
        i
        for i, n in enumerate(graph)
        if n[0] == "relu" and graph[n[1]][0] == "sub" and graph[graph[n[1]][2]][0] == "const"
    ]
    assert at_zero
    for i in at_zero:
        sub = graph[graph[i][1]]
        k = graph[sub[1]][1]
        vals[i] = float(x[k]) - graph[sub[2]][1]
    assert set(vals.values()) == {0.0}


def test_the_expected_directional_derivative_is_torch_func_jvp() -> None:
    """graphs.torch_jvp (autograd's gradient dotted with v, cheap at grading time) equals
    torch.func.jvp (forward mode) on random graphs with real-valued directions."""
    from torch.func import jvp

    for seed, (n_in, n_nodes) in enumerate([(3, 25), (7, 50), (20, 400)]):
        graph, x = graphs.random_graph(seed, n_in, n_nodes)
        v = torch.randn(n_in, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
        y, dy = graphs.torch_jvp(graph, x, v)
        fy, fdy = jvp(lambda t: graphs.evaluate(graph, t), (x,), (v,))  # noqa: B023
        torch.testing.assert_close((y, dy), (fy, fdy), rtol=1e-10, atol=1e-12)


def test_the_expected_side_evaluates_a_graph_once_for_its_directions(monkeypatch) -> None:
    """torch_jvp keeps one graph's gradient for the next direction on the same graph and point,
    and computes it again for another graph, another point, or a point changed in place."""
    calls = []
    real = graphs.torch_grad
    monkeypatch.setattr(graphs, "torch_grad", lambda g, x: calls.append(1) or real(g, x))
    graph, x = graphs.random_graph(5, 6, 60)
    vs = [torch.eye(6, dtype=torch.float64)[0], torch.ones(6, dtype=torch.float64)]
    got = [graphs.torch_jvp(graph, x, v) for v in vs]
    assert len(calls) == 1
    for v, (y, dy) in zip(vs, got, strict=True):
        y0, g0 = real(graph, x)
        torch.testing.assert_close((y, dy), (y0, (g0 * v).sum()), rtol=0, atol=0)
    graphs.torch_jvp(list(graph), x, vs[0])  # an equal copy of the graph: computed afresh
    graphs.torch_jvp(graph, x.clone(), vs[0])
    graphs.torch_jvp(graph, x, vs[0])
    assert len(calls) == 4
    x.mul_(0.5)  # the same tensor, changed
    y, dy = graphs.torch_jvp(graph, x, vs[1])
    assert len(calls) == 5
    torch.testing.assert_close(dy, (real(graph, x)[1] * vs[1]).sum(), rtol=0, atol=0)
