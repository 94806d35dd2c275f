"""Graders for topic `activations`: pReLU, tanh and swish, forward and hand-written backward,
and the MLP lesson's one-hidden-layer network with relu, sigmoid or tanh (mlp_forward).

Forwards are compared with the model solutions (float32 and float64, default tolerances); a
backward is fed the cache of the student's own forward and compared with autograd through the
model forward in float64 and with centered differences (dlgrade.kit.backprop). The model
solutions are tested against F.prelu, torch.tanh and x * sigmoid(beta x), values and
gradients on the graders' own cases, in tests/test_reference.py; mlp_forward against
torch.nn.Sequential(Linear, ReLU/Sigmoid/Tanh, Linear) holding the same weights.
"""

from __future__ import annotations

import torch

from dlgrade.core.calls import Raised, Request
from dlgrade.core.words import describe
from dlgrade.kit import backprop
from dlgrade.kit.backprop import Layer
from dlgrade.kit.cases import Case, label, randn, seed_for
from dlgrade.kit.checks import check, expect_close, expect_equal, expect_sequence, fail

F32, F64 = torch.float32, torch.float64
PRELU = Layer("prelu_forward", "prelu_backward", ("dx", "dalpha"), (0, 1))
TANH = Layer("tanh_forward", "tanh_backward", ("dx",), (0,), complement=True)
SWISH = Layer("swish_forward", "swish_backward", ("dx", "dbeta"), (0, 1))


