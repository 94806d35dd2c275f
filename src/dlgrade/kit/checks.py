"""Comparison helpers for graders: each failure carries a teaching message and a hidden-safe one.

A public check shows `CheckFailure.public` ("large logits, float32: got nan at [0, 2];
expected 1.0"); a hidden check shows only `CheckFailure.hidden` ("values differ from the
expected ones"), which never mentions an input or a value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from dlgrade.core.codec import dtype_name
from dlgrade.core.declare import (  # noqa: F401 - graders import these from dlgrade.kit.checks
    HINT_KINDS_DEFAULT,
    KINDS,
    CheckFailure,
    check,
    check_each,
    fail,
)
from dlgrade.core.tolerances import TOLERANCES
from dlgrade.core.words import describe, fmt, fmt_pair


def _prefix(case: str) -> str:
    return f"{case}: " if case else ""


def expect_tensor(got: Any, *, case: str = "", what: str = "the result") -> torch.Tensor:
    if not isinstance(got, torch.Tensor):
        extra = " (convert it with torch.as_tensor)" if type(got).__module__.startswith("numpy") else ""
        fail(
            f"{_prefix(case)}{what} should be a torch.Tensor; got {describe(got)}{extra}",
            f"{what} is not a tensor",
            "type",
        )
    return got


def expect_sequence(got: Any, n: int, *, case: str = "", what: str = "the result") -> Sequence[Any]:
    if not isinstance(got, tuple | list) or len(got) != n:
        fail(
            f"{_prefix(case)}{what} should be a tuple of {n}; got {describe(got)}",
            f"{what} is not a tuple of {n}",
            "type",
        )
    return got


def expect_close(
    got: Any,
    expected: torch.Tensor,
    *,
    case: str = "",
    what: str = "the result",
    rtol: float | None = None,
    atol: float | None = None,
    check_dtype: bool = True,
    check_device: bool = True,
) -> torch.Tensor:
    """Compare like torch.testing.assert_close (same tolerances, NaN equal to NaN)."""
    t = expect_tensor(got, case=case, what=what)
    p = _prefix(case)
    _expect_layout(t, expected, p, what, check_dtype, check_device)
    bad, index, detail = mismatch(t, expected, rtol, atol)
    if bad:
        got_v, exp_v = t[index].item(), expected[index].item()
        where = f" at {list(index)}" if index else ""
        blew_up = not math.isfinite(abs(got_v)) and math.isfinite(abs(exp_v))
        hidden = (
            f"{what}: got NaN or infinity where the answer is finite"
            if blew_up
            else f"{what}: values differ from the expected ones"
        )
        shown_got, shown_exp = fmt_pair(got_v, exp_v)
        fail(
            f"{p}{what}: got {shown_got}{where}; expected {shown_exp} ({detail})",
            hidden,
            "nonfinite" if blew_up else "value",
        )
    return t


def _expect_layout(
    t: torch.Tensor,
    expected: torch.Tensor,
    p: str,
    what: str,
    check_dtype: bool,
    check_device: bool,
    dims: dict[str, int] | None = None,
) -> None:
    if tuple(t.shape) != tuple(expected.shape):
        fail(
            f"{p}{what} has shape {shape_words(t.shape, dims)}; expected {shape_words(expected.shape, dims)}",
            f"{what} has the wrong shape",
            "shape",
        )
    if check_dtype and t.dtype != expected.dtype:
        fail(
            f"{p}{what} has dtype {dtype_name(t.dtype)}; expected {dtype_name(expected.dtype)} "
            "(keep the input's dtype)",
            f"{what} has the wrong dtype",
            "dtype",
        )
    if check_device and t.device != expected.device:
        fail(
            f"{p}{what} is on {t.device}; expected {expected.device} (keep the input's device)",
            f"{what} is on the wrong device",
            "device",
        )


def expect_layout(
    got: Any, expected: torch.Tensor, *, case: str = "", what: str = "the result"
) -> torch.Tensor:
    """A tensor with the expected shape, dtype and device (values are another check's job)."""
    t = expect_tensor(got, case=case, what=what)
    _expect_layout(t, expected, _prefix(case), what, True, True)
    return t


def shape_words(shape: Sequence[int], dims: dict[str, int] | None = None) -> str:
    """'(N, D) = (3, 5)' when `dims` names every size once; otherwise '(3, 5)'."""
    numbers = tuple(int(s) for s in shape)
    names = {size: [n for n, v in (dims or {}).items() if v == size] for size in numbers}
    if not dims or not numbers or any(len(n) != 1 for n in names.values()):
        return str(numbers)
    words = ", ".join(names[s][0] for s in numbers) + ("," if len(numbers) == 1 else "")
    return f"({words}) = {numbers}"


def mismatch(
    got: torch.Tensor, expected: torch.Tensor, rtol: float | None = None, atol: float | None = None
) -> tuple[int, tuple[int, ...], str]:
    """(number of mismatched elements, index of the worst one, a short summary).

    NaN equals NaN and an infinity equals the same infinity; a NaN or infinity where the
    answer differs ranks as the worst error, so the message shows it first.
    """
    r0, a0 = TOLERANCES.get(expected.dtype, TOLERANCES.get(got.dtype, (0.0, 0.0)))
    rtol = r0 if rtol is None else rtol
    atol = a0 if atol is None else atol
    g, e = got.detach().to("cpu"), expected.detach().to("cpu")
    if g.is_floating_point() or g.is_complex() or e.is_floating_point() or e.is_complex():
        wide = torch.complex128 if g.is_complex() or e.is_complex() else torch.float64
        g, e = g.to(wide), e.to(wide)
        close = torch.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
        # an infinity where the answer differs is an infinite error (not the dtype's max)
        err = torch.nan_to_num((g - e).abs(), nan=math.inf, posinf=math.inf)
    else:
        close = g == e.to(g.dtype)
        err = (~close).to(torch.float64)
    err = torch.where(close, torch.zeros_like(err), err)
    n_bad = int((~close).sum())
    if n_bad == 0:
        return 0, (), ""
    flat = int(torch.argmax(err))
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), tuple(g.shape))) if g.dim() else ()
    finite = err[~close & torch.isfinite(err)]
    largest = f"; largest error {fmt(float(finite.max()))}" if finite.numel() else ""
    return n_bad, index, f"{n_bad} of {g.numel()} elements differ{largest}"


