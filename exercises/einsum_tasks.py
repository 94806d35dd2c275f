"""Topic `einsum`: contractions written as torch.einsum.

Each function is one torch.einsum call, plus at most a scale (a multiplication or division
by a number, or by a value computed from shapes such as math.sqrt(d)); `attention` uses two,
and may use a built-in softmax. No other arithmetic between tensors outside einsum: no
tensor * tensor, + or -, and no sum, mean, prod, mul, add, ... Name every axis with a
letter: a letter that appears in the output is kept, one that appears only in the inputs is
summed over, and a letter repeated within one operand walks its diagonal.

Not allowed here: Python loops and comprehensions (map/filter/itertools too), iterating over
a tensor, the @ operator, and matmul, mm, bmm, mv, dot, vdot, inner, outer, ger, tensordot,
trace, diagonal, diag, addmm and friends, torch.linalg's matmul/vecdot/multi_dot/diagonal,
F.linear, F.bilinear and F.scaled_dot_product_attention, as functions or Tensor methods.
Inputs are float32 or float64 tensors (both are graded); results keep their dtype and device,
and no function changes its inputs in place.
Run `grade einsum` to check your work.
"""

import torch


def matvec(A: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The matrix-vector product A x.

    Math: out_i = sum_j A_ij x_j.
    Shapes: A (m, n), x (n,) -> (m,).
    """
    # TODO: one torch.einsum call.
    raise NotImplementedError


def matmul(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """The matrix product A B.

    Math: out_ik = sum_j A_ij B_jk.
    Shapes: A (m, n), B (n, p) -> (m, p).
    """
    # TODO: one torch.einsum call.
    raise NotImplementedError


def trace(A: torch.Tensor) -> torch.Tensor:
    """The trace of a square matrix: the sum of its diagonal.

    Math: out = sum_i A_ii.
    Shapes: A (n, n) -> () (a 0-d tensor).
    """
    # TODO: one torch.einsum call.
    raise NotImplementedError


def outer(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The outer product a bᵀ.

    Math: out_ij = a_i b_j.
    Shapes: a (m,), b (n,) -> (m, n).
    """
    # TODO: one torch.einsum call.
    raise NotImplementedError


def batch_matmul(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """The matrix product of every pair in a batch.

    Math: out_bik = sum_j A_bij B_bjk.
    Shapes: A (b, n, m), B (b, m, p) -> (b, n, p); b may be 1.
    """
    # TODO: one torch.einsum call.
    raise NotImplementedError


def batch_trace(A: torch.Tensor) -> torch.Tensor:
    """The trace of every matrix in a batch.

    Math: out_b = sum_i A_bii.
    Shapes: A (b, n, n) -> (b,); b may be 1.
    """
    # TODO: one torch.einsum call.
    raise NotImplementedError


def attention_scores(Q: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Scaled dot-product scores of every query against every key.

    Math: out_bqk = sum_d Q_bqd K_bkd / sqrt(D), D the size of the last axis.
    Shapes: Q (b, q, d), K (b, k, d) -> (b, q, k).
    """
    # TODO: one torch.einsum call and a scale.
    raise NotImplementedError


def attention(Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention; returns (out, weights).

    Math: weights = softmax over k of (sum_d Q_bqd K_bkd / sqrt(D)); out_bqv = sum_k weights_bqk V_bkv.
    Shapes: Q (b, q, d), K (b, k, d), V (b, k, v) -> out (b, q, v), weights (b, q, k).
    Every row of weights (fixed b and q) sums to 1, and stays finite for large scores (Q and K
    with entries in the hundreds).
    """
    # TODO: two torch.einsum calls, a scale and a softmax over the key axis.
    raise NotImplementedError


def bilinear(x: torch.Tensor, A: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The bilinear form xᵀ A y.

    Math: out = sum_ij x_i A_ij y_j.
    Shapes: x (n,), A (n, n), y (n,) -> () (a 0-d tensor).
    """
    # TODO: one torch.einsum call with three operands.
    raise NotImplementedError


def batch_bilinear(X: torch.Tensor, A: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """The bilinear form of every pair of rows of X and Y.

    Math: out_b = sum_ij X_bi A_ij Y_bj.
    Shapes: X (b, n), A (n, n), Y (b, n) -> (b,); b may be 1.
    """
    # TODO: one torch.einsum call with three operands.
    raise NotImplementedError


def contract_4d(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Contract A's last two axes with B's first two.

    Math: out_abef = sum_cd A_abcd B_cdef.
    Shapes: A (a, b, c, d), B (c, d, e, f) -> (a, b, e, f).
    """
    # TODO: one torch.einsum call.
    raise NotImplementedError


def multihead_scores(Q: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Scaled dot-product scores for every batch and head.

    Math: out_bhqk = sum_d Q_bhqd K_bhkd / sqrt(D), D the size of the last axis.
    Shapes: Q (b, h, q, d), K (b, h, k, d) -> (b, h, q, k).
    """
    # TODO: one torch.einsum call and a scale.
    raise NotImplementedError
