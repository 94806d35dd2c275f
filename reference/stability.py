"""Model solutions for topic `stability` (written from scratch; no forbidden built-ins)."""

import torch


def logsumexp(x: torch.Tensor, dim: int = -1, keepdim: bool = False) -> torch.Tensor:
    """log(sum(exp(x))) along `dim`; equals torch.logsumexp(x, dim, keepdim)."""
    m = torch.amax(x, dim=dim, keepdim=True).detach()
    # An infinite max (all -inf, or a +inf entry) would give inf - inf = nan: shift by 0.
    m = torch.where(torch.isinf(m), torch.zeros_like(m), m)
    out = m + torch.log(torch.sum(torch.exp(x - m), dim=dim, keepdim=True))
    return out if keepdim else out.squeeze(dim)


def stable_softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """softmax along `dim`; equals torch.softmax(x, dim)."""
    e = torch.exp(x - torch.amax(x, dim=dim, keepdim=True).detach())
    return e / torch.sum(e, dim=dim, keepdim=True)


def log_softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """log of softmax along `dim`; equals torch.log_softmax(x, dim)."""
    shifted = x - torch.amax(x, dim=dim, keepdim=True).detach()
    return shifted - torch.log(torch.sum(torch.exp(shifted), dim=dim, keepdim=True))


def clip_grad_norm(
    grads: list[torch.Tensor], max_norm: float, eps: float = 1e-6
) -> tuple[list[torch.Tensor], float]:
    """Scale every gradient by min(1, max_norm / (total_norm + eps)); total_norm over all of them."""
    total = torch.sqrt(sum((g.double() ** 2).sum() for g in grads)) if grads else torch.zeros(())
    total_norm = float(total)
    scale = min(1.0, max_norm / (total_norm + eps))
    return [g * scale for g in grads], total_norm