def prelu(what: str, shape: tuple[int, ...], channels: bool, dtype: torch.dtype, device: str) -> Case:
    """x of `shape` and alpha 0-d or (C,) = shape[1]; with exact zeros among x's entries."""
    seed = seed_for("prelu", what, shape, channels, dtype)
    x = randn(shape, seed=seed, dtype=dtype, device=device)
    x.view(-1)[:: max(3, x.numel() // 4)] = 0.0  # exact zeros: the slope there is alpha
    a_shape = (shape[1],) if channels else ()
    alpha = randn(a_shape, seed=seed + 1, dtype=dtype, scale=0.2, shift=0.25, device=device)
    which = f"alpha of shape ({shape[1]},) along dim 1" if channels else "a 0-d alpha"
    dims = {"N": shape[0], "C": shape[1]} if channels else {}
    return Case(f"{label(x, what)}, {which}", (x, alpha), dims=dims)


def shared_slope(device: str, dtype: torch.dtype | None = None) -> list[Case]:
    sizes = [((4, 5), F64), ((2, 3, 4), F32), ((7,), F64)]
    return [prelu("random input", s, False, dtype or dt, device) for s, dt in sizes]


def channel_slopes(device: str, dtype: torch.dtype | None = None) -> list[Case]:
    sizes = [((4, 3), F64), ((2, 5, 3, 4), F32), ((3, 2, 6), F64)]
    return [prelu("random input", s, True, dtype or dt, device) for s, dt in sizes]


def elementwise(what: str, shape: tuple[int, ...], dtype: torch.dtype, device: str, scale: float) -> Case:
    x = randn(shape, seed=seed_for("act", what, shape, dtype), dtype=dtype, scale=scale, device=device)
    return Case(label(x, what), (x,))


def saturating(device: str, dtype: torch.dtype) -> Case:
    row = [-1000.0, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1000.0]
    x = torch.tensor(
        [row, [-1e4, 1e4, -88.5, 88.5, 20.0, -20.0, 1e-3, -1e-3, 3.0]], dtype=dtype, device=device
    )
    return Case(label(x, "huge inputs like +-1000"), (x,))


def swish(
    what: str, shape: tuple[int, ...], beta: float, dtype: torch.dtype, device: str, scale: float = 2.0
) -> Case:
    x = randn(shape, seed=seed_for("swish", what, shape, dtype), dtype=dtype, scale=scale, device=device)
    b = torch.tensor(beta, dtype=dtype, device=device)
    return Case(f"{label(x, what)}, beta={beta}", (x, b))


def swish_random(device: str, dtype: torch.dtype | None = None) -> list[Case]:
    sizes = [((4, 5), 1.0, F64), ((2, 3, 4), 1.7, F32), ((6,), -0.6, F64)]
    return [swish("random input", s, b, dtype or dt, device) for s, b, dt in sizes]


def swish_huge(device: str, dtype: torch.dtype) -> list[Case]:
    (x,) = saturating(device, dtype).args
    return [
        Case(
            f"{label(x, 'huge inputs like +-1000')}, beta={b}",
            (x, torch.tensor(b, dtype=dtype, device=device)),
        )
        for b in (1.0, -2.0)
    ]


# --- pReLU --------------------------------------------------------------------------------


@check(
    "prelu_forward",
    "one shared slope (0-d alpha)",
    points=2,
    hint="where x <= 0 the output is alpha * x; elsewhere x itself",
)
def test_prelu_forward_shared(student, reference, device):
    backprop.forward_agrees(student, reference, PRELU, shared_slope(device))


@check(
    "prelu_forward",
    "one slope per channel along dim 1",
    points=2,
    hint="a (C,) alpha must line up with dim 1 of x: alpha.reshape(1, -1, 1, ...), one 1 per later dim",
)
def test_prelu_forward_channels(student, reference, device):
    backprop.forward_agrees(student, reference, PRELU, channel_slopes(device))


@check(
    "prelu_forward",
    "leaves x and alpha unchanged",
    points=1,
    hint="build a new tensor (torch.where) instead of scaling x in place",
    hint_when=("modified",),
)
def test_prelu_forward_inplace(student, reference, device):
    cases = [prelu("random input", (3, 4), True, F64, device)]
    backprop.forward_agrees(student, reference, PRELU, cases, unmodified=True, arg_names=("x", "alpha"))


@check("prelu_forward", "agrees on larger inputs", points=1, hidden=True)
def test_prelu_forward_hidden(student, reference, device):
    cases = [prelu("large", (8, 6, 5, 5), True, F64, device), prelu("large", (40, 3), False, F32, device)]
    backprop.forward_agrees(student, reference, PRELU, cases)


@check(
    "prelu_backward",
    "dx and dalpha equal autograd, 0-d alpha (float64)",
    points=2,
    hint="the slope is alpha where x <= 0, at exactly x = 0 too (mask x > 0); a 0-d alpha gets a 0-d dalpha",
)
def test_prelu_backward_shared(student, reference, device):
    backprop.backward_agrees(student, reference, PRELU, shared_slope(device, F64))


@check(
    "prelu_backward",
    "dalpha has alpha's shape (C,): summed over every dim but 1",
    points=2,
    hint="dalpha = (dout * min(0, x)) summed over dims 0, 2, 3, ...: one number per channel, shape (C,)",
)
def test_prelu_backward_channels(student, reference, device):
    backprop.backward_agrees(student, reference, PRELU, channel_slopes(device, F64))


@check(
    "prelu_backward",
    "passes the gradient check (centered differences)",
    points=1,
    hint="a relative error above 1e-5 means the formula, not rounding, is off",
)
def test_prelu_backward_numeric(student, reference, device):
    x = randn((3, 4), seed=seed_for("prelu fd"), dtype=F64, device=device)
    x = torch.where(x.abs() < 0.1, torch.sign(x) * 0.1 + x, x)
    alpha = torch.tensor([0.1, 0.3, -0.2, 0.5], dtype=F64, device=device)
    backprop.gradient_check(
        student, reference, PRELU, [Case(f"{label(x, 'small input')}, alpha of shape (4,)", (x, alpha))]
    )


@check(
    "prelu_backward",
    "float32 inputs give float32 gradients",
    points=1,
    hint="build the gradients from dout and the cache only; don't convert to float64",
    hint_when=("dtype",),
)
def test_prelu_backward_float32(student, reference, device):
    cases = [
        prelu("random input", (4, 5), False, F32, device),
        prelu("random input", (2, 3, 4), True, F32, device),
    ]
    backprop.backward_agrees(student, reference, PRELU, cases)


@check("prelu_backward", "agrees on float32 and larger inputs", points=1, hidden=True)
def test_prelu_backward_hidden(student, reference, device):
    cases = [prelu("large", (6, 4, 3, 3), True, F64, device), prelu("large", (5, 7), False, F32, device)]
    backprop.backward_agrees(student, reference, PRELU, cases)


# --- tanh ---------------------------------------------------------------------------------


@check(
    "tanh_forward",
    "tanh on random inputs, out and 1 - out to x's precision",
    points=2,
    hint="same shape and dtype as x; (1 - e) / (1 + e) with e = exp(-2|x|), with x's sign, computed in "
    "x's dtype: 1 - out is graded too, because the backward's 1 - y**2 needs it",
)
def test_tanh_forward(student, reference, device):
    cases = [elementwise("random input", s, dt, device, 3.0) for s, dt in [((4, 5), F32), ((2, 3, 4), F64)]]
    backprop.forward_agrees(student, reference, TANH, cases)


@check(
    "tanh_forward",
    "+-1000 give exactly +-1, without NaN",
    points=2,
    hint="exp(1000) is inf and inf / inf is nan: exponentiate only -2|x|, which is never positive",
    hint_when=("nonfinite",),
)
def test_tanh_forward_saturates(student, reference, device):
    backprop.forward_agrees(student, reference, TANH, [saturating(device, F32), saturating(device, F64)])


@check("tanh_forward", "agrees on larger inputs", points=1, hidden=True)
def test_tanh_forward_hidden(student, reference, device):
    cases = [
        elementwise("large", (5, 4, 6), F64, device, 40.0),
        elementwise("large", (50,), F32, device, 0.01),
    ]
    backprop.forward_agrees(student, reference, TANH, cases)


@check(
    "tanh_backward",
    "dx equals autograd on random inputs (float64)",
    points=2,
    hint="dx = dout * (1 - y**2) with y the forward's output",
)
def test_tanh_backward(student, reference, device):
    cases = [elementwise("random input", s, F64, device, 2.0) for s in [(4, 5), (2, 3, 4)]]
    backprop.backward_agrees(student, reference, TANH, cases)


@check(
    "tanh_backward",
    "the gradient at +-1000 is 0, not NaN",
    points=1,
    hint="1 - y**2 is exactly 0 where y saturated at +-1; recomputing exp(x) in the backward can overflow",
    hint_when=("nonfinite",),
)
def test_tanh_backward_saturates(student, reference, device):
    backprop.backward_agrees(student, reference, TANH, [saturating(device, F64)])


@check(
    "tanh_backward",
    "passes the gradient check (centered differences)",
    points=1,
    hint="a relative error above 1e-5 means the formula, not rounding, is off",
)
def test_tanh_backward_numeric(student, reference, device):
    backprop.gradient_check(student, reference, TANH, [elementwise("small input", (3, 4), F64, device, 1.5)])


@check(
    "tanh_backward",
    "float32 inputs give float32 gradients",
    points=1,
    hint="build the gradients from dout and the cache only; don't convert to float64",
    hint_when=("dtype",),
)
def test_tanh_backward_float32(student, reference, device):
    backprop.backward_agrees(
        student, reference, TANH, [elementwise("random input", (3, 4), F32, device, 2.0)]
    )


@check("tanh_backward", "agrees on float32 and larger inputs", points=1, hidden=True)
def test_tanh_backward_hidden(student, reference, device):
    cases = [elementwise("large", (6, 5, 4), F64, device, 20.0), saturating(device, F32)]
    backprop.backward_agrees(student, reference, TANH, cases)


# --- swish --------------------------------------------------------------------------------


@check(
    "swish_forward",
    "x * sigmoid(beta x) on random inputs",
    points=2,
    hint="beta multiplies x inside the sigmoid; the result has x's shape and dtype",
)
def test_swish_forward(student, reference, device):
    backprop.forward_agrees(student, reference, SWISH, swish_random(device))


@check(
    "swish_forward",
    "finite for +-1000, beta of either sign",
    points=1,
    hint="exp(-beta x) overflows when beta x is very negative: exponentiate only -|beta x|",
    hint_when=("nonfinite",),
)
def test_swish_forward_huge(student, reference, device):
    backprop.forward_agrees(student, reference, SWISH, swish_huge(device, F32) + swish_huge(device, F64))


@check("swish_forward", "agrees on larger inputs", points=1, hidden=True)
def test_swish_forward_hidden(student, reference, device):
    cases = [swish("large", (5, 4, 6), 0.8, F64, device, 10.0), swish("large", (60,), -1.3, F32, device)]
    backprop.forward_agrees(student, reference, SWISH, cases)


@check(
    "swish_backward",
    "dx equals autograd on random inputs (float64)",
    points=2,
    hint="dx = dout * (s + beta x s (1 - s)): the product rule on x * s(beta x)",
)
def test_swish_backward_dx(student, reference, device):
    backprop.backward_agrees(student, reference, SWISH, swish_random(device, F64), only=("dx",))


@check(
    "swish_backward",
    "dbeta is 0-d and equals autograd (float64)",
    points=2,
    hint="d/dbeta of x * s(beta x) is x**2 s (1 - s) (x appears twice); sum dout times it to one 0-d number",
)
def test_swish_backward_dbeta(student, reference, device):
    cases = [swish("random input", (3, 5), -1.2, F64, device)]
    backprop.backward_agrees(student, reference, SWISH, cases, only=("dbeta",))


@check(
    "swish_backward",
    "passes the gradient check (centered differences)",
    points=1,
    hint="a relative error above 1e-5 means the formula, not rounding, is off",
)
def test_swish_backward_numeric(student, reference, device):
    backprop.gradient_check(student, reference, SWISH, [swish("small input", (3, 4), 0.9, F64, device)])


@check(
    "swish_backward",
    "the gradients at +-1000 are finite",
    points=1,
    hint="s (1 - s) is exactly 0 where the sigmoid saturated; exp(-beta x) in the backward can overflow",
    hint_when=("nonfinite",),
)
def test_swish_backward_huge(student, reference, device):
    backprop.backward_agrees(student, reference, SWISH, swish_huge(device, F64))


@check(
    "swish_backward",
    "float32 inputs give float32 gradients",
    points=1,
    hint="build the gradients from dout and the cache only; don't convert to float64",
    hint_when=("dtype",),
)
def test_swish_backward_float32(student, reference, device):
    backprop.backward_agrees(student, reference, SWISH, [swish("random input", (3, 4), 1.3, F32, device)])


@check("swish_backward", "agrees on float32 and larger inputs", points=1, hidden=True)
def test_swish_backward_hidden(student, reference, device):
    cases = [swish("large", (6, 5, 4), 1.4, F64, device, 8.0), swish("large", (5, 7), 0.7, F32, device)]
    backprop.backward_agrees(student, reference, SWISH, cases)


# --- mlp_forward --------------------------------------------------------------------------
# The expected side is the model solution (pinned against nn.Sequential(Linear, act, Linear)
# in tests/test_reference.py). D, H and M differ in every random case, so that a transposed
# weight or a bias on the wrong layer shows up as a wrong shape; the square case makes the
# same mistakes show up as wrong values.

MLP = "mlp_forward"


def mlp_case(
    what: str, n: int, d: int, h: int, m: int, act: str, dtype: torch.dtype, device: str, scale: float = 1.0
) -> Case:
    """x (n, d) scaled by `scale`, W1 (d, h), b1 (h,), W2 (h, m), b2 (m,) drawn from the case's words."""
    seed = seed_for(MLP, what, n, d, h, m, act, dtype)
    x = randn((n, d), seed=seed, dtype=dtype, scale=scale, device=device)
    w1 = randn((d, h), seed=seed + 1, dtype=dtype, device=device)
    b1 = randn((h,), seed=seed + 2, dtype=dtype, device=device)
    w2 = randn((h, m), seed=seed + 3, dtype=dtype, device=device)
    b2 = randn((m,), seed=seed + 4, dtype=dtype, device=device)
    return Case(f"{label(x, what, H=h, M=m)}, activation={act!r}", (x, w1, b1, w2, b2, act))


def mlp_random(act: str, device: str) -> list[Case]:
    sizes = [(4, 3, 5, 2, torch.float32), (3, 6, 4, 5, torch.float64), (1, 2, 7, 3, torch.float64)]
    return [mlp_case("random", n, d, h, m, act, dt, device, scale=2.0) for n, d, h, m, dt in sizes]


def mlp_saturating(act: str, dtype: torch.dtype, device: str) -> Case:
    """Pre-activations x @ W1 + b1 that are all multiples of 1000 (exact in float32): +-1000,
    +-2000, 0; W2 and b2 random."""
    x = torch.tensor([[1.0, -1.0], [2.0, 1.0], [-1.0, 1.0]], dtype=dtype, device=device)
    w1 = torch.tensor(
        [[1000.0, -1000.0, 0.0, 1000.0], [0.0, 1000.0, -1000.0, 1000.0]], dtype=dtype, device=device
    )
    b1 = torch.tensor([0.0, -1000.0, 1000.0, -1000.0], dtype=dtype, device=device)
    seed = seed_for(MLP, "saturating", act, dtype)
    w2 = randn((4, 3), seed=seed, dtype=dtype, device=device)
    b2 = randn((3,), seed=seed + 1, dtype=dtype, device=device)
    what = f"pre-activations of +-1000 and +-2000, activation={act!r}"
    return Case(label(x, what), (x, w1, b1, w2, b2, act))


def mlp_judge(student, reference, cases: list[Case], *, exact: bool = False) -> None:
    """The student's (out, hidden) matches the model solution's: hidden first (where the
    mistakes of the first layer show), then out; hidden to the last bit with `exact`."""
    requests = [Request(c.args, c.kwargs) for c in cases]
    for case, call in zip(cases, student.calls(MLP, requests), strict=False):
        out, hidden = getattr(reference, MLP)(*case.args)
        got = expect_sequence(call.value, 2, case=case.label, what="the result (out, hidden)")
        if exact:
            expect_equal(got[1], hidden, case=case.label, what="hidden")
        else:
            expect_close(got[1], hidden, case=case.label, what="hidden")
        expect_close(got[0], out, case=case.label, what="out")


@check(
    MLP,
    "relu network: out and hidden on random inputs",
    points=2,
    hint="hidden = max(z, 0) with z = x @ W1 + b1, shape (N, H); out = hidden @ W2 + b2, with no "
    "activation on the output layer",
)
def test_mlp_relu(student, reference, device):
    mlp_judge(student, reference, mlp_random("relu", device))


@check(
    MLP,
    "sigmoid network: out and hidden on random inputs",
    points=2,
    hint="hidden = 1 / (1 + exp(-z)) with z = x @ W1 + b1 (b1 before the activation); the output "
    "layer hidden @ W2 + b2 stays linear",
)
def test_mlp_sigmoid(student, reference, device):
    mlp_judge(student, reference, mlp_random("sigmoid", device))


@check(
    MLP,
    "tanh network: out and hidden on random inputs",
    points=2,
    hint="hidden = tanh(z) = (1 - e) / (1 + e) with e = exp(-2|z|) and z's sign; return hidden after "
    "the activation and out = hidden @ W2 + b2",
)
def test_mlp_tanh(student, reference, device):
    mlp_judge(student, reference, mlp_random("tanh", device))


@check(
    MLP,
    "square weights (D = H = M): W1 and W2 used as given",
    points=1,
    hint="W1 has shape (D, H): the hidden layer is x @ W1, not x @ W1.T (that is nn.Linear's "
    "(out, in) layout), and out is hidden @ W2",
)
def test_mlp_square(student, reference, device):
    mlp_judge(
        student,
        reference,
        [mlp_case("square", 5, 4, 4, 4, act, torch.float64, device) for act in ("relu", "sigmoid", "tanh")],
    )


@check(
    MLP,
    "pre-activations of +-1000: hidden exactly 0, 1 or +-1, out finite",
    points=2,
    hint="exp of a large positive number is inf and inf / inf is nan: exponentiate only -|z| (never "
    "above 1) and choose the branch by the sign of z",
    hint_when=("nonfinite",),
)
def test_mlp_saturates(student, reference, device):
    cases = [mlp_saturating(a, dt, device) for a in ("sigmoid", "tanh", "relu") for dt in (F32, F64)]
    mlp_judge(student, reference, cases, exact=True)


@check(
    MLP,
    "an unknown activation name raises ValueError",
    points=1,
    hint='check the name before computing: anything but "relu", "sigmoid" or "tanh" should raise '
    "ValueError (a dict lookup raises KeyError instead)",
    hint_when=("value", "raised"),
)
def test_mlp_unknown_name(student, reference, device):
    (case,) = mlp_random("relu", device)[:1]
    for name in ("gelu", "ReLU", ""):
        try:
            value = student.call(MLP, *case.args[:5], name).value
        except Raised as exc:
            if exc.type_name != "ValueError":
                fail(
                    f"activation={name!r}: {exc.public()}; expected ValueError",
                    f"an unknown activation name raised {exc.type_name}, not ValueError",
                    "raised",
                )
            continue
        fail(
            f"activation={name!r}: returned {describe(value)}; expected ValueError",
            "an unknown activation name did not raise ValueError",
            "value",
        )


@check(MLP, "agrees on larger inputs", points=1, hidden=True)
def test_mlp_hidden(student, reference, device):
    cases = [
        mlp_case("large", 64, 20, 32, 10, "relu", F64, device, scale=3.0),
        mlp_case("large", 48, 16, 24, 6, "sigmoid", F32, device, scale=3.0),
        mlp_case("large", 40, 12, 30, 8, "tanh", F64, device, scale=3.0),
    ]
    mlp_judge(student, reference, cases)
