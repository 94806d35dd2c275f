"""Graders for topic `layers`: affine, ReLU and sigmoid, forward and hand-written backward.

Forwards are compared with the model solutions (float32 and float64, default tolerances). A
backward is fed the cache of the student's own forward and compared with autograd through
the model forward in float64 (relative error 1e-7) and with centered differences; see
dlgrade.kit.backprop. The model solutions are tested against torch in tests/test_reference_backprop.py.
"""

from __future__ import annotations

import math

import torch

from dlgrade.kit import backprop
from dlgrade.kit.backprop import Layer
from dlgrade.kit.cases import Case, label, randn, seed_for
from dlgrade.kit.checks import check, expect_equal, expect_layout

F32, F64 = torch.float32, torch.float64
AFFINE = Layer("affine_forward", "affine_backward", ("dx", "dW", "db"), (0, 1, 2))
RELU = Layer("relu_forward", "relu_backward", ("dx",), (0,))
SIGMOID = Layer("sigmoid_forward", "sigmoid_backward", ("dx",), (0,), complement=True)


def affine(what: str, n: int, inner: tuple[int, ...], m: int, dtype: torch.dtype, device: str) -> Case:
    """x (n, *inner), W (D, m), b (m,); the sizes are named in messages: N, d1.., D, M."""
    d = math.prod(inner)
    seed = seed_for("affine", what, n, inner, m, dtype)
    x = randn((n, *inner), seed=seed, dtype=dtype, device=device)
    w = randn((d, m), seed=seed + 1, dtype=dtype, scale=d**-0.5, device=device)
    b = randn((m,), seed=seed + 2, dtype=dtype, device=device)
    dims = {"N": n, "D": d, "M": m}
    if len(inner) > 1:
        dims |= {f"d{i + 1}": s for i, s in enumerate(inner)}
    return Case(f"{label(x, what)}, W of shape {(d, m)}", (x, w, b), dims=dims)


def elementwise(what: str, shape: tuple[int, ...], dtype: torch.dtype, device: str, **kw: float) -> Case:
    x = randn(shape, seed=seed_for("elementwise", what, shape, dtype), dtype=dtype, device=device, **kw)
    return Case(label(x, what), (x,))


def with_zeros(device: str, dtype: torch.dtype = F64) -> Case:
    """Exact zeros (and a -0.0) among positive and negative entries."""
    x = randn((4, 5), seed=seed_for("relu zeros", dtype), dtype=dtype, device=device)
    x[::2, 1::2] = 0.0
    x[1, 0] = -0.0
    return Case(label(x, "exact zeros among the entries"), (x,))


def away_from_zero(what: str, shape: tuple[int, ...], device: str) -> Case:
    """float64 entries with |x| >= 0.1, where ReLU is smooth enough for finite differences."""
    x = randn(shape, seed=seed_for("away", what, shape), dtype=F64, device=device)
    x = torch.where(x.abs() < 0.1, torch.sign(x) * 0.1 + x, x)
    return Case(label(x, what), (x,))


def saturating(device: str, dtype: torch.dtype) -> Case:
    row = [-1000.0, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1000.0]
    x = torch.tensor(
        [row, [-1e4, 1e4, -88.5, 88.5, 20.0, -20.0, 1e-3, -1e-3, 3.0]], dtype=dtype, device=device
    )
    return Case(label(x, "huge inputs like +-1000"), (x,))


# --- affine ------------------------------------------------------------------------------


def affine_2d(device: str, dtype: torch.dtype | None = None) -> list[Case]:
    sizes = [(3, (5,), 4, F64), (2, (7,), 3, F32), (6, (4,), 9, F64), (1, (3,), 2, F32)]
    return [affine("2-D x", n, inner, m, dtype or dt, device) for n, inner, m, dt in sizes]


def affine_nd(device: str, dtype: torch.dtype | None = None) -> list[Case]:
    sizes = [(3, (2, 4, 5), 6, F64), (2, (3, 7), 4, F32), (4, (5, 1, 2), 3, F64)]
    return [affine("higher-dimensional x", n, inner, m, dtype or dt, device) for n, inner, m, dt in sizes]


@check(
    "affine_forward",
    "x @ W + b on 2-D inputs",
    points=3,
    hint="W has shape (D, M): out = x @ W + b has shape (N, M), with b broadcast over the rows",
)
def test_affine_forward_2d(student, reference, device):
    backprop.forward_agrees(student, reference, AFFINE, affine_2d(device))


@check(
    "affine_forward",
    "flattens (N, d1, ..., dk) inputs to (N, D)",
    points=2,
    hint="x.reshape(x.shape[0], -1) keeps the batch dim and flattens the rest",
)
def test_affine_forward_nd(student, reference, device):
    backprop.forward_agrees(student, reference, AFFINE, affine_nd(device))


