"""Model solutions for topic `normalization` (written from scratch; no autograd in any backward)."""

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
