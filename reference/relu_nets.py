"""Model solutions for topic `relu_nets` (written from scratch: hand-written gradients)."""

import torch

CHECK_EVERY = 25  # epochs between convergence checks


def pwlinr_params() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Unit 1 is relu(-x), unit 2 is relu(x): f(x) = 4.5 - 9 relu(-x) - 4.5 relu(x)."""
    W1 = torch.tensor([[-1.0], [1.0]])
    b1 = torch.zeros(2)
    W2 = torch.tensor([[-9.0, -4.5]])
    b2 = torch.tensor([4.5])
    return W1, b1, W2, b2


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
    """Linear(1, 2, bias=False) -> ReLU -> Linear(2, 1) -> Sigmoid, fitted with BCE by Adam.

    Without a first-layer bias both units bend at x = 0, and a unit only sees the side its
    weight's sign points to; its weight's size folds into the second layer. So the first
    layer is set to (1, -1), one unit per side, and the rest is trained: BCE is then convex
    in (W2, b2), and full-batch Adam reaches the best fit from any start.
    """
    g = torch.Generator().manual_seed(seed)
    dt, n = x.dtype, x.shape[0]
    W1 = torch.tensor([[1.0], [-1.0]], dtype=dt, device=x.device)
    # Features relu(x), relu(-x) and 1: the gradient of the BCE in (W2, b2) is A.T (p - y) / n.
    A = torch.cat([(x.reshape(-1, 1) @ W1.T).relu(), torch.ones(n, 1, dtype=dt, device=x.device)], dim=1)
    theta = (torch.randn(3, generator=g, dtype=torch.float64) * 0.1).to(dt).to(x.device)
    m, v = torch.zeros_like(theta), torch.zeros_like(theta)
    for epoch in range(1, epochs + 1):
        p = torch.sigmoid(A @ theta)
        grad = A.T @ (p - y.to(dt)) / n
        m.lerp_(grad, 0.1)
        v.mul_(0.999).addcmul_(grad, grad, value=0.001)
        theta = theta - 0.1 * (1 - 0.999**epoch) ** 0.5 / (1 - 0.9**epoch) * m / (v.sqrt() + 1e-8)
        if epoch % CHECK_EVERY == 0 and float(grad.abs().max()) < 1e-5:
            break
    return W1, theta[:2].reshape(1, 2).clone(), theta[2:].clone()
