"""Model solutions for topic `layers` (written from scratch; no autograd in any backward)."""

from typing import Any

import torch


def affine_forward(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, Any]:
    """out = x2d @ W + b, with x (N, d1, ..., dk) flattened to x2d (N, D); W (D, M), b (M,)."""
    out = x.reshape(x.shape[0], -1) @ W + b
    return out, (x, W)


def affine_backward(dout: torch.Tensor, cache: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(dx, dW, db); dx has x's original shape."""
    x, W = cache
    x2d = x.reshape(x.shape[0], -1)
    dx = (dout @ W.T).reshape(x.shape)
    return dx, x2d.T @ dout, dout.sum(dim=0)


def relu_forward(x: torch.Tensor) -> tuple[torch.Tensor, Any]:
    """max(x, 0) elementwise."""
    return torch.where(x > 0, x, torch.zeros_like(x)), x


def relu_backward(dout: torch.Tensor, cache: Any) -> torch.Tensor:
    """dout where x > 0, else 0 (0 at exactly x = 0 as well)."""
    x = cache
    return torch.where(x > 0, dout, torch.zeros_like(dout))


def sigmoid_forward(x: torch.Tensor) -> tuple[torch.Tensor, Any]:
    """1 / (1 + exp(-x)), computed so that exp never overflows."""
    # z = exp(-|x|) lies in (0, 1]; -|x| is written with where so that its gradient at 0 is
    # -1 (not abs's 0) and autograd through this function gives sigmoid'(0) = 1/4.
    z = torch.exp(torch.where(x >= 0, -x, x))
    out = torch.where(x >= 0, 1 / (1 + z), z / (1 + z))
    return out, out


def sigmoid_backward(dout: torch.Tensor, cache: Any) -> torch.Tensor:
    """dout * y * (1 - y), with y the forward's output."""
    y = cache
    return dout * y * (1 - y)
