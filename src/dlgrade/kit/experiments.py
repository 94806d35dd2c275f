"""The lessons' experiments re-run in the grading process with torch's own functions.

`depth_gradient_norms`: the plain-vs-residual experiment as the course contract fixes it (one
generator seeded with `seed`; x = randn(n, width) first, then each layer's W = randn(width,
width) / sqrt(width) in layer order; h = tanh(h @ W), + h when residual; float32), the
gradient of the sum of the last h taken by autograd with respect to every layer's input and
the output. The grader of topic `normalization` judges a student's norms against it and
`--plots` draws it beside theirs; student code plays no part in it.
"""

from __future__ import annotations

import math

import torch


def depth_gradient_norms(
    depth: int = 50, width: int = 64, n: int = 32, residual: bool = False, seed: int = 0
) -> torch.Tensor:
    """(depth + 1,) float64: ||dL/dh|| at the input (index 0), each later layer's input, and the
    output (index depth), L = the sum of the last h; computed in float32, returned in float64."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, width, generator=g)
    weights = [torch.randn(width, width, generator=g) / math.sqrt(width) for _ in range(depth)]
    with torch.enable_grad():
        stages = [x.requires_grad_()]
        for w in weights:
            t = torch.tanh(stages[-1] @ w)
            stages.append(t + stages[-1] if residual else t)
        grads = torch.autograd.grad(stages[-1].sum(), stages)
    return torch.stack([grad.double().norm() for grad in grads])
