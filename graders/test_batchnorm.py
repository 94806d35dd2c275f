"""Graders for topic `batchnorm`: batch norm forward, backward, running statistics, inference.

Forwards are compared with the model solutions (float32 and float64, default tolerances). A
backward is fed the cache of the student's own forward and compared with autograd through
the model forward in float64 (relative error 1e-7) and with centered differences; see
dlgrade.kit.backprop. The model solutions are tested against nn.BatchNorm1d/2d in
tests/test_reference_backprop.py.
"""

from __future__ import annotations

from typing import Any

import torch

from dlgrade.kit import backprop, patterns
from dlgrade.kit.backprop import Layer
from dlgrade.kit.cases import Case, label, rand, randn, seed_for
from dlgrade.kit.checks import check

F32, F64 = torch.float32, torch.float64
BN = Layer("batchnorm_forward", "batchnorm_backward", ("dx", "dgamma", "dbeta"), (0, 1, 2))
BN2D = Layer("batchnorm2d_forward", "batchnorm2d_backward", ("dx", "dgamma", "dbeta"), (0, 1, 2))
BACKWARD_HINT = "Your backward is judged on the cache of your own forward: if the forward fails, fix it first"


def batch(
    what: str,
    shape: tuple[int, ...],
    dtype: torch.dtype,
    device: str,
    *,
    spread: float = 3.0,
    eps: float | None = None,
) -> Case:
    """x of `shape` ((N, D) or (N, C, H, W)) around a per-feature offset, gamma and beta.

    `spread` is the standard deviation within a feature: 1e-3 makes var (1e-6) smaller than
    the default eps, where the placement of eps decides the answer.
    """
    seed = seed_for("batch", what, shape, dtype, spread, eps)
    features = shape[1]
    offset = randn((features,), seed=seed, dtype=F64, scale=2.0)
    offset = offset.reshape([1, features] + [1] * (len(shape) - 2))
    x = (randn(shape, seed=seed + 1, dtype=F64, scale=spread) + offset).to(dtype=dtype, device=device)
    gamma = randn((features,), seed=seed + 2, dtype=dtype, shift=1.0, device=device)
    beta = randn((features,), seed=seed + 3, dtype=dtype, device=device)
    names = ("N", "D") if len(shape) == 2 else ("N", "C", "H", "W")
    kwargs: dict[str, Any] = {} if eps is None else {"eps": eps}
    return Case(label(x, what, **kwargs), (x, gamma, beta), kwargs, dims=dict(zip(names, shape, strict=True)))


def batches(
    what: str, shapes: list[tuple[tuple[int, ...], torch.dtype]], device: str, **kw: Any
) -> list[Case]:
    return [batch(what, shape, dtype, device, **kw) for shape, dtype in shapes]


def running(what: str, n: int, d: int, dtype: torch.dtype, device: str, **kwargs: float) -> Case:
    """x (n, d) and running statistics unlike the batch's own."""
    seed = seed_for("running", what, n, d, dtype, sorted(kwargs.items()))
    x = randn((n, d), seed=seed, dtype=dtype, scale=2.0, shift=0.5, device=device)
    mean = randn((d,), seed=seed + 1, dtype=dtype, device=device)
    var = rand((d,), seed=seed + 2, low=0.5, high=2.0, dtype=dtype, device=device)
    return Case(label(x, what, **kwargs), (x, mean, var), dict(kwargs), dims={"N": n, "D": d})


def inference(
    what: str, n: int, d: int, dtype: torch.dtype, device: str, *, var_scale: float = 1.0, **kw: float
) -> Case:
    """x (n, d), gamma, beta and running statistics unlike the batch's own; `eps=` when given."""
    seed = seed_for("inference", what, n, d, dtype, var_scale, sorted(kw.items()))
    x = randn((n, d), seed=seed, dtype=dtype, scale=2.0, device=device)
    gamma = randn((d,), seed=seed + 1, dtype=dtype, shift=1.0, device=device)
    beta = randn((d,), seed=seed + 2, dtype=dtype, device=device)
    mean = randn((d,), seed=seed + 3, dtype=dtype, device=device)
    var = rand((d,), seed=seed + 4, low=0.5, high=2.0, dtype=dtype, device=device) * var_scale
    return Case(label(x, what, **kw), (x, gamma, beta, mean, var), dict(kw), dims={"N": n, "D": d})


