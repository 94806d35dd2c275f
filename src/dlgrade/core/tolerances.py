"""How close a value must be to count as equal: torch.testing.assert_close's defaults, by dtype.

The checks compare a student's values with the answer's within these (kit.checks); a diagnosis
compares them with a known mistake's within the same (engine.diagnosis).
"""

from __future__ import annotations

import torch

# (rtol, atol) by dtype
TOLERANCES: dict[torch.dtype, tuple[float, float]] = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-7, 1e-7),
    torch.complex64: (1.3e-6, 1e-5),
    torch.complex128: (1e-7, 1e-7),
}
