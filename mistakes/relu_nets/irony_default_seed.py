"""fit_irony_of_spec's signature says seed=2: right whenever the grader passes a seed, wrong
when a caller leaves it out (the signature promises seed=1)."""
# loses: fit_irony_of_spec
# caught by: fit_irony_of_spec: a left-out seed takes the signature's default (seed=1; epochs 0)

_fit_seeded = fit_irony_of_spec


def fit_irony_of_spec(x, y, epochs=5000, seed=2):
    return _fit_seeded(x, y, epochs, seed)
