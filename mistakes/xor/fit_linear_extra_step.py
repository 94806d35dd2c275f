"""fit_linear loops over range(steps + 1): one step too many, so steps=0 returns the start moved
once on the data. Every check that compares steps with steps still sees exact gradient steps
(steps=1 is one step from what steps=0 returns): only the start's independence of the data tells."""
# loses: fit_linear
# caught by: fit_linear: starts from small weights drawn from the seed alone (steps 0, seeds 4 and 5: every weight below 1 in size, the same start on other data)
# mistake: an off-by-one training loop (range(steps + 1)): steps=0 takes one step
# teaches: steps=0 returns the untrained start, which has not seen the data

_fit_linear_exact = fit_linear


def fit_linear(Phi, y, steps=2000, lr=0.1, seed=0):
    return _fit_linear_exact(Phi, y, steps + 1, lr, seed)
