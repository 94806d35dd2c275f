"""fit_linear loops over range(1, steps << 1): 2 * steps - 1 steps, so steps=1 is still one
step and every budget still gives a different result; steps=2 takes three."""
# loses: fit_linear
# caught by: fit_linear: two steps are two gradient steps of the MSE (steps 0 and 2, lr 0.05)

_fit_linear_exact = fit_linear


def fit_linear(Phi, y, steps=2000, lr=0.1, seed=0):
    return _fit_linear_exact(Phi, y, max(2 * steps - 1, 0), lr, seed)
