"""`grade --plots DIR`: pictures of what a submission learned, drawn in the grading process.

Topic `xor`: the decision regions over the unit square of the grader's linear classifier on
the student's features, and of the student's trained network. Topic `relu_nets`: the fitted
irony-of-spec probability against the true one. Topics `activations` and `init`: see
dlgrade.plots.curves; `depth_gradient_norms` (topic `normalization`): dlgrade.plots.depth.
Student code runs in the sandbox, exactly as in grading; the grading process judges and
draws (matplotlib, Agg) and writes PNGs atomically.
Expected values come through an Oracle, as in the graders: in a student bundle, which has no
model solutions, from its recorded answers (the plots ask only what the public checks ask).
Importing this module does not import matplotlib. `gradient_variances`: dlgrade.plots.gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from dlgrade.core.atomic import write_atomic
from dlgrade.core.calls import StudentError
from dlgrade.core.manifest import Course
from dlgrade.engine.answers import UnrecordedQuestion
from dlgrade.engine.exercise_sandbox import ExerciseSandbox
from dlgrade.engine.oracle import Oracle
from dlgrade.engine.references import answer_source
from dlgrade.engine.session import course_sandbox
from dlgrade.engine.student import StudentModule
from dlgrade.intake.submission import open_submission
from dlgrade.kit import judge
from dlgrade.kit.cases import corners, truth_table, xor_training_set
from dlgrade.kit.checks import CheckFailure, expect_params, expect_tensor
from dlgrade.plots.curves import CURVES
from dlgrade.plots.depth import DEPTH_PLOTS
from dlgrade.plots.figures import FITTED_CURVE, TRUE_CURVE, figure, png
from dlgrade.plots.gradients import GRADIENTS

# Region colours (RGB) for class 0 and class 1, and the marker colours drawn on top of them.
REGION = ((0.80, 0.87, 0.95), (0.98, 0.85, 0.70))
MARKER = ("#1f5fa8", "#c8590b")
LOW, HIGH, SIDE = -0.25, 1.25, 301  # the grid over the unit square (and a margin around it)
STEPS, EPOCHS = 500, 1000  # the budgets the graders use


class PlotError(Exception):
    """Plots cannot be drawn (matplotlib missing); the message is one line."""


def write_plots(course: Course, submission: str | None, names: Sequence[str], folder: Path) -> list[str]:
    """Draw the plots of the selected exercises that have one into `folder`; one line per exercise."""
    selected = [e for e in course.select(list(names)) if e.id in PLOTS]
    if not selected:
        return [f"no plots for the selected exercises (plots exist for {', '.join(PLOTS)})"]
    try:
        from matplotlib.figure import Figure  # noqa: F401 - fail early, with advice
    except ImportError:
        raise PlotError("--plots needs matplotlib: pip install matplotlib") from None
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    with open_submission(course, submission) as sub:
        sandbox = course_sandbox(course)
        oracle = answer_source(course).oracle
        for e in selected:
            box = ExerciseSandbox(sandbox, course, e, str(sub.folder), {})
            try:
                png = PLOTS[e.id](StudentModule(box), oracle(e.module))
            except StudentError as exc:
                lines.append(f"{e.id}: not plotted: {exc.public()}")
                continue
            except CheckFailure as exc:
                lines.append(f"{e.id}: not plotted: {exc.public}")
                continue
            except UnrecordedQuestion as exc:  # a bundle whose answers lack what the plot asks
                lines.append(f"{e.id}: not plotted: {exc}")
                continue
            finally:
                box.close()
            path = write_atomic(folder / f"{e.id}.png", png)
            lines.append(f"wrote {path}")
    return lines


def _grid() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(points (SIDE², 2), x1 grid, x2 grid) over [LOW, HIGH]², row i holding x2 = const."""
    axis = torch.linspace(LOW, HIGH, SIDE)
    x2, x1 = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([x1.reshape(-1), x2.reshape(-1)], dim=1), x1, x2


def _regions(ax: Any, cls: torch.Tensor, score: torch.Tensor, x1: torch.Tensor, x2: torch.Tensor) -> None:
    """Class regions in two flat colours, the boundary, and the corners with their XOR labels."""
    from matplotlib.colors import ListedColormap

    ax.imshow(
        cls.reshape(SIDE, SIDE).float().numpy(),
        origin="lower",
        extent=(LOW, HIGH, LOW, HIGH),
        cmap=ListedColormap(REGION),
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )
    ax.contour(
        x1.numpy(), x2.numpy(), score.reshape(SIDE, SIDE).numpy(), levels=[0.0], colors="k", linewidths=1
    )
    from matplotlib.patches import Circle

    c, y = corners(), truth_table("XOR")
    for x1c, x2c in c.tolist():  # the points the grader checks lie within 0.1 of a corner
        ax.add_patch(Circle((x1c, x2c), 0.1, fill=False, ls=":", lw=1, ec="0.3", zorder=2))
    for label in (0, 1):
        at = c[y == label]
        ax.scatter(
            at[:, 0], at[:, 1], s=120, c=MARKER[label], edgecolors="k", zorder=3, label=f"XOR = {label}"
        )
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_aspect("equal")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8, frameon=False)


