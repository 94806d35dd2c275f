"""Topic `tensors`: shapes and axes of image batches (N, C, H, W).

Reordering axes (permute) and relabelling a shape (reshape/view) are different things: both
give the shape you asked for, only one puts the values where they belong. Reductions take
the axes to reduce as `dim=`; keepdim=True keeps them (size 1) so the result broadcasts back.
Inputs are float32 or float64 tensors (both are graded); results keep their dtype and device,
and no function changes its inputs in place.
Run `grade tensors` to check your work.
"""

import torch


def nchw_to_nhwc(x: torch.Tensor) -> torch.Tensor:
    """Move the channel axis last.

    Math: out[n, h, w, c] = x[n, c, h, w].
    Shapes: x (N, C, H, W) -> (N, H, W, C).
    """
    # TODO: reorder the axes.
    raise NotImplementedError


def spatial_mean(x: torch.Tensor) -> torch.Tensor:
    """The mean of every channel of every image over its pixels.

    Math: out[n, c] = mean over h, w of x[n, c, h, w].
    Shapes: x (N, C, H, W) -> (N, C).
    """
    # TODO: reduce over the spatial axes.
    raise NotImplementedError


def channel_normalize(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Normalise every channel with its mean and biased variance over the batch and pixels.

    Math: mean_c and var_c over n, h, w (var biased: divide by N*H*W);
    out[n, c, h, w] = (x[n, c, h, w] - mean_c) / sqrt(var_c + eps).
    Shapes: x (N, C, H, W) -> (N, C, H, W).
    """
    # TODO: per-channel statistics over dims (0, 2, 3), then normalise.
    raise NotImplementedError
