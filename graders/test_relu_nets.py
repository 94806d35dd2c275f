"""Graders for topic `relu_nets`: pwlinr_params, fit_irony_of_spec.

Both are judged by the grading process's own forward pass on the returned weights
(dlgrade.kit.judge). The data for fit_irony_of_spec comes from the course's own generator (the
model solutions' copy of the given `irony_of_spec_data`, through the `reference` fixture),
never from the submission's copy; hidden checks use other curves of the same family.
"""

from __future__ import annotations

import pytest
import torch

from dlgrade.engine.student import StudentModule
from dlgrade.kit import judge
from dlgrade.kit.checks import check, expect_params, fail
from dlgrade.kit.memo import Runs

EPOCHS = 1000  # the training budget of fit_irony_of_spec (its docstring says so)
DEFAULT_EPOCHS = 5000  # its signature's default
CURVE_TOLERANCE = 0.05  # RMS distance between the fitted and the true probability
PWL_SPEC = [("W1", (2, 1)), ("b1", (2,)), ("W2", (1, 2)), ("b2", (1,))]
IRONY_SPEC = [("W1", (2, 1)), ("W2", (1, 2)), ("b2", (1,))]
BCE_GRADIENT = 2e-4  # at the fit, |d BCE / d (W2, b2)|: Adam reaches ~1e-5 in 1000 epochs, an MSE fit 6e-4+


@pytest.fixture(scope="module")
def runs() -> Runs:
    return Runs()


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


def fit_on(runs: Runs, student: StudentModule, reference, data_seed: int, device: str):
    """(words, x, y, prob, the student's parameters) for the fit on one curve, made once per run."""
    x, y, prob = reference.irony_of_spec_data(n=2000, seed=data_seed)
    x, y = x.to(device), y.to(device)
    words = f"irony_of_spec_data(seed={data_seed}), epochs={EPOCHS}"
    value = runs.call(student, "fit_irony_of_spec", x, y, epochs=EPOCHS, seed=1).value
    return words, x, y, prob, expect_params(value, IRONY_SPEC, like=x, case=words)


def expect_fits_curve(runs: Runs, student: StudentModule, reference, data_seed: int, device: str) -> None:
    words, x, _, prob, params = fit_on(runs, student, reference, data_seed, device)
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
def test_irony_default(student, reference, device, runs):
    expect_fits_curve(runs, student, reference, 0, device)


@check("fit_irony_of_spec", "fits other curves of the same family", points=3, hidden=True)
def test_irony_other_curves(student, reference, device, runs):
    for data_seed in (1, 2):
        expect_fits_curve(runs, student, reference, data_seed, device)


@check(
    "fit_irony_of_spec",
    "fitted by the binary cross-entropy: its gradient in W2 and b2 vanishes at the fit",
    points=1,
    hint="train on the BCE (F.binary_cross_entropy or -mean(y log p + (1 - y) log(1 - p))), not the MSE, "
    "until it stops falling: at its minimum mean(p - y) = 0 and mean((p - y) * h) = 0",
)
def test_irony_bce(student, reference, device, runs):
    words, x, y, _, (W1, W2, b2) = fit_on(runs, student, reference, 0, device)
    h = (x.double().reshape(-1, 1) @ W1.double().cpu().T).relu()
    r = judge.irony_curve((W1, W2, b2), x) - y.double().cpu()
    grad = torch.cat([(h * r[:, None]).mean(0), r.mean().reshape(1)])
    if float(grad.abs().max()) > BCE_GRADIENT:
        fail(
            f"{words}: at the returned parameters the gradient of the binary cross-entropy in (W2, b2) is "
            f"{[round(v, 6) for v in grad.tolist()]}; at its minimum it is 0 (allowed: {BCE_GRADIENT:g})",
            "the fit is not a minimum of the binary cross-entropy",
        )


