"""Values in words: a short number, 'a float32 tensor of shape (3, 4)'. Every message uses these."""

from __future__ import annotations

import math
from typing import Any

import torch

from dlgrade.core.codec import Opaque, dtype_name


def fmt(value: Any) -> str:
    """A short, readable number or value."""
    if isinstance(value, torch.Tensor):
        value = value.item() if value.numel() == 1 else value.tolist()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.6g}"
    if isinstance(value, complex):
        return f"{value:.4g}"
    return str(value)


def fmt_pair(got: Any, expected: Any) -> tuple[str, str]:
    """`fmt` of both, with as many significant digits (up to 17) as it takes to tell two
    different floats apart: ('1.2910914', '1.2910918'), never ('1.29109', '1.29109')."""
    a, b = fmt(got), fmt(expected)
    if a != b or not (isinstance(got, float) and isinstance(expected, float)) or got == expected:
        return a, b
    if not (math.isfinite(got) and math.isfinite(expected)):
        return a, b
    # the first precision at which they differ, and one digit more (so rounding cannot mislead)
    digits = next((d for d in range(7, 18) if f"{got:.{d}g}" != f"{expected:.{d}g}"), 17)
    digits = min(digits + 1, 17)
    return f"{got:.{digits}g}", f"{expected:.{digits}g}"


def describe(value: Any) -> str:
    """'a float32 tensor of shape (3, 4)', 'a tuple of 2', 'None', ..."""
    if isinstance(value, torch.Tensor):
        return f"a {dtype_name(value.dtype)} tensor of shape {tuple(value.shape)}"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)}"
    if isinstance(value, Opaque):
        return f"an object of type {value.type_name}"
    if value is None:
        return "None"
    return f"a {type(value).__name__}"