# Batches of several sizes, N = 2 included; D differs from N so that no transpose hides.
RANDOM_1D = [((2, 5), F64), ((3, 4), F32), ((8, 3), F64), ((5, 7), F32), ((4, 6), F64)]
RANDOM_2D = [((2, 3, 4, 5), F64), ((4, 2, 3, 5), F32), ((3, 5, 2, 1), F64)]


# --- batchnorm_forward -------------------------------------------------------------------


@check(
    "batchnorm_forward",
    "equals BatchNorm1d (training mode) on batches of several sizes",
    points=3,
    hint="per feature: the batch mean and the biased variance (divide by N, not N - 1)",
)
def test_forward(student, reference, device):
    backprop.forward_agrees(student, reference, BN, batches("random batch", RANDOM_1D, device))


@check(
    "batchnorm_forward",
    "eps goes inside the square root (tiny-variance batches)",
    points=2,
    hint="(x - mean) / sqrt(var + eps): with var around 1e-6, sqrt(var) + eps is far off",
)
def test_forward_eps(student, reference, device):
    cases = [batch("tiny variance", (4, 3), F64, device, spread=1e-3)]
    cases += [batch("tiny variance", (3, 5), F64, device, spread=1e-3, eps=1e-3)]
    backprop.forward_agrees(student, reference, BN, cases)


@check(
    "batchnorm_forward",
    "leaves x, gamma and beta unchanged",
    points=1,
    hint="x -= mean changes the caller's x; write x - mean",
    hint_when=("modified",),
)
def test_forward_inplace(student, reference, device):
    cases = [batch("random batch", (4, 3), F64, device)]
    backprop.forward_agrees(student, reference, BN, cases, unmodified=True, arg_names=("x", "gamma", "beta"))


@check("batchnorm_forward", "agrees on larger batches and other eps", points=1, hidden=True)
def test_forward_hidden(student, reference, device):
    cases = [batch("large", (64, 10), F64, device, eps=1e-3), batch("large", (32, 7), F32, device)]
    backprop.forward_agrees(student, reference, BN, cases)


# --- batchnorm_backward ------------------------------------------------------------------


@check(
    "batchnorm_backward",
    "dx, dgamma, dbeta equal autograd (float64, batches of several sizes)",
    points=4,
    hint="dgamma and dbeta sum over the batch; dx needs the terms through the mean and the variance. "
    + BACKWARD_HINT,
)
def test_backward(student, reference, device):
    cases = batches("random batch", [((3, 4), F64), ((2, 5), F64), ((8, 3), F64)], device)
    backprop.backward_agrees(student, reference, BN, cases)


@check(
    "batchnorm_backward",
    "tiny-variance batches, where eps matters",
    points=1,
    hint="use the same sqrt(var + eps) as the forward (keep it in the cache rather than recomputing it)",
)
def test_backward_eps(student, reference, device):
    cases = [batch("tiny variance", (4, 3), F64, device, spread=1e-3, eps=1e-3)]
    backprop.backward_agrees(student, reference, BN, cases)


@check(
    "batchnorm_backward",
    "passes the gradient check (centered differences)",
    points=1,
    hint="a relative error above 1e-5 means the formula, not rounding, is off. " + BACKWARD_HINT,
)
def test_backward_numeric(student, reference, device):
    backprop.gradient_check(student, reference, BN, [batch("small batch", (4, 3), F64, device)])


@check(
    "batchnorm_backward",
    "float32 inputs give float32 gradients",
    points=1,
    hint="build the gradients from dout and the cache only; don't convert to float64",
    hint_when=("dtype",),
)
def test_backward_float32(student, reference, device):
    cases = batches("random batch", [((5, 4), F32)], device)
    backprop.backward_agrees(student, reference, BN, cases)


