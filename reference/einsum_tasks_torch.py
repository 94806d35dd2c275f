"""Independent versions of the `einsum` model solutions (torch's own, or another formula).

tests/test_reference.py pins every answer the graders ask reference/einsum_tasks.py for against
COUNTERPARTS here: exercise id -> a function with the same arguments that returns what the
model solution returns (only the output where the model solution returns (out, cache)).
Course staff only: nothing here ships to students, and it is not graded.
"""

import math
from collections.abc import Callable
from typing import Any

import torch


def _scores(Q: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return Q @ K.transpose(-1, -2) / math.sqrt(Q.shape[-1])


def _attention(Q, K, V):
    weights = torch.softmax(_scores(Q, K), dim=-1)
    return weights @ V, weights


COUNTERPARTS: dict[str, Callable[..., Any]] = {
    "matvec": lambda A, x: A @ x,
    "matmul": lambda A, B: A @ B,
    "trace": torch.trace,
    "outer": torch.outer,
    "batch_matmul": torch.bmm,
    "batch_trace": lambda A: A.diagonal(dim1=-2, dim2=-1).sum(-1),
    "attention_scores": _scores,
    "attention": _attention,
    "bilinear": lambda x, A, y: x @ A @ y,
    "batch_bilinear": lambda X, A, Y: ((X @ A) * Y).sum(-1),
    "contract_4d": lambda A, B: torch.tensordot(A, B, dims=2),
    "multihead_scores": _scores,
}
