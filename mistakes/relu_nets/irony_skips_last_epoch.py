"""fit_irony_of_spec loops over range(1, epochs): one epoch short, so epochs=1 trains nothing;
1000 epochs less one still reach the fit, so only a small budget tells."""
# loses: fit_irony_of_spec
# caught by: fit_irony_of_spec: every epoch counts (epochs 0, 1, 2 and 3 give four different results)

_fit_all_epochs = fit_irony_of_spec


def fit_irony_of_spec(x, y, epochs=5000, seed=1):
    return _fit_all_epochs(x, y, max(epochs - 1, 0), seed)