@check("affine_forward", "agrees on larger inputs", points=1, hidden=True)
def test_affine_forward_hidden(student, reference, device):
    cases = [affine("large", 16, (3, 8, 8), 10, F64, device), affine("large", 9, (11,), 13, F32, device)]
    backprop.forward_agrees(student, reference, AFFINE, cases)


@check(
    "affine_backward",
    "dx, dW, db equal autograd on 2-D inputs (float64)",
    points=3,
    hint="dx = dout @ W.T, dW = x2d.T @ dout, db = dout.sum(0); compare each shape with its tensor's",
)
def test_affine_backward_2d(student, reference, device):
    backprop.backward_agrees(student, reference, AFFINE, affine_2d(device, F64)[:3])


@check(
    "affine_backward",
    "dx comes back in x's original shape (higher-dimensional x)",
    points=2,
    hint="compute dx as (N, D), then reshape it to x.shape (keep x's shape in the cache)",
)
def test_affine_backward_nd(student, reference, device):
    backprop.backward_agrees(student, reference, AFFINE, affine_nd(device, F64)[:2])


@check(
    "affine_backward",
    "passes the gradient check (centered differences)",
    points=1,
    hint="a relative error above 1e-5 means the formula, not rounding, is off",
)
def test_affine_backward_numeric(student, reference, device):
    backprop.gradient_check(student, reference, AFFINE, [affine("small x", 2, (3, 2), 4, F64, device)])


@check(
    "affine_backward",
    "float32 inputs give float32 gradients",
    points=1,
    hint="build the gradients from dout and the cache only; don't convert to float64",
    hint_when=("dtype",),
)
def test_affine_backward_float32(student, reference, device):
    cases = [affine("2-D x", 5, (6,), 3, F32, device), affine("3-D x", 2, (3, 4), 5, F32, device)]
    backprop.backward_agrees(student, reference, AFFINE, cases)


@check(
    "affine_backward",
    "leaves dout unchanged",
    points=1,
    hint="dout is the caller's tensor: build dx, dW, db from it with out-of-place operations",
    hint_when=("modified",),
)
def test_affine_backward_inplace(student, reference, device):
    backprop.backward_agrees(student, reference, AFFINE, affine_2d(device, F64)[:1], unmodified=True)


@check("affine_backward", "agrees on larger inputs and leaves dout unchanged", points=1, hidden=True)
def test_affine_backward_hidden(student, reference, device):
    cases = [affine("large", 12, (3, 4, 4), 7, F64, device), affine("large", 1, (9,), 5, F64, device)]
    backprop.backward_agrees(student, reference, AFFINE, cases, unmodified=True)


# --- ReLU --------------------------------------------------------------------------------


@check(
    "relu_forward",
    "max(x, 0) on random inputs",
    points=2,
    hint="negative entries become 0, the others stay as they are; same shape and dtype as x",
)
def test_relu_forward(student, reference, device):
    cases = [
        elementwise("random input", s, dt, device) for s, dt in [((4, 5), F32), ((2, 3, 4), F64), ((7,), F32)]
    ]
    backprop.forward_agrees(student, reference, RELU, [*cases, with_zeros(device, F32)])


@check(
    "relu_forward",
    "leaves x unchanged",
    points=1,
    hint="x[x < 0] = 0 or x.clamp_(min=0) changes the caller's x; build a new tensor",
    hint_when=("modified",),
)
def test_relu_forward_inplace(student, reference, device):
    cases = [elementwise("random input", (3, 4), F64, device)]
    backprop.forward_agrees(student, reference, RELU, cases, unmodified=True, arg_names=("x",))


@check("relu_forward", "agrees on larger inputs", points=1, hidden=True)
def test_relu_forward_hidden(student, reference, device):
    cases = [elementwise("large", (8, 3, 5, 5), F64, device), elementwise("large", (64,), F32, device)]
    backprop.forward_agrees(student, reference, RELU, cases)


@check(
    "relu_backward",
    "dx equals autograd on random inputs (float64 and float32)",
    points=2,
    hint="dx = dout where x > 0 and 0 elsewhere, in x's shape and dtype",
)
def test_relu_backward(student, reference, device):
    cases = [elementwise("random input", s, F64, device) for s in [(4, 5), (2, 3, 4), (7,)]]
    cases.append(elementwise("random input", (3, 4), F32, device))
    backprop.backward_agrees(student, reference, RELU, cases)


@check(
    "relu_backward",
    "the gradient is 0 at exactly x = 0",
    points=2,
    hint="the mask is x > 0, not x >= 0: ReLU's gradient at 0 is taken to be 0",
)
def test_relu_backward_zeros(student, reference, device):
    backprop.backward_agrees(student, reference, RELU, [with_zeros(device)])


@check(
    "relu_backward",
    "leaves dout unchanged",
    points=1,
    hint="dx = dout; dx[x <= 0] = 0 zeroes the caller's dout too: start from dout.clone() or use torch.where",
    hint_when=("modified",),
)
def test_relu_backward_inplace(student, reference, device):
    backprop.backward_agrees(student, reference, RELU, [with_zeros(device)], unmodified=True)


