"""Topic `xor`: what a single linear layer cannot do.

XOR is 1 on exactly one of the corners (0, 1) and (1, 0) of the unit square: no line separates
those two corners from the other two. Stacking linear layers does not help (they collapse into
one); new features or a ReLU between the layers do. Linear layers follow torch.nn.Linear:
layer(x) = x @ W.T + b with W of shape (out, in).

`X` and `Y` below are given. Training exercises are graded by the grader's own forward pass
on the parameters you return, on targets and seeds of its choosing; each docstring says how
robust your training must be. Closed-form solvers (torch.linalg.lstsq, solve, inv, pinv and
the like) are not allowed in `fit_linear` and `train_xor_linear`: the lesson is gradient descent.
Inputs are float32 or float64 tensors (both are graded) and are never changed in place: results
keep the inputs' dtype and device.
Run `grade xor` to check your work, and `grade xor --plots DIR` to see the decision boundaries.
"""

import torch

X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = torch.tensor([0.0, 1.0, 1.0, 0.0])


def collapse_linear(
    W1: torch.Tensor, b1: torch.Tensor, W2: torch.Tensor, b2: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One linear layer (W, b) equal to layer 2 after layer 1, for any sizes.

    Math: W2 (W1 x + b1) + b2 = W x + b. Shapes: W1 (h, d), b1 (h,), W2 (o, h), b2 (o,)
    -> W (o, d), b (o,). Sizes d, h and o may all differ.
    """
    # TODO: expand W2 (W1 x + b1) + b2 and read off W and b.
    raise NotImplementedError


def xor_features(X: torch.Tensor) -> torch.Tensor:
    """A fixed map from points (n, 2) to features (n, k), 1 <= k <= 8, under which XOR is
    linearly separable.

    Graded by fitting the grader's own linear classifier on your features of the corners and
    of points near them: the four corners must come out right, and so must every point within
    0.1 of a corner (it gets that corner's label). Each row's features depend on that row
    alone: no labels, no lookup of the corners' positions in the batch.
    """
    # TODO: add a nonlinear feature of x1 and x2 that tells the XOR corners from the others.
    raise NotImplementedError


def fit_linear(
    Phi: torch.Tensor, y: torch.Tensor, steps: int = 2000, lr: float = 0.1, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Train a linear model Phi @ w + b on the MSE by gradient descent; return (w, b).

        Math: loss = mean((Phi @ w + b - y)^2); each step moves w and b against the gradient,
        scaled by lr. Shapes: Phi (n, k), y (n,) -> w (k,), b a 0-d tensor. Phi and y are float32
    or float64 (both graded): make w and b in Phi's dtype and on its device; leave Phi and y unchanged.
        Graded on the grader's own data with steps=500 or 1000 and lr=0.1: the MSE of (w, b)
        must come within 1e-3 of the least-squares optimum. The arguments count, and so does the
        method: steps=0 returns the start, small weights drawn from `seed` alone (every weight
        below 1 in size; another seed, another start; the same on any data), and steps=1 with
        another lr (0.05) must give exactly one gradient step from it:
        w - lr * 2/n * Phi.T @ r and b - lr * 2 * mean(r), r = Phi @ w + b - y (steps=2: exactly
        two such steps). A left-out
        argument takes the signature's default (a call without lr and seed equals one with 0.1
        and 0; one without steps equals one with steps=2000, graded at lr=1e-4).
    """
    # TODO: start from small weights (seeded), then repeat: residuals, gradient, step.
    raise NotImplementedError


def train_xor_mlp(
    X: torch.Tensor, y: torch.Tensor, hidden: int = 4, steps: int = 2000, lr: float = 0.1, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train Linear(2, hidden) -> ReLU -> Linear(hidden, 1) on the MSE; return (W1, b1, W2, b2).

    Shapes: X (4, 2), y (4,) -> W1 (hidden, 2), b1 (hidden,), W2 (1, hidden), b2 (1,), in X's
    dtype: X and y are float32 or float64 (both graded). Robustness expected: the grader calls
    it with steps=500, lr=0.1, seeds 0 to 4, on XOR and on other two-input targets (AND, OR,
    XNOR, ...) and another `hidden`; every run must reach MSE < 0.01 with every corner on the
    right side of 0.5. One plain gradient-descent run gets stuck on some seeds (a ReLU that is
    off on every corner never learns again): make it robust, e.g. with a better optimiser
    (Adam), an initialisation that keeps every unit active on some corners, or several starts
    from different initialisations keeping the best.
    The arguments count: steps=0 returns the initial parameters drawn from `seed` (another seed,
    others), every step moves them by an amount scaled by lr (lr=0 leaves them where they start),
    and steps=3 at lr=0.1 moves every one of them (W1, b1, W2 and b2: both layers are trained);
    `hidden` sets the width (graded with 3, 4 and 6). Every
    step counts: steps 0, 1, 2 and 3 give four different results, and at lr=0.01, far from
    converged, so do steps=30 and steps=60 (stop early only once converged). A left-out argument
    takes the signature's default (a call without hidden, lr and seed equals one with 4, 0.1 and
    0).
    """
    # TODO: initialise from `seed`, train, return the parameters of the trained network.
    raise NotImplementedError


def train_xor_linear(
    X: torch.Tensor, y: torch.Tensor, steps: int = 2000, lr: float = 0.1, seed: int = 0
) -> float:
    """The same training with the ReLU removed; return the final MSE as a Python float.

    Without the ReLU the network is one linear layer in disguise (see collapse_linear), so on
    XOR its loss settles at 0.25, and on any target at the least-squares optimum. Graded with
    steps=500, lr=0.1 on XOR and other targets and seeds, X and y in float32 or float64 (both
    graded): within 2e-3 of that optimum. The arguments count: steps=0 returns the loss at the
    start drawn from `seed` (another seed, another loss), lr=0 leaves the loss where it starts,
    and steps=3 at lr=0.1 changes it. Every step counts: steps 0, 1, 2 and 3 give four different
    losses, and at lr=0.01, far from converged, so do steps=30 and steps=60 (stop early only once
    converged). A left-out argument takes the signature's default (a call without lr and seed
    equals one with 0.1 and 0).
    """
    # TODO: train Linear(2, h) -> Linear(h, 1) (or one Linear(2, 1)) and return loss.item().
    raise NotImplementedError
