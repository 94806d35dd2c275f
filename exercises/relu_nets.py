"""Topic `relu_nets`: bending lines with ReLU.

A ReLU unit relu(w x + b) is a line with a kink; a layer of them adds kinks together, so a
small network computes a piecewise-linear function, and through a sigmoid, a probability that
can rise and then fall. Linear layers follow torch.nn.Linear: layer(x) = x @ W.T + b.

`irony_of_spec_data` is given: a synthetic stand-in for the lesson's data set (the lesson loads
a CSV from the web; this package works offline). Run `grade relu_nets` to check your work,
and `grade relu_nets --plots DIR` to see your fitted curve against the truth.
Leave the inputs unchanged (no in-place operations on x or y).
"""

import torch


def pwlinr_params() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Weights (W1, b1, W2, b2) of Linear(1, 2) -> ReLU -> Linear(2, 1) computing
    f(x) = 9x + 4.5 for x < 0 and f(x) = -4.5x + 4.5 for x > 0.

    Shapes: W1 (2, 1), b1 (2,), W2 (1, 2), b2 (1,), float32. Graded exactly (to 1e-5) on a
    dense grid over [-1, 1], and beyond it.
    """
    # TODO: one unit for each side of the kink at 0, then weigh the units by their slopes.
    raise NotImplementedError


def irony_of_spec_data(n: int = 2000, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Given: a synthetic stand-in for the lesson's data set (x, y, prob), float32, shape (n,).

    x is uniform on [-3, 3]; the log-odds rise with slope `rise` up to `peak` at x = 0 and fall
    with slope `fall` after it, so the probability rises, then falls. `seed` picks the curve
    (peak in [0.5, 2], rise in [1, 3], fall in [0.5, 2]) and the samples; y ~ Bernoulli(prob).
    """
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(3, generator=g, dtype=torch.float64)
    peak, rise, fall = 0.5 + 1.5 * u[0], 1.0 + 2.0 * u[1], 0.5 + 1.5 * u[2]
    x = torch.rand(n, generator=g, dtype=torch.float64) * 6.0 - 3.0
    prob = torch.sigmoid(peak + torch.where(x < 0, rise * x, -fall * x))
    y = torch.bernoulli(prob, generator=g)
    return x.float(), y.float(), prob.float()


def fit_irony_of_spec(
    x: torch.Tensor, y: torch.Tensor, epochs: int = 5000, seed: int = 1
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fit Linear(1, 2, bias=False) -> ReLU -> Linear(2, 1) -> Sigmoid to (x, y) with the binary
    cross-entropy; return (W1, W2, b2).

    Shapes: x, y (n,), float32 -> W1 (2, 1), W2 (1, 2), b2 (1,), in x's dtype. Graded by how close the
    fitted probability comes to the true `prob` (root-mean-square distance over the samples
    below 0.05): on irony_of_spec_data() and on other curves of the same family, with
    epochs=1000 on 2000 points. Without a first-layer bias both units bend at x = 0 and each
    sees only the side its weight points to: make sure one unit looks each way, and choose an
    optimiser and learning rate that converge within the budget: at the returned parameters the
    BCE's gradient in W2 and b2 (mean((p - y) * hidden) and mean(p - y)) must be below 2e-4,
    which a minimum of the BCE meets and a fit of another loss (the MSE) does not. The
    arguments count: epochs=0 returns the untrained start, drawn from `seed` alone (the same on
    any data; another seed, another start); every epoch counts (epochs 0, 1, 2 and 3 give four
    different results); a call without seed equals one with seed=1, and one without epochs one
    with epochs=5000, the signature's defaults (graded on data no fit converges on in 5000 epochs).
    """
    # TODO: build the network, then train it for `epochs` full-batch steps on the BCE.
    raise NotImplementedError
