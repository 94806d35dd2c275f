"""Relative-error comparisons (the CS231n gradient check): the largest error, and where it is.

Backward passes and finite-difference checks are judged here; the message names the worst
entry ("dgamma: rel. error 3e-1 at index 4; got 0.5, expected 0.7 (a correct dgamma is
within 1e-7)").
"""

from __future__ import annotations

import math
from typing import Any

import torch

from dlgrade.core.declare import fail
from dlgrade.core.words import fmt, fmt_pair
from dlgrade.kit.checks import _expect_layout, _prefix, expect_tensor

# Relative-error checks (expect_rel_close), by dtype: (largest relative error, floor). The
# floor is the fraction of the tensor's scale below which an entry's error is judged against
# that scale (rounding leaves entries near zero with no correct digits).
REL_TOLERANCES: dict[torch.dtype, tuple[float, float]] = {
    torch.float16: (1e-2, 1e-1),
    torch.bfloat16: (5e-2, 1e-1),
    torch.float32: (1e-3, 1e-3),
    torch.float64: (1e-7, 1e-6),
}


def sci(x: float) -> str:
    """A relative error in brief: 3e-1, 4.2e-8, inf."""
    if not math.isfinite(x):
        return fmt(x)
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa.removesuffix('.0')}e{int(exponent)}"


def rel_error(got: torch.Tensor, expected: torch.Tensor, floor: float = 1e-6) -> torch.Tensor:
    """|got - expected| / (|got| + |expected|) elementwise, as in the CS231n gradient check.

    Denominators are at least `floor` times the largest |expected|, so an entry that is zero
    up to rounding is judged against the tensor's scale. Equal entries (the same infinity
    too) have error 0; NaN or infinity where the answer differs has error inf.
    """
    g = got.detach().to("cpu", torch.float64)
    e = expected.detach().to("cpu", torch.float64)
    scale = float(e[torch.isfinite(e)].abs().max()) if bool(torch.isfinite(e).any()) else 0.0
    diff = (g - e).abs()
    denom = torch.clamp(g.abs() + e.abs(), min=floor * scale)
    err = torch.where(diff == 0, torch.zeros_like(diff), diff / denom)
    same = (g == e) | (g.isnan() & e.isnan())
    err = torch.where(same, torch.zeros_like(err), err)
    return torch.nan_to_num(err, nan=math.inf, posinf=math.inf)


def expect_rel_close(
    got: Any,
    expected: torch.Tensor,
    *,
    rtol: float | None = None,
    floor: float | None = None,
    case: str = "",
    what: str = "the result",
    dims: dict[str, int] | None = None,
    expected_word: str = "expected",
    check_dtype: bool = True,
) -> torch.Tensor:
    """Shape, dtype and device as expected, and the largest `rel_error` at most `rtol`
    (`rtol` and `floor` default to REL_TOLERANCES for the expected dtype).

    The message names the largest error and where it is: "dgamma: rel. error 3e-1 at index 4;
    got 0.5, expected 0.7 (a correct dgamma is within 1e-7)".
    """
    t = expect_tensor(got, case=case, what=what)
    p = _prefix(case)
    _expect_layout(t, expected, p, what, check_dtype, True, dims)
    r0, f0 = REL_TOLERANCES.get(expected.dtype, REL_TOLERANCES[torch.float64])
    rtol = r0 if rtol is None else rtol
    err = rel_error(t, expected, f0 if floor is None else floor)
    worst = float(err.max()) if err.numel() else 0.0
    if worst > rtol:
        flat = int(torch.argmax(err))
        index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), tuple(t.shape)))
        where = f" at index {index[0]}" if len(index) == 1 else f" at {list(index)}" if index else ""
        got_v, exp_v = t[index].item(), expected[index].item()
        blew_up = not math.isfinite(abs(got_v)) and math.isfinite(abs(exp_v))
        shown_got, shown_exp = fmt_pair(got_v, exp_v)
        fail(
            f"{p}{what}: rel. error {sci(worst)}{where}; got {shown_got}, "
            f"{expected_word} {shown_exp} (a correct {what} is within {sci(rtol)})",
            f"{what} differs from the {expected_word} values",
            "nonfinite" if blew_up else "value",
        )
    return t


# Where a docstring promises float64 precision (sigmoid, tanh: "graded to x's precision"): the
# largest relative error of a float64 result, with no floor, so that tiny values count too
# (sigmoid(-40) = 4.2e-18, not 0) and float32 arithmetic inside (relative error ~6e-8) fails.
# Correct float64 formulas are within a few 1e-16.
PRECISE_FLOAT64_RTOL = 1e-10


def expect_precise(got: Any, expected: torch.Tensor, *, case: str = "", what: str = "the result") -> None:
    """A float64 result to float64 precision, judged relatively entry by entry (tiny entries
    included); other dtypes are left to the usual comparisons."""
    if expected.dtype == torch.float64:
        expect_rel_close(got, expected, rtol=PRECISE_FLOAT64_RTOL, floor=0.0, case=case, what=what)
