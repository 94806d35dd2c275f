"""Model solutions for topic `normalization` (written from scratch; no autograd anywhere)."""

import math
from typing import Any

import torch


def layernorm_forward(
    x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5
) -> tuple[torch.Tensor, Any]:
    """Each row normalised over its features (biased variance), then scaled and shifted."""
    mu = x.mean(dim=1, keepdim=True)
    var = ((x - mu) ** 2).mean(dim=1, keepdim=True)
    inv_std = 1 / torch.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


def layernorm_backward(dout: torch.Tensor, cache: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(dx, dgamma, dbeta); the means in dx run over the features."""
    x_hat, gamma, inv_std = cache
    dx_hat = dout * gamma
    dx = (
        dx_hat - dx_hat.mean(dim=1, keepdim=True) - x_hat * (dx_hat * x_hat).mean(dim=1, keepdim=True)
    ) * inv_std
    return dx, (dout * x_hat).sum(dim=0), dout.sum(dim=0)


def residual_forward(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, Any]:
    """tanh(x @ W + b) + x."""
    t = torch.tanh(x @ W + b)
    return t + x, (x, W, t)


def residual_backward(dout: torch.Tensor, cache: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(dx, dW, db); dx = dz @ W.T + dout."""
    x, W, t = cache
    dz = dout * (1 - t * t)
    return dz @ W.T + dout, x.T @ dz, dz.sum(dim=0)


def depth_gradient_norms(
    depth: int = 50, width: int = 64, n: int = 32, residual: bool = False, seed: int = 0
) -> torch.Tensor:
    """||dL/dh|| at the input of each of `depth` tanh layers and at the output, L = sum(last h).

    The backward by hand (autograd is allowed here, but a model solution that asked it could
    not sit beside the hand-written backwards, which forbid it): with t = tanh(h @ W),
    dL/dh = (dL/dh' * (1 - t**2)) @ W.T, plus dL/dh' itself through the skip when residual."""
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(n, width, generator=g)  # the contract's draw order: x, then each W in turn
    layers = []
    for _ in range(depth):
        w = torch.randn(width, width, generator=g) / math.sqrt(width)
        t = torch.tanh(h @ w)
        h = t + h if residual else t
        layers.append((w, t))
    d = torch.ones_like(h)  # dL/dh of L = h.sum()
    out = [d.norm()]
    for w, t in reversed(layers):
        d = (d * (1 - t * t)) @ w.T + d if residual else (d * (1 - t * t)) @ w.T
        out.append(d.norm())
    return torch.stack(out[::-1])