@check(
    "batchnorm_backward",
    "leaves dout unchanged",
    points=1,
    hint="dout is the caller's tensor: no dout *= ... or dout.sub_(...); build new tensors",
    hint_when=("modified",),
)
def test_backward_inplace(student, reference, device):
    cases = batches("random batch", [((4, 3), F64)], device)
    backprop.backward_agrees(student, reference, BN, cases, unmodified=True)


@check("batchnorm_backward", "agrees on larger batches and leaves dout unchanged", points=1, hidden=True)
def test_backward_hidden(student, reference, device):
    cases = [batch("large", (32, 6), F64, device, eps=1e-3), batch("large", (2, 9), F64, device)]
    backprop.backward_agrees(student, reference, BN, cases, unmodified=True)


# --- batchnorm_running_stats -------------------------------------------------------------

STATS = ("new_mean", "new_var")
STATS_ARGS = ("x", "running_mean", "running_var")


@check(
    "batchnorm_running_stats",
    "matches BatchNorm1d's update (momentum 0.1)",
    points=2,
    hint="new = (1 - momentum) * running + momentum * batch statistic, for the mean and the variance",
)
def test_running_stats(student, reference, device):
    cases = [
        running("random batch", n, d, dt, device) for n, d, dt in [(5, 3, F64), (16, 4, F32), (7, 6, F64)]
    ]
    patterns.agree(student, reference, "batchnorm_running_stats", cases, names=STATS)


@check(
    "batchnorm_running_stats",
    "tracks the unbiased batch variance (N = 2 and 3)",
    points=2,
    hint="BatchNorm1d normalises with the biased variance but tracks the unbiased one: divide by N - 1",
)
def test_running_stats_unbiased(student, reference, device):
    cases = [running("small batch", n, d, dt, device) for n, d, dt in [(2, 4, F64), (3, 5, F32)]]
    patterns.agree(student, reference, "batchnorm_running_stats", cases, names=STATS)


@check(
    "batchnorm_running_stats",
    "other momentum values",
    points=1,
    hint="momentum is the weight of the new batch: 1.0 keeps only the batch, 0.0 only the running statistics",
)
def test_running_stats_momentum(student, reference, device):
    cases = [running("random batch", 6, 3, F64, device, momentum=m) for m in (0.3, 1.0, 0.0)]
    patterns.agree(student, reference, "batchnorm_running_stats", cases, names=STATS)


@check(
    "batchnorm_running_stats",
    "returns new tensors and leaves the running statistics unchanged",
    points=1,
    hint="running_mean.mul_(...) updates the caller's tensor (as nn.BatchNorm1d does); here, return new ones",
    hint_when=("modified",),
)
def test_running_stats_inplace(student, reference, device):
    cases = [running("random batch", 4, 3, F64, device)]
    patterns.unmodified(
        student, reference, "batchnorm_running_stats", cases, names=STATS, arg_names=STATS_ARGS
    )


@check("batchnorm_running_stats", "agrees on larger batches", points=1, hidden=True)
def test_running_stats_hidden(student, reference, device):
    cases = [running("large", 50, 12, F64, device, momentum=0.05), running("large", 2, 9, F32, device)]
    patterns.agree(student, reference, "batchnorm_running_stats", cases, names=STATS)


# --- batchnorm_inference -----------------------------------------------------------------


@check(
    "batchnorm_inference",
    "equals BatchNorm1d in eval mode",
    points=2,
    hint="normalise with running_mean and running_var, not with the batch's own statistics",
)
def test_inference(student, reference, device):
    cases = [
        inference("random batch", n, d, dt, device) for n, d, dt in [(4, 3, F64), (7, 5, F32), (2, 6, F64)]
    ]
    patterns.agree(student, reference, "batchnorm_inference", cases)


@check(
    "batchnorm_inference",
    "a batch of one example",
    points=1,
    hint="one example has no batch variance: at inference only the running statistics count",
)
def test_inference_single(student, reference, device):
    cases = [inference("one example", 1, d, dt, device) for d, dt in [(4, F64), (3, F32)]]
    patterns.agree(student, reference, "batchnorm_inference", cases)


