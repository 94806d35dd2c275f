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
