"""Model solutions for topic `activations` (written from scratch; no autograd in any backward)."""

from typing import Any

import torch


def _slope(alpha: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """alpha shaped to broadcast against x: 0-d as it is, (C,) along dim 1."""
    if alpha.dim() == 0:
        return alpha
    return alpha.reshape(1, -1, *([1] * (x.dim() - 2)))


def prelu_forward(x: torch.Tensor, alpha: torch.Tensor) -> tuple[torch.Tensor, Any]:
    """max(0, x) + alpha * min(0, x); alpha 0-d or (C,) along dim 1."""
    out = torch.where(x > 0, x, _slope(alpha, x) * x)
    return out, (x, alpha)


def prelu_backward(dout: torch.Tensor, cache: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """(dx, dalpha): slope alpha where x <= 0; dalpha summed to alpha's shape."""
    x, alpha = cache
    dx = torch.where(x > 0, dout, _slope(alpha, x) * dout)
    per_entry = torch.where(x > 0, torch.zeros_like(x), x) * dout
    if alpha.dim() == 0:
        return dx, per_entry.sum()
    dims = [d for d in range(x.dim()) if d != 1]
    return dx, per_entry.sum(dim=dims)


def tanh_forward(x: torch.Tensor) -> tuple[torch.Tensor, Any]:
    """tanh from expm1 of -2|x| (never overflows; accurate near 0 too)."""
    # -2|x| written with where so that autograd through it is right at 0 as well.
    m = torch.expm1(torch.where(x >= 0, -2 * x, 2 * x))
    t = -m / (2 + m)
    out = torch.where(x >= 0, t, -t)
    return out, out


def tanh_backward(dout: torch.Tensor, cache: Any) -> torch.Tensor:
    """dout * (1 - y**2)."""
    y = cache
    return dout * (1 - y * y)


def _sigmoid(z: torch.Tensor) -> torch.Tensor:
    e = torch.exp(torch.where(z >= 0, -z, z))
    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))


def swish_forward(x: torch.Tensor, beta: torch.Tensor) -> tuple[torch.Tensor, Any]:
    """x * sigmoid(beta x)."""
    s = _sigmoid(beta * x)
    return x * s, (x, beta, s)


def swish_backward(dout: torch.Tensor, cache: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """(dx, dbeta) with s' = s (1 - s)."""
    x, beta, s = cache
    ds = s * (1 - s)
    dx = dout * (s + beta * x * ds)
    dbeta = (dout * x * x * ds).sum()
    return dx, dbeta


def _tanh(z: torch.Tensor) -> torch.Tensor:
    """tanh from exp(-2|z|), which never overflows; z's sign by torch.where."""
    e = torch.exp(torch.where(z >= 0, -2 * z, 2 * z))
    t = (1 - e) / (1 + e)
    return torch.where(z >= 0, t, -t)


def mlp_forward(
    x: torch.Tensor,
    W1: torch.Tensor,
    b1: torch.Tensor,
    W2: torch.Tensor,
    b2: torch.Tensor,
    activation: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """hidden = act(x @ W1 + b1), out = hidden @ W2 + b2; act by hand, without overflow."""
    acts = {"relu": lambda z: torch.where(z > 0, z, torch.zeros_like(z)), "sigmoid": _sigmoid, "tanh": _tanh}
    if activation not in acts:
        raise ValueError(f"unknown activation {activation!r}; expected one of relu, sigmoid, tanh")
    hidden = acts[activation](x @ W1 + b1)
    return hidden @ W2 + b2, hidden
