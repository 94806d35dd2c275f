"""fit_irony_of_spec's signature says seed=2: right whenever the grader passes a seed, wrong
when a caller leaves it out (the signature promises seed=1)."""
# loses: fit_irony_of_spec
# caught by: fit_irony_of_spec: left-out arguments take the signature's defaults (seed=1 at epochs 0; epochs=5000 on slow data)

_fit_seeded = fit_irony_of_spec


def fit_irony_of_spec(x, y, epochs=5000, seed=2):
    return _fit_seeded(x, y, epochs, seed)
