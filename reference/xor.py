"""Model solutions for topic `xor` (written from scratch: hand-written gradients, no closed forms)."""

import torch

X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = torch.tensor([0.0, 1.0, 1.0, 0.0])

CANDIDATES = 8  # networks trained side by side; the one with the lowest training loss wins
CHECK_EVERY = 25  # steps between convergence checks (each one is a sync with Python)


def collapse_linear(
    W1: torch.Tensor, b1: torch.Tensor, W2: torch.Tensor, b2: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One linear layer equal to layer 2 after layer 1: W2 (W1 x + b1) + b2."""
    return W2 @ W1, W2 @ b1 + b2


def xor_features(X: torch.Tensor) -> torch.Tensor:
    """(x1, x2, x1 * x2): XOR = x1 + x2 - 2 x1 x2 is linear in these three features."""
    return torch.cat([X, X[:, :1] * X[:, 1:]], dim=1)


def fit_linear(
    Phi: torch.Tensor, y: torch.Tensor, steps: int = 2000, lr: float = 0.1, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient descent on mean((Phi w + b - y)^2), gradients written out by hand."""
    g = torch.Generator().manual_seed(seed)
    n, k = Phi.shape
    w = (torch.randn(k, generator=g, dtype=torch.float64) * 0.01).to(Phi.dtype).to(Phi.device)
    b = torch.zeros((), dtype=Phi.dtype, device=Phi.device)
    y = y.to(Phi.dtype)
    for step in range(1, steps + 1):
        residual = Phi @ w + b - y
        grad_w, grad_b = (2.0 / n) * (Phi.T @ residual), 2.0 * residual.mean()
        w, b = w - lr * grad_w, b - lr * grad_b
        if step % CHECK_EVERY == 0 and max(float(grad_w.abs().max()), abs(float(grad_b))) < 1e-6:
            break
    return w, b


def train_xor_mlp(
    X: torch.Tensor, y: torch.Tensor, hidden: int = 4, steps: int = 2000, lr: float = 0.1, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Linear(2, hidden) -> ReLU -> Linear(hidden, 1) on MSE: Adam, several starts, the best kept."""
    params, _ = _train(X, y, hidden, steps, lr, seed, relu=True)
    return params


def train_xor_linear(
    X: torch.Tensor, y: torch.Tensor, steps: int = 2000, lr: float = 0.1, seed: int = 0
) -> float:
    """The same network without the ReLU; it can do no better than the least-squares line."""
    _, loss = _train(X, y, 4, steps, lr, seed, relu=False)
    return loss


def _train(
    X: torch.Tensor, y: torch.Tensor, hidden: int, steps: int, lr: float, seed: int, relu: bool
) -> tuple[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], float]:
    """Train CANDIDATES two-layer networks at once (one batched tensor) with Adam; keep the best.

    One start can get stuck (a ReLU that is off on every corner gets no gradient and never
    recovers); eight independent starts all getting stuck is vanishingly rare. Each unit's
    kink starts through the middle of the data, so every unit begins active on some corners.
    """
    K, (n, d), dt = CANDIDATES, X.shape, X.dtype
    g = torch.Generator().manual_seed(seed)
    sizes = [hidden * d, hidden, hidden, 1]
    flat = torch.empty(K, sum(sizes), dtype=dt, device=X.device)  # all parameters, one row each
    W1, b1, W2, b2 = (
        part.view(K, *shape)
        for part, shape in zip(
            flat.split(sizes, dim=1), [(hidden, d), (1, hidden), (hidden, 1), (1, 1)], strict=True
        )
    )
    W1.copy_(torch.randn(K, hidden, d, generator=g, dtype=torch.float64))
    b1.copy_(-(W1 @ X.mean(0)).unsqueeze(1))
    W2.copy_(torch.randn(K, hidden, 1, generator=g, dtype=torch.float64) / hidden**0.5)
    b2.fill_(float(y.mean()))
    Xb, t = X.expand(K, n, d), y.to(dt).reshape(1, n, 1)
    m, v = torch.zeros_like(flat), torch.zeros_like(flat)
    for step in range(1, steps + 1):
        z = torch.baddbmm(b1, Xb, W1.transpose(1, 2))  # (K, n, hidden)
        h = z.relu() if relu else z
        err = torch.baddbmm(b2, h, W2) - t  # (K, n, 1)
        d_out = err * (2.0 / n)
        dz = d_out @ W2.transpose(1, 2)
        if relu:
            dz = dz * (z > 0)
        grad = torch.cat(
            [
                (dz.transpose(1, 2) @ Xb).flatten(1),
                dz.sum(1),
                (h.transpose(1, 2) @ d_out).flatten(1),
                d_out.sum(1),
            ],
            dim=1,
        )
        m.lerp_(grad, 0.1)
        v.mul_(0.999).addcmul_(grad, grad, value=0.001)
        flat.addcdiv_(m, v.sqrt().add_(1e-8), value=-lr * (1 - 0.999**step) ** 0.5 / (1 - 0.9**step))
        if step % CHECK_EVERY == 0 and _converged(err, grad, relu):
            break
    losses = _mse(Xb, t, W1, b1, W2, b2, relu)
    best = int(losses.argmin())
    params = (W1[best].clone(), b1[best, 0].clone(), W2[best].T.clone(), b2[best, 0].clone())
    return params, float(losses[best])


def _converged(err: torch.Tensor, grad: torch.Tensor, relu: bool) -> bool:
    losses = err.square().mean((1, 2))
    best = int(losses.argmin())
    return float(losses[best]) < 1e-8 or float(grad[best].abs().max()) < 1e-6


def _mse(
    Xb: torch.Tensor,
    t: torch.Tensor,
    W1: torch.Tensor,
    b1: torch.Tensor,
    W2: torch.Tensor,
    b2: torch.Tensor,
    relu: bool,
) -> torch.Tensor:
    z = torch.baddbmm(b1, Xb, W1.transpose(1, 2))
    out = torch.baddbmm(b2, z.relu() if relu else z, W2)
    return (out - t).square().mean((1, 2))
