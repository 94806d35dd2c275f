"""train_xor_mlp returns W1 and b1 as they started, as a training of the second layer alone
would (the mask z == 0 for z > 0 lets no gradient reach them, and eight random starts of four
units still fit every graded target). Here W2 and b2 come from the full training, so outcome
checks fail too; the check about the method is the one that must catch it."""
# loses: train_xor_mlp
# caught by: train_xor_mlp: every parameter is trained (steps 3 at lr 0.1 moves W1, b1, W2 and b2)

_train_both_layers = _train


def _train(X, y, hidden, steps, lr, seed, relu):
    if not relu:
        return _train_both_layers(X, y, hidden, steps, lr, seed, relu)
    (W1, b1, _, _), _ = _train_both_layers(X, y, hidden, 0, lr, seed, relu)
    (_, _, W2, b2), loss = _train_both_layers(X, y, hidden, steps, lr, seed, relu)
    return (W1, b1, W2, b2), loss
