"""fit_linear starts from randn / 0.01 (weights near 100) instead of randn * 0.01: the one-step
check starts from the returned start, and the fits still get close; the start is not small."""
# loses: fit_linear
# caught by: fit_linear: starts from small weights drawn from the seed alone (steps 0, seeds 4 and 5: every weight below 1 in size, the same start on other data)


def fit_linear(Phi, y, steps=2000, lr=0.1, seed=0):
    g = torch.Generator().manual_seed(seed)
    n, k = Phi.shape
    w = (torch.randn(k, generator=g, dtype=torch.float64) / 0.01).to(Phi.dtype).to(Phi.device)
    b = torch.zeros((), dtype=Phi.dtype, device=Phi.device)
    y = y.to(Phi.dtype)
    for _ in range(steps):
        residual = Phi @ w + b - y
        w, b = w - lr * (2.0 / n) * (Phi.T @ residual), b - lr * 2.0 * residual.mean()
    return w, b
