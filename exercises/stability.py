"""Topic `stability`: numerically stable reductions.

exp overflows for inputs above ~88 (float32) and underflows for very negative ones, so the
textbook formulas return inf or nan on perfectly reasonable logits. Write each function
from elementary operations (max/amax, exp, log, sum, where) so that it stays finite.

Not allowed here: torch.softmax, torch.log_softmax, torch.logsumexp and their Tensor
methods, torch.special / torch.nn.functional softmax variants, nn.Softmax, scipy.special, and
softmax in disguise: cross_entropy / nll_loss (and nn.CrossEntropyLoss / NLLLoss),
torch.logaddexp, torch.distributions' categorical distributions.
Inputs are float32 or float64 tensors (both are graded); results keep the input's dtype and
device, and no function changes its input in place. Arguments left out take the signature's
defaults (dim=-1: the last dim).
Run `grade stability` to check your work.
"""

import torch


def logsumexp(x: torch.Tensor, dim: int = -1, keepdim: bool = False) -> torch.Tensor:
    """log(sum(exp(x))) along `dim`; equals torch.logsumexp(x, dim, keepdim).

    Math: with m = max(x, dim), logsumexp(x) = m + log(sum(exp(x - m))).
    Shapes: x (..., n, ...) -> x without `dim` (or with size 1 there if keepdim).
    Finite for any finite x (1e30 in float32 too); an all -inf slice gives -inf,
    a +inf entry gives +inf, NaN propagates.
    """
    # TODO: shift by the max so that exp never overflows; mind slices whose max is infinite.
    raise NotImplementedError


def stable_softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """softmax along `dim`; equals torch.softmax(x, dim).

    Math: softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m), m = max(x, dim).
    Shapes: same as x. No NaN/Inf for finite x ([1000., 2000., 3000.] -> [0., 0., 1.]);
    -inf entries get probability 0; every slice along `dim` sums to 1.
    """
    # TODO: subtract the max along dim (keepdim=True), exponentiate, normalise.
    raise NotImplementedError


def log_softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """log of softmax along `dim`; equals torch.log_softmax(x, dim).

    Math: log_softmax(x) = (x - m) - log(sum(exp(x - m))), m = max(x, dim).
    Shapes: same as x. Finite for finite x ([1000., 2000., 3000.] -> [-2000., -1000., 0.]) and
    precise near the dtype's largest value: there x - logsumexp(x) subtracts two huge, nearly
    equal numbers and loses the answer, so subtract the max first. -inf entries stay -inf.
    """
    # TODO: work in log space; never take the log of a probability that underflowed to 0.
    raise NotImplementedError


def clip_grad_norm(
    grads: list[torch.Tensor], max_norm: float, eps: float = 1e-6
) -> tuple[list[torch.Tensor], float]:
    """Clip gradients by their total norm; equals torch.nn.utils.clip_grad_norm_ on copies.

    Math: total_norm = sqrt(sum over every tensor g and every entry of g**2) (one norm for
    all the gradients together, not one per tensor); every gradient is multiplied by the
    same factor min(1, max_norm / (total_norm + eps)), so the direction is kept.
    Shapes: grads a list of tensors of any shapes -> (clipped, total_norm): a new list of
    tensors with the same shapes and dtypes, and total_norm as a Python float.
    The tensors in `grads` are left unchanged (no in-place scaling).
    Not allowed: torch.nn.utils.clip_grad_norm_, clip_grads_with_norm_, get_total_norm.
    """
    # TODO: one total norm over all gradients, one scale factor, new tensors.
    raise NotImplementedError
