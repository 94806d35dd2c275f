"""Bounds that a correct random sampler violates with probability below `p` (topic `init`).

Each bound holds for any sample size, without a normal approximation:
- mean of n draws of N(0, s^2): |mean| <= z s / sqrt(n), z the two-sided normal quantile of p;
- sum of squares of n draws of N(0, s^2) (chi-square with n degrees of freedom, Laurent and
  Massart 2000): n - 2 sqrt(n t) <= sum / s^2 <= n + 2 sqrt(n t) + 2t with t = ln(2 / p);
- mean of n draws bounded in [lo, hi] (Hoeffding): within (hi - lo) sqrt(ln(2 / p) / (2n));
- the empirical CDF of n draws (Dvoretzky-Kiefer-Wolfowitz, Massart's constant): the
  Kolmogorov-Smirnov distance to the true CDF is at most sqrt(ln(2 / p) / (2n));
- the largest |w| of n draws of U(-a, a) reaches a (1 - t) unless every draw falls inside,
  which happens with probability (1 - t)^n <= exp(-t n) = p for t = ln(1 / p) / n.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

P_FAIL = 1e-10  # per bound; a check tests a handful of them, so a correct sampler fails one below 1e-9


def normal_quantile(p: float) -> float:
    """z with P(|Z| > z) = p for a standard normal Z (bisection on erfc)."""
    lo, hi = 0.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if math.erfc(mid / math.sqrt(2)) > p else (lo, mid)
    return hi


def hoeffding(n: int, width: float, p: float = P_FAIL) -> float:
    """Half-width of the interval around the true mean for n draws in a range of `width`."""
    return width * math.sqrt(math.log(2 / p) / (2 * n))


def normal_mean_bound(n: int, std: float, p: float = P_FAIL) -> float:
    return normal_quantile(p) * std / math.sqrt(n)


def normal_square_mean_bounds(n: int, var: float, p: float = P_FAIL) -> tuple[float, float]:
    """Bounds on mean(w**2) for n draws of N(0, var)."""
    t = math.log(2 / p)
    return var * (n - 2 * math.sqrt(n * t)) / n, var * (n + 2 * math.sqrt(n * t) + 2 * t) / n


def edge_gap(n: int, p: float = P_FAIL) -> float:
    """t such that the largest |w| of n draws of U(-a, a) is below a (1 - t) with probability p."""
    return math.log(1 / p) / n


def dkw_epsilon(n: int, p: float = P_FAIL) -> float:
    return math.sqrt(math.log(2 / p) / (2 * n))


def ks_distance(samples: torch.Tensor, cdf: Callable[[torch.Tensor], torch.Tensor]) -> float:
    """sup_x |F_n(x) - F(x)| for the empirical CDF F_n of `samples` and a continuous CDF F."""
    x = samples.detach().reshape(-1).to(torch.float64).sort().values
    n = x.numel()
    f = cdf(x)
    i = torch.arange(1, n + 1, dtype=torch.float64)
    return float(torch.maximum(i / n - f, f - (i - 1) / n).max())


def normal_cdf(std: float) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: 0.5 * (1 + torch.erf(x / (std * math.sqrt(2))))


def uniform_cdf(a: float) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: ((x + a) / (2 * a)).clamp(0.0, 1.0)
