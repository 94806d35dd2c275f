"""Topic `normalization`: layer normalization and a residual block, forward and backward by hand.

Layer norm normalises each example over its own features (batch norm normalises each
feature over the batch), so it works the same for any batch size, one row included. A
residual block y = F(x) + x lets the gradient reach x through the identity path as well:
dL/dx = dL/dy (1 + dF/dx), which is why deep residual networks still train.
`depth_gradient_norms` shows it: the gradient's norm layer by layer down a deep tanh stack,
plain or residual.

Each forward returns (out, cache), each backward turns `dout` and that cache into the
gradients; the cache is plain data. float32 and float64 are graded; inputs are never changed.
Not allowed in the forward and backward functions: F.layer_norm, nn.LayerNorm and the other
built-in normalisations; in the backward functions also autograd (.backward(),
torch.autograd.*, torch.func.*). depth_gradient_norms may use autograd: the experiment, not
the backward, is its lesson.
Run `grade normalization` to check your work.
"""

from typing import Any

import torch


def layernorm_forward(
    x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5
) -> tuple[torch.Tensor, Any]:
    """Layer norm, as F.layer_norm(x, (D,), gamma, beta, eps).

    Math: per row n, mu = mean_d x[n, d], var = mean_d (x[n, d] - mu)**2 (biased),
    x_hat = (x - mu) / sqrt(var + eps), out = gamma * x_hat + beta.
    Shapes: x (N, D), gamma (D,), beta (D,) -> out (N, D); cache: anything plain.
    """
    # TODO: reduce over the features (dim 1), not over the batch.
    raise NotImplementedError


def layernorm_backward(dout: torch.Tensor, cache: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of layernorm_forward: (dx, dgamma, dbeta).

    Math: dbeta = sum_n dout, dgamma = sum_n dout * x_hat; with dx_hat = dout * gamma,
    dx = (dx_hat - mean_d dx_hat - x_hat * mean_d (dx_hat * x_hat)) / sqrt(var + eps), with
    the eps the forward was called with (any eps, not only the default: keep what you need in
    the cache).
    Shapes: dout (N, D) -> dx (N, D), dgamma (D,), dbeta (D,).
    """
    # TODO: the row's mean and variance depend on every entry of the row: three paths into dx.
    raise NotImplementedError


def residual_forward(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, Any]:
    """A residual block: out = tanh(x @ W + b) + x.

    Shapes: x (N, D), W (D, D), b (D,) -> out (N, D); cache: anything plain.
    """
    # TODO: F(x) = tanh(x @ W + b), then add the input back.
    raise NotImplementedError


def residual_backward(dout: torch.Tensor, cache: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of residual_forward: (dx, dW, db).

    Math: with t = tanh(x @ W + b) and dz = dout * (1 - t**2):
      dx = dz @ W.T + dout (the identity path), dW = x.T @ dz, db = sum_n dz.
    Shapes: dout (N, D) -> dx (N, D), dW (D, D), db (D,).
    """
    # TODO: don't forget the gradient that flows straight through the skip connection.
    raise NotImplementedError


def depth_gradient_norms(
    depth: int = 50, width: int = 64, n: int = 32, residual: bool = False, seed: int = 0
) -> torch.Tensor:
    """The lesson's experiment: how the gradient's size changes on its way down a deep stack,
    plain or residual.

    Math: x ~ N(0, 1) of shape (n, width); then `depth` layers h = tanh(h @ W), or
    h = tanh(h @ W) + h when `residual`, each with a fresh W ~ N(0, 1 / width) of shape
    (width, width); loss = the sum of every entry of the last h. Record the 2-norm over the
    whole (n, width) gradient dL/dh at the input of every layer and at the output.
    The draws, in this order and nothing else: one g = torch.Generator().manual_seed(seed);
    x = torch.randn(n, width, generator=g) first; then each layer's
    W = torch.randn(width, width, generator=g) / sqrt(width), in layer order, from that same g
    (never reseeded, no second generator); everything in float32.
    Autograd is allowed here (the experiment is the point): requires_grad, retain_grad,
    .backward() or torch.autograd.grad; a backward by hand is fine too.
    Shapes: -> (depth + 1,) float32: index 0 the gradient's norm at the input x, index i at
    the input of layer i + 1, index depth at the output (all ones there: sqrt(n * width)).
    Graded exactly: the grader re-runs this experiment with torch's own functions on the same
    draws and compares within a relative 1e-4, for the defaults and for other depths, widths,
    n, seeds and both values of `residual`. Its messages also teach the behaviour: over 50
    plain layers the input's norm falls far below the output's (under a third); with the skip
    connection it does not (it grows).
    """
    # TODO: keep every layer's input, then one backward of the sum of the last h.
    raise NotImplementedError
