"""Graders for topic `normalization`: layer norm and a residual block, forward and backward.

Forwards are compared with the model solutions (float32 and float64, default tolerances); a
backward is fed the cache of the student's own forward and compared with autograd through
the model forward in float64 and with centered differences (dlgrade.kit.backprop). The model
solutions are tested against F.layer_norm and autograd in tests/test_reference.py.
"""

from __future__ import annotations

from typing import Any

import torch

from dlgrade.kit import backprop
from dlgrade.kit.backprop import Layer
from dlgrade.kit.cases import Case, label, randn, seed_for
from dlgrade.kit.checks import check

F32, F64 = torch.float32, torch.float64
LN = Layer("layernorm_forward", "layernorm_backward", ("dx", "dgamma", "dbeta"), (0, 1, 2))
RES = Layer("residual_forward", "residual_backward", ("dx", "dW", "db"), (0, 1, 2))


def rows(
    what: str, n: int, d: int, dtype: torch.dtype, device: str, *, spread: float = 3.0, **kw: Any
) -> Case:
    """x (n, d) with a different offset per row (so the batch axis and the feature axis give
    different statistics), gamma and beta (d,)."""
    seed = seed_for("layernorm", what, n, d, dtype, spread, sorted(kw.items()))
    offset = randn((n, 1), seed=seed, dtype=F64, scale=4.0)
    x = (randn((n, d), seed=seed + 1, dtype=F64, scale=spread) + offset).to(dtype=dtype, device=device)
    gamma = randn((d,), seed=seed + 2, dtype=dtype, shift=1.0, device=device)
    beta = randn((d,), seed=seed + 3, dtype=dtype, device=device)
    return Case(label(x, what, **kw), (x, gamma, beta), dict(kw), dims={"N": n, "D": d})


def block(what: str, n: int, d: int, dtype: torch.dtype, device: str, *, scale: float = 1.0) -> Case:
    """x (n, d), W (d, d) (not symmetric, so a transposed W shows), b (d,)."""
    seed = seed_for("residual", what, n, d, dtype, scale)
    x = randn((n, d), seed=seed, dtype=dtype, scale=scale, device=device)
    w = randn((d, d), seed=seed + 1, dtype=dtype, scale=d**-0.5, device=device)
    b = randn((d,), seed=seed + 2, dtype=dtype, scale=0.5, device=device)
    return Case(f"{label(x, what)}, W of shape {(d, d)}", (x, w, b), dims={"N": n, "D": d})


RANDOM = [(3, 5, F64), (4, 7, F32), (6, 4, F64), (2, 9, F32)]


# --- layer norm ---------------------------------------------------------------------------


@check(
    "layernorm_forward",
    "normalises each row over its features",
    points=3,
    hint="mean and biased variance along dim 1 (keepdim=True), not dim 0: each example alone",
)
def test_layernorm_forward(student, reference, device):
    backprop.forward_agrees(
        student, reference, LN, [rows("random input", n, d, dt, device) for n, d, dt in RANDOM]
    )


@check(
    "layernorm_forward",
    "a batch of one row, and eps inside the square root",
    points=1,
    hint="a single row has its own D features to average over; eps goes inside: sqrt(var + eps)",
)
def test_layernorm_forward_edge(student, reference, device):
    cases = [
        rows("a batch of one", 1, 6, F64, device),
        rows("nearly constant rows", 3, 5, F64, device, spread=1e-3, eps=1e-2),
    ]
    backprop.forward_agrees(student, reference, LN, cases)


@check(
    "layernorm_forward",
    "leaves x, gamma and beta unchanged",
    points=1,
    hint="x -= mean changes the caller's x: build new tensors",
    hint_when=("modified",),
)
def test_layernorm_forward_inplace(student, reference, device):
    cases = [rows("random input", 4, 5, F64, device)]
    backprop.forward_agrees(student, reference, LN, cases, unmodified=True, arg_names=("x", "gamma", "beta"))


@check("layernorm_forward", "agrees on larger inputs", points=1, hidden=True)
def test_layernorm_forward_hidden(student, reference, device):
    cases = [rows("large", 32, 48, F64, device), rows("large", 7, 3, F32, device, spread=50.0)]
    backprop.forward_agrees(student, reference, LN, cases)


@check(
    "layernorm_backward",
    "dx, dgamma, dbeta equal autograd (float64)",
    points=3,
    hint="dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sqrt(var + eps), means over dim 1; "
    "dgamma and dbeta sum over dim 0",
)
def test_layernorm_backward(student, reference, device):
    cases = [rows("random input", n, d, F64, device) for n, d, _ in RANDOM[:3]]
    backprop.backward_agrees(student, reference, LN, cases)