@check(
    "batchnorm_inference",
    "eps goes inside the square root (tiny running variance)",
    points=1,
    hint="(x - running_mean) / sqrt(running_var + eps)",
)
def test_inference_eps(student, reference, device):
    cases = [
        inference("tiny running variance", 3, 4, F64, device, var_scale=1e-6),
        inference("small running variance", 3, 4, F64, device, var_scale=1e-2, eps=0.05),
    ]
    patterns.agree(student, reference, "batchnorm_inference", cases)


@check("batchnorm_inference", "agrees on larger batches", points=1, hidden=True)
def test_inference_hidden(student, reference, device):
    cases = [inference("large", 40, 9, F64, device), inference("large", 16, 3, F32, device, var_scale=1e-5)]
    patterns.agree(student, reference, "batchnorm_inference", cases)


# --- batchnorm2d_forward -----------------------------------------------------------------


@check(
    "batchnorm2d_forward",
    "equals BatchNorm2d (training mode)",
    points=2,
    hint="one mean and one biased variance per channel, over dims (0, 2, 3) together",
)
def test_forward2d(student, reference, device):
    backprop.forward_agrees(student, reference, BN2D, batches("random batch", RANDOM_2D, device))


@check(
    "batchnorm2d_forward",
    "one image (N = 1): statistics over H and W too",
    points=1,
    hint="a single image still has H * W values per channel to take statistics over",
)
def test_forward2d_single(student, reference, device):
    backprop.forward_agrees(student, reference, BN2D, [batch("one image", (1, 3, 4, 5), F64, device)])


@check(
    "batchnorm2d_forward",
    "eps goes inside the square root (tiny-variance channels)",
    points=1,
    hint="(x - mean) / sqrt(var + eps), per channel",
)
def test_forward2d_eps(student, reference, device):
    cases = [batch("tiny variance", (2, 3, 2, 2), F64, device, spread=1e-3, eps=1e-3)]
    backprop.forward_agrees(student, reference, BN2D, cases)


@check("batchnorm2d_forward", "agrees on larger batches", points=1, hidden=True)
def test_forward2d_hidden(student, reference, device):
    cases = [batch("large", (8, 4, 6, 5), F64, device), batch("large", (3, 6, 4, 4), F32, device, eps=1e-3)]
    backprop.forward_agrees(student, reference, BN2D, cases)


# --- batchnorm2d_backward ----------------------------------------------------------------


@check(
    "batchnorm2d_backward",
    "dx, dgamma, dbeta equal autograd (float64)",
    points=3,
    hint="the 1-d formula with every batch sum and mean over (0, 2, 3); dgamma and dbeta have shape (C,). "
    + BACKWARD_HINT,
)
def test_backward2d(student, reference, device):
    cases = batches("random batch", [((2, 3, 4, 5), F64), ((3, 5, 2, 1), F64), ((1, 2, 3, 4), F64)], device)
    backprop.backward_agrees(student, reference, BN2D, cases)


@check(
    "batchnorm2d_backward",
    "passes the gradient check (centered differences)",
    points=1,
    hint="a relative error above 1e-5 means the formula, not rounding, is off. " + BACKWARD_HINT,
)
def test_backward2d_numeric(student, reference, device):
    backprop.gradient_check(student, reference, BN2D, [batch("small batch", (2, 3, 4, 1), F64, device)])


@check(
    "batchnorm2d_backward",
    "float32 inputs give float32 gradients",
    points=1,
    hint="build the gradients from dout and the cache only; don't convert to float64",
    hint_when=("dtype",),
)
def test_backward2d_float32(student, reference, device):
    cases = batches("random batch", [((2, 3, 2, 4), F32)], device)
    backprop.backward_agrees(student, reference, BN2D, cases)


@check(
    "batchnorm2d_backward",
    "leaves dout unchanged",
    points=1,
    hint="dout is the caller's tensor: no dout *= ... or dout.sub_(...); build new tensors",
    hint_when=("modified",),
)
def test_backward2d_inplace(student, reference, device):
    cases = batches("random batch", [((2, 3, 2, 2), F64)], device)
    backprop.backward_agrees(student, reference, BN2D, cases, unmodified=True)


