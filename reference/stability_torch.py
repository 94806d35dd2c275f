"""Independent versions of the `stability` model solutions (torch's own, or another formula).

tests/test_reference.py pins every answer the graders ask reference/stability.py for against
COUNTERPARTS here: exercise id -> a function with the same arguments that returns what the
model solution returns (only the output where the model solution returns (out, cache)).
Course staff only: nothing here ships to students, and it is not graded.
"""

from collections.abc import Callable
from typing import Any

import torch


def _clip(grads, max_norm, eps=1e-6):
    """torch.nn.utils.clip_grad_norm_ on float64 copies; torch's factor is
    max_norm / (total + 1e-6), so another eps is folded into the norm it is handed."""
    params = [torch.nn.Parameter(torch.empty_like(g, dtype=torch.float64)) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = g.detach().double().clone()
    total = float(torch.nn.utils.get_total_norm([p.grad for p in params]))
    torch.nn.utils.clip_grads_with_norm_(params, max_norm, torch.tensor(total + eps - 1e-6))
    return [p.grad.to(g.dtype) for p, g in zip(params, grads, strict=True)], total


COUNTERPARTS: dict[str, Callable[..., Any]] = {
    "logsumexp": lambda x, dim=-1, keepdim=False: torch.logsumexp(x, dim, keepdim),
    "stable_softmax": lambda x, dim=-1: torch.softmax(x, dim),
    "log_softmax": lambda x, dim=-1: torch.log_softmax(x, dim),
    "clip_grad_norm": _clip,
}
