"""Model solutions for topic `einsum`: one torch.einsum each (two for attention), plus a scale."""

import math

import torch


def matvec(A: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The matrix-vector product A x."""
    return torch.einsum("mn,n->m", A, x)


def matmul(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """The matrix product A B."""
    return torch.einsum("mn,np->mp", A, B)


def trace(A: torch.Tensor) -> torch.Tensor:
    """The trace of a square matrix."""
    return torch.einsum("ii->", A)


def outer(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The outer product a bᵀ."""
    return torch.einsum("m,n->mn", a, b)


def batch_matmul(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """The matrix product of every pair in a batch."""
    return torch.einsum("bnm,bmp->bnp", A, B)


def batch_trace(A: torch.Tensor) -> torch.Tensor:
    """The trace of every matrix in a batch."""
    return torch.einsum("bii->b", A)


def attention_scores(Q: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Scaled dot-product scores: Q Kᵀ / sqrt(d) per batch."""
    return torch.einsum("bqd,bkd->bqk", Q, K) / math.sqrt(Q.shape[-1])


def attention(Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention; returns (out, weights)."""
    scores = torch.einsum("bqd,bkd->bqk", Q, K) / math.sqrt(Q.shape[-1])
    weights = torch.softmax(scores, dim=-1)
    return torch.einsum("bqk,bkv->bqv", weights, V), weights


def bilinear(x: torch.Tensor, A: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The bilinear form xᵀ A y."""
    return torch.einsum("i,ij,j->", x, A, y)


def batch_bilinear(X: torch.Tensor, A: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """The bilinear form of every pair of rows of X and Y."""
    return torch.einsum("bi,ij,bj->b", X, A, Y)


def contract_4d(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Contract A's last two axes with B's first two."""
    return torch.einsum("abcd,cdef->abef", A, B)


def multihead_scores(Q: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Scaled dot-product scores for every batch and head."""
    return torch.einsum("bhqd,bhkd->bhqk", Q, K) / math.sqrt(Q.shape[-1])
