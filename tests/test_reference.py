"""The model solutions agree with torch's built-ins (or an independent formula) on every case
their graders ask them about, values and gradients, float32 and float64.

The graders take every expected value from the model solutions; this pins those answers, so
that "the reference gets full marks" means something. The cases are the graders' own: the
model solutions are graded while every question to them is recorded (tests/recording.py).
A new topic's exercise needs an entry in COUNTERPARTS once its grader asks the reference.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from dlgrade.core.manifest import Course, load_course
from dlgrade.engine.oracle import Oracle, select_output
from dlgrade.engine.references import ModuleLoader
from tests.recording import OracleCall
from tests.shared import Shared
from tests.support import ROOT

COURSE = load_course(ROOT)
TOPICS = [t.id for t in COURSE.topics]


def _scores(Q: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return Q @ K.transpose(-1, -2) / math.sqrt(Q.shape[-1])


def _running(x, running_mean, running_var, momentum=0.1):
    mean, var = running_mean.clone(), running_var.clone()
    F.batch_norm(x, mean, var, training=True, momentum=momentum)  # updates mean and var in place
    return mean, var


def _bn2d_eval(x, running_mean, running_var, gamma, beta, eps=1e-5):
    """nn.BatchNorm2d(C).eval() holding those buffers and parameters."""
    bn = torch.nn.BatchNorm2d(x.shape[1], eps=eps).to(dtype=x.dtype, device=x.device).eval()
    with torch.no_grad():
        bn.running_mean.copy_(running_mean)
        bn.running_var.copy_(running_var)
        bn.weight.copy_(gamma)
        bn.bias.copy_(beta)
        return bn(x)


def _mlp(x, W1, b1, W2, b2, activation):
    """nn.Sequential(Linear, ReLU/Sigmoid/Tanh, Linear) holding those weights: (out, hidden)."""
    act = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}[activation]
    net = torch.nn.Sequential(
        torch.nn.Linear(W1.shape[0], W1.shape[1]), act(), torch.nn.Linear(W2.shape[0], W2.shape[1])
    ).to(dtype=x.dtype, device=x.device)
    with torch.no_grad():
        net[0].weight.copy_(W1.T)
        net[0].bias.copy_(b1)
        net[2].weight.copy_(W2.T)
        net[2].bias.copy_(b2)
        hidden = net[1](net[0](x))
        return net(x), hidden


def _clip(grads, max_norm, eps=1e-6):
    """torch.nn.utils.clip_grad_norm_ on float64 copies; torch's factor is
    max_norm / (total + 1e-6), so another eps is folded into the norm it is handed."""
    params = [torch.nn.Parameter(torch.empty_like(g, dtype=torch.float64)) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = g.detach().double().clone()
    total = float(torch.nn.utils.get_total_norm([p.grad for p in params]))
    torch.nn.utils.clip_grads_with_norm_(params, max_norm, torch.tensor(total + eps - 1e-6))
    return [p.grad.to(g.dtype) for p, g in zip(params, grads, strict=True)], total


def _attention(Q, K, V):
    weights = torch.softmax(_scores(Q, K), dim=-1)
    return weights @ V, weights


# exercise id -> (torch's version, whether the model solution returns (out, cache))
COUNTERPARTS: dict[str, tuple[Callable[..., Any], bool]] = {
    "logsumexp": (lambda x, dim=-1, keepdim=False: torch.logsumexp(x, dim, keepdim), False),
    "stable_softmax": (lambda x, dim=-1: torch.softmax(x, dim), False),
    "log_softmax": (lambda x, dim=-1: torch.log_softmax(x, dim), False),
    "clip_grad_norm": (_clip, False),
    "collapse_linear": (lambda W1, b1, W2, b2: (W2 @ W1, W2 @ b1 + b2), False),
    "affine_forward": (lambda x, W, b: x.reshape(x.shape[0], -1) @ W + b, True),
    "relu_forward": (torch.relu, True),
    "sigmoid_forward": (torch.sigmoid, True),
    "batchnorm_forward": (
        lambda x, g, b, eps=1e-5: F.batch_norm(x, None, None, g, b, training=True, eps=eps),
        True,
    ),
    "batchnorm2d_forward": (
        lambda x, g, b, eps=1e-5: F.batch_norm(x, None, None, g, b, training=True, eps=eps),
        True,
    ),
    "batchnorm_inference": (
        lambda x, g, b, rm, rv, eps=1e-5: F.batch_norm(x, rm, rv, g, b, training=False, eps=eps),
        False,
    ),
    "batchnorm_running_stats": (_running, False),
    "batchnorm2d_inference": (_bn2d_eval, False),
    "prelu_forward": (lambda x, alpha: F.prelu(x, alpha), True),
    "tanh_forward": (torch.tanh, True),
    "swish_forward": (lambda x, beta: x * torch.sigmoid(beta * x), True),
    "mlp_forward": (_mlp, False),
    "layernorm_forward": (
        lambda x, g, b, eps=1e-5: F.layer_norm(x, (x.shape[-1],), g, b, eps=eps),
        True,
    ),
    "residual_forward": (lambda x, W, b: torch.tanh(x @ W + b) + x, True),
    "matvec": (lambda A, x: A @ x, False),
    "matmul": (lambda A, B: A @ B, False),
    "trace": (torch.trace, False),
    "outer": (torch.outer, False),
    "batch_matmul": (torch.bmm, False),
    "batch_trace": (lambda A: A.diagonal(dim1=-2, dim2=-1).sum(-1), False),
    "attention_scores": (_scores, False),
    "attention": (_attention, False),
    "bilinear": (lambda x, A, y: x @ A @ y, False),
    "batch_bilinear": (lambda X, A, Y: ((X @ A) * Y).sum(-1), False),
    "contract_4d": (lambda A, B: torch.tensordot(A, B, dims=2), False),
    "multihead_scores": (_scores, False),
    "nchw_to_nhwc": (lambda x: x.permute(0, 2, 3, 1), False),
    "spatial_mean": (lambda x: x.mean(dim=(2, 3)), False),
    "channel_normalize": (
        lambda x, eps=1e-5: F.batch_norm(x, None, None, training=True, eps=eps),
        False,
    ),
}


def _torch_grad(fn: Callable[..., Any], call: OracleCall, cached: bool) -> tuple[Any, ...]:
    wrt = call.wrt or (0,)
    leaves = [
        a.detach().clone().requires_grad_(i in wrt) if isinstance(a, torch.Tensor) else a
        for i, a in enumerate(call.args)
    ]
    value = fn(*leaves, **call.kwargs)
    out = value if cached else select_output(value, call.output)
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
    oracle = Oracle(loader.module(course.topic(topic).module))
    compared: dict[str, set[str]] = {}
    for log in rec.checks.values():
        for call in log.oracle:
            if call.fn not in exercises:
                continue  # a given helper (irony_of_spec_data), not an answer
            assert call.fn in COUNTERPARTS, f"{call.fn}: no torch counterpart to pin it against"
            fn, cached = COUNTERPARTS[call.fn]
            what = f"{log.exercise} / {log.name} / {call.fn}"
            if call.wrt is None:
                ours = getattr(oracle, call.fn)(*call.args, **call.kwargs)
                _compare(ours[0] if cached else ours, fn(*call.args, **call.kwargs), what)
            else:
                ours = oracle.grad(
                    call.fn,
                    *call.args,
                    wrt=call.wrt,
                    grad_output=call.grad_output,
                    output=call.output,
                    **call.kwargs,
                )
                _compare(tuple(ours.grads), _torch_grad(fn, call, cached), f"{what} (gradient)")
            dtypes = {str(t.dtype) for t in _tensors(call.args) if t.is_floating_point()}
            compared.setdefault(call.fn, set()).update(dtypes)
    for fn, dtypes in compared.items():
        assert {"torch.float32", "torch.float64"} <= dtypes, (fn, dtypes)
