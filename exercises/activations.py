"""Topic `activations`: pReLU, tanh and swish, each with a hand-written derivative.

Each activation has a forward that returns (out, cache) and a backward that turns the
upstream gradient `dout` and that cache into the gradients, without autograd. The cache is
plain data (tensors, numbers, tuples, lists, dicts). The grader feeds your backward the
cache of your own forward and compares with autograd in float64 and centered differences.
float32 and float64 are graded; no function may change its inputs in place.

Why these three: ReLU's zero slope for x < 0 can leave units dead; pReLU learns a slope
there. tanh is zero-centred but saturates (its derivative vanishes for large |x|). Swish,
x * sigmoid(beta x), is smooth and non-monotonic, with a learnable beta.

Not allowed: torch.prelu / F.prelu / nn.PReLU / leaky_relu in the pReLU functions;
torch.tanh / Tensor.tanh / F.tanh / nn.Tanh in tanh_forward; F.silu / nn.SiLU in the swish
functions; autograd (.backward(), torch.autograd.*, torch.func.*) in every backward.
mlp_forward puts an activation to work: the MLP lesson's network with one hidden layer,
relu, sigmoid or tanh computed by hand (no torch.relu / torch.sigmoid / torch.tanh, their
Tensor methods, F.relu / F.sigmoid / F.tanh / F.threshold, nn.ReLU / nn.Sigmoid / nn.Tanh or
torch.special.expit there).
Run `grade activations` to check your work.
"""

from typing import Any

import torch


def prelu_forward(x: torch.Tensor, alpha: torch.Tensor) -> tuple[torch.Tensor, Any]:
    """Parametric ReLU, as torch.nn.PReLU: max(0, x) + alpha * min(0, x).

    Shapes: x (N, C, ...) or any shape for a 0-d alpha; alpha is 0-d (one slope shared by
    every entry) or (C,) (one slope per channel, applied along dim 1 of x).
    -> out like x; cache: anything plain.
    """
    # TODO: line a (C,) alpha up with dim 1 of x, then apply the slope where x <= 0.
    raise NotImplementedError


def prelu_backward(dout: torch.Tensor, cache: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients of prelu_forward: (dx, dalpha).

    Math: dx = dout where x > 0 and alpha * dout where x <= 0 (slope alpha at exactly
    x = 0, as torch); dalpha = sum of dout * min(0, x) over every entry that shares a slope.
    Shapes: dout like x -> dx like x, dalpha with alpha's shape (0-d or (C,)).
    """
    # TODO: reduce dalpha to alpha's shape: over every dim for 0-d, over all but dim 1 for (C,).
    raise NotImplementedError


def tanh_forward(x: torch.Tensor) -> tuple[torch.Tensor, Any]:
    """tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x)) = 2 sigmoid(2x) - 1, without overflow.

    Math: with e = exp(-2|x|) (never above 1), tanh(x) = sign(x) * (1 - e) / (1 + e).
    Shapes: x any shape -> out the same shape. x = +-1000 gives exactly +-1, no NaN.
    Compute in x's dtype (float64 arithmetic for a float64 x): 1 - out is graded to x's
    precision too, because the backward's 1 - y**2 needs it near +-1.
    """
    # TODO: never exponentiate a large positive number.
    raise NotImplementedError


def tanh_backward(dout: torch.Tensor, cache: Any) -> torch.Tensor:
    """Gradient of tanh_forward from its output y: dx = dout * (1 - y**2).

    Shapes: dout like x -> dx like x. Exactly 0 where y saturated at +-1 (x = +-1000).
    """
    # TODO: keep y in the cache; the derivative needs nothing else.
    raise NotImplementedError


def swish_forward(x: torch.Tensor, beta: torch.Tensor) -> tuple[torch.Tensor, Any]:
    """Swish: x * sigmoid(beta * x), with a learnable slope beta.

    Shapes: x any shape, beta 0-d -> out like x. Finite for x = +-1000 (beta of either sign).
    """
    # TODO: use a sigmoid that cannot overflow.
    raise NotImplementedError


def swish_backward(dout: torch.Tensor, cache: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients of swish_forward: (dx, dbeta).

    Math: with s = sigmoid(beta x), s' = s (1 - s):
      dx    = dout * (s + beta * x * s')
      dbeta = sum over every entry of dout * x**2 * s'   (beta sits inside the sigmoid next to x)
    Shapes: dout like x -> dx like x, dbeta 0-d. Finite for x = +-1000 too (s' is 0 there).
    """
    # TODO: both gradients by hand, dbeta reduced to one number.
    raise NotImplementedError


def mlp_forward(
    x: torch.Tensor,
    W1: torch.Tensor,
    b1: torch.Tensor,
    W2: torch.Tensor,
    b2: torch.Tensor,
    activation: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The MLP lesson's network with one hidden layer: (out, hidden).

    Math:  z = x @ W1 + b1           (N, H): the pre-activation, b1 added to every row
           hidden = act(z)           (N, H): the activation, on the hidden layer only
           out = hidden @ W2 + b2    (N, M): the output layer stays linear (no activation)
    Without act, the two layers collapse into one linear map (collapse_linear): the
    nonlinearity between them is what lets the network bend its decision boundary.
    `activation` names act, computed by hand from elementwise operations:
        "relu"     max(z, 0)
        "sigmoid"  1 / (1 + exp(-z)), never exponentiating a large positive number
        "tanh"     (exp(z) - exp(-z)) / (exp(z) + exp(-z)), the same way (or 2 sigmoid(2z) - 1)
    Any other name (such as "gelu" or "ReLU") raises ValueError.
    Large pre-activations: z = +-1000 must give exactly 1 and 0 (sigmoid), +1 and -1 (tanh),
    1000 and 0 (relu) in hidden, and a finite out: no inf or NaN anywhere.
    Shapes: x (N, D), W1 (D, H), b1 (H,), W2 (H, M), b2 (M,), all float32 or all float64
            -> out (N, M), hidden (N, H), in the dtype and on the device of x.
    Inputs: leave every argument unchanged (no in-place operations on x, W1, b1, W2 or b2).
    Example: x = [[1., -2.]], W1 = [[1., 0.], [0., 1.]], b1 = [0., 0.], W2 = [[1.], [1.]],
             b2 = [0.5], "relu" gives hidden = [[1., 0.]], out = [[1.5]].
    """
    # TODO: z = x @ W1 + b1, then the named activation by hand, then the linear output layer.
    raise NotImplementedError
