"""`--plots` for topics `activations` and `init`: curves drawn from what the submission returns.

`prelu_backward.png`, `tanh_backward.png`, `swish_backward.png`: the student's activation
(forward) and its derivative (the student's backward with dout = 1, on the cache of the
student's forward) over x in [-4, 4], against torch's (torch.nn.functional.prelu, torch.tanh,
F.silu, derivatives by autograd). `layer_variances.png`: practice problem 4, the student's
per-layer activation variance for the four initialisations on one log-scale chart, with the
factors the lesson predicts dashed. The expected curves are computed here, in the grading
process, so a student bundle draws the same pictures without asking the answer key.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from dlgrade.engine.oracle import Oracle
from dlgrade.engine.student import StudentModule
from dlgrade.kit.checks import expect_sequence, expect_tensor
from dlgrade.plots.figures import FITTED_CURVE, TRUE_CURVE, figure, png

ALPHA, BETA = 0.25, 1.0
INIT_COLOURS = {"xavier_uniform": "#1f77b4", "xavier_normal": "#9467bd", "he_normal": "#2a9d3a",
                "random_0.01": "#d62728"}  # fmt: skip
INIT_VAR = {"xavier_uniform": 1 / 100, "xavier_normal": 1 / 100, "he_normal": 2 / 100, "random_0.01": 1e-4}

# name: (forward id, extra arguments, torch's function of x)
ACTIVATIONS: dict[str, tuple[str, tuple[Any, ...], Callable[[torch.Tensor], torch.Tensor]]] = {
    "prelu": ("prelu_forward", (torch.tensor(ALPHA),), lambda x: torch.where(x > 0, x, ALPHA * x)),
    "tanh": ("tanh_forward", (), torch.tanh),
    "swish": ("swish_forward", (torch.tensor(BETA),), lambda x: x * torch.sigmoid(BETA * x)),
}


def _student_curves(student: StudentModule, name: str, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(the student's activation, its derivative from the student's backward with dout = 1)."""
    forward, extra, _ = ACTIVATIONS[name]
    out, cache = expect_sequence(getattr(student, forward)(x, *extra), 2, what=f"the result of {forward}")
    out = expect_tensor(out, what=f"the output of {forward}")
    grads = getattr(student, forward.replace("forward", "backward"))(torch.ones_like(x), cache)
    dx = grads if name == "tanh" else expect_sequence(grads, 2, what="the gradients")[0]
    return out.detach().reshape(-1), expect_tensor(dx, what="dx").detach().reshape(-1)


def activation_plot(name: str) -> Callable[[StudentModule, Oracle], bytes]:
    def draw(student: StudentModule, reference: Oracle) -> bytes:
        x = torch.linspace(-4.0, 4.0, 401, dtype=torch.float64)
        out, dx = _student_curves(student, name, x)
        leaf = x.clone().requires_grad_(True)
        true = ACTIVATIONS[name][2](leaf)
        (true_dx,) = torch.autograd.grad(true.sum(), leaf)
        params = {"prelu": f" (alpha = {ALPHA})", "swish": f" (beta = {BETA})"}.get(name, "")
        fig, (left, right) = figure(f"{name}{params}: your forward and backward", size=(8.4, 3.8), ncols=2)
        for ax, mine, want, what in (
            (left, out, true.detach(), name),
            (right, dx, true_dx, f"d {name} / dx"),
        ):
            ax.plot(x.numpy(), want.numpy(), color=TRUE_CURVE, lw=2.5, label=f"{what} (torch)")
            ax.plot(x.numpy(), mine.numpy(), color=FITTED_CURVE, lw=1.8, ls="--", label=f"{what} (yours)")
            ax.axhline(0, color="0.7", lw=0.8)
            ax.set_xlabel("x")
            ax.legend(fontsize=8, loc="upper left")
        return png(fig)

    return draw


def variances_plot(student: StudentModule, reference: Oracle) -> bytes:
    """Practice problem 4: the four initialisations' variance per layer, log scale."""
    depth, width = 10, 100
    fig, ax = figure(
        "layer_variances: activation variance per layer\n"
        "(depth 10, width 100, ReLU; dashed: the lesson's factors)"
    )
    layers = list(range(depth + 1))
    for init, colour in INIT_COLOURS.items():
        v = expect_tensor(student.layer_variances(init), what=f"layer_variances({init!r})").detach()
        ax.semilogy(
            layers, v.double().clamp(min=1e-300).numpy(), "o-", color=colour, lw=1.8, ms=4, label=init
        )
        rho, first = width * INIT_VAR[init] / 2, width * INIT_VAR[init] * (0.5 - 0.5 / math.pi)
        ax.semilogy(layers, [1.0] + [first * rho ** (k - 1) for k in layers[1:]], ls=":", color=colour, lw=1)
    ax.set_xlabel("layer (0 = the input)")
    ax.set_ylabel("variance of x")
    ax.legend(fontsize=8, loc="lower left")
    return png(fig)


CURVES: dict[str, Callable[[StudentModule, Oracle], bytes]] = {
    "prelu_backward": activation_plot("prelu"),
    "tanh_backward": activation_plot("tanh"),
    "swish_backward": activation_plot("swish"),
    "layer_variances": variances_plot,
}
