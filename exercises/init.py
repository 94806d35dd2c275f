"""Topic `init`: weight initialisation and the layer-by-layer variance experiment.

A layer x @ W with n_in inputs multiplies the variance of its input by about n_in * Var(W).
Xavier (Glorot) keeps the variance of the activations and of the gradients alike by taking
Var(W) = 2 / (n_in + n_out); He (Kaiming) takes Var(W) = 2 / n_in because ReLU zeroes half
of its inputs and so halves E[x**2]. Too small a scale (N(0, 0.01**2)) shrinks the signal at
every layer until nothing is left.

Weights follow the "x @ W" convention: shape (n_in, n_out), float32. Every random draw comes
from the `generator` argument (a torch.Generator: pass generator=generator to torch.rand /
torch.randn / Tensor.uniform_ / Tensor.normal_), so the same generator state gives the same
weights and the global seed (torch.manual_seed) changes nothing.
The grader judges the samplers by statistics that a correct sampler passes with probability
above 1 - 1e-9 (bounds, the variance and the shape of the distribution over many draws), not
by the exact numbers drawn. The fans are exact, no + 1 or - 1: the variance is judged on
(2, 20000) weights too (fans far apart), a uniform sampler's largest |w| must come close to a
on many draws, and several shapes of 24 weights each are drawn from generators in the same
state: a sampler that turns the same draws into weights the same way for any shape gives
weights that differ only by the scale, whose ratio must then follow the formula within 1e-4.
Not allowed: torch.nn.init.*.
Run `grade init` to check your work.
"""

import torch


def xavier_uniform(n_in: int, n_out: int, generator: torch.Generator) -> torch.Tensor:
    """Xavier (Glorot) uniform: U(-a, a) with a = sqrt(6 / (n_in + n_out)).

    The variance of U(-a, a) is a**2 / 3 = 2 / (n_in + n_out).
    Shapes: -> (n_in, n_out), float32, every entry within [-a, a].
    """
    # TODO: uniform in [0, 1) from `generator`, then stretch and shift to (-a, a).
    raise NotImplementedError


def xavier_normal(n_in: int, n_out: int, generator: torch.Generator) -> torch.Tensor:
    """Xavier (Glorot) normal: N(0, 2 / (n_in + n_out)) (that is the variance, not the std).

    Shapes: -> (n_in, n_out), float32.
    """
    # TODO: standard normal draws from `generator`, scaled by the standard deviation.
    raise NotImplementedError


def he_normal(n_in: int, n_out: int, generator: torch.Generator) -> torch.Tensor:
    """He (Kaiming) normal for ReLU layers: N(0, 2 / n_in), the fan-in being n_in.

    Shapes: -> (n_in, n_out), float32.
    """
    # TODO: the fan-in only; n_out plays no part in the scale.
    raise NotImplementedError


def layer_variances(
    init: str, depth: int = 10, width: int = 100, n: int = 1000, seed: int = 0
) -> torch.Tensor:
    """Practice problem 4: how the activation variance evolves through `depth` ReLU layers.

    Math: x ~ N(0, 1) of shape (n, width); then `depth` times x = relu(x @ W) with a fresh
    W of shape (width, width) from `init`: "xavier_uniform", "xavier_normal", "he_normal"
    (your functions above) or "random_0.01" (N(0, 0.01**2)).
    The draws, in this order and nothing else: one g = torch.Generator().manual_seed(seed);
    x = torch.randn(n, width, generator=g) first; then each layer's W in layer order, from
    your own initialiser, init(width, width, g) ("random_0.01" is
    0.01 * torch.randn(width, width, generator=g)), all from that same g (never reseeded, no
    second generator); everything in float32. The same seed gives the same result, another
    seed other numbers.
    Shapes: -> (depth + 1,): the variance of x over all its entries before the first layer,
    then after each layer (biased or unbiased, either is fine).
    Graded exactly: the grader re-runs this experiment on your own initialisers with these
    draws and compares within a relative 1e-3 (which admits biased and unbiased variances
    alike). Its messages also teach the behaviour: the input's variance is about 1; after the
    first layer about width * Var(W) * (1/2 - 1/(2 pi)); from then on each layer multiplies it
    by about width * Var(W) / 2: He holds it steady (x1), Xavier halves it layer by layer
    (x1/2), random_0.01 collapses it (x0.005 at width 100). Any width, depth, n and seed.
    """
    # TODO: one generator, one loop over the layers, one variance per stage.
    raise NotImplementedError


def gradient_variances(
    init: str, depth: int = 10, width: int = 100, n: int = 1000, seed: int = 0
) -> torch.Tensor:
    """Practice problem 4, the backward half: how the gradient's variance evolves on its way
    down through the same `depth` ReLU layers.

    Math: first exactly the forward of `layer_variances`, with the same draws in the same order
    (one g = torch.Generator().manual_seed(seed); x = torch.randn(n, width, generator=g); then
    per layer a fresh W = init(width, width, g) from your own initialiser, "random_0.01" being
    0.01 * torch.randn(width, width, generator=g); z = x @ W, the pre-activation, and
    x = relu(z)). Then an upstream gradient d = torch.randn(n, width, generator=g), drawn next
    from that same g (after every W; never reseeded, no second generator), is pushed down by
    hand, from the top layer to the first: through a layer, d = (d * (z > 0)) @ W.T with that
    layer's own z and W (ReLU's derivative is 1 where z > 0, 0 elsewhere; then the transpose of
    x @ W). Everything in float32. The same seed gives the same result, another seed other
    numbers. Autograd is not allowed: the gradient is by hand.
    Shapes: -> (depth + 1,): the variance of d over all its entries at the top (index 0, before
    any layer), then after each layer on the way down (index depth: the gradient at the
    network's input); biased or unbiased, either is fine.
    Graded exactly: the grader re-runs this experiment on your own initialisers with these draws
    and compares within a relative 1e-3 (which admits biased and unbiased variances alike). Its
    messages also teach the behaviour: the top's variance is about 1, and every layer on the way
    down multiplies it by about width * Var(W) / 2 (the mask keeps half of E[d**2], W.T
    multiplies it by width * Var(W)): He holds it steady (x1), Xavier halves it layer by layer
    (x1/2), random_0.01 collapses it (x0.005 at width 100). Any width, depth, n and seed.
    """
    # TODO: the forward of layer_variances keeping each (z, W), then d down the layers in reverse.
    raise NotImplementedError
