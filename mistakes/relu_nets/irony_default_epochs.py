"""fit_irony_of_spec's signature says epochs=4999: right whenever the grader passes epochs, one
epoch short when a caller leaves it out (the signature promises 5000). A fit that converges
stops at the same epoch either way; only data no fit converges on in 5000 epochs shows it."""
# loses: fit_irony_of_spec
# caught by: fit_irony_of_spec: left-out arguments take the signature's defaults (seed=1 at epochs 0; epochs=5000 on slow data)

_fit_budget = fit_irony_of_spec


def fit_irony_of_spec(x, y, epochs=4999, seed=1):
    return _fit_budget(x, y, epochs, seed)
