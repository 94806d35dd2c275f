"""Model solutions for topic `batchnorm` (written from scratch; no normalisation built-ins).

One helper pair serves both layouts: statistics are taken over every dim except dim 1, the
feature (N, D) or channel (N, C, H, W) axis, and gamma/beta broadcast along that axis.
"""

from typing import Any

import torch


def _stat_dims(x: torch.Tensor) -> list[int]:
    return [d for d in range(x.dim()) if d != 1]


def _along_features(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A (D,) vector shaped to broadcast along dim 1 of `like`: (1, D) or (1, C, 1, 1)."""
    shape = [1] * like.dim()
    shape[1] = -1
    return v.reshape(shape)


def _normalize(
    x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    dims = _stat_dims(x)
    centered = x - x.mean(dim=dims, keepdim=True)
    var = (centered * centered).mean(dim=dims, keepdim=True)  # biased: divide by the count
    inv_std = 1.0 / torch.sqrt(var + eps)
    x_hat = centered * inv_std
    out = _along_features(gamma, x) * x_hat + _along_features(beta, x)
    return out, (x_hat, gamma, inv_std)


def _normalize_backward(
    dout: torch.Tensor, cache: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x_hat, gamma, inv_std = cache
    dims = _stat_dims(dout)
    dbeta = dout.sum(dim=dims)
    dgamma = (dout * x_hat).sum(dim=dims)
    dx_hat = dout * _along_features(gamma, dout)
    # The mean and the variance depend on every x of the batch: two terms that remove the
    # part of dx_hat shared by the batch and the part along x_hat.
    dx = inv_std * (
        dx_hat - dx_hat.mean(dim=dims, keepdim=True) - x_hat * (dx_hat * x_hat).mean(dim=dims, keepdim=True)
    )
    return dx, dgamma, dbeta


def batchnorm_forward(
    x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5
) -> tuple[torch.Tensor, Any]:
    """Training-mode batch norm of x (N, D); equals nn.BatchNorm1d in training mode."""
    return _normalize(x, gamma, beta, eps)


def batchnorm_backward(dout: torch.Tensor, cache: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(dx, dgamma, dbeta) of batchnorm_forward, from its cache."""
    return _normalize_backward(dout, cache)


def batchnorm_running_stats(
    x: torch.Tensor, running_mean: torch.Tensor, running_var: torch.Tensor, momentum: float = 0.1
) -> tuple[torch.Tensor, torch.Tensor]:
    """BatchNorm1d's training-mode update of the running statistics (unbiased variance)."""
    n = x.shape[0]
    mean = x.mean(dim=0)
    centered = x - mean
    var = (centered * centered).sum(dim=0) / (n - 1)
    return (1 - momentum) * running_mean + momentum * mean, (1 - momentum) * running_var + momentum * var


def batchnorm_inference(
    x: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    running_mean: torch.Tensor,
    running_var: torch.Tensor,
    eps: float = 1e-5,
) -> torch.Tensor:
    """Eval-mode batch norm: normalise with the running statistics, not the batch's."""
    return gamma * (x - running_mean) / torch.sqrt(running_var + eps) + beta


def batchnorm2d_forward(
    x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5
) -> tuple[torch.Tensor, Any]:
    """Training-mode batch norm of x (N, C, H, W) over N, H, W; equals nn.BatchNorm2d."""
    return _normalize(x, gamma, beta, eps)


def batchnorm2d_backward(dout: torch.Tensor, cache: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(dx, dgamma, dbeta) of batchnorm2d_forward, from its cache."""
    return _normalize_backward(dout, cache)


def batchnorm2d_inference(
    x: torch.Tensor,
    running_mean: torch.Tensor,
    running_var: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    eps: float = 1e-5,
) -> torch.Tensor:
    """Eval-mode batch norm of x (N, C, H, W) with per-channel running statistics."""
    s = (1, -1, 1, 1)
    inv_std = 1.0 / torch.sqrt(running_var.reshape(s) + eps)
    return gamma.reshape(s) * (x - running_mean.reshape(s)) * inv_std + beta.reshape(s)