def expect_matching(
    got: Any, expected: Any, *, case: str = "", names: Sequence[str] = (), **tolerances: Any
) -> Any:
    """`expect_close` for a tensor, item by item for a tuple of tensors (named by `names`)."""
    if not isinstance(expected, tuple | list):
        return expect_close(got, expected, case=case, **tolerances)
    what = f"the result ({', '.join(names)})" if names else "the result"
    items = expect_sequence(got, len(expected), case=case, what=what)
    for i, (g, e) in enumerate(zip(items, expected, strict=True)):
        what = names[i] if i < len(names) else f"item {i + 1} of the result"
        expect_close(g, e, case=case, what=what, **tolerances)
    return items


def expect_equal(
    got: Any, expected: torch.Tensor, *, case: str = "", what: str = "the result"
) -> torch.Tensor:
    """Exact comparison (NaN equal to NaN)."""
    return expect_close(got, expected, case=case, what=what, rtol=0.0, atol=0.0)


def expect_unmodified(
    before: Sequence[Any], after: Sequence[Any], *, case: str = "", names: Sequence[str] = ()
) -> None:
    """The inputs after the call equal the inputs before it (no in-place changes)."""
    for i, (b, a) in enumerate(zip(before, after, strict=False)):
        if isinstance(b, torch.Tensor) and isinstance(a, torch.Tensor):
            same = (
                b.shape == a.shape
                and bool(torch.equal(b.nan_to_num(), a.nan_to_num()))
                and bool(torch.equal(b.isnan(), a.isnan()))
            )
            if not same:
                name = names[i] if i < len(names) else f"argument {i + 1}"
                fail(
                    f"{_prefix(case)}{name} was modified in place; exercises must not change their inputs "
                    "(use out-of-place operations, e.g. x - m instead of x.sub_(m))",
                    "an input was modified in place",
                    "modified",
                )


def expect_finite(got: torch.Tensor, *, case: str = "", what: str = "the result") -> None:
    bad = ~torch.isfinite(got)
    if bool(bad.any()):
        index = tuple(int(i) for i in bad.nonzero()[0])
        fail(
            f"{_prefix(case)}{what}: got {fmt(got[index].item())} at {list(index)}; expected a finite value",
            f"{what}: got NaN or infinity where the answer is finite",
            "nonfinite",
        )


def expect_true(condition: bool, public: str, hidden: str) -> None:
    if not condition:
        fail(public, hidden)


def expect_params(
    got: Any,
    spec: Sequence[tuple[str, tuple[int, ...]]],
    *,
    like: torch.Tensor,
    case: str = "",
) -> tuple[torch.Tensor, ...]:
    """A tuple of named tensors with the given shapes, in `like`'s dtype and device, all finite."""
    names = ", ".join(name for name, _ in spec)
    seq = expect_sequence(got, len(spec), case=case, what=f"the result ({names})")
    out = []
    for (name, shape), value in zip(spec, seq, strict=True):
        t = expect_tensor(value, case=case, what=name)
        if tuple(t.shape) != tuple(shape):
            fail(
                f"{_prefix(case)}{name} has shape {tuple(t.shape)}; expected {shape}",
                f"{name} has the wrong shape",
                "shape",
            )
        if t.dtype != like.dtype:
            fail(
                f"{_prefix(case)}{name} has dtype {dtype_name(t.dtype)}; expected {dtype_name(like.dtype)} "
                "(keep the input's dtype)",
                f"{name} has the wrong dtype",
                "dtype",
            )
        if t.device != like.device:
            fail(
                f"{_prefix(case)}{name} is on {t.device}; expected {like.device}",
                f"{name} is on the wrong device",
                "device",
            )
        expect_finite(t, case=case, what=name)
        out.append(t)
    return tuple(out)


def expect_number(got: Any, *, case: str = "", what: str = "the result") -> float:
    """A Python int or float (not a bool, not a tensor), finite."""
    if isinstance(got, bool) or not isinstance(got, int | float):
        extra = (
            " (use .item() to turn a one-element tensor into a float)"
            if isinstance(got, torch.Tensor)
            else ""
        )
        fail(
            f"{_prefix(case)}{what} should be a float; got {describe(got)}{extra}",
            f"{what} is not a float",
            "type",
        )
    value = float(got)
    if not math.isfinite(value):
        fail(
            f"{_prefix(case)}{what} is {fmt(value)}; expected a finite number",
            f"{what} is not finite",
            "nonfinite",
        )
    return value
