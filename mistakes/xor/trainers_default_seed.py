"""Every trainer's signature says seed=1: right whenever the grader passes a seed, wrong when
a caller leaves it out (the signature promises seed=0)."""
# loses: fit_linear, train_xor_mlp, train_xor_linear
# caught by: fit_linear: left-out arguments take the signature's defaults (lr=0.1, seed=0 at steps 3; steps=2000 at lr 1e-4)
# caught by: train_xor_mlp: left-out arguments take the signature's defaults (hidden=4, lr=0.1, seed=0; steps 3)
# caught by: train_xor_linear: left-out arguments take the signature's defaults (lr=0.1, seed=0; steps 3)

_fit_linear_seeded, _train_xor_mlp_seeded, _train_xor_linear_seeded = fit_linear, train_xor_mlp, train_xor_linear


def fit_linear(Phi, y, steps=2000, lr=0.1, seed=1):
    return _fit_linear_seeded(Phi, y, steps, lr, seed)


def train_xor_mlp(X, y, hidden=4, steps=2000, lr=0.1, seed=1):
    return _train_xor_mlp_seeded(X, y, hidden, steps, lr, seed)


def train_xor_linear(X, y, steps=2000, lr=0.1, seed=1):
    return _train_xor_linear_seeded(X, y, steps, lr, seed)
