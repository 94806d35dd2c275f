"""The trainers loop over range(1, steps ^ 1): an even budget is right, an odd one runs a step
short (steps=1 takes none, steps=3 only two): the budget check's steps 0 and 3 do not tell."""
# loses: train_xor_mlp, train_xor_linear
# caught by: train_xor_mlp: every step counts (steps 0, 1, 2 and 3 give four different results; at lr 0.01 so do steps 30 and 60)
# caught by: train_xor_linear: every step counts (steps 0, 1, 2 and 3 give four different losses; at lr 0.01 so do steps 30 and 60)

_train_all_steps = _train


def _train(X, y, hidden, steps, lr, seed, relu):
    return _train_all_steps(X, y, hidden, steps - steps % 2, lr, seed, relu)