@check(
    "batchnorm2d_backward",
    "tiny-variance batches, where eps matters",
    points=1,
    hint="use the same sqrt(var + eps) as the forward (keep it in the cache rather than recomputing it)",
)
def test_backward2d_eps(student, reference, device):
    cases = [batch("tiny variance", (2, 3, 2, 3), F64, device, spread=1e-3)]
    backprop.backward_agrees(student, reference, BN2D, cases)


@check("batchnorm2d_backward", "agrees on larger batches and leaves dout unchanged", points=1, hidden=True)
def test_backward2d_hidden(student, reference, device):
    cases = [
        batch("large", (6, 4, 3, 5), F64, device, eps=1e-3),
        batch("tiny", (2, 3, 2, 2), F64, device, spread=1e-3),
    ]
    backprop.backward_agrees(student, reference, BN2D, cases, unmodified=True)


# --- batchnorm2d_inference ---------------------------------------------------------------


def inference2d(
    what: str,
    shape: tuple[int, int, int, int],
    dtype: torch.dtype,
    device: str,
    *,
    var_scale: float = 1.0,
    **kw: float,
) -> Case:
    """x (N, C, H, W) and per-channel running statistics, gamma and beta unlike x's own; `eps=` when given."""
    seed = seed_for("inference2d", what, shape, dtype, var_scale, sorted(kw.items()))
    c = shape[1]
    x = randn(shape, seed=seed, dtype=dtype, scale=2.0, device=device)
    mean = randn((c,), seed=seed + 1, dtype=dtype, device=device)
    var = rand((c,), seed=seed + 2, low=0.5, high=2.0, dtype=dtype, device=device) * var_scale
    gamma = randn((c,), seed=seed + 3, dtype=dtype, shift=1.0, device=device)
    beta = randn((c,), seed=seed + 4, dtype=dtype, device=device)
    dims = dict(zip(("N", "C", "H", "W"), shape, strict=True))
    return Case(label(x, what, **kw), (x, mean, var, gamma, beta), dict(kw), dims=dims)


@check(
    "batchnorm2d_inference",
    "equals BatchNorm2d in eval mode",
    points=2,
    hint="use running_mean and running_var, not statistics of x, each reshaped to (1, C, 1, 1) so it "
    "lines up with the channels (dim 1), not with W",
)
def test_inference2d(student, reference, device):
    # W differs from C, so statistics broadcast along W cannot line up by accident
    shapes = [((2, 3, 4, 5), F64), ((4, 5, 3, 2), F32), ((3, 2, 2, 3), F64)]
    cases = [inference2d("random batch", shape, dt, device) for shape, dt in shapes]
    patterns.agree(student, reference, "batchnorm2d_inference", cases)


@check(
    "batchnorm2d_inference",
    "a non-default eps, inside the square root",
    points=1,
    hint="(x - running_mean) / sqrt(running_var + eps), with the eps you are given",
)
def test_inference2d_eps(student, reference, device):
    cases = [
        inference2d("small running variance", (2, 3, 2, 4), F64, device, var_scale=1e-2, eps=0.05),
        inference2d("tiny running variance", (3, 2, 3, 4), F32, device, var_scale=1e-6, eps=1e-3),
    ]
    patterns.agree(student, reference, "batchnorm2d_inference", cases)


@check(
    "batchnorm2d_inference",
    "a batch of one image and 1x1 spatial",
    points=1,
    hint="one 1x1 image has no spread of its own: at inference only the running statistics count",
)
def test_inference2d_single(student, reference, device):
    shapes = [((1, 3, 4, 5), F64), ((4, 3, 1, 1), F32), ((1, 2, 1, 1), F64)]
    cases = [inference2d("one image or 1x1", shape, dt, device) for shape, dt in shapes]
    patterns.agree(student, reference, "batchnorm2d_inference", cases)


@check("batchnorm2d_inference", "agrees on larger batches", points=1, hidden=True)
def test_inference2d_hidden(student, reference, device):
    cases = [
        inference2d("large", (8, 6, 7, 5), F64, device),
        inference2d("large", (5, 4, 6, 9), F32, device, var_scale=1e-5),
    ]
    patterns.agree(student, reference, "batchnorm2d_inference", cases)