@check(
    "fit_irony_of_spec",
    "honours epochs and seed (epochs 0, seeds 1 and 2; the start the same on other data)",
    points=1,
    hint="epochs=0 returns the untrained start drawn from `seed` alone: use the arguments, not constants, "
    "and loop exactly `epochs` times (range(epochs), not range(epochs + 1))",
)
def test_irony_budget(student, reference, device, runs):
    x, y, _ = reference.irony_of_spec_data(n=2000, seed=0)
    x, y = x.to(device), y.to(device)
    *_, trained = fit_on(runs, student, reference, 0, device)
    got = [
        expect_params(
            student.fit_irony_of_spec(x, y, epochs=0, seed=s), IRONY_SPEC, like=x, case=f"epochs=0, seed={s}"
        )
        for s in (1, 2)
    ]
    start, other, done = [
        torch.cat([p.detach().cpu().double().reshape(-1) for p in ps]) for ps in (*got, trained)
    ]
    if torch.allclose(start, done, rtol=1e-9, atol=1e-12):
        fail(
            f"fit_irony_of_spec(epochs=0, seed=1) returned what epochs={EPOCHS} returned: with no epoch, "
            "return the start",
            "epochs=0 returned trained parameters",
        )
    if torch.allclose(start, other, rtol=1e-9, atol=1e-12):
        fail(
            "fit_irony_of_spec(epochs=0) gave the same start for seed=1 and seed=2: draw it from `seed`",
            "another seed gave the same start",
        )
    # The labels flipped: at a start near p = 1/2 every gradient changes sign, so that even an
    # optimiser whose first step is lr * sign(gradient) (Adam's) lands elsewhere after one epoch.
    elsewhere = irony_params(student, x, 1 - y, "the labels flipped, epochs=0, seed=1", epochs=0, seed=1)
    if not torch.allclose(start, elsewhere, rtol=1e-9, atol=1e-12):
        fail(
            "fit_irony_of_spec(epochs=0, seed=1) returned different parameters on irony_of_spec_data() "
            "and on the same x with the labels flipped (1 - y): with no epoch nothing has seen the data, "
            "so the start depends on `seed` alone (is an epoch taken when epochs=0?)",
            "epochs=0 returned parameters that depend on the data",
        )


def irony_params(
    student: StudentModule, x: torch.Tensor, y: torch.Tensor, case: str, **kwargs
) -> torch.Tensor:
    """fit_irony_of_spec's (W1, W2, b2) for `kwargs`, as one float64 vector."""
    got = expect_params(student.fit_irony_of_spec(x, y, **kwargs), IRONY_SPEC, like=x, case=case)
    return torch.cat([p.detach().cpu().double().reshape(-1) for p in got])


@check(
    "fit_irony_of_spec",
    "every epoch counts (epochs 0, 1, 2 and 3 give four different results)",
    points=1,
    hint="loop exactly `epochs` times (range(epochs) or range(1, epochs + 1)), one update per epoch",
)
def test_irony_every_epoch(student, reference, device):
    x, y, _ = reference.irony_of_spec_data(n=2000, seed=0)
    x, y = x.to(device), y.to(device)
    got = [irony_params(student, x, y, f"epochs={e}, seed=1", epochs=e, seed=1) for e in range(4)]
    for a in range(4):
        for b in range(a + 1, 4):
            if torch.allclose(got[a], got[b], rtol=1e-9, atol=1e-12):
                fail(
                    f"fit_irony_of_spec(irony_of_spec_data(), seed=1) returned the same for epochs={a} and "
                    f"epochs={b}: train for exactly `epochs` epochs, each of which moves the parameters",
                    f"epochs={a} and epochs={b} gave the same result",
                )


@check(
    "fit_irony_of_spec",
    "left-out arguments take the signature's defaults (seed=1 at epochs 0; epochs=5000 on slow data)",
    points=1,
    hint="keep the signature's defaults: def fit_irony_of_spec(x, y, epochs=5000, seed=1)",
)
def test_irony_default_seed(student, reference, device):
    x, y, _ = reference.irony_of_spec_data(n=2000, seed=0)
    x, y = x.to(device), y.to(device)
    left_out = irony_params(student, x, y, "epochs=0", epochs=0)
    if not torch.allclose(
        left_out, irony_params(student, x, y, "epochs=0, seed=1", epochs=0, seed=1), rtol=1e-9, atol=1e-12
    ):
        fail(
            "fit_irony_of_spec(irony_of_spec_data(), epochs=0) and (..., epochs=0, seed=1) differ: "
            "a left-out seed takes the default in the signature",
            "a left-out seed did not take its default",
        )
    # Data no run fits within 5000 epochs (a separable step in x of size 1e-3: the fit's weights
    # grow without bound, and slowly), so that one epoch more or less shows.
    xs = torch.linspace(-1e-3, 1e-3, 64, device=device)
    ys = (xs > 0).to(xs.dtype)
    words = "64 points in [-0.001, 0.001], y = (x > 0)"
    if not torch.allclose(
        irony_params(student, xs, ys, words),
        irony_params(student, xs, ys, f"{words}, epochs={DEFAULT_EPOCHS}", epochs=DEFAULT_EPOCHS),
        rtol=1e-9,
        atol=1e-12,
    ):
        fail(
            f"fit_irony_of_spec({words}) and (..., epochs={DEFAULT_EPOCHS}) differ: a left-out epochs "
            f"takes the default in the signature, {DEFAULT_EPOCHS}",
            "a left-out epochs did not take its default",
        )
