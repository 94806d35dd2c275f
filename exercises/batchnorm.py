"""Topic `batchnorm`: batch normalization by hand, forward and backward.

Batch norm standardises each feature with the statistics of the current batch, then scales
and shifts it: out = gamma * (x - mean) / sqrt(var + eps) + beta. You write the forward, its
gradients (by hand: the chain rule through the mean and the variance is the lesson), the
running statistics a layer keeps for inference, and the inference-mode forward.

A forward returns (out, cache). The cache is whatever your backward needs, built from plain
data only: tensors, numbers, tuples, lists and dicts. The grader calls your forward, hands
its cache to your backward and compares your gradients with autograd in float64, so the
backward is judged on your own forward: get the forward right first.

Not allowed here: torch.nn.functional.batch_norm (and instance/layer/group/rms norm),
torch.batch_norm and friends, nn.BatchNorm1d/2d/3d and the other norm layers; in the
backward functions, autograd (.backward(), torch.autograd.*, torch.func.*, forward-mode AD,
torch.enable_grad / torch.set_grad_enabled: the backward functions run with grad mode off).
Inputs are float32 or float64 tensors (both are graded); results keep their dtype and device.
No function changes its inputs in place: x, gamma, beta, the running statistics and dout
stay unchanged.
Run `grade batchnorm` to check your work.
"""

from typing import Any

import torch


def batchnorm_forward(
    x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5
) -> tuple[torch.Tensor, Any]:
    """Training-mode batch norm; `out` equals nn.BatchNorm1d(D) in training mode.

    Math: mean = x.mean(0), var = ((x - mean)**2).mean(0) (biased: divide by N),
          out = gamma * (x - mean) / sqrt(var + eps) + beta.
    Shapes: x (N, D), gamma (D,), beta (D,) -> out (N, D); cache: anything plain.
    """
    # TODO: compute the batch statistics, normalise, scale and shift; keep what backward needs.
    raise NotImplementedError


def batchnorm_backward(dout: torch.Tensor, cache: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of batchnorm_forward, from its cache alone (no autograd).

    Math: with x_hat = (x - mean) / sqrt(var + eps) and dx_hat = dout * gamma,
          dbeta = sum_n dout, dgamma = sum_n dout * x_hat,
          dx = (dx_hat - mean_n(dx_hat) - x_hat * mean_n(dx_hat * x_hat)) / sqrt(var + eps).
    Shapes: dout (N, D) -> dx (N, D), dgamma (D,), dbeta (D,).
    """
    # TODO: backpropagate through the scale, the normalisation, the variance and the mean.
    raise NotImplementedError


def batchnorm_running_stats(
    x: torch.Tensor, running_mean: torch.Tensor, running_var: torch.Tensor, momentum: float = 0.1
) -> tuple[torch.Tensor, torch.Tensor]:
    """The running statistics after one training step, exactly as nn.BatchNorm1d updates them.

    Math: new = (1 - momentum) * running + momentum * batch_statistic, where the variance
          tracked here is the unbiased one (divide by N - 1), unlike the forward's.
    Shapes: x (N, D), running_mean (D,), running_var (D,) -> (new_mean (D,), new_var (D,)).
    Return new tensors; leave running_mean and running_var unchanged.
    """
    # TODO: blend the batch mean and the unbiased batch variance into the running statistics.
    raise NotImplementedError


def batchnorm_inference(
    x: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    running_mean: torch.Tensor,
    running_var: torch.Tensor,
    eps: float = 1e-5,
) -> torch.Tensor:
    """Eval-mode batch norm; equals nn.BatchNorm1d in eval mode.

    Math: out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta, for any eps.
    Shapes: x (N, D), the others (D,) -> out (N, D). Works for a batch of one.
    """
    # TODO: normalise with the running statistics, not with the batch's own.
    raise NotImplementedError


def batchnorm2d_forward(
    x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5
) -> tuple[torch.Tensor, Any]:
    """Training-mode spatial batch norm; `out` equals nn.BatchNorm2d(C) in training mode.

    Math: as batchnorm_forward, with one mean and one (biased) variance per channel taken
          over N, H and W together.
    Shapes: x (N, C, H, W), gamma (C,), beta (C,) -> out (N, C, H, W); cache: anything plain.
    """
    # TODO: take the statistics over dims (0, 2, 3) and broadcast gamma/beta as (1, C, 1, 1).
    raise NotImplementedError


def batchnorm2d_backward(dout: torch.Tensor, cache: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of batchnorm2d_forward, from its cache alone (no autograd).

    Math: as batchnorm_backward, with every sum and mean over N, H and W.
    Shapes: dout (N, C, H, W) -> dx (N, C, H, W), dgamma (C,), dbeta (C,).
    """
    # TODO: reuse the 1-d formula with the statistics taken over (0, 2, 3).
    raise NotImplementedError


def batchnorm2d_inference(
    x: torch.Tensor,
    running_mean: torch.Tensor,
    running_var: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    eps: float = 1e-5,
) -> torch.Tensor:
    """Eval-mode spatial batch norm (practice problem 5c); equals nn.BatchNorm2d(C).eval().

    At inference the statistics are the running ones, one mean and one variance per channel:
    nothing is computed from x itself, so a batch of one image, even of 1x1 pixels, works.
    Math: out[n, c, h, w] = gamma[c] * (x[n, c, h, w] - running_mean[c])
                            / sqrt(running_var[c] + eps) + beta[c], for any eps.
    Shapes: x (N, C, H, W) float32 or float64; running_mean, running_var, gamma, beta (C,)
            -> out (N, C, H, W), the dtype of x. The (C,) tensors line up with dim 1 (the
            channels), not with the last dim (W). Graded on larger inputs as well.
    """
    # TODO: reshape the per-channel tensors to (1, C, 1, 1) and normalise with the running statistics.
    raise NotImplementedError
