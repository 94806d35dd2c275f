"""Graders for topic `normalization`: layer norm and a residual block, forward and backward.

Forwards are compared with the model solutions (float32 and float64, default tolerances); a
backward is fed the cache of the student's own forward and compared with autograd through
the model forward in float64 and with centered differences (dlgrade.kit.backprop). The model
solutions are tested against F.layer_norm and autograd in tests/test_reference.py.
`depth_gradient_norms` is judged exactly, as layer_variances is: against the experiment re-run
in the grading process with torch's autograd (dlgrade.kit.experiments), within a relative 1e-4;
its behaviour checks teach what the lesson shows (see the section below).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from dlgrade.core.calls import Request
from dlgrade.engine.student import StudentModule
from dlgrade.kit import backprop, experiments
from dlgrade.kit.backprop import Layer
from dlgrade.kit.cases import Case, label, randn, seed_for
from dlgrade.kit.checks import check, expect_tensor, fail

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


# --- depth_gradient_norms: the plain-vs-residual experiment ---------------------------------
# Judged exactly, as layer_variances is: the norms must equal, within a relative NORM_RTOL, the
# experiment re-run here with torch's own functions (autograd, dlgrade.kit.experiments) on
# the same draws. Different correct ways (autograd, retain_grad, a manual backward) agree
# within 1e-6 in float32; every mistake in the draws, the scale of W, the loss or the order
# of the norms is off by far more. The behaviour checks teach what the lesson shows: the
# output's gradient is all ones (its norm sqrt(n * width)); a plain stack of 50 layers
# shrinks it on the way down (over 40 seeds the input's norm is 0.015 to 0.23 of the
# output's), a residual one grows it (x33 to x47).

NORM_RTOL = 1e-4
SHRUNK = 1 / 3  # plain, depth 50: the input's norm below a third of the output's


def norms(
    student: StudentModule, runs: list[dict[str, Any]], *, float32: bool = False
) -> list[tuple[str, dict, torch.Tensor]]:
    """The student's norms for each keyword set, checked to be depth + 1 finite values (and,
    with `float32`, float32: only the shape check judges the dtype; the others judge values)."""
    out = []
    for kw, call in zip(
        runs, student.calls("depth_gradient_norms", [Request((), kw) for kw in runs]), strict=True
    ):
        depth = kw.get("depth", 50)
        case = f"depth_gradient_norms({', '.join(f'{k}={v}' for k, v in kw.items())})"
        v = expect_tensor(call.value, case=case, what="the norms")
        if tuple(v.shape) != (depth + 1,):
            fail(
                f"{case}: expected {depth + 1} norms (the input of each of {depth} layers, then the "
                f"output); got a tensor of shape {tuple(v.shape)}",
                "the norms have the wrong shape",
                "shape",
            )
        if (float32 or not v.is_floating_point()) and v.dtype != torch.float32:
            fail(
                f"{case}: the norms are {str(v.dtype).removeprefix('torch.')}; the experiment runs in "
                "float32 (torch.randn's default), so its norms are float32",
                "the norms are not float32",
                "dtype",
            )
        if not bool(torch.isfinite(v).all()):
            fail(f"{case}: got a norm that is not finite: {v.tolist()}", "a norm is not finite", "nonfinite")
        out.append((case, kw, v.detach().cpu().to(torch.float64)))
    return out


def equal_experiment(student: StudentModule, runs: list[dict[str, Any]]) -> None:
    """The student's norms equal the re-run experiment's within a relative NORM_RTOL."""
    for kw, (case, _, v) in zip(runs, norms(student, runs), strict=True):
        want = experiments.depth_gradient_norms(**kw)
        err = ((v - want).abs() / want.abs()).nan_to_num(nan=math.inf)
        if float(err.max()) > NORM_RTOL:
            i, depth = int(err.argmax()), kw.get("depth", 50)
            where = (
                "the input (index 0)"
                if i == 0
                else "the output"
                if i == depth
                else f"the input of layer {i + 1}"
            )
            fail(
                f"{case}: the gradient's norm at {where} is {float(v[i]):.6g}; the experiment re-run with "
                f"torch (x, then each W / sqrt(width) in layer order from one generator seeded with seed, "
                f"loss = the sum of the last h, float32) gives {float(want[i]):.6g} (relative difference "
                f"{float(err[i]):.2g}; tolerance {NORM_RTOL:g})",
                "the norms differ from the experiment re-run with torch",
            )


@check(
    "depth_gradient_norms",
    "depth + 1 finite float32 norms",
    points=1,
    hint="one norm per layer input (depth of them) and one for the output: depth + 1; stay in float32",
    hint_when=("shape", "dtype", "type", "nonfinite"),
)
def test_depth_norms_shape(student, reference, device):
    norms(student, [{}, {"residual": True}, {"depth": 3, "width": 5, "n": 2, "seed": 1}], float32=True)


@check(
    "depth_gradient_norms",
    "the output's gradient is all ones: its norm is sqrt(n * width)",
    points=1,
    hint="loss = h.sum() gives dL/dh = 1 for every entry of the last h; the last entry is that gradient's "
    "norm, the first the input's",
    hint_when=("value",),
)
def test_depth_norms_output(student, reference, device):
    for case, kw, v in norms(student, [{}, {"residual": True, "depth": 6, "width": 10, "n": 3}]):
        want = math.sqrt(kw.get("n", 32) * kw.get("width", 64))
        if abs(float(v[-1]) / want - 1) > NORM_RTOL:
            fail(
                f"{case}: the last norm (the output's gradient) is {float(v[-1]):.6g}; the gradient of the "
                f"sum of the last h is all ones, whose 2-norm is sqrt(n * width) = {want:.6g}",
                "the output's gradient norm is not sqrt(n * width)",
            )


@check(
    "depth_gradient_norms",
    "a plain stack shrinks the gradient on the way down",
    points=1,
    hint="without the skip, each layer multiplies the gradient by tanh'(z) <= 1 and W.T: by the input "
    "it is a fraction of the output's",
    hint_when=("value",),
)
def test_depth_norms_plain(student, reference, device):
    for case, _, v in norms(student, [{}, {"seed": 4}]):
        if not float(v[0]) < SHRUNK * float(v[-1]):
            fail(
                f"{case}: the gradient's norm at the input is {float(v[0]):.4g}, at the output "
                f"{float(v[-1]):.4g}; through 50 plain tanh layers it shrinks far below (under a third)",
                "a plain stack does not shrink the gradient",
            )


@check(
    "depth_gradient_norms",
    "a residual stack keeps or grows the gradient",
    points=1,
    hint="with h = tanh(h @ W) + h, each layer's Jacobian is I + (its layer's): the identity carries "
    "the gradient down untouched",
    hint_when=("value",),
)
def test_depth_norms_residual(student, reference, device):
    for case, _, v in norms(student, [{"residual": True}, {"residual": True, "seed": 4}]):
        if not float(v[0]) >= float(v[-1]):
            fail(
                f"{case}: the gradient's norm at the input is {float(v[0]):.4g}, at the output "
                f"{float(v[-1]):.4g}; the skip connection keeps it from shrinking on the way down",
                "a residual stack shrinks the gradient",
            )


@check(
    "depth_gradient_norms",
    "the norms equal the experiment re-run with torch",
    points=3,
    hint="one g = torch.Generator().manual_seed(seed); x = torch.randn(n, width, generator=g) first, then "
    "each layer's W = torch.randn(width, width, generator=g) / sqrt(width) in order; loss = the last h's sum",
    hint_when=("value",),
)
def test_depth_norms_exact(student, reference, device):
    equal_experiment(
        student,
        [
            {},
            {"residual": True},
            {"depth": 7, "width": 24, "n": 5, "residual": True, "seed": 3},
            {"depth": 12, "width": 40, "n": 9, "residual": False, "seed": 11},
        ],
    )


@check("depth_gradient_norms", "other depths, widths, sizes and seeds", points=1, hidden=True)
def test_depth_norms_hidden(student, reference, device):
    equal_experiment(
        student,
        [
            {"depth": 30, "width": 48, "n": 20, "residual": False, "seed": 21},
            {"depth": 30, "width": 48, "n": 20, "residual": True, "seed": 21},
            {"depth": 1, "width": 3, "n": 1, "residual": True, "seed": 5},
        ],
    )
