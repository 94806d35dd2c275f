"""The model solutions agree with torch's built-ins (or an independent formula) on every case
their graders ask them about, values and gradients, float32 and float64.

The graders take every expected value from the model solutions; this pins those answers, so
that "the reference gets full marks" means something. The cases are the graders' own: the
model solutions are graded while every question to them is recorded (tests/recording.py).
Each exercise's counterpart is declared beside its model solution, in COUNTERPARTS of
reference/<module>_torch.py: a new exercise needs an entry there once its grader asks the
reference, and no edit here.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from typing import Any

import pytest
import torch

from dlgrade.core.manifest import Course, load_course
from dlgrade.dev.check import COUNTERPART_SUFFIX
from dlgrade.engine.oracle import Oracle, select_output
from dlgrade.engine.references import ModuleLoader
from dlgrade.kit import experiments
from tests.recording import OracleCall
from tests.shared import Shared
from tests.support import ROOT

COURSE = load_course(ROOT)
TOPICS = [t.id for t in COURSE.topics]


def counterparts(course: Course, module: str) -> dict[str, Callable[..., Any]]:
    """COUNTERPARTS of reference/<module>_torch.py, declared beside the model solution ({} without one)."""
    path = course.reference_dir() / f"{module}{COUNTERPART_SUFFIX}.py"
    if not path.is_file():
        return {}
    spec = importlib.util.spec_from_file_location(f"dlgrade_counterparts_{module}", path)
    assert spec is not None and spec.loader is not None
    namespace = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(namespace)
    table = namespace.COUNTERPARTS
    assert isinstance(table, dict), f"{path.name}: COUNTERPARTS must be a dict (exercise id -> function)"
    return table


def _torch_grad(fn: Callable[..., Any], call: OracleCall) -> tuple[Any, ...]:
    wrt = call.wrt or (0,)
    leaves = [
        a.detach().clone().requires_grad_(i in wrt) if isinstance(a, torch.Tensor) else a
        for i, a in enumerate(call.args)
    ]
    value = fn(*leaves, **call.kwargs)
    out = value if isinstance(value, torch.Tensor) else select_output(value, call.output)
    target = out.sum() if call.grad_output is None else (out * call.grad_output).sum()
    return torch.autograd.grad(target, [leaves[i] for i in wrt], allow_unused=True)


def _tensors(args: Any) -> list[torch.Tensor]:
    """The tensors among the arguments, inside lists and tuples too (clip_grad_norm's grads)."""
    if isinstance(args, torch.Tensor):
        return [args]
    if isinstance(args, tuple | list):
        return [t for a in args for t in _tensors(a)]
    return []


def _compare(got: Any, expected: Any, what: str) -> None:
    if isinstance(expected, tuple | list):
        assert isinstance(got, tuple | list) and len(got) == len(expected), what
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            _compare(g, e, f"{what}[{i}]")
        return
    torch.testing.assert_close(got, expected, equal_nan=True, msg=lambda m: f"{what}: {m}")


@pytest.mark.parametrize("topic", TOPICS)
def test_reference_agrees_with_torch_on_the_graders_cases(course: Course, topic: str, shared: Shared) -> None:
    rec = shared.recording(course, topic)  # the fairness tests' recording, made once a session
    assert rec.result is not None and rec.result.score == rec.result.max_score
    exercises = {e.id for e in course.exercises}
    loader = ModuleLoader(course.reference_dir(), prefix="dlgrade_reference_pinned")
    module = course.topic(topic).module
    oracle = Oracle(loader.module(module))
    table = counterparts(course, module)
    stray = set(table) - {e.id for e in course.topic(topic).exercises}
    assert not stray, (
        f"reference/{module}{COUNTERPART_SUFFIX}.py: COUNTERPARTS names no exercise of {topic}: {stray}"
    )
    compared: dict[str, set[str]] = {}
    for log in rec.checks.values():
        for call in log.oracle:
            if call.fn not in exercises:
                continue  # a given helper (irony_of_spec_data), not an answer
            assert call.fn in table, f"{call.fn}: no counterpart in reference/{module}{COUNTERPART_SUFFIX}.py"
            fn = table[call.fn]
            what = f"{log.exercise} / {log.name} / {call.fn}"
            if call.wrt is None:
                ours, theirs = (
                    getattr(oracle, call.fn)(*call.args, **call.kwargs),
                    fn(*call.args, **call.kwargs),
                )
                cached = isinstance(theirs, torch.Tensor) and isinstance(ours, tuple)  # (out, cache)
                _compare(ours[0] if cached else ours, theirs, what)
            else:
                ours = oracle.grad(
                    call.fn,
                    *call.args,
                    wrt=call.wrt,
                    grad_output=call.grad_output,
                    output=call.output,
                    **call.kwargs,
                )
                _compare(tuple(ours.grads), _torch_grad(fn, call), f"{what} (gradient)")
            dtypes = {str(t.dtype) for t in _tensors(call.args) if t.is_floating_point()}
            compared.setdefault(call.fn, set()).update(dtypes)
    for fn, dtypes in compared.items():
        assert {"torch.float32", "torch.float64"} <= dtypes, (fn, dtypes)


def _depth_norms_by_func(depth=50, width=64, n=32, residual=False, seed=0) -> torch.Tensor:
    """depth_gradient_norms with torch.func: a zero offset added to every layer's input and to
    the output; the gradient of the sum of the last h with respect to each offset is dL/dh there."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, width, generator=g)
    ws = [torch.randn(width, width, generator=g) / math.sqrt(width) for _ in range(depth)]

    def loss(offsets: list[torch.Tensor]) -> torch.Tensor:
        h = x + offsets[0]
        for w, offset in zip(ws, offsets[1:], strict=True):
            h = torch.tanh(h @ w) + (h if residual else 0) + offset
        return h.sum()

    grads = torch.func.grad(loss)([torch.zeros(n, width) for _ in range(depth + 1)])
    return torch.stack([gr.norm() for gr in grads])


DEPTH_RUNS = [
    {},
    {"seed": 4},
    {"depth": 7, "width": 24, "n": 5, "seed": 3},
    {"depth": 12, "width": 40, "n": 9, "seed": 11},
    {"depth": 30, "width": 48, "n": 20, "seed": 21},
    {"depth": 1, "width": 3, "n": 1, "seed": 5},
]


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("kw", DEPTH_RUNS)
def test_depth_gradient_norms_agree_with_torch_func(kw: dict[str, int], residual: bool) -> None:
    """The model solution's backward by hand, and the grader's re-run by autograd
    (dlgrade.kit.experiments), against torch.func on the graders' arguments: float32, depth + 1
    norms, within a relative 1e-5 (the grader allows 1e-4; they agree within 1e-6)."""
    oracle = Oracle(
        ModuleLoader(ROOT / "reference", prefix="dlgrade_reference_depth").module("normalization")
    )
    ours = oracle.depth_gradient_norms(residual=residual, **kw)
    want = _depth_norms_by_func(residual=residual, **kw)
    assert ours.dtype == torch.float32 and ours.shape == (kw.get("depth", 50) + 1,)
    torch.testing.assert_close(ours, want, rtol=1e-5, atol=0)
    rerun = experiments.depth_gradient_norms(residual=residual, **kw)  # what the grader judges against
    torch.testing.assert_close(rerun, want.double(), rtol=1e-5, atol=0)
    assert float(ours[-1]) == pytest.approx(math.sqrt(kw.get("n", 32) * kw.get("width", 64)), rel=1e-6)


def _autograd_gradient_variances(
    init_module: Any, init: str, depth: int = 10, width: int = 100, n: int = 1000, seed: int = 0
) -> torch.Tensor:
    """gradient_variances' experiment with autograd: the same draws (x, each W from the model
    solution's initialisers, then d from the same generator), each layer's input gradient of
    <h_depth, d> by backward; the variances from the top (d itself) to the network's input."""
    g = torch.Generator().manual_seed(seed)
    hs = [torch.randn(n, width, generator=g).requires_grad_(True)]
    for _ in range(depth):
        hs[-1].retain_grad()
        hs.append(torch.relu(hs[-1] @ init_module.INITS[init](width, width, g)))
    d = torch.randn(n, width, generator=g)
    hs[-1].backward(d)
    return torch.stack([d.var()] + [h.grad.var() for h in reversed(hs[:-1])])


@pytest.mark.parametrize("init", ["xavier_uniform", "xavier_normal", "he_normal", "random_0.01"])
@pytest.mark.parametrize("kw", [{}, {"depth": 3, "width": 50, "n": 200, "seed": 7}], ids=["default", "small"])
def test_gradient_variances_agree_with_autograd_on_the_same_draws(
    course: Course, init: str, kw: dict
) -> None:
    """The model solution's hand-written backward equals autograd's through the same network:
    the grader re-runs the experiment itself (graders/test_init.py), so this pins the rule
    d = (d * (z > 0)) @ W.T and the order of the variances that grader teaches."""
    init_module = ModuleLoader(course.reference_dir(), prefix="dlgrade_reference_pinned").module("init")
    ours = init_module.gradient_variances(init, **kw)
    assert ours.shape == (kw.get("depth", 10) + 1,) and ours.dtype == torch.float32
    torch.testing.assert_close(ours, _autograd_gradient_variances(init_module, init, **kw), rtol=1e-5, atol=0)