@check(
    "relu_backward",
    "passes the gradient check (centered differences)",
    points=1,
    hint="away from 0, ReLU's gradient is exactly 1 or 0 times dout",
)
def test_relu_backward_numeric(student, reference, device):
    backprop.gradient_check(student, reference, RELU, [away_from_zero("small input", (3, 4), device)])


@check("relu_backward", "agrees on float32 and larger inputs", points=1, hidden=True)
def test_relu_backward_hidden(student, reference, device):
    cases = [elementwise("large", (6, 4, 3, 3), F64, device), with_zeros(device, F32)]
    backprop.backward_agrees(student, reference, RELU, cases)


# --- sigmoid -----------------------------------------------------------------------------


@check(
    "sigmoid_forward",
    "1 / (1 + exp(-x)) on random inputs, out and 1 - out to x's precision",
    points=2,
    hint="compute in x's dtype (float64 arithmetic for a float64 x): 1 - out is graded too, "
    "because the backward's y * (1 - y) needs it",
)
def test_sigmoid_forward(student, reference, device):
    cases = [
        elementwise("random input", s, dt, device, scale=4.0) for s, dt in [((4, 5), F32), ((2, 3, 4), F64)]
    ]
    cases.append(elementwise("inputs out to +-40, tiny outputs", (3, 8), F64, device, scale=20.0))
    backprop.forward_agrees(student, reference, SIGMOID, cases)


@check(
    "sigmoid_forward",
    "+-1000 saturate to 0 and 1 without NaN",
    points=2,
    hint="exp(1000) is inf: 1 / (1 + inf) = 0 is fine, but exp(x) / (1 + exp(x)) gives inf / inf = nan "
    "for large positive x",
    hint_when=("nonfinite",),
)
def test_sigmoid_forward_saturates(student, reference, device):
    backprop.forward_agrees(student, reference, SIGMOID, [saturating(device, F32), saturating(device, F64)])


@check(
    "sigmoid_forward",
    "+-1000 and +-1e4 give exactly 1 and 0",
    points=1,
    hint="no clamping of x: sigmoid(1000) rounds to exactly 1 and sigmoid(-1000) to exactly 0 "
    "in float32 and float64",
)
def test_sigmoid_forward_exact(student, reference, device):
    for case in [saturating(device, F32), saturating(device, F64)]:
        (x,) = case.args
        far = x.abs() >= 1000
        got, _ = backprop.out_and_cache(student.sigmoid_forward(x), SIGMOID, case)
        expected = reference.sigmoid_forward(x)[0]
        expect_layout(got, expected, case=case.label, what="out")
        expect_equal(got[far], expected[far], case=case.label, what="out where |x| >= 1000")


@check("sigmoid_forward", "agrees on larger inputs", points=1, hidden=True)
def test_sigmoid_forward_hidden(student, reference, device):
    cases = [
        elementwise("large", (5, 4, 6), F64, device, scale=50.0),
        elementwise("large", (40,), F32, device, scale=200.0),
    ]
    backprop.forward_agrees(student, reference, SIGMOID, cases)


@check(
    "sigmoid_backward",
    "dx equals autograd on random inputs (float64 and float32)",
    points=2,
    hint="dx = dout * y * (1 - y) with y the forward's output",
)
def test_sigmoid_backward(student, reference, device):
    cases = [elementwise("random input", s, F64, device, scale=4.0) for s in [(4, 5), (2, 3, 4)]]
    cases.append(elementwise("random input", (3, 4), F32, device, scale=4.0))
    backprop.backward_agrees(student, reference, SIGMOID, cases)


@check(
    "sigmoid_backward",
    "the gradient at +-1000 is 0, not NaN",
    points=2,
    hint="y * (1 - y) is exactly 0 where y saturated; recomputing exp(-x) in the backward can overflow",
    hint_when=("nonfinite",),
)
def test_sigmoid_backward_saturates(student, reference, device):
    backprop.backward_agrees(student, reference, SIGMOID, [saturating(device, F64)])


@check(
    "sigmoid_backward",
    "passes the gradient check (centered differences)",
    points=1,
    hint="a relative error above 1e-5 means the formula, not rounding, is off",
)
def test_sigmoid_backward_numeric(student, reference, device):
    backprop.gradient_check(
        student, reference, SIGMOID, [elementwise("small input", (3, 4), F64, device, scale=2.0)]
    )


@check("sigmoid_backward", "agrees on float32 and larger inputs", points=1, hidden=True)
def test_sigmoid_backward_hidden(student, reference, device):
    cases = [elementwise("large", (6, 5, 4), F64, device, scale=30.0), saturating(device, F32)]
    backprop.backward_agrees(student, reference, SIGMOID, cases)
