"""`gradient_variances.png`: practice problem 4's two halves side by side, forward and backward.

Left, the student's `layer_variances` (the activations' variance per layer); right, the
student's `gradient_variances` (the upstream gradient's variance on its way down), for the four
initialisations (depth 10, width 100), on log scales with the lesson's factors dotted. Both
panels put layer 0 (the network's input) on the left, so the gradient, listed from the top,
is drawn from right to left. The expected factors are computed here, in the grading process;
the answer key is asked nothing. A `layer_variances` that cannot be drawn leaves its panel with
the reason written in it; the gradient panel is the exercise's plot and is always drawn.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from dlgrade.core.calls import StudentError
from dlgrade.engine.oracle import Oracle
from dlgrade.engine.student import StudentModule
from dlgrade.kit.checks import CheckFailure, expect_tensor
from dlgrade.plots.curves import INIT_COLOURS, INIT_VAR
from dlgrade.plots.figures import figure, png

DEPTH, WIDTH = 10, 100


def _series(student: StudentModule, fn: str) -> dict[str, torch.Tensor]:
    """{init: the student's variances} for the four initialisations, as float64 on the CPU."""
    out = {}
    for init in INIT_COLOURS:
        v = expect_tensor(getattr(student, fn)(init), what=f"{fn}({init!r})").detach().cpu().double()
        if tuple(v.shape) != (DEPTH + 1,):
            raise CheckFailure(f"{fn}({init!r}) has shape {tuple(v.shape)}", f"{fn} has the wrong shape")
        out[init] = v
    return out


def _panel(
    ax: Any, series: dict[str, torch.Tensor], lesson: dict[str, list[float]], ylabel: str, corner: str
) -> None:
    layers = list(range(DEPTH + 1))
    for init, colour in INIT_COLOURS.items():
        if init in series:
            v = series[init].clamp(min=1e-300).numpy()
            ax.semilogy(layers, v, "o-", color=colour, lw=1.8, ms=4, label=init)
        ax.semilogy(layers, lesson[init], ls=":", color=colour, lw=1)
    ax.set_xlabel("layer (0 = the network's input)")
    ax.set_ylabel(ylabel)
    if series:
        ax.legend(fontsize=8, loc=corner)


def _lesson(forward: bool) -> dict[str, list[float]]:
    """The lesson's prediction per layer: the forward's first-layer factor then x width*Var(W)/2 per
    layer; the gradient's variance 1 at the top, x width*Var(W)/2 per layer on the way down."""
    out = {}
    for init, var_w in INIT_VAR.items():
        rho, first = WIDTH * var_w / 2, WIDTH * var_w * (0.5 - 0.5 / math.pi)
        if forward:
            out[init] = [1.0] + [first * rho ** (k - 1) for k in range(1, DEPTH + 1)]
        else:
            out[init] = [rho ** (DEPTH - k) for k in range(DEPTH + 1)]
    return out


def gradients_plot(student: StudentModule, reference: Oracle) -> bytes:
    """Forward (layer_variances) beside backward (gradient_variances), four initialisations."""
    down = {init: v.flip(0) for init, v in _series(student, "gradient_variances").items()}
    try:
        up, missing = _series(student, "layer_variances"), ""
    except (StudentError, CheckFailure) as exc:
        up, missing = {}, exc.public() if isinstance(exc, StudentError) else exc.public
    fig, (left, right) = figure(
        "practice problem 4, both ways (depth 10, width 100, ReLU; dotted: the lesson's factors)",
        size=(10.4, 4.6),
        ncols=2,
    )
    _panel(left, up, _lesson(forward=True), "variance of the activations (layer_variances)", "lower left")
    left.set_title("the activations flow left to right, from the input", fontsize=9)
    if missing:
        left.text(
            0.5, 0.5, f"layer_variances: not plotted\n{missing[:80]}", ha="center", transform=left.transAxes
        )
    _panel(
        right, down, _lesson(forward=False), "variance of the gradient (gradient_variances)", "lower right"
    )
    right.set_title("the gradient flows right to left, from the top", fontsize=9)
    return png(fig)


GRADIENTS = {"gradient_variances": gradients_plot}
