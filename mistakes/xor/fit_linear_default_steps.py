"""fit_linear's signature says steps=2001: right whenever the grader passes steps, one step too
many when a caller leaves it out (the signature promises 2000). A run that converges stops at
the same step either way; only a run too slow to converge in 2000 steps (lr 1e-4) shows it."""
# loses: fit_linear
# caught by: fit_linear: left-out arguments take the signature's defaults (lr=0.1, seed=0 at steps 3; steps=2000 at lr 1e-4)

_fit_linear_budget = fit_linear


def fit_linear(Phi, y, steps=2001, lr=0.1, seed=0):
    return _fit_linear_budget(Phi, y, steps, lr, seed)
