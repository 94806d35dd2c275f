"""`--plots` for `depth_gradient_norms` (topic `normalization`): plain against residual stacks.

`depth_gradient_norms.png`: the student's gradient norm at every layer's input, from the input
(layer 0) to the output (layer 50), for a plain and a residual stack of 50 tanh layers on one
log-scale chart, over the experiment re-run in the grading process by torch's autograd on
the same draws (dlgrade.kit.experiments, what the grader judges against), drawn pale and wide.
Nothing is asked of the answer key, so a student bundle draws the same picture.
"""

from __future__ import annotations

from collections.abc import Callable

from dlgrade.engine.oracle import Oracle
from dlgrade.engine.student import StudentModule
from dlgrade.kit import experiments
from dlgrade.kit.checks import CheckFailure, expect_tensor
from dlgrade.plots.figures import figure, png

DEPTH, WIDTH, N = 50, 64, 32  # the exercise's defaults: the lesson's experiment
STACK_COLOURS = {"plain": "#1f77b4", "residual": "#e07b00"}


def depth_norms_plot(student: StudentModule, reference: Oracle) -> bytes:
    """The student's norms per layer, plain and residual, log scale, over torch's (pale, wide)."""
    fig, ax = figure(
        f"depth_gradient_norms: the gradient's norm at each layer\n"
        f"(depth {DEPTH}, width {WIDTH}, n {N}, tanh; pale: torch, same draws)"
    )
    layers = list(range(DEPTH + 1))
    for stack, colour in STACK_COLOURS.items():
        residual = stack == "residual"
        got = expect_tensor(
            student.depth_gradient_norms(residual=residual), what=f"the {stack} stack's norms"
        )
        if tuple(got.shape) != (DEPTH + 1,) or not got.is_floating_point():
            raise CheckFailure(
                f"the {stack} stack's norms have shape {tuple(got.shape)}; expected ({DEPTH + 1},)",
                "the norms have the wrong shape",
            )
        want = experiments.depth_gradient_norms(DEPTH, WIDTH, N, residual=residual)
        mine = got.detach().cpu().double().clamp(min=1e-300).numpy()
        ax.semilogy(layers, want.numpy(), color=colour, lw=6, alpha=0.3, label=f"{stack} (torch)")
        ax.semilogy(layers, mine, "o-", color=colour, lw=1.6, ms=3, label=f"{stack} (yours)")
    ax.set_xlabel(f"layer (0 = the input, {DEPTH} = the output)")
    ax.set_ylabel("||dL/dh||, L = sum of the last h")
    ax.legend(fontsize=8, loc="upper right")
    return png(fig)


DEPTH_PLOTS: dict[str, Callable[[StudentModule, Oracle], bytes]] = {
    "depth_gradient_norms": depth_norms_plot,
}
