"""Model solutions for topic `init` (written from scratch; no torch.nn.init)."""

import math

import torch


def xavier_uniform(n_in: int, n_out: int, generator: torch.Generator) -> torch.Tensor:
    """U(-a, a), a = sqrt(6 / (n_in + n_out))."""
    a = math.sqrt(6.0 / (n_in + n_out))
    return torch.rand(n_in, n_out, generator=generator) * (2 * a) - a


def xavier_normal(n_in: int, n_out: int, generator: torch.Generator) -> torch.Tensor:
    """N(0, 2 / (n_in + n_out))."""
    return torch.randn(n_in, n_out, generator=generator) * math.sqrt(2.0 / (n_in + n_out))


def he_normal(n_in: int, n_out: int, generator: torch.Generator) -> torch.Tensor:
    """N(0, 2 / n_in)."""
    return torch.randn(n_in, n_out, generator=generator) * math.sqrt(2.0 / n_in)


def _small(n_in: int, n_out: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(n_in, n_out, generator=generator) * 0.01


INITS = {
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he_normal": he_normal,
    "random_0.01": _small,
}


def layer_variances(
    init: str, depth: int = 10, width: int = 100, n: int = 1000, seed: int = 0
) -> torch.Tensor:
    """The variance of x before the first of `depth` ReLU layers and after each one, with the
    initialisers of this module as they are bound when it runs (a submission's own)."""
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; expected one of {', '.join(INITS)}")
    make = {"xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal, "he_normal": he_normal}.get(
        init, _small
    )
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, width, generator=g)  # the contract's draw order: x, then each W in turn
    out = [x.var()]
    for _ in range(depth):
        x = torch.relu(x @ make(width, width, g))
        out.append(x.var())
    return torch.stack(out)


def gradient_variances(
    init: str, depth: int = 10, width: int = 100, n: int = 1000, seed: int = 0
) -> torch.Tensor:
    """The variance of an upstream gradient at the top of the `layer_variances` network (its
    forward re-drawn in the same order) and after each layer on the way down, by hand."""
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; expected one of {', '.join(INITS)}")
    make = {"xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal, "he_normal": he_normal}.get(
        init, _small
    )
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, width, generator=g)  # the draw order: x, each W in turn, then d
    layers = []
    for _ in range(depth):
        w = make(width, width, g)
        z = x @ w
        layers.append((z, w))
        x = torch.relu(z)
    d = torch.randn(n, width, generator=g)
    out = [d.var()]
    for z, w in reversed(layers):
        d = (d * (z > 0)) @ w.T
        out.append(d.var())
    return torch.stack(out)
