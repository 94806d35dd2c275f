"""Models the grading process runs itself on what student code returns.

Forward passes of the small networks in topics `xor` and `relu_nets`, the least-squares
optimum of a linear fit, and a linear classifier fitted to a student's features. Everything
runs in float64 on the CPU, in the grading process: student code never judges itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from dlgrade.engine.threads import one_torch_thread

F64 = torch.float64


# Tiny float64 problems run on one thread: on a busy machine, more threads only contend (a 9x9
# Newton step took 100x longer with two threads on two loaded cores).
one_thread = one_torch_thread


def _f64(*tensors: torch.Tensor) -> list[torch.Tensor]:
    return [t.detach().to(device="cpu", dtype=F64) for t in tensors]


def mlp_forward(params: Sequence[torch.Tensor], x: torch.Tensor, relu: bool = True) -> torch.Tensor:
    """Linear -> ReLU -> Linear with torch.nn.Linear's convention (x @ W.T + b); output (n,)."""
    W1, b1, W2, b2 = _f64(*params)
    (x64,) = _f64(x)
    h = x64 @ W1.T + b1
    return ((h.relu() if relu else h) @ W2.T + b2).reshape(-1)


def linear_forward(w: torch.Tensor, b: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
    """Phi @ w + b, shape (n,)."""
    w64, b64, phi64 = _f64(w, b, phi)
    return phi64 @ w64 + b64


def irony_curve(params: Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """sigmoid(W2 relu(W1 x) + b2) for Linear(1, 2, bias=False) -> ReLU -> Linear(2, 1); (n,)."""
    W1, W2, b2 = _f64(*params)
    (x64,) = _f64(x)
    return torch.sigmoid((x64.reshape(-1, 1) @ W1.T).relu() @ W2.T + b2).reshape(-1)


def mse(prediction: torch.Tensor, target: torch.Tensor) -> float:
    p, t = _f64(prediction, target)
    return float((p - t).square().mean())


def rms(a: torch.Tensor, b: torch.Tensor) -> float:
    return mse(a, b) ** 0.5


@one_thread()
def least_squares_mse(phi: torch.Tensor, y: torch.Tensor) -> float:
    """The lowest MSE any Phi @ w + b reaches on (Phi, y): the least-squares optimum."""
    phi64, y64 = _f64(phi, y)
    A = torch.cat([phi64, torch.ones(len(phi64), 1, dtype=F64)], dim=1)
    solution = torch.linalg.lstsq(A, y64.reshape(-1, 1), driver="gelsd").solution
    return mse((A @ solution).reshape(-1), y64)


@dataclass(frozen=True)
class LinearClassifier:
    """sign(standardised(features) @ w + b); fitted by `fit_classifier`."""

    w: torch.Tensor
    b: float
    mean: torch.Tensor
    scale: torch.Tensor

    def scores(self, features: torch.Tensor) -> torch.Tensor:
        (f,) = _f64(features)
        return ((f - self.mean) / self.scale) @ self.w + self.b

    def predict(self, features: torch.Tensor) -> torch.Tensor:
        """Class 1 where the score is positive, as a bool tensor (n,)."""
        return self.scores(features) > 0


@one_thread()
def fit_classifier(
    features: torch.Tensor, labels: torch.Tensor, ridge: float = 1e-4, iterations: int = 60
) -> LinearClassifier:
    """Logistic regression with a small ridge, by damped Newton steps on standardised features.

    On linearly separable data the small ridge keeps the weights finite while the fit still
    separates, close to the widest-margin direction; on data that is not separable it settles
    at the best compromise, which misclassifies some points.
    """
    (f,) = _f64(features)
    y = labels.detach().to(device="cpu", dtype=F64)
    mean, scale = f.mean(0), f.std(0, correction=0)
    scale = torch.where(scale > 1e-12, scale, torch.ones_like(scale))
    A = torch.cat([(f - mean) / scale, torch.ones(len(f), 1, dtype=F64)], dim=1)
    penalty = torch.full((A.shape[1],), ridge, dtype=F64)
    penalty[-1] = 1e-10  # the bias is not shrunk

    def loss(theta: torch.Tensor) -> float:
        z = A @ theta
        return float(torch.nn.functional.softplus(z).sub(y * z).mean() + 0.5 * (penalty * theta**2).sum())

    theta = torch.zeros(A.shape[1], dtype=F64)
    current = loss(theta)
    for _ in range(iterations):
        p = (A @ theta).sigmoid()
        grad = A.T @ (p - y) / len(y) + penalty * theta
        if float(grad.abs().max()) < 1e-10:
            break
        hessian = (A.T * (p * (1 - p))) @ A / len(y) + torch.diag(penalty)
        step = torch.linalg.solve(hessian, grad)
        t = 1.0
        while t > 1e-6 and loss(theta - t * step) > current:
            t /= 2
        theta = theta - t * step
        current = loss(theta)
    return LinearClassifier(theta[:-1], float(theta[-1]), mean, scale)
