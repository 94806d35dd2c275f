"""fit_irony_of_spec loops over range(epochs + 1): one epoch too many, so epochs=0 returns a start
that has already taken one step on the data. Epochs 0, 1, 2 and 3 still give four different
results and seeds still differ: only the start's independence of the data tells."""
# loses: fit_irony_of_spec
# caught by: fit_irony_of_spec: honours epochs and seed (epochs 0, seeds 1 and 2; the start the same on other data)
# mistake: an off-by-one training loop (range(epochs + 1)): epochs=0 trains once
# teaches: epochs=0 returns the untrained start, which has not seen the data

_fit_exact = fit_irony_of_spec


def fit_irony_of_spec(x, y, epochs=5000, seed=1):
    return _fit_exact(x, y, epochs + 1, seed)