def features_plot(student: StudentModule, reference: Oracle) -> bytes:
    """The grader's linear classifier on the student's features, over the unit square."""
    points, labels = xor_training_set()
    clf = judge.fit_classifier(expect_tensor(student.xor_features(points), what="the features"), labels)
    grid, x1, x2 = _grid()
    phi = expect_tensor(student.xor_features(grid), what="the features of the grid")
    if phi.dim() != 2 or phi.shape[0] != grid.shape[0]:
        raise CheckFailure(f"the features have shape {tuple(phi.shape)}", "the features have the wrong shape")
    score = clf.scores(phi)
    at_corners = clf.predict(expect_tensor(student.xor_features(corners()), what="the features"))
    right = int((at_corners == truth_table("XOR").bool()).sum())
    fig, ax = figure(f"xor_features: a linear classifier on your features\n{right} of 4 corners right")
    _regions(ax, score > 0, score, x1, x2)
    return png(fig)


def mlp_plot(student: StudentModule, reference: Oracle) -> bytes:
    """The student's network trained on XOR (seed 0), over the unit square, by the grader's forward pass."""
    x, y = corners(), truth_table("XOR")
    value = student.train_xor_mlp(x, y, hidden=4, steps=STEPS, lr=0.1, seed=0)
    params = expect_params(
        value, [("W1", (4, 2)), ("b1", (4,)), ("W2", (1, 4)), ("b2", (1,))], like=x, case="XOR, seed=0"
    )
    grid, x1, x2 = _grid()
    out = judge.mlp_forward(params, grid)
    mse = judge.mse(judge.mlp_forward(params, x), y)
    fig, ax = figure(
        f"train_xor_mlp: your network on XOR (seed 0)\nMSE on the corners {mse:.3g}; boundary at 0.5"
    )
    _regions(ax, out > 0.5, out - 0.5, x1, x2)
    return png(fig)


def irony_plot(student: StudentModule, reference: Oracle) -> bytes:
    """The student's fitted probability on irony_of_spec_data() against the true one."""
    x, y, prob = reference.irony_of_spec_data(n=2000, seed=0)
    value = student.fit_irony_of_spec(x, y, epochs=EPOCHS, seed=1)
    params = expect_params(value, [("W1", (2, 1)), ("W2", (1, 2)), ("b2", (1,))], like=x)
    order = torch.argsort(x)
    xs = torch.linspace(float(x.min()), float(x.max()), 400)
    distance = judge.rms(judge.irony_curve(params, x), prob)
    fig, ax = figure(f"fit_irony_of_spec on irony_of_spec_data()\nroot-mean-square distance {distance:.3f}")
    centres, share = _binned_share(x, y, bins=24)
    ax.scatter(centres.numpy(), share.numpy(), s=14, c="0.45", label="share of y = 1 per bin", zorder=2)
    ax.plot(x[order].numpy(), prob[order].numpy(), color=TRUE_CURVE, lw=2.5, label="true probability")
    ax.plot(
        xs.numpy(), judge.irony_curve(params, xs).numpy(), color=FITTED_CURVE, lw=2, ls="--", label="your fit"
    )
    ax.set_xlabel("x")
    ax.set_ylabel("P(y = 1)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8, loc="upper left")
    return png(fig)


def _binned_share(x: torch.Tensor, y: torch.Tensor, bins: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(bin centres, mean of y in each bin) over equal-width bins of x; empty bins are NaN."""
    edges = torch.linspace(float(x.min()), float(x.max()), bins + 1)
    which = torch.bucketize(x, edges[1:-1])
    count = torch.bincount(which, minlength=bins).double()
    total = torch.bincount(which, weights=y.double(), minlength=bins)
    return (edges[:-1] + edges[1:]) / 2, total / count


PLOTS: dict[str, Callable[[StudentModule, Oracle], bytes]] = {
    "xor_features": features_plot,
    "train_xor_mlp": mlp_plot,
    "fit_irony_of_spec": irony_plot,
    **CURVES,
    **DEPTH_PLOTS,
    **GRADIENTS,
}
