"""The forbidden results the sweep looks for: per rule set, the function a route would compute.

Each target names its rule set in course.toml, the inputs it is computed on (one of `INPUTS`)
and the result. The sweep (`dlgrade/dev/sweep.py`) calls every public callable on each input
and flags those whose result equals a target's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

Inputs = tuple[torch.Tensor, ...]


@dataclass(frozen=True)
class Target:
    rule: str  # a rule set of course.toml
    name: str  # what it computes, in words
    inputs: str  # a key of inputs()
    result: Callable[[Inputs], torch.Tensor]


def inputs() -> dict[str, Inputs]:
    """The inputs, drawn afresh (callables may change them in place), float64, axes all different."""
    g = torch.Generator().manual_seed(23)

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    x = randn(4, 6) * 2
    square = randn(5, 5)
    return {
        "x": (x,),
        "x, x side by side": (torch.cat([x, x], dim=-1),),  # glu(a, b) = a * sigmoid(b)
        "x as one number": (torch.tensor(0.7, dtype=torch.float64),),
        "x sparse": (x.to_sparse(),),
        "A, B": (randn(4, 6), randn(6, 5)),
        "A sparse, B": (randn(4, 6).to_sparse(), randn(6, 5)),
        "batch A, B": (randn(3, 4, 6), randn(3, 6, 5)),
        "S": (square,),
        "a, b": (randn(4), randn(5)),
        "A, v": (randn(4, 6), randn(6)),
        "A, y": (randn(8, 3), randn(8, 1)),
    }


def _batch_norm(t: Inputs) -> torch.Tensor:
    x = t[0]
    return (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + 1e-5)


def _layer_norm(t: Inputs) -> torch.Tensor:
    x = t[0]
    return (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + 1e-5)


def _softmax(x: torch.Tensor) -> torch.Tensor:
    e = torch.exp(x - x.amax(-1, keepdim=True))
    return e / e.sum(-1, keepdim=True)


def _logsumexp(x: torch.Tensor) -> torch.Tensor:
    m = x.amax(-1)
    return m + torch.log(torch.exp(x - m.unsqueeze(-1)).sum(-1))


def _silu(x: torch.Tensor) -> torch.Tensor:
    return x / (1 + torch.exp(-x))


def _tanh(x: torch.Tensor) -> torch.Tensor:
    return 1 - 2 / (torch.exp(2 * x) + 1)


def _diagonal(t: Inputs) -> torch.Tensor:
    return torch.stack([t[0][i, i] for i in range(t[0].shape[0])])


def _matmul(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    return (A.unsqueeze(-1) * B.unsqueeze(-3)).sum(-2)


TARGETS: tuple[Target, ...] = (
    Target("stable_builtins", "softmax", "x", lambda t: _softmax(t[0])),
    Target("stable_builtins", "softmax", "x sparse", lambda t: _softmax(t[0].to_dense())),
    Target("stable_builtins", "log_softmax", "x", lambda t: t[0] - _logsumexp(t[0]).unsqueeze(-1)),
    Target("stable_builtins", "logsumexp", "x", lambda t: _logsumexp(t[0])),
    Target("tanh_builtins", "tanh", "x", lambda t: _tanh(t[0])),
    Target("tanh_builtins", "tanh", "x as one number", lambda t: _tanh(t[0])),
    Target("swish_builtins", "swish (silu)", "x", lambda t: _silu(t[0])),
    Target(
        "swish_builtins",
        "swish (silu)",
        "x, x side by side",
        lambda t: _silu(t[0][..., : t[0].shape[-1] // 2]),
    ),
    Target("prelu_builtins", "leaky relu (0.01)", "x", lambda t: torch.where(t[0] > 0, t[0], 0.01 * t[0])),
    Target("prelu_builtins", "prelu (0.25)", "x", lambda t: torch.where(t[0] > 0, t[0], 0.25 * t[0])),
    # no relu target: max(z, 0) written with clamp, maximum or where is mlp_forward's by-hand relu
    Target("mlp_builtins", "sigmoid", "x", lambda t: 1 / (1 + torch.exp(-t[0]))),
    Target("mlp_builtins", "tanh", "x", lambda t: _tanh(t[0])),
    Target("mlp_builtins", "tanh", "x as one number", lambda t: _tanh(t[0])),
    Target("norm_builtins", "batch norm", "x", _batch_norm),
    Target("norm_builtins", "layer norm", "x", _layer_norm),
    Target("einsum_ops", "matmul", "A, B", lambda t: _matmul(*t)),
    Target("einsum_ops", "matmul", "A sparse, B", lambda t: _matmul(t[0].to_dense(), t[1])),
    Target("einsum_ops", "batch matmul", "batch A, B", lambda t: _matmul(*t)),
    Target("einsum_ops", "trace", "S", lambda t: _diagonal(t).sum()),
    Target("einsum_ops", "diagonal", "S", _diagonal),
    Target("einsum_ops", "outer product", "a, b", lambda t: t[0].unsqueeze(1) * t[1].unsqueeze(0)),
    Target("einsum_ops", "matrix-vector product", "A, v", lambda t: (t[0] * t[1]).sum(-1)),
    Target("closed_form", "least squares", "A, y", lambda t: torch.linalg.pinv(t[0]) @ t[1]),
    Target("closed_form", "inverse", "S", lambda t: torch.linalg.pinv(t[0])),
)
