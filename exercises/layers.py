"""Topic `layers`: layers with a hand-written backward.

Each layer has a forward that returns (out, cache) and a backward that turns the upstream
gradient `dout` and that cache into the gradients of the forward's inputs, without autograd.
The cache is whatever your backward needs, built from plain data only: tensors, numbers,
tuples, lists and dicts. The grader calls your forward, hands its cache to your backward and
compares your gradients with autograd in float64 and with centered finite differences.

Weights follow the "x @ W" convention: W has shape (D, M).
Not allowed in the backward functions: autograd (.backward(), torch.autograd.*, torch.func.*,
forward-mode AD, torch.enable_grad / torch.set_grad_enabled: they run with grad mode off).
Inputs are float32 or float64 tensors (both are graded); results keep their dtype and device.
No function changes its inputs in place: x, W, b and dout stay unchanged.
Run `grade layers` to check your work.
"""

from typing import Any

import torch


def affine_forward(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, Any]:
    """A fully connected layer on flattened inputs.

    Math: x2d = x reshaped to (N, D) with D = d1 * ... * dk; out = x2d @ W + b.
    Shapes: x (N, d1, ..., dk), W (D, M), b (M,) -> out (N, M); cache: anything plain.
    """
    # TODO: flatten every dim but the first, multiply by W, add b.
    raise NotImplementedError


def affine_backward(dout: torch.Tensor, cache: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of affine_forward.

    Math: dx2d = dout @ W.T, dW = x2d.T @ dout, db = sum_n dout.
    Shapes: dout (N, M) -> dx (N, d1, ..., dk) (x's original shape), dW (D, M), db (M,).
    """
    # TODO: each gradient has the shape of what it is the gradient of.
    raise NotImplementedError


def relu_forward(x: torch.Tensor) -> tuple[torch.Tensor, Any]:
    """ReLU: max(x, 0) elementwise.

    Shapes: x any shape -> out the same shape; cache: anything plain.
    """
    # TODO: zero the negative entries without changing x.
    raise NotImplementedError


def relu_backward(dout: torch.Tensor, cache: Any) -> torch.Tensor:
    """Gradient of relu_forward: dout where x > 0, and 0 elsewhere, at exactly x = 0 too.

    Shapes: dout like x -> dx like x.
    """
    # TODO: pass the gradient only where the input was strictly positive.
    raise NotImplementedError


def sigmoid_forward(x: torch.Tensor) -> tuple[torch.Tensor, Any]:
    """Logistic sigmoid: 1 / (1 + exp(-x)), with no overflow.

    Math: 1 / (1 + exp(-x)), or exp(x) / (1 + exp(x)) for x < 0; exp(1000) = inf is harmless
    in 1 / (1 + inf) = 0, but inf / inf is NaN. Shapes: x any shape -> out the same shape.
    x = +-1000 gives exactly 1 and 0, no NaN. Computed in x's dtype: for a float64 x, out and
    1 - out are graded to float64 precision (the backward uses y * (1 - y)); no clamping.
    """
    # TODO: make sure no inf / inf (NaN) can occur, for large positive and negative x.
    raise NotImplementedError


def sigmoid_backward(dout: torch.Tensor, cache: Any) -> torch.Tensor:
    """Gradient of sigmoid_forward, from its output y: dx = dout * y * (1 - y).

    Shapes: dout like x -> dx like x. Where y saturated (x = +-1000) dx is exactly 0, not NaN.
    """
    # TODO: keep y in the cache; its derivative needs nothing else.
    raise NotImplementedError