@check(
    "layernorm_backward",
    "a batch of one row (float64)",
    points=1,
    hint="with N = 1, dgamma = (dout * x_hat)[0] and dbeta = dout[0]; dx keeps three paths within the row",
)
def test_layernorm_backward_one_row(student, reference, device):
    backprop.backward_agrees(student, reference, LN, [rows("a batch of one", 1, 6, F64, device)])


@check(
    "layernorm_backward",
    "passes the gradient check (centered differences)",
    points=1,
    hint="a relative error above 1e-5 means the formula, not rounding, is off",
)
def test_layernorm_backward_numeric(student, reference, device):
    backprop.gradient_check(student, reference, LN, [rows("small input", 3, 4, F64, device)])


@check(
    "layernorm_backward",
    "float32 inputs give float32 gradients",
    points=1,
    hint="build the gradients from dout and the cache only; don't convert to float64",
    hint_when=("dtype",),
)
def test_layernorm_backward_float32(student, reference, device):
    backprop.backward_agrees(student, reference, LN, [rows("random input", 4, 7, F32, device)])


@check(
    "layernorm_backward",
    "another eps: the forward's, through the cache (float64)",
    points=1,
    hint="the backward has no eps argument: keep 1 / sqrt(var + eps) from the forward in the cache",
)
def test_layernorm_backward_eps(student, reference, device):
    backprop.backward_agrees(student, reference, LN, [rows("random input", 4, 5, F64, device, eps=0.5)])


@check("layernorm_backward", "agrees on float32 and larger inputs", points=1, hidden=True)
def test_layernorm_backward_hidden(student, reference, device):
    cases = [rows("large", 24, 40, F64, device), rows("large", 5, 6, F32, device)]
    backprop.backward_agrees(student, reference, LN, cases)


# --- residual block -----------------------------------------------------------------------


@check(
    "residual_forward",
    "tanh(x @ W + b) + x",
    points=2,
    hint="compute the block F(x) = tanh(x @ W + b) and add x itself back",
)
def test_residual_forward(student, reference, device):
    backprop.forward_agrees(
        student, reference, RES, [block("random input", n, d, dt, device) for n, d, dt in RANDOM]
    )


@check(
    "residual_forward",
    "leaves x, W and b unchanged",
    points=1,
    hint="out = F; out += x is fine, x += F is not: it changes the caller's x",
    hint_when=("modified",),
)
def test_residual_forward_inplace(student, reference, device):
    cases = [block("random input", 3, 4, F64, device)]
    backprop.forward_agrees(student, reference, RES, cases, unmodified=True, arg_names=("x", "W", "b"))


@check("residual_forward", "agrees on larger inputs", points=1, hidden=True)
def test_residual_forward_hidden(student, reference, device):
    cases = [block("large", 16, 32, F64, device, scale=3.0), block("large", 1, 5, F32, device)]
    backprop.forward_agrees(student, reference, RES, cases)


@check(
    "residual_backward",
    "dx carries the identity path: dx, dW, db equal autograd (float64)",
    points=3,
    hint="y = F(x) + x, so dx = dz @ W.T + dout: the skip connection adds dout itself to dx",
)
def test_residual_backward(student, reference, device):
    cases = [block("random input", n, d, F64, device) for n, d, _ in RANDOM[:3]]
    backprop.backward_agrees(student, reference, RES, cases)


@check(
    "residual_backward",
    "passes the gradient check (centered differences)",
    points=1,
    hint="dz = dout * (1 - tanh**2); dW = x.T @ dz and db = dz summed over the batch",
)
def test_residual_backward_numeric(student, reference, device):
    backprop.gradient_check(student, reference, RES, [block("small input", 3, 4, F64, device)])


@check(
    "residual_backward",
    "float32 inputs give float32 gradients",
    points=1,
    hint="build the gradients from dout and the cache only; don't convert to float64",
    hint_when=("dtype",),
)
def test_residual_backward_float32(student, reference, device):
    backprop.backward_agrees(student, reference, RES, [block("random input", 4, 7, F32, device)])


@check("residual_backward", "agrees on float32 and larger inputs", points=1, hidden=True)
def test_residual_backward_hidden(student, reference, device):
    cases = [block("large", 12, 20, F64, device, scale=2.0), block("large", 5, 6, F32, device)]
    backprop.backward_agrees(student, reference, RES, cases)
