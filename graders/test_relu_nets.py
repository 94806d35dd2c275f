"""Graders for topic `relu_nets`: pwlinr_params, fit_irony_of_spec.

Both are judged by the grading process's own forward pass on the returned weights
(dlgrade.kit.judge). The data for fit_irony_of_spec comes from the course's own generator (the
model solutions' copy of the given `irony_of_spec_data`, through the `reference` fixture),
never from the submission's copy; hidden checks use other curves of the same family.
"""

from __future__ import annotations

import torch

from dlgrade.engine.student import StudentModule
from dlgrade.kit import judge
from dlgrade.kit.checks import check, expect_params, fail

EPOCHS = 1000  # the training budget of fit_irony_of_spec (its docstring says so)
CURVE_TOLERANCE = 0.05  # RMS distance between the fitted and the true probability
PWL_SPEC = [("W1", (2, 1)), ("b1", (2,)), ("W2", (1, 2)), ("b2", (1,))]


# --- pwlinr_params ------------------------------------------------------------------------


def target(x: torch.Tensor) -> torch.Tensor:
    """The contract's function: 9x + 4.5 left of 0, -4.5x + 4.5 right of it."""
    return torch.where(x < 0, 9 * x + 4.5, -4.5 * x + 4.5)


def expect_piecewise(student: StudentModule, x: torch.Tensor, words: str, atol: float, rtol: float) -> None:
    params = expect_params(student.pwlinr_params(), PWL_SPEC, like=torch.zeros(()), case="pwlinr_params()")
    got, expected = judge.mlp_forward(params, x.reshape(-1, 1)), target(x)
    bad = (got - expected).abs() > atol + rtol * expected.abs()
    if bool(bad.any()):
        i = int((got - expected).abs().argmax())
        fail(
            f"{words}: at x = {x[i].item():.4g} the network gives {got[i].item():.6g}; expected "
            f"{expected[i].item():.6g} ({int(bad.sum())} of {len(x)} grid points are off)",
            "the network does not compute the target function",
        )


@check(
    "pwlinr_params",
    "computes 9x + 4.5 left of 0 and -4.5x + 4.5 right of 0, on [-1, 1]",
    points=3,
    hint="use relu(-x) and relu(x) as the two units (W1 = [[-1.], [1.]], b1 = 0); W2 holds minus the slopes",
)
def test_pwlinr_grid(student, reference, device):
    x = torch.linspace(-1.0, 1.0, 2001, dtype=torch.float64)
    expect_piecewise(student, x, "on a grid of 2001 points over [-1, 1]", atol=1e-5, rtol=0.0)


@check("pwlinr_params", "computes the target far from 0 too", points=1, hidden=True)
def test_pwlinr_wide(student, reference, device):
    x = torch.linspace(-100.0, 100.0, 4001, dtype=torch.float64)
    expect_piecewise(student, x, "on a grid over [-100, 100]", atol=1e-4, rtol=1e-6)


# --- fit_irony_of_spec --------------------------------------------------------------------


def expect_fits_curve(student: StudentModule, reference, data_seed: int, device: str) -> None:
    x, y, prob = reference.irony_of_spec_data(n=2000, seed=data_seed)
    x, y = x.to(device), y.to(device)
    words = f"irony_of_spec_data(seed={data_seed}), epochs={EPOCHS}"
    value = student.fit_irony_of_spec(x, y, epochs=EPOCHS, seed=1)
    params = expect_params(value, [("W1", (2, 1)), ("W2", (1, 2)), ("b2", (1,))], like=x, case=words)
    fitted = judge.irony_curve(params, x)
    distance = judge.rms(fitted, prob)
    if not distance < CURVE_TOLERANCE:
        i = int((fitted - prob.double()).abs().argmax())
        fail(
            f"{words}: the fitted probability is {distance:.3f} away from the true one (root mean square); "
            f"expected < {CURVE_TOLERANCE} (worst at x = {x[i].item():.2f}: fitted {fitted[i].item():.3f}, "
            f"true {prob[i].item():.3f})",
            "the fitted curve is too far from the true probability",
        )


@check(
    "fit_irony_of_spec",
    "the fitted probability follows the true curve on irony_of_spec_data()",
    points=3,
    hint="the probability rises then falls: one unit must look left (W1 < 0) and one right (W1 > 0); "
    "train with BCE (e.g. Adam) until the loss stops falling",
)
def test_irony_default(student, reference, device):
    expect_fits_curve(student, reference, 0, device)


@check("fit_irony_of_spec", "fits other curves of the same family", points=3, hidden=True)
def test_irony_other_curves(student, reference, device):
    for data_seed in (1, 2):
        expect_fits_curve(student, reference, data_seed, device)
